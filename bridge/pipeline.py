"""One traces pipeline: a run's spans → processors in order → the durable queue, for its exporters."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors import Processor


class Pipeline:
    """Processors, then the exporter ids its queued requests are for. `process` is synchronous and cheap."""

    def __init__(
        self,
        name: str,
        processors: Sequence[Processor],
        exporters: Sequence[str],
        receivers: Sequence[str] = (),
        max_request_bytes: int | None = None,
    ) -> None:
        self.name = name
        self.receivers = frozenset(receivers)
        self.processors = tuple(processors)
        self.exporters = tuple(exporters)
        # The smallest request any of its exporters takes: a trace is cut to fit all of them.
        self.max_request_bytes = max_request_bytes

    def accepts(self, receiver: str) -> bool:
        """Runs from the receivers this pipeline lists, and from `replay` (files are for every pipeline)."""
        return receiver == "replay" or receiver in self.receivers

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        """Runs the processors over one trace's spans; returns what goes to the exporters."""
        for processor in self.processors:
            spans = processor.process(spans)
        return spans

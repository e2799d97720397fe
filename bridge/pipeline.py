"""One traces pipeline: a run's spans → processors in order → every exporter, batched.

Exporters block, so each sits behind its own SDK `BatchSpanProcessor`: `consume` only enqueues and
the export happens on the batch worker thread, never on the caller's (or the event loop's) thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from bridge.processors import Processor


class Pipeline:
    """Processors then span processors (the batched exporters). `consume` is synchronous and cheap."""

    def __init__(
        self,
        name: str,
        processors: Sequence[Processor],
        outputs: Mapping[str, SpanProcessor],
        receivers: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.receivers = frozenset(receivers)
        self.processors = tuple(processors)
        self.outputs = dict(outputs)

    def accepts(self, receiver: str) -> bool:
        """Runs from the receivers this pipeline lists, and from `replay` (files are for every pipeline)."""
        return receiver == "replay" or receiver in self.receivers

    def consume(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        """Runs the processors over one trace's spans and enqueues the result; returns what was enqueued."""
        for processor in self.processors:
            spans = processor.process(spans)
        for output in self.outputs.values():
            for span in spans:
                output.on_end(span)
        return spans

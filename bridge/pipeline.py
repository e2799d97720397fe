"""One traces pipeline: a run's spans → processors in order → the durable queue, for its exporters; and what
running every pipeline over one trace gives the service (`process_trace`), in the server process or in a
pipeline worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan

from bridge import attributes as a
from bridge import run_metrics
from bridge.config import BridgeConfig, PipelineConfig, parse_component_id
from bridge.metric_aggregates import Measurement
from bridge.model import WorkflowRun
from bridge.processors import Processor, batch, redact, reduce
from bridge.processors.detectors import DetectionProcessor
from bridge.queue.delivery import BatchSettings
from bridge.queue.encoding import encode
from bridge.spans import SpanBuilder
from detectors import Finding


def processors_of(config: BridgeConfig, spec: PipelineConfig) -> tuple[list[Processor], BatchSettings]:
    """A pipeline's processors, created from its config, and its batching (the `batch` processor's)."""
    processors: list[Processor] = []
    settings: BatchSettings | None = None
    for component_id in spec.processors:
        factory, cfg = config.processors[component_id]
        created = factory.create(cfg)
        if isinstance(created, batch.BatchProcessor):
            settings = created.settings
        else:
            processors.append(created)
    listed = {parse_component_id(component_id)[0] for component_id in spec.processors}
    # Secrets are masked and content is cut even when a hand-written pipeline forgets to ask for it;
    # redaction goes before reduction, which could cut a secret into a shape no pattern recognises.
    if redact.TYPE not in listed:
        before = next((i for i, p in enumerate(processors) if isinstance(p, reduce.ReduceProcessor)), None)
        processors.insert(len(processors) if before is None else before, redact.create(redact.Config()))
    if reduce.TYPE not in listed:
        processors.append(reduce.create(reduce.Config()))
    return processors, settings or batch.create(batch.Config()).settings


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

    def process(self, spans: Sequence[ReadableSpan]) -> tuple[Sequence[ReadableSpan], list[Finding]]:
        """Runs the processors over one trace's spans; returns what goes to the exporters and the detectors'
        findings."""
        findings: list[Finding] = []
        for processor in self.processors:
            if isinstance(processor, DetectionProcessor):
                spans, found = processor.attach(spans)
                findings += found
            else:
                spans = processor.process(spans)
        return spans, findings


@dataclass(frozen=True, slots=True)
class Processed:
    """One trace after every pipeline that takes it: what the queue stores and what the service reports.
    Plain data, so that it can come back from a pipeline worker."""

    entries: list[tuple[str, int, bytes]]  # (pipeline, span count, OTLP request), in pipeline order
    span_count: int
    trace_id: int | None
    measurements: list[Measurement]  # the runs' metrics (bridge/run_metrics.py)
    findings: list[Finding]
    run_id: str | None  # of the root span, for the live view
    app_id: str | None  # the root span's app, for the live view
    app: str  # the resource's app id, for counting findings


class LocalRuns:
    """Whole runs built, processed and encoded on the caller's thread (`service.workers: 0`); what
    `PipelineWorkers` does in worker processes, with the same methods."""

    def __init__(self, builder: SpanBuilder, pipelines: Sequence[Pipeline]) -> None:
        self.builder, self.pipelines = builder, pipelines

    def process(self, run: WorkflowRun) -> Processed:
        return process_trace(self.pipelines, self.builder.build(run), run.receiver)

    async def process_async(self, run: WorkflowRun) -> Processed:
        return self.process(run)

    def close(self) -> None:
        pass


def process_trace(pipelines: Sequence[Pipeline], spans: Sequence[ReadableSpan], receiver: str) -> Processed:
    """Every pipeline that takes spans from `receiver`, over one trace, encoded."""
    entries: list[tuple[str, int, bytes]] = []
    findings: list[Finding] = []
    for pipeline in pipelines:
        if pipeline.accepts(receiver):
            out, found = pipeline.process(spans)
            findings += found
            entries.extend(
                (pipeline.name, count, payload) for count, payload in encode(out, pipeline.max_request_bytes)
            )
    root = next((span for span in spans if span.parent is None), None)
    attributes = (root.attributes or {}) if root is not None else {}
    resource_app = root.resource.attributes.get(a.DIFY_APP_ID) if root is not None else None
    run_id, app_id = attributes.get(a.DIFY_RUN_ID), attributes.get(a.DIFY_APP_ID)
    return Processed(
        entries=entries,
        span_count=len(spans),
        trace_id=spans[0].context.trace_id if spans and spans[0].context else None,
        measurements=run_metrics.measurements(spans),
        findings=findings,
        run_id=None if run_id is None else str(run_id),
        app_id=None if app_id is None else str(app_id),
        app=str(resource_app or "unknown"),
    )

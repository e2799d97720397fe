"""One traces pipeline: a run's spans → processors in order → the durable queue, for its exporters; and what
running every pipeline over one trace gives the service (`process_trace`), in the server process or in a
pipeline worker."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

import msgspec
from opentelemetry.sdk.trace import ReadableSpan

from bridge.config.models import BridgeConfig, PipelineConfig, parse_component_id
from bridge.dify.model import WorkflowRun
from bridge.dify.run_parts import ClosedRun
from bridge.exporters import Sender
from bridge.processors import Processor, batch, redact, reduce
from bridge.processors.detectors import DetectionProcessor
from bridge.queue.delivery import BatchSettings, Delivery, DeliveryMetrics, DeliveryQueue
from bridge.queue.encoding import encode
from bridge.telemetry import run_metrics
from bridge.telemetry.series import Measurement
from bridge.trace import attributes as a
from bridge.trace.spans import SpanBuilder
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


def build_pipelines(
    config: BridgeConfig, senders: dict[str, Sender]
) -> tuple[list[Pipeline], dict[str, BatchSettings]]:
    """The pipelines, creating each exporter's sender once; and each exporter's batching (from the first
    pipeline that lists it)."""
    batching: dict[str, BatchSettings] = {}
    pipelines = []
    for name, spec in config.pipelines.items():
        processors, settings = processors_of(config, spec)
        for component_id in spec.exporters:
            if component_id not in senders:
                factory, cfg = config.exporters[component_id]
                senders[component_id] = factory.create(cfg)
            batching.setdefault(component_id, settings)
        limits = [s.max_request_bytes for c in spec.exporters if (s := senders[c]).max_request_bytes is not None]
        pipelines.append(Pipeline(name, processors, spec.exporters, spec.receivers, min(limits, default=None)))
    return pipelines, batching


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


class RunSummary(msgspec.Struct, frozen=True):
    """What the service needs of a run once its trace is built: plain data, so that it comes back from a
    pipeline worker with the trace (a msgspec `Struct`: pickled in C, where a dataclass goes through Python)."""

    run_id: str
    receiver: str
    status: str
    app_id: str | None
    app_name: str | None
    total_tokens: int | None
    journal: tuple[int, ...]  # the journal rows it was built from
    has_nodes: bool  # False for the workflow level only (the poller's runs, a blocking answer)

    @classmethod
    def of(cls, run: WorkflowRun) -> RunSummary:
        return cls(
            run.run_id, run.receiver, run.status, run.app_id, run.app_name, run.total_tokens, run.journal,
            bool(run.nodes or run.containers),
        )  # fmt: skip


def deliveries_of(
    pipelines: Sequence[Pipeline], senders: dict[str, Sender], queue: DeliveryQueue,
    batching: dict[str, BatchSettings], instruments: DeliveryMetrics,
) -> dict[str, Delivery]:  # fmt: skip
    """One delivery per exporter, reading from `queue` the entries of the pipelines that list it."""
    return {
        cid: Delivery(cid, sender, queue, frozenset(p.name for p in pipelines if cid in p.exporters),
                      batching[cid], instruments)
        for cid, sender in senders.items()
    }  # fmt: skip


class Processed(msgspec.Struct, frozen=True):
    """One trace after every pipeline that takes it: what the queue stores and what the service reports.
    Plain data, so that it can come back from a pipeline worker; a `Struct`, as `RunSummary` is."""

    entries: list[tuple[str, int, bytes]]  # (pipeline, span count, OTLP request), in pipeline order
    span_count: int
    trace_id: int | None
    measurements: list[Measurement]  # the runs' metrics (bridge/telemetry/run_metrics.py)
    findings: list[Finding]
    run_id: str | None  # of the root span, for the live view
    app_id: str | None  # the root span's app, for the live view
    app: str  # the resource's app id, for counting findings
    run: RunSummary | None  # the run the trace was built from, if any


class LocalRuns:
    """Whole runs built, processed and encoded on the caller's thread (`service.workers: 0`); what
    `PipelineWorkers` does in worker processes, with the same methods."""

    def __init__(self, builder: SpanBuilder, pipelines: Sequence[Pipeline]) -> None:
        self.builder, self.pipelines = builder, pipelines

    def process(self, run: WorkflowRun | ClosedRun) -> Processed:
        return process_run(self.builder, self.pipelines, run)

    async def process_async(self, run: WorkflowRun | ClosedRun) -> Processed:
        return self.process(run)

    def submit(self, run: WorkflowRun | ClosedRun) -> Future[Processed]:
        """`process`, done before it returns."""
        future: Future[Processed] = Future()
        try:
            future.set_result(self.process(run))
        except Exception as error:
            future.set_exception(error)
        return future

    def close(self) -> None:
        pass


def process_run(
    builder: SpanBuilder, pipelines: Sequence[Pipeline], run: WorkflowRun | ClosedRun, measured: bool = True
) -> Processed:
    """A run built (if it is still in parts), its trace built, processed and encoded."""
    built = run.build() if isinstance(run, ClosedRun) else run
    return process_trace(pipelines, builder.build(built), built.receiver, RunSummary.of(built), measured)


def process_trace(
    pipelines: Sequence[Pipeline],
    spans: Sequence[ReadableSpan],
    receiver: str,
    run: RunSummary | None = None,
    measured: bool = True,
) -> Processed:
    """Every pipeline that takes spans from `receiver`, over one trace, encoded. `run`: what it was built from.
    `measured`: with the run's metrics (`replay` has none: 3 % of a run's CPU in its workers)."""
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
        measurements=run_metrics.measurements(spans) if measured else [],
        findings=findings,
        run_id=None if run_id is None else str(run_id),
        app_id=None if app_id is None else str(app_id),
        app=str(resource_app or "unknown"),
        run=run,
    )

"""The OTLP side of the running bridge: a request's spans split by trace (Dify's connection checks taken out),
how long each trace waits for more, and each closed trace on its way to be queued, a Dify workflow trace rebuilt
into its run, any other passed through the pipelines as received."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from msgspec.structs import replace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.config.models import AssemblyConfig, BridgeConfig
from bridge.dify.export import is_api_check, looks_like_dify, recognize, rehome
from bridge.dify.model import WorkflowRun
from bridge.service.pipeline import LocalRuns, Pipeline, Processed, RunSummary, process_trace
from bridge.service.pipeline_workers import PipelineWorkers
from bridge.telemetry.export_watch import PASSED_THROUGH, REBUILT, ExportWatch
from bridge.trace.assembly import PendingTrace
from bridge.trace.attributes import DIFY_SOURCE
from bridge.trace.otlp_spans import with_resource_defaults
from bridge.trace.otlp_wire import encode_request
from bridge.trace.spans import SpanBuilder, root_context


def decision_wait(assembly: AssemblyConfig, spans: Sequence[ReadableSpan]) -> float:
    """How long a trace waits for more spans: a Dify trace, which may hold part of a nested run, also
    `export_wait`."""
    return max(assembly.decision_wait, assembly.export_wait) if looks_like_dify(spans) else assembly.decision_wait


def by_trace(
    spans: Sequence[ReadableSpan], receiver: str, received: bytes | None, export_watch: ExportWatch
) -> tuple[dict[int, list[ReadableSpan]], dict[int, bytes]]:
    """`spans` by trace, Dify's connection checks (`api_check`) logged and counted, never held; and each trace's
    journal payload. A request of one trace, every span of it held, is journaled as it came (`received`), not
    encoded again: Dify 1.14.1 sends a span a request."""
    traces: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        assert span.context is not None
        if is_api_check(span):
            export_watch.api_check(span, receiver)
            continue
        traces.setdefault(span.context.trace_id, []).append(span)
    if received is not None and len(traces) == 1 and len(next(iter(traces.values()))) == len(spans):
        return traces, dict.fromkeys(traces, received)
    return traces, {trace_id: encode_request(group) for trace_id, group in traces.items()}


class TraceRebuilder:
    """Closed traces sent to be built. `queue_nested` queues a nested run found in a trace (a workflow used as a
    tool) before its caller; `named` gives a run its registered app's name."""

    def __init__(
        self,
        config: BridgeConfig,
        pipelines: Sequence[Pipeline],
        builder: SpanBuilder,
        runs: LocalRuns | PipelineWorkers,
        export_watch: ExportWatch,
        queue_nested: Callable[[WorkflowRun], None],
        named: Callable[[WorkflowRun], WorkflowRun],
    ) -> None:
        self._config, self._pipelines, self._builder, self._runs = config, pipelines, builder, runs
        self._export_watch, self._queue_nested, self._named = export_watch, queue_nested, named
        # Dify traces rebuilt lately: received trace id → (rebuilt root, span ids it replaced), so spans
        # of that trace arriving after it closed (a chat app's message spans) join the rebuilt trace.
        self._rebuilt: OrderedDict[int, tuple[SpanContext, set[int]]] = OrderedDict()

    def send(self, trace: PendingTrace) -> Future[Processed]:
        """A closed trace on its way to be queued. A Dify workflow trace is rebuilt into its run, which is built and
        processed where runs are (a pipeline worker) into the stream path's trace; spans of other services in it,
        and any other trace, are processed here, as received, through the same processors."""
        recognized = recognize(trace.spans, trace.receiver)
        # Spans passed through get what the bridge's own carry, where they lack it (`service.name`, `dify.source`).
        resource = {**self._config.service.resource, DIFY_SOURCE: trace.receiver.partition("/")[0]}
        if recognized is None:
            moved = self._rebuilt.get(trace.trace_id)
            spans = trace.spans
            if moved is not None:  # late spans of a trace already rebuilt join it
                spans = rehome(spans, *moved)
            elif looks_like_dify(spans):
                self._export_watch.not_rebuilt(spans, trace.receiver, trace.trace_id)
            else:
                self._export_watch.count(PASSED_THROUGH, trace.receiver)
            spans = with_resource_defaults(spans, resource)
            return _ready(process_trace(self._pipelines, spans, trace.receiver))
        self._export_watch.count(REBUILT, trace.receiver)
        for nested in recognized.nested:  # queued before the caller's run, which holds the journal rows
            self._queue_nested(nested)
        run = self._named(replace(recognized.run, journal=tuple(trace.journal)))
        root = root_context(run.run_id)
        # A nested run exported after its caller (its own trace now) leaves later spans to the caller's.
        if run.parent_run_id is None or trace.trace_id not in self._rebuilt:
            self._rebuilt[trace.trace_id] = (root, recognized.replaced)
        while len(self._rebuilt) > self._config.service.assembly.completed_run_memory:
            self._rebuilt.popitem(last=False)
        if not recognized.others:
            return self._runs.submit(run)
        others = with_resource_defaults(rehome(recognized.others, root, recognized.replaced), resource)
        spans = self._builder.build(run) + others
        return _ready(process_trace(self._pipelines, spans, run.receiver, RunSummary.of(run)))


def _ready(processed: Processed) -> Future[Processed]:
    future: Future[Processed] = Future()
    future.set_result(processed)
    return future

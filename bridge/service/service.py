"""The running bridge: assembler, span builder, pipelines, and the durable queue with one delivery per exporter.

Receivers hand it events, whole runs or OTLP spans, and nothing is acknowledged before it is on disk:
stream events and OTLP spans go to a journal as they arrive; a finished run's (or trace's) spans go to the
export queue while its journal rows leave it, in one transaction. At start, journaled events and spans are
read back, so half-received runs and traces resume.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from functools import partial
from typing import TypeVar

from msgspec.structs import replace
from opentelemetry import metrics
from opentelemetry.sdk.trace import ReadableSpan

from bridge.config.models import BridgeConfig
from bridge.dify.assembly import RunAssembler
from bridge.dify.export import awaits_nested_run, closes_trace, is_workflow_span
from bridge.dify.model import DifyEvent, WorkflowRun
from bridge.dify.run_parts import ClosedRun, RunParts
from bridge.exporters import Sender
from bridge.processors.detectors import DetectionProcessor
from bridge.queue.admission import Admission
from bridge.queue.delivery import DeliveryMetrics, flush_all, notify_all
from bridge.queue.errors import QueueError
from bridge.queue.journal import to_row
from bridge.queue.rows import AcceptedRun, JournalRow, SpanJournalRow
from bridge.queue.storage import QueueStorage
from bridge.service.live_runs import LiveRuns
from bridge.service.otlp_traces import TraceRebuilder, by_trace, decision_wait
from bridge.service.pipeline import LocalRuns, Processed, RunSummary, build_pipelines, deliveries_of
from bridge.service.pipeline_workers import PipelineWorkers, WorkerLost
from bridge.service.queue_gauges import observe_queue
from bridge.service.resume import resume_journal
from bridge.telemetry import run_metrics
from bridge.telemetry.aggregates import Aggregates
from bridge.telemetry.export_watch import ExportWatch
from bridge.telemetry.series import Measurement
from bridge.trace.assembly import PendingTrace, TraceAssembler
from bridge.trace.spans import SpanBuilder
from detectors import Baselines

logger = logging.getLogger(__name__)
_T = TypeVar("_T")
# Closed runs sent to be built at once, then committed together: bounds what a burst of closing runs holds.
_CLOSING_AT_ONCE = 256
# OTLP traces recognized on the closing thread and sent to be built at once (the runs' 256 gave 2 % more
# throughput and a p99 acknowledgement 20 % longer in bench/end_to_end.py --receiver otlp; 8, 15 % less).
_TRACES_AT_ONCE = 64
_RUNS_QUEUED, _SPANS_QUEUED, _DETECTIONS = "dify_bridge.runs", "dify_bridge.spans", "dify.detections"


class BridgeService:
    """Thread-safe entry point for receivers. `submit_*` return once the data is durable, never wait on export.
    Opens the queue file unless given one (`storage`), and owns it from then on. Given the event loop it is
    created on (`loop`, the server's), its pipeline workers are spoken to on that loop."""

    def __init__(
        self,
        config: BridgeConfig,
        meter: metrics.Meter | None = None,
        storage: QueueStorage | None = None,
        aggregates: Aggregates | None = None,
        baselines: Baselines | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        assembly, queue = config.service.assembly, config.service.queue
        self.config = config
        self.storage = storage or QueueStorage(queue.path, queue.fsync, queue.run_id_retention)
        self.builder = SpanBuilder(config.service.resource)
        self.assembler = RunAssembler(assembly.idle_timeout, assembly.terminal_wait, assembly.completed_run_memory)
        # A trace that holds part of a nested run (a workflow used as a tool) waits for the rest (`export_wait`).
        self.traces = TraceAssembler(closes_trace, awaits_nested_run, assembly.completed_run_memory)
        senders: dict[str, Sender] = {}
        self.pipelines, batching = build_pipelines(config, senders)
        meter = meter or metrics.get_meter("dify-otel-bridge")
        instruments = DeliveryMetrics(meter)
        self.deliveries = deliveries_of(self.pipelines, senders, self.storage, batching, instruments)
        self.storage.register(self.deliveries)
        self.admission = Admission(queue, self.storage, meter)
        # Recorded for every run: kept in plain series, read with the meter's (see bridge/telemetry/aggregates.py).
        aggregates = aggregates or Aggregates()
        self._aggregates = aggregates
        aggregates.counter(_RUNS_QUEUED, "{run}", "Runs queued")
        aggregates.counter(_SPANS_QUEUED, "{span}", "Spans queued")
        aggregates.counter(_DETECTIONS, "{finding}", "Findings by detector, severity and app")
        self.export_watch = ExportWatch(aggregates)
        run_metrics.declare(aggregates)
        observe_queue(meter, self.storage, self.deliveries, self.assembler, self.traces)
        if baselines is not None:  # detector state across runs in the server's store instead of memory
            for pipeline in self.pipelines:
                for processor in pipeline.processors:
                    if isinstance(processor, DetectionProcessor):
                        processor.baselines = baselines
        limits = {pipeline.name: pipeline.max_request_bytes for pipeline in self.pipelines}
        workers = config.service.workers
        # Where whole runs are built, processed and encoded.
        self.runs: LocalRuns | PipelineWorkers = (
            PipelineWorkers(config, limits, workers, baselines is not None, loop)
            if workers
            else LocalRuns(self.builder, self.pipelines)
        )
        self.rebuilder = TraceRebuilder(
            config, self.pipelines, self.builder, self.runs, self.export_watch, self._queue_nested, self._named
        )
        self._lock = threading.Lock()
        # Names of registered apps, for runs whose events do not carry one (stream events never do).
        self.app_names: Callable[[str], str | None] | None = None
        self.live = LiveRuns()
        # Called (from any thread) when a run may be due before the poller's next look (`plan_poll`), so that
        # the server closes it then rather than at its next regular poll.
        self.on_due: Callable[[], None] | None = None
        self._poll_at = -math.inf  # the poller's next look (`time.time()`); -inf: one is coming anyway
        # `poll_async`: closed runs waiting to be sent to their worker, and the tasks building and queueing those
        # sent (`_CLOSING_AT_ONCE` at most). Counted with the open runs by admission, as they still were.
        self._to_close: deque[RunParts] = deque()
        self._closing: set[asyncio.Task[None]] = set()
        self._journal_id = self.storage.last_journal_id()
        resume_journal(self.storage, self.assembler, self.traces, partial(decision_wait, assembly))
        for delivery in self.deliveries.values():
            delivery.start()

    # --- intake ------------------------------------------------------------------------------------

    def admit_run(self, receiver: str) -> None:
        """Raises `Backpressure` if a whole run may not be taken now."""
        self.admission.check(receiver, opens_run=True)

    def admit_events(self, events: Sequence[DifyEvent], receiver: str) -> None:
        """Raises `Backpressure` if `events` would open a run while a limit is reached."""
        with self._lock:
            opens = any(self.assembler.opens_run(event) for event in events)
            open_runs = len(self.assembler) + len(self._to_close) + len(self._closing)
        self.admission.check(receiver, opens, open_runs)

    def signed_elsewhere(self, events: Sequence[DifyEvent]) -> str | None:
        """The first open run one of `events` would join that another app signed (its events are not theirs)."""
        with self._lock:
            return next((run for event in events if (run := self.assembler.signed_elsewhere(event))), None)

    def submit_events(self, events: Sequence[DifyEvent], now: float, context: str | None, receiver: str) -> None:
        """Merges `events` into their runs and journals them before returning. Raises `QueueError` if the
        journal cannot be written: the events are then not acknowledged."""
        with self._lock:
            # Under the lock: the journal's order is the assembler's order, which a resumed run replays. The
            # commit is waited for outside it, as `submit_spans` does.
            committed = self.storage.journal(self._assemble(events, now, context, receiver))
        committed()
        self.live.events(events)

    async def submit_events_async(
        self, events: Sequence[DifyEvent], now: float, context: str | None, receiver: str
    ) -> None:
        """`submit_events` for the event loop: the journal's commit is awaited, outside the lock."""
        closes_here = self._closes_on_loop()
        with self._lock:
            rows = self._assemble(events, now, context, receiver)
            # Handed to the writer before the lock is let go, unless runs close on this loop (`poll_async`): then
            # the end of this turn of the loop still comes before any of these runs is queued.
            written = self.storage.journal_this_turn(rows) if closes_here else self.storage.journal_soon(rows)
        await written
        self.live.events(events)

    def _assemble(
        self, events: Sequence[DifyEvent], now: float, context: str | None, receiver: str
    ) -> list[JournalRow]:
        """Merges `events` into their runs (the caller holds the lock); the journal rows of those kept."""
        rows = []
        orphans = self.assembler.dropped_orphans
        for event in events:
            self._journal_id += 1
            if self.assembler.add(event, now, context, receiver, journal=self._journal_id):
                rows.append(to_row(self._journal_id, event, now, context, receiver))
        _log_orphans(self.assembler.dropped_orphans - orphans, receiver)
        if self.assembler.next_deadline() < self._poll_at and self.on_due is not None:
            self._poll_at = -math.inf  # woken once: the poller plans again
            self.on_due()
        return rows

    def admit_spans(self, trace_ids: Iterable[int], receiver: str) -> None:
        """Raises `Backpressure` if spans of these traces would open a trace while a limit is reached."""
        with self._lock:
            opens = any(self.traces.opens_trace(trace_id) for trace_id in trace_ids)
            in_flight = len(self.traces) + len(self.assembler)
        self.admission.check(receiver, opens, in_flight)

    def submit_spans(
        self, spans: Sequence[ReadableSpan], now: float, receiver: str, received: bytes | None = None
    ) -> None:
        """Holds `spans` with the rest of their traces and journals them before returning. Raises
        `QueueError` if the journal cannot be written: the spans are then not acknowledged. Dify's connection
        check (`api_check`) is logged and counted, never held or exported. `received`: as `submit_spans_async`'s."""
        self._hold_spans(spans, now, receiver, self.storage.journal_spans, received)()

    async def submit_spans_async(
        self, spans: Sequence[ReadableSpan], now: float, receiver: str, received: bytes | None = None
    ) -> None:
        """`submit_spans` for the event loop: the journal's commit is awaited (no thread). `received`: the
        `ExportTraceServiceRequest` the spans are, as it came, if it held nothing else (no span refused)."""
        await self._hold_spans(spans, now, receiver, self.storage.journal_spans_soon, received)

    def _hold_spans(
        self,
        spans: Sequence[ReadableSpan],
        now: float,
        receiver: str,
        journal: Callable[[list[SpanJournalRow]], _T],
        received: bytes | None = None,
    ) -> _T:
        """`spans` held with their traces, and their journal rows handed to `journal` (the writer) under the lock,
        in the assembler's order; what `journal` gives, to wait for the commit outside the lock (a commit under
        it held up every receiver and the closing of runs)."""
        traces, payloads = by_trace(spans, receiver, received, self.export_watch)
        assembly = self.config.service.assembly
        waits = {trace_id: decision_wait(assembly, group) for trace_id, group in traces.items()}
        with self._lock:
            rows = []
            for trace_id, group in traces.items():
                self._journal_id += 1
                # A workflow span coming after its trace was closed is a nested run's (a workflow used as a tool,
                # exported after its caller): nothing more of it will come. Closed, not yet rebuilt, counts too.
                late_run = self.traces.closed_before(trace_id) and any(map(is_workflow_span, group))
                self.traces.add(trace_id, group, now, receiver, waits[trace_id], self._journal_id, late_run)
                rows.append(SpanJournalRow(self._journal_id, now, receiver, payloads[trace_id]))
            return journal(rows)

    def run_known(self, run_id: str) -> bool:
        """True once a run was queued (within the store's run id retention) or while it is being assembled."""
        if self.storage.run_seen(run_id):
            return True
        with self._lock:
            return run_id in self.assembler

    def plan_poll(self, earliest: float, latest: float) -> float:
        """When (`time.time()`) the poller looks next: when the first open run may be due, within `earliest`
        and `latest`. A run due sooner, received after this, calls `on_due`."""
        with self._lock:
            self._poll_at = max(min(self.assembler.next_deadline(), latest), earliest)
            return self._poll_at

    def poll(self, now: float, traces: bool = True) -> int:
        """Queues the runs and (unless not `traces`) the traces the assemblers have finished with; returns how
        many."""
        with self._lock:
            self._poll_at = -math.inf  # looking now: nothing need wake the poller until it plans again
            runs = self.assembler.due_parts(now)
            closed = self.traces.due(now) if traces else []
        return self._submit_closed(runs, closed)

    async def poll_async(self, now: float, traces: bool = True) -> None:
        """`poll` on the server's event loop. Where pipeline workers answer on this loop, each due run is sent to
        its worker from here and queued when its trace comes back, in a task of its own: the next poll does not
        wait for this one's runs to be built and committed, so a worker gets runs as they close. Traces, and
        runs built in this process (`workers: 0`), are closed on a thread as `poll` closes them."""
        if not self._closes_on_loop():
            await asyncio.to_thread(self.poll, now, traces)
            return
        with self._lock:
            self._poll_at = -math.inf
            self._to_close += self.assembler.due_parts(now)
            closed = self.traces.due(now) if traces else []
        self._close_more()
        if closed:
            await asyncio.to_thread(self._submit_closed, (), closed)

    def _closes_on_loop(self) -> bool:
        """Whether `poll_async` closes runs on the running loop (pipeline workers answering on it)."""
        return isinstance(self.runs, PipelineWorkers) and self.runs.answers_on_running_loop()

    def _close_more(self) -> None:
        """Closed runs sent to be built, up to `_CLOSING_AT_ONCE` at a time (what a burst holds in pipes)."""
        while self._to_close and len(self._closing) < _CLOSING_AT_ONCE:
            task = asyncio.create_task(self._close_run(self._to_close.popleft()))
            self._closing.add(task)
            task.add_done_callback(self._closed)

    def _closed(self, task: asyncio.Task[None]) -> None:
        self._closing.discard(task)
        self._close_more()

    async def _close_run(self, parts: RunParts) -> None:
        """A closed run built in its worker and queued, as `_submit_closed` does; what fails stays journaled."""
        name = f"run {parts.built_run_id}"
        try:
            processed = await self.runs.process_async(ClosedRun(parts, self._app_name(parts.app_id)))
            run = processed.run
            assert run is not None
            if await self.storage.append_new_run(processed.entries, time.time(), _accepted_as(run), run.journal):
                self._queued(processed, run.receiver)
        except Exception as error:
            _log_failure(name, error)

    async def closing_done(self) -> None:
        """Waits for the runs `poll_async` is building and queueing (before `shutdown`); those not sent yet
        stay in their journal."""
        self._to_close.clear()
        await asyncio.gather(*self._closing)

    def _submit_closed(self, runs: Sequence[RunParts], traces: Sequence[PendingTrace]) -> int:
        """Queues what the assemblers closed. Every run is sent to be built, and each built one handed to the
        queue's writer, before the first commit is waited for: pipeline workers build runs side by side with
        this thread, and the writer commits them in a few transactions. What the queue cannot take stays in
        its journal: the next start assembles and queues it again."""
        closed = [(f"run {parts.built_run_id}", parts) for parts in runs]
        for start in range(0, len(closed), _CLOSING_AT_ONCE):
            batch = closed[start : start + _CLOSING_AT_ONCE]
            sent = [(name, _logged(name, partial(self._build_closed, parts))) for name, parts in batch]
            # Each handed to the writer as it comes back built; then each commit waited for.
            _wait_for_all(
                [(name, _logged(name, partial(self._hand_over_built, f))) for name, f in sent if f is not None]
            )
        named = [(f"trace {trace.trace_id:032x}", trace) for trace in traces]
        for start in range(0, len(named), _TRACES_AT_ONCE):
            # Recognized here, so a few at a time: sent to be built, each handed to the writer as it comes back,
            # then their commits waited for (the thread gives up the interpreter lock meanwhile, and the
            # receivers answer).
            few = named[start : start + _TRACES_AT_ONCE]
            sent_traces = [(name, trace, _logged(name, partial(self.rebuilder.send, trace))) for name, trace in few]
            _wait_for_all(
                [
                    (name, _logged(name, partial(self._hand_over_trace, trace, built)))
                    for name, trace, built in sent_traces
                    if built is not None
                ]
            )
        return len(runs) + len(traces)

    def _build_closed(self, parts: RunParts) -> Future[Processed]:
        """A closed run sent to be built (in its pipeline worker), named after its registered app."""
        return self.runs.submit(ClosedRun(parts, self._app_name(parts.app_id)))

    def _hand_over_built(self, built: Future[Processed]) -> Callable[[], int | None]:
        processed = built.result()
        assert processed.run is not None
        return self._hand_over(processed, processed.run.receiver, processed.run.journal, exclusive=True)

    def _hand_over(
        self, processed: Processed, receiver: str, journal: Sequence[int], exclusive: bool
    ) -> Callable[[], int | None]:
        """A processed trace handed to the queue's writer with the journal rows it was built from; what waits
        for the commit and counts it (its span count, or None if `exclusive` and its run was queued before)."""
        run = processed.run
        key = _accepted_as(run) if run is not None else None
        committed = self.storage.append(processed.entries, time.time(), journal, key, exclusive)

        def finish() -> int | None:
            return self._queued(processed, receiver) if committed() else None

        return finish

    def _hand_over_trace(self, trace: PendingTrace, built: Future[Processed]) -> Callable[[], int | None]:
        """A run's trace is queued once, as runs are; any other trace as often as it comes."""
        processed = built.result()
        if processed.run is not None:
            return self._hand_over_built(built)
        return self._hand_over(processed, trace.receiver, trace.journal, exclusive=False)

    def submit_run(self, run: WorkflowRun) -> int:
        """Builds the run's trace, runs each pipeline's processors and queues the result durably; returns
        the span count, queued whether or not a run with this id was queued before (a replay does so on
        purpose). Raises `QueueError` if the queue cannot be written (then nothing was taken)."""
        count = self._submit(run, exclusive=False)
        assert count is not None  # only an exclusive submission is ever turned down
        return count

    def submit_new_run(self, run: WorkflowRun) -> int | None:
        """As `submit_run`, unless a run with this id was accepted before (a duplicate delivery): then
        nothing is queued and the answer is None, unless this copy holds more than the one queued (a stream
        after a webhook summary or the poller's run: see `_accepted_as`). What every receiver
        submits: two receivers may each get a copy of one run (a stream and Dify's export), and a second copy
        would put every span id in the backend twice."""
        return self._submit(run, exclusive=True)

    async def submit_new_run_async(self, run: WorkflowRun) -> int | None:
        """`submit_new_run` for the event loop: builds and encodes here or awaits a pipeline worker, then awaits
        the commit (no thread)."""
        processed = await self.runs.process_async(self._named(run))
        built = processed.run
        assert built is not None
        if not await self.storage.append_new_run(processed.entries, time.time(), _accepted_as(built), built.journal):
            return None
        return self._queued(processed, built.receiver)

    def _queue_nested(self, nested: WorkflowRun) -> None:
        """A nested run a trace holds (a workflow used as a tool), queued before its caller's."""
        _logged(f"run {nested.run_id}", partial(self._submit, nested, True))

    def _named(self, run: WorkflowRun) -> WorkflowRun:
        if run.app_name is None and (name := self._app_name(run.app_id)) is not None:
            return replace(run, app_name=name)
        return run

    def _app_name(self, app_id: str | None) -> str | None:
        return self.app_names(app_id) if app_id is not None and self.app_names is not None else None

    def _submit(self, run: WorkflowRun, exclusive: bool) -> int | None:
        return self._queue(self.runs.process(self._named(run)), run.receiver, run.journal, exclusive)

    def _queue(self, processed: Processed, receiver: str, journal: Sequence[int], exclusive: bool) -> int | None:
        """Queues one processed trace with its journal rows; None if `exclusive` and its run was queued before."""
        return self._hand_over(processed, receiver, journal, exclusive)()

    def _queued(self, processed: Processed, receiver: str) -> int:
        """Counts and shows what was just queued; its span count."""
        run = processed.run
        notify_all(self.deliveries, processed.entries)
        source = receiver.partition("/")[0]
        counts: list[Measurement] = [(_SPANS_QUEUED, processed.span_count, (("receiver", source),))]
        if run is not None:
            counts.append((_RUNS_QUEUED, 1, (("receiver", source), ("status", run_metrics.label(run.status)))))
        counts += [
            (
                _DETECTIONS,
                1,
                (("detector", f.detector), ("severity", f.severity), ("app", run_metrics.label(processed.app))),
            )
            for f in processed.findings
        ]
        self._aggregates.apply([*processed.measurements, *counts])
        self.live.queued(processed)
        return processed.span_count

    # --- draining ----------------------------------------------------------------------------------

    def close_open_runs(self) -> int:
        """Queues every run and trace still being assembled, as it is (end of a replay)."""
        with self._lock:
            runs = self.assembler.drain_parts()
            traces = self.traces.drain()
        return self._submit_closed(runs, traces)

    def flush(self, timeout: float) -> bool:
        """Waits up to `timeout` seconds for every exporter to deliver what is queued."""
        return flush_all(self.deliveries, timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flushes for up to `timeout` (default `queue.shutdown_timeout`), stops the deliveries, closes the
        queue. Open runs stay journaled for the next start; an in-memory queue queues them as they are,
        since nothing would resume them. Returns True if everything queued was delivered."""
        if self.storage.path == ":memory:":
            self.close_open_runs()
        delivered = self.flush(self.config.service.queue.shutdown_timeout if timeout is None else timeout)
        for delivery in self.deliveries.values():
            delivery.stop()
        self.runs.close()
        self.storage.close()
        return delivered


def _log_orphans(count: int, receiver: str) -> None:
    # One line per request, however many events it held (a body of 100,000 `{}` made 100,000 lines).
    if count:
        logger.warning("%s: dropped %d events with no run, task or stream to attach them to", receiver, count)


def _wait_for_all(handed: Sequence[tuple[str, Callable[[], int | None] | None]]) -> None:
    """Waits for each commit handed to the queue's writer, logging each that failed (it stays in its journal)."""
    for name, finish in handed:
        if finish is not None:
            _logged(name, finish)


def _logged(name: str, call: Callable[[], _T]) -> _T | None:
    """`call()`, or None once its failure is logged: a run the bridge fails to build or queue must not hold
    back the others closed with it."""
    try:
        return call()
    except Exception as error:
        _log_failure(name, error)
    return None


def _log_failure(name: str, error: Exception) -> None:
    """In an `except` block: a run or trace that failed to be built or queued (it stays in its journal)."""
    if isinstance(error, QueueError | WorkerLost):
        logger.error("%s stays in the journal until the next start: %s", name, error)
    else:
        logger.exception("%s could not be built: its events stay in the journal", name)


def _accepted_as(run: RunSummary) -> AcceptedRun:
    """The run as the queue's duplicate check records it. How much it holds: the workflow level only (no
    nodes: the poller's, a blocking answer), what a webhook's sender put in (node ids, no execution ids), or
    everything Dify streams or exports."""
    if not run.has_nodes:
        return AcceptedRun(run.run_id, run.receiver, 0)
    return AcceptedRun(run.run_id, run.receiver, 1 if run.receiver.partition("/")[0] == "webhook" else 2)

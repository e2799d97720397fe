"""`replay`'s way out (bridge/service/replay_export.py, bridge/service/replay_workers.py): what it exports equals
what a served bridge exports for the same recorded streams, built here or in forked workers; the workers keep each
app's runs together and in order and deliver what they were sent when reading fails; the queue in memory batches as
the queue file does."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from msgspec.structs import replace

from bridge.config.loader import parse_config
from bridge.config.models import BridgeConfig
from bridge.dify.model import WorkflowRun
from bridge.dify.replay import read_closed_runs
from bridge.dify.run_parts import ClosedRun, RunParts
from bridge.queue.memory import MemoryQueue
from bridge.service import pipeline, replay_export, replay_workers
from bridge.service.pipeline import Pipeline, Processed
from bridge.service.replay_export import ReplayExport
from bridge.service.replay_workers import ReplayWorkers, WorkerTraceback
from bridge.trace.spans import SpanBuilder
from tests.bridge_server import APP_ID, BridgeServer, bridge_config_text, signed_headers
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import CAPTURES, load_run, load_runs, spans_of

# Every recorded Dify 1.14.1 stream: an iteration, retries, a failed branch, chat flows, retrieval, LLMs.
STREAMS = sorted(CAPTURES.glob("*.sse"))
DEFAULT_PROCESSORS = (
    "processors: {detectors: {}, redact: {secrets: mask, personal_data: mask}, "
    "reduce: {content: truncated, max_value_bytes: 2048}, batch: {timeout: 20ms}}"
)


def _config(tmp_path: Path, sink: OtlpSink) -> BridgeConfig:
    """The test bridge with the default pipeline's processors (detectors, redaction, reduction)."""
    tmp_path.mkdir()
    text = bridge_config_text(tmp_path, sink.grpc_endpoint)
    text = text.replace("processors: {detectors: {}, batch: {timeout: 20ms}}", DEFAULT_PROCESSORS)
    text = text.replace("processors: [detectors, batch]", "processors: [detectors, redact, reduce, batch]")
    assert "redact, reduce" in text and "max_value_bytes" in text
    return parse_config(text)


# A served stream is signed by the registered test app, which names its run; a replayed one is of the app its
# events name, and named by its workflow id. The app's id or name is shown as `<app>`; where a span came in
# (`dify.source`, `stream` or `replay`) and the registered name are left out.
_APPS = {APP_ID, "Support Bot"} | {v for run in load_runs(*STREAMS) for v in (run.app_id, run.workflow_id) if v}
_LEFT_OUT = {"dify.source", "dify.app.name"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _app_shown(value: Any) -> Any:
    if isinstance(value, str):
        for app in _APPS:
            value = value.replace(app, "<app>")
    return value


def _view(span: ReceivedSpan) -> tuple[Any, ...]:
    """A span as received, the app shown as `<app>`, without `_LEFT_OUT`."""
    resource = {k: _app_shown(v) for k, v in span.resource.items() if k not in _LEFT_OUT}
    attributes = {k: _app_shown(v) for k, v in span.attributes.items() if k not in _LEFT_OUT}
    events = [(name, sorted(values.items(), key=str)) for name, _, values in span.events]
    ids = (span.trace_id, span.span_id, span.parent_span_id)
    times = (span.start_ns, span.end_ns)
    values = (sorted(attributes.items(), key=str), events, span.status_code, sorted(resource.items(), key=str))
    return (*ids, _app_shown(span.name), span.kind, *times, *values)


def _export(config: BridgeConfig, workers: int) -> ReplayExport | ReplayWorkers:
    """As `replay` makes it: in this process, or in `workers` forked workers that make their own."""
    if workers:
        return ReplayWorkers(workers, lambda: ReplayExport(config))
    export = ReplayExport(config)
    export.start()
    return export


def _replayed(config: BridgeConfig, sink: OtlpSink, files: list[Path], workers: int) -> list[tuple[Any, ...]]:
    export = _export(config, workers)
    try:
        items = list(read_closed_runs(map(str, files)))
        runs = [item for item in items if isinstance(item, WorkflowRun | ClosedRun)]
        assert runs == items, items  # no input error
        for run in runs:
            export.submit(run)
    finally:
        outcome = export.finish(30)
    assert outcome.flushed and outcome.tally.runs == len(runs) and not any(n for n, _ in outcome.lost.values())
    return sorted(_view(span) for span in sink.wait_for_spans(outcome.tally.spans))


def _served(config: BridgeConfig, sink: OtlpSink, files: list[Path], spans: int) -> list[tuple[Any, ...]]:
    with BridgeServer(config) as bridge:
        for path in files:
            body = path.read_bytes()
            headers = {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
            answer = httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers)
            assert answer.status_code == 202, answer.text
        return sorted(_view(span) for span in sink.wait_for_spans(spans))


def _overflowing(tmp_path: Path) -> Path:
    """A copy of a recorded stream, with fresh ids, whose LLM stopped at its token limit: a detector fires."""
    run = load_run(CAPTURES / "a_llm_simple.sse")
    text = (CAPTURES / "a_llm_simple.sse").read_text().replace('"finish_reason":"stop"', '"finish_reason":"length"')
    kept = {run.app_id, run.workflow_id}
    text = _UUID.sub(lambda m: m[0] if m[0] in kept else str(uuid.uuid5(uuid.NAMESPACE_OID, m[0])), text)
    path = tmp_path / "overflowing.sse"
    path.write_text(text)
    return path


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_replay_exports_what_the_served_bridge_exports_for_recorded_streams(tmp_path: Path, workers: int) -> None:
    """The same spans, field for field once decoded (ids, times, attributes, events, status, resource), whether the
    runs are built in this process or in forked workers, but for the app's registered name (`_view`)."""
    files = [*STREAMS, _overflowing(tmp_path)]
    with OtlpSink() as sink:
        replayed = _replayed(_config(tmp_path / "replay", sink), sink, files, workers)
    with OtlpSink() as sink:
        served = _served(_config(tmp_path / "serve", sink), sink, files, len(replayed))
    assert len(replayed) == sum(len(spans_of(path)) for path in files)
    assert replayed == served
    assert any(name == "detection" for view in replayed for name, _ in view[8])


RUN = load_run(CAPTURES / "a_llm_simple.sse")


def _runs(count: int, app_id: str | None = RUN.app_id) -> list[WorkflowRun]:
    return [replace(RUN, run_id=str(uuid.uuid4()), app_id=app_id) for _ in range(count)]


@pytest.fixture
def config(otlp_sink: OtlpSink) -> BridgeConfig:
    return parse_config(
        f"exporters: {{otlp: {{endpoint: '{otlp_sink.grpc_endpoint}', tls: {{insecure: true}}}}}}\n"
        "processors: {batch: {timeout: 10ms}}\n"
        "service: {pipelines: {traces: {processors: [batch], exporters: [otlp]}}}\n"
    )


def _roots(sink: OtlpSink, count: int) -> list[ReceivedSpan]:
    return [s for s in sink.wait_for_spans(count) if s.parent_span_id is None]


def test_workers_keep_each_apps_runs_together_and_in_order_and_share_the_apps(
    config: BridgeConfig, otlp_sink: OtlpSink
) -> None:
    """Every run is exported once; an app's runs reach the backend in the order they were read (one worker, one
    delivery); a second app goes to the worker that has the least, so each worker counts its own."""
    first, second = _runs(20, "app-a"), _runs(20, "app-b")  # one worker by a hash of their ids
    workers = ReplayWorkers(2, lambda: ReplayExport(config))
    try:
        for one, two in zip(first, second, strict=True):
            workers.submit(one)
            workers.submit(two)
    finally:
        outcome = workers.finish(15)
    spans = len(spans_of(CAPTURES / "a_llm_simple.sse"))
    assert (outcome.tally.runs, outcome.tally.spans, outcome.flushed) == (40, 40 * spans, True)
    roots = _roots(otlp_sink, 40 * spans)
    ids = [s.span_id for s in otlp_sink.spans()]
    assert len(ids) == len(set(ids)) == 40 * spans
    for runs in (first, second):
        sent = {run.run_id for run in runs}
        received = [s.attributes["dify.run.id"] for s in roots if s.attributes["dify.run.id"] in sent]
        assert received == [run.run_id for run in runs]
    assert [worker.work > 0 for worker in workers._workers] == [True, True]


def _gated(config: BridgeConfig) -> tuple[Callable[[], ReplayExport], Callable[[], None]]:
    """An `open_export` for the first worker that waits until `release()`: runs submitted before are read before
    the workers are ready, as the first worker's imports let them be."""
    gate, opener = os.pipe()

    def open_export() -> ReplayExport:
        os.read(gate, 1)
        return ReplayExport(config)

    def release() -> None:
        os.write(opener, b"x")
        os.close(opener)
        os.close(gate)

    return open_export, release


def _runs_per_worker(workers: ReplayWorkers) -> list[int]:
    return sorted(worker.done.tally.runs for worker in workers._workers if worker.done is not None)


def test_apps_read_before_the_workers_are_ready_are_shared_out_largest_first(
    config: BridgeConfig, otlp_sink: OtlpSink
) -> None:
    """Two small apps read first and a large one after: given out at their first runs, the large app would join a
    small one on a worker (1 + 10 runs against 1); held until the workers are ready, it gets a worker to itself."""
    open_export, release = _gated(config)
    workers = ReplayWorkers(2, open_export)
    try:
        for run in [*_runs(1, "app-a"), *_runs(1, "app-b"), *_runs(10, "app-c")]:
            workers.submit(run)
        assert not workers.ready and [worker.work for worker in workers._workers] == [0, 0]  # held
    finally:
        release()
        outcome = workers.finish(15)
    assert outcome.tally.runs == 12 and outcome.flushed
    assert _runs_per_worker(workers) == [2, 10]
    assert len(_roots(otlp_sink, outcome.tally.spans)) == 12


def test_runs_held_past_the_bound_are_shared_out_before_the_workers_are_ready(
    config: BridgeConfig, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An input read much faster than the first worker starts is not held whole: past `MAX_HELD_BYTES` its apps
    go to their workers' pipes, and reading goes on; an app keeps its worker and its order."""
    monkeypatch.setattr(replay_workers, "MAX_HELD_BYTES", 1)
    open_export, release = _gated(config)
    workers = ReplayWorkers(2, open_export)
    first, second = _runs(3, "app-a"), _runs(3, "app-b")
    try:
        for one, two in zip(first, second, strict=True):
            workers.submit(one)
            workers.submit(two)
        assert not workers.ready and all(worker.work > 0 for worker in workers._workers)
    finally:
        release()
        outcome = workers.finish(15)
    assert _runs_per_worker(workers) == [3, 3]
    roots = _roots(otlp_sink, outcome.tally.spans)
    for runs in (first, second):
        sent = {run.run_id for run in runs}
        assert [s.attributes["dify.run.id"] for s in roots if s.attributes["dify.run.id"] in sent] == [
            run.run_id for run in runs
        ]


def test_runs_sent_before_a_failure_in_reading_are_still_delivered(config: BridgeConfig, otlp_sink: OtlpSink) -> None:
    """When reading fails after some runs were sent to the workers, `finish` (in the command's `finally`) still has
    them delivered before the error goes on; no worker is left behind."""
    runs = _runs(5)
    workers = ReplayWorkers(2, lambda: ReplayExport(config))
    with pytest.raises(OSError, match="disk gone"):
        try:
            for run in runs:
                workers.submit(run)
            raise OSError("disk gone")
        finally:
            outcome = workers.finish(15)
    assert outcome.tally.runs == 5 and outcome.flushed
    roots = _roots(otlp_sink, outcome.tally.spans)
    assert [s.attributes["dify.run.id"] for s in roots] == [run.run_id for run in runs]
    (leader,) = [worker.pid for worker in workers._workers if worker.pid is not None]
    with pytest.raises(ChildProcessError):  # waited for (and it for the other worker)
        os.waitpid(leader, os.WNOHANG)


def test_a_run_a_worker_cannot_build_raises_its_error_here_after_the_others_were_delivered(
    config: BridgeConfig, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when the run is built in this process: its error (with the worker's traceback as its cause) ends the
    replay; what the workers had queued before is still delivered."""

    def process_run(
        builder: SpanBuilder, pipelines: list[Pipeline], run: WorkflowRun | ClosedRun, measured: bool = True
    ) -> Processed:
        if run.run_id == "broken":  # a bug in building, say
            raise ValueError("run broken cannot be built")
        return pipeline.process_run(builder, pipelines, run, measured)

    monkeypatch.setattr(replay_export, "process_run", process_run)  # the workers are forked with it
    broken = replace(RUN, run_id="broken")
    runs = _runs(3)
    workers = ReplayWorkers(2, lambda: ReplayExport(config))
    with pytest.raises(ValueError, match="run broken cannot be built") as raised:
        try:
            for run in [*runs, broken, *_runs(50)]:
                workers.submit(run)
        finally:
            workers.finish(15)
    assert isinstance(raised.value.__cause__, WorkerTraceback)
    assert "Traceback (most recent call last)" in str(raised.value.__cause__)
    roots = _roots(otlp_sink, 3 * len(spans_of(CAPTURES / "a_llm_simple.sse")))
    assert [s.attributes["dify.run.id"] for s in roots][:3] == [run.run_id for run in runs]


def test_assembled_runs_are_built_in_the_replaying_process(config: BridgeConfig, otlp_sink: OtlpSink) -> None:
    """While the first worker imports, this process has a core to itself: it builds what it read, so a run that
    cannot be built fails here, from `submit`, before any worker has it; what was sent before is delivered."""
    closed = [run for run in read_closed_runs([str(CAPTURES / "a_llm_simple.sse")]) if isinstance(run, ClosedRun)]
    broken = ClosedRun(RunParts("key", run_id="broken", app_id=RUN.app_id, started=b"{not JSON"))
    workers = ReplayWorkers(2, lambda: ReplayExport(config))
    with pytest.raises(json.JSONDecodeError) as raised:
        try:
            for run in [*closed, broken]:
                workers.submit(run)
        finally:
            outcome = workers.finish(15)
    assert raised.value.__cause__ is None  # not a worker's error (`WorkerTraceback`)
    assert outcome.tally.runs == len(closed) == 1
    assert [s.attributes["dify.run.id"] for s in _roots(otlp_sink, outcome.tally.spans)] == [RUN.run_id]


def test_a_worker_that_dies_is_said_not_to_have_answered(
    config: BridgeConfig, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed (OOM, say) with runs it was sent: the replay ends with an error, not a summary that would
    count fewer runs as if nothing was lost, and does not wait for it forever."""

    def process_run(
        builder: SpanBuilder, pipelines: list[Pipeline], run: WorkflowRun | ClosedRun, measured: bool = True
    ) -> Processed:
        if run.run_id == "fatal":
            os._exit(137)
        return pipeline.process_run(builder, pipelines, run, measured)

    monkeypatch.setattr(replay_export, "process_run", process_run)  # the workers are forked with it
    workers = ReplayWorkers(2, lambda: ReplayExport(config))
    with pytest.raises(RuntimeError, match="a replay worker exited before it answered"):
        for run in [*_runs(3), replace(RUN, run_id="fatal"), *_runs(3)]:
            workers.submit(run)
        workers.finish(15)


def test_the_first_worker_imports_with_the_collector_off_and_works_with_it_on(
    config: BridgeConfig, otlp_sink: OtlpSink
) -> None:
    """The imports and the config, before the first run, are not slowed by collections that would only look over
    objects living until the exit (bridge/service/replay_workers.py); runs are collected as usual, start-up frozen
    out of the collector's sight."""

    def open_export() -> ReplayExport:
        export = ReplayExport(config)
        assert not gc.isenabled()
        return export

    frozen_at_start = gc.get_freeze_count()
    process_run = pipeline.process_run

    def checked(
        builder: SpanBuilder, pipelines: list[Pipeline], run: WorkflowRun | ClosedRun, measured: bool = True
    ) -> Processed:
        if not gc.isenabled() or gc.get_freeze_count() <= frozen_at_start:
            raise RuntimeError("the collector is off, or start-up was not frozen")
        return process_run(builder, pipelines, run, measured)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay_export, "process_run", checked)  # the workers are forked with it
        workers = ReplayWorkers(2, open_export)
        for run in _runs(4):
            workers.submit(run)
        assert workers.finish(15).tally.runs == 4


def test_the_queue_in_memory_batches_by_pipeline_spans_and_bytes_and_forgets_what_every_exporter_sent() -> None:
    queue = MemoryQueue(["a", "b"])
    queue.append([("p", 3, b"xxx"), ("q", 2, b"yy"), ("p", 4, b"zzzz")], now=1.0)
    queue.append([("p", 5, b"vvvvv")], now=2.0)
    batch = queue.pending("a", frozenset({"p"}), 0, max_spans=10, max_bytes=None)
    assert [e.id for e in batch.entries] == [1, 3] and batch.full and batch.scanned == 3
    assert queue.payload(batch.entries) == b"xxxzzzz"
    by_bytes = queue.pending("a", frozenset({"p", "q"}), 0, max_spans=100, max_bytes=5)
    assert [e.id for e in by_bytes.entries] == [1, 2] and by_bytes.full
    assert queue.backlog("a", frozenset({"p"})) == (3, 12, 1.0)
    queue.advance("a", 4)
    assert queue.backlog("a", frozenset({"p"})) == (0, 0, None)
    assert queue.pending("b", frozenset({"p"}), 3, max_spans=10, max_bytes=None).entries[0].id == 4
    queue.dead_letter("b", [], "refused", 3.0, 4)  # every exporter past them: they are gone
    assert queue.backlog("b", frozenset({"p", "q"})) == (0, 0, None)
    assert queue.pending("a", frozenset({"p"}), 4, max_spans=10, max_bytes=None).entries == []


def test_an_otlp_sender_starts_no_thread_before_its_first_send(otlp_sink: OtlpSink) -> None:
    """gRPC starts threads with its channel (six, here); `replay`'s first worker forks the others after making its
    export, senders included, and a fork beside a running thread can copy a lock it holds. So the channel is made
    at the first send. In a fresh interpreter, where gRPC has started nothing yet."""
    script = (
        "import os\nfrom bridge.exporters import otlp\n"
        f"sender = otlp.create(otlp.Config(endpoint={otlp_sink.grpc_endpoint!r}, tls={{'insecure': True}}))\n"
        "print(len(os.listdir('/proc/self/task')), end=' ')\n"
        "print(sender.send(b'').ok, len(os.listdir('/proc/self/task')) > 1)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "True", "True"], done.stdout + done.stderr


def test_a_replay_computes_no_run_metrics(
    config: BridgeConfig, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`replay` has no metrics: its runs' measurements (3 % of a run's CPU) are not computed."""

    def measurements(spans: object) -> list[object]:
        raise AssertionError("run metrics computed")

    monkeypatch.setattr("bridge.telemetry.run_metrics.measurements", measurements)
    export = _export(config, workers=0)
    try:
        for run in _runs(2):
            export.submit(run)
    finally:
        outcome = export.finish(15)
    assert outcome.tally.runs == 2 and outcome.flushed

"""`service.workers`: runs built, processed and encoded in worker processes give what the server process
gives, and a worker that dies costs no acknowledged run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
from msgspec.structs import replace

from bridge.config.loader import parse_config
from bridge.dify.assembly import RunAssembler
from bridge.dify.formats import Record, iter_records
from bridge.dify.model import RunEvent
from bridge.dify.normalize import normalize_event
from bridge.dify.run_parts import ClosedRun, ContainerParts, NodeParts, RunParts
from bridge.service import pipeline_workers
from bridge.service.pipeline import Processed
from bridge.service.pipeline_workers import PipelineWorkers, WorkerLost
from bridge.service.worker_pipes import decode_run, encode_run
from bridge.trace.spans import build_spans
from tests.bridge_server import API_KEY, APP_ID, BridgeServer, bridge_config_text, dumps, signed_headers
from tests.dify_otlp_exports import provider_request
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import CAPTURES, EXAMPLES, load_runs

T = TypeVar("T")
WEBHOOK = {**json.loads((EXAMPLES / "webhook_full.json").read_text()), "app_id": APP_ID}
# A stream whose LLM stopped at its token limit: the context_overflow detector fires.
(EXPORTED,) = load_runs(CAPTURES / "b_iteration_ifelse_http.sse")
STREAM = (CAPTURES / "a_llm_simple.sse").read_bytes().replace(b'"finish_reason":"stop"', b'"finish_reason":"length"')


def _config_text(tmp_path: Path, sink: OtlpSink, workers: int) -> str:
    return bridge_config_text(tmp_path, sink.grpc_endpoint, otlp="{protocols: {http: {}}}", workers=workers)


def _view(span: ReceivedSpan) -> tuple[Any, ...]:
    events = sorted((name, sorted(attributes.items())) for name, _, attributes in span.events)
    attributes = sorted(span.attributes.items(), key=str)
    ids = (span.trace_id, span.span_id, span.parent_span_id)
    return (
        *ids,
        span.name,
        span.start_ns,
        span.end_ns,
        attributes,
        events,
        span.status_code,
        sorted(span.resource.items()),
    )


def _served(tmp_path: Path, sink: OtlpSink, workers: int) -> tuple[list[tuple[Any, ...]], str]:
    """The spans of one webhook run, one streamed run and one Dify OTLP export (rebuilt into its run), as the
    backend got them, and the metrics page."""
    tmp_path.mkdir()
    with BridgeServer(parse_config(_config_text(tmp_path, sink, workers))) as bridge:
        body = dumps(WEBHOOK)
        answer = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body))
        assert answer.status_code == 202, answer.text
        headers = {**signed_headers(STREAM, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
        answer = httpx.post(f"{bridge.base}/api/v1/dify/events", content=STREAM, headers=headers)
        assert answer.status_code == 202, answer.text
        export = provider_request(EXPORTED, app_id=APP_ID).SerializeToString()
        headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {API_KEY}"}
        answer = httpx.post(f"{bridge.base}/v1/traces", content=export, headers=headers)
        assert answer.status_code == 200, answer.text
        spans = sink.wait_for_spans(len(WEBHOOK["nodes"]) + 1 + 4 + len(build_spans(EXPORTED)))
        metrics = httpx.get(f"{bridge.base}/metrics").text
    return sorted(_view(span) for span in spans), metrics


def test_workers_give_the_spans_and_metrics_the_server_process_gives(tmp_path: Path) -> None:
    with OtlpSink() as sink:
        in_process, in_process_metrics = _served(tmp_path / "0", sink, workers=0)
    with OtlpSink() as sink:
        in_worker, worker_metrics = _served(tmp_path / "1", sink, workers=1)

    assert in_worker == in_process
    assert any(name == "detection" for view in in_worker for name, _ in view[7])
    for line in ('dify_detections_total{app="', "dify_node_duration_seconds_count{", "dify_bridge_runs_total{",
                 "gen_ai_client_token_usage_sum{"):  # fmt: skip
        assert _samples(worker_metrics, line) == _samples(in_process_metrics, line), line
        assert _samples(worker_metrics, line), line


def _samples(text: str, prefix: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line.startswith(prefix))


def test_workers_keep_the_detectors_history_in_the_servers_store(tmp_path: Path) -> None:
    with OtlpSink() as sink, BridgeServer(parse_config(_config_text(tmp_path, sink, workers=1))) as bridge:
        for _ in range(3):
            body = dumps({**WEBHOOK, "workflow_run_id": os.urandom(16).hex()})
            assert httpx.post(
                f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body)
            ).is_success
        sink.wait_for_spans(3 * (len(WEBHOOK["nodes"]) + 1))
    # Written by the worker when it stopped (and every few seconds while it runs).
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        assert db.execute("SELECT count(*) FROM baselines").fetchone()[0] > 0


@pytest.fixture(params=["thread", "loop"])
def workers(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """Workers whose answers a thread reads, or whose pipes an event loop (running on a thread of its own, as
    the server's does beside the threads that also send runs) reads and writes."""
    config = parse_config(bridge_config_text(tmp_path, "127.0.0.1:9"))
    loop = asyncio.new_event_loop() if request.param == "loop" else None
    running = threading.Thread(target=loop.run_forever, daemon=True) if loop else None
    if running:
        running.start()
    pool = PipelineWorkers(config, {"traces": None}, 1, store_baselines=False, loop=loop)
    yield pool
    pool.close()
    if loop and running:
        loop.call_soon_threadsafe(loop.stop)
        running.join(10)
        loop.close()


def _on_its_loop(pool: PipelineWorkers, scenario: Coroutine[Any, Any, T]) -> T:
    """`scenario` run on the workers' loop if they have one (awaits resolved there directly), else on a new one."""
    if pool._loop is None:
        return asyncio.run(scenario)
    return asyncio.run_coroutine_threadsafe(scenario, pool._loop).result(120)


RUN = load_runs(CAPTURES / "a_llm_simple.sse")[0]


def _worker_pid(pool: PipelineWorkers) -> int:
    current = pool._workers[0]._current
    assert current is not None and current.process.pid is not None
    return current.process.pid


def test_a_killed_worker_fails_only_the_runs_it_held_and_is_started_again(
    workers: PipelineWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_workers, "RESTART_DELAY_S", 0.0)  # this one dies within a second of its start
    first = workers.process(replace(RUN, receiver="webhook"))
    assert isinstance(first, Processed) and first.span_count == 4 and first.entries
    pid = _worker_pid(workers)
    # Stopped first, so that it holds the runs when killed: a fast worker under a loaded machine's scheduler had
    # sometimes finished all 200 before the kill landed.
    os.kill(pid, signal.SIGSTOP)
    held: list[Future[Processed]] = [
        workers._pick(RUN).submit(replace(RUN, run_id=f"run-{n}", receiver="webhook")) for n in range(200)
    ]
    os.kill(pid, signal.SIGKILL)
    outcomes = []
    for future in held:
        error = future.exception(timeout=30)
        assert error is None or isinstance(error, WorkerLost), error
        if error is not None:  # docs/scaling.md: senders get `503 worker_unavailable` with `Retry-After: 1`
            assert (error.status, error.error, error.retry_after) == (503, "worker_unavailable", 1.0)
        outcomes.append(error is None)
    assert not any(outcomes)  # all were lost with the worker: their callers were told (503, nothing taken)
    again = workers.process(replace(RUN, run_id="after", receiver="webhook"))  # a new worker takes it
    assert again.span_count == 4
    assert _worker_pid(workers) != pid


def test_a_run_the_worker_cannot_build_raises_in_the_caller(workers: PipelineWorkers) -> None:
    broken = replace(RUN, nodes=(replace(RUN.nodes[0], created_at="not a time"),))
    with pytest.raises(RuntimeError, match=r"pipeline-worker-0: run .* could not be built") as raised:
        workers.process(broken)
    assert "Traceback (most recent call last)" in str(raised.value)  # the worker's, for the server's log
    assert workers.process(RUN).span_count == 4  # the worker goes on


@pytest.mark.parametrize(
    ("value", "sent_as"),
    [(7, b"m"), (2**70, b"p")],  # what msgpack cannot carry goes pickled
)
def test_whole_runs_reach_the_worker_as_they_are(workers: PipelineWorkers, value: int, sent_as: bytes) -> None:
    run = replace(RUN, inputs={"x": value})
    message = encode_run(run)
    assert message[:1] == sent_as
    assert decode_run(message) == run
    assert workers.process(run).span_count == 4


def _every_part(value: object) -> ClosedRun:
    """A closed run holding every kind of part the assembler keeps, `value` among its data."""
    node = NodeParts(1, b'{"node_id":"n"}', None, {0: b"{}", 2: b'{"x":1}'}, {"log": ({"x": value}, 4)})
    parts = RunParts(
        "key", receiver="stream", order=9, last_activity=1.5, terminal_at=2.5, run_id="run", task_id="task",
        message_id="message", app_id="app", app_signed=True, started=b"{}", message_end={"x": [1, 2.5, None]},
        error={"message": "boom"}, paused=True, nodes={"exec": node},
        containers={"loop": ContainerParts("loop", 2, node_started=b"{}", rounds={0: 5, 1: 6})},
        thoughts={"thought": ({"position": 1}, 7)}, events={b"\0" * 16: RunEvent("ping", {"x": 1}, 2.0, 8)},
        anonymous={("node", "llm"): 2}, anonymous_seen={b"seen"}, journal=[3, 4],
    )  # fmt: skip
    return ClosedRun(parts, "Support Bot")


@pytest.mark.parametrize(("value", "sent_as"), [(7, b"c"), (2**70, b"p")])
def test_closed_runs_reach_the_worker_as_they_are(value: int, sent_as: bytes) -> None:
    """Assembled runs cross the pipe as typed msgpack (pickle, 4x slower, only for what msgpack cannot carry),
    every part as it was."""
    closed = [_every_part(value)]
    for capture in sorted(CAPTURES.glob("*.sse")):
        assembler = RunAssembler(terminal_wait=0)
        for record in iter_records(capture.read_text(), "t", "sse"):
            assert isinstance(record, Record)
            assembler.add(normalize_event(record.obj, "t", record.line), 0.0, receiver="stream")
        closed += [ClosedRun(parts) for parts in assembler.due_parts(1.0)]
    for run in closed:
        message = encode_run(run)
        assert message[:1] == (sent_as if run is closed[0] else b"c")
        assert decode_run(message) == run


def test_a_closed_run_is_built_from_its_parts_in_the_worker(workers: PipelineWorkers) -> None:
    assembler = RunAssembler(terminal_wait=0)
    for record in iter_records((CAPTURES / "a_llm_simple.sse").read_text(), "t", "sse"):
        assert isinstance(record, Record)
        assembler.add(normalize_event(record.obj, "t", record.line), 0.0, receiver="stream")
    (parts,) = assembler.due_parts(1.0)
    built = workers.process(ClosedRun(parts, "Support Bot"))
    assert built.span_count == 4 and built.run is not None
    assert (built.run.run_id, built.run.receiver, built.run.app_name) == (RUN.run_id, "stream", "Support Bot")
    assert built.app_id == RUN.app_id


def test_runs_sent_faster_than_the_worker_takes_them_all_come_back(workers: PipelineWorkers) -> None:
    """More runs than the pipes hold, sent without waiting: the sender blocks on a full pipe while the
    answers keep coming (a sender holding the answers' lock there would stop them for good)."""
    big = replace(RUN, inputs={"document": "x" * 20_000}, receiver="webhook")
    futures = [workers._pick(big).submit(replace(big, run_id=f"run-{n}")) for n in range(400)]
    assert [future.result(timeout=120).span_count for future in futures] == [4] * 400


def _kill_and_wait(pool: PipelineWorkers) -> None:
    os.kill(_worker_pid(pool), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not (current := pool._workers[0]._current) or not current.lost:
        assert time.monotonic() < deadline, "the worker's end was not seen"
        time.sleep(0.01)


def test_a_worker_that_dies_soon_after_it_starts_is_not_started_again_for_every_run(
    workers: PipelineWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert workers.process(RUN).span_count == 4
    monkeypatch.setattr(pipeline_workers, "RESTART_DELAY_S", 3600.0)  # every worker now counts as just started
    _kill_and_wait(workers)
    with pytest.raises(WorkerLost, match="started again shortly"):
        workers.process(RUN)
    assert workers._workers[0]._current is not None and workers._workers[0]._current.lost  # none was started
    monkeypatch.setattr(pipeline_workers, "RESTART_DELAY_S", 0.0)
    assert workers.process(RUN).span_count == 4


def test_a_caller_that_stops_waiting_leaves_the_answers_of_the_others_in_place(workers: PipelineWorkers) -> None:
    async def scenario() -> list[int]:
        gone = asyncio.create_task(workers.process_async(replace(RUN, run_id="gone")))
        await asyncio.sleep(0)
        gone.cancel()  # as when a client disconnects while its run is built
        others = asyncio.gather(*(workers.process_async(replace(RUN, run_id=f"r{n}")) for n in range(5)))
        answers = await asyncio.wait_for(others, 60)
        return [answer.span_count for answer in answers]

    assert _on_its_loop(workers, scenario()) == [4] * 5


def test_runs_sent_from_the_loop_faster_than_the_worker_takes_them_all_come_back(workers: PipelineWorkers) -> None:
    """With a loop, runs awaited on it fill the pipes both ways: a loop that blocked writing could no longer read
    the answers that let the worker take more."""
    big = replace(RUN, inputs={"document": "x" * 20_000}, receiver="webhook")

    async def scenario() -> list[int]:
        sent = [workers.process_async(replace(big, run_id=f"run-{n}")) for n in range(400)]
        return [answer.span_count for answer in await asyncio.gather(*sent)]

    assert _on_its_loop(workers, scenario()) == [4] * 400


def test_a_blocking_call_on_the_loop_that_reads_the_answers_is_refused(workers: PipelineWorkers) -> None:
    async def scenario() -> Processed:
        return workers.process(RUN)

    if workers._loop is None:
        assert _on_its_loop(workers, scenario()).span_count == 4
    else:
        with pytest.raises(RuntimeError, match="wait forever"):
            _on_its_loop(workers, scenario())

"""Fault tests: the bridge as a real process, a real OTLP receiver that goes down, refuses or crawls, and
`kill -9`. Whatever the bridge acknowledged must arrive, once per span id."""

from __future__ import annotations

import collections
import copy
import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx2 as httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan

from tests.bridge_process import BridgeProcess, wait_until
from tests.bridge_server import API_KEY, APP_ID, bridge_config_text, dumps, free_port, signed_headers
from tests.dify_recordings import rebuilt_spans, recorded_spans
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES, events_of, spans_of

PAYLOAD: dict[str, Any] = {**json.loads((EXAMPLES / "webhook_full.json").read_text()), "app_id": APP_ID}
RUN_SPANS = 10  # spans of one PAYLOAD run
STREAM = CAPTURES / "b_iteration_ifelse_http.sse"
RECORDED = "b_iteration_ifelse_http"  # Dify 1.14.1's export of such a run, recorded
FAST_RETRY = "retry_on_failure: {initial_interval: 50ms, max_interval: 200ms}"


def _wait(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    wait_until(condition, timeout, what)


def _ports() -> tuple[int, int]:
    """Ports of an OTLP receiver that is down now and can come up later."""
    with OtlpSink() as sink:
        return sink.grpc_port, sink.http_port


def _config(tmp_path: Path, grpc_port: int, exporter: str = FAST_RETRY, queue: str = "", otlp: str = "") -> Path:
    path = tmp_path / "bridge.yaml"
    text = bridge_config_text(
        tmp_path, f"127.0.0.1:{grpc_port}", exporter=exporter, queue=queue, idle_timeout="5m", otlp=otlp
    )
    path.write_text(text)
    return path


def _webhook(bridge: BridgeProcess, run_id: str | None = None) -> httpx.Response:
    payload = copy.deepcopy(PAYLOAD)
    payload["workflow_run_id"] = run_id or str(uuid.uuid4())
    body = dumps(payload)
    return httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body), timeout=10)


def _stream(bridge: BridgeProcess, lines: list[str]) -> httpx.Response:
    body = ("\n\n".join(lines) + "\n\n").encode()
    headers = {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
    return httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers, timeout=10)


def _sse_blocks(path: Path) -> list[str]:
    return [block for block in path.read_text().split("\n\n") if block.strip().startswith(("data:", "event:"))]


def _accepted_runs(responses: list[httpx.Response]) -> set[str]:
    return {r.json()["run_id"].replace("-", "") for r in responses if r.status_code == 202}


def test_kill_9_with_runs_queued_and_a_stream_run_half_received(tmp_path: Path, processes: list[BridgeProcess]) -> None:
    grpc_port, http_port = _ports()  # the backend is down throughout the first life
    bridge = BridgeProcess(_config(tmp_path, grpc_port)).start()
    processes.append(bridge)
    webhooks = [_webhook(bridge) for _ in range(10)]
    assert all(r.status_code == 202 for r in webhooks), [r.text for r in webhooks]
    blocks = _sse_blocks(STREAM)
    half = len(blocks) // 2
    assert _stream(bridge, blocks[:half]).status_code == 202
    bridge.kill()

    with OtlpSink(grpc_port, http_port) as sink:
        processes.append(BridgeProcess(bridge.config).start())
        assert _stream(processes[-1], blocks[half:]).status_code == 202
        expected = 10 * RUN_SPANS + len(spans_of(STREAM))
        _wait(lambda: len(sink.spans()) >= expected, what=f"{expected} spans")
        time.sleep(0.5)  # nothing more may come
        spans = sink.spans()
    ids = [s.span_id for s in spans]
    assert len(ids) == expected == len(set(ids))
    traces = {s.trace_id for s in spans}
    stream_trace = str(events_of(STREAM)[0].workflow_run_id).replace("-", "")  # the run id is the trace id
    assert traces == _accepted_runs(webhooks) | {stream_trace}
    stream_root = next(s for s in spans if s.parent_span_id is None and s.attributes["dify.source"] == "stream")
    assert stream_root.attributes["dify.run.status"] == "succeeded"  # whole, not incomplete


def test_kill_9_again_and_again_while_clients_send_loses_no_acknowledged_run(
    tmp_path: Path, processes: list[BridgeProcess]
) -> None:
    """harden13: three `kill -9`s at random moments while four clients send, the backend up throughout: every run
    acknowledged reaches it, each span at most once per life (README: a batch in flight at the kill goes twice)."""
    kills, clients = 3, 4
    with OtlpSink() as sink:
        bridge = BridgeProcess(_config(tmp_path, sink.grpc_port)).start()
        processes.append(bridge)
        acknowledged: set[str] = set()
        sent: set[str] = set()
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                run_id = str(uuid.uuid4())
                sent.add(run_id.replace("-", ""))
                try:
                    answer = _webhook(bridge, run_id)
                except httpx.TransportError:  # the bridge is down: not acknowledged
                    time.sleep(0.05)
                    continue
                if answer.status_code == 202:
                    acknowledged.add(run_id.replace("-", ""))

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for _ in range(kills):
            time.sleep(random.uniform(0.3, 1.2))
            bridge.kill()
            bridge.start()  # the same port and queue file
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(15)
        _wait(lambda: {s.trace_id for s in sink.spans()} >= acknowledged, timeout=60, what="every acknowledged run")
        time.sleep(0.5)
        spans = sink.spans()
    assert len(acknowledged) >= 20
    traces = {s.trace_id for s in spans}
    assert acknowledged <= traces <= sent  # unacknowledged runs may have been queued just before a kill
    assert max(collections.Counter(s.span_id for s in spans).values()) <= kills + 1  # once per life at most


def test_backend_down_for_a_while_then_up_counts_exactly(tmp_path: Path, processes: list[BridgeProcess]) -> None:
    grpc_port, http_port = _ports()
    bridge = BridgeProcess(_config(tmp_path, grpc_port)).start()
    processes.append(bridge)
    webhooks = [_webhook(bridge) for _ in range(20)]
    assert all(r.status_code == 202 for r in webhooks)
    time.sleep(1.0)  # retries against a closed port meanwhile
    with OtlpSink(grpc_port, http_port) as sink:
        _wait(lambda: len(sink.spans()) >= 20 * RUN_SPANS, what="every span")
        time.sleep(0.5)
        spans = sink.spans()
    assert len(spans) == 20 * RUN_SPANS == len({s.span_id for s in spans})
    assert {s.trace_id for s in spans} == _accepted_runs(webhooks)


def test_a_refused_batch_lands_in_dead_letters_the_rest_flows_and_the_cli_retries_it(
    tmp_path: Path, processes: list[BridgeProcess]
) -> None:
    with OtlpSink() as sink:
        poisoned = str(uuid.uuid4())
        sink.refuse_traces({poisoned.replace("-", "")})
        config = _config(tmp_path, sink.grpc_port)
        bridge = BridgeProcess(config).start()
        processes.append(bridge)
        responses = [_webhook(bridge, poisoned), *(_webhook(bridge) for _ in range(5))]
        assert all(r.status_code == 202 for r in responses)
        _wait(lambda: len(sink.spans()) >= 5 * RUN_SPANS, what="the other runs")
        listed = _cli("deadletter", "list", "--config", str(config))
        assert listed.returncode == 0 and "1 dead letter(s)" in listed.stderr
        assert f"\totlp\t{RUN_SPANS}\t" in listed.stdout and "gRPC INVALID_ARGUMENT" in listed.stdout
        sink.heal()
        retried = _cli("deadletter", "retry", "--all", "--config", str(config))
        assert retried.returncode == 0 and retried.stdout.startswith("1 dead letter(s) queued again")
        _wait(lambda: len(sink.spans()) >= 6 * RUN_SPANS, what="the retried run")
        spans = sink.spans()
    assert len(spans) == 6 * RUN_SPANS == len({s.span_id for s in spans})
    assert {s.trace_id for s in spans} == _accepted_runs(responses)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridge.cli", *args], capture_output=True, text=True, timeout=30)


def test_a_full_queue_answers_503_with_retry_after_and_loses_nothing_acknowledged(
    tmp_path: Path, processes: list[BridgeProcess]
) -> None:
    grpc_port, http_port = _ports()
    bridge = BridgeProcess(_config(tmp_path, grpc_port, queue="max_bytes: 60000, retry_after: 2s")).start()
    processes.append(bridge)
    responses: list[httpx.Response] = []
    while not responses or responses[-1].status_code == 202:
        responses.append(_webhook(bridge))
        assert len(responses) < 500, "the queue never filled"
    refused = responses[-1]
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    assert refused.json()["error"] == "queue_full"
    acknowledged = _accepted_runs(responses)
    assert len(acknowledged) >= 3
    with OtlpSink(grpc_port, http_port) as sink:
        _wait(lambda: len(sink.spans()) >= len(acknowledged) * RUN_SPANS, what="the acknowledged runs")
        _wait(lambda: _webhook(bridge, refused.json().get("run_id")).status_code == 202, what="the queue to drain")
        _wait(lambda: len(sink.spans()) >= (len(acknowledged) + 1) * RUN_SPANS, what="the retried run")
        spans = sink.spans()
    assert len(spans) == len({s.span_id for s in spans}) == (len(acknowledged) + 1) * RUN_SPANS


def _otlp_post(bridge: BridgeProcess, spans: list[ReadableSpan]) -> httpx.Response:
    body = encode_spans(spans).SerializeToString()
    headers = {"content-type": "application/x-protobuf", "api_key": API_KEY}
    return httpx.post(f"{bridge.base}/v1/traces", content=body, headers=headers, timeout=10)


def test_kill_9_with_an_otlp_trace_half_received(tmp_path: Path, processes: list[BridgeProcess]) -> None:
    """The half received waits for the rest (export_wait, counted from the restart) however long the restart and
    the rest take: 30 s here, as by default, not the 1 s of the other tests a loaded machine can outlast."""
    grpc_port, http_port = _ports()
    config = _config(tmp_path, grpc_port, otlp="{}")
    config.write_text(config.read_text().replace("export_wait: 1s", "export_wait: 30s"))
    bridge = BridgeProcess(config).start()
    processes.append(bridge)
    spans = recorded_spans(RECORDED)  # Dify's workflow span comes last
    half = len(spans) // 2
    assert all(_otlp_post(bridge, [span]).status_code == 200 for span in spans[:half])
    bridge.kill()
    with OtlpSink(grpc_port, http_port) as sink:
        second = BridgeProcess(bridge.config).start()
        processes.append(second)
        assert _otlp_post(second, spans[half:]).status_code == 200
        expected = rebuilt_spans(RECORDED)
        _wait(lambda: len(sink.spans()) >= len(expected), what="the rebuilt trace")
        time.sleep(0.5)
        received = sink.spans()
    assert len(received) == len({s.span_id for s in received}) == len(expected)
    assert {s.span_id for s in received} == {f"{s.context.span_id:016x}" for s in expected if s.context}


def test_a_full_queue_refuses_new_otlp_traces_with_retry(tmp_path: Path, processes: list[BridgeProcess]) -> None:
    grpc_port, _ = _ports()
    otlp_port = free_port()
    otlp = f'{{protocols: {{http: {{}}, grpc: {{endpoint: "127.0.0.1:{otlp_port}"}}}}}}'
    bridge = BridgeProcess(_config(tmp_path, grpc_port, queue="max_bytes: 60000, retry_after: 2s", otlp=otlp)).start()
    processes.append(bridge)
    for _ in range(500):
        if _webhook(bridge).status_code == 503:
            break
    spans = recorded_spans(RECORDED)
    refused = _otlp_post(bridge, spans)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    assert refused.json()["error"] == "queue_full"
    with grpc.insecure_channel(f"127.0.0.1:{otlp_port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            stub.Export(encode_spans(spans), metadata=(("api_key", API_KEY),), timeout=10)
            raise AssertionError("the gRPC export was taken")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE  # OTLP clients retry it
            assert "queue" in (error.details() or "")


def test_a_slow_backend_does_not_slow_the_webhook(tmp_path: Path, processes: list[BridgeProcess]) -> None:
    with OtlpSink() as sink:
        sink.delay = 1.0  # every export waits a second for its answer
        bridge = BridgeProcess(_config(tmp_path, sink.grpc_port)).start()
        processes.append(bridge)
        latencies = []
        for _ in range(40):
            start = time.perf_counter()
            assert _webhook(bridge).status_code == 202
            latencies.append(time.perf_counter() - start)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        # The acknowledgement waits for the durable write only, never for the backend's second.
        assert p99 < 0.5, latencies
        _wait(lambda: len(sink.spans()) >= 40 * RUN_SPANS, timeout=60, what="every span")


def test_sigterm_flushes_and_a_second_signal_exits_at_once_keeping_the_queue(
    tmp_path: Path, processes: list[BridgeProcess]
) -> None:
    with OtlpSink() as sink:
        config = _config(tmp_path, sink.grpc_port)
        text = config.read_text().replace("batch: {timeout: 20ms}", "batch: {timeout: 1h}")
        config.write_text(text)  # nothing leaves before the shutdown flush
        bridge = BridgeProcess(config).start()
        processes.append(bridge)
        assert _webhook(bridge).status_code == 202
        time.sleep(0.3)
        assert sink.spans() == []
        bridge.signal(signal.SIGTERM)
        assert bridge.wait(20) in (0, -signal.SIGTERM)
        assert len(sink.spans()) == RUN_SPANS  # flushed on the way out

    grpc_port, http_port = _ports()
    config.write_text(text.replace(f"127.0.0.1:{sink.grpc_port}", f"127.0.0.1:{grpc_port}").replace(
        "queue: {path", "queue: {shutdown_timeout: 1m, path"))  # fmt: skip
    bridge = BridgeProcess(config).start()
    processes.append(bridge)
    assert _webhook(bridge).status_code == 202
    bridge.signal(signal.SIGTERM)
    time.sleep(1.0)  # flushing towards a backend that is down, for up to a minute
    assert bridge.process is not None and bridge.process.poll() is None
    started = time.monotonic()
    bridge.signal(signal.SIGTERM)
    assert bridge.wait(5) == 128 + signal.SIGTERM and time.monotonic() - started < 5
    assert "second signal: exiting now" in bridge.log.read_text()
    with OtlpSink(grpc_port, http_port) as revived:
        processes.append(BridgeProcess(config).start())
        # The flush at the next start is immediate: batch timeout is an hour, so wait for the shutdown path.
        processes[-1].signal(signal.SIGTERM)
        processes[-1].wait(20)
        assert len(revived.spans()) == RUN_SPANS

from __future__ import annotations

import asyncio
import gc
import logging
import logging.handlers
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx2 as httpx
from starlette.testclient import TestClient

from bridge import SWITCH_INTERVAL_S
from bridge.config.loader import parse_config
from bridge.http import server as server_module
from bridge.http.server import create_app
from bridge.queue.errors import QueueError
from tests.bridge_server import ThreadedServer
from tests.otlp_sink import OtlpSink


def _config_text(sink: OtlpSink) -> str:
    return (
        f'exporters: {{otlp: {{endpoint: "{sink.grpc_endpoint}", tls: {{insecure: true}}}}}}\n'
        "server: {store: ':memory:'}\n"
        "service: {queue: {path: ':memory:'}, pipelines: {traces: {exporters: [otlp]}}}\n"
    )


def test_health_and_readiness(otlp_sink: OtlpSink) -> None:
    app = create_app(parse_config(_config_text(otlp_sink)))
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {
            "status": "ready", "pipelines": ["traces"], "failing_exporters": [], "queued_bytes": 0,
            "max_bytes": 1 << 30,
        }  # fmt: skip
    response = TestClient(app).get("/readyz")  # no lifespan now: the service stopped with the one above
    assert response.status_code == 503 and response.json() == {"status": "stopping"}
    response = TestClient(create_app(parse_config(_config_text(otlp_sink)))).get("/readyz")  # never started
    assert response.status_code == 503 and response.json() == {"status": "starting"}


def test_what_start_up_made_is_frozen_out_of_the_collector_while_serving(otlp_sink: OtlpSink) -> None:
    app = create_app(parse_config(_config_text(otlp_sink)))
    with TestClient(app):
        assert gc.get_freeze_count() > 0  # full collections under load no longer rescan it
    assert gc.get_freeze_count() == 0  # given back at shutdown: a process may start servers again


def test_threads_take_turns_at_the_interpreter_more_often_while_serving(otlp_sink: OtlpSink) -> None:
    before = sys.getswitchinterval()
    with TestClient(create_app(parse_config(_config_text(otlp_sink)))):
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S < before
    assert sys.getswitchinterval() == before


def test_the_queue_forgets_run_ids_after_the_configured_retention(otlp_sink: OtlpSink) -> None:
    text = _config_text(otlp_sink).replace(
        "queue: {path: ':memory:'}", "queue: {path: ':memory:', run_id_retention: 2h}"
    )
    app = create_app(parse_config(text))
    with TestClient(app):
        assert app.state.service.storage.run_id_retention == 7200.0
    app = create_app(parse_config(_config_text(otlp_sink)))
    with TestClient(app):
        assert app.state.service.storage.run_id_retention == 86_400.0  # a day by default


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_starts_with_the_embedded_default_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{_free_port()}",  # nothing listens there
        "BRIDGE_STORE": str(tmp_path / "bridge.db"),
        "BRIDGE_QUEUE": str(tmp_path / "queue.db"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert response.json()["status"] == "ready"
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it.
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert process.stdout is not None
        assert "Application shutdown complete" in process.stdout.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def test_a_failing_exporter_is_listed_and_a_full_queue_makes_the_bridge_unready(otlp_sink: OtlpSink) -> None:
    from bridge.dify.model import WorkflowRun

    config = parse_config(
        f"exporters: {{otlphttp: {{endpoint: '{otlp_sink.http_base}',"
        f" retry_on_failure: {{initial_interval: 10ms}}}}}}\n"
        "processors: {batch: {timeout: 10ms}}\n"
        "server: {store: ':memory:'}\n"
        "service:\n"
        "  queue: {path: ':memory:', max_bytes: 2000}\n"
        "  pipelines: {traces: {processors: [batch], exporters: [otlphttp]}}\n"
    )
    with TestClient(create_app(config)) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        otlp_sink.fail_next(1000, http_status=503)  # down for now: runs wait in the queue
        service.submit_run(WorkflowRun(run_id="r1", status="succeeded"))
        _wait(lambda: otlp_sink.refused > 0)
        response = client.get("/readyz")
        assert response.status_code == 200 and response.json()["failing_exporters"] == ["otlphttp"]
        runs = 1
        while service.storage.queued_bytes < 2000:
            runs += 1
            service.submit_run(WorkflowRun(run_id=f"r{runs}", status="succeeded"))
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json()["status"] == "queue_full"
        otlp_sink.heal()
        assert service.flush(10)
        assert client.get("/readyz").json() == {
            "status": "ready", "pipelines": ["traces"], "failing_exporters": [], "queued_bytes": 0, "max_bytes": 2000,
        }  # fmt: skip
        assert len({s.trace_id for s in otlp_sink.spans()}) == runs


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_own_endpoints_carry_security_headers_and_no_cors_unless_configured(otlp_sink: OtlpSink) -> None:
    with TestClient(create_app(parse_config(_config_text(otlp_sink)))) as client:
        response = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        # README: a Content-Security-Policy "that allows nothing"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "strict-transport-security" not in response.headers  # plain HTTP here
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options(
            "/api/v1/auth/token",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers


def test_a_trailing_slash_is_a_json_404_not_a_redirect_to_the_host_header(otlp_sink: OtlpSink) -> None:
    """Found attacking the served bridge: `/metrics/` with `Host: evil.example` was a 307 to evil.example."""
    with TestClient(create_app(parse_config(_config_text(otlp_sink)))) as client:
        for path in ("/healthz/", "/metrics/", "/openapi.json/", "/v1/traces/"):
            response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
            assert response.status_code == 404, path
            assert response.json()["error"] == "not_found" and "location" not in response.headers


def test_cors_for_configured_origins_only(otlp_sink: OtlpSink) -> None:
    text = _config_text(otlp_sink).replace("server: {store: ':memory:'}", (
        "server: {store: ':memory:', cors_allowed_origins: ['https://grafana.example']}"))  # fmt: skip
    with TestClient(create_app(parse_config(text))) as client:
        ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        allowed = client.options("/api/v1/auth/token", headers={"Origin": "https://grafana.example", **ask})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://grafana.example"
        refused = client.options("/api/v1/auth/token", headers={"Origin": "https://evil.example", **ask})
        assert "access-control-allow-origin" not in refused.headers


def test_a_body_sent_too_slowly_gets_408(otlp_sink: OtlpSink) -> None:
    text = _config_text(otlp_sink).replace(
        "server: {store: ':memory:'}", "server: {store: ':memory:', body_timeout: 300ms}"
    )
    text = "receivers: {otlp: {require_api_key: false}}\n" + text.replace(
        "exporters: [otlp]", "receivers: [otlp], exporters: [otlp]"
    )
    with (
        ThreadedServer(create_app(parse_config(text))) as server,
        socket.create_connection(("127.0.0.1", server.port)) as sock,
    ):
        sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                     b"Content-Length: 100\r\n\r\n0123456789")  # fmt: skip
        started = time.monotonic()
        sock.settimeout(5)
        answer = sock.recv(4096).decode()
        assert time.monotonic() - started < 3
    assert answer.startswith("HTTP/1.1 408"), answer
    assert '"error":"body_timeout"' in answer.replace(" ", "")


def test_a_client_gone_mid_body_logs_no_error(otlp_sink: OtlpSink) -> None:
    """Attacked: each client closing its connection mid-body logged "Exception in ASGI application" and a
    traceback (starlette's ClientDisconnect, unhandled): a log any client could flood."""
    text = "receivers: {otlp: {require_api_key: false}}\n" + _config_text(otlp_sink).replace(
        "exporters: [otlp]", "receivers: [otlp], exporters: [otlp]"
    )
    handler = logging.handlers.BufferingHandler(capacity=10_000)  # keeps every record
    handler.setLevel(logging.ERROR)
    errors = handler.buffer
    server = ThreadedServer(create_app(parse_config(text)))  # configures uvicorn's loggers: the handler after it
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        with server:
            for path, kind in (("/v1/traces", "application/x-protobuf"), ("/api/v1/auth/token", "application/json")):
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: 100\r\n\r\n"
                    sock.sendall(head.encode() + b"0123456789")
                    time.sleep(0.2)
            assert httpx.get(f"{server.base}/healthz").status_code == 200  # the disconnects were handled meanwhile
            time.sleep(0.3)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert [record.getMessage() for record in errors] == []


def test_the_otlp_receiver_and_unknown_paths_carry_the_security_headers_too(otlp_sink: OtlpSink) -> None:
    """Found attacking the served bridge: `/v1/traces` (its 401, 415, 400) and 404s came without them."""
    with TestClient(create_app(parse_config(_config_text(otlp_sink)))) as client:
        answers = [
            client.post("/v1/traces", content=b"{}", headers={"Content-Type": "text/plain"}),
            client.post("/v1/traces", content=b"{", headers={"Content-Type": "application/json"}),
            client.get("/no/such/path"),
        ]
        for response in answers:
            assert response.status_code in (400, 401, 404, 415), response.text
            assert response.headers.get("x-content-type-options") == "nosniff", (response.url, response.headers)
            assert response.headers["cache-control"] == "no-store"


def test_a_queue_file_that_cannot_be_checkpointed_logs_one_line_and_the_spent_nonces_are_still_saved(
    caplog: Any, monkeypatch: Any
) -> None:
    """Disk full (harden13): the failed checkpoint logged a traceback every second and skipped writing the spent
    nonces, kept in another file that may well be writable: a restart would have taken their requests again."""
    monkeypatch.setattr(server_module, "FIRST_POLL_S", 0.0)
    saved: list[float] = []

    def full() -> None:
        raise QueueError("queue.db: checkpoint failed: database or disk is full")

    async def nothing(*_: object) -> None:
        return None

    service = SimpleNamespace(plan_poll=lambda earliest, latest: earliest, poll_async=nothing,
                              storage=SimpleNamespace(checkpoint=full))  # fmt: skip
    nonces = SimpleNamespace(flush=saved.append)
    baselines = SimpleNamespace(flush=lambda: None)

    async def poll_a_while() -> None:
        task = asyncio.create_task(server_module._poll(cast(Any, service), cast(Any, baselines), cast(Any, nonces),
                                                       asyncio.Event()))  # fmt: skip
        await asyncio.sleep(0.3)
        task.cancel()

    with caplog.at_level(logging.ERROR):
        asyncio.run(poll_a_while())
    assert saved, "the spent nonces were not written"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(r.exc_info is None for r in errors)
    assert "database or disk is full" in errors[0].getMessage()

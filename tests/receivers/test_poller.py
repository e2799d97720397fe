from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.config import parse_config
from tests.bridge_server import BridgeServer, ThreadedServer, bridge_config, bridge_config_text, dumps, signed_headers
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES

LOGS = json.loads((CAPTURES / "g_logs_simple.json").read_text())
RUN_IDS = [entry["workflow_run"]["id"] for entry in LOGS["data"]]
POLLER = "{interval: 100ms, settle: 0s, lookback: 100000000s}"


class FakeDifyLogs:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], str | None]] = []
        self.app = Starlette(routes=[Route("/v1/workflows/logs", self.logs)])

    async def logs(self, request: Request) -> JSONResponse:
        self.requests.append((dict(request.query_params), request.headers.get("authorization")))
        return JSONResponse(LOGS)


def _wait(predicate: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _run(tmp_path: Path, sink: OtlpSink, fake: FakeDifyLogs) -> Iterator[BridgeServer]:
    with (
        ThreadedServer(fake.app) as dify,
        BridgeServer(bridge_config(tmp_path, sink.grpc_endpoint, dify_url=dify.base, poller=POLLER)) as bridge,
    ):
        yield bridge


def test_polled_runs_become_workflow_level_traces_once(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    fake = FakeDifyLogs()
    for _ in _run(tmp_path, otlp_sink, fake):
        spans = otlp_sink.wait_for_spans(2)
        _wait(lambda: len(fake.requests) >= 3)  # several polls: nothing is exported twice
        assert len(otlp_sink.spans()) == 2
    assert sorted(s.trace_id for s in spans) == sorted(r.replace("-", "") for r in RUN_IDS)
    assert {s.attributes["dify.source"] for s in spans} == {"poller"}
    params, auth = fake.requests[0]
    assert auth == "Bearer app-poller-key"
    assert params["limit"] == "100" and params["created_at__after"].endswith("Z")
    # The cursor moved to the newest run and is kept in the store.
    later = fake.requests[-1][0]["created_at__after"]
    assert later == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(LOGS["data"][0]["workflow_run"]["created_at"]))
    otlp_sink.clear()
    fake_after_restart = FakeDifyLogs()
    for _ in _run(tmp_path, otlp_sink, fake_after_restart):
        _wait(lambda: len(fake_after_restart.requests) >= 2)
    assert fake_after_restart.requests[0][0]["created_at__after"] == later
    assert otlp_sink.spans() == []


def test_runs_delivered_by_another_receiver_are_not_polled_again(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    fake = FakeDifyLogs()
    with ThreadedServer(fake.app) as dify:
        config = bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify.base, poller=POLLER)
        with BridgeServer(config) as bridge:
            payload = {"workflow_run_id": RUN_IDS[0], "app_id": "app-under-test", "status": "succeeded", "nodes": [
                {"node_id": "start", "node_type": "start", "status": "succeeded"}]}  # fmt: skip
            body = dumps(payload)
            response = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body))
            assert response.status_code == 202
            _wait(lambda: len(fake.requests) >= 3)
    # Whichever came first, the webhook's richer run is taken and the poller does not add one after it.
    roots = [s for s in otlp_sink.spans() if s.parent_span_id is None and s.trace_id == RUN_IDS[0].replace("-", "")]
    assert [r.attributes["dify.source"] for r in roots] in (["webhook"], ["poller", "webhook"])


def test_a_failed_poll_is_logged_with_its_url_and_status(
    tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse(request: Request) -> JSONResponse:
        return JSONResponse({"code": "unauthorized"}, status_code=401)

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "bridge.receivers.poller"]

    with ThreadedServer(Starlette(routes=[Route("/v1/workflows/logs", refuse)])) as dify:
        config = bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify.base, poller=POLLER)
        with BridgeServer(config):
            _wait(lambda: bool(warnings()))
    prefix = f"poller: instance local-dify: GET {dify.base}/v1/workflows/logs?page=1&limit=100&created_at__after="
    assert warnings()[0].startswith(prefix) and warnings()[0].endswith(" answered 401 Unauthorized")
    assert "app-poller-key" not in caplog.text  # the request's key is never logged
    caplog.clear()
    # Nothing listening: the URL and the transport's error.
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url="http://127.0.0.1:9", poller=POLLER)):
        _wait(lambda: bool(warnings()))
    assert warnings()[0].startswith("poller: instance local-dify: GET http://127.0.0.1:9/v1/workflows/logs?page=1")
    assert ": ConnectError: " in warnings()[0]


def test_an_instance_the_outbound_policy_refuses_is_not_polled(
    tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeDifyLogs()
    with ThreadedServer(fake.app) as dify:
        # `localhost` passes at load (a name); resolved to 127.0.0.1 when the poller connects, it is refused.
        localhost = f"http://localhost:{dify.port}"
        text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, localhost, POLLER, local_dify=False)
        with BridgeServer(parse_config(text, "test.yaml")):
            _wait(lambda: "localhost resolves to 127.0.0.1 is a loopback address" in caplog.text)
    assert fake.requests == []

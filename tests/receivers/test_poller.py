from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.config.loader import parse_config
from bridge.receivers import poller
from tests.bridge_server import BridgeServer, ThreadedServer, bridge_config, bridge_config_text, dumps, signed_headers
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES

LOGS = json.loads((CAPTURES / "g_logs_simple.json").read_text())
DETAIL = json.loads((CAPTURES / "g_run_detail_simple.json").read_text())
RUN_IDS = [entry["workflow_run"]["id"] for entry in LOGS["data"]]
# Retried soon: the backend comes back within a test.
FAST_RETRY = "retry_on_failure: {initial_interval: 50ms, max_interval: 200ms}"
RECORDED = CAPTURES.parent / "dify-1.14.1-api"  # service-API answers of a real Dify 1.14.1 (README there)


def _recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


INFO, CHATFLOW_INFO = _recorded("info_simple.json"), _recorded("info_llm_chatflow.json")
SIMPLE = {"info": INFO, "logs": _recorded("logs_simple.json"), "detail": _recorded("run_detail_simple.json")}
SIMPLE_APP_ID = json.loads(SIMPLE["detail"]["inputs"])["sys.app_id"]
SIMPLE_RUN_IDS = [entry["workflow_run"]["id"] for entry in SIMPLE["logs"]["data"]]
CHATFLOW = {"info": CHATFLOW_INFO, "logs": _recorded("logs_llm_chatflow.json")}  # Dify lists no chatflow runs
STOPPABLE = {"info": INFO, "logs": _recorded("logs_stoppable.json"),
             "detail": _recorded("run_detail_succeeded_stoppable.json")}  # fmt: skip
POLLER = "{interval: 100ms, settle: 0s, lookback: 100000000s}"


class FakeDifyLogs:
    """Dify's service API as the poller asks it, answering each app key with its app's recorded answers."""

    def __init__(self, apps: dict[str, dict[str, Any]] | None = None) -> None:
        # Without apps: the reference log page and run detail; no /v1/info (404), as before the poller asked it.
        self.apps = apps if apps is not None else {"app-poller-key": {"logs": LOGS, "detail": DETAIL}}
        self.requests: list[tuple[dict[str, str], str | None]] = []  # the log pages asked for, with their key
        self.asked: list[tuple[str, str]] = []  # every request: path, key
        self.app = Starlette(routes=[Route("/v1/workflows/logs", self.answer), Route("/v1/info", self.answer),
                                     Route("/v1/workflows/run/{run_id}", self.answer)])  # fmt: skip

    async def answer(self, request: Request) -> JSONResponse:
        auth = request.headers.get("authorization")
        key = (auth or "").removeprefix("Bearer ")
        self.asked.append((request.url.path, key))
        if request.url.path == "/v1/workflows/logs":
            self.requests.append((dict(request.query_params), auth))
        app = self.apps.get(key)
        if app is None:
            return JSONResponse({"code": "unauthorized", "message": "Access token is invalid", "status": 401}, 401)
        what = {"/v1/workflows/logs": "logs", "/v1/info": "info"}.get(request.url.path, "detail")
        if what not in app:
            return JSONResponse({"code": "not_found", "message": "Not Found", "status": 404}, 404)
        return JSONResponse(app[what])


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


def test_polled_runs_become_workflow_level_traces_once(
    tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bridge.receivers.poller")
    fake = FakeDifyLogs()
    for _ in _run(tmp_path, otlp_sink, fake):
        spans = otlp_sink.wait_for_spans(2)
        _wait(lambda: len(fake.requests) >= 3)  # several polls: nothing is exported twice
        assert len(otlp_sink.spans()) == 2
    # getting-runs-in.md §4: each poll is one DEBUG line
    polls = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and "pages read" in r.getMessage()]
    assert polls[0] == "poller: instance local-dify: 1 pages read, 2 runs exported", polls
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


@pytest.mark.parametrize("registered", [False, True])
def test_polled_runs_are_named_and_tagged_with_their_app_and_instance(
    tmp_path: Path, otlp_sink: OtlpSink, registered: bool
) -> None:
    fake = FakeDifyLogs({"app-poller-key": SIMPLE})
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, poller=POLLER)
    if registered:  # the app, under Dify's id, is registered for its webhooks: its name, as on every way in
        text = text.replace("app_id: app-other,", f"app_id: {SIMPLE_APP_ID},")
    with (
        ThreadedServer(fake.app) as dify,
        BridgeServer(parse_config(text.replace("http://127.0.0.1:9", dify.base), "t")),
    ):
        spans = otlp_sink.wait_for_spans(2)
        _wait(lambda: len(fake.requests) >= 3)
    assert sorted(s.trace_id for s in spans) == sorted(r.replace("-", "") for r in SIMPLE_RUN_IDS)
    # The instance's key names no app: Dify's /v1/info names it, a run's inputs give its id (asked once each).
    name = "Other" if registered else INFO["name"]
    assert {s.name for s in spans} == {f"invoke_workflow {name}"}
    tags = ("dify.app.name", "dify.app.type", "dify.app.id", "dify.instance.name")
    assert {tuple(s.attributes[tag] for tag in tags) for s in spans} == {
        (name, "workflow", SIMPLE_APP_ID, "local-dify")
    }
    assert [path for path, _ in fake.asked].count("/v1/info") == 1
    assert len([path for path, _ in fake.asked if path.startswith("/v1/workflows/run/")]) == 1


def _apps_config(tmp_path: Path, sink: OtlpSink, dify_url: str, poller: str = POLLER) -> str:
    """One instance without a key of its own; two registered apps, each with its own key."""
    text = bridge_config_text(tmp_path, sink.grpc_endpoint, dify_url=dify_url, poller=poller)
    text = text.replace(', api_key: "app-poller-key"', "")
    text = text.replace("app_name: Support Bot,", "app_name: Support Bot, api_key: app-workflow-key,")
    return text.replace("app_name: Other,", "app_name: Other, app_type: advanced-chat, api_key: app-chat-key,")


def test_each_app_is_polled_with_its_own_key_and_a_chatflow_is_said_once_not_polled(
    tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    # Recorded from Dify 1.14.1: a chatflow's log is empty, and its messages name no run.
    assert CHATFLOW["logs"]["data"] == [] and CHATFLOW["info"]["mode"] == "advanced-chat"
    assert [m for m in _recorded("messages_chatflow.json")["data"] if "workflow_run_id" in m] == []
    fake = FakeDifyLogs({"app-workflow-key": SIMPLE, "app-chat-key": CHATFLOW})
    caplog.set_level(logging.DEBUG)  # as `serve --log-level DEBUG`
    with ThreadedServer(fake.app) as dify:
        config = parse_config(_apps_config(tmp_path, otlp_sink, dify.base), "test.yaml")
        with BridgeServer(config) as bridge:
            spans = otlp_sink.wait_for_spans(2)
            _wait(lambda: len(fake.requests) >= 3)
            token = bridge.token()
            registered = httpx.get(f"{bridge.base}/api/v1/dify/apps", headers={"Authorization": f"Bearer {token}"})
    # The registration names the app (its name wins over Dify's) and gives its id: no run detail asked.
    assert {(s.name, s.attributes["dify.app.id"], s.attributes["dify.app.type"]) for s in spans} == {
        ("invoke_workflow Support Bot", "app-under-test", "workflow")}  # fmt: skip
    assert not any(path.startswith("/v1/workflows/run/") for path, _ in fake.asked)
    # The chatflow's key asked /v1/info, never the log it cannot see, and said why once, at WARNING.
    assert {key for path, key in fake.asked if path == "/v1/workflows/logs"} == {"app-workflow-key"}
    assert ("/v1/info", "app-chat-key") in fake.asked
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "advanced-chat" in r.getMessage()]
    assert len(warnings) == 1 and "otlp receiver" in warnings[0].getMessage()
    # Polls are DEBUG lines, never INFO; the HTTP client adds none (its transport logged 16 lines a request).
    assert any(r.levelno == logging.DEBUG and "runs exported" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.name.startswith(("httpx2", "httpcore2")) and r.levelno < logging.WARNING]
    assert not [r for r in caplog.records if r.name == "bridge.receivers.poller" and r.levelno == logging.INFO]
    assert {(a["app_id"], a["has_api_key"]) for a in registered.json()} == {
        ("app-under-test", True),
        ("app-other", True),
    }


@pytest.mark.parametrize("timeout", ["0s", "1s"])
def test_a_run_left_running_is_waited_for_until_unfinished_timeout_then_exported_incomplete(
    tmp_path: Path, otlp_sink: OtlpSink, timeout: str
) -> None:
    # Recorded: two runs stopped between nodes, which Dify 1.14.1 leaves `running` with no finished_at.
    runs = [entry["workflow_run"] for entry in STOPPABLE["logs"]["data"]]
    left_running = [run for run in runs if run["status"] == "running"]
    assert len(left_running) == 2 and {run["finished_at"] for run in left_running} == {None}
    fake = FakeDifyLogs({"app-poller-key": STOPPABLE})
    poller = POLLER.replace("}", f", unfinished_timeout: {timeout}}}")
    with (
        ThreadedServer(fake.app) as dify,
        BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify.base, poller=poller)),
    ):
        otlp_sink.wait_for_spans(len(runs) - (2 if timeout == "0s" else 0))
        _wait(lambda: len(fake.requests) >= 3)  # several polls: nothing is exported twice
        spans = otlp_sink.spans()
    status = {s.trace_id: s.attributes["dify.run.status"] for s in spans}
    cursors = {params["created_at__after"] for params, _ in fake.requests[1:]}
    if timeout == "0s":  # waited for: never exported, and every poll starts before the oldest again
        assert status == {r["id"].replace("-", ""): r["status"] for r in runs if r["status"] != "running"}
        oldest = min(run["created_at"] for run in left_running)
        assert cursors == {time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(oldest - 1))}
    else:  # running longer than the timeout: exported as incomplete, and the cursor moves past them
        assert status == {r["id"].replace("-", ""): r["status"].replace("running", "incomplete") for r in runs}
        newest = max(run["created_at"] for run in runs)
        assert cursors == {time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest))}


def test_a_richer_copy_replaces_the_polled_one_while_the_backend_is_down(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    fake = FakeDifyLogs({"app-poller-key": SIMPLE})
    otlp_sink.fail_next(10_000)  # the backend is down: the poller's copies wait in the queue
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, poller=POLLER, exporter=FAST_RETRY)
    with (
        ThreadedServer(fake.app) as dify,
        BridgeServer(parse_config(text.replace("http://127.0.0.1:9", dify.base), "t")) as bridge,
    ):
        _wait(lambda: len(fake.requests) >= 2)  # both runs polled and queued
        run_id = SIMPLE_RUN_IDS[0]
        payload = {"workflow_run_id": run_id, "app_id": "app-under-test", "status": "succeeded", "nodes": [
            {"node_id": "start", "node_type": "start", "status": "succeeded"}]}  # fmt: skip
        body = dumps(payload)
        response = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body))
        assert response.status_code == 202
        otlp_sink.heal()
        spans = otlp_sink.wait_for_spans(3)
        _wait(lambda: len(fake.requests) >= 4)
    roots = sorted((s.trace_id, s.attributes["dify.source"]) for s in otlp_sink.spans() if s.parent_span_id is None)
    # One root per run: the webhook's copy (with its node) took the polled copy's place; the other run is polled.
    assert roots == sorted([(run_id.replace("-", ""), "webhook"), (SIMPLE_RUN_IDS[1].replace("-", ""), "poller")])
    assert len(spans) == 3


def test_recorded_run_details_carry_the_app_id_and_a_workflow_apps_start() -> None:
    """What the poller and the in-Dify webhook recipe read from Dify 1.14.1's run details (recorded)."""
    workflow = json.loads(_recorded("run_detail_simple.json")["inputs"])
    chatflow = json.loads(_recorded("run_detail_chatflow.json")["inputs"])
    assert workflow["sys.app_id"] and chatflow["sys.app_id"]
    assert "sys.timestamp" in workflow and "sys.timestamp" not in chatflow


def test_an_app_id_dify_does_not_give_is_asked_once_a_poll_not_once_a_run(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    fake = FakeDifyLogs({"app-poller-key": {"info": INFO, "logs": SIMPLE["logs"]}})  # run details: 404
    for _ in _run(tmp_path, otlp_sink, fake):
        spans = otlp_sink.wait_for_spans(2)
        _wait(lambda: len(fake.requests) >= 3)
    assert {s.name for s in spans} == {f"invoke_workflow {INFO['name']}"}
    assert not any("dify.app.id" in s.attributes for s in spans)
    assert len([path for path, _ in fake.asked if path.startswith("/v1/workflows/run/")]) == 1


def test_a_failed_poll_is_logged_with_its_url_and_status(
    tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse(request: Request) -> JSONResponse:
        return JSONResponse({"code": "unauthorized"}, status_code=401)

    def warnings() -> list[str]:  # of the log polls (the app's name, asked first at /v1/info, fails too)
        return [
            r.getMessage() for r in caplog.records if r.name == "bridge.receivers.poller" and "logs?" in r.getMessage()
        ]

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


def test_a_redirect_is_not_followed(tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture) -> None:
    # README: "neither the proxy nor the poller follows redirects".
    asked: list[str] = []

    async def moved(request: Request) -> Response:
        asked.append(request.url.path)
        return Response(status_code=302, headers={"location": "/v1/elsewhere"})

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if "logs?" in r.getMessage() and "302" in r.getMessage()]

    routes = [Route("/v1/workflows/logs", moved), Route("/v1/elsewhere", moved)]
    with ThreadedServer(Starlette(routes=routes)) as dify:
        config = bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify.base, poller=POLLER)
        with BridgeServer(config):
            _wait(lambda: bool(warnings()))
    assert "/v1/workflows/logs" in asked and "/v1/elsewhere" not in asked


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


def test_a_key_httpx_cannot_send_is_not_repeated_in_the_failure_logged() -> None:
    """harden14: an older bridge's store may hold a Dify API key with a line break (registration refuses it now);
    httpx's refusal named the header, key and all, and the poller logged it at every poll."""
    request = httpx.Request("GET", "https://dify.example/v1/info")
    refused = httpx.LocalProtocolError("Illegal header value b'Bearer app-SECRET\\r\\n'", request=request)
    said = poller._failure(refused)
    assert "SECRET" not in said and said.startswith("GET https://dify.example/v1/info: a request header")

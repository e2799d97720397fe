from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from bridge.config.loader import parse_config
from bridge.receivers import proxy
from tests.bridge_server import API_KEY, BridgeServer, ThreadedServer, bridge_config, bridge_config_text, free_port
from tests.fake_dify import (
    BLOCKING,
    CHAT_BLOCKING,
    DIFY_KEY,
    GARBAGE,
    LLM_CHAT_BLOCKING,
    RECORDED,
    STREAM,
    STREAM_WITH_A_BAD_EVENT,
    STREAM_WITH_A_BAD_ID,
    FakeDify,
)
from tests.otlp_sink import OtlpSink


@pytest.fixture
def dify() -> Iterator[tuple[FakeDify, ThreadedServer]]:
    fake = FakeDify()
    with ThreadedServer(fake.app, server_header=False) as server:  # the headers it sends are Dify's
        yield fake, server


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]) -> Iterator[BridgeServer]:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify[1].base)) as server:
        yield server


def test_streaming_run_reaches_the_client_byte_for_byte_and_the_backend_as_a_trace(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer], otlp_sink: OtlpSink
) -> None:
    request = {"inputs": {}, "response_mode": "streaming", "user": "u"}
    received = b""
    with httpx.stream("POST", f"{bridge.base}/local-dify/v1/workflows/run", json=request,
                      headers={"Authorization": DIFY_KEY}) as response:  # fmt: skip
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_raw():
            received += chunk
    assert received == STREAM
    fake, _ = dify
    assert fake.seen[0][:3] == ("POST", "/v1/workflows/run", DIFY_KEY)
    assert json.loads(fake.seen[0][3]) == request
    spans = otlp_sink.wait_for_spans(16)
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert root.attributes["dify.source"] == "proxy" and root.trace_id == "d8318146ae3949f1b401b92167ffe5c9"
    assert len(spans) == 16


def test_blocking_run_is_traced_at_workflow_level(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    response = httpx.post(f"{bridge.base}/local-dify/v1/workflows/run", json={"response_mode": "blocking"},
                          headers={"Authorization": DIFY_KEY})  # fmt: skip
    assert response.content == BLOCKING
    (span,) = otlp_sink.wait_for_spans(1)
    assert span.trace_id == "85a5f13cf3544c3d864cec5dcc461bb6" and span.attributes["dify.source"] == "proxy"


@pytest.mark.parametrize(("query", "recorded"), [("second", CHAT_BLOCKING), ("llm", LLM_CHAT_BLOCKING)])
def test_blocking_chat_answer_is_traced_under_its_message_id(
    bridge: BridgeServer, otlp_sink: OtlpSink, query: str, recorded: bytes
) -> None:
    request = {"inputs": {}, "query": query, "response_mode": "blocking", "user": "u"}
    url, headers = f"{bridge.base}/local-dify/v1/chat-messages", {"Authorization": DIFY_KEY}
    response = httpx.post(url, json=request, headers=headers)
    assert response.content == recorded
    answer = json.loads(recorded)
    (span,) = otlp_sink.wait_for_spans(1)
    # Dify's answer names no run: the message id makes the trace id, and every id it carries is on the root.
    assert span.trace_id == answer["message_id"].replace("-", "") and span.parent_span_id is None
    assert {key: span.attributes[key] for key in ("dify.message.id", "gen_ai.conversation.id", "dify.task.id",
                                                   "dify.app.type", "dify.run.status", "dify.source")} == {
        "dify.message.id": answer["message_id"], "gen_ai.conversation.id": answer["conversation_id"],
        "dify.task.id": answer["task_id"], "dify.app.type": "advanced-chat", "dify.run.status": "succeeded",
        "dify.source": "proxy"}  # fmt: skip
    assert json.loads(span.attributes["output.value"]) == {"answer": answer["answer"]}
    usage = answer["metadata"]["usage"]  # the message's: the model's tokens and price
    assert span.attributes["dify.price.currency"] == "USD"
    assert span.attributes["dify.message.total_tokens"] == usage["total_tokens"]
    if usage["prompt_tokens"]:
        assert span.attributes["gen_ai.usage.input_tokens"] == usage["prompt_tokens"]
        assert span.attributes["dify.price.total"] == float(usage["total_price"])
    assert span.end_ns > span.start_ns  # the call's duration, as the proxy measured it


def test_other_calls_pass_through_untouched(bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer]) -> None:
    response = httpx.get(f"{bridge.base}/local-dify/v1/parameters?user=u&x=1", headers={"Authorization": DIFY_KEY})
    assert response.json() == {"user_input_form": []} and response.headers["x-dify"] == "yes"
    assert "x-frame-options" not in response.headers  # Dify's headers, not the bridge's own
    assert dify[0].seen[-1] == ("GET", "/v1/parameters", DIFY_KEY, b"user=u&x=1")


def test_an_instance_registered_over_the_api_is_proxied_under_its_name(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    # getting-runs-in.md §2: `<instance>` is a declared instance's name or one registered with the API.
    token = {"Authorization": f"Bearer {bridge.token()}"}
    registered = httpx.post(f"{bridge.base}/api/v1/dify/instances", headers=token,
                            json={"name": "api-dify", "base_url": dify[1].base})  # fmt: skip
    assert registered.status_code == 201, registered.text
    response = httpx.get(f"{bridge.base}/api-dify/v1/parameters", headers={"Authorization": DIFY_KEY})
    assert response.json() == {"user_input_form": []}
    assert dify[0].seen[-1][:3] == ("GET", "/v1/parameters", DIFY_KEY)


def test_a_redirect_from_dify_goes_back_to_the_client_unfollowed(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    # README: "neither the proxy nor the poller follows redirects" (a redirect could lead past the outbound policy).
    response = httpx.get(f"{bridge.base}/local-dify/v1/moved", headers={"Authorization": DIFY_KEY})
    assert (response.status_code, response.headers["location"]) == (302, "/v1/parameters")
    assert [path for _, path, _, _ in dify[0].seen] == ["/v1/moved"]


def test_a_proxy_named_in_the_environment_is_not_used(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # security.md: HTTP_PROXY / HTTPS_PROXY are not used (the outbound policy would check the forward proxy's
    # address, not Dify's). Nothing listens on port 9: a call sent through it would fail.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify[1].base)) as bridge:
        url = f"{bridge.base}/local-dify/v1/parameters"
        response = httpx.get(url, headers={"Authorization": DIFY_KEY}, trust_env=False)
    assert response.status_code == 200 and response.json() == {"user_input_form": []}


def test_unknown_instance_and_unreachable_instance(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dead)) as bridge:
        missing = httpx.post(f"{bridge.base}/nope/v1/workflows/run", json={})
        assert missing.status_code == 404 and missing.json()["error"] == "unknown_instance"
        down = httpx.post(f"{bridge.base}/local-dify/v1/workflows/run", json={})
        assert down.status_code == 502 and down.json()["error"] == "upstream_unreachable"
        # The management API is not shadowed by the proxy's catch-all route.
        assert httpx.get(f"{bridge.base}/api/v1/dify/apps").json()["error"] == "missing_token"
        # A management path or method the API has not was "no instance named 'api'".
        wrong = httpx.patch(f"{bridge.base}/api/v1/dify/apps")
        detail = "no endpoint PATCH /api/v1/dify/apps (GET /openapi.json lists them)"
        assert (wrong.status_code, wrong.json()) == (404, {"error": "not_found", "detail": detail})


def test_a_stream_the_bridge_cannot_read_still_reaches_the_client_whole(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    response = httpx.post(f"{bridge.base}/local-dify/v1/workflows/run", json={"response_mode": "garbage"})
    assert response.status_code == 200 and response.content == GARBAGE
    assert httpx.get(f"{bridge.base}/readyz").status_code == 200


def test_a_blocking_answer_the_bridge_cannot_read_reaches_the_client_and_is_logged_not_traced(
    bridge: BridgeServer, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    # getting-runs-in.md §2: "an answer the proxy cannot read is logged at WARNING (`not traced`)".
    request = {"inputs": {}, "response_mode": "blocking_unreadable", "user": "u"}
    url = f"{bridge.base}/local-dify/v1/workflows/run"
    response = httpx.post(url, json=request, headers={"Authorization": DIFY_KEY})
    assert response.status_code == 200 and response.content == b'{"result": "not a run"}'
    deadline = time.monotonic() + 10
    while not any("not traced" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records):
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    assert otlp_sink.spans() == []


def test_an_event_the_bridge_refuses_is_left_out_and_the_rest_of_the_stream_is_traced(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    url = f"{bridge.base}/local-dify/v1/workflows/run"
    response = httpx.post(url, json={"response_mode": "bad_event"}, headers={"Authorization": DIFY_KEY})
    assert response.status_code == 200 and response.content == STREAM_WITH_A_BAD_EVENT
    spans = otlp_sink.wait_for_spans(16)
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert len(spans) == 16 and root.attributes["dify.run.status"] == "succeeded"


def test_an_event_naming_an_id_that_is_no_id_is_left_out_naming_the_field(
    bridge: BridgeServer, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{bridge.base}/local-dify/v1/workflows/run"
    response = httpx.post(url, json={"response_mode": "bad_id"}, headers={"Authorization": DIFY_KEY})
    assert response.status_code == 200 and response.content == STREAM_WITH_A_BAD_ID  # the client's answer as sent
    spans = otlp_sink.wait_for_spans(16)
    assert len(spans) == 16 and not any("forged" in str(s.attributes) for s in spans)
    assert "data.node_id: must be printable characters only, found U+000A at position 1" in caplog.text


def test_configured_prefix(tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]) -> None:
    config = parse_config(
        f"receivers: {{proxy: {{prefix: /dify}}}}\nexporters: {{otlp: {{endpoint: '{otlp_sink.grpc_endpoint}'}}}}\n"
        f"server: {{store: ':memory:', instances: [{{name: main, base_url: '{dify[1].base}'}}],\n"
        "  outbound: {allowed_networks: [127.0.0.1/32]}}\n"
        "service: {pipelines: {traces: {receivers: [proxy], exporters: [otlp]}}}\n"
    )
    with BridgeServer(config) as bridge:
        response = httpx.get(f"{bridge.base}/dify/main/v1/parameters", headers={"Authorization": DIFY_KEY})
        assert response.json() == {"user_input_form": []}
        assert httpx.get(f"{bridge.base}/main/v1/parameters").status_code == 404


@pytest.mark.parametrize("path", ["/local-dify/v1/../../console/api/apps", "/local-dify/v1/%2e%2e/%2E%2E/console",
                                  "/local-dify/v1/./parameters", "/local-dify/v1/x/..%5C..%5Cconsole"])  # fmt: skip
def test_dot_segments_never_leave_the_service_api(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer], path: str
) -> None:
    host, port = bridge.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)  # sends the path as written
    connection.request("GET", path, headers={"Authorization": DIFY_KEY})
    response = connection.getresponse()
    assert response.status == 400 and json.loads(response.read())["error"] == "invalid_path"
    connection.close()
    assert dify[0].seen == []


def _proxy_bridge(tmp_path: Path, otlp_sink: OtlpSink, dify_url: str, proxy: str) -> BridgeServer:
    """The test bridge with these proxy settings (YAML flow mapping)."""
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify_url).replace("proxy: {}", proxy)
    return BridgeServer(parse_config(text, "test.yaml"))


def _slow_upload(base: str, source: str = "127.0.0.1") -> socket.socket:
    """An upload announcing 1 MB and sending 1 byte: the attack of issue 24."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))
    sock.sendall(b"POST /local-dify/v1/files/upload HTTP/1.1\r\nHost: bridge\r\nAuthorization: " + DIFY_KEY.encode()
                 + b"\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\nx")  # fmt: skip
    return sock


def _status(sock: socket.socket, timeout: float) -> int | None:
    """The status of the answer on `sock`, or None when none came within `timeout`."""
    sock.settimeout(timeout)
    try:
        head = sock.recv(64)
    except TimeoutError:
        return None
    return int(head.split(b" ")[1])


def _client_from(address: str) -> httpx.Client:
    """A client whose connections come from another loopback address (another client to the bridge)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_slow_uploads_from_one_address_do_not_stall_the_proxy_for_others(bridge: BridgeServer) -> None:
    slow = [_slow_upload(bridge.base) for _ in range(100)]
    try:
        started = time.monotonic()
        with _client_from("127.0.0.2") as other:
            response = other.get(f"{bridge.base}/local-dify/v1/parameters", headers={"Authorization": DIFY_KEY})
        # Before the fix it never answered while they stayed (every connection to Dify held by a slow upload).
        assert response.status_code == 200 and time.monotonic() - started < 5
        # The first 32 (max_requests_per_client) wait for their bodies; the address's others are refused at once.
        statuses: dict[int, int | None] = {}
        deadline = time.monotonic() + 5
        while len(statuses) < 68 and time.monotonic() < deadline:
            statuses |= {i: status for i, sock in enumerate(slow) if i not in statuses
                         and (status := _status(sock, 0.001)) is not None}  # fmt: skip
        time.sleep(0.3)
        statuses |= {i: _status(sock, 0.001) for i, sock in enumerate(slow) if i not in statuses}
        assert list(statuses.values()).count(429) == 68 and list(statuses.values()).count(None) == 32
        attacker = httpx.get(f"{bridge.base}/local-dify/v1/parameters", headers={"Authorization": DIFY_KEY})
        assert attacker.status_code == 429 and attacker.json()["error"] == "too_many_requests"
        assert attacker.headers["retry-after"] == "1"
    finally:
        for sock in slow:
            sock.close()


def test_a_slow_body_holds_no_connection_to_dify_and_gets_408(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    settings = "proxy: {body_timeout: 1s, max_requests_per_client: 0, max_connections: 2}"
    with _proxy_bridge(tmp_path, otlp_sink, dify[1].base, settings) as bridge:
        slow = [_slow_upload(bridge.base, f"127.0.0.{n}") for n in range(2, 12)]
        try:
            # Two connections to Dify for everyone: only bodies already in take one.
            started = time.monotonic()
            response = httpx.get(f"{bridge.base}/local-dify/v1/parameters", headers={"Authorization": DIFY_KEY})
            assert response.status_code == 200 and time.monotonic() - started < 3
            assert [_status(sock, 5) for sock in slow] == [408] * 10
        finally:
            for sock in slow:
                sock.close()
        # Bodies beyond buffer_body_bytes stream on, whole.
        upload = os.urandom(3 * 1024 * 1024)
        answer = httpx.post(f"{bridge.base}/local-dify/v1/files/upload", content=upload, timeout=10)
        assert answer.json() == {"size": len(upload), "sha256": hashlib.sha256(upload).hexdigest()}


@pytest.mark.parametrize(
    ("settings", "status", "error"),
    [
        ("{max_connections: 1, pool_timeout: 200ms, max_requests_per_client: 0}", 503, "upstream_busy"),
        ("{max_requests_per_instance: 1, max_requests_per_client: 0}", 503, "instance_busy"),
        ("{max_requests_per_client: 1}", 429, "too_many_requests"),
    ],
)
def test_a_request_beyond_a_cap_is_refused_at_once(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer], settings: str, status: int,
    error: str,
) -> None:  # fmt: skip
    with _proxy_bridge(tmp_path, otlp_sink, dify[1].base, f"proxy: {settings}") as bridge:
        with ThreadPoolExecutor(1) as pool:
            busy = pool.submit(httpx.get, f"{bridge.base}/local-dify/v1/slow?seconds=3", timeout=10)
            deadline = time.monotonic() + 5
            while not dify[0].seen:  # the slow call is at Dify: its slot and connection are taken
                assert time.monotonic() < deadline
                time.sleep(0.01)
            started = time.monotonic()
            refused = httpx.get(f"{bridge.base}/local-dify/v1/parameters")
            assert (refused.status_code, refused.json()["error"]) == (status, error)
            # At once: not after the busy call's answer (3 s).
            assert refused.headers["retry-after"] == "1" and time.monotonic() - started < 2
            assert busy.result().status_code == 200
        assert httpx.get(f"{bridge.base}/local-dify/v1/parameters").status_code == 200  # the slots came back


def test_dify_silent_beyond_read_timeout_gets_504(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    with _proxy_bridge(tmp_path, otlp_sink, dify[1].base, "proxy: {read_timeout: 300ms}") as bridge:
        response = httpx.get(f"{bridge.base}/local-dify/v1/slow?seconds=2")
        assert response.status_code == 504 and response.json()["error"] == "upstream_timeout"


def test_the_bridges_credentials_cookies_and_forwarding_claims_do_not_reach_dify(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    sent = {"Authorization": DIFY_KEY, "X-Pisama-API-Key": API_KEY, "X-Pisama-Signature": "sha256=00",
            "Cookie": "bridge_session=1", "X-Forwarded-For": "10.0.0.1", "X-Forwarded-Host": "admin.internal",
            "Forwarded": "for=10.0.0.1", "X-Real-IP": "10.0.0.1", "X-Request-Id": "kept"}  # fmt: skip
    assert httpx.get(f"{bridge.base}/local-dify/v1/parameters", headers=sent).status_code == 200
    seen = dify[0].headers[-1]
    assert seen["authorization"] == DIFY_KEY and seen["x-request-id"] == "kept"
    dropped = {"cookie", "forwarded", "x-real-ip"}
    assert [name for name in seen if name in dropped or name.startswith(("x-pisama-", "x-forwarded-"))] == []


def test_headers_connection_names_are_this_hops_alone(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    """Found attacking the served bridge: `Connection: close, X-Secret` forwarded X-Secret to Dify."""
    sent = {"Connection": "keep-alive, X-Secret", "X-Secret": "s", "X-Request-Id": "kept"}
    response = httpx.get(f"{bridge.base}/local-dify/v1/parameters", headers=sent)
    assert response.status_code == 200 and "x-hop" not in response.headers  # Dify's own hop's, likewise
    seen = dify[0].headers[-1]
    assert "x-secret" not in seen and seen["x-request-id"] == "kept"


def test_a_header_value_in_utf8_reaches_dify_as_sent(
    bridge: BridgeServer, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    """Found attacking the served bridge: httpx encodes text header values as ASCII, so `X-User: José` was a 500."""
    response = httpx.get(f"{bridge.base}/local-dify/v1/parameters", headers={b"X-User": "José".encode()})
    assert response.status_code == 200, response.text
    assert dify[0].headers[-1]["x-user"].encode("latin-1") == "José".encode()


def test_a_cookie_dify_sets_goes_back_to_its_client_only(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    """Found attacking the served bridge: the proxy's HTTP client kept the cookies answers set and sent them with
    every later call, any client's, and to every instance on the same host (cookies ignore ports)."""
    other = FakeDify()
    with ThreadedServer(other.app) as other_server:
        text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, dify_url=dify[1].base)
        text = text.replace("instances: [", f'instances: [{{name: other-dify, base_url: "{other_server.base}"}}, ', 1)
        with BridgeServer(parse_config(text)) as bridge:
            first = httpx.get(f"{bridge.base}/local-dify/v1/parameters?client-a")
            # Both of Dify's cookies, as sent (a mapping had joined them with a comma: one broken cookie).
            cookies = ["session=client-a", "theme=dark; Expires=Wed, 09 Jun 2027 10:18:14 GMT"]
            assert first.headers.get_list("set-cookie") == cookies
            assert httpx.get(f"{bridge.base}/local-dify/v1/parameters?client-b").status_code == 200
            assert httpx.get(f"{bridge.base}/other-dify/v1/parameters?client-b").status_code == 200
    assert "cookie" not in dify[0].headers[-1] and "cookie" not in other.headers[-1]


@pytest.mark.parametrize(("name", "body"), [("simple_blocking", ".json"), ("code", ".sse")])
def test_real_dify_headers_come_back_as_dify_sent_them_with_one_date(
    bridge: BridgeServer, name: str, body: str
) -> None:
    recorded = (RECORDED / f"{name}.headers").read_text().splitlines()[1:]
    expected = [tuple(line.lower().split(": ", 1)) for line in recorded if not line.lower().startswith("date:")]
    host, port = bridge.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", f"/local-dify/v1/recorded/{name}", headers={"Authorization": DIFY_KEY})
    response = connection.getresponse()
    headers = [(name.lower(), value.lower()) for name, value in response.getheaders()]
    assert response.read() == (RECORDED / f"{name}{body}").read_bytes()
    connection.close()
    # Content-Length where Dify sent one (blocking), chunked where Dify chunked (streaming); one Date, ours.
    assert [h for h in headers if h[0] != "date"] == expected
    assert [h[0] for h in headers].count("date") == 1


def test_a_client_leaving_mid_answer_gives_its_slot_back(
    tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]
) -> None:
    with _proxy_bridge(tmp_path, otlp_sink, dify[1].base, "proxy: {max_requests_per_client: 1}") as bridge:
        for _ in range(3):
            with httpx.stream("GET", f"{bridge.base}/local-dify/v1/drip?seconds=10") as response:
                assert next(response.iter_raw()) == b"event: ping\n\n"  # then the client hangs up
            deadline = time.monotonic() + 2
            while (answer := httpx.get(f"{bridge.base}/local-dify/v1/parameters")).status_code == 429:
                assert time.monotonic() < deadline, "the slot was not given back"
                time.sleep(0.05)
            assert answer.status_code == 200


class _Submitted:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def submit(self, call: object) -> None:
        self.calls.append(call)

    def submit_events(self, *args: object) -> None:
        raise AssertionError("not called: the writer only records what it was given")


def test_a_streamed_event_that_never_ends_is_read_in_linear_time_and_bounded_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """harden14: each chunk of Dify's streamed answer copied and rescanned the whole unfinished event, on the event
    loop: 4 MB of one event in 4 KB chunks took 3.4 s of CPU, every other request waiting, and the event was held
    whole in memory however large it grew (max_tee_bytes bounded blocking answers only)."""
    chunk = b"x" * 4096
    roomy = proxy._Tee(_Submitted(), _Submitted(), "proxy", True, 64 << 20, time.time())  # type: ignore[arg-type]
    started = time.process_time()
    roomy.feed(b'data: {"event": "text_chunk", "data": {"text": "')
    for _ in range(4096):  # 16 MB: about 55 s of CPU before
        roomy.feed(chunk)
    assert time.process_time() - started < 3
    writer = _Submitted()
    tight = proxy._Tee(_Submitted(), writer, "proxy", True, 1 << 20, time.time())  # type: ignore[arg-type]
    tight.feed(b"data: {}\n\ndata: ")
    assert len(writer.calls) == 1  # the whole event before it is traced
    for _ in range(1024):
        tight.feed(chunk)
    assert len(tight.buffer) <= (1 << 20) and tight.overflow
    assert "passes max_tee_bytes (1048576)" in caplog.text


def test_a_client_leaving_mid_stream_cancels_dify_s_answer_and_its_run_is_still_traced(
    tmp_path: Path, otlp_sink: OtlpSink
) -> None:
    """harden14, held: the call to Dify ends with the client's, and what the stream carried so far is traced as an
    incomplete run once the run's idle timeout passes."""
    ended: list[float] = []
    run_id = "11111111-1111-1111-1111-111111111111"
    started_event = json.dumps({"event": "workflow_started", "task_id": "t1", "workflow_run_id": run_id,
                                "data": {"id": run_id, "workflow_id": "w", "created_at": 1700000000}})  # fmt: skip

    async def run(request: Request) -> StreamingResponse:
        async def answer() -> AsyncIterator[bytes]:
            try:
                yield f"event: message\ndata: {started_event}\n\n".encode()
                for _ in range(120):
                    await asyncio.sleep(0.25)
                    yield b"event: ping\n\n"
            finally:
                ended.append(time.monotonic())

        return StreamingResponse(answer(), media_type="text/event-stream")

    dify = Starlette(routes=[Route("/v1/workflows/run", run, methods=["POST"])])
    with ThreadedServer(dify) as stub, BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, stub.base)) as b:
        client = socket.create_connection(("127.0.0.1", b.port))
        body = b'{"inputs": {}, "response_mode": "streaming", "user": "u"}'
        head = "POST /local-dify/v1/workflows/run HTTP/1.1\r\nHost: bridge\r\nAuthorization: Bearer app-x\r\n"
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        client.sendall(head.encode() + body)
        client.settimeout(5)
        assert b"workflow_started" in client.recv(4096)
        client.close()
        left = time.monotonic()
        while not ended:
            assert time.monotonic() - left < 5, "Dify's answer was still read after the client left"
            time.sleep(0.05)
        (span,) = otlp_sink.wait_for_spans(1)
        assert span.attributes["dify.run.id"] == run_id and span.attributes["dify.run.status"] == "incomplete"


def test_a_client_that_stops_reading_is_cut_off_and_dify_s_answer_ends(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """harden14: a client that stopped reading a streamed answer held it, and its connection to Dify, for good:
    nothing timed out a write waiting on a full socket. Now the connection is aborted after the write deadline."""
    ended: list[float] = []

    async def run(request: Request) -> StreamingResponse:
        async def answer() -> AsyncIterator[bytes]:
            try:
                for _ in range(100_000):  # 6 GB if all of it were read
                    yield b"event: ping\ndata: " + b"x" * 65536 + b"\n\n"
                    await asyncio.sleep(0)
            finally:
                ended.append(time.monotonic())

        return StreamingResponse(answer(), media_type="text/event-stream")

    dify = Starlette(routes=[Route("/v1/workflows/run", run, methods=["POST"])])
    with ThreadedServer(dify) as stub:
        config = bridge_config(tmp_path, otlp_sink.grpc_endpoint, stub.base)
        with BridgeServer(config, write_seconds=1) as bridge:
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.connect(("127.0.0.1", bridge.port))
            body = b'{"inputs": {}, "response_mode": "streaming", "user": "u"}'
            head = "POST /local-dify/v1/workflows/run HTTP/1.1\r\nHost: bridge\r\nAuthorization: Bearer app-x\r\n"
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            client.sendall(head.encode() + body)
            deadline = time.monotonic() + 15
            while not ended:
                assert time.monotonic() < deadline, "a client that never reads still holds Dify's answer"
                time.sleep(0.1)
            client.close()

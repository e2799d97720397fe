"""The signed receivers' signature: the nonce is signed, required and single-use; malformed headers get 4xx."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.config.loader import parse_config
from bridge.receivers.signing import sign
from tests.bridge_server import API_KEY, APP_ID, APP_SECRET, BridgeServer, bridge_config_text, dumps, signed_headers
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES

WEBHOOK, STREAM = "/api/v1/dify/webhook", "/api/v1/dify/events"
PAYLOAD = {**json.loads((EXAMPLES / "webhook_full.json").read_text()), "app_id": APP_ID}


def _server(
    tmp_path: Path, sink: OtlpSink, server_extra: str = "", queue: str = "", idle_timeout: str = "2s"
) -> BridgeServer:
    text = bridge_config_text(tmp_path, sink.grpc_endpoint, queue=queue, idle_timeout=idle_timeout)
    if server_extra:
        text = text.replace("server:\n", f"server:\n  {server_extra}\n")
    return BridgeServer(parse_config(text))


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with _server(tmp_path, otlp_sink) as server:
        yield server


@pytest.fixture
def legacy_bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with _server(tmp_path, otlp_sink, "legacy_signatures: true") as server:
        yield server


def _post(bridge: BridgeServer, body: bytes, headers: dict[str, str], path: str = WEBHOOK) -> httpx.Response:
    return httpx.post(f"{bridge.base}{path}", content=body, headers=headers)


def _stream_headers(body: bytes) -> dict[str, str]:
    return {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}


def _pisama_headers(body: bytes, nonce: str | None = None) -> dict[str, str]:
    """Pisama's own scheme: the signature over "{timestamp}.{body}", the nonce (if any) not signed."""
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "X-Pisama-API-Key": API_KEY, "X-Pisama-Timestamp": str(ts),
               "X-Pisama-Signature": sign(APP_SECRET, ts, None, body)}  # fmt: skip
    return headers if nonce is None else {**headers, "X-Pisama-Nonce": nonce}


def test_a_captured_request_sent_again_is_refused_with_409(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = dumps(PAYLOAD)
    headers = signed_headers(body)
    assert _post(bridge, body, headers).status_code == 202
    again = _post(bridge, body, headers)
    assert again.status_code == 409 and again.json()["error"] == "replayed_request"
    assert len(otlp_sink.wait_for_spans(10)) == 10


@pytest.mark.parametrize("nonce", ["another-nonce-0123456789", None])
def test_a_captured_request_under_another_nonce_or_none_is_refused(bridge: BridgeServer, nonce: str | None) -> None:
    """The attack of issue 24.7: the nonce was not signed, so a replay simply changed it or left it out."""
    body = dumps(PAYLOAD)
    headers = signed_headers(body)
    assert _post(bridge, body, headers).status_code == 202
    forged = {k: v for k, v in headers.items() if k != "X-Pisama-Nonce"}
    if nonce is not None:
        forged["X-Pisama-Nonce"] = nonce
    refused = _post(bridge, body, forged)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == ("invalid_signature" if nonce else "invalid_nonce")


def test_stream_events_are_not_taken_twice(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = (CAPTURES / "a_simple_http.sse").read_bytes()
    headers = _stream_headers(body)
    assert _post(bridge, body, headers, STREAM).status_code == 202
    assert _post(bridge, body, headers, STREAM).status_code == 409
    forged = {**headers, "X-Pisama-Nonce": uuid.uuid4().hex}
    assert _post(bridge, body, forged, STREAM).status_code == 401


@pytest.mark.parametrize(
    ("nonce", "fragment"),
    [("short", "16 to 128"), ("has.a.dot.0123456789", "16 to 128"), ("x" * 129, "16 to 128"), ("", "16 to 128")],
)
def test_a_nonce_of_the_wrong_form_is_refused(bridge: BridgeServer, nonce: str, fragment: str) -> None:
    body = dumps(PAYLOAD)
    response = _post(bridge, body, signed_headers(body, nonce=nonce))
    assert response.status_code == 401 and response.json()["error"] == "invalid_nonce"
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize("timestamp", [b"--1", "²".encode("latin-1"), b"1" * 400, b"9" * 13, b"1e9", b"-"])
def test_malformed_timestamps_are_refused_not_crashed_on(bridge: BridgeServer, timestamp: bytes) -> None:
    """Issue 24.10: `--1`, `²` (a digit to `str.isdigit`) and 400 digits passed the old check and gave 500."""
    body = dumps(PAYLOAD)
    headers = {key.encode(): value.encode() for key, value in signed_headers(body).items()}
    headers[b"X-Pisama-Timestamp"] = timestamp
    response = httpx.post(f"{bridge.base}{WEBHOOK}", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_signature" and "Unix seconds" in response.json()["detail"]


def test_a_request_that_was_not_taken_may_come_again(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """Refused for a limit (429: "send it again later"), the nonce is given back: the same request is taken later.
    The run holding the only slot stays open until the test sends its end (a run that ended would close 100 ms
    later, and a loaded machine can take longer than that between two requests)."""
    first, second = (CAPTURES / "a_llm_simple.sse").read_bytes(), (CAPTURES / "a_simple_http.sse").read_bytes()
    end = first.index(b'data: {"event":"workflow_finished"')
    with _server(tmp_path, otlp_sink, queue="max_runs_in_flight: 1", idle_timeout="60s") as server:
        assert _post(server, first[:end], _stream_headers(first[:end]), STREAM).status_code == 202
        headers = _stream_headers(second)
        refused = _post(server, second, headers, STREAM)
        assert refused.status_code == 429, refused.text
        assert _post(server, first[end:], _stream_headers(first[end:]), STREAM).status_code == 202
        otlp_sink.wait_for_spans(4)  # the first run closed
        deadline = time.monotonic() + 10
        while (again := _post(server, second, headers, STREAM)).status_code == 429:
            assert time.monotonic() < deadline, again.text
            time.sleep(0.05)
        assert again.status_code == 202, again.text
        assert _post(server, second, headers, STREAM).status_code == 409


def test_legacy_signatures_are_refused_by_default(bridge: BridgeServer) -> None:
    body = dumps(PAYLOAD)
    response = _post(bridge, body, _pisama_headers(body, nonce=uuid.uuid4().hex))
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    assert _post(bridge, body, _pisama_headers(body)).json()["error"] == "invalid_nonce"


@pytest.mark.parametrize("nonce", [None, "n-1"])
def test_legacy_signatures_are_taken_once_when_allowed(legacy_bridge: BridgeServer, nonce: str | None) -> None:
    """The upgrade path: Pisama's scheme with `server.legacy_signatures`; its replays, under any nonce, are refused."""
    body = dumps(PAYLOAD)
    headers = _pisama_headers(body, nonce)
    assert _post(legacy_bridge, body, headers).status_code == 202
    for replay in (headers, {**headers, "X-Pisama-Nonce": uuid.uuid4().hex}, {**headers, "X-Pisama-Nonce": "x"}):
        refused = _post(legacy_bridge, body, replay)
        assert refused.status_code == 409 and refused.json()["error"] == "replayed_request"
    other = dumps({**PAYLOAD, "workflow_run_id": str(uuid.uuid4())})
    assert _post(legacy_bridge, other, signed_headers(other)).status_code == 202  # signed nonces work beside them


def test_two_stored_apps_holding_one_secret_are_refused_until_one_is_rotated(
    tmp_path: Path, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    # An older bridge stored them unchecked, and the config no longer declares them: start-up found nothing, and a
    # signature with that secret passed as either app's.
    from cryptography.fernet import Fernet

    from bridge.management.store import Store

    shared = "shared-secret-of-two-apps"
    store = Store(str(tmp_path / "bridge.db"), Fernet(("A" * 43 + "=").encode()))
    instance = store.add_instance("old-dify", "http://127.0.0.1:9", None)
    for app_id in ("old-a", "old-b"):
        store.add_app(instance.id, app_id, None, "workflow", shared, origin="api")
    store.close()
    with _server(tmp_path, otlp_sink) as server:
        assert "apps 'old-a' and 'old-b' hold one webhook secret" in caplog.text
        for app_id in ("old-a", "old-b"):
            body = dumps({**PAYLOAD, "app_id": app_id, "workflow_run_id": str(uuid.uuid4())})
            refused = _post(server, body, signed_headers(body, secret=shared))
            assert refused.status_code == 403 and refused.json()["error"] == "shared_webhook_secret", refused.text
            other = "old-b" if app_id == "old-a" else "old-a"
            assert f"also app {other!r}'s" in refused.json()["detail"] and shared not in refused.text
        auth = {"Authorization": f"Bearer {server.token()}"}
        apps = httpx.get(f"{server.base}/api/v1/dify/apps", headers=auth).json()
        (registration,) = [app["id"] for app in apps if app["app_id"] == "old-a"]
        rotated = httpx.post(f"{server.base}/api/v1/dify/apps/{registration}/rotate-secret", headers=auth)
        assert rotated.status_code == 200, rotated.text
        for app_id, secret in (("old-a", rotated.json()["webhook_secret"]), ("old-b", shared)):
            body = dumps({**PAYLOAD, "app_id": app_id, "workflow_run_id": str(uuid.uuid4())})
            assert _post(server, body, signed_headers(body, secret=secret)).status_code == 202


@pytest.mark.parametrize("path", [WEBHOOK, STREAM])
def test_a_request_without_a_key_is_refused_before_its_body_is_read(bridge: BridgeServer, path: str) -> None:
    # Declares 5 MB and sends 1 KB: the 401 must come at once, not after body_timeout with the body buffered.
    host, port = bridge.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
        conn.sendall(head.encode() + b"{" * 1000)
        started = time.monotonic()
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'"invalid_api_key"' in answer
    assert time.monotonic() - started < 4

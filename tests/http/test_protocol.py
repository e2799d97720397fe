"""The header deadline (issue 24 #9): slow header senders are cut off, everyone else is served as before."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.config.loader import parse_config
from tests.bridge_process import BridgeProcess
from tests.bridge_server import BridgeServer, bridge_config_text
from tests.otlp_sink import OtlpSink


def _config_text(tmp_path: Path, otlp_sink: OtlpSink) -> str:
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint)
    return text.replace("  live_heartbeat:", "  header_timeout: 1s\n  live_heartbeat:")


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with BridgeServer(parse_config(_config_text(tmp_path, otlp_sink), "test.yaml")) as server:
        yield server


def _connect(bridge: BridgeServer | BridgeProcess) -> socket.socket:
    host, port = bridge.base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _drip(sock: socket.socket, seconds: float) -> bytes:
    """Sends a header line every 0.2 s for up to `seconds`; what the server answered (b"" if nothing)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\n")
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"X-Slow: 1\r\n")
            return sock.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return b""
    return b""


def test_headers_sent_too_slowly_get_408_and_the_connection_closed(bridge: BridgeServer) -> None:
    socks = [_connect(bridge) for _ in range(20)]
    try:
        started = time.monotonic()
        answers = [_drip(sock, 4) for sock in socks[:1]]
        assert answers[0].startswith(b"HTTP/1.1 408 ")
        assert 0.9 < time.monotonic() - started < 4
        body = answers[0].split(b"\r\n\r\n", 1)[1]
        assert json.loads(body)["error"] == "header_timeout"
        # The other 19 sockets opened and said nothing: closed by the same deadline.
        time.sleep(0.5)
        for sock in socks[1:]:
            sock.settimeout(2)
            assert sock.recv(4096).startswith(b"HTTP/1.1 408 ")
            assert sock.recv(4096) == b""  # closed
    finally:
        for sock in socks:
            sock.close()


def test_kept_alive_connections_and_slow_answers_are_not_cut(bridge: BridgeServer) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            assert client.get(f"{bridge.base}/healthz").status_code == 200
            time.sleep(0.6)  # 1.8 s on one connection in all: past the deadline, but never while sending headers
    sock = _connect(bridge)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n")
    time.sleep(1.5)  # the headers were complete: no deadline runs while the connection waits
    sock.settimeout(2)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    sock.close()


def test_serve_has_the_header_deadline(tmp_path: Path, otlp_sink: OtlpSink, processes: list[BridgeProcess]) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(_config_text(tmp_path, otlp_sink))
    bridge = BridgeProcess(config)
    processes.append(bridge.start())
    sock = _connect(bridge)
    try:
        assert _drip(sock, 4).startswith(b"HTTP/1.1 408 ")
    finally:
        sock.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        "GET /healthz/\u2025 HTTP/1.1\r\nHost: bridge\r\n\r\n".encode(),  # not ASCII in the request line
        b"POST /v1/traces HTTP/1.1\r\nHost: bridge\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nab",
        b"POST /v1/traces HTTP/1.1\r\nHost: bridge\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
    ],
    ids=["non-ascii path", "two content-lengths", "content-length and chunked", "connect", "space in a header name"],
)
def test_a_request_that_is_not_http_gets_a_json_400(bridge: BridgeServer, request_bytes: bytes) -> None:
    """Found attacking the served bridge: uvicorn's parser answered these with a plain-text 400."""
    with _connect(bridge) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head
    assert json.loads(body)["error"] == "malformed_http"
    assert httpx.get(f"{bridge.base}/healthz").status_code == 200


def test_headers_past_the_size_limit_get_a_json_431_and_the_connection_closed(bridge: BridgeServer) -> None:
    """Attacked: 1 MB of headers was read whole and answered (200); 10 MB, 100 MB as well, held in memory."""
    with _connect(bridge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\n")
        for _ in range(64):  # 4 MiB at most, in lines of 64 KiB, until the server answers
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(b"X-Big: " + b"a" * 65_536 + b"\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {
        "error": "headers_too_large",
        "detail": "the request line and headers pass 1048576 bytes",
    }
    # Large headers within the limit, and a large body after them, are served as before.
    headers = {f"X-Fine-{number}": "a" * 8_000 for number in range(100)}
    assert httpx.get(f"{bridge.base}/healthz", headers=headers).status_code == 200
    headers["Content-Type"] = "application/json"
    token = httpx.post(f"{bridge.base}/api/v1/auth/token", content=b" " * 1_000_000 + b"{}", headers=headers)
    assert token.status_code == 422 and token.json()["error"] == "invalid_payload", token.text

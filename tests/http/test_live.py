from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import sseclient

from bridge.http import live
from bridge.http.live import LiveFeed
from tests.bridge_server import BridgeServer, bridge_config, signed_headers
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES

DIFY_APP = "880ae48d-ecb6-4839-afc5-79501faa97a3"  # sys.app_id of a_simple_http.sse


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as server:
        yield server


class Listener(threading.Thread):
    """A real SSE client (sseclient-py over httpx2) collecting events until `until` arrives."""

    def __init__(self, url: str, headers: dict[str, str], until: str = "run.finished") -> None:
        super().__init__(daemon=True)
        self.url, self.headers, self.until = url, headers, until
        self.events: list[tuple[str, dict[str, object]]] = []
        self.comments = 0
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=10) as response:
                self.connected.set()
                for event in sseclient.SSEClient(response.iter_bytes()).events():
                    self.events.append((event.event, json.loads(event.data)))
                    if event.event == self.until:
                        return
        except httpx.RemoteProtocolError:
            pass  # the server went away at the end of the test, with this stream still open


def test_live_feed_of_a_run(bridge: BridgeServer) -> None:
    """The run is filed under the app that signed its events (issue 27.3), not the events' own `sys.app_id`."""
    token = bridge.token()
    everything = Listener(f"{bridge.base}/api/v1/dify/stream?token={token}", {})
    signer = Listener(f"{bridge.base}/api/v1/dify/stream?app_id=app-under-test", {"Authorization": f"Bearer {token}"})
    filtered = Listener(f"{bridge.base}/api/v1/dify/stream?app_id={DIFY_APP}", {"Authorization": f"Bearer {token}"})
    for listener in (everything, signer, filtered):
        listener.start()
        assert listener.connected.wait(5)
    time.sleep(0.1)
    body = (CAPTURES / "a_simple_http.sse").read_bytes()
    headers = {**signed_headers(body, headers={"X-Dify-App-Id": "app-under-test"}), "Content-Type": "text/event-stream"}
    assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 202
    everything.join(10)
    signer.join(10)
    kinds = [kind for kind, _ in everything.events]
    assert kinds == ["run.started", "node.finished", "node.finished", "node.finished", "run.finished"]
    assert signer.events == everything.events
    started, finished = everything.events[0][1], everything.events[-1][1]
    assert started["app_id"] == "app-under-test" and started["run_id"] == "7421d391-5c3c-46df-8d3e-fdb2de64e0fa"
    assert {payload["app_id"] for _, payload in everything.events} == {"app-under-test"}
    assert finished["app_name"] == "Support Bot"
    assert finished["trace_id"] == "7421d3915c3c46df8d3efdb2de64e0fa" and finished["spans"] == 4
    assert finished["status"] == "succeeded" and finished["source"] == "stream"
    assert everything.events[2][1]["node_type"] == "http-request"
    assert filtered.events == []


def test_heartbeats_keep_an_idle_stream_open(bridge: BridgeServer) -> None:
    url = f"{bridge.base}/api/v1/dify/stream?token={bridge.token()}"
    lines: list[bytes] = []
    with httpx.stream("GET", url, timeout=5) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            lines.append(line.encode() if isinstance(line, str) else line)
            if lines.count(b": heartbeat") >= 2:
                break
    assert lines[0] == b": connected"


def test_the_stream_needs_a_token(bridge: BridgeServer) -> None:
    assert httpx.get(f"{bridge.base}/api/v1/dify/stream").status_code == 401
    assert httpx.get(f"{bridge.base}/api/v1/dify/stream?token=forged").json()["error"] == "invalid_token"
    # Two tokens, or two app ids, were read as the last one: which one a proxy in front logged was anyone's guess.
    token = bridge.token()
    for query in (f"token=forged&token={token}", f"token={token}&app_id=a&app_id=b"):
        refused = httpx.get(f"{bridge.base}/api/v1/dify/stream?{query}")
        assert refused.status_code == 400 and refused.json()["error"] == "repeated_query_parameter", refused.text
    # `?appid=` was ignored: every app's runs came.
    with httpx.stream("GET", f"{bridge.base}/api/v1/dify/stream?token={token}&appid=a") as unknown:
        assert unknown.status_code == 400  # else an endless feed
        assert json.loads(unknown.read())["detail"] == "unknown query parameter 'appid'; known: app_id, token"


def test_a_slow_consumer_is_dropped_without_slowing_publishers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 3)

    async def scenario() -> list[bytes]:
        feed = LiveFeed(heartbeat_s=5)
        stream = feed.events(feed.join(None))
        received = [await stream.__anext__()]  # subscribed
        started = time.monotonic()
        for i in range(100):
            feed.publish("node.finished", {"i": i})
        assert time.monotonic() - started < 0.5
        await asyncio.sleep(0.05)
        async for chunk in stream:
            received.append(chunk)
        assert feed.dropped == 1
        return received

    received = asyncio.run(scenario())
    assert received[0] == b": connected\n\n"
    assert received[-1].startswith(b"event: dropped")
    assert len(received) == 4  # connected, two events that fit before the drop, the drop notice


def test_detections_appear_in_the_live_feed(bridge: BridgeServer) -> None:
    listener = Listener(f"{bridge.base}/api/v1/dify/stream?token={bridge.token()}", {})
    listener.start()
    assert listener.connected.wait(5)
    time.sleep(0.1)
    body = (CAPTURES / "a_llm_simple.sse").read_bytes().replace(b'"finish_reason":"stop"', b'"finish_reason":"length"')
    headers = {**signed_headers(body, headers={"X-Dify-App-Id": "app-under-test"}), "Content-Type": "text/event-stream"}
    assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 202
    listener.join(10)
    detections = [payload for kind, payload in listener.events if kind == "detection"]
    assert [(d["detector"], d["severity"], d["run_id"]) for d in detections] == [
        ("context_overflow", "high", "06f0b9d9-0e7a-447e-a536-85300d8487f1")
    ]


def _feed_of(*events: tuple[str, dict[str, Any]]) -> list[dict[str, object]]:
    """The payloads a subscriber of a `LiveFeed` receives for `events`, published in order."""

    async def scenario() -> list[dict[str, object]]:
        feed = LiveFeed(heartbeat_s=5)
        stream = feed.events(feed.join(None))
        await stream.__anext__()  # subscribed
        for kind, payload in events:
            feed.publish(kind, payload)
        await asyncio.sleep(0.05)
        return [json.loads((await stream.__anext__()).split(b"data: ", 1)[1]) for _ in events]

    return asyncio.run(scenario())


def test_a_value_masked_in_one_event_is_masked_in_the_runs_later_events() -> None:
    account = "284468544249"
    mask = live._REDACT.redact_text(f"account number {account}").rsplit(" ", 1)[1]
    received = _feed_of(
        ("node.finished", {"run_id": "r1", "title": "lookup", "error": f"account number {account} is closed"}),
        ("node.finished", {"run_id": "r1", "title": f"retry {account}", "error": None}),
        ("node.finished", {"run_id": "r2", "title": f"retry {account}", "error": None}),  # another run: no label seen
        ("run.finished", {"run_id": "r1", "app_name": f"bank {account}"}),
        ("node.finished", {"run_id": "r1", "title": f"late {account}"}),  # after its end: forgotten
    )
    assert received[0]["error"] == f"account number {mask} is closed"
    assert received[1]["title"] == f"retry {mask}"
    assert received[2]["title"] == f"retry {account}"
    assert received[3]["app_name"] == f"bank {mask}"
    assert received[4]["title"] == f"late {account}"


def test_the_live_view_remembers_a_bounded_number_of_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "RUNS_REMEMBERED", 2)
    account = "284468544249"
    received = _feed_of(
        *[("node.finished", {"run_id": f"r{i}", "error": f"account number {account}"}) for i in range(3)],
        ("node.finished", {"run_id": "r0", "title": account}),  # the oldest, forgotten
        ("node.finished", {"run_id": "r2", "title": account}),
    )
    assert received[3]["title"] == account and received[4]["title"] != account


def test_subscribers_past_the_cap_get_503_with_retry_after_and_are_counted(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    config = bridge_config(tmp_path, otlp_sink.grpc_endpoint)
    config.server.live_max_subscribers = 2
    with BridgeServer(config) as server:
        url = f"{server.base}/api/v1/dify/stream?token={server.token()}"
        first, second = Listener(url, {}, until="never"), Listener(url, {}, until="never")
        for listener in (first, second):
            listener.start()
            assert listener.connected.wait(5)
        refused = httpx.get(url, timeout=5)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "too_many_subscribers"
        assert "server.live_max_subscribers" in refused.json()["detail"]
        assert refused.headers["Retry-After"] == "30"
        page = httpx.get(f"{server.base}/metrics").text
        assert re.search(r"^dify_bridge_live_refusals_total\{[^}]*\} 1\.0$", page, re.MULTILINE), page
        assert re.search(r"^dify_bridge_live_subscribers\{[^}]*\} 2\.0$", page, re.MULTILINE), page
    # A subscriber that leaves frees its place: ended by the client before its first event, too.
    (tmp_path / "again").mkdir()
    with BridgeServer(bridge_config(tmp_path / "again", otlp_sink.grpc_endpoint)) as server:
        url = f"{server.base}/api/v1/dify/stream?token={server.token()}"
        for _ in range(40):  # more than the default cap of 32, one after another
            with httpx.stream("GET", url, timeout=5) as response:
                assert response.status_code == 200
        deadline = time.monotonic() + 5
        while not re.search(r"^dify_bridge_live_subscribers\{[^}]*\} 0\.0$", httpx.get(f"{server.base}/metrics").text,
                            re.MULTILINE):  # fmt: skip
            assert time.monotonic() < deadline, "subscribers that left are still counted"
            time.sleep(0.05)


def test_a_subscriber_that_never_reads_loses_its_place(
    tmp_path: Path, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """harden14: a subscriber that stopped reading was dropped from the fan-out but kept its place for good (its
    response waited on a full socket with no deadline): two of them, and the feed answered 503 to everyone."""
    monkeypatch.setattr(live, "QUEUE_SIZE", 5)
    feeds: list[LiveFeed] = []
    joined = LiveFeed.join

    def join(self: LiveFeed, app_id: str | None) -> live._Subscriber:
        feeds.append(self)
        return joined(self, app_id)

    monkeypatch.setattr(LiveFeed, "join", join)
    config = bridge_config(tmp_path, otlp_sink.grpc_endpoint)
    config.server.live_max_subscribers = 2
    with BridgeServer(config, write_seconds=1) as server:
        token = server.token()
        sleepers = []
        for _ in range(2):
            sleeper = socket.socket()
            sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sleeper.connect(("127.0.0.1", server.port))
            sleeper.sendall(f"GET /api/v1/dify/stream?token={token} HTTP/1.1\r\nHost: bridge\r\n\r\n".encode())
            sleepers.append(sleeper)
        while len(feeds) < 2:
            time.sleep(0.02)
        for i in range(100):  # 10 MB each: far past the socket buffers and the queue
            feeds[0].publish("node.finished", {"run_id": f"r{i}", "title": "x" * 100_000})
            time.sleep(0.002)
        deadline = time.monotonic() + 10
        while len(feeds[0]):
            assert time.monotonic() < deadline, "subscribers that never read still hold their places"
            time.sleep(0.05)
        with httpx.stream("GET", f"{server.base}/api/v1/dify/stream?token={token}", timeout=5) as response:
            assert response.status_code == 200
        for sleeper in sleepers:
            sleeper.close()

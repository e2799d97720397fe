from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.config import parse_config
from bridge.spans import build_spans
from tests.bridge_server import APP_ID, BridgeServer, bridge_config, bridge_config_text, dumps, signed_headers
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES, load_run

URL = "/api/v1/dify/events"


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as server:
        yield server


def _post(bridge: BridgeServer, body: bytes, content_type: str, **extra: str) -> httpx.Response:
    headers = {**signed_headers(body, **{"X-Dify-App-Id": APP_ID, **extra}), "Content-Type": content_type}
    return httpx.post(f"{bridge.base}{URL}", content=body, headers=headers)


def _events(path: Path) -> list[dict[str, object]]:
    text = path.read_text()
    return [json.loads(line.removeprefix("data: ")) for line in text.splitlines() if line.startswith("data: ")]


def test_a_raw_sse_capture_becomes_a_trace(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = (CAPTURES / "b_iteration_ifelse_http.sse").read_bytes()
    response = _post(bridge, body, "text/event-stream")
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 30}  # every data block; the ping keep-alive is not an event
    spans = otlp_sink.wait_for_spans(16)
    assert len(spans) == 16
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert root.attributes["dify.source"] == "stream"
    assert root.trace_id == "d8318146ae3949f1b401b92167ffe5c9"


def test_events_over_many_requests_in_any_order_and_formats(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    events = _events(CAPTURES / "d_http_retry_fail.sse")
    random.Random(7).shuffle(events)
    first, second, third = events[:3], events[3:6], events[6:]
    assert _post(bridge, json.dumps(first).encode(), "application/json").status_code == 202
    ndjson = "".join(json.dumps(e) + "\n" for e in second).encode()
    assert _post(bridge, ndjson, "application/x-ndjson").status_code == 202
    for event in third:
        assert _post(bridge, json.dumps(event).encode(), "application/json").status_code == 202
    spans = otlp_sink.wait_for_spans(5)
    names = sorted(s.name for s in spans)
    assert names == ["http-request HTTP failing", "http-request HTTP failing (attempt 1)",
                     "http-request HTTP failing (attempt 2)", "invoke_workflow 4722bbdf-9b54-4a73-9d3e-59e49266e681",
                     "start Start"]  # fmt: skip


def test_camel_case_java_events(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    body = (EXAMPLES / "java_seed_camel.ndjson").read_bytes()
    assert _post(bridge, body, "application/x-ndjson").status_code == 202
    spans = otlp_sink.wait_for_spans(4)
    assert {s.name for s in spans} >= {"chat qwen2.5-instruct", "start 开始"}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error", "fragment"),
    [
        (b'{"event": "node_started", "workflow_run_id": "r", "data": {}}', "application/json", 422, "invalid_event",
         "body:1: data.node_id: missing on a node_started event"),
        (b'{"event": "ping"}\n{oops\n', "application/x-ndjson", 400, "malformed_body", "body:2: invalid JSON"),
        (b"[]", "application/json", 422, "invalid_event", "no event"),
        (b"{}", "text/plain", 415, "unsupported_media_type", "text/event-stream"),
    ],
)  # fmt: skip
def test_bad_bodies_are_refused_whole(
    bridge: BridgeServer, body: bytes, content_type: str, status: int, error: str, fragment: str
) -> None:
    response = _post(bridge, body, content_type)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and fragment in response.json()["detail"]


def test_app_id_header_is_required_and_checked(bridge: BridgeServer) -> None:
    body = b'{"event": "ping"}'
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    assert httpx.post(f"{bridge.base}{URL}", content=body, headers=headers).status_code == 422
    headers["X-Dify-App-Id"] = "someone-else"
    assert httpx.post(f"{bridge.base}{URL}", content=body, headers=headers).status_code == 404


def test_too_many_runs_in_flight_refuses_new_runs_with_429_but_takes_events_of_open_ones(
    tmp_path: Path, otlp_sink: OtlpSink
) -> None:
    config = parse_config(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, queue="max_runs_in_flight: 1"))
    first, second = _events(CAPTURES / "a_llm_simple.sse"), _events(CAPTURES / "a_simple_http.sse")
    with BridgeServer(config) as server:
        assert _post(server, json.dumps(first[:2]).encode(), "application/json").status_code == 202
        refused = _post(server, json.dumps(second).encode(), "application/json")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
        assert refused.json()["error"] == "too_many_runs_in_flight"
        assert _post(server, json.dumps(first[2:]).encode(), "application/json").status_code == 202
        otlp_sink.wait_for_spans(4)  # the open run finished and left
        deadline = time.monotonic() + 10
        while (again := _post(server, json.dumps(second).encode(), "application/json")).status_code == 429:
            assert time.monotonic() < deadline, again.text
            time.sleep(0.05)
        assert again.status_code == 202
        spans = otlp_sink.wait_for_spans(8)
    assert len({s.trace_id for s in spans}) == 2


def test_a_stream_after_a_webhook_summary_of_its_run_is_exported_too(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """A summary posted from inside the workflow comes first; the stream's copy holds every node and event, so
    it goes out as well. (A copy holding no more than the first, e.g. after Dify's export, does not.)"""
    capture = CAPTURES / "a_llm_simple.sse"
    run_id = str(_events(capture)[0]["workflow_run_id"])
    summary = dumps({"workflow_run_id": run_id, "app_id": APP_ID, "status": "succeeded",
                     "nodes": [{"node_id": "llm", "node_type": "llm", "title": "LLM"}]})  # fmt: skip
    response = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=summary, headers=signed_headers(summary))
    assert response.status_code == 202, response.text
    assert len(otlp_sink.wait_for_spans(2)) == 2  # the root and its one node
    assert _post(bridge, capture.read_bytes(), "text/event-stream").status_code == 202
    streamed = len(build_spans(load_run(capture)))
    spans = otlp_sink.wait_for_spans(2 + streamed)
    assert len(spans) == 2 + streamed
    assert {s.attributes["dify.source"] for s in spans if s.parent_span_id is None} == {"webhook", "stream"}

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.config.loader import parse_config
from bridge.http import server as bridge_server
from bridge.trace.spans import build_spans
from tests.bridge_server import (
    APP_ID,
    OTHER_APP_SECRET,
    BridgeServer,
    bridge_config,
    bridge_config_text,
    dumps,
    metric_sample,
    signed_headers,
)
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import CAPTURES, EXAMPLES, load_run

URL = "/api/v1/dify/events"


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as server:
        yield server


def _post(bridge: BridgeServer, body: bytes, content_type: str, **extra: str) -> httpx.Response:
    headers = {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID, **extra}), "Content-Type": content_type}
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


@pytest.mark.parametrize("workers", [0, 1])
def test_a_run_is_exported_when_its_terminal_wait_ends_not_at_the_next_poll(
    tmp_path: Path, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # Polls a minute apart: a run's spans come in time only if it is closed when due (100 ms after its last event).
    monkeypatch.setattr(bridge_server, "POLL_INTERVAL_S", 60.0)
    config = parse_config(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, workers=workers))
    with BridgeServer(config) as server:
        for capture, spans in (("b_iteration_ifelse_http.sse", 16), ("a_simple_http.sse", 16 + 3)):
            assert _post(server, (CAPTURES / capture).read_bytes(), "text/event-stream").status_code == 202
            otlp_sink.wait_for_spans(spans, timeout=10)


def test_events_over_many_requests_in_any_order_and_formats(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    events = _events(CAPTURES / "d_http_retry_fail.sse")
    random.Random(7).shuffle(events)
    first, second, third = events[:3], events[3:6], events[6:]
    # Events after the terminal one join the run within terminal_wait: 100 ms was too short for one request
    # after another on a loaded machine (a late retry event was dropped now and then).
    config = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint).replace("terminal_wait: 100ms", "terminal_wait: 2s")
    with BridgeServer(parse_config(config)) as bridge:
        assert _post(bridge, json.dumps(first).encode(), "application/json").status_code == 202
        ndjson = "".join(json.dumps(e) + "\n" for e in second).encode()
        assert _post(bridge, ndjson, "application/x-ndjson").status_code == 202
        for event in third:
            assert _post(bridge, json.dumps(event).encode(), "application/json").status_code == 202
        spans = otlp_sink.wait_for_spans(5)
    names = sorted(s.name for s in spans)
    assert names == ["http-request HTTP failing", "http-request HTTP failing (attempt 1)",
                     "http-request HTTP failing (attempt 2)", "invoke_workflow Support Bot",
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
        # Ids other than the run id are held to its rule too (they named spans and attributes as sent).
        (b'{"event": "node_started", "workflow_run_id": "r", "task_id": "\\u0000", "data": {"id": "e", "node_id": 1}}',
         "application/json", 422, "invalid_event", "body:1: task_id: must be printable characters only, found U+0000"),
        (b'data: {"event": "node_started", "workflow_run_id": "r", "data": {"id": "e", "node_id": "n\\u202e"}}\n\n',
         "text/event-stream", 422, "invalid_event", "body:1: data.node_id: must be printable characters only"),
        (b" \n", "application/json", 422, "invalid_event", "the body holds no event"),  # "unterminated JSON array"
        (b'[\n {"event": "ping"}\n]', "text/event-stream", 400, "malformed_body",
         "body:1: not an SSE field: '[' (the body reads as JSON, not SSE: send it with Content-Type: application/json"),
        (b"data: {}\n\n", "application/json", 400, "malformed_body",
         "(the body reads as SSE, not JSON: send it with Content-Type: text/event-stream)"),
        (b"{}", "text/plain", 415, "unsupported_media_type", "text/event-stream"),
        # A body of spaces was "not an SSE field: '  '", where JSON and NDJSON say it holds no event.
        (b"  ", "text/event-stream", 422, "invalid_event", "the body holds no event"),
        (b"  \n\t\n", "text/event-stream", 422, "invalid_event", "the body holds no event"),
        # UTF-16 without a byte order mark is valid UTF-8 (a NUL every other byte): it was "invalid JSON".
        ('{"event": "ping"}'.encode("utf-16-le"), "application/json", 415, "unsupported_charset",
         "the body reads as UTF-16-LE; send it as UTF-8"),
        ('data: {"event": "ping"}\n\n'.encode("utf-16"), "text/event-stream", 415, "unsupported_charset",
         "the body reads as UTF-16; send it as UTF-8"),
        # getting-runs-in.md: "A capture cut inside an event is refused whole (400, naming the line)"
        (b'data: {"event": "ping"}\n\ndata: {"event": "node_sta', "text/event-stream", 400, "malformed_body",
         "body:3: "),
    ],
)  # fmt: skip
def test_bad_bodies_are_refused_whole(
    bridge: BridgeServer, body: bytes, content_type: str, status: int, error: str, fragment: str
) -> None:
    response = _post(bridge, body, content_type)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and fragment in response.json()["detail"]


def test_a_one_line_body_that_fails_is_not_said_to_be_of_another_format(bridge: BridgeServer) -> None:
    # One line is as much NDJSON as JSON: "send it with Content-Type: application/json" sent the sender in a circle.
    body = b'{"event": "ping", "data": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    for content_type in ("application/x-ndjson", "application/json"):
        response = _post(bridge, body, content_type)
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == "body:1: invalid JSON: nested too deeply (column 1)"


def test_app_id_header_is_required_and_checked(bridge: BridgeServer) -> None:
    body = b'{"event": "ping"}'
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    assert httpx.post(f"{bridge.base}{URL}", content=body, headers=headers).status_code == 422
    headers["X-Dify-App-Id"] = "someone-else"
    assert httpx.post(f"{bridge.base}{URL}", content=body, headers=headers).status_code == 404
    # Named twice, differently: the first was taken, whatever a proxy or log in front of the bridge read.
    twice = [*headers.items(), ("X-Dify-App-Id", APP_ID)]
    refused = httpx.post(f"{bridge.base}{URL}", content=body, headers=twice)
    assert (refused.status_code, refused.json()["detail"]) == (422, "X-Dify-App-Id: 2 different values; send one")
    # ?app_id= twice: the last was taken without a word.
    del headers["X-Dify-App-Id"]
    query = httpx.post(f"{bridge.base}{URL}?app_id=someone-else&app_id={APP_ID}", content=body, headers=headers)
    assert query.status_code == 400, query.text
    assert query.json()["detail"] == f"app_id: given 2 times ('someone-else', {APP_ID!r}); send it once"


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


def _root(otlp_sink: OtlpSink, spans: int) -> ReceivedSpan:
    return next(s for s in otlp_sink.wait_for_spans(spans) if s.parent_span_id is None)


def test_events_claiming_another_app_are_filed_under_the_signing_app(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """Issue 24.6: app-under-test's secret, events whose sys.app_id says app-other: the run is app-under-test's."""
    body = (
        (CAPTURES / "a_simple_http.sse")
        .read_bytes()
        .replace(b'"sys.app_id":"880ae48d-ecb6-4839-afc5-79501faa97a3"', b'"sys.app_id":"app-other"')
    )
    assert b'"sys.app_id":"app-other"' in body
    assert _post(bridge, body, "text/event-stream").status_code == 202
    root = _root(otlp_sink, 4)
    assert (root.resource["dify.app.id"], root.resource["dify.app.name"]) == (APP_ID, "Support Bot")
    metrics = httpx.get(f"{bridge.base}/metrics").text
    assert metric_sample(metrics, "dify_workflow_runs_total", dify_app_name="Support Bot") == 1


def test_java_client_events_without_an_app_id_get_the_signing_apps_name(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    """Issue 27.3: the Java client's NDJSON carries no sys.app_id at workflow_started; metrics said "unknown"."""
    assert _post(bridge, (EXAMPLES / "java_seed_camel.ndjson").read_bytes(), "application/x-ndjson").status_code == 202
    root = _root(otlp_sink, 4)
    assert root.name == "invoke_workflow Support Bot"
    assert (root.resource["dify.app.id"], root.resource["dify.app.name"]) == (APP_ID, "Support Bot")


def test_events_of_a_run_another_app_is_sending_are_refused(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    events = _events(CAPTURES / "a_simple_http.sse")
    assert _post(bridge, json.dumps(events[:2]).encode(), "application/json").status_code == 202
    rest = json.dumps(events[2:]).encode()
    headers = {**signed_headers(rest, secret=OTHER_APP_SECRET, headers={"X-Dify-App-Id": "app-other"})}
    refused = httpx.post(f"{bridge.base}{URL}", content=rest, headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.json() == {
        "error": "app_mismatch",
        "detail": "run '7421d391-5c3c-46df-8d3e-fdb2de64e0fa' is being received for another app",
    }
    assert _post(bridge, rest, "application/json").status_code == 202  # its own app's copy is taken
    assert _root(otlp_sink, 4).resource["dify.app.id"] == APP_ID


def test_a_body_nested_100000_deep_is_a_400(bridge: BridgeServer) -> None:
    """Issue 24.10: the JSON array reader recursed until RecursionError, a 500."""
    for body, content_type in [
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"event": "x", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json"),
        (b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n", "text/event-stream"),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "application/x-ndjson"),
    ]:
        response = _post(bridge, body, content_type)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "malformed_body" and "nested too deeply" in response.json()["detail"]


def test_an_integer_past_pythons_digit_limit_is_taken_and_its_run_built(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    """Kept unread on intake (202), a 5,000-digit integer in an event's data made the run impossible to build
    later ("could not be built: its events stay in the journal"): Python reads no integer that long."""
    body = (CAPTURES / "b_iteration_ifelse_http.sse").read_bytes()
    body = body.replace(b'"elapsed_time":', b'"huge": ' + b"9" * 5_000 + b', "elapsed_time":', 1)
    assert body.count(b"9" * 5_000) == 1
    assert _post(bridge, body, "text/event-stream").status_code == 202
    assert len(otlp_sink.wait_for_spans(16)) == 16
    as_array = json.dumps([{"event": "ping", "huge": 0}]).replace("0}", "9" * 5_000 + "}").encode()
    response = _post(bridge, as_array, "application/json")  # read by the standard library: was a 500
    assert response.status_code == 202, response.text


def test_more_events_than_max_events_are_refused_whole(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """Issue 24.15: 100,000 `data: {}` in one body were taken (202) and logged 100,000 warnings."""
    response = _post(bridge, b"data: {}\n\n" * 100_000, "text/event-stream")
    assert response.status_code == 413, response.text
    assert response.json() == {
        "error": "too_many_events",
        "detail": "the body holds more than 50000 events (max_events); send them over several requests",
    }


def test_events_with_no_run_are_dropped_with_one_warning(
    bridge: BridgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert _post(bridge, b"data: {}\n\n" * 50_000, "text/event-stream").status_code == 202
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == ["stream: dropped 50000 events with no run, task or stream to attach them to"]


def _message_events_body(count: int) -> bytes:
    """A real run's `workflow_started`, then `count - 1` short `message` events of it: a body at `max_events`
    within `max_body_bytes`."""
    started = _events(CAPTURES / "h_chatflow_streaming.sse")[0]
    message = {"event": "message", "task_id": started["task_id"], "message_id": started["message_id"]}
    lines = [started] + [{**message, "answer": f"t{i}"} for i in range(count - 1)]
    return b"".join(b"data: " + json.dumps(line, separators=(",", ":")).encode() + b"\n\n" for line in lines)


def test_a_body_at_max_events_does_not_hold_up_other_requests(bridge: BridgeServer) -> None:
    """Red-team finding: 50,000 events were parsed on the event loop; /healthz waited a second and more."""
    body = _message_events_body(50_000)
    answer: list[httpx.Response] = []
    big = threading.Thread(target=lambda: answer.append(_post(bridge, body, "text/event-stream")))
    latencies = []
    started = time.monotonic()
    big.start()
    with httpx.Client(base_url=bridge.base) as client:
        while big.is_alive():
            sent = time.monotonic()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - sent)
            time.sleep(0.01)
    took = time.monotonic() - started
    assert answer[0].status_code == 202, answer[0].text
    assert answer[0].json() == {"accepted": 50_000}
    # Loop held: one probe waits for most of the big request. Free: each answers in a small part of it.
    assert len(latencies) >= 5, (took, latencies)
    assert max(latencies) < took / 4, (took, sorted(latencies)[-3:])


def test_two_different_api_keys_are_refused_the_same_key_twice_is_taken(bridge: BridgeServer) -> None:
    """Red-team finding: of two X-Pisama-API-Key headers, the first counted."""
    body = (CAPTURES / "a_simple_http.sse").read_bytes()
    signed = {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
    others = [(name, value) for name, value in signed.items() if name != "X-Pisama-API-Key"]
    for keys in (["not-a-key", signed["X-Pisama-API-Key"]], [signed["X-Pisama-API-Key"], "not-a-key"]):
        headers = [*others, *(("X-Pisama-API-Key", key) for key in keys)]
        answer = httpx.post(f"{bridge.base}{URL}", content=body, headers=headers)
        assert answer.status_code == 401, answer.text
        detail = "the request carries 2 different credentials (X-Pisama-API-Key); send one"
        assert answer.json() == {"error": "conflicting_credentials", "detail": detail}
    headers = [*others, *(("X-Pisama-API-Key", signed["X-Pisama-API-Key"]),) * 2]
    assert httpx.post(f"{bridge.base}{URL}", content=body, headers=headers).status_code == 202


@pytest.mark.parametrize("content_type", ["text/event-stream", "application/x-ndjson", "application/json"])
def test_a_body_starting_with_a_byte_order_mark_is_read(
    bridge: BridgeServer, otlp_sink: OtlpSink, content_type: str
) -> None:
    """Attacked: an SSE capture saved by a Windows tool (a UTF-8 BOM first) was a 400, "not an SSE field"."""
    capture = CAPTURES / "b_iteration_ifelse_http.sse"
    if content_type == "text/event-stream":
        body = capture.read_bytes()
    elif content_type == "application/x-ndjson":
        body = b"\n".join(dumps(event) for event in _events(capture))
    else:
        body = dumps(_events(capture))
    response = _post(bridge, b"\xef\xbb\xbf" + body, content_type)
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 30}
    assert len(otlp_sink.wait_for_spans(16)) == 16


def test_a_compressed_body_is_refused_saying_so(bridge: BridgeServer) -> None:
    """Attacked: a gzip body (a gzip bomb too) was read as text: 400 "the body is not UTF-8 (byte 1)"."""
    body = gzip.compress((CAPTURES / "a_simple_http.sse").read_bytes())
    for path in (URL, "/api/v1/dify/webhook", "/api/v1/auth/token"):
        headers = {**signed_headers(body, headers={"X-Dify-App-Id": APP_ID}), "Content-Encoding": "gzip"}
        if path == URL:
            headers["Content-Type"] = "text/event-stream"
        answer = httpx.post(f"{bridge.base}{path}", content=body, headers=headers)
        assert answer.status_code == 415, (path, answer.text)
        assert answer.json() == {
            "error": "unsupported_content_encoding",
            "detail": "Content-Encoding 'gzip' is not taken here: send the body uncompressed",
        }

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.bridge_server import BridgeServer, ThreadedServer, bridge_config, free_port
from tests.fake_dify import (
    BLOCKING,
    CHAT_BLOCKING,
    DIFY_KEY,
    GARBAGE,
    LLM_CHAT_BLOCKING,
    STREAM,
    STREAM_WITH_A_BAD_EVENT,
    FakeDify,
)
from tests.otlp_sink import OtlpSink


@pytest.fixture
def dify() -> Iterator[tuple[FakeDify, ThreadedServer]]:
    fake = FakeDify()
    with ThreadedServer(fake.app) as server:
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


def test_unknown_instance_and_unreachable_instance(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint, dify_url=dead)) as bridge:
        missing = httpx.post(f"{bridge.base}/nope/v1/workflows/run", json={})
        assert missing.status_code == 404 and missing.json()["error"] == "unknown_instance"
        down = httpx.post(f"{bridge.base}/local-dify/v1/workflows/run", json={})
        assert down.status_code == 502 and down.json()["error"] == "upstream_unreachable"
        # The management API is not shadowed by the proxy's catch-all route.
        assert httpx.get(f"{bridge.base}/api/v1/dify/apps").json()["error"] == "missing_token"


def test_a_stream_the_bridge_cannot_read_still_reaches_the_client_whole(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    response = httpx.post(f"{bridge.base}/local-dify/v1/workflows/run", json={"response_mode": "garbage"})
    assert response.status_code == 200 and response.content == GARBAGE
    assert httpx.get(f"{bridge.base}/readyz").status_code == 200


def test_an_event_the_bridge_refuses_is_left_out_and_the_rest_of_the_stream_is_traced(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    url = f"{bridge.base}/local-dify/v1/workflows/run"
    response = httpx.post(url, json={"response_mode": "bad_event"}, headers={"Authorization": DIFY_KEY})
    assert response.status_code == 200 and response.content == STREAM_WITH_A_BAD_EVENT
    spans = otlp_sink.wait_for_spans(16)
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert len(spans) == 16 and root.attributes["dify.run.status"] == "succeeded"


def test_configured_prefix(tmp_path: Path, otlp_sink: OtlpSink, dify: tuple[FakeDify, ThreadedServer]) -> None:
    from bridge.config import parse_config

    config = parse_config(
        f"receivers: {{proxy: {{prefix: /dify}}}}\nexporters: {{otlp: {{endpoint: '{otlp_sink.grpc_endpoint}'}}}}\n"
        f"server: {{store: ':memory:', instances: [{{name: main, base_url: '{dify[1].base}'}}]}}\n"
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

"""Secrets planted in names, labels and errors never reach the OTLP receiver, `/metrics`, a log line or the live
view (issue 24, items 5 and 17): a Dify run's app name, node titles, model and provider names and node errors,
and everything of a span another OTLP sender passes through: its name, event names, attribute keys, resource
attributes, kvlists, bytes and links. Every sample is generated, none is a real credential."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx2 as httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.bridge_process import BridgeProcess, wait_until
from tests.bridge_server import API_KEY, APP_ID, bridge_config_text, dumps, signed_headers
from tests.http.test_live import Listener
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES

PLANTED = {
    "app name": "sk-proj-Qz8Tw1Lm0cT2yR5nQx7pB4hK2sD9fJ6g",
    "node title": "ghp_Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0",
    "model name": "xoxb-2718281828-3141592653-Qz8Tw1Lm0cT2yR5nQx7pB4hK",
    "provider name": "glpat-Qz8Tw1Lm0cT2yR5nQx7p",
    "node error": "Zq8Tw1Lm0cQ",  # the password of a URL in the error
    "live node title": "sk_live_51Qz8Tw1Lm0cT2yR5nQx7pB4h",
    "live node error": "Vb3Nm8Kq2Ws",
    "otlp span name": "AKIAZ7Q2W4E6R8T0Y1U3",
    "otlp event name": "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",
    "otlp attribute key": "npm_Qz8Tw1Lm0cT2yR5nQx7pB4hK2sD9fJ6gL1aZ",
    "otlp resource attribute": "dop_v1_" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "otlp kvlist password": "Pa55-kv-Qz8Tw",
    "otlp bytes": "Kx9vQ2mR7tLp4wZs8NbY",
    "otlp link attribute": "SG.Qz8Tw1Lm0cT2yR5nQx7pB4.hK2sD9fJ6gL1aV0cX3eW8uY5iO7tRa",
    "otlp status": "rk_live_51Qz8Tw1Lm0cT2yR5nQx7pB4h",
}


def _value(value: str | bytes | dict[str, str]) -> AnyValue:
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=_value(v)) for k, v in value.items()]))
    return AnyValue(string_value=value)


def _foreign_trace() -> bytes:
    """A trace of another instrumented service, as its SDK sends it, with a secret in every part."""
    trace_id, span_id = uuid.uuid4().bytes, uuid.uuid4().bytes[:8]
    span = Span(
        trace_id=trace_id, span_id=span_id, name=f"GET /keys/{PLANTED['otlp span name']}", kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_001_000_000_000,
        attributes=[
            KeyValue(key=f"header.{PLANTED['otlp attribute key']}", value=_value("1")),
            KeyValue(key="db.config", value=_value({"password": PLANTED["otlp kvlist password"], "host": "db"})),
            KeyValue(key="http.request.body", value=_value(f"Authorization: Bearer {PLANTED['otlp bytes']}".encode())),
        ],
        events=[Span.Event(time_unix_nano=1_700_000_000_500_000_000, name=f"token {PLANTED['otlp event name']}")],
        links=[Span.Link(trace_id=uuid.uuid4().bytes, span_id=uuid.uuid4().bytes[:8],
                         attributes=[KeyValue(key="note", value=_value(f"key {PLANTED['otlp link attribute']}"))])],
    )  # fmt: skip
    span.status.code = span.status.STATUS_CODE_ERROR
    span.status.message = f"refused {PLANTED['otlp status']}"
    resource_spans = ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])
    resource_spans.resource.attributes.extend([
        KeyValue(key="service.name", value=_value("payments")),
        KeyValue(key="deploy.note", value=_value(f"pulled with {PLANTED['otlp resource attribute']}")),
    ])  # fmt: skip
    return ExportTraceServiceRequest(resource_spans=[resource_spans]).SerializeToString()


def _webhook_run() -> bytes:
    payload = json.loads((EXAMPLES / "webhook_full.json").read_text())
    payload.update(workflow_run_id=str(uuid.uuid4()), app_id=APP_ID, app_name=f"Trips {PLANTED['app name']}")
    plan = next(node for node in payload["nodes"] if node["node_id"] == "plan")
    plan["title"] = f"Plan {PLANTED['node title']}"
    plan["metadata"].update(model_name=PLANTED["model name"], model_provider=PLANTED["provider name"])
    failing = payload["nodes"][-2]
    failing.update(status="failed", error=f"connect postgres://svc:{PLANTED['node error']}@db.internal/app: refused")
    return dumps(payload)


def _stream_run() -> bytes:
    body = (CAPTURES / "d_http_retry_fail.sse").read_bytes()
    body = body.replace(b'"title":"HTTP failing"', f'"title":"HTTP {PLANTED["live node title"]}"'.encode())
    return body.replace(b"http://127.0.0.1:8765/fail", f"http://svc:{PLANTED['live node error']}@127.0.0.1/f".encode())


def test_no_planted_secret_reaches_spans_metrics_logs_or_the_live_view(
    tmp_path: Path, otlp_sink: OtlpSink, processes: list[BridgeProcess]
) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{protocols: {http: {}}}"))
    bridge = BridgeProcess(config)
    processes.append(bridge.start())
    token = httpx.post(f"{bridge.base}/api/v1/auth/token", json={"api_key": API_KEY}).json()["access_token"]
    listener = Listener(f"{bridge.base}/api/v1/dify/stream?token={token}", {})
    listener.start()
    assert listener.connected.wait(5)

    stream = _stream_run()
    headers = {**signed_headers(stream, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
    assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=stream, headers=headers).status_code == 202
    listener.join(10)
    webhook = _webhook_run()
    assert httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=webhook, headers=signed_headers(webhook)).is_success
    otlp_headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {API_KEY}"}
    assert httpx.post(f"{bridge.base}/v1/traces", content=_foreign_trace(), headers=otlp_headers).status_code == 200
    wait_until(lambda: any(s.name.startswith("GET /keys/") for s in otlp_sink.spans()), 20.0, "the foreign trace")
    wait_until(lambda: len({s.trace_id for s in otlp_sink.spans()}) >= 3, 20.0, "all three traces")
    metrics = httpx.get(f"{bridge.base}/metrics").text
    bridge.stop()

    places = {
        "exported (every OTLP request, raw)": b"".join(r.SerializeToString() for _, r, _ in otlp_sink.requests),
        "/metrics": metrics.encode(),
        "log": bridge.log.read_bytes(),
        "live view": json.dumps(listener.events).encode(),
    }
    leaks = [
        (what, where) for what, secret in PLANTED.items() for where, text in places.items() if secret.encode() in text
    ]
    assert leaks == [], leaks
    # What was planted arrived, masked: the test sees every place it checks.
    assert {kind for kind, _ in listener.events} >= {"run.started", "node.finished", "run.finished"}
    assert "dify_workflow_runs_total{" in metrics and "dify_cost_total{" in metrics and "xoxb…#" in metrics
    exported = otlp_sink.spans()
    assert any(s.name.startswith("GET /keys/AKIA…#") for s in exported)
    names = {s.name for s in exported}
    assert {"chat xoxb…#203c2872", "GET /keys/AKIA…#98223268", "http-request HTTP sk_l…#726454b3"} <= names, names

from __future__ import annotations

import time
from pathlib import Path

import grpc
import httpx2 as httpx
import pytest
from prometheus_client import generate_latest

from bridge.config import ConfigError, parse_config
from bridge.service import BridgeService
from bridge.telemetry import Telemetry
from tests.bridge_server import BridgeServer, bridge_config, bridge_config_text, signed_headers
from tests.bridge_server import metric_sample as _sample
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES


def test_metrics_count_runs_spans_and_detections(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as bridge:
        body = (
            (CAPTURES / "a_llm_simple.sse").read_bytes().replace(b'"finish_reason":"stop"', b'"finish_reason":"length"')
        )
        headers = {**signed_headers(body, **{"X-Dify-App-Id": "app-under-test"}), "Content-Type": "text/event-stream"}
        assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 202
        deadline = time.monotonic() + 10
        while "dify_bridge_runs_total" not in (text := httpx.get(f"{bridge.base}/metrics").text):
            assert time.monotonic() < deadline, text
            time.sleep(0.1)

    assert _sample(text, "dify_bridge_runs_total", receiver="stream", status="succeeded") == 1
    assert _sample(text, "dify_bridge_spans_total", receiver="stream") == 4
    app = "Support Bot"  # the signing app's registered name, not the events' sys.app_id (issue 27.3)
    detections = {"app": "app-under-test", "detector": "context_overflow", "severity": "high"}
    assert _sample(text, "dify_detections_total", **detections) == 1
    # The runs themselves: counted by app and status, node times by type, tokens by model and type, cost.
    assert _sample(text, "dify_workflow_runs_total", dify_app_name=app, dify_run_status="succeeded") == 1
    assert _sample(text, "dify_node_duration_seconds_count", dify_node_type="llm") == 1
    assert _sample(text, "dify_node_duration_seconds_count", dify_node_type="start") == 1
    tokens = {"gen_ai_request_model": "gpt-4o-mini", "gen_ai_operation_name": "chat"}
    assert _sample(text, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **tokens) == 14
    assert _sample(text, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **tokens) == 10
    assert _sample(text, "dify_cost_total", dify_app_name=app, dify_price_currency="USD") == 0.0000081


def test_metrics_show_the_queue_exports_retries_dead_letters_and_refusals(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    otlp_sink.fail_next(2, grpc_code=grpc.StatusCode.UNAVAILABLE)  # two retries, then the backend takes it
    poisoned = "11111111-2222-3333-4444-555555555555"
    otlp_sink.refuse_traces({poisoned.replace("-", "")})
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, exporter="retry_on_failure: {initial_interval: 10ms}",
                              queue="max_runs_in_flight: 1")  # fmt: skip
    with BridgeServer(parse_config(text)) as bridge:
        events = (CAPTURES / "a_simple_http.sse").read_text()
        for run_id in ("9a0c2cf8-3e33-4a8f-8c39-9f5e0a1e7a01", poisoned):
            original = events.split('"workflow_run_id":"')[1].split('"')[0]
            body = events.replace(original, run_id).encode()
            headers = {
                **signed_headers(body, **{"X-Dify-App-Id": "app-under-test"}),
                "Content-Type": "text/event-stream",
            }
            deadline = time.monotonic() + 10
            while httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 429:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        deadline = time.monotonic() + 10
        while "dify_bridge_export_dead_lettered_total{" not in (text := httpx.get(f"{bridge.base}/metrics").text):
            assert time.monotonic() < deadline, text
            time.sleep(0.1)

    assert _sample(text, "dify_bridge_export_requests_total", exporter="otlp", outcome="retryable") == 2
    assert _sample(text, "dify_bridge_export_requests_total", exporter="otlp", outcome="refused") >= 1
    assert _sample(text, "dify_bridge_export_retries_total", exporter="otlp") == 2
    assert _sample(text, "dify_bridge_export_spans_total", exporter="otlp") == 4
    assert _sample(text, "dify_bridge_export_dead_lettered_total", exporter="otlp") == 4
    assert (
        _sample(text, "dify_bridge_backpressure_refusals_total", reason="too_many_runs_in_flight", receiver="stream")
        >= 1
    )
    assert _sample(text, "dify_bridge_queue_spans", exporter="otlp") == 0
    assert _sample(text, "dify_bridge_queue_age_seconds", exporter="otlp") == 0
    assert _sample(text, "dify_bridge_dead_letters") == 1
    assert _sample(text, "dify_bridge_runs_in_flight") == 0


def test_a_collection_reads_each_exporters_backlog_once(
    tmp_path: Path, otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gauges (spans waiting, age of the oldest) come from one scan of the queue per exporter."""
    telemetry = Telemetry()
    service = BridgeService(bridge_config(tmp_path, otlp_sink.grpc_endpoint), meter=telemetry.meter)
    reads: list[str] = []
    backlog = service.storage.backlog

    def counted(exporter: str, pipelines: frozenset[str]) -> tuple[int, int, float | None]:
        reads.append(exporter)
        return backlog(exporter, pipelines)

    monkeypatch.setattr(service.storage, "backlog", counted)
    try:
        text = generate_latest(telemetry.registry).decode()
        assert reads == ["otlp"]
        assert _sample(text, "dify_bridge_queue_spans", exporter="otlp") == 0
        assert _sample(text, "dify_bridge_queue_age_seconds", exporter="otlp") == 0
        generate_latest(telemetry.registry)
        assert reads == ["otlp", "otlp"]  # the next collection reads again, however soon
    finally:
        service.shutdown(timeout=0)
        telemetry.shutdown()


@pytest.mark.parametrize("exporter", ["otlp", "otlphttp"])
def test_metrics_are_pushed_over_otlp_beside_the_traces(tmp_path: Path, otlp_sink: OtlpSink, exporter: str) -> None:
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint)
    if exporter == "otlphttp":
        text = text.replace("exporters: {otlp:", f'exporters: {{otlphttp: {{endpoint: "{otlp_sink.http_base}"}}, otlp:')
    text = text.replace("  queue: {", f"  metrics: {{exporters: [{exporter}], interval: 200ms}}\n  queue: {{")
    with BridgeServer(parse_config(text)) as bridge:
        body = (CAPTURES / "a_llm_simple.sse").read_bytes()
        headers = {**signed_headers(body, **{"X-Dify-App-Id": "app-under-test"}), "Content-Type": "text/event-stream"}
        assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 202
        deadline = time.monotonic() + 10
        while not otlp_sink.metric_points("gen_ai.client.token.usage"):
            assert time.monotonic() < deadline, "no metrics pushed"
            time.sleep(0.1)
        runs = otlp_sink.metric_points("dify.workflow.runs")
    assert runs and runs[-1] == ({"dify.app.name": "Support Bot",
                                  "dify.run.status": "succeeded"}, 1.0)  # fmt: skip
    inputs = [v for attrs, v in otlp_sink.metric_points("gen_ai.client.token.usage")
              if attrs["gen_ai.token.type"] == "input"]  # fmt: skip
    assert inputs[-1] == 14


def test_metrics_only_go_to_otlp_exporters(tmp_path: Path) -> None:
    text = (
        bridge_config_text(tmp_path, "127.0.0.1:9")
        .replace("exporters: {otlp:", "exporters: {console: {}, otlp:")
        .replace("  queue: {", "  metrics: {exporters: [console]}\n  queue: {")
    )
    with pytest.raises(ConfigError, match=r"service\.metrics\.exporters\.0: 'console': metrics go to otlp or otlphttp"):
        parse_config(text, "bridge.yaml")

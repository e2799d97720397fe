from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx2 as httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.types import Attributes
from prometheus_client import generate_latest

from bridge.config.errors import ConfigError
from bridge.config.loader import parse_config
from bridge.service.service import BridgeService
from bridge.telemetry.aggregates import OVERFLOW, Aggregates
from bridge.telemetry.metrics import Telemetry
from tests.bridge_server import API_KEY, BridgeServer, bridge_config, bridge_config_text, signed_headers
from tests.bridge_server import metric_sample as _sample
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES

DOCS = Path(__file__).parents[2] / "docs"


def test_metrics_count_runs_spans_and_detections(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as bridge:
        body = (
            (CAPTURES / "a_llm_simple.sse").read_bytes().replace(b'"finish_reason":"stop"', b'"finish_reason":"length"')
        )
        headers = {
            **signed_headers(body, headers={"X-Dify-App-Id": "app-under-test"}),
            "Content-Type": "text/event-stream",
        }
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
    # The metrics name the service the traces name (`service.resource`), not the SDK's "unknown_service".
    assert _sample(text, "target_info", service_name="dify") == 1


def test_metrics_show_the_queue_exports_retries_dead_letters_and_refusals(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    otlp_sink.fail_next(2, grpc_code=grpc.StatusCode.UNAVAILABLE)  # two retries, then the backend takes it
    poisoned = "11111111-2222-3333-4444-555555555555"
    otlp_sink.refuse_traces({poisoned.replace("-", "")})
    # The retries keep the first run in flight for about a second, so the second is refused at least once.
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, exporter="retry_on_failure: {initial_interval: 300ms}",
                              queue="max_runs_in_flight: 1")  # fmt: skip
    with BridgeServer(parse_config(text)) as bridge:
        events = (CAPTURES / "a_simple_http.sse").read_text()
        for run_id in ("9a0c2cf8-3e33-4a8f-8c39-9f5e0a1e7a01", poisoned):
            original = events.split('"workflow_run_id":"')[1].split('"')[0]
            body = events.replace(original, run_id).encode()
            headers = {
                **signed_headers(body, headers={"X-Dify-App-Id": "app-under-test"}),
                "Content-Type": "text/event-stream",
            }
            deadline = time.monotonic() + 10
            while httpx.post(f"{bridge.base}/api/v1/dify/events", content=body, headers=headers).status_code == 429:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        deadline = time.monotonic() + 10
        while not _settled(text := httpx.get(f"{bridge.base}/metrics").text):
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


def _settled(text: str) -> bool:
    """Both runs are through: one dead-lettered, nothing left queued or in flight. The gauges are read at
    collection while the counters move as things happen, so waiting for the dead letter alone races them."""
    try:
        return (
            _sample(text, "dify_bridge_dead_letters") == 1
            and _sample(text, "dify_bridge_queue_spans", exporter="otlp") == 0
            and _sample(text, "dify_bridge_runs_in_flight") == 0
        )
    except ValueError:  # a sample not written yet
        return False


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
        headers = {
            **signed_headers(body, headers={"X-Dify-App-Id": "app-under-test"}),
            "Content-Type": "text/event-stream",
        }
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


def _llm_calls(models: int) -> bytes:
    """One OTLP request of `models` LLM spans, each naming a model of its own (and a trace of its own)."""
    exported = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "attacker"}))
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracer = provider.get_tracer("attack")
    for i in range(models):
        attributes: Attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": f"model-{i}",
                      "gen_ai.provider.name": f"provider-{i}", "gen_ai.usage.input_tokens": 3,
                      "gen_ai.usage.output_tokens": 4, "dify.price.total": 0.5}  # fmt: skip
        tracer.start_span("chat", attributes=attributes).end()
    return encode_spans(exported.get_finished_spans()).SerializeToString()


def test_distinct_model_names_cannot_grow_the_metrics_without_bound(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """Issue 24.8: 10,000 spans with distinct model names in one OTLP request grew /metrics from 1.7 KB to 44 MB
    (2.2 s a scrape); four parallel scrapes held /healthz for 7.6 s."""
    config = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{protocols: {http: {}}}")
    config = config.replace("service:\n", "service:\n  metrics: {max_series: 50}\n")
    with BridgeServer(parse_config(config)) as bridge:
        headers = {"content-type": "application/x-protobuf", "api_key": API_KEY}
        response = httpx.post(f"{bridge.base}/v1/traces", content=_llm_calls(10_000), headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        otlp_sink.wait_for_spans(10_000, timeout=120)
        deadline = time.monotonic() + 30
        while 'otel_metric_overflow="true"' not in (page := httpx.get(f"{bridge.base}/metrics", timeout=30).text):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        tokens = [line for line in page.splitlines() if line.startswith("gen_ai_client_token_usage_count{")]
        assert len(tokens) == 51  # 50 sets and the overflow
        overflow = [line for line in tokens if 'otel_metric_overflow="true"' in line]
        assert float(overflow[0].rsplit(" ", 1)[1]) == 2 * 10_000 - 50  # every token count past the 50th set
        costs = [line for line in page.splitlines() if line.startswith("dify_cost_total{")]
        assert len(costs) == 51
        assert len(page) < 51 * 6_000, len(page)  # a histogram set is about 4.5 KB of text


def test_scrapes_of_a_large_page_leave_the_server_answering(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """Issue 24.8: four parallel scrapes of a 44 MB page held /healthz for 7.6 s (they rendered on the event loop)."""
    config = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{protocols: {http: {}}}")
    config = config.replace("service:\n", "service:\n  metrics: {max_series: 2000}\n")
    with BridgeServer(parse_config(config)) as bridge:
        headers = {"content-type": "application/x-protobuf", "api_key": API_KEY}
        assert httpx.post(f"{bridge.base}/v1/traces", content=_llm_calls(1000), headers=headers).status_code == 200
        otlp_sink.wait_for_spans(1000, timeout=60)
        started = time.monotonic()
        while len(httpx.get(f"{bridge.base}/metrics", timeout=30).text) < 5_000_000:  # 2,000 token histogram sets
            assert time.monotonic() - started < 30
            started = time.monotonic()
        one_scrape = time.monotonic() - started
        with ThreadPoolExecutor(4) as scrapes:
            pages = [scrapes.submit(httpx.get, f"{bridge.base}/metrics", timeout=60) for _ in range(4)]
            time.sleep(one_scrape / 4)  # the scrapes are rendering
            started = time.monotonic()
            assert httpx.get(f"{bridge.base}/healthz", timeout=30).status_code == 200
            health_s = time.monotonic() - started
            assert all(page.result().status_code == 200 for page in pages)
    assert health_s < one_scrape / 3, (health_s, one_scrape)


def test_idle_series_are_dropped_and_start_over() -> None:
    aggregates = Aggregates(max_series=2, idle_timeout=0.05)
    runs = aggregates.counter("runs", "{run}", "Runs")
    for app in ("a", "b", "c"):
        aggregates.apply([("runs", 1, (("app", app),))])
    assert runs.values == {(("app", "a"),): 1, (("app", "b"),): 1, OVERFLOW: 1}
    time.sleep(0.06)
    aggregates.cumulative(time.time_ns())  # a collection: what was recorded since the last sweep stays
    assert set(runs.values) == {(("app", "a"),), (("app", "b"),), OVERFLOW}
    aggregates.apply([("runs", 1, (("app", "b"),))])
    time.sleep(0.06)
    (metric,) = aggregates.cumulative(time.time_ns())
    assert set(runs.values) == {(("app", "b"),)}
    assert [(p.attributes, getattr(p, "value", None)) for p in metric.data.data_points] == [({"app": "b"}, 2)]
    aggregates.apply([("runs", 1, (("app", "c"),))])  # a slot came free: c gets its own set again
    assert runs.values[(("app", "c"),)] == 1


def _documented_gauges() -> dict[str, str]:
    """docs/metrics.md's gauges, each by its Prometheus name as that page's naming rule makes it."""
    suffix = {"s": "_seconds", "By": "_bytes"}
    gauges = {}
    for row in (DOCS / "metrics.md").read_text().splitlines():
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        if len(cells) >= 2 and cells[1].startswith("gauge"):
            name = cells[0].strip("`")
            unit = cells[1].partition(", ")[2]
            gauges[name] = name.replace(".", "_") + suffix.get(unit, "")
    return gauges


def test_every_documented_gauge_is_on_the_metrics_page_from_the_start(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    gauges = _documented_gauges()
    assert len(gauges) == 7  # the doc's table, so a changed layout cannot make this test check nothing
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as bridge:
        page = httpx.get(f"{bridge.base}/metrics").text
    shown = {line.split("{")[0].split(" ")[0] for line in page.splitlines() if not line.startswith("#")}
    assert {name: prometheus for name, prometheus in gauges.items() if prometheus not in shown} == {}

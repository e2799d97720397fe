from __future__ import annotations

import time
from pathlib import Path

import httpx2 as httpx

from tests.bridge_server import BridgeServer, bridge_config, signed_headers
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

    def sample(name: str, **labels: str) -> str:
        lines = [line for line in text.splitlines() if line.startswith(name + "{")]
        wanted = [f'{key}="{value}"' for key, value in labels.items()]
        (line,) = [line for line in lines if all(label in line for label in wanted)]
        return line.rsplit(" ", 1)[1]

    assert sample("dify_bridge_runs_total", receiver="stream", status="succeeded") == "1.0"
    assert sample("dify_bridge_spans_total", receiver="stream") == "4.0"
    app = "fe4d806e-dc11-48d9-bc7a-e3c3dd8457d3"
    assert sample("dify_bridge_detections_total", app=app, detector="context_overflow", severity="high") == "1.0"

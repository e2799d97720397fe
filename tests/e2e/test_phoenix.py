"""End to end against a real tracing backend: runs sent through the running bridge by every receiver
(webhook, stream, proxy, Dify's own OTLP export, and `replay`) land in Arize Phoenix, read back over its
REST API: the exact span count, the tree, the OpenInference span kinds, tokens and cost Phoenix reads,
and the detection events."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from bridge.config.loader import parse_config
from bridge.dify.export import recognize
from bridge.dify.model import WorkflowRun
from bridge.dify.webhook_payload import normalize_webhook
from bridge.trace.spans import build_spans, trace_id_for
from tests.bridge_server import API_KEY, APP_ID, BridgeServer, ThreadedServer, bridge_config_text, signed_headers
from tests.dify_recordings import recorded_spans, send_recorded
from tests.e2e.phoenix import Phoenix
from tests.fake_dify import DIFY_KEY, FakeDify
from tests.runs import CAPTURES, EXAMPLES, load_run

pytestmark = pytest.mark.e2e

# Dify 1.14.1 capture of a one-LLM workflow, its finish reason turned into "length": context_overflow fires.
LLM_RUN = (CAPTURES / "a_llm_simple.sse").read_bytes().replace(b'"finish_reason":"stop"', b'"finish_reason":"length"')


def _with_project(text: str, project: str) -> str:
    return text.replace(
        "service:\n", f"service:\n  resource: {{service.name: dify, openinference.project.name: {project}}}\n", 1
    )


def _names(spans: list[Any], name: str = "name") -> Counter[str]:
    return Counter(s[name] if isinstance(s, dict) else s.name for s in spans)


def _send_everything(bridge: BridgeServer, tmp_path: Path, phoenix: Phoenix, project: str) -> dict[str, WorkflowRun]:
    """One run through each receiver (and `replay`); the runs by receiver, as the bridge builds them."""
    runs: dict[str, WorkflowRun] = {}

    payload = copy.deepcopy(json.loads((EXAMPLES / "webhook_full.json").read_text()))
    payload.update(app_id=APP_ID, workflow_run_id=str(uuid.uuid4()))
    body = json.dumps(payload).encode()
    assert (
        httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body)).status_code == 202
    )
    runs["webhook"] = normalize_webhook(payload)

    headers = {**signed_headers(LLM_RUN, headers={"X-Dify-App-Id": APP_ID}), "Content-Type": "text/event-stream"}
    assert httpx.post(f"{bridge.base}/api/v1/dify/events", content=LLM_RUN, headers=headers).status_code == 202
    runs["stream"] = load_run(CAPTURES / "a_llm_simple.sse")

    request = {"inputs": {}, "response_mode": "streaming", "user": "e2e"}
    proxied = httpx.post(
        f"{bridge.base}/local-dify/v1/workflows/run", json=request, headers={"Authorization": DIFY_KEY}
    )
    assert proxied.status_code == 200
    runs["proxy"] = load_run(CAPTURES / "b_iteration_ifelse_http.sse")

    # Dify's own tracing export (its Arize Phoenix provider) pointed at the bridge: what Dify 1.14.1 sent, recorded.
    assert all(a.status_code == 200 for a in send_recorded(bridge.base, "u_llm_invoke_error", API_KEY))
    recognized = recognize(recorded_spans("u_llm_invoke_error"), "otlp")
    assert recognized is not None
    runs["otlp"] = recognized.run

    config = tmp_path / "replay.yaml"
    config.write_text(_with_project(
        f'exporters: {{otlp: {{endpoint: "{phoenix.grpc_endpoint}", tls: {{insecure: true}}}}}}\n'
        "service:\n  pipelines: {traces: {exporters: [otlp]}}\n", project))  # fmt: skip
    replayed = EXAMPLES / "workflow_full.sse"
    done = subprocess.run([sys.executable, "-m", "bridge.cli", "replay", "--config", str(config), str(replayed)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs["replay"] = load_run(replayed)
    return runs


def test_every_receiver_reaches_phoenix_whole(tmp_path: Path, phoenix: Phoenix) -> None:
    project = f"e2e-{uuid.uuid4().hex[:8]}"
    fake = FakeDify()
    with ThreadedServer(fake.app) as dify:
        text = _with_project(
            bridge_config_text(tmp_path, phoenix.grpc_endpoint, dify_url=dify.base, otlp="{}"), project
        )
        with BridgeServer(parse_config(text)) as bridge:
            runs = _send_everything(bridge, tmp_path, phoenix, project)
            expected = {source: build_spans(run) for source, run in runs.items()}
            stored = phoenix.wait_for_spans(project, sum(len(spans) for spans in expected.values()))

    assert len(stored) == sum(len(spans) for spans in expected.values())  # exactly: nothing lost, nothing twice
    assert len({s["context"]["span_id"] for s in stored}) == len(stored)
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for span in stored:
        by_trace.setdefault(span["context"]["trace_id"], []).append(span)
    traces = {source: by_trace.get(f"{trace_id_for(run.run_id):032x}", []) for source, run in runs.items()}
    for source, spans in traces.items():
        want = expected[source]
        assert len(spans) == len(want), source
        ids = {s["context"]["span_id"] for s in spans}
        roots = [s for s in spans if s["parent_id"] is None]
        assert len(roots) == 1 and roots[0]["span_kind"] == "CHAIN", source
        assert all(s["parent_id"] in ids for s in spans if s["parent_id"] is not None), source
        # Root names carry the registered app's name where the bridge knows it; every other name is the same.
        assert _names([s for s in spans if s["parent_id"]]) == _names([s for s in want if s.parent]), source

    llm = next(s for s in traces["stream"] if s["span_kind"] == "LLM")
    assert llm["name"] == "chat gpt-4o-mini"
    assert (llm["attributes"]["llm.token_count.prompt"], llm["attributes"]["llm.token_count.completion"]) == (14, 10)
    assert llm["attributes"]["llm.cost.total"] == pytest.approx(0.0000081)
    detections = [e for s in traces["stream"] for e in s["events"] if e["name"] == "detection"]
    assert [e["attributes"]["detection.detector"] for e in detections] == ["context_overflow"]

    rounds = [s for s in traces["proxy"] if s["name"].startswith("iteration[")]
    assert len(rounds) == 3
    (failed_llm,) = [s for s in traces["otlp"] if s["span_kind"] == "LLM"]
    assert failed_llm["status_code"] == "ERROR"
    assert {s["span_kind"] for s in traces["webhook"]} >= {"CHAIN", "LLM"}

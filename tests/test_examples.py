"""The issue's scenarios (examples/runs), replayed into a real OTLP receiver and decoded."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.cli.commands import main
from bridge.config.loader import parse_config
from bridge.trace.spans import build_spans
from tests.bridge_server import API_KEY, APP_ID, APP_SECRET, BridgeServer, bridge_config, bridge_config_text
from tests.cli.test_commands import _tree
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import EXAMPLES, load_run, load_runs

STATUS_ERROR = 2


def _replay(tmp_path: Path, sink: OtlpSink, name: str, spans: int) -> list[ReceivedSpan]:
    config = tmp_path / "c.yaml"
    config.write_text(
        f'exporters: {{otlp: {{endpoint: "{sink.grpc_endpoint}", tls: {{insecure: true}}}}}}\n'
        "processors: {batch: {timeout: 10ms}}\n"
        "service: {pipelines: {traces: {processors: [batch], exporters: [otlp]}}}\n"
    )
    assert main(["replay", "--quiet", "--config", str(config), str(EXAMPLES / name)]) == 0
    received = sink.wait_for_spans(spans)
    assert len(received) == spans
    by_id = {s.span_id: s for s in received}
    assert len(by_id) == spans
    for span in received:
        if span.parent_span_id:
            parent = by_id[span.parent_span_id]
            assert parent.start_ns <= span.start_ns <= span.end_ns <= parent.end_ns, span.name
    return received


def _root(spans: list[ReceivedSpan]) -> ReceivedSpan:
    (root,) = [s for s in spans if s.parent_span_id is None]
    return root


@pytest.mark.parametrize("name", ["workflow_full.sse", "workflow_full.ndjson", "workflow_full_array.json"])
def test_full_workflow(tmp_path: Path, otlp_sink: OtlpSink, name: str) -> None:
    spans = _replay(tmp_path, otlp_sink, name, 13)
    assert _tree(spans) == [
        "invoke_workflow c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
        "  start Start",
        "  retrieval city-facts",
        "  iteration Per city",
        "    iteration[0]",
        "      chat gpt-4o-mini",
        "      execute_tool Weather lookup",
        "    iteration[1]",
        "      chat gpt-4o-mini",
        "      execute_tool Weather lookup",
        "        execute_tool Weather lookup (attempt 1)",
        "  code Format report",
        "  end End",
    ]
    root = _root(spans)
    assert root.trace_id == uuid.UUID("7b0c6f8e-3d4a-4b7e-9a51-2f6c8d9e0a11").hex
    assert root.status_code == 0 and root.attributes["dify.run.status"] == "partial-succeeded"
    assert (root.attributes["gen_ai.usage.input_tokens"], root.attributes["gen_ai.usage.output_tokens"]) == (230, 55)
    assert root.attributes["dify.run.total_tokens"] == 285
    assert root.attributes["dify.price.total"] == pytest.approx(0.0000675)  # the iteration's own total is not added
    assert root.attributes["dify.run.exceptions_count"] == 1
    (code,) = [s for s in spans if s.name == "code Format report"]
    assert code.status_code == STATUS_ERROR
    assert code.status_message == "NameError: name 'reprot' is not defined"
    assert code.attributes["dify.node.error_strategy"] == "default-value"
    (attempt,) = [s for s in spans if "attempt" in s.name]
    assert attempt.status_code == STATUS_ERROR and attempt.status_message == "Tool weather timed out after 0.2s"
    assert attempt.end_ns - attempt.start_ns == 200_000_000
    rounds = sorted((s for s in spans if s.name.startswith("iteration[")), key=lambda s: s.name)
    assert [r.end_ns - r.start_ns for r in rounds] == [550_000_000, 870_000_000]  # iteration_duration_map
    tools = [s for s in spans if s.name == "execute_tool Weather lookup"]
    assert {s.attributes["dify.iteration.index"] for s in tools} == {0, 1}
    assert all(s.attributes["gen_ai.tool.name"] == "Weather lookup" for s in tools)
    (retrieval,) = [s for s in spans if s.name == "retrieval city-facts"]
    assert retrieval.attributes["retrieval.documents.1.document.score"] == 0.64


def test_loop_stopped_by_user(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    spans = _replay(tmp_path, otlp_sink, "loop_stopped.sse", 9)
    assert [line.strip() for line in _tree(spans) if "loop[" in line] == ["loop[0]", "loop[1]", "loop[2]"]
    root = _root(spans)
    assert root.attributes["dify.run.status"] == "stopped" and root.attributes["dify.run.error"] == "Stopped by user."
    (loop,) = [s for s in spans if s.name == "loop Poll job"]
    assert loop.attributes["dify.node.status"] == "stopped" and loop.attributes["dify.container.limit"] == 10


def test_chatflow_with_agent(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    spans = _replay(tmp_path, otlp_sink, "chatflow_agent.sse", 9)
    tree = _tree(spans)
    assert tree[:2] == ["invoke_workflow e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b", "  start Start"]
    assert "  invoke_agent Weather agent" in tree
    agent_at = tree.index("  invoke_agent Weather agent")
    assert tree[agent_at + 1 : agent_at + 4] == ["    ROUND 1", "      Thought", "      execute_tool get_weather"]
    root = _root(spans)
    assert (
        root.attributes["session.id"]
        == root.attributes["gen_ai.conversation.id"]
        == ("f1e2d3c4-b5a6-4978-8877-665544332211")
    )
    assert root.attributes["dify.message.total_tokens"] == 340
    assert "city-facts" in root.attributes["dify.message.retriever_resources"]
    (call,) = [s for s in spans if s.name == "execute_tool get_weather" and "dify.agent_log.id" in s.attributes]
    assert call.attributes["dify.agent_log.status"] == "success"
    assert "18C" in call.attributes["output.value"]
    thoughts = [s for s in spans if "dify.agent_thought.id" in s.attributes]
    assert len(thoughts) == 2
    (agent,) = [s for s in spans if s.name == "invoke_agent Weather agent"]
    assert (
        agent.attributes["gen_ai.usage.input_tokens"] == 300 and agent.attributes["openinference.span.kind"] == "AGENT"
    )


def test_out_of_order_and_duplicates_give_the_sorted_trace() -> None:
    shuffled = build_spans(load_run(EXAMPLES / "out_of_order.ndjson"))
    ordered = build_spans(load_run(EXAMPLES / "out_of_order_sorted.ndjson"))

    def summary(spans: list[ReadableSpan]) -> list[tuple[object, ...]]:
        return [
            (s.context, s.parent, s.name, s.start_time, s.end_time, dict(s.attributes or {}), s.status.status_code)
            for s in spans
        ]

    assert summary(shuffled) == summary(ordered)


def test_run_without_terminal_event_is_exported_as_incomplete(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    spans = _replay(tmp_path, otlp_sink, "no_terminal.sse", 4)
    assert _root(spans).attributes["dify.run.status"] == "incomplete"
    (llm,) = [s for s in spans if s.name == "llm LLM"]
    assert llm.attributes["dify.node.status"] == "incomplete"


def test_legacy_parallel_and_unknown_events_are_root_events(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    spans = _replay(tmp_path, otlp_sink, "parallel_legacy.sse", 5)
    events = [name for name, _, _ in _root(spans).events]
    assert events == ["parallel_branch_started", "parallel_branch_finished"] * 2 + ["future_event_x"]
    (template,) = [s for s in spans if s.name == "template-transform Template 1"]
    assert template.attributes["dify.node.parallel_id"] == "par1"


def test_java_seed_camel_and_snake_give_the_same_trace() -> None:
    camel = build_spans(load_run(EXAMPLES / "java_seed_camel.ndjson"))
    snake = build_spans(load_run(EXAMPLES / "java_seed_snake.ndjson"))
    assert [(s.context, s.parent, s.name, dict(s.attributes or {})) for s in camel] == [
        (s.context, s.parent, s.name, dict(s.attributes or {})) for s in snake
    ]
    assert [s.name for s in camel] == ["invoke_workflow 66be1f25-8669-479e-b9e3-511317016d4e", "start 开始",
                                       "chat qwen2.5-instruct", "end 结束"]  # fmt: skip
    llm = camel[2].attributes or {}
    assert llm["gen_ai.provider.name"] == "xinference" and llm["llm.token_count.total"] == 1446
    assert "sys.user_id" in str(camel[1].attributes)  # user data keys were not rewritten
    blocking = load_run(EXAMPLES / "java_seed_blocking_camel.json")
    assert (blocking.run_id, blocking.total_tokens, blocking.status) == (
        "04dce0f3-bd5c-4893-a3d5-1eba2c0c8145",
        1446,
        "succeeded",
    )


def test_webhook_payloads(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    (seed,) = load_runs(EXAMPLES / "webhook_pisama.json")
    seed_spans = build_spans(seed)
    # No model name in the payload: the llm node keeps the generic "{node_type} {title}" name.
    assert [s.name for s in seed_spans] == ["invoke_workflow My App", "llm Classify"]
    assert seed_spans[0].context is not None
    assert seed_spans[0].context.trace_id == int.from_bytes(hashlib.sha256(b"run-001").digest()[:16], "big")
    spans = _replay(tmp_path, otlp_sink, "webhook_full.json", 10)
    root = _root(spans)
    assert root.name == "invoke_workflow Trip Planner" and root.status_code == STATUS_ERROR
    assert root.resource["dify.app.name"] == "Trip Planner"
    assert root.end_ns - root.start_ns == 4_500_000_000
    tree = _tree(spans)
    assert tree[3:7] == ["  iteration Each museum", "    iteration[0]", "      execute_tool Opening hours",
                         "    iteration[1]"]  # fmt: skip
    (book,) = [s for s in spans if s.name == "http-request Book tickets"]
    assert book.status_code == STATUS_ERROR and book.status_message == "HTTP 502 from booking API"
    (plan,) = [s for s in spans if s.name == "chat gpt-4o-mini"]
    assert plan.attributes["llm.token_count.total"] == 150 and plan.attributes["dify.price.total"] == 0.000045


def test_every_span_count_in_the_examples_readme_is_what_the_files_give() -> None:
    """examples/runs/README.md's "N spans" for each file it names first in a row (one run per file)."""
    rows = [line for line in (EXAMPLES / "README.md").read_text().splitlines() if line.startswith("| `")]
    checked = 0
    for row in rows:
        files = re.findall(r"`([\w.]+\.(?:sse|ndjson|json))`", row.split("|")[1])
        said = re.search(r"(\d+) spans?\b", row.split("|")[3])
        if said is None:
            continue
        for name in files:
            path = EXAMPLES / name
            if not path.exists():  # `.ndjson`, `_array.json`: suffixes of the first name
                continue
            assert len(build_spans(load_run(path))) == int(said.group(1)), name
            checked += 1
    assert checked >= 10


def _doc_block(doc: Path, after: str, language: str) -> str:
    """The first ```language block of `doc` after the line starting with `after`."""
    text = doc.read_text()
    start = text.index(f"```{language}\n", text.index(after)) + len(language) + 4
    return text[start : text.index("```", start)]


WEBHOOK_SECTION = "## 3. Pushed run summaries"


def test_the_signing_snippets_of_the_docs_are_taken_once(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """docs/getting-runs-in.md's Code node and shell signers, run as printed against a served bridge; a replay of
    what they sent is refused."""
    doc = Path(__file__).parent.parent / "docs" / "getting-runs-in.md"
    code = textwrap.dedent(_doc_block(doc, WEBHOOK_SECTION, "python"))  # indented under the recipe's step
    namespace: dict[str, Any] = {}
    exec(compile(code, str(doc), "exec"), namespace)
    run_id = str(uuid.uuid4())
    made = namespace["main"](run_id, APP_ID, int(time.time()), APP_SECRET, "Paris is sunny")
    headers = {"Content-Type": "application/json", "X-Pisama-API-Key": API_KEY, "X-Pisama-Timestamp": made["timestamp"],
               "X-Pisama-Nonce": made["nonce"], "X-Pisama-Signature": made["signature"]}  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps({"workflow_run_id": str(uuid.uuid4()), "app_id": APP_ID,
                                                   "status": "failed", "nodes": []}))  # fmt: skip
    shell = _doc_block(doc, WEBHOOK_SECTION, "sh")
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as bridge:
        url = f"{bridge.base}/api/v1/dify/webhook"
        assert httpx.post(url, content=made["body"], headers=headers).status_code == 202
        assert httpx.post(url, content=made["body"], headers=headers).status_code == 409
        env = {**os.environ, "SECRET": APP_SECRET, "BRIDGE": bridge.base, "BRIDGE_API_KEY": API_KEY}
        sent = subprocess.run(["sh", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        assert json.loads(sent.stdout)["accepted"] is True, sent.stdout + sent.stderr
        spans = otlp_sink.wait_for_spans(2)
    assert {s.attributes["dify.run.status"] for s in spans} == {"succeeded", "failed"}


def test_the_stream_snippet_of_the_docs_sends_a_recorded_run(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """docs/getting-runs-in.md's stream receiver block, run as printed with the real capture it names: the
    docs had no way to send raw events to the `stream` receiver but the README's one table row."""
    doc = Path(__file__).parent.parent / "docs" / "getting-runs-in.md"
    section = "### Raw stream events"
    capture = re.search(r"`(tests/testdata/[\w./-]+\.sse)`", doc.read_text().split(section, 1)[1])
    assert capture is not None
    shutil.copy(Path(__file__).parent.parent / capture.group(1), tmp_path / "run.sse")
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as bridge:
        env = {**os.environ, "SECRET": APP_SECRET, "BRIDGE": bridge.base, "BRIDGE_API_KEY": API_KEY, "APP_ID": APP_ID}
        shell = _doc_block(doc, section, "sh")
        sent = subprocess.run(["sh", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        assert json.loads(sent.stdout)["accepted"] > 0, sent.stdout + sent.stderr
        spans = otlp_sink.wait_for_spans(4)
    apps = {s.attributes["dify.app.id"] for s in spans if "dify.app.id" in s.attributes}
    assert len(spans) == 4 and apps == {APP_ID}


def test_the_recorded_export_snippet_of_the_docs_is_rebuilt(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """docs/getting-runs-in.md's way to try the `otlp` receiver without a Dify: the recording it names, sent by its
    block as printed, is rebuilt into the trace and span count the text promises."""
    root = Path(__file__).parent.parent
    doc = root / "docs" / "getting-runs-in.md"
    section = "Without a Dify at hand"
    said = re.search(r"trace id `([0-9a-f]{32})`, (\d+) spans", doc.read_text().split(section, 1)[1])
    assert said is not None
    config = parse_config(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{}"), "test.yaml")
    with BridgeServer(config) as bridge:
        env = {**os.environ, "BRIDGE": bridge.base, "BRIDGE_API_KEY": API_KEY}
        shell = _doc_block(doc, section, "sh")
        sent = subprocess.run(["sh", "-c", shell], cwd=root, env=env, capture_output=True, text=True, check=True)
        assert set(sent.stdout.split()) == {"200"}, sent.stdout + sent.stderr
        spans = otlp_sink.wait_for_spans(int(said.group(2)))
    assert len(spans) == int(said.group(2)) and {s.trace_id for s in spans} == {said.group(1)}

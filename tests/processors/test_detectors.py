from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.util.types import Attributes
from pydantic import ValidationError

from bridge.cli.commands import main
from bridge.processors.detectors import Config, DetectionProcessor, create
from detectors import Finding, Trace
from tests.detectors.build import llm, node, run_spans
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES, spans_of

LEAKY = [
    node("vault", "tool", outputs={"text": "key=sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"}),
    llm(prompt="use sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9 " + "padding " * 600, finish="length"),
]


def test_empty_config_enables_every_built_in_detector() -> None:
    """hallucination ships on since session 22 (held-out 11 and the fifth real recording, scored blind: 1 of 551 and
    0 of 40 clean runs flagged; docs/detectors.md); `enabled` turns any detector on or off."""
    processor = create(Config())
    assert sorted(key for key, _ in processor.detectors) == [
        "context_overflow",
        "cost",
        "dify_classifier_drift",
        "dify_iteration_escape",
        "dify_model_fallback",
        "dify_rag_poisoning",
        "dify_tool_schema_mismatch",
        "dify_variable_leak",
        "hallucination",
        "loop",
        "state_corruption",
        "task_derailment",
    ]
    off = create(Config.model_validate({"task_derailment": {"enabled": False}})).detectors
    assert "task_derailment" not in [key for key, _ in off]
    off = create(Config.model_validate({"dify_classifier_drift": {"enabled": False}})).detectors
    assert "dify_classifier_drift" not in [key for key, _ in off]
    off = create(Config.model_validate({"hallucination": {"enabled": False}})).detectors
    assert "hallucination" not in [key for key, _ in off]


@pytest.mark.parametrize(
    ("settings", "loc", "error"),
    [
        ({"halucination": {}}, ("halucination",), "unknown detector 'halucination'; did you mean 'hallucination'?"),
        ({"nonsense": {}}, ("nonsense",), "unknown detector 'nonsense'; known detectors: context_overflow, cost, "),
        ({"cost": {"budget_per_run": -1}}, ("cost", "budget_per_run"), "Input should be greater than 0"),
        ({"loop": {"retry_storms": 3}}, ("loop", "retry_storms"), "Extra inputs are not permitted"),
        ({"evidence_max_bytes": 10}, ("evidence_max_bytes",), "greater than or equal to 64"),
    ],
)
def test_invalid_settings_name_the_detector_and_key(
    settings: dict[str, object], loc: tuple[str, ...], error: str
) -> None:
    """Each error under the detector's key and setting, so that a config file's error names that setting's line."""
    with pytest.raises(ValidationError) as raised:
        Config.model_validate(settings)
    (found,) = raised.value.errors()
    assert found["loc"] == loc and error in (
        str(found["ctx"]["error"]) if found["type"] == "value_error" else found["msg"]
    )


def test_findings_become_detection_events_and_root_attributes() -> None:
    processor = DetectionProcessor(Config(evidence_max_bytes=64))
    spans = run_spans(LEAKY)
    out, seen = processor.attach(spans)
    root = next(s for s in out if s.parent is None)
    assert root.attributes is not None
    assert root.attributes["detection.count"] == 2
    assert root.attributes["detection.detectors"] == ["context_overflow", "dify_variable_leak"]
    (llm_span,) = [s for s in out if (s.attributes or {}).get("dify.node.type") == "llm"]
    events = [e for e in llm_span.events if e.name == "detection"]
    assert sorted(str((e.attributes or {})["detection.detector"]) for e in events) == [
        "context_overflow",
        "dify_variable_leak",
    ]
    leak = next(
        e.attributes for e in events if e.attributes and e.attributes["detection.detector"] == "dify_variable_leak"
    )
    evaluation = next(
        e.attributes
        for e in llm_span.events
        if e.name == "gen_ai.evaluation.result"
        and e.attributes
        and e.attributes["gen_ai.evaluation.name"] == "dify_variable_leak"
    )
    assert leak is not None and evaluation["gen_ai.evaluation.score.value"] == leak["detection.confidence"] == 0.9
    assert evaluation["gen_ai.evaluation.score.label"] == leak["detection.severity"]
    assert evaluation["gen_ai.evaluation.explanation"] == leak["detection.summary"]
    assert len(str(leak["detection.evidence"]).encode()) <= 64
    assert sorted(finding.detector for finding in seen) == ["context_overflow", "dify_variable_leak"]
    untouched = [s for s in spans if (s.attributes or {}).get("dify.node.type") == "tool"]
    assert untouched[0] in out  # spans without findings are forwarded as they are


def test_clean_runs_pass_through_as_the_same_objects() -> None:
    processor = create(Config())
    for path in [*CAPTURES.glob("*.sse"), EXAMPLES / "workflow_full.sse", EXAMPLES / "chatflow_agent.sse"]:
        spans = spans_of(path)
        assert processor.process(spans) is spans, path.name


def test_a_failing_detector_costs_neither_the_trace_nor_the_others() -> None:
    processor = create(Config())

    def broken(trace: Trace) -> list[Finding]:
        raise RuntimeError("bug")

    processor.detectors.insert(0, ("broken", broken))
    spans = run_spans(LEAKY)
    assert len(processor.detect(spans)) == 2


def test_detect_cli_prints_one_line_per_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(EXAMPLES / "loop_stopped.sse"), str(EXAMPLES / "workflow_full.sse")]) == 0
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line == {
        "workflow_run_id": "8c1d7f9e-4e5b-4c8f-8b62-3f7d9e0f1b22",
        "detector": "dify_iteration_escape",
        "severity": "medium",
        "confidence": 0.85,
        "node_id": "lp",
        "summary": "All 3 rounds of the loop 'Poll job' did the same work (identical outputs, or the same results "
        "added again): it is not making progress.",
    }
    config = tmp_path / "c.yaml"
    config.write_text(
        "processors: {detectors: {dify_iteration_escape: {enabled: false}}}\nexporters: {console: }\n"
        "service: {pipelines: {traces: {processors: [detectors], exporters: [console]}}}\n"
    )
    assert main(["detect", "--config", str(config), str(EXAMPLES / "loop_stopped.sse")]) == 0
    assert capsys.readouterr().out == ""
    bad = tmp_path / "bad.ndjson"
    bad.write_text("{oops\n")
    assert main(["detect", str(bad)]) == 1


def test_detections_reach_the_backend_while_content_is_cut(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    runs = tmp_path / "leak.json"
    payload = {"workflow_run_id": "leak-1", "status": "succeeded", "nodes": LEAKY}
    runs.write_text(json.dumps(payload))
    config = tmp_path / "c.yaml"
    config.write_text(
        f'exporters: {{otlp: {{endpoint: "{otlp_sink.grpc_endpoint}", tls: {{insecure: true}}}}}}\n'
        "processors: {detectors: {}, reduce: {content: truncated, max_value_bytes: 100}, batch: {timeout: 10ms}}\n"
        "service: {pipelines: {traces: {processors: [detectors, reduce, batch], exporters: [otlp]}}}\n"
    )
    assert main(["replay", "--config", str(config), str(runs)]) == 0
    spans = otlp_sink.wait_for_spans(3)
    (llm_span,) = [s for s in spans if s.attributes.get("dify.node.type") == "llm"]
    assert {e[2]["detection.detector"] for e in llm_span.events if e[0] == "detection"} == {
        "context_overflow",
        "dify_variable_leak",
    }
    assert len(llm_span.attributes["llm.input_messages.0.message.content"].encode()) <= 100  # cut after detection
    (root,) = [s for s in spans if s.parent_span_id is None]
    assert root.attributes["detection.count"] == 2


def test_sdk_span_processor_on_genai_spans_from_any_tracer() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from bridge.processors.detectors import DetectionSpanProcessor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(DetectionSpanProcessor(create(Config()), SimpleSpanProcessor(exporter)))
    tracer = provider.get_tracer("some-genai-app")
    with tracer.start_as_current_span("agent"):
        chat: Attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4",
            "gen_ai.usage.input_tokens": 8100,
            "gen_ai.response.finish_reasons": ["length"],
        }
        with tracer.start_as_current_span("chat gpt-4", attributes=chat):
            pass
        assert exporter.get_finished_spans() == ()  # held until the root ends
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert [e.name for e in spans["chat gpt-4"].events] == ["gen_ai.evaluation.result", "detection"] * 2
    assert spans["agent"].attributes is not None and spans["agent"].attributes["detection.count"] == 2
    provider.shutdown()


def test_sdk_span_processor_forwards_orphans_after_the_timeout() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from bridge.processors.detectors import DetectionSpanProcessor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(DetectionSpanProcessor(create(Config()), SimpleSpanProcessor(exporter), timeout=0))
    tracer = provider.get_tracer("t")
    root = tracer.start_span("root-never-ends")
    with tracer.start_as_current_span("child", context=trace.set_span_in_context(root)):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["child"]
    provider.shutdown()

from __future__ import annotations

from typing import Any

from tests.detectors.build import findings, llm, node, run_spans

OPENAI_KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"


def test_secret_from_a_tool_into_a_prompt() -> None:
    tool = node("vault", "tool", outputs={"text": f"key={OPENAI_KEY}"})
    spans = run_spans([tool, llm(prompt=f"Use {OPENAI_KEY} to call the API")])
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.severity == "high" and finding.span_id is not None
    assert OPENAI_KEY not in str(finding.evidence) and "node 'vault'" in finding.summary


def test_personal_data_from_inputs_into_the_output() -> None:
    spans = run_spans(
        [node("start", "start")],
        inputs={"email": "jane.doe@acme-corp.io"},
        outputs={"answer": "We wrote to jane.doe@acme-corp.io"},
    )
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.severity == "medium" and finding.span_id is None and "run's output" in finding.summary
    assert findings(spans, "dify_variable_leak", personal_data=False) == []


def test_values_that_do_not_flow_are_not_leaks() -> None:
    tool = node("vault", "tool", outputs={"text": f"key={OPENAI_KEY}"})
    assert findings(run_spans([tool, llm(prompt="Summarize the weather")]), "dify_variable_leak") == []
    masked = run_spans(
        [node("start", "start")],
        inputs={"card": "4242 4242 4242 4242"},
        outputs={"answer": "card 4242 4242 4242 4242 saved"},
    )
    assert findings(masked, "dify_variable_leak") == []


def _retrieved(document: str, answer: str) -> list[Any]:
    result = [{"content": document, "title": "ops.md", "metadata": {"dataset_id": "d", "dataset_name": "kb"}}]
    return run_spans(
        [node("kr", "knowledge-retrieval", outputs={"result": result}), llm(prompt=f"Context:\n{document}")],
        outputs={"answer": answer},
    )


def test_a_secret_from_a_retrieved_document_reaching_the_output_is_a_leak() -> None:
    key = "AKIAJ3KQ8ZB2MNX4PLR7"
    (finding,) = findings(_retrieved(f"Ops note: credential {key}", f"Use {key} to log in."), "dify_variable_leak")
    assert finding.evidence["source"] == "node 'kr'" and finding.evidence["rule"].endswith("reaches a later output")


def test_a_secret_from_a_retrieved_document_in_the_prompt_only_is_not() -> None:
    assert findings(_retrieved("Ops note: credential AKIAJ3KQ8ZB2MNX4PLR7", "Ask ops."), "dify_variable_leak") == []

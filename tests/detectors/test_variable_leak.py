from __future__ import annotations

import pytest

from detectors.variable_leak import luhn_ok, sensitive_values
from tests.detectors.build import findings, llm, node, run_spans

OPENAI_KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (OPENAI_KEY, "openai_key"),
        ("AKIAIOSFODNN7EXAMPL3", "aws_access_key"),
        ("jane.doe@acme-corp.io", "email"),
        ("4539 1488 0343 6467", "card_number"),
        ("123-45-6789", "us_ssn"),
        ("-----BEGIN RSA PRIVATE KEY-----", "private_key"),
    ],
)
def test_recognizes(value: str, kind: str) -> None:
    assert kind in sensitive_values(f"x {value} y", personal=True).values()


@pytest.mark.parametrize(
    "value",
    [
        "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk-<your-key-here>abcdefghijklmnopqrstuv",
        "user@example.com",
        "4242 4242 4242 4242",
        "4539 1488 0343 6468",
        "000-12-3456",
        "password: ********",
    ],
)
def test_ignores_placeholders_examples_and_test_numbers(value: str) -> None:
    assert sensitive_values(f"x {value} y", personal=True) == {}


def test_luhn() -> None:
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")


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

"""Tool schema mismatch, task derailment and state corruption on hand-picked cases."""

from __future__ import annotations

from tests.detectors.build import findings, llm, node, run_spans


def test_tool_schema_errors_fire_and_other_tool_failures_do_not() -> None:
    schema = run_spans([node("t", "tool", status="failed", error="Missing required parameter: city")])
    (finding,) = findings(schema, "dify_tool_schema_mismatch")
    assert "Missing required parameter" in finding.summary
    handled = run_spans([node("t", "tool", status="exception", error="Unknown error",
                              outputs={"error_message": "'units' is a required property"})])  # fmt: skip
    assert len(findings(handled, "dify_tool_schema_mismatch")) == 1
    timeout = run_spans([node("t", "tool", status="failed", error="Request timed out after 30s")])
    assert findings(timeout, "dify_tool_schema_mismatch") == []


def test_task_derailment() -> None:
    question = "How do I reset my router password?"
    off = "Bananas ripen faster when stored next to apples in a paper bag."
    derailed = run_spans([llm(answer=off)], inputs={"sys.query": question}, outputs={"answer": off})
    assert len(findings(derailed, "task_derailment")) == 1
    on = "Hold the reset button, then set a new password for the router."
    assert findings(run_spans([llm(answer=on)], inputs={"sys.query": question}, outputs={"answer": on}),
                    "task_derailment") == []  # fmt: skip
    assert (
        findings(run_spans([llm()], inputs={"sys.query": question}, outputs={"answer": "Yes."}), "task_derailment")
        == []
    )


def test_state_corruption() -> None:
    lost = run_spans([node("make", "code", outputs={"s": "abc"}), node("end", "end", inputs={"s": None})])
    assert "reached 'end' empty" in findings(lost, "state_corruption")[0].summary
    retyped = run_spans([node("make", "code", outputs={"n": 3}), node("end", "end", inputs={"n": "3"})])
    assert "as number and reached 'end' as text" in findings(retyped, "state_corruption")[0].summary
    nulls = run_spans([node("make", "code", outputs={"a": None, "b": None})])
    assert "every output is null" in findings(nulls, "state_corruption")[0].summary
    fine = run_spans([node("make", "code", outputs={"n": 3}), node("end", "end", inputs={"n": 3.0})])
    assert findings(fine, "state_corruption") == []

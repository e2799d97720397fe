from __future__ import annotations

from tests.detectors.build import findings, llm, node, run_spans


def _run(price: str) -> list[object]:
    expensive = llm()
    expensive["process_data"]["usage"]["total_price"] = price  # type: ignore[index]
    return run_spans([node("start", "start"), expensive])  # type: ignore[return-value]


def test_run_and_node_budgets() -> None:
    spans = _run("0.5")
    (run_level,) = findings(spans, "cost", budget_per_run=0.1)  # type: ignore[arg-type]
    assert run_level.span_id is None and run_level.severity == "high" and "5.0x" in run_level.summary
    (node_level,) = findings(spans, "cost", budget_per_node=0.4)  # type: ignore[arg-type]
    assert node_level.span_id is not None and node_level.severity == "medium"


def test_within_budget_or_no_budget_does_not_fire() -> None:
    spans = _run("0.05")
    assert findings(spans, "cost", budget_per_run=0.1, budget_per_node=0.1) == []  # type: ignore[arg-type]
    assert findings(_run("50"), "cost") == []  # type: ignore[arg-type]

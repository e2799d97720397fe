from __future__ import annotations

from typing import Any

from bridge.assembly import RunAssembler
from bridge.model import DifyEvent
from bridge.spans import build_spans
from tests.detectors.build import findings


def _container_run(
    kind: str,
    rounds: int,
    outputs: list[str] | None = None,
    items: int | None = None,
    limit: int | None = None,
    reason: str | None = None,
) -> list[Any]:
    base = {"id": "c", "node_id": "c", "node_type": kind, "title": "Batch"}
    index_key = f"{kind}_index"
    events = [
        DifyEvent(
            f"{kind}_started",
            {
                **base,
                "created_at": 1,
                "metadata": {f"{kind}_length": limit or rounds},
                "inputs": {"iterator_selector": list(range(items if items is not None else rounds))},
            },
            "r",
        )
    ]
    for i in range(rounds):
        output = outputs[i] if outputs else f"result {i}"
        events.append(
            DifyEvent(
                "node_finished",
                {
                    "id": f"n{i}",
                    "node_id": "step",
                    "node_type": "code",
                    "title": "Step",
                    "status": "succeeded",
                    "elapsed_time": 0.01,
                    "inputs": {"i": i},
                    "outputs": {"out": output},
                    f"{kind}_id": "c",
                    "execution_metadata": {f"{kind}_id": "c", index_key: i},
                },
                "r",
            )
        )
    completed = {
        **base,
        "status": "succeeded",
        "elapsed_time": 1.0,
        "execution_metadata": {"completed_reason": reason} if reason else {},
    }
    events += [
        DifyEvent(f"{kind}_completed", completed, "r"),
        DifyEvent("workflow_finished", {"status": "succeeded"}, "r"),
    ]
    assembler = RunAssembler()
    for event in events:
        assembler.add(event, 0)
    (run,) = assembler.drain()
    return build_spans(run)


def test_more_rounds_than_the_limit() -> None:
    (finding,) = findings(_container_run("iteration", 12), "dify_iteration_escape", max_rounds=10)
    assert finding.severity == "high" and "12 rounds, over the limit of 10" in finding.summary


def test_more_rounds_than_items() -> None:
    (finding,) = findings(_container_run("iteration", 5, items=3), "dify_iteration_escape")
    assert "5 rounds over a list of 3 items" in finding.summary


def test_loop_without_break() -> None:
    (finding,) = findings(_container_run("loop", 4, limit=4, reason="max_rounds"), "dify_iteration_escape")
    assert "without reaching its break condition" in finding.summary


def test_identical_rounds() -> None:
    spans = _container_run("loop", 4, outputs=["same"] * 4, limit=10, reason="loop_break")
    (finding,) = findings(spans, "dify_iteration_escape")
    assert "identical outputs" in finding.summary


def test_long_progressing_batches_within_limits_are_fine() -> None:
    assert findings(_container_run("iteration", 99), "dify_iteration_escape") == []
    assert findings(_container_run("loop", 6, limit=10, reason="loop_break"), "dify_iteration_escape") == []
    assert findings(_container_run("loop", 2, outputs=["same"] * 2, limit=10), "dify_iteration_escape") == []

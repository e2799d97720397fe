from __future__ import annotations

from typing import Any

from bridge.assembly import RunAssembler
from bridge.model import DifyEvent
from bridge.spans import build_spans
from tests.detectors.build import findings, node, run_spans


def _loop(inputs: list[str]) -> list[Any]:
    assembler = RunAssembler()
    for i, value in enumerate(inputs):
        assembler.add(
            DifyEvent(
                "node_finished",
                {
                    "id": f"n{i}",
                    "node_id": "fetch",
                    "node_type": "http-request",
                    "title": "Fetch",
                    "status": "succeeded",
                    "inputs": {"cursor": value},
                    "outputs": {"x": i},
                    "loop_id": "lp",
                    "execution_metadata": {"loop_id": "lp", "loop_index": i},
                },
                "r",
            ),
            0,
        )
    (run,) = assembler.drain()
    return build_spans(run)


def test_same_inputs_repeating_in_a_loop() -> None:
    (finding,) = findings(_loop(["a", "a", "a"]), "loop")
    assert "ran 3 times in a loop with the same inputs" in finding.summary


def test_progressing_loop_is_fine() -> None:
    assert findings(_loop(["a", "b", "c", "d"]), "loop") == []
    assert findings(_loop(["a", "a"]), "loop") == []


def test_a_single_failure_is_not_a_storm() -> None:
    assert findings(run_spans([node("n", status="failed", error="boom")]), "loop") == []


def test_retry_storm_from_stream_retries() -> None:
    assembler = RunAssembler()
    base = {"id": "x", "node_id": "http", "node_type": "http-request", "title": "HTTP"}
    for i in range(1, 5):
        assembler.add(DifyEvent("node_retry", {**base, "status": "retry", "retry_index": i, "error": "502"}, "r"), 0)
    assembler.add(DifyEvent("node_finished", {**base, "status": "failed", "error": "502"}, "r"), 0)
    (run,) = assembler.drain()
    (finding,) = findings(build_spans(run), "loop")
    assert finding.severity == "high" and "attempted 5 times and still failed" in finding.summary

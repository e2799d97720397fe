from __future__ import annotations

from bridge.dify.assembly import RunAssembler
from bridge.dify.model import DifyEvent
from bridge.trace.spans import build_spans
from tests.detectors.build import findings, node, run_spans
from tests.detectors.corpus import loop_calls


def test_same_inputs_and_same_outputs_repeating_in_a_loop_calls() -> None:
    (finding,) = findings(loop_calls(["a", "a", "a"], outputs=[7, 7, 7]), "loop")
    assert "ran 3 times in a loop with the same inputs" in finding.summary
    assert finding.evidence["inputs"] == '{"cursor":"a"}' and finding.evidence["repeats"] == 3


def test_progressing_loop_is_fine() -> None:
    assert findings(loop_calls(["a", "b", "c", "d"]), "loop") == []
    assert findings(loop_calls(["a", "a"], outputs=[1, 1]), "loop") == []


def test_same_inputs_while_the_loop_makes_progress_is_fine() -> None:
    """A fixed lookup node repeats its inputs every round while its results (the loop's state) move on."""
    assert findings(loop_calls(["a", "a", "a", "a"], outputs=[1, 2, 3, 4]), "loop") == []


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

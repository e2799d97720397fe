"""A finding an app gets on nearly every run from its first ones is held back as the app's normal; a key that begins
later (a fault starting mid-stream) is flagged for `lasting_runs` runs first (bridge/processors/habituation.py)."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from pydantic import ValidationError

from bridge.processors.detectors import Config, DetectionProcessor
from detectors import Finding, Trace, json_attr
from tests.detectors.build import llm, run_spans


def _processor(
    fires: set[int], rule: str = "rounds in a row gave the same outputs", **guard: int
) -> DetectionProcessor:
    """A processor whose one detector fires `rule` on the runs numbered in `fires` (each run's input `n`)."""
    processor = DetectionProcessor(Config.model_validate({"habituation": guard}))

    def stub(trace: Trace) -> list[Finding]:
        inputs = json_attr(trace.root, "input.value") if trace.root else None
        n = inputs.get("n") if isinstance(inputs, dict) else None
        return [Finding("stub", "high", 0.9, f"run {n}: {rule}", {"rule": rule, "node": "Iteration"})] * (n in fires)

    processor.detectors = [("stub", stub)]
    return processor


def _run(n: int, app: str = "school") -> list[ReadableSpan]:
    return run_spans([llm(answer="Good effort; keep practising.")], app_id=app, inputs={"n": n})


def _flagged(processor: DetectionProcessor, runs: range, app: str = "school") -> list[int]:
    return [n for n in runs if processor.detect(_run(n, app))]


def test_a_rule_firing_on_every_run_from_the_app_s_first_is_held_back_after_min_fired_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor = _processor(set(range(41)))
    with caplog.at_level(logging.WARNING, logger="bridge.processors.habituation"):
        assert _flagged(processor, range(40)) == list(range(6))  # 6 findings, then silence
    (line,) = [r.getMessage() for r in caplog.records]  # logged once, when the habit began
    assert "app school: stub|rounds in a row gave the same outputs|Iteration found on 6 of its last 6 runs" in line
    # The root names what was held back, so that a Jaeger user sees the guard acting.
    out, found = processor.attach(_run(40))
    root = next(span for span in out if span.parent is None)
    assert found == [] and root.attributes is not None
    assert list(root.attributes["detection.held_back"]) == ["stub|rounds in a row gave the same outputs|Iteration"]  # type: ignore[arg-type]
    # Per app: another app's first findings of the same rule are flagged.
    assert _flagged(processor, range(3), app="other school") == [0, 1, 2]


@pytest.mark.parametrize("start", [30, 3])
def test_a_fault_starting_mid_stream_is_flagged_on_its_first_runs(start: int) -> None:
    """Clean runs, then a lasting fault (a cheaper model republished, a renamed field): a change, flagged for
    `lasting_runs` (50) runs before it counts as the app's new normal; also when it starts in the app's first
    `window` runs, too late to have fired on `min_fired` of them."""
    processor = _processor(set(range(start, start + 60)))
    assert _flagged(processor, range(start + 60)) == list(range(start, start + 50))


def test_a_fault_in_a_batch_of_ten_runs_among_clean_ones_is_flagged_on_every_run() -> None:
    processor = _processor(set(range(20, 30)) | set(range(50, 60)))
    assert _flagged(processor, range(70)) == [*range(20, 30), *range(50, 60)]


def test_a_habit_that_stops_for_a_window_is_flagged_again_when_it_comes_back() -> None:
    """The rule fired on the app's first 20 runs (held back from the seventh), stopped for 10: its return is new."""
    processor = _processor(set(range(20)) | set(range(30, 40)))
    assert _flagged(processor, range(40)) == [*range(6), *range(30, 40)]


def test_a_habit_stays_held_back_through_a_gap_shorter_than_the_window() -> None:
    """The rule fired on the app's first 20 runs, missed 3, fired again: still the app's normal (5 of the last 8
    runs fired it when it came back, under `min_fired`)."""
    processor = _processor(set(range(20)) | set(range(23, 40)))
    assert _flagged(processor, range(40)) == list(range(6))


def test_another_rule_or_node_of_the_same_detector_is_not_held_back() -> None:
    processor = _processor(set(range(20)))
    _flagged(processor, range(20))
    other = _processor({20}, rule="rounds > the size an earlier node asked for")
    other.baselines = processor.baselines
    other.habituation = processor.habituation
    assert _flagged(other, range(20, 21)) == [20]


def test_the_guard_off_flags_every_run() -> None:
    processor = _processor(set(range(20)), enabled=False)
    assert _flagged(processor, range(20)) == list(range(20))


def test_min_fired_above_the_window_is_an_error_naming_both() -> None:
    with pytest.raises(ValidationError, match='"min_fired" \\(9\\) must not exceed "window" \\(8\\)'):
        Config.model_validate({"habituation": {"min_fired": 9}})

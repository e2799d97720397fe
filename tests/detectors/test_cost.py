from __future__ import annotations

import math
import random

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from detectors import Finding
from tests.detectors.build import findings, llm, node, run_spans


def _run(price: str, **run: str) -> list[ReadableSpan]:
    expensive = llm()
    expensive["process_data"]["usage"]["total_price"] = price
    return run_spans([node("start", "start"), expensive], **run)


def test_run_and_node_budgets() -> None:
    spans = _run("0.5")
    (run_level,) = findings(spans, "cost", budget_per_run=0.1)
    assert run_level.span_id is None and run_level.severity == "high" and "5.0x" in run_level.summary
    (node_level,) = findings(spans, "cost", budget_per_node=0.4)
    assert node_level.span_id is not None and node_level.severity == "medium"


def test_within_budget_or_no_budget_does_not_fire() -> None:
    spans = _run("0.05")
    assert findings(spans, "cost", budget_per_run=0.1, budget_per_node=0.1) == []
    assert findings(_run("50"), "cost") == []


def test_against_the_apps_median_a_long_run_passes_and_a_runaway_fires() -> None:
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))  # default settings
    for _ in range(10):
        assert processor.detect(_run("0.01", app_id="steady")) == []
    # A loop running to its cap, or a legitimately long input: about 4x the usual.
    assert [f for f in processor.detect(_run("0.04", app_id="steady")) if f.detector == "cost"] == []
    (finding,) = [f for f in processor.detect(_run("0.12", app_id="steady")) if f.detector == "cost"]
    assert finding.evidence["median"] == 0.01 and finding.evidence["price"] == 0.12


def _looping_run(calls: int) -> list[ReadableSpan]:
    """A SQL writer called `calls` times (a loop's rounds), then a dearer report; the app is "reports"."""
    writers = []
    for _ in range(calls):
        writer = llm("writer")
        writer["process_data"]["usage"]["total_price"] = "0.001"
        writers.append(writer)
    report = llm("report")
    report["process_data"]["usage"]["total_price"] = "0.01"
    return run_spans([node("start", "start"), *writers, report], app_id="reports")


def test_a_node_against_its_own_median_a_few_retries_pass_and_a_runaway_loop_fires() -> None:
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))  # default settings
    for _ in range(10):
        assert processor.detect(_looping_run(1)) == []
    # Four tries: the writer costs 4x its usual, the run 1.3x.
    assert [f for f in processor.detect(_looping_run(4)) if f.detector == "cost"] == []
    # Forty rounds: the run costs 4.5x its usual, under the run rule; the writer 40x its own.
    (finding,) = [f for f in processor.detect(_looping_run(40)) if f.detector == "cost"]
    assert finding.evidence["node"] == "writer" and finding.evidence["executions"] == 40
    assert finding.evidence["median"] == 0.001 and round(finding.evidence["price"], 6) == 0.04


def test_a_node_at_its_usual_price_takes_no_median(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most runs cost what they always cost: told against the cheapest price kept beside each history, they sort
    no history for a median (fifty prices sorted per node per run were most of the detector's cost)."""
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))
    for _ in range(12):
        processor.detect(_run("0.01", app_id="steady"))
    sorted_histories: list[object] = []

    def median(past: object) -> float:
        sorted_histories.append(past)
        return 0.01

    monkeypatch.setattr("detectors.cost.statistics.median", median)
    for _ in range(60):  # past the 50 runs kept: the oldest prices, the cheapest among them, drop out
        assert [f for f in processor.detect(_run("0.01", app_id="steady")) if f.detector == "cost"] == []
    assert sorted_histories == []


@pytest.mark.parametrize("seed", range(5))
def test_the_cheapest_price_kept_beside_a_history_is_its_minimum(seed: int) -> None:
    """Prices come and go (a window of 7 here), ties and NaNs among them: the cheapest kept is what `min` over
    the stored history gives, and a history the store handed back anew is read whole."""
    from detectors import MemoryBaselines, Trace
    from detectors.cost import _Histories

    rng = random.Random(seed)
    histories, trace = _Histories(7), Trace([], MemoryBaselines())
    for step in range(300):
        price = rng.choice([0.5, 1.0, 1.0, 2.0, 3.0, rng.random(), math.nan if step % 97 == 5 else 4.0])
        if step % 50 == 49:  # another process wrote it: a copy, not the list put
            trace.baselines.put("k", list(trace.baselines.get("k")))
        past, cheapest, ties = histories.get(trace, "k")
        expected = min(past, default=math.inf)
        assert cheapest == expected or (math.isnan(cheapest) and math.isnan(expected))
        histories.put(trace, "k", (past, cheapest, ties), price)


def test_a_new_app_s_run_far_dearer_than_its_first_runs_fires_before_the_median_is_trusted() -> None:
    """With 5 to 9 runs known (the median of so few not yet trusted at median_factor), a run over early_factor (8)
    times their median fires; one at 5.9x (4.9x the dearest) does not, nor one far dearer with only 4 runs known."""
    from bridge.processors.detectors import Config, DetectionProcessor

    def after(first: tuple[str, ...], price: str) -> list[object]:
        processor = DetectionProcessor(Config.model_validate({}))  # default settings
        for earlier in first:
            assert processor.detect(_run(earlier, app_id="new-app")) == []
        return [f for f in processor.detect(_run(price, app_id="new-app")) if f.detector == "cost"]

    five = ("0.010", "0.012", "0.011", "0.009", "0.010")
    assert after(five[:4], "0.5") == []  # four runs known: too few
    assert after(five, "0.059") == []  # 5.9x the median, 4.9x the dearest
    (finding,) = after(five, "0.1")
    assert finding.evidence["median"] == 0.010 and finding.evidence["runs"] == 5  # type: ignore[attr-defined]


def test_a_new_app_s_run_far_over_the_median_fires_whatever_its_dearest_run_before() -> None:
    """The fourth real recording: a fleet report's flood (10.2x the median of 7 runs, 4.2x the dearest: a long clean
    report) and a summary loop's runaway (14.9x the median of 9 runs, 4.1x a stuck loop's 6 rounds before it) were
    missed against 8x the dearest. The median passes over an earlier fault too (held-out 9: a first runaway 86x);
    a dear route within 8x the median stays quiet."""
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))  # default settings
    for earlier in ("0.010", "0.012", "0.025", "0.009", "0.010", "0.040"):
        assert processor.detect(_run(earlier, app_id="new-app")) == []
    (finding,) = [f for f in processor.detect(_run("0.11", app_id="new-app")) if f.detector == "cost"]
    assert (
        finding.evidence["rule"] == "price > early_factor (8.0) x the median of fewer than min_history (10) past runs"
    )
    runaway = DetectionProcessor(Config.model_validate({}))
    for earlier in ("0.010", "0.012", "0.011", "0.009", "0.010"):
        runaway.detect(_run(earlier, app_id="new-app"))
    assert len([f for f in runaway.detect(_run("0.86", app_id="new-app")) if f.detector == "cost"]) == 1
    assert len([f for f in runaway.detect(_run("0.25", app_id="new-app")) if f.detector == "cost"]) == 1
    two_routes = DetectionProcessor(Config.model_validate({}))
    for earlier in ("0.010", "0.060", "0.011", "0.070", "0.010"):
        two_routes.detect(_run(earlier, app_id="routes"))
    assert [f for f in two_routes.detect(_run("0.08", app_id="routes")) if f.detector == "cost"] == []


def test_a_new_app_s_run_far_dearer_than_every_run_before_fires_under_early_factor() -> None:
    """The third real recording: a feed ignoring its limit (29 rounds where the app ran at most 5) cost 7.2x the
    median of the app's 9 runs, under early_factor, and 5.3x the dearest of them: outside every run the app made,
    however far the few runs' median may still move. A run as far over the median but within median_factor times
    the dearest (a spread history) stays quiet."""
    from bridge.processors.detectors import Config, DetectionProcessor

    def after(first: tuple[str, ...], price: str) -> list[Finding]:
        processor = DetectionProcessor(Config.model_validate({}))  # default settings
        for earlier in first:
            assert processor.detect(_run(earlier, app_id="feed")) == []
        return [f for f in processor.detect(_run(price, app_id="feed")) if f.detector == "cost"]

    runs = ("4.88", "4.05", "3.22", "4.05", "2.40", "4.88", "1.22", "3.22", "5.49")
    (finding,) = after(runs, "29.02")
    assert (
        finding.evidence["rule"] == "price > median_factor (5.0) x the dearest of fewer than min_history (10) past runs"
    )
    assert finding.evidence["dearest"] == 5.49 and finding.evidence["median"] == 4.05
    assert after((*runs[:-1], "7.0"), "29.02") == []  # 7.2x the median, 4.1x the dearest


def _republished_run(price: str, version: str, title: str = "Answer", model: str = "gpt-4o-mini") -> list[ReadableSpan]:
    answer = llm("answer", model=model, title=title)
    answer["process_data"]["usage"]["total_price"] = price
    return run_spans([node("start", "start"), answer], app_id="shop", workflow_id=version)


def test_a_silent_republish_is_judged_against_the_app_s_runs_before_it() -> None:
    """A republish on a model 16x dearer, its node titles unchanged, is a cost fault on every run while the app's
    history still holds five runs from before it (every real recording's `*_other_model`; held-out 18: an app of six
    runs republished on gpt-4o for thirteen, whose own runs overtook the rolling median from the eighth on). The app's
    first version is judged against its own runs: a lasting fault there stays dear too."""
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))

    def dear(spans: list[ReadableSpan]) -> bool:
        return any(f.detector == "cost" for f in processor.detect(spans))

    assert not any(dear(_republished_run("0.01", "v1")) for _ in range(6))
    assert all(dear(_republished_run("0.16", "v2")) for _ in range(13))
    assert not dear(_republished_run("0.01", "v3"))  # back on the old price: no new level to compare it with
    lasting = DetectionProcessor(Config.model_validate({}))
    for _ in range(12):
        lasting.detect(_republished_run("0.01", "v1"))
    assert all(any(f.detector == "cost" for f in lasting.detect(_republished_run("0.16", "v1"))) for _ in range(7))


def test_an_announced_republish_sets_its_own_level() -> None:
    """Held-out 14's upgrade kept for good named its model in every model node's title: its price is the version's
    level from its first runs on, and only a run far above that level (a runaway on the new model) is dear."""
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))

    def dear(price: str) -> bool:
        spans = _republished_run(price, "v2", title="Answer (GPT-4o)", model="gpt-4o")
        return any(f.detector == "cost" for f in processor.detect(spans))

    for _ in range(12):
        processor.detect(_republished_run("0.01", "v1"))
    assert not any(dear("0.16") for _ in range(13))
    assert dear("0.9")  # 5.6x the version's level


def test_a_republish_on_the_model_every_node_s_title_names_is_an_announced_upgrade() -> None:
    """Held-out 14: every model node republished on gpt-4o and renamed "... (GPT-4o)" is a price the author chose."""
    from bridge.processors.detectors import Config, DetectionProcessor

    for title, flagged in (("Answer (GPT-4o)", False), ("Answer", True)):
        processor = DetectionProcessor(Config.model_validate({}))
        for _ in range(12):
            processor.detect(_republished_run("0.01", "v1"))
        found = processor.detect(_republished_run("0.16", "v2", title=title, model="gpt-4o"))
        assert any(f.detector == "cost" for f in found) == flagged, title

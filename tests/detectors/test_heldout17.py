"""Held-out corpus 17's structure (tests/detectors/heldout17.py): every app file loads, names and labels are valid,
each app starts with five clean runs, the counts per label are the README's, the day's order is the clock's (its
conversations and its stream beside its export: test_heldout16.py, for every recorded set). No detector runs here:
bench/detection_quality.py scores it (--corpus heldout17 / heldout17-export; scored blind in session 27, then tuned
on)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from itertools import pairwise

from tests.detectors import heldout17
from tests.detectors.heldout16 import Recorded

# The README's counts: runs per app, then runs per label over every app (a run with two labels counts twice).
PER_APP = {"zh_wuliu": 92, "bn_krishi": 92, "sk_kniznica": 92, "eu_udala": 93, "cy_cyngor": 92, "kk_shot": 92}
PER_LABEL = {
    "context_overflow": 6, "cost": 16, "dify_classifier_drift": 10, "dify_iteration_escape": 20,
    "dify_model_fallback": 20, "dify_rag_poisoning": 12, "dify_tool_schema_mismatch": 20, "dify_variable_leak": 28,
    "hallucination": 23, "loop": 20, "state_corruption": 41, "task_derailment": 12,
}  # fmt: skip


@cache
def runs() -> tuple[Recorded, ...]:
    return tuple(run for app in heldout17.available() for run in heldout17.recorded(app))


def test_every_app_loads_with_valid_names_and_labels() -> None:
    assert heldout17.available() == heldout17.APPS
    every = runs()
    assert len({run["name"] for run in every}) == len(every)
    assert Counter(run["name"].split("-")[0] for run in every) == PER_APP
    made_clean = ("hn-", "clean", "warmup")
    for run in every:
        kind = heldout17.kind_of(run["name"])
        assert set(run["labels"]) <= set(heldout17.DETECTORS), run["name"]
        assert kind.startswith(made_clean) != bool(run["labels"]), run["name"]
        assert kind.startswith(made_clean) or kind in run["labels"], run["name"]


def test_each_app_starts_with_five_clean_runs() -> None:
    for app in heldout17.APPS:
        first = [run for _, run in zip(range(5), heldout17.recorded(app), strict=False)]
        assert [run["labels"] for run in first] == [[]] * 5, app


def test_counts_per_label_are_the_readmes() -> None:
    assert Counter(label for run in runs() for label in run["labels"]) == PER_LABEL
    clean = sum(not run["labels"] for run in runs())
    assert 0.6 <= clean / len(runs()) <= 0.75
    assert sum(heldout17.kind_of(run["name"]).startswith("hn-") for run in runs()) >= 50


def test_the_day_interleaves_the_apps_in_clock_order() -> None:
    day = heldout17.day()
    assert len(day) == len(runs())
    times = [heldout17.clock()[run["name"]] for run in day]
    assert times == sorted(times)
    switches = sum(a["name"].split("-")[0] != b["name"].split("-")[0] for a, b in pairwise(day))
    assert switches > len(day) / 2  # interleaved, not app by app

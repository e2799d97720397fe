"""Held-out corpus 18's structure (tests/detectors/heldout18.py): every app file loads, names and labels are valid,
each app starts with five clean runs, the counts per label are the README's (its conversations and its stream beside
its export: test_heldout16.py, for every recorded set). No detector runs here: bench/detection_quality.py scores it
(--corpus heldout18 / heldout18-export; scored blind once in session 27)."""

from __future__ import annotations

from collections import Counter
from functools import cache

from tests.detectors import heldout18
from tests.detectors.heldout18 import Recorded

# The README's counts: runs per app, then runs per label over every app (a run with two labels counts twice).
PER_APP = {
    "ga_bus": 82,
    "mt_forn": 75,
    "am_telecom": 67,
    "si_tea": 68,
    "mn_water": 68,
    "az_qebul": 118,
}
PER_LABEL = {
    "context_overflow": 5, "cost": 18, "dify_classifier_drift": 10, "dify_iteration_escape": 15,
    "dify_model_fallback": 41, "dify_rag_poisoning": 11, "dify_tool_schema_mismatch": 19, "dify_variable_leak": 17,
    "hallucination": 33, "loop": 14, "state_corruption": 31, "task_derailment": 12,
}  # fmt: skip


@cache
def runs() -> tuple[Recorded, ...]:
    return tuple(run for app in heldout18.available() for run in heldout18.recorded(app))


def test_every_app_loads_with_valid_names_and_labels() -> None:
    assert heldout18.available(), "no app recorded"
    every = runs()
    assert len({run["name"] for run in every}) == len(every)
    per_app = Counter(run["name"].split("-")[0] for run in every)
    assert per_app == {app: PER_APP[app] for app in heldout18.available()}
    made_clean = ("hn-", "clean", "warmup")
    for run in every:
        kind = heldout18.kind_of(run["name"])
        assert set(run["labels"]) <= set(heldout18.DETECTORS), run["name"]
        assert kind.startswith(made_clean) != bool(run["labels"]), run["name"]
        assert kind.startswith(made_clean) or kind in run["labels"], run["name"]


def test_each_app_starts_with_five_clean_runs() -> None:
    for app in heldout18.available():
        first = [run for _, run in zip(range(5), heldout18.recorded(app), strict=False)]
        assert [run["labels"] for run in first] == [[]] * 5, app


def test_counts_per_label_are_the_readmes() -> None:
    if heldout18.available() == heldout18.APPS:
        assert Counter(label for run in runs() for label in run["labels"]) == PER_LABEL
        clean = sum(not run["labels"] for run in runs())
        assert 0.6 <= clean / len(runs()) <= 0.75

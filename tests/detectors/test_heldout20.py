"""Held-out corpus 20's structure (tests/detectors/heldout20.py): every app file loads, names and labels are valid,
each app starts with its clean warm-up runs (five; en_docs four), the counts per app and per label are the README's.
The conversation and stream-beside-export checks are test_heldout16.py's, parametrized over every set in its format.
No detector runs here: bench/detection_quality.py scores the set."""

from __future__ import annotations

from collections import Counter

from tests.detectors import heldout20

# The README's counts: runs per app, then runs per label over every app (a run with two labels counts twice).
PER_APP = {"en_docs": 104, "en_recruit": 68, "en_expense": 68, "zh_canting": 81, "ja_tracking": 67, "fr_reunion": 60}
PER_LABEL = {
    "context_overflow": 6, "cost": 14, "dify_classifier_drift": 13, "dify_iteration_escape": 14,
    "dify_model_fallback": 23, "dify_rag_poisoning": 11, "dify_tool_schema_mismatch": 14, "dify_variable_leak": 19,
    "hallucination": 45, "loop": 11, "state_corruption": 23, "task_derailment": 24,
}  # fmt: skip
# Warm-up runs per app: en_docs keeps four (its first warm-up stated a version its retrieval did not give; README).
WARMUP = {"en_docs": 4}


def runs() -> list[heldout20.Recorded]:
    return [run for app in heldout20.available() for run in heldout20.recorded(app)]


def test_every_app_is_recorded_with_the_readmes_counts() -> None:
    assert heldout20.available() == heldout20.APPS
    assert Counter(run["name"].split("-")[0] for run in runs()) == PER_APP


def test_names_and_labels_are_valid() -> None:
    every = runs()
    assert len({run["name"] for run in every}) == len(every)
    made_clean = ("hn-", "clean", "warmup")
    for run in every:
        kind = heldout20.kind_of(run["name"])
        assert set(run["labels"]) <= set(heldout20.DETECTORS), run["name"]
        assert kind.startswith(made_clean) != bool(run["labels"]), run["name"]
        assert kind.startswith(made_clean) or kind in run["labels"], run["name"]


def test_each_app_starts_with_its_clean_warmup_runs() -> None:
    for app in heldout20.APPS:
        n = WARMUP.get(app, 5)
        first = [run for _, run in zip(range(n + 1), heldout20.recorded(app), strict=False)]
        assert [run["labels"] for run in first[:n]] == [[]] * n, app
        kinds = [heldout20.kind_of(run["name"]) for run in first]
        assert kinds[:n] == ["warmup"] * n and kinds[n] != "warmup", app


def test_counts_per_label_are_the_readmes() -> None:
    every = runs()
    assert Counter(label for run in every for label in run["labels"]) == PER_LABEL
    assert min(PER_LABEL.values()) >= 4 and sum(n >= 8 for n in PER_LABEL.values()) >= len(PER_LABEL) - 1
    clean = sum(not run["labels"] for run in every)
    assert 0.6 <= clean / len(every) <= 0.75
    assert sum(heldout20.kind_of(run["name"]).startswith("hn-") for run in every) >= 50

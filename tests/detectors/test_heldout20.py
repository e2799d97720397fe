"""Held-out corpus 20's structure (tests/detectors/heldout20.py): every app file loads, names and labels are valid,
each app starts with five clean runs, the counts per app and per label are the README's. The conversation and
stream-beside-export checks are test_heldout16.py's, parametrized over every set in its format. No detector runs here:
bench/detection_quality.py scores the set."""

from __future__ import annotations

from collections import Counter

from tests.detectors import heldout20

# The README's counts: runs per app, then runs per label over every app (a run with two labels counts twice).
PER_APP = {"en_docs": 0, "en_recruit": 0, "en_expense": 0, "zh_canting": 0, "ja_tracking": 0, "fr_reunion": 0}
PER_LABEL: dict[str, int] = {}


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


def test_each_app_starts_with_five_clean_runs() -> None:
    for app in heldout20.APPS:
        first = [run for _, run in zip(range(5), heldout20.recorded(app), strict=False)]
        assert [run["labels"] for run in first] == [[]] * 5, app


def test_counts_per_label_are_the_readmes() -> None:
    every = runs()
    assert Counter(label for run in every for label in run["labels"]) == PER_LABEL
    assert min(PER_LABEL.values()) >= 4 and sum(n >= 8 for n in PER_LABEL.values()) >= len(PER_LABEL) - 1
    clean = sum(not run["labels"] for run in every)
    assert 0.6 <= clean / len(every) <= 0.75
    assert sum(heldout20.kind_of(run["name"]).startswith("hn-") for run in every) >= 50

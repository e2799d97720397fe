"""Held-out corpus 7's own structure (tests/detectors/heldout7.py), beside what test_heldout_structure.py checks of
every held-out corpus. Never what the detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
from collections import Counter

from tests.detectors import heldout7
from tests.detectors.test_heldout_structure import attribute_values, cases_of


def test_hard_negatives_cover_every_detector() -> None:
    named = Counter(case.name.split("-hn-")[1].split(".")[0] for case in cases_of(heldout7) if "-hn-" in case.name)
    assert set(named) == set(heldout7.DETECTORS)
    assert min(named.values()) >= 15, named


def test_the_apps_write_in_seven_languages_including_chinese() -> None:
    text = json.dumps([sorted(attribute_values(case.spans)) for case in cases_of(heldout7)[::5]], ensure_ascii=False)
    for sample in ("品鉴单", "Μαρίνα", "vstupenky", "vrk", "zile", "חדר", "ตัวอักษร", "Lango"):
        assert sample.lower() in text.lower(), sample


def test_every_run_after_the_warm_up_is_given_its_apps_warm_up_as_history() -> None:
    cases = cases_of(heldout7)
    warm_up = len(heldout7.APPS) * heldout7.WARM_UP
    assert not any(case.history for case in cases[:warm_up])
    assert all(len(case.history) == heldout7.WARM_UP for case in cases[warm_up:])


def test_the_docstring_counts_each_apps_runs() -> None:
    runs = Counter(case.name.split("-")[0] for case in cases_of(heldout7))
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout7.__doc__ or "", re.M)}
    assert described == dict(runs)

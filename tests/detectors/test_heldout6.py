"""Held-out corpus 6's own structure (tests/detectors/heldout6.py), beside what test_heldout_structure.py checks of
every held-out corpus. Never what the detectors find on it."""

from __future__ import annotations

from collections import Counter

from tests.detectors import heldout6
from tests.detectors.test_heldout_structure import cases_of


def test_hard_negatives_cover_every_detector() -> None:
    named = Counter(case.name.split("-hn-")[1].rsplit("-", 1)[0] for case in cases_of(heldout6) if "-hn-" in case.name)
    assert set(named) == set(heldout6.DETECTORS)
    assert min(named.values()) >= 15, named


def test_every_run_after_the_warm_up_is_given_its_apps_warm_up_as_history() -> None:
    cases = cases_of(heldout6)
    warm_up = len(heldout6.APPS) * heldout6.WARM_UP
    assert not any(case.history for case in cases[:warm_up])
    assert all(len(case.history) == heldout6.WARM_UP for case in cases[warm_up:])

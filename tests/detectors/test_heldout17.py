"""Held-out corpus 17's own order (tests/detectors/heldout17.py): its runs are fed in the day's clock order, the apps
interleaved. Its structure, conversations and stream beside its export: test_heldout16.py, for every recorded set."""

from __future__ import annotations

from itertools import pairwise

from tests.detectors import heldout17


def test_the_day_interleaves_the_apps_in_clock_order() -> None:
    day = heldout17.day()
    assert len(day) == sum(1 for app in heldout17.APPS for _ in heldout17.recorded(app))
    times = [heldout17.clock()[run["name"]] for run in day]
    assert times == sorted(times)
    switches = sum(a["name"].split("-")[0] != b["name"].split("-")[0] for a, b in pairwise(day))
    assert switches > len(day) / 2  # interleaved, not app by app

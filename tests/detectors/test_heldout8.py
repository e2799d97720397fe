"""Held-out corpus 8's own structure (tests/detectors/heldout8.py), beside what test_heldout_structure.py checks of
every held-out corpus. Never what the detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout8
from tests.detectors.test_heldout_structure import attribute_values, cases_of


def test_hard_negatives_cover_every_detector() -> None:
    named = Counter(case.name.split("-hn-")[1].split(".")[0] for case in cases_of(heldout8) if "-hn-" in case.name)
    assert set(named) == set(heldout8.DETECTORS)
    assert min(named.values()) >= 15, named


def test_the_apps_write_in_nine_languages_besides_english_including_chinese() -> None:
    text = json.dumps([sorted(attribute_values(case.spans)) for case in cases_of(heldout8)[::3]], ensure_ascii=False)
    for sample in ("门票", "관람료", "đơn", "blok", "poliçe", "поїзд", "ट्रेन", "turma", "opłat"):
        assert sample.lower() in text.lower(), sample


def test_every_run_after_the_warm_up_is_given_its_apps_warm_up_as_history() -> None:
    cases = cases_of(heldout8)
    warm_up = len(heldout8.APPS) * heldout8.WARM_UP
    assert not any(case.history for case in cases[:warm_up])
    assert all(len(case.history) == heldout8.WARM_UP for case in cases[warm_up:])


def test_the_docstring_counts_each_apps_runs() -> None:
    runs = Counter(case.name.split("-")[0] for case in cases_of(heldout8))
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout8.__doc__ or "", re.M)}
    assert described == dict(runs)


def _spend(spans: list[ReadableSpan]) -> float:
    """The run's LLM spend as its nodes report it (the workflow's own span left out: it sums them)."""
    nodes = [span for span in spans if "dify.run.id" not in (span.attributes or {})]
    return sum(float(str((span.attributes or {}).get("dify.price.total", 0))) for span in nodes)


def test_cost_labels_follow_each_runs_spend_against_its_apps_warm_up() -> None:
    """`cost` on a run iff its spend is ≥ 5 times its app's warm-up median; none sits between 4 and 6 times."""
    for case in cases_of(heldout8)[len(heldout8.APPS) * heldout8.WARM_UP :]:
        usual = statistics.median(_spend(run) for run in case.history)
        ratio = _spend(case.spans) / usual
        assert ratio < 4 or ratio >= 6, (case.name, ratio)
        assert ("cost" in case.expected) == (ratio >= 5), (case.name, ratio)

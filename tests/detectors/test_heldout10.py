"""Held-out corpus 10's structure (tests/detectors/heldout10.py): sizes, names, labels, shapes, and that its faults
come from its apps' worlds. Never what the detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout10
from tests.detectors.test_heldout_structure import NODE_TYPES, attribute_values, cases_of


def test_sizes_match_the_module_constants_and_about_half_the_runs_are_clean() -> None:
    cases = cases_of(heldout10)
    clean = [case for case in cases if not case.expected]
    assert len(cases) == heldout10.RUNS
    assert len(clean) == heldout10.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert sum("-hn-" in case.name for case in clean) == heldout10.HARD_NEGATIVE_RUNS >= len(clean) / 3


def test_names_are_unique_and_say_what_a_run_is() -> None:
    cases = cases_of(heldout10)
    assert len({case.name for case in cases}) == len(cases)
    for case in cases:
        assert case.name.split("-")[0] in heldout10.APPS, case.name
        if case.target is None:
            assert not case.expected and re.search(r"-(hn|clean|warmup)-", case.name), case.name
        else:
            assert case.target in case.expected and f"-{case.target}." in case.name, case.name


def test_every_detector_has_40_positives_and_hard_negatives() -> None:
    cases = cases_of(heldout10)
    positives = Counter(key for case in cases for key in case.expected)
    assert set(positives) == set(heldout10.DETECTORS)
    assert min(positives.values()) >= 40, positives
    named = Counter(case.name.split("-hn-")[1].split(".")[0] for case in cases if "-hn-" in case.name)
    assert set(named) == set(heldout10.DETECTORS)
    assert min(named.values()) >= 5, named


def test_each_app_starts_with_warm_up_runs_that_are_every_later_runs_history() -> None:
    cases = cases_of(heldout10)
    warm_up = len(heldout10.APPS) * heldout10.WARM_UP
    assert all("-warmup-" in case.name and not case.history for case in cases[:warm_up])
    assert {case.name.split("-")[0] for case in cases[:warm_up]} == set(heldout10.APPS)
    for case in cases[warm_up:]:
        assert "-warmup-" not in case.name
        assert [run[0].context.trace_id for run in case.history] == [
            warm.spans[0].context.trace_id
            for warm in cases[:warm_up]
            if warm.name.split("-")[0] == case.name.split("-")[0]
        ]


def test_the_apps_write_in_chinese_georgian_armenian_and_four_latin_languages() -> None:
    text = json.dumps([sorted(attribute_values(case.spans)) for case in cases_of(heldout10)[::3]], ensure_ascii=False)
    for sample in ("借期", "视宁度", "სკა", "թույլտվ", "koori", "pangungusap", "bérlet", "membership"):
        assert sample in text, sample


def test_runs_hold_the_node_types_and_statuses_the_apps_need() -> None:
    values: set[str] = set()
    for case in cases_of(heldout10):
        values |= attribute_values(case.spans)
    for node_type in NODE_TYPES:
        assert node_type in values, node_type
    for status in ("succeeded", "failed", "partial-succeeded", "exception"):
        assert status in values, status


def test_the_docstring_counts_each_apps_runs() -> None:
    runs = Counter(case.name.split("-")[0] for case in cases_of(heldout10))
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout10.__doc__ or "", re.M)}
    assert described == dict(runs) == heldout10.RUNS_PER_APP


def _spend(spans: list[ReadableSpan]) -> float:
    """The run's spend as the workflow's span reports it (the sum of its nodes' prices)."""
    (run,) = [span for span in spans if span.name.startswith("invoke_workflow")]
    return float(str((run.attributes or {}).get("dify.price.total", 0)))


def test_cost_labels_follow_each_runs_spend_against_its_apps_warm_up() -> None:
    """`cost` iff a run spends ≥ 5 times its app's warm-up median; clean runs stay under 4, none sits in 4-6."""
    for case in cases_of(heldout10)[len(heldout10.APPS) * heldout10.WARM_UP :]:
        ratio = _spend(case.spans) / statistics.median(_spend(run) for run in case.history)
        assert ("cost" in case.expected) == (ratio >= 5), (case.name, ratio)
        assert ratio < 4 or (case.expected and ratio >= 6), (case.name, ratio)


def test_faults_follow_the_world_a_republished_app_and_a_refused_call() -> None:
    """The process, seen from outside: parking's model fallbacks are exactly its runs of the republished workflow,
    and observatory's failed runs are exactly its prompts over the window."""
    for case in cases_of(heldout10):
        values = attribute_values(case.spans)
        if case.name.startswith("parking-"):
            assert ("dify_model_fallback" in case.expected) == ("wf-parking-v8" in values), case.name
        if case.name.startswith("observatory-"):
            failed = str((case.spans[0].attributes or {}).get("dify.run.status")) == "failed"
            assert failed == ("log_over_window" in case.name or "maximum context length" in str(values)), case.name


def test_the_corpus_is_deterministic_and_its_seed_matters() -> None:
    cases = cases_of(heldout10)
    again = list(heldout10.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases]
    other = heldout10.corpus(heldout10.SEED + 1)
    assert [next(other).spans[0].context.trace_id for _ in range(5)] != [c.spans[0].context.trace_id for c in cases[:5]]

"""Held-out corpus 7's structure (tests/detectors/heldout7.py): sizes, names, labels, shapes. Never what the
detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout7
from tests.detectors.corpus import Case


@cache
def _cases() -> tuple[Case, ...]:
    return tuple(heldout7.corpus())


def _attribute_values(spans: list[ReadableSpan]) -> set[str]:
    return {str(value) for span in spans for value in (span.attributes or {}).values()}


def test_sizes_match_the_module_constants() -> None:
    cases = _cases()
    clean = [case for case in cases if case.target is None]
    assert len(cases) == heldout7.RUNS >= 1_000
    assert len(clean) == heldout7.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert sum("-hn-" in case.name for case in clean) == heldout7.HARD_NEGATIVE_RUNS >= 0.35 * len(clean)


def test_names_are_unique_and_say_what_a_run_is() -> None:
    cases = _cases()
    assert len({case.name for case in cases}) == len(cases)
    for case in cases:
        assert case.name.split("-")[0] in heldout7.APPS, case.name
        if case.target is None:
            assert not case.expected, case.name
            assert "-hn-" in case.name or "-clean-" in case.name or "-warmup-" in case.name
        else:
            assert case.target in case.expected and f"-{case.target}." in case.name, case.name
            assert "-hn-" not in case.name


def test_every_detector_has_at_least_40_positives() -> None:
    positives = Counter(key for case in _cases() for key in case.expected)
    assert set(positives) == set(heldout7.DETECTORS)
    assert min(positives.values()) >= 40, positives


def test_hard_negatives_cover_every_detector() -> None:
    named = Counter(case.name.split("-hn-")[1].split(".")[0] for case in _cases() if "-hn-" in case.name)
    assert set(named) == set(heldout7.DETECTORS)
    assert min(named.values()) >= 15, named


def test_each_app_starts_with_clean_warm_up_runs() -> None:
    cases = _cases()
    warm_up = cases[: len(heldout7.APPS) * heldout7.WARM_UP]
    assert all(case.target is None and "-warmup-" in case.name and not case.history for case in warm_up)
    assert {case.name.split("-warmup-")[0] for case in warm_up} == set(heldout7.APPS)
    assert all("-warmup-" not in case.name for case in cases[len(warm_up) :])


def test_the_corpus_is_deterministic_and_its_seed_matters() -> None:
    again = list(heldout7.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in _cases()]
    assert [c.spans[0].context.trace_id for c in again[:50]] == [c.spans[0].context.trace_id for c in _cases()[:50]]
    other = heldout7.corpus(heldout7.SEED + 1)
    assert [next(other).spans[0].context.trace_id for _ in range(5)] != [c.spans[0].context.trace_id for c in again[:5]]


def test_runs_hold_the_node_types_and_statuses_the_apps_need() -> None:
    values: set[str] = set()
    for case in _cases()[::2]:
        values |= _attribute_values(case.spans)
    for node_type in ("start", "llm", "knowledge-retrieval", "question-classifier", "parameter-extractor", "tool",
                      "code", "http-request", "iteration", "loop", "assigner", "template-transform", "answer",
                      "end"):  # fmt: skip
        assert node_type in values, node_type
    for status in ("succeeded", "failed", "partial-succeeded"):
        assert status in values, status


def test_the_apps_write_in_seven_languages_including_chinese() -> None:
    text = json.dumps([sorted(_attribute_values(case.spans)) for case in _cases()[::5]], ensure_ascii=False)
    for sample in ("品鉴单", "Μαρίνα", "vstupenky", "vrk", "zile", "חדר", "ตัวอักษร", "Lango"):
        assert sample.lower() in text.lower(), sample


def test_history_is_given_where_a_fault_is_judged_against_earlier_runs() -> None:
    after_warm_up = _cases()[len(heldout7.APPS) * heldout7.WARM_UP :]
    assert all(len(case.history) == heldout7.WARM_UP for case in after_warm_up)
    assert any(case.target == "dify_model_fallback" for case in after_warm_up)
    assert any("-hn-dify_model_fallback" in case.name for case in after_warm_up)


def test_the_docstring_counts_each_apps_runs() -> None:
    runs = Counter(case.name.split("-")[0] for case in _cases())
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout7.__doc__ or "", re.M)}
    assert described == dict(runs)

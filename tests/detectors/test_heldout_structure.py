"""Held-out corpora 5, 6, 7, 8 and 9's structure (tests/detectors/heldout5.py …): sizes, names, labels, shapes. Never
what the detectors find on them: that is scored by the lead only (bench/detection_quality.py --corpus NAME).
Each corpus's own checks (its languages, its docstring's counts) are in its own test module."""

from __future__ import annotations

from collections import Counter
from functools import cache
from types import ModuleType

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout5, heldout6, heldout7, heldout8, heldout9
from tests.detectors.corpus import Case

NODE_TYPES = (
    "start", "llm", "knowledge-retrieval", "question-classifier", "parameter-extractor", "tool", "code",
    "http-request", "iteration", "loop", "assigner", "template-transform", "answer", "end",
)  # fmt: skip
CORPORA = pytest.mark.parametrize(
    "module", [heldout5, heldout6, heldout7, heldout8, heldout9], ids=lambda module: module.__name__[-8:]
)


@cache
def cases_of(module: ModuleType) -> tuple[Case, ...]:
    return tuple(module.corpus())


def attribute_values(spans: list[ReadableSpan]) -> set[str]:
    return {str(value) for span in spans for value in (span.attributes or {}).values()}


@CORPORA
def test_sizes_match_the_module_constants(module: ModuleType) -> None:
    cases = cases_of(module)
    clean = [case for case in cases if case.target is None]
    assert len(cases) == module.RUNS >= 1_000
    assert len(clean) == module.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert sum("-hn-" in case.name for case in clean) == module.HARD_NEGATIVE_RUNS >= 0.35 * len(clean)


@CORPORA
def test_names_are_unique_and_say_what_a_run_is(module: ModuleType) -> None:
    cases = cases_of(module)
    assert len({case.name for case in cases}) == len(cases)
    for case in cases:
        assert case.name.split("-")[0] in module.APPS, case.name
        if case.target is None:
            assert not case.expected, case.name
            assert "-hn-" in case.name or "-clean-" in case.name or "-warmup-" in case.name
        else:
            assert case.target in case.expected and case.target in case.name, case.name
            assert "-hn-" not in case.name


@CORPORA
def test_every_detector_has_at_least_40_positives(module: ModuleType) -> None:
    positives = Counter(key for case in cases_of(module) for key in case.expected)
    assert set(positives) == set(module.DETECTORS)
    assert min(positives.values()) >= 40, positives


@CORPORA
def test_each_app_starts_with_clean_warm_up_runs(module: ModuleType) -> None:
    cases = cases_of(module)
    warm_up = cases[: len(module.APPS) * module.WARM_UP]
    assert all(case.target is None and "-warmup-" in case.name for case in warm_up)
    assert {case.name.split("-warmup-")[0] for case in warm_up} == set(module.APPS)
    assert all("-warmup-" not in case.name for case in cases[len(warm_up) :])


@CORPORA
def test_the_corpus_is_deterministic_and_its_seed_matters(module: ModuleType) -> None:
    cases = cases_of(module)
    again = list(module.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases]
    assert [c.spans[0].context.trace_id for c in again[:50]] == [c.spans[0].context.trace_id for c in cases[:50]]
    other = module.corpus(module.SEED + 1)
    assert [next(other).spans[0].context.trace_id for _ in range(5)] != [c.spans[0].context.trace_id for c in again[:5]]


@CORPORA
def test_runs_hold_the_node_types_and_statuses_the_apps_need(module: ModuleType) -> None:
    values: set[str] = set()
    for case in cases_of(module)[::2]:
        values |= attribute_values(case.spans)
    for node_type in NODE_TYPES:
        assert node_type in values, node_type
    for status in ("succeeded", "failed", "partial-succeeded"):
        assert status in values, status


@CORPORA
def test_history_is_given_where_a_fault_is_judged_against_earlier_runs(module: ModuleType) -> None:
    with_history = [case for case in cases_of(module) if case.history]
    assert any(case.target == "dify_model_fallback" for case in with_history)
    assert any(case.target == "context_overflow" for case in with_history)
    assert any("-hn-dify_model_fallback" in case.name for case in with_history)

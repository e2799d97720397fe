"""Held-out corpus 12's structure (tests/detectors/heldout12.py): sizes, names, labels, Dify 1.14.1 shapes, and that
its labels follow from what the runs show. Never what the detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout12
from tests.detectors.heldout12_replay import PRICES
from tests.detectors.test_heldout_structure import attribute_values, cases_of

NODE_TYPES = (
    "start", "llm", "knowledge-retrieval", "question-classifier", "parameter-extractor", "code", "http-request",
    "iteration", "loop", "assigner", "answer", "end",
)  # fmt: skip


def _attr(span: ReadableSpan, key: str) -> str:
    return str((span.attributes or {}).get(key, ""))


def test_sizes_match_the_module_constants_and_about_half_the_runs_are_clean() -> None:
    cases = cases_of(heldout12)
    clean = [case for case in cases if not case.expected]
    assert len(cases) == heldout12.RUNS >= 1_000
    assert len(clean) == heldout12.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert sum("-hn-" in case.name for case in clean) == heldout12.HARD_NEGATIVE_RUNS >= len(clean) / 3


def test_names_are_unique_and_say_what_a_run_is() -> None:
    cases = cases_of(heldout12)
    assert len({case.name for case in cases}) == len(cases)
    for case in cases:
        assert case.name.split("-")[0] in heldout12.APPS, case.name
        assert case.expected <= set(heldout12.DETECTORS), case.name
        if case.target is None:
            assert not case.expected and re.search(r"-(hn|clean|warmup)-", case.name), case.name
        else:
            assert case.target in case.expected and f"-{case.target}." in case.name, case.name
            assert case.target == next(key for key in heldout12.PRIORITY if key in case.expected), case.name


def test_every_detector_has_30_positives_and_hard_negatives_are_named_after_one() -> None:
    cases = cases_of(heldout12)
    positives = Counter(key for case in cases for key in case.expected)
    assert set(positives) == set(heldout12.DETECTORS)
    assert min(positives.values()) >= 30, positives
    named = Counter(case.name.split("-hn-")[1].split(".")[0] for case in cases if "-hn-" in case.name)
    assert set(named) <= set(heldout12.DETECTORS)
    assert len(named) >= 8 and min(named.values()) >= 5, named


def test_each_app_starts_with_warm_up_runs_that_are_every_later_runs_history() -> None:
    cases = cases_of(heldout12)
    warm_up = len(heldout12.APPS) * heldout12.WARM_UP
    assert all("-warmup-" in case.name and not case.history for case in cases[:warm_up])
    for case in cases[warm_up:]:
        app = case.name.split("-")[0]
        assert [run[0].context.trace_id for run in case.history] == [
            warm.spans[0].context.trace_id for warm in cases[:warm_up] if warm.name.startswith(f"{app}-")
        ]


def test_the_apps_write_in_georgian_persian_hebrew_russian_armenian_japanese_chinese_and_spanish() -> None:
    text = json.dumps([sorted(attribute_values(case.spans)) for case in cases_of(heldout12)[::4]], ensure_ascii=False)
    samples = ("ქვევრის", "فرش", "מי הנגב", "счёт", "թանգարան", "湯呑み", "普洱", "matrícula")
    for sample in samples:
        assert sample in text, sample


def test_runs_have_the_recordings_node_types_statuses_and_priced_models() -> None:
    values: set[str] = set()
    for case in cases_of(heldout12):
        values |= attribute_values(case.spans)
        for span in case.spans:
            model = _attr(span, "gen_ai.request.model")
            assert not model or model in PRICES, (case.name, model)
    for node_type in NODE_TYPES:
        assert node_type in values, node_type
    for status in ("succeeded", "failed", "retry"):
        assert status in values, status
    assert "openai" in values


def _spend(spans: list[ReadableSpan]) -> float:
    priced = ("llm", "question-classifier", "parameter-extractor")
    return sum(float(_attr(s, "dify.price.total") or 0) for s in spans if _attr(s, "dify.node.type") in priced)


def _models(spans: list[ReadableSpan]) -> set[tuple[str, str]]:
    return {
        (_attr(s, "dify.node.id"), _attr(s, "gen_ai.request.model")) for s in spans if _attr(s, "gen_ai.request.model")
    }


def _version(spans: list[ReadableSpan]) -> str:
    return next(_attr(s, "dify.workflow.id") for s in spans if s.parent is None)


def test_cost_and_model_fallback_labels_follow_the_spans_against_the_warm_up() -> None:
    """`cost` iff a run spends ≥ 10 times its app's warm-up median and ≥ $0.005; `dify_model_fallback` iff, under
    the warm-up's workflow version, a node answers with a model the warm-up did not use there."""
    for case in cases_of(heldout12)[len(heldout12.APPS) * heldout12.WARM_UP :]:
        spent = _spend(case.spans)
        assert ("cost" in case.expected) == (
            spent >= 10 * statistics.median(map(_spend, case.history)) and spent >= 0.005
        )
        usual = {pair for run in case.history for pair in _models(run)}
        nodes = {node for node, _ in usual}
        models = {model for _, model in usual}
        switched = any((node in nodes and (node, model) not in usual) or model not in models
                       for node, model in _models(case.spans))  # fmt: skip
        same = _version(case.spans) == _version(case.history[0])
        assert ("dify_model_fallback" in case.expected) == (switched and same), case.name


def test_overflows_escapes_and_poisonings_follow_what_the_runs_show() -> None:
    for case in cases_of(heldout12):
        text = " ".join(attribute_values(case.spans)) + " ".join(s.status.description or "" for s in case.spans)
        if "maximum context length" in text:
            assert "context_overflow" in case.expected, case.name
        if case.name.startswith("tangaran-"):
            rounds = sum(_attr(s, "dify.node.id") == "llmI" for s in case.spans)
            limit = int(re.findall(r"limit=(\d+)", text)[0])
            assert ("dify_iteration_escape" in case.expected) == (rounds > limit), case.name
        if "dify_rag_poisoning" in case.expected:
            assert re.search(r"saperavi-vip\.top|qvevri-bonus\.top|farsh-takhfif\.ir", text), case.name


def test_the_docstring_counts_each_apps_runs() -> None:
    runs = Counter(case.name.split("-")[0] for case in cases_of(heldout12))
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout12.__doc__ or "", re.M)}
    assert described == dict(runs) == heldout12.RUNS_PER_APP


def test_the_corpus_is_deterministic_and_its_seed_matters() -> None:
    cases = cases_of(heldout12)
    again = list(heldout12.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases]
    assert [c.spans[0].context.trace_id for c in again[:50]] == [c.spans[0].context.trace_id for c in cases[:50]]
    other = heldout12.corpus(heldout12.SEED + 1)
    assert [next(other).spans[0].context.trace_id for _ in range(5)] != [c.spans[0].context.trace_id for c in cases[:5]]

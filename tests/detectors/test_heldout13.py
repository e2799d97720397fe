"""Held-out corpus 13's structure (tests/detectors/heldout13.py): sizes, names, pairs, labels, Dify shapes, and that its
labels follow from what the runs did. Never what the detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout13
from tests.detectors.test_heldout_structure import attribute_values, cases_of

NODE_TYPES = (
    "start", "llm", "knowledge-retrieval", "question-classifier", "parameter-extractor", "tool", "code",
    "http-request", "iteration", "loop", "assigner", "answer", "end",
)  # fmt: skip


def test_sizes_match_the_module_constants_and_about_half_the_runs_are_clean() -> None:
    cases = cases_of(heldout13)
    clean = [case for case in cases if not case.expected]
    assert len(cases) == heldout13.RUNS >= 1_000
    assert len(clean) == heldout13.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert sum("-hn-" in case.name for case in clean) == heldout13.HARD_NEGATIVE_RUNS


def test_names_are_unique_and_say_what_a_run_is() -> None:
    cases = cases_of(heldout13)
    assert len({case.name for case in cases}) == len(cases)
    for case in cases:
        assert case.name.split("-")[0] in heldout13.APPS, case.name
        assert case.expected <= set(heldout13.DETECTORS), case.name
        if case.target is None:
            assert not case.expected and re.search(r"-(hn|clean|warmup)-", case.name), case.name
        else:
            assert case.target in case.expected and f"-{case.target}." in case.name, case.name


def test_every_faulty_run_has_a_clean_twin_of_the_same_app_and_kind() -> None:
    cases = cases_of(heldout13)
    by_name = {case.name: case for case in cases}
    faulty = [case for case in cases if case.target is not None]
    assert Counter(case.target for case in faulty) == dict.fromkeys(heldout13.DETECTORS, heldout13.PAIRS_PER_KIND)
    for case in faulty:
        app, rest = case.name.split("-", 1)
        twin = by_name[f"{app}-hn-{rest}"]
        assert not twin.expected and twin.history == case.history, case.name


def test_every_detector_has_at_least_40_positives() -> None:
    positives = heldout13.counts(list(cases_of(heldout13)))
    assert set(positives) == set(heldout13.DETECTORS)
    assert min(positives.values()) >= 40, positives


def test_each_app_starts_with_warm_up_runs_that_are_every_later_runs_history() -> None:
    cases = cases_of(heldout13)
    warm_up = len(heldout13.APPS) * heldout13.WARM_UP
    assert all("-warmup-" in case.name and not case.history and not case.expected for case in cases[:warm_up])
    for case in cases[warm_up:]:
        app = case.name.split("-")[0]
        assert [run[0].context.trace_id for run in case.history] == [
            warm.spans[0].context.trace_id for warm in cases[:warm_up] if warm.name.startswith(f"{app}-")
        ]


def test_the_apps_write_in_vietnamese_turkish_hindi_hebrew_chinese_and_ukrainian() -> None:
    text = json.dumps([sorted(attribute_values(case.spans)) for case in cases_of(heldout13)[::3]], ensure_ascii=False)
    for sample in ("hợp tác xã", "ruhsat", "दावे", "פרות", "停电", "сушарки"):
        assert sample in text, sample


def test_runs_hold_the_node_types_and_statuses_the_apps_need() -> None:
    values: set[str] = set()
    for case in cases_of(heldout13):
        values |= attribute_values(case.spans)
    for node_type in NODE_TYPES:
        assert node_type in values, node_type
    for status in ("succeeded", "failed", "exception", "partial-succeeded"):
        assert status in values, status


def test_the_docstring_counts_each_apps_runs_and_each_detectors_positives() -> None:
    cases = cases_of(heldout13)
    runs = Counter(case.name.split("-")[0] for case in cases)
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout13.__doc__ or "", re.M)}
    assert described == dict(runs)
    positives = (heldout13.__doc__ or "").split("also shows:")[1].split(". ")[0]
    assert dict(re.findall(r"(\w+) (\d+)", positives)) == {k: str(v) for k, v in heldout13.counts(list(cases)).items()}


def _root(spans: list[ReadableSpan]) -> dict[str, object]:
    return dict(next(span for span in spans if span.parent is None).attributes or {})


def _spend(spans: list[ReadableSpan]) -> float:
    """The run's spend as its workflow span reports it (the sum of its model calls' prices)."""
    return float(str(_root(spans).get("dify.price.total", 0)))


def _model_of_each_node(spans: list[ReadableSpan]) -> dict[object, object]:
    attributes = [span.attributes or {} for span in spans]
    return {a.get("dify.node.id"): a["gen_ai.request.model"] for a in attributes if "gen_ai.request.model" in a}


def test_cost_and_model_fallback_labels_follow_the_spans_against_the_warm_up() -> None:
    """`cost` iff a run spends ≥ 5 times its app's warm-up median (none between 3 and 5); `dify_model_fallback` iff a
    node's model is not the one it had in the warm-up."""
    for case in cases_of(heldout13)[len(heldout13.APPS) * heldout13.WARM_UP :]:
        ratio = _spend(case.spans) / statistics.median(_spend(run) for run in case.history)
        assert ("cost" in case.expected) == (ratio >= 5) and not 3 <= ratio < 5, (case.name, ratio)
        usual = _model_of_each_node(case.history[0])
        switched = any(usual.get(node, model) != model for node, model in _model_of_each_node(case.spans).items())
        assert ("dify_model_fallback" in case.expected) == switched, case.name


def test_overflows_poisonings_and_loops_follow_what_the_runs_show() -> None:
    for case in cases_of(heldout13):
        text = " ".join(attribute_values(case.spans))
        if "maximum context length" in text:
            assert "context_overflow" in case.expected, case.name
        if "dify_rag_poisoning" in case.expected or "-hn-dify_rag_poisoning" in case.name:
            assert "thong-bao-doi-tac.docx" in text, case.name  # the planted page was retrieved, on both sides
        if "loop" in case.expected:
            assert "loop_completed" in text, case.name


def test_the_corpus_is_deterministic_and_its_seed_matters() -> None:
    cases = cases_of(heldout13)
    again = list(heldout13.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases]
    other = heldout13.corpus(heldout13.SEED + 1)
    assert [next(other).spans[0].context.trace_id for _ in range(5)] != [c.spans[0].context.trace_id for c in cases[:5]]

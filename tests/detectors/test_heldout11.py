"""Held-out corpus 11's structure (tests/detectors/heldout11.py): sizes, names, labels, Dify shapes, and that its
labels follow from what the runs did. Never what the detectors find on it: the corpus is held out."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout11, heldout11_apps
from tests.detectors.test_heldout_structure import attribute_values, cases_of


def test_sizes_match_the_module_constants_and_about_half_the_runs_are_clean() -> None:
    cases = cases_of(heldout11)
    clean = [case for case in cases if not case.expected]
    assert len(cases) == heldout11.RUNS
    assert len(clean) == heldout11.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert sum("-hn-" in case.name for case in clean) == heldout11.HARD_NEGATIVE_RUNS >= len(clean) / 3


def test_names_are_unique_and_say_what_a_run_is() -> None:
    cases = cases_of(heldout11)
    assert len({case.name for case in cases}) == len(cases)
    for case in cases:
        assert case.name.split("-")[0] in heldout11.APPS, case.name
        assert case.expected <= set(heldout11.DETECTORS), case.name
        if case.target is None:
            assert not case.expected and re.search(r"-(hn|clean|warmup)-", case.name), case.name
        else:
            assert case.target in case.expected and f"-{case.target}." in case.name, case.name
            assert case.target == next(key for key in heldout11.PRIORITY if key in case.expected), case.name


def test_every_detector_has_30_positives_and_hard_negatives_are_named_after_one() -> None:
    cases = cases_of(heldout11)
    positives = Counter(key for case in cases for key in case.expected)
    assert set(positives) == set(heldout11.DETECTORS)
    assert min(positives.values()) >= 30, positives
    named = Counter(case.name.split("-hn-")[1].split(".")[0] for case in cases if "-hn-" in case.name)
    assert set(named) <= set(heldout11.DETECTORS)
    assert len(named) >= 8 and min(named.values()) >= 5, named


def test_each_app_starts_with_warm_up_runs_that_are_every_later_runs_history() -> None:
    cases = cases_of(heldout11)
    warm_up = len(heldout11.APPS) * heldout11.WARM_UP
    assert all("-warmup-" in case.name and not case.history for case in cases[:warm_up])
    for case in cases[warm_up:]:
        app = case.name.split("-")[0]
        assert [run[0].context.trace_id for run in case.history] == [
            warm.spans[0].context.trace_id for warm in cases[:warm_up] if warm.name.startswith(f"{app}-")
        ]


def test_the_apps_write_in_swahili_greek_indonesian_polish_bengali_and_chinese() -> None:
    text = json.dumps([sorted(attribute_values(case.spans)) for case in cases_of(heldout11)[::5]], ensure_ascii=False)
    samples = ("Nauli", "Αρχείο", "dana desa", "odszkodowanie", "রিপোর্ট", "字幕")
    for sample in samples:
        assert sample in text, sample


def test_runs_hold_the_node_types_and_statuses_the_graphs_have() -> None:
    values: set[str] = set()
    for case in cases_of(heldout11):
        values |= attribute_values(case.spans)
    for app in heldout11.APP_LIST:
        for node in app.graph:
            assert node.type in values, node
    for status in ("succeeded", "failed", "partial-succeeded", "exception"):
        assert status in values, status


def _attr(span: ReadableSpan, key: str) -> str:
    return str((span.attributes or {}).get(key, ""))


def test_top_level_nodes_form_a_path_along_their_graphs_edges() -> None:
    edges = {app.name: [tuple(e.split(">")) for e in app.edges if "/" not in e] for app in heldout11.APP_LIST}
    for case in cases_of(heldout11)[::7]:
        (root,) = [span for span in case.spans if span.parent is None]
        nodes = {_attr(s, "dify.node.id") for s in case.spans if s.parent and s.parent.span_id == root.context.span_id}
        path = ["start"]
        while nexts := [b for a, b in edges[case.name.split("-")[0]] if a == path[-1] and b in nodes]:
            path.append(nexts[0])
        assert set(path) == nodes - {""}, (case.name, nodes)


def test_the_docstring_counts_each_apps_runs() -> None:
    runs = Counter(case.name.split("-")[0] for case in cases_of(heldout11))
    described = {app: int(count) for app, count in re.findall(r"^- `(\w+)` \((\d+)\)", heldout11.__doc__ or "", re.M)}
    assert described == dict(runs) == heldout11.RUNS_PER_APP


def _spend(spans: list[ReadableSpan]) -> float:
    """The run's spend: the sum of its model-calling nodes' prices, as their spans report them."""
    return sum(float(_attr(s, "dify.price.total") or 0) for s in spans if _attr(s, "dify.node.type") in (
        "llm", "question-classifier", "parameter-extractor"))  # fmt: skip


def _models(spans: list[ReadableSpan]) -> set[tuple[str, str]]:
    return {
        (_attr(s, "dify.node.id"), _attr(s, "gen_ai.request.model")) for s in spans if _attr(s, "gen_ai.request.model")
    }


def test_cost_and_model_fallback_labels_follow_the_spans_against_the_warm_up() -> None:
    """`cost` iff a run spends ≥ 8 times its app's warm-up median; `dify_model_fallback` iff a node's model is
    not the one it had in the warm-up (a republish on purpose included)."""
    for case in cases_of(heldout11)[len(heldout11.APPS) * heldout11.WARM_UP :]:
        ratio = _spend(case.spans) / statistics.median(_spend(run) for run in case.history)
        assert ("cost" in case.expected) == (ratio >= 8), (case.name, ratio)
        usual = dict(_models(case.history[0]))
        switched = any(usual.get(node, model) != model for node, model in _models(case.spans))
        assert ("dify_model_fallback" in case.expected) == switched, case.name


def test_escapes_overflows_and_poisonings_follow_what_the_runs_show() -> None:
    for case in cases_of(heldout11):
        values = attribute_values(case.spans)
        text = " ".join(values)
        if case.name.startswith("chabagan-"):  # one section-summary LLM span per round of the iteration
            rounds = sum(_attr(s, "dify.node.id") == "line" for s in case.spans)
            assert ("dify_iteration_escape" in case.expected) == (rounds > heldout11_apps.LIMIT), case.name
        if "maximum context length" in text:
            assert "context_overflow" in case.expected, case.name
        if "dify_rag_poisoning" in case.expected:
            assert "AI: " in text and "IBAN GR16" in text, case.name  # a planted instruction, its payload


def test_the_corpus_is_deterministic_and_its_seed_matters() -> None:
    cases = cases_of(heldout11)
    again = list(heldout11.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases]
    other = heldout11.corpus(heldout11.SEED + 1)
    assert [next(other).spans[0].context.trace_id for _ in range(5)] != [c.spans[0].context.trace_id for c in cases[:5]]

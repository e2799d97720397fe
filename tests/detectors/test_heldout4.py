"""Held-out corpus 4's structure: counts, names, labels, determinism and the Dify shapes of its runs. Never what
the detectors find on it: that is scored once, by the lead (bench/detection_quality.py --corpus heldout4)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.detectors import heldout4
from tests.detectors.corpus import Case

NODE_TYPES = (
    "start", "llm", "knowledge-retrieval", "question-classifier", "parameter-extractor", "tool", "code",
    "http-request", "iteration", "loop", "assigner", "template-transform", "if-else", "answer", "end",
)  # fmt: skip


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return list(heldout4.corpus())


def test_counts_match_the_module_constants(cases: list[Case]) -> None:
    clean = [case for case in cases if case.target is None]
    hard = [case for case in clean if "-hn-" in case.name]
    assert len(cases) == heldout4.RUNS >= 1_000
    assert len(clean) == heldout4.CLEAN_RUNS
    assert 0.45 <= len(clean) / len(cases) <= 0.55
    assert len(hard) == heldout4.HARD_NEGATIVE_RUNS >= 0.35 * len(clean)


def test_names_are_unique_and_hard_negatives_are_clean(cases: list[Case]) -> None:
    assert len({case.name for case in cases}) == len(cases)
    assert all(case.target is None and not case.expected for case in cases if "-hn-" in case.name)


def test_labels_name_known_detectors_and_every_detector_has_40_positives(cases: list[Case]) -> None:
    positives = Counter(key for case in cases for key in case.expected)
    assert set(positives) == set(heldout4.DETECTORS)
    assert min(positives.values()) >= 40, positives
    for case in cases:
        assert (case.target is None) == (not case.expected), case.name
        assert case.target is None or case.target in case.expected, case.name


def test_each_app_starts_with_clean_warm_up_runs(cases: list[Case]) -> None:
    warm_up = cases[: heldout4.WARM_UP * len(heldout4.APPS)]
    assert all(case.target is None and "-clean" in case.name for case in warm_up)
    assert Counter(case.name.split("-")[2] for case in warm_up) == dict.fromkeys(heldout4.APPS, heldout4.WARM_UP)


def test_the_corpus_is_deterministic_and_its_seed_matters(cases: list[Case]) -> None:
    again = list(heldout4.corpus())
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases]
    assert [dict(s.attributes or {}) for s in again[500].spans] == [dict(s.attributes or {}) for s in cases[500].spans]
    other = [(c.name, c.expected) for c in heldout4.corpus(heldout4.SEED + 1)]
    assert other != [(c.name, c.expected) for c in cases]


def test_runs_have_the_node_types_and_statuses_of_dify_1_14_1(cases: list[Case]) -> None:
    node_types = Counter((s.attributes or {}).get("dify.node.type") for case in cases for s in case.spans)
    node_statuses = Counter((s.attributes or {}).get("dify.node.status") for case in cases for s in case.spans)
    run_statuses = Counter((s.attributes or {}).get("dify.run.status") for case in cases for s in case.spans)
    for kind in NODE_TYPES:
        assert node_types[kind] > 0, kind
    assert {"succeeded", "failed", "exception", "retry"} <= set(node_statuses)
    assert {"succeeded", "failed", "partial-succeeded"} <= set(run_statuses)
    assert sum(run_statuses[s] for s in ("succeeded", "failed", "partial-succeeded")) == len(cases)


def test_every_run_is_one_run_of_its_app_in_one_of_two_workflow_versions(cases: list[Case]) -> None:
    apps: dict[str, set[str]] = {}
    versions: dict[str, set[str]] = {}
    runs = set()
    for case in cases:
        (root,) = [s for s in case.spans if s.parent is None]
        app = case.name.split("-")[2]
        apps.setdefault(app, set()).add(str((root.attributes or {})["dify.app.id"]))
        versions.setdefault(app, set()).add(str((root.attributes or {})["dify.workflow.id"]))
        runs.add((root.attributes or {})["dify.run.id"])
    assert set(apps) == set(heldout4.APPS)
    assert all(len(ids) == 1 for ids in apps.values())
    assert all(1 <= len(ids) <= 2 for ids in versions.values())
    assert len(runs) == len(cases)

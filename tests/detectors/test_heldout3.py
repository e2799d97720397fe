"""Held-out corpus 3 builds, holds the runs its docs claim, and is shaped like Dify 1.14.1's streams."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from detectors import registry
from tests.detectors import heldout3
from tests.detectors.corpus import Case


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return list(heldout3.corpus())


def test_counts(cases: list[Case]) -> None:
    assert len(cases) == heldout3.RUNS == 1034
    assert len({case.name for case in cases}) == len(cases)
    clean = [case for case in cases if case.target is None]
    assert len(clean) == heldout3.CLEAN_RUNS == 503
    assert all(not case.expected for case in clean)
    assert sum("-hn-" in case.name for case in clean) == heldout3.HARD_NEGATIVE_RUNS == 213
    assert all(case.expected and case.target in case.expected for case in cases if case.target is not None)
    positives = Counter(key for case in cases for key in case.expected)
    assert set(positives) == set(registry())
    assert min(positives.values()) >= 42


def test_warm_up_comes_first(cases: list[Case]) -> None:
    first = cases[: heldout3.WARM_UP * len(heldout3.WARM_UP_BUILDERS)]
    assert all(case.target is None for case in first)
    assert len({(case.spans[0].attributes or {})["dify.app.id"] for case in first}) == 7


def test_deterministic() -> None:
    once = [(c.name, c.expected) for c in itertools.islice(heldout3.corpus(), 120)]
    again = [(c.name, c.expected) for c in itertools.islice(heldout3.corpus(), 120)]
    assert once == again


def test_dify_shapes(cases: list[Case]) -> None:
    node_types = {str((span.attributes or {}).get("dify.node.type")) for case in cases for span in case.spans}
    assert node_types >= {"start", "question-classifier", "knowledge-retrieval", "parameter-extractor", "llm", "tool",
                          "code", "http-request", "assigner", "template-transform", "answer", "end"}  # fmt: skip
    statuses = Counter(str((case.spans[0].attributes or {})["dify.run.status"]) for case in cases)
    assert set(statuses) == {"succeeded", "failed", "partial-succeeded"}
    chat = [case for case in cases if "helpdesk" in case.name]
    assert all("gen_ai.conversation.id" in (case.spans[0].attributes or {}) for case in chat)


def test_languages(cases: list[Case]) -> None:
    text = " ".join(str((case.spans[0].attributes or {}).get("input.value")) for case in cases)
    for sample in ("保修", "食洗機", "Garantie", "garantía", "lave-vaisselle", "散文"):
        assert sample in text, sample

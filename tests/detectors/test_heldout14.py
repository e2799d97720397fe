"""Held-out corpus 14's structure (tests/detectors/heldout14.py): sizes, names, labels, and that every recorded
stream reads into one run with a span for each node execution Dify streamed. What the detectors find on it
(scored blind once, at the start of session 25; a development set since) is bench/detection_quality.py's."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

from bridge.trace.attributes import DIFY_NODE_EXECUTION_ID, DIFY_NODE_TYPE
from tests.detectors import heldout14
from tests.detectors.corpus import Case

SOME_NODE_TYPES = (
    "start", "llm", "knowledge-retrieval", "question-classifier", "parameter-extractor", "code", "http-request",
    "iteration", "loop", "assigner", "template-transform", "if-else", "variable-aggregator", "answer", "end",
)  # fmt: skip


@cache
def cases() -> tuple[Case, ...]:
    return tuple(heldout14.corpus())


def test_sizes_and_the_clean_share() -> None:
    runs = cases()
    clean = [case for case in runs if not case.expected]
    hard = [case for case in clean if "-hn-" in case.name]
    assert len(runs) >= 1_000
    assert 0.45 <= len(clean) / len(runs) <= 0.6
    assert len(hard) >= 0.3 * len(clean)
    per_app = Counter(case.name.split("-")[0] for case in runs)
    assert set(per_app) == set(heldout14.APPS) and min(per_app.values()) >= 140


def test_names_are_unique_and_labels_valid() -> None:
    runs = cases()
    assert len({case.name for case in runs}) == len(runs)
    positives: Counter[str] = Counter()
    for case in runs:
        kind = heldout14.kind_of(case.name)
        assert case.expected <= set(heldout14.DETECTORS), case.name
        positives.update(case.expected)
        if case.expected:
            assert case.target in case.expected and not kind.startswith(("hn-", "clean", "warmup")), case.name
        else:
            assert case.target is None and kind.startswith(("hn-", "clean", "warmup")), case.name
    assert set(positives) == set(heldout14.DETECTORS)
    assert min(positives.values()) >= 25, positives


def test_each_app_starts_with_its_warm_up_runs() -> None:
    for app in heldout14.APPS:
        names = [case.name for case in cases() if case.name.startswith(app + "-")]
        assert names[: heldout14.WARM_UP] == [f"{app}-warmup-{i:03d}" for i in range(heldout14.WARM_UP)]
        assert not any("-warmup-" in name for name in names[heldout14.WARM_UP :])


def test_loading_is_deterministic() -> None:
    again = list(heldout14.corpus(heldout14.SEED + 1))
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases()]


def test_every_stream_reads_into_one_run_with_the_node_spans_dify_sent() -> None:
    by_name = {case.name: case for case in cases()}
    node_types: set[str] = set()
    for app in heldout14.APPS:
        for run in heldout14.recorded(app):
            events = [json.loads(line[6:]) for line in run["sse"].splitlines() if line.startswith("data: {")]
            sent = {e["data"]["id"] for e in events if e.get("event") == "node_finished"}
            spans = by_name[run["name"]].spans
            assert {span.context.trace_id for span in spans} == {spans[0].context.trace_id}, run["name"]
            read = {str((span.attributes or {}).get(DIFY_NODE_EXECUTION_ID)) for span in spans}
            assert sent and sent <= read, run["name"]
            node_types |= {str((span.attributes or {}).get(DIFY_NODE_TYPE)) for span in spans}
    assert set(SOME_NODE_TYPES) <= node_types

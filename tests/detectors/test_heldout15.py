"""Held-out corpus 15's structure (tests/detectors/heldout15.py): sizes, names, labels, that every recorded stream
reads into one run with a span for each node execution Dify streamed, and that a conversation's turns share its
conversation id. What the detectors find on it (scored blind once, at the end of session 25's first detector changes; a
development set since) is bench/detection_quality.py's."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

from bridge.trace.attributes import DIFY_NODE_EXECUTION_ID
from tests.detectors import heldout15
from tests.detectors.corpus import Case
from tests.detectors.heldout15 import Recorded


@cache
def cases() -> tuple[Case, ...]:
    return tuple(heldout15.corpus())


@cache
def runs() -> tuple[Recorded, ...]:
    return tuple(run for app in heldout15.available() for run in heldout15.recorded(app))


def events_of(run: Recorded) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in run["sse"].splitlines() if line.startswith("data: {")]


def test_sizes_and_the_clean_share() -> None:
    every = cases()
    clean = [case for case in every if not case.expected]
    per_app = Counter(case.name.split("-")[0] for case in every)
    assert heldout15.available() and set(per_app) == set(heldout15.available())
    assert min(per_app.values()) >= 100, per_app
    assert 0.72 <= len(clean) / len(every) <= 0.88
    if heldout15.available() == heldout15.APPS:
        assert len(clean) >= 800 and sum("-hn-" in case.name for case in clean) >= 200


def test_names_are_unique_and_labels_valid() -> None:
    every = cases()
    assert len({case.name for case in every}) == len(every)
    made_clean = ("hn-", "clean", "warmup")
    wrong = [
        case.name
        for case in every
        if not case.expected <= set(heldout15.DETECTORS)
        or heldout15.kind_of(case.name).startswith(made_clean) == bool(case.expected)
        or (case.target in case.expected if case.expected else case.target is None) is False
    ]
    assert not wrong, wrong[:5]
    positives = Counter(label for case in every for label in case.expected)
    if heldout15.available() == heldout15.APPS:
        assert set(positives) == set(heldout15.DETECTORS) and min(positives.values()) >= 15, positives


def test_loading_is_deterministic() -> None:
    again = list(heldout15.corpus(heldout15.SEED + 1))
    assert [(c.name, c.expected, len(c.spans)) for c in again] == [(c.name, c.expected, len(c.spans)) for c in cases()]


def test_every_stream_reads_into_one_run_with_the_node_spans_dify_sent() -> None:
    for run, case in zip(runs(), cases(), strict=True):
        sent = {e["data"]["id"] for e in events_of(run) if e.get("event") == "node_finished"}
        assert len({span.context.trace_id for span in case.spans}) == 1, case.name
        read = {str((span.attributes or {}).get(DIFY_NODE_EXECUTION_ID)) for span in case.spans}
        assert sent and sent <= read, case.name


def test_conversation_turns_share_their_conversation_id() -> None:
    by_name = {run["name"]: run for run in runs()}
    turns = 0
    for run in runs():
        chat = run["name"].split("-")[0] in heldout15.CHATFLOWS
        assert (run["conversation"] is not None) == chat, run["name"]
        assert {e.get("conversation_id") for e in events_of(run) if "conversation_id" in e} <= {run["conversation"]}
        if run["previous"] is not None:
            turns += 1
            earlier = by_name[run["previous"]]
            assert earlier["conversation"] == run["conversation"], run["name"]
    assert turns >= 40 * len(set(heldout15.CHATFLOWS) & set(heldout15.available()))

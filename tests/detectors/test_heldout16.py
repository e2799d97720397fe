"""Held-out corpus 16's structure (tests/detectors/heldout16.py): every app file loads, names and labels are valid,
each app starts with five clean runs, the counts per label are the README's; and, for every set recorded in its
format (held-out 16 to 20), a conversation's turns share its id and each run's stream and Dify's export of it
rebuild to the same run with the same nodes. No detector runs here: bench/detection_quality.py scores them."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from types import ModuleType
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.trace.attributes import DIFY_NODE_EXECUTION_ID, DIFY_RUN_ID
from tests.detectors import heldout16, heldout17, heldout18, heldout19, heldout20
from tests.detectors.heldout16 import Recorded

# The README's counts: runs per app, then runs per label over every app (a run with two labels counts twice).
PER_APP = {
    "nb_ferje": 139,
    "ca_taller": 110,
    "hr_ljekarna": 135,
    "ta_thervu": 109,
    "da_elmaaler": 121,
    "ms_takaful": 123,
}
PER_LABEL = {
    "context_overflow": 7, "cost": 17, "dify_classifier_drift": 14, "dify_iteration_escape": 22,
    "dify_model_fallback": 22, "dify_rag_poisoning": 12, "dify_tool_schema_mismatch": 18, "dify_variable_leak": 32,
    "hallucination": 54, "loop": 18, "state_corruption": 40, "task_derailment": 21,
}  # fmt: skip


@cache
def runs() -> tuple[Recorded, ...]:
    return tuple(run for app in heldout16.available() for run in heldout16.recorded(app))


def events_of(run: Recorded) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in run["sse"].splitlines() if line.startswith("data: {")]


def run_id_and_nodes(spans: list[ReadableSpan]) -> tuple[str, int]:
    ids = {str((span.attributes or {}).get(DIFY_RUN_ID)) for span in spans} - {"None"}
    nodes = {(span.attributes or {}).get(DIFY_NODE_EXECUTION_ID) for span in spans} - {None}
    assert len(ids) == 1, ids
    return ids.pop(), len(nodes)


def test_every_app_loads_with_valid_names_and_labels() -> None:
    assert heldout16.available(), "no app recorded"
    every = runs()
    assert len({run["name"] for run in every}) == len(every)
    per_app = Counter(run["name"].split("-")[0] for run in every)
    assert per_app == {app: PER_APP[app] for app in heldout16.available()}
    made_clean = ("hn-", "clean", "warmup")
    for run in every:
        kind = heldout16.kind_of(run["name"])
        assert set(run["labels"]) <= set(heldout16.DETECTORS), run["name"]
        assert kind.startswith(made_clean) != bool(run["labels"]), run["name"]
        assert kind.startswith(made_clean) or kind in run["labels"], run["name"]


def test_each_app_starts_with_five_clean_runs() -> None:
    for app in heldout16.available():
        first = [run for _, run in zip(range(5), heldout16.recorded(app), strict=False)]
        assert [run["labels"] for run in first] == [[]] * 5, app


def test_counts_per_label_are_the_readmes() -> None:
    if heldout16.available() == heldout16.APPS:
        assert Counter(label for run in runs() for label in run["labels"]) == PER_LABEL
        clean = sum(not run["labels"] for run in runs())
        assert 0.68 <= clean / len(runs()) <= 0.8


# Every held-out set recorded in held-out 16's format (a run's stream and Dify's export of it side by side).
RECORDED = (heldout16, heldout17, heldout18, heldout19, heldout20)


def recorded_runs(corpus: ModuleType) -> list[Recorded]:
    return [run for app in corpus.available() for run in corpus.recorded(app)]


@pytest.mark.parametrize("corpus", RECORDED, ids=lambda corpus: corpus.__name__.rsplit(".", 1)[-1])
def test_conversation_turns_share_their_conversation_id(corpus: ModuleType) -> None:
    every = recorded_runs(corpus)
    by_name = {run["name"]: run for run in every}
    for run in every:
        chat = run["name"].split("-")[0] in corpus.CHATFLOWS
        assert (run["conversation"] is not None) == chat, run["name"]
        assert {e.get("conversation_id") for e in events_of(run) if "conversation_id" in e} <= {run["conversation"]}
        if run["previous"] is not None:
            assert by_name[run["previous"]]["conversation"] == run["conversation"], run["name"]


@pytest.mark.parametrize("corpus", RECORDED, ids=lambda corpus: corpus.__name__.rsplit(".", 1)[-1])
def test_stream_and_export_rebuild_to_the_same_run_and_nodes(corpus: ModuleType) -> None:
    for run in recorded_runs(corpus):
        streamed = run_id_and_nodes(corpus.spans_of(run["name"], run["sse"]))
        sent = {e["data"]["id"] for e in events_of(run) if e.get("event") == "node_finished"}
        assert streamed[1] >= len(sent), run["name"]
        if run["otlp"] is not None:
            assert run_id_and_nodes(corpus.exported_spans(run)) == streamed, run["name"]

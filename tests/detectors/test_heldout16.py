"""The structure of every held-out set recorded in held-out 16's format (tests/detectors/heldout16.py to heldout21.py):
every app file loads, names and labels are valid, each app starts with its clean warm-up runs, the counts per app and
per label are its README's; a conversation's turns share its id; each run's stream and Dify's export of it rebuild to
the same run with the same nodes. No detector runs here: bench/detection_quality.py scores them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.trace.attributes import DIFY_NODE_EXECUTION_ID, DIFY_RUN_ID
from tests.detectors import heldout16, heldout17, heldout18, heldout19, heldout20, heldout21
from tests.detectors.heldout16 import DETECTORS, Recorded, exported_spans, kind_of, spans_of


@dataclass(frozen=True)
class Readme:
    """What a set's README counts: runs per app, runs per label (a run with two labels counts twice), the clean share's
    bounds, at least how many hard negatives, and the apps with other than five warm-up runs."""

    per_app: dict[str, int]
    per_label: dict[str, int]
    clean: tuple[float, float] = (0.6, 0.75)
    hard_negatives: int = 0
    warmups: dict[str, int] = field(default_factory=dict)


# fmt: off
READMES: dict[ModuleType, Readme] = {
    heldout16: Readme(
        {"nb_ferje": 139, "ca_taller": 110, "hr_ljekarna": 135, "ta_thervu": 109, "da_elmaaler": 121,
         "ms_takaful": 123},
        {
            "context_overflow": 7, "cost": 17, "dify_classifier_drift": 14, "dify_iteration_escape": 22,
            "dify_model_fallback": 22, "dify_rag_poisoning": 12, "dify_tool_schema_mismatch": 18,
            "dify_variable_leak": 32, "hallucination": 54, "loop": 18, "state_corruption": 40, "task_derailment": 21,
        },
        clean=(0.68, 0.8),
    ),
    heldout17: Readme(
        {"zh_wuliu": 92, "bn_krishi": 92, "sk_kniznica": 92, "eu_udala": 93, "cy_cyngor": 92, "kk_shot": 92},
        {
            "context_overflow": 6, "cost": 16, "dify_classifier_drift": 10, "dify_iteration_escape": 20,
            "dify_model_fallback": 20, "dify_rag_poisoning": 12, "dify_tool_schema_mismatch": 20,
            "dify_variable_leak": 28, "hallucination": 23, "loop": 20, "state_corruption": 41, "task_derailment": 12,
        },
        hard_negatives=50,
    ),
    heldout18: Readme(
        {"ga_bus": 82, "mt_forn": 75, "am_telecom": 67, "si_tea": 68, "mn_water": 68, "az_qebul": 118},
        {
            "context_overflow": 5, "cost": 18, "dify_classifier_drift": 10, "dify_iteration_escape": 15,
            "dify_model_fallback": 41, "dify_rag_poisoning": 11, "dify_tool_schema_mismatch": 19,
            "dify_variable_leak": 17, "hallucination": 33, "loop": 14, "state_corruption": 31, "task_derailment": 12,
        },
    ),
    heldout19: Readme(
        {"en_shop": 89, "en_helpdesk": 82, "en_leads": 80, "zh_content": 65, "es_informe": 82, "de_reise": 78},
        {
            "context_overflow": 6, "cost": 8, "dify_classifier_drift": 9, "dify_iteration_escape": 16,
            "dify_model_fallback": 16, "dify_rag_poisoning": 8, "dify_tool_schema_mismatch": 16,
            "dify_variable_leak": 23, "hallucination": 48, "loop": 16, "state_corruption": 22, "task_derailment": 21,
        },
        hard_negatives=50,
    ),
    heldout20: Readme(
        {"en_docs": 104, "en_recruit": 68, "en_expense": 68, "zh_canting": 81, "ja_tracking": 67, "fr_reunion": 60},
        {
            "context_overflow": 6, "cost": 14, "dify_classifier_drift": 13, "dify_iteration_escape": 14,
            "dify_model_fallback": 23, "dify_tool_schema_mismatch": 14,  # no dify_rag_poisoning: relabelled (README)
            "dify_variable_leak": 19, "hallucination": 56, "loop": 11, "state_corruption": 23, "task_derailment": 24,
        },
        hard_negatives=50,
        warmups={"en_docs": 4},  # its first warm-up stated a version its retrieval did not give (README)
    ),
    heldout21: Readme(
        {"en_helpdesk": 76, "zh_kefu": 79, "en_story": 51, "zh_fanyi": 50, "en_reviews": 71, "es_resenas": 60},
        {
            "context_overflow": 4, "cost": 23, "dify_classifier_drift": 14, "dify_iteration_escape": 13,
            "dify_model_fallback": 26, "dify_rag_poisoning": 8, "dify_tool_schema_mismatch": 7,
            "dify_variable_leak": 10, "hallucination": 44, "loop": 7, "state_corruption": 13, "task_derailment": 16,
        },
        hard_negatives=40,
        warmups={"en_helpdesk": 3},  # its retrieval missed the documents two warm-up answers drew on (README)
    ),
}
# fmt: on
RECORDED = tuple(READMES)
each_set = pytest.mark.parametrize("corpus", RECORDED, ids=lambda corpus: corpus.__name__.rsplit(".", 1)[-1])


def recorded_runs(corpus: ModuleType) -> list[Recorded]:
    return list(corpus.RECORDED.runs())


@each_set
def test_every_app_loads_with_valid_names_and_labels(corpus: ModuleType) -> None:
    assert corpus.RECORDED.available() == corpus.APPS
    every = recorded_runs(corpus)
    assert len({run["name"] for run in every}) == len(every)
    assert Counter(run["name"].split("-")[0] for run in every) == READMES[corpus].per_app
    made_clean = ("hn-", "clean", "warmup")
    for run in every:
        kind = kind_of(run["name"])
        assert set(run["labels"]) <= set(DETECTORS), run["name"]
        assert kind.startswith(made_clean) != bool(run["labels"]), run["name"]
        assert kind.startswith(made_clean) or kind in run["labels"], run["name"]


@each_set
def test_each_app_starts_with_its_clean_warmup_runs(corpus: ModuleType) -> None:
    for app in corpus.APPS:
        n = READMES[corpus].warmups.get(app, 5)
        first = [run for _, run in zip(range(n), corpus.RECORDED.recorded(app), strict=False)]
        assert [run["labels"] for run in first] == [[]] * n, app


@each_set
def test_counts_per_label_are_the_readmes(corpus: ModuleType) -> None:
    readme, every = READMES[corpus], recorded_runs(corpus)
    assert Counter(label for run in every for label in run["labels"]) == readme.per_label
    low, high = readme.clean
    assert low <= sum(not run["labels"] for run in every) / len(every) <= high
    assert sum(kind_of(run["name"]).startswith("hn-") for run in every) >= readme.hard_negatives


def events_of(run: Recorded) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in run["sse"].splitlines() if line.startswith("data: {")]


def run_id_and_nodes(spans: list[ReadableSpan]) -> tuple[str, int]:
    ids = {str((span.attributes or {}).get(DIFY_RUN_ID)) for span in spans} - {"None"}
    nodes = {(span.attributes or {}).get(DIFY_NODE_EXECUTION_ID) for span in spans} - {None}
    assert len(ids) == 1, ids
    return ids.pop(), len(nodes)


@each_set
def test_conversation_turns_share_their_conversation_id(corpus: ModuleType) -> None:
    every = recorded_runs(corpus)
    by_name = {run["name"]: run for run in every}
    for run in every:
        chat = run["name"].split("-")[0] in corpus.CHATFLOWS
        assert (run["conversation"] is not None) == chat, run["name"]
        assert {e.get("conversation_id") for e in events_of(run) if "conversation_id" in e} <= {run["conversation"]}
        if run["previous"] is not None:
            assert by_name[run["previous"]]["conversation"] == run["conversation"], run["name"]


@each_set
def test_stream_and_export_rebuild_to_the_same_run_and_nodes(corpus: ModuleType) -> None:
    for run in recorded_runs(corpus):
        streamed = run_id_and_nodes(spans_of(run["name"], run["sse"]))
        sent = {e["data"]["id"] for e in events_of(run) if e.get("event") == "node_finished"}
        assert streamed[1] >= len(sent), run["name"]
        if run["otlp"] is not None:
            assert run_id_and_nodes(exported_spans(run)) == streamed, run["name"]

"""The third set of faulty runs recorded from a real Dify 1.14.1 (testdata/dify-1.14.1-faults3/README.md), a
blind evaluation set: seven apps unlike the first two sets', each run clean first, then its faulty runs, every run
recorded twice, the API client's stream and Dify's own tracing export. Here only their structure: each run reads
through the stream reader and through the otlp receiver's rebuild into the same run with the nodes the stream
shows, and the labels cover every run. No detector runs here: the set's figures are measured elsewhere, once."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import pytest

from bridge.dify.export import recognize
from bridge.dify.model import WorkflowRun
from tests.dify_recordings import recorded_spans
from tests.runs import TESTS, load_run

FAULTS3 = TESTS / "testdata" / "dify-1.14.1-faults3"
INDEX = [json.loads(line) for line in (FAULTS3 / "index.jsonl").read_text().splitlines()]  # in run order
RUNS = [run["name"] for run in INDEX]
LABELS = json.loads((FAULTS3 / "labels.json").read_text())["runs"]
# The twelve failure kinds (detector keys), all of which the first set's labels already use.
KINDS = {
    kind
    for label in json.loads((TESTS / "testdata" / "dify-1.14.1-faults" / "labels.json").read_text())["runs"].values()
    for kind in label["faults"]
}


@cache
def streamed(name: str) -> WorkflowRun:
    return load_run(FAULTS3 / f"{name}.sse")


@cache
def rebuilt(name: str) -> WorkflowRun:
    recognized = recognize(recorded_spans(name, (FAULTS3,)), "otlp")
    assert recognized is not None, name
    assert recognized.others == [], name  # Dify's root, its workflow span and every node are folded into the run
    return recognized.run


def _nodes(run: WorkflowRun) -> Counter[tuple[str, str]]:
    """The run's node executions as (type, title), counted: the export names nodes by title, not graph id."""
    return Counter((node.node_type, node.title) for node in run.nodes)


def test_the_set_is_whole() -> None:
    assert len(RUNS) == len(set(RUNS)) == 75
    assert set(LABELS) == set(RUNS)
    for name in RUNS:
        for suffix in (".sse", ".headers", ".otlp.jsonl"):
            assert (FAULTS3 / f"{name}{suffix}").stat().st_size > 0, name + suffix


def test_the_labels_name_known_kinds_and_every_kind_is_there() -> None:
    assert len(KINDS) == 12
    assert {kind for label in LABELS.values() for kind in label["faults"]} == KINDS
    assert all(label["why"] for label in LABELS.values())
    clean = [name for name, label in LABELS.items() if not label["faults"]]
    assert len(clean) == 52
    assert all("_clean_" in name for name in clean)  # the names say which runs are clean, and no faulty one hides


@pytest.mark.parametrize("name", RUNS)
def test_the_stream_and_the_export_are_the_same_run(name: str) -> None:
    (entry,) = [run for run in INDEX if run["name"] == name]
    stream, export = streamed(name), rebuilt(name)
    assert stream.run_id == export.run_id == entry["ids"]["workflow_run_id"]
    assert stream.status == export.status
    assert stream.nodes, name
    assert _nodes(export) == _nodes(stream)


def test_the_conversation_turns_share_one_conversation() -> None:
    turns = [streamed(f"clinic_clean_{i}").conversation_id for i in (1, 2, 3)]
    assert turns[0] is not None and turns == [turns[0]] * 3
    assert streamed("clinic_clean_4").conversation_id not in turns


def test_only_the_top_level_retry_is_partial() -> None:
    """A retried HTTP attempt makes the run partial-succeeded at the top level, not inside an iteration, and the
    iteration's dropped rounds (remove-abnormal-output) leave the run succeeded: no run of the set fails."""
    statuses = {name: streamed(name).status for name in RUNS}
    assert {name for name, status in statuses.items() if status != "succeeded"} == {"purchase_clean_5"}
    assert statuses["purchase_clean_5"] == "partial-succeeded"
    priced = _nodes(streamed("pricing_price_as_text"))
    assert priced[("http-request", "Pricing API")] == 5
    assert [node.status for node in streamed("pricing_price_as_text").nodes if node.title == "Price rule"].count(
        "failed"
    ) == 2


@pytest.mark.parametrize(
    ("name", "rounds"),
    [("translate_clean_1", 1), ("translate_clean_5", 3), ("translate_stuck", 8), ("translate_oscillating", 8)],
)
def test_the_loop_rounds(name: str, rounds: int) -> None:
    assert _nodes(rebuilt(name))[("llm", "Translator")] == rounds


@pytest.mark.parametrize(
    ("name", "rounds"), [("pricing_clean_1", 5), ("pricing_clean_7", 0), ("pricing_feed_flood", 29)]
)
def test_the_iteration_rounds(name: str, rounds: int) -> None:
    assert _nodes(rebuilt(name))[("http-request", "Pricing API")] == rounds

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import msgspec
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from bridge.trace.attributes import to_json
from bridge.trace.spans import build_spans, root_context, span_id_for, trace_id_for
from tests.runs import CAPTURES, EXAMPLES, by_name, load_run, load_runs, spans_of, tree

ELAPSED_LLM = 0.25236  # a_llm_simple.sse, node_finished of llm1


def _root(spans: list[ReadableSpan]) -> ReadableSpan:
    (root,) = [s for s in spans if s.parent is None]
    return root


def _assert_well_formed(spans: list[ReadableSpan]) -> None:
    by_id = {s.context.span_id: s for s in spans if s.context}
    assert len(by_id) == len(spans), "span ids must be unique"
    assert len({s.context.trace_id for s in spans if s.context}) == 1
    for span in spans:
        assert span.context is not None and span.context.trace_flags.sampled
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time <= span.end_time
        if span.parent is not None:
            parent = by_id[span.parent.span_id]
            assert parent.start_time is not None and parent.end_time is not None
            assert parent.start_time <= span.start_time and span.end_time <= parent.end_time, span.name


def test_trace_id_is_the_uuid_run_id_and_other_ids_are_hashed() -> None:
    run_id = "06f0b9d9-0e7a-447e-a536-85300d8487f1"
    assert f"{trace_id_for(run_id):032x}" == run_id.replace("-", "")
    assert trace_id_for("run-001") == int.from_bytes(hashlib.sha256(b"run-001").digest()[:16], "big")
    assert span_id_for("a", "b") != span_id_for("a", "c")


@pytest.mark.parametrize(
    "run_id",
    ["06f0b9d9-0e7a-447e-a536-85300d8487f1", "06F0B9D9-0E7A-447E-A536-85300D8487F1", "06f0b9d90e7a447ea53685300d8487f1",
     "{06f0b9d9-0e7a-447e-a536-85300d8487f1}", "urn:uuid:06f0b9d9-0e7a-447e-a536-85300d8487f1",
     "06f0b9d9-0e7a-447e-a536-85300d8487fz", "06f0b9d9_0e7a_447e_a536_85300d8487",
     "00000000-0000-0000-0000-000000000000", "run-001", ""],
)  # fmt: skip
def test_trace_ids_read_a_uuid_as_uuid_does_and_hash_the_rest(run_id: str) -> None:
    # trace_id_for reads the digits itself, without uuid.UUID: the same number for every shape UUID takes.
    try:
        expected = uuid.UUID(run_id).int
    except ValueError:
        expected = int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:16], "big")
    assert trace_id_for(run_id) == (expected or 1)


def test_every_span_id_is_span_id_for_its_parts() -> None:
    """The builder writes the parts' text itself (an f-string): the ids must stay what `span_id_for` says."""
    captures = [CAPTURES / name for name in ("d_http_retry_fail.sse", "b_iteration_ifelse_http.sse")]
    examples = [EXAMPLES / name for name in ("loop_stopped.sse", "chatflow_agent.sse", "workflow_full.ndjson")]
    kinds: set[str] = set()
    for run in load_runs(*captures, *examples):
        expected = {span_id_for(run.run_id, "run")}
        for node in run.nodes:
            expected.add(span_id_for(run.run_id, node.execution_id))
            expected.update(span_id_for(run.run_id, node.execution_id, "attempt", a.retry_index) for a in node.retries)
            expected.update(span_id_for(run.run_id, node.execution_id, "log", entry.id) for entry in node.agent_logs)
            kinds.update(("attempt",) * bool(node.retries) + ("log",) * bool(node.agent_logs))
        for container in run.containers:
            execution = container.execution_id or ""
            expected.add(span_id_for(run.run_id, "container", container.node_id, execution))
            expected.update(span_id_for(run.run_id, "round", container.node_id, execution, i) for i in container.rounds)
            kinds.add(container.node_type)
        expected.update(span_id_for(run.run_id, "thought", thought.id) for thought in run.agent_thoughts)
        kinds.update(("thought",) * bool(run.agent_thoughts))
        built = {span.context.span_id for span in build_spans(run) if span.context}
        assert expected <= built
    assert kinds >= {"attempt", "iteration", "loop", "thought"}


def test_a_built_span_has_every_field_the_sdks_span_has() -> None:
    # BuiltSpan sets ReadableSpan's fields itself, for speed: an SDK release adding one must fail here first.
    (span, *_) = spans_of(CAPTURES / "a_simple_http.sse")
    assert set(vars(ReadableSpan("x"))) <= set(vars(span))
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "dify-otel-bridge"


def test_llm_workflow_tree_ids_and_genai_attributes() -> None:
    spans = spans_of(CAPTURES / "a_llm_simple.sse")
    _assert_well_formed(spans)
    root = _root(spans)
    assert tree(spans) == [
        "invoke_workflow 9bdc7f74-e118-46be-9ec0-f873c7735944",
        "  start Start",
        "  chat gpt-4o-mini",
        "  end End",
    ]
    assert root.context is not None
    assert uuid.UUID(int=root.context.trace_id) == uuid.UUID("06f0b9d9-0e7a-447e-a536-85300d8487f1")
    assert root.attributes is not None
    assert root.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert root.attributes["dify.run.status"] == "succeeded"
    assert root.attributes["dify.app.id"] == "fe4d806e-dc11-48d9-bc7a-e3c3dd8457d3"
    assert root.attributes["gen_ai.usage.input_tokens"] == 14  # the End node's copy of the usage is not counted
    assert root.attributes["dify.price.total"] == 0.0000081
    (llm,) = by_name(spans, "chat gpt-4o-mini")
    attrs = llm.attributes
    assert attrs is not None
    assert llm.kind is SpanKind.CLIENT
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (14, 10)
    assert (attrs["llm.token_count.prompt"], attrs["llm.token_count.completion"], attrs["llm.token_count.total"]) == (
        14,
        10,
        24,
    )
    assert (attrs["llm.cost.prompt"], attrs["llm.cost.completion"], attrs["llm.cost.total"]) == (
        0.0000021,
        0.000006,
        0.0000081,
    )
    assert attrs["dify.price.currency"] == "USD"
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert attrs["openinference.span.kind"] == "LLM"
    assert attrs["llm.input_messages.1.message.content"] == "What is Dify?"
    for key in ("dify.node.id", "dify.node.type", "dify.node.title", "dify.node.index", "dify.node.execution_id"):
        assert key in attrs
    assert attrs["dify.node.execution_id"] == "2a807a23-14ba-4727-b7d5-aa7a57242d56"
    assert llm.context is not None
    assert llm.context.span_id == span_id_for("06f0b9d9-0e7a-447e-a536-85300d8487f1", attrs["dify.node.execution_id"])
    # Durations come from elapsed_time, not the whole-second timestamps.
    assert llm.end_time is not None and llm.start_time is not None
    assert llm.end_time - llm.start_time == round(ELAPSED_LLM * 1e9)


@pytest.mark.parametrize(
    ("app_name", "name"),
    [("Chat\x1b[31mBot\n", "Chat [31mBot"), ("\x07\x9b", "dify"), ("Pet 🐕\u200d🦺", "Pet 🐕\u200d🦺")],
)
def test_control_characters_of_a_dify_app_name_stay_out_of_span_names(app_name: str, name: str) -> None:
    """Dify's own app name (webhook, poller, its tracing export) put an ESC into the root span's name."""
    run = msgspec.structs.replace(load_run(CAPTURES / "a_llm_simple.sse"), app_name=app_name)
    root = _root(build_spans(run))
    assert root.name == f"invoke_workflow {name}" and root.attributes is not None
    assert root.attributes["gen_ai.workflow.name"] == name
    assert root.resource.attributes["dify.app.name"] == app_name  # the data as Dify sent it


def test_control_characters_of_a_node_title_stay_out_of_span_names() -> None:
    """Node titles went into node span names with their ESCs and newlines; the attribute keeps them as sent."""
    run = load_run(CAPTURES / "b_iteration_ifelse_http.sse")
    titled = tuple(msgspec.structs.replace(node, title=f"Step\x1b[31m{node.title}\n") for node in run.nodes)
    spans = build_spans(msgspec.structs.replace(run, nodes=titled))
    named = [s for s in spans if s.attributes and str(s.attributes.get("dify.node.title", "")).startswith("Step\x1b")]
    assert named and all(s.name.isprintable() for s in spans), [s.name for s in spans]
    assert all(" [31m" in s.name or s.name.startswith("chat ") for s in named)


def test_same_run_twice_gives_byte_identical_spans() -> None:
    run = load_run(CAPTURES / "b_iteration_ifelse_http.sse")
    first, second = build_spans(run), build_spans(run)
    assert [(s.context, s.parent, s.name, s.start_time, s.end_time) for s in first] == [
        (s.context, s.parent, s.name, s.start_time, s.end_time) for s in second
    ]


def test_iteration_container_rounds_and_children() -> None:
    spans = spans_of(CAPTURES / "b_iteration_ifelse_http.sse")
    _assert_well_formed(spans)
    assert tree(spans) == [
        "invoke_workflow 7a520543-1306-43b7-9673-2fb4b27a2de2",
        "  start Start",
        "  iteration Iterate items",
        "    iteration[0]",
        "      if-else Is b?",
        "      http-request HTTP false",
        "      variable-aggregator Aggregate",
        "    iteration[1]",
        "      if-else Is b?",
        "      http-request HTTP true",
        "      variable-aggregator Aggregate",
        "    iteration[2]",
        "      if-else Is b?",
        "      http-request HTTP false",
        "      variable-aggregator Aggregate",
        "  end End",
    ]
    (container,) = by_name(spans, "iteration Iterate items")
    assert container.attributes is not None
    assert container.attributes["dify.container.rounds"] == 3
    assert container.attributes["dify.container.limit"] == 3
    (round_1,) = by_name(spans, "iteration[1]")
    assert round_1.attributes is not None and round_1.attributes["dify.iteration.index"] == 1
    # Round spans take their precise duration from iteration_duration_map.
    assert round_1.end_time is not None and round_1.start_time is not None
    assert round_1.end_time - round_1.start_time >= 100_000_000


def test_retries_are_failed_attempt_spans_under_the_node() -> None:
    spans = spans_of(CAPTURES / "d_http_retry_fail.sse")
    _assert_well_formed(spans)
    (node,) = by_name(spans, "http-request HTTP failing")
    attempts = sorted((s for s in spans if s.parent and node.context and s.parent.span_id == node.context.span_id),
                      key=lambda s: s.name)  # fmt: skip
    assert [s.name for s in attempts] == [
        "http-request HTTP failing (attempt 1)",
        "http-request HTTP failing (attempt 2)",
    ]
    for attempt in attempts:
        assert attempt.status.status_code is StatusCode.ERROR
        assert attempt.status.description == "Reached maximum retries for URL http://127.0.0.1:8765/fail"
        assert [e.name for e in attempt.events] == ["exception"]
        # The request the failed attempt sent, and how long it took.
        assert attempt.attributes is not None
        assert "GET /fail" in str(attempt.attributes["dify.node.process_data"])
        assert attempt.end_time is not None and attempt.start_time is not None
    assert [a.end_time - a.start_time for a in attempts if a.end_time and a.start_time] == [224_205_000, 206_537_000]
    assert node.status.status_code is StatusCode.ERROR
    assert node.attributes is not None and node.attributes["dify.node.attempts"] == 3
    root = _root(spans)
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes is not None and root.attributes["dify.run.exceptions_count"] == 3
    assert any(e.name == "exception" for e in root.events)


def test_handled_exception_marks_the_node_not_the_run() -> None:
    spans = spans_of(CAPTURES / "i_error_strategy_fail_branch.sse")
    (node,) = by_name(spans, "http-request HTTP fail-branch")
    assert node.status.status_code is StatusCode.ERROR
    assert node.status.description == "Reached maximum retries for URL http://127.0.0.1:8765/fail"
    assert node.attributes is not None and node.attributes["dify.node.error_strategy"] == "fail-branch"
    assert node.events[0].attributes is not None
    assert node.events[0].attributes["exception.type"] == "dify.http-request.handled_error"
    root = _root(spans)
    assert root.status.status_code is StatusCode.UNSET
    assert root.attributes is not None and root.attributes["dify.run.status"] == "partial-succeeded"


def test_retrieval_and_classifier_spans() -> None:
    spans = spans_of(CAPTURES / "g_knowledge_retrieval_llm.sse")
    (retrieval,) = by_name(spans, "retrieval kb-economy")
    attrs = retrieval.attributes
    assert attrs is not None
    assert attrs["openinference.span.kind"] == "RETRIEVER"
    assert attrs["retrieval.documents.0.document.id"] == "1377e3a8-5013-4a33-9139-2a63c8539144"
    assert attrs["retrieval.documents.0.document.score"] == 0.7071067811865475
    assert "Eiffel Tower" in str(attrs["retrieval.documents.0.document.content"])
    assert attrs["gen_ai.data_source.id"] == "5ebd43e1-a282-466f-9a7b-c9794417dc62"
    qc_spans = spans_of(CAPTURES / "b_qc_weather_branch.sse")
    classifier = [s for s in qc_spans if s.attributes and s.attributes.get("dify.node.type") == "question-classifier"]
    assert len(classifier) == 1 and classifier[0].name == "chat gpt-4o-mini"
    assert classifier[0].attributes is not None and classifier[0].attributes["gen_ai.usage.input_tokens"] == 651


def test_chatflow_conversation_and_message_usage() -> None:
    spans = spans_of(CAPTURES / "f_chatflow_llm.sse")
    root = _root(spans)
    attrs = root.attributes
    assert attrs is not None
    assert attrs["session.id"] == attrs["gen_ai.conversation.id"] == "56f9dc9e-d64e-475d-b078-c88fb9d68896"
    assert attrs["dify.message.id"] == "cf34665e-87f1-4752-a8dc-6e6707fb285c"
    assert attrs["dify.message.total_tokens"] == 36


def test_an_event_that_is_no_node_is_an_event_on_the_root_with_its_data(tmp_path: Path) -> None:
    # traces.md: one root event per Dify event that is not a node (any unknown type too), data in dify.event.data.
    capture = (CAPTURES / "a_simple_http.sse").read_text()
    run_id = "7421d391-5c3c-46df-8d3e-fdb2de64e0fa"
    future = {"event": "agent_future_thing", "workflow_run_id": run_id, "data": {"k": [1, "two"]}, "created_at": 1}
    finished = capture.index('data: {"event":"workflow_finished"')
    path = tmp_path / "run.sse"
    path.write_text(f"{capture[:finished]}data: {json.dumps(future)}\n\n{capture[finished:]}")
    root = _root(build_spans(load_run(path)))
    (event,) = [e for e in root.events if e.name == "agent_future_thing"]
    assert json.loads(str((event.attributes or {})["dify.event.data"])) == {"k": [1, "two"]}


def test_every_capture_builds_a_well_formed_trace() -> None:
    for path in sorted(CAPTURES.glob("*")):
        if path.suffix in (".sse", ".json") and path.name != "README.md":
            for run in load_runs(path):
                _assert_well_formed(build_spans(run))


def test_a_runs_root_context_is_known_without_building_the_run() -> None:
    """The OTLP path records where a rebuilt trace's late spans go before a worker builds the run."""
    for path in sorted(CAPTURES.glob("*.sse")):
        for run in load_runs(path):
            assert build_spans(run)[0].context == root_context(run.run_id)


def test_json_texts_write_keys_that_are_not_strings_and_integers_past_64_bits() -> None:
    # to_json tries orjson without OPT_NON_STR_KEYS first (twice as fast): the other shapes still come out whole.
    assert to_json({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'
    assert to_json({"a": 1, 2: "b", None: 3}) == '{"a":1,"2":"b","null":3}'
    assert to_json({"n": 2**70, 1: "x"}) == '{"n":1180591620717411303424,"1":"x"}'


@pytest.mark.parametrize(
    ("created_at", "finished_at", "elapsed_time"),
    [(1e300, None, None), (None, 1e308, -1e308), (float("nan"), None, None), (-1e308, None, None)],
)
def test_a_run_at_an_absurd_time_is_built_within_otlp_times(
    created_at: float | None, finished_at: float | None, elapsed_time: float | None
) -> None:
    """A time that overflows nanoseconds (found by fuzzing: 1e300 s is infinite once in ns) is clamped to what
    OTLP carries, or the run's build time when it is no time at all, never an error that loses the run."""
    run = msgspec.structs.replace(
        load_run(CAPTURES / "b_iteration_ifelse_http.sse"),
        created_at=created_at,
        finished_at=finished_at,
        elapsed_time=elapsed_time,
    )
    spans = build_spans(run)
    assert spans and all(0 <= (span.start_time or 0) <= (span.end_time or 0) <= 2**64 - 1 for span in spans)

"""Dify 1.14.1's own tracing export, as a real Dify sent it (recorded), against the stream of the same run:
the trace rebuilt from the export is the stream path's trace, field by field, apart from the gaps named in
`GAPS` (the same list as docs/traces.md's "What each way in cannot carry")."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.config.loader import parse_config
from bridge.dify.export import Recognized, awaits_nested_run, closes_trace, is_workflow_span, recognize
from bridge.dify.model import WorkflowRun
from bridge.trace.otlp_wire import encode_request
from bridge.trace.spans import build_spans, trace_id_for
from tests.bridge_server import API_KEY, BridgeServer, bridge_config_text
from tests.dify_recordings import (
    client_answer,
    exported_runs,
    rebuilt_spans,
    recorded_requests,
    recorded_spans,
    send_recorded,
)
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import load_run, load_runs

RUNS = exported_runs()

# What Dify's export does not carry, or carries differently: attribute → why. Every other attribute of every
# span is equal on both paths.
GAPS = {
    # The run: the stream's own figures, not in the export's metadata.
    "dify.source": "which way the run came in (`otlp`)",
    "dify.task.id": "the task id is the stream's",
    "dify.run.total_steps": "not exported",
    "dify.run.exceptions_count": "not exported",
    "dify.run.elapsed_time": "the export's is Dify's stored run time, the stream's its own measure",
    "input.value": "the run's inputs hold `sys.timestamp` in the export; an LLM node's inputs are not exported",
    "input.mime_type": "an LLM node's inputs are not exported",
    # Chat apps: the message's usage and price come with the stream's message_end only.
    "dify.message.total_tokens": "chatflows: message usage is stream-only",
    "dify.price.total": "chatflows: message price is stream-only",
    "dify.price.currency": "chatflows: message price is stream-only",
    "llm.cost.total": "chatflows: message price is stream-only",
    "dify.message.retriever_resources": "chatflows: the message's citations are stream-only",
    # Nodes.
    "dify.node.id": "the graph node id is not exported: the node's title stands in",
    "dify.node.index": "not exported",
    "dify.node.process_data": "only an LLM node's prompts, model and usage are exported",
    "dify.node.attempts": "retries are not exported: a retried node is one span",
    "gen_ai.response.finish_reasons": "question classifier, parameter extractor: only their usage is exported",
}
# The same, for every attribute under a prefix.
GAP_PREFIXES = {"llm.input_messages.": "question classifier, parameter extractor: their prompts are not exported"}
# Iterations and loops, besides.
CONTAINER_GAPS = {
    "dify.container.limit": "an iteration's length is stream-only",
    "dify.container.completed_reason": "a loop's reason to stop is stream-only",
    "dify.node.elapsed_time": "Dify's stored time vs its iteration/loop events' (up to half a second apart, live)",
    "input.value": "an iteration's or loop's inputs (iterator selector, loop count) are stream-only",
    "input.mime_type": "an iteration's or loop's inputs are stream-only",
}
# Attributes the stream lacks where the export knows more: a blocking answer carries no app or user; a node cut
# short by a stop has no node_finished in the stream, but Dify stores (and exports) its time.
MORE_IN_EXPORT = {"dify.app.id", "user.id", "dify.node.elapsed_time"}
# A failed LLM node's export carries no model (recorded: input.value "[]", no llm.model_name): its span is
# named by the node and has no model attributes.
FAILED_LLM_GAPS = {"gen_ai.request.model", "gen_ai.provider.name", "llm.model_name", "llm.provider"}


def _recognized(name: str) -> Recognized:
    recognized = recognize(recorded_spans(name), "otlp")
    assert recognized is not None, name
    assert recognized.others == []  # Dify's root, its workflow span and every node are folded into the run
    return recognized


def _rebuilt(name: str) -> WorkflowRun:
    return _recognized(name).run


def _streamed(name: str) -> list[ReadableSpan]:
    """The stream path's trace of the run (of a blocking chat answer: the message's, keyed by its id)."""
    return [span for run in load_runs(client_answer(name)) for span in build_spans(run)]


def _by_id(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans if s.context is not None}


def _is_attempt(span: ReadableSpan) -> bool:
    return "(attempt" in span.name


def test_every_recorded_export_is_there() -> None:
    assert len(RUNS) == 9 + 34  # every exported run of both recordings (a run stopped between nodes never is)


def test_no_whole_recorded_trace_waits_for_a_nested_run() -> None:
    """A trace holding part of a nested run waits up to `export_wait` (30 s) for the rest: every whole trace a
    real Dify exported, nested runs and chat messages included, must be free to go at once."""
    waiting = []
    for name in RUNS:
        by_trace: dict[int, list[ReadableSpan]] = {}
        for span in recorded_spans(name):
            assert span.context is not None
            by_trace.setdefault(span.context.trace_id, []).append(span)
        waiting += [name for spans in by_trace.values() if awaits_nested_run(spans)]
    assert waiting == []
    # The check can fail: without the nested run's workflow span (Dify sends it last), wf_tool's trace waits.
    spans = recorded_spans("wf_tool")
    (nested,) = [s for s in spans if is_workflow_span(s) and not closes_trace(s)]
    assert awaits_nested_run([s for s in spans if s is not nested])


def test_dify_exports_a_run_about_5_s_after_it_ends() -> None:
    # README and getting-runs-in.md: a run "arrives ... about 5 s after it ends". Dify makes its root span at export
    # time: its start, against the end of the workflow span, is when the export began.
    lags = []
    for name in RUNS:
        spans = recorded_spans(name)
        export_start = max(s.start_time or 0 for s in spans if s.parent is None)
        run_end = max(s.end_time or 0 for s in spans if is_workflow_span(s))
        lags.append((export_start - run_end) / 1e9)
    assert min(lags) > 4 and max(lags) < 6, sorted(lags)


@pytest.mark.parametrize("name", RUNS)
def test_the_rebuilt_trace_is_the_stream_paths_trace(name: str) -> None:
    run = _rebuilt(name)
    exported, streamed = build_spans(run), _streamed(name)
    assert {s.context.trace_id for s in exported if s.context} == {trace_id_for(run.run_id)}
    (root,) = [s for s in exported if s.parent is None]
    assert root.name.startswith("invoke_workflow ")
    if client_answer(name).suffix == ".json":
        # A blocking answer is the run alone (a chatflow's: not even its id): the export adds the nodes.
        (stream_root,) = streamed
        assert root.context is not None and stream_root.context is not None
        answer = json.loads(client_answer(name).read_text())
        if answer.get("event") == "message":  # a blocking chat answer names no run: its own trace, by message id
            assert stream_root.context.trace_id == trace_id_for(answer["message_id"]) != root.context.trace_id
            assert (stream_root.attributes or {})["dify.message.id"] == (root.attributes or {})["dify.message.id"]
            return
        assert root.context.span_id == stream_root.context.span_id
        return
    stream_spans = _by_id([s for s in streamed if not _is_attempt(s)])
    export_spans = _by_id(exported)
    assert set(export_spans) == set(stream_spans)  # a run sent both ways merges in the backend
    differences: set[tuple[str, str]] = set()
    for span_id, span in export_spans.items():
        expected = stream_spans[span_id]
        assert span.status.status_code == expected.status.status_code, span.name
        assert (span.parent and span.parent.span_id) == (expected.parent and expected.parent.span_id), span.name
        assert [e.name for e in span.events] == [e.name for e in expected.events], span.name
        failed_llm = (span.attributes or {}).get("dify.node.type") == "llm" and span.status.status_code.name == "ERROR"
        if not failed_llm:
            assert span.name == expected.name
        mine, theirs = dict(span.attributes or {}), dict(expected.attributes or {})
        allowed = {*GAPS, *CONTAINER_GAPS} if mine.get("dify.node.type") in ("iteration", "loop") else set(GAPS)
        for key in set(mine) | set(theirs):
            if mine.get(key) == theirs.get(key) or (key in MORE_IN_EXPORT and key not in theirs):
                continue
            if failed_llm and key in FAILED_LLM_GAPS:
                continue
            if key not in allowed and not key.startswith(tuple(GAP_PREFIXES)):
                differences.add((span.name, key))
    assert not differences


@pytest.mark.parametrize("name", RUNS)
def test_children_sit_inside_their_parents_time(name: str) -> None:
    spans = build_spans(_rebuilt(name))
    by_id = _by_id(spans)
    for span in spans:
        if span.parent is not None:
            parent = by_id[span.parent.span_id]
            assert parent.start_time is not None and span.start_time is not None
            assert parent.end_time is not None and span.end_time is not None
            assert parent.start_time <= span.start_time <= span.end_time <= parent.end_time, span.name


def test_a_plain_workflow_has_no_conversation() -> None:
    """Dify puts the run id into `session.id` of a plain workflow's spans: it is not a conversation."""
    (root, *_) = build_spans(_rebuilt("a_simple_http"))
    assert "session.id" not in (root.attributes or {})
    assert "gen_ai.conversation.id" not in (root.attributes or {})


def test_a_chatflow_keeps_its_conversation() -> None:
    run = _rebuilt("h_chatflow_streaming")
    assert run.conversation_id == load_run(client_answer("h_chatflow_streaming")).conversation_id is not None


def test_llm_model_tokens_and_price_survive() -> None:
    (llm,) = [s for s in build_spans(_rebuilt("n_llm_simple")) if (s.attributes or {}).get("dify.node.type") == "llm"]
    attributes = llm.attributes or {}
    assert llm.name == "chat gpt-4o-mini"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (14, 10)
    assert attributes["dify.price.total"] == pytest.approx(0.0000081)


def test_a_failed_llm_node_is_an_error_with_dify_s_message() -> None:
    run = _rebuilt("u_llm_invoke_error")
    assert run.status == "failed"
    (llm,) = [s for s in build_spans(run) if (s.attributes or {}).get("dify.node.type") == "llm"]
    assert llm.status.status_code.name == "ERROR"
    assert llm.status.description == "fake rate limit (429)"


def test_a_retried_node_is_one_span() -> None:
    run = _rebuilt("d_http_retry_fail")
    (failing,) = [n for n in run.nodes if n.node_type == "http-request"]
    assert failing.status == "failed" and failing.retries == ()


def test_rounds_come_from_the_metadata_indexes() -> None:
    spans = build_spans(_rebuilt("b_iteration_ifelse_http"))
    rounds = [s for s in spans if s.name.startswith("iteration[")]
    assert [s.name for s in sorted(rounds, key=lambda s: s.start_time or 0)] == [
        "iteration[0]", "iteration[1]", "iteration[2]"
    ]  # fmt: skip
    for round_span in rounds:
        assert round_span.context is not None
        assert len([s for s in spans if s.parent and s.parent.span_id == round_span.context.span_id]) == 3


# --- sent to a running bridge as Dify sent it -------------------------------------------------------------


def _bridge(tmp_path: Path, otlp_sink: OtlpSink, export_wait: str = "1s") -> BridgeServer:
    """The bridge with an otlp receiver; `export_wait`: how long a Dify trace waits for the spans still to come."""
    text = bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{}")
    return BridgeServer(parse_config(text.replace("export_wait: 1s", f"export_wait: {export_wait}"), "test.yaml"))


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    with _bridge(tmp_path, otlp_sink) as server:
        yield server


def _of_trace(spans: list[ReceivedSpan], run_id: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.trace_id == f"{trace_id_for(run_id):032x}"]


def test_every_recorded_run_reaches_the_backend_rebuilt(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    """However the requests fall between the bridge's looks at traces (a loaded machine may pause between any two:
    export_wait is long here, as by default, so that no pause splits a run)."""
    expected = {name: build_spans(_rebuilt(name)) for name in RUNS}
    nested = [build_spans(run) for name in RUNS for run in _recognized(name).nested]
    with _bridge(tmp_path, otlp_sink, export_wait="30s") as bridge:
        for name in RUNS:
            answers = send_recorded(bridge.base, name, API_KEY)
            assert [a.status_code for a in answers] == [200] * len(answers), name
        total = sum(len(spans) for spans in [*expected.values(), *nested])
        otlp_sink.wait_for_spans(total)
        time.sleep(0.6)  # a span more would come with the next look at traces
        received = otlp_sink.spans()
    assert len(received) == total  # no raw Dify span besides them
    for name, spans in expected.items():
        run_id = _rebuilt(name).run_id
        mine = _of_trace(received, run_id)
        assert {int(s.span_id, 16) for s in mine} == set(_by_id(spans)), name
        (root,) = [s for s in mine if s.parent_span_id is None]
        assert root.attributes["dify.source"] == "otlp"
        assert root.attributes["dify.run.id"] == run_id
    # The workflow used as a tool: its root links to the caller's tool span.
    (inner_root,) = [s for s in _of_trace(received, "7e2c9f94-9fcb-42ab-9f06-cb19610e54e6") if s.parent_span_id is None]
    (tool,) = [
        s for s in _of_trace(received, _rebuilt("wf_tool").run_id) if s.attributes.get("dify.node.type") == "tool"
    ]
    assert inner_root.links == [(tool.trace_id, tool.span_id, {"dify.link.type": "caller"})]
    for span in received:
        assert (span.resource["service.name"], span.resource["dify.source"]) == ("dify", "otlp"), span.name
        assert not re.fullmatch(r"(workflow_)?[0-9a-f-]{36}", span.name), span.name  # Dify's own root/workflow


def _metric(bridge: BridgeServer, outcome: str) -> float:
    text = httpx.get(f"{bridge.base}/metrics").text
    match = re.search(rf'dify_bridge_otlp_traces_total{{[^}}]*outcome="{outcome}"[^}}]*}} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


def test_api_check_is_logged_counted_and_not_exported(
    bridge: BridgeServer, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "bridge.telemetry.export_watch"):
        for _ in range(2):
            assert [a.status_code for a in send_recorded(bridge.base, "api_check", API_KEY)] == [200]
        send_recorded(bridge.base, "a_simple_http", API_KEY)  # a run behind the checks
        run_id = _rebuilt("a_simple_http").run_id
        received = otlp_sink.wait_for_spans(len(build_spans(_rebuilt("a_simple_http"))))
    assert {s.trace_id for s in received} == {f"{trace_id_for(run_id):032x}"}
    assert "api_check" not in {s.name for s in received}
    logged = [r for r in caplog.records if "reached the bridge" in r.getMessage() and r.levelno == logging.INFO]
    assert len(logged) == 1 and "dify-probe" in logged[0].getMessage()
    assert _metric(bridge, "api_check") == 2
    assert _metric(bridge, "rebuilt") == 1


def test_a_pause_before_dify_s_workflow_span_does_not_split_the_trace(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    """A busy Dify worker may pause between a run's spans: Dify's traces wait export_wait (1 s in the tests'
    config), not decision_wait (300 ms), for the workflow span Dify sends last."""
    requests = recorded_requests("a_simple_http")
    headers = {"content-type": "application/x-protobuf", "api_key": API_KEY}
    for request in requests[:-1]:
        assert httpx.post(f"{bridge.base}/v1/traces", content=request.body, headers=headers).status_code == 200
    time.sleep(0.6)
    assert otlp_sink.spans() == []  # held past decision_wait
    assert httpx.post(f"{bridge.base}/v1/traces", content=requests[-1].body, headers=headers).status_code == 200
    expected = rebuilt_spans("a_simple_http")
    received = otlp_sink.wait_for_spans(len(expected))
    assert {int(s.span_id, 16) for s in received} == set(_by_id(expected))


def test_a_dify_trace_without_its_workflow_span_is_passed_through_with_a_warning(
    bridge: BridgeServer, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    requests = recorded_requests("a_simple_http")
    workflow = requests[-1]
    assert workflow.spans()[0].name.startswith("workflow_")  # the recording's last request
    headers = {"content-type": "application/x-protobuf", "api_key": API_KEY}
    # In one request, so that no pause of a loaded machine splits the trace.
    body = encode_request([span for request in requests[:-1] for span in request.spans()])
    with caplog.at_level(logging.WARNING, "bridge.telemetry.export_watch"):
        assert httpx.post(f"{bridge.base}/v1/traces", content=body, headers=headers).status_code == 200
        received = otlp_sink.wait_for_spans(len(requests) - 1)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(received) == len(requests) - 1
    # Filed under the bridge's service, not "unknown_service".
    assert all((s.resource["service.name"], s.resource["dify.source"]) == ("dify", "otlp") for s in received)
    assert any("holds no workflow span" in r.getMessage() for r in caplog.records)
    assert _metric(bridge, "not_rebuilt") == 1


def test_a_workflow_used_as_a_tool_is_its_own_trace_linked_to_the_tool_node() -> None:
    """Dify exports the tool's run into the caller's trace, its workflow span under the tool node's span (recorded):
    it becomes a run of its own (trace id = its run id, as every other way in gives it), whose root links to the
    caller's tool span."""
    recognized = _recognized("wf_tool")
    (inner,) = recognized.nested
    assert inner.run_id == "7e2c9f94-9fcb-42ab-9f06-cb19610e54e6"
    assert [n.node_type for n in sorted(inner.nodes, key=lambda n: n.order)] == ["start", "http-request", "end"]
    assert [n.node_type for n in recognized.run.nodes if n.node_type == "http-request"] == []
    (tool,) = [s for s in build_spans(recognized.run) if (s.attributes or {}).get("dify.node.type") == "tool"]
    (root, *_) = build_spans(inner)
    assert root.context is not None and tool.context is not None
    assert root.context.trace_id == trace_id_for(inner.run_id)
    ((link_context, link_attributes),) = [(link.context, link.attributes) for link in root.links]
    assert (link_context.trace_id, link_context.span_id) == (tool.context.trace_id, tool.context.span_id)
    assert (link_attributes or {})["dify.link.type"] == "caller"
    assert (root.attributes or {})["dify.run.parent_run_id"] == recognized.run.run_id
    tool_execution = (tool.attributes or {})["dify.node.execution_id"]
    assert (root.attributes or {})["dify.run.parent_node_execution_id"] == tool_execution  # traces.md's Root


@pytest.mark.parametrize("before_pause", [5, 6, 8])
def test_a_nested_run_exported_late_is_rebuilt_as_without_the_pause(
    tmp_path: Path, otlp_sink: OtlpSink, before_pause: int
) -> None:
    """Dify exports a workflow used as a tool in a Celery task of its own, seconds after its caller (recorded 4.7
    s; live, up to 5 s): the caller's requests, a pause longer than the bridge's look at traces, then the nested
    run's. Paused after the caller's workflow span (5), after the nested run's first node (6: it came while the
    caller's trace was open) or before the nested run's workflow span (8): the backend gets what it gets without
    the pause, the caller's run and the nested run each rebuilt, no span of Dify's as it came, none lost."""
    recognized = _recognized("wf_tool")
    (nested,) = recognized.nested
    expected = build_spans(recognized.run) + build_spans(nested)
    with _bridge(tmp_path, otlp_sink, export_wait="30s") as bridge:
        answers = send_recorded(bridge.base, "wf_tool", API_KEY, slice(before_pause))
        time.sleep(1.5)  # three looks at traces (every 0.5 s)
        answers += send_recorded(bridge.base, "wf_tool", API_KEY, slice(before_pause, None))
        assert [a.status_code for a in answers] == [200] * 9
        received = otlp_sink.wait_for_spans(len(expected))
        time.sleep(0.6)  # anything more would come with the next look
        received = otlp_sink.spans()
    as_expected = {(f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}", s.name) for s in expected if s.context}
    assert {(s.trace_id, s.span_id, s.name) for s in received} == as_expected
    assert len(received) == len(expected)
    (inner_root,) = [s for s in _of_trace(received, nested.run_id) if s.parent_span_id is None]
    (tool,) = [s for s in _of_trace(received, recognized.run.run_id) if s.attributes.get("dify.node.type") == "tool"]
    assert inner_root.links == [(tool.trace_id, tool.span_id, {"dify.link.type": "caller"})]
    assert inner_root.attributes["dify.run.parent_run_id"] == recognized.run.run_id


def test_a_nested_run_arriving_first_does_not_close_the_callers_trace() -> None:
    spans = recorded_spans("wf_tool")
    inner_workflow = next(s for s in spans if s.name == "workflow_7e2c9f94-9fcb-42ab-9f06-cb19610e54e6")
    outer_workflow = next(s for s in spans if s.name == "workflow_09c60c58-1ccc-40e4-8028-619562b5f7f1")
    assert not closes_trace(inner_workflow) and closes_trace(outer_workflow)


def test_a_run_stopped_while_a_node_ran_is_failed_with_dify_s_message_and_its_round() -> None:
    """Dify stores such a run as `stopped`, streams it as `failed`; the node cut short has no round index."""
    run = _rebuilt("stop_2.5")
    assert (run.status, run.error) == ("failed", "Aborted: User requested stop")
    (loop,) = run.containers
    assert loop.rounds == tuple(range(7))  # rounds 0-5 ran whole; round 6 was cut short


def test_concurrent_runs_whose_exports_interleave_are_each_rebuilt(bridge: BridgeServer, otlp_sink: OtlpSink) -> None:
    """Four runs that ended within 2 s: their requests arrived mixed (recorded), one run's workflow span after the
    next run's root."""
    by_trace: dict[int, list[ReadableSpan]] = {}
    for span in recorded_spans("interleaved_two_runs"):
        assert span.context is not None
        by_trace.setdefault(span.context.trace_id, []).append(span)
    expected = []
    for spans in by_trace.values():
        recognized = recognize(spans, "otlp")
        assert recognized is not None and recognized.others == []
        expected.append(build_spans(recognized.run))
    assert len(expected) == 4
    assert all(a.status_code == 200 for a in send_recorded(bridge.base, "interleaved_two_runs", API_KEY))
    received = otlp_sink.wait_for_spans(sum(len(spans) for spans in expected))
    assert len(received) == sum(len(spans) for spans in expected)
    for spans in expected:
        assert spans[0].context is not None
        trace = f"{spans[0].context.trace_id:032x}"
        assert {s.span_id for s in received if s.trace_id == trace} == {f"{i:016x}" for i in _by_id(spans)}


def test_spans_whose_parents_make_a_cycle_are_read_at_once() -> None:
    """A sender can make up parents that lead in a circle: the walk up to a workflow span must end (it grew
    without bound before, until the process ran out of memory)."""
    from opentelemetry.trace import SpanContext

    from bridge.trace.otlp_spans import moved

    spans = recorded_spans("b_iteration_ifelse_http")
    nodes = [s for s in spans if s.name.startswith(("if-else_", "http-request_"))][:2]
    first, second = nodes
    assert first.context is not None and second.context is not None
    looped = {
        first.context.span_id: moved(first, parent=SpanContext(first.context.trace_id, second.context.span_id, False)),
        second.context.span_id: moved(second, parent=SpanContext(first.context.trace_id, first.context.span_id, False)),
    }
    recognized = recognize([looped.get(s.context.span_id, s) if s.context else s for s in spans], "otlp")
    assert recognized is not None
    assert {s.name for s in recognized.others} == {first.name, second.name}  # passed on as they came


def test_another_senders_span_named_api_check_is_not_taken_for_dify_s() -> None:
    from bridge.dify.export import is_api_check

    (check,) = recorded_spans("api_check")
    assert is_api_check(check)
    other = ReadableSpan(
        name=check.name, context=check.context, attributes=check.attributes, resource=check.resource,
        start_time=check.start_time, end_time=check.end_time,
    )  # fmt: skip
    assert not is_api_check(other)  # no Phoenix tracer scope


def _with_run_id(span: ReadableSpan, run_id: str) -> ReadableSpan:
    """`span` with every run id it carries (Phoenix's `metadata`, the OTLP provider's attribute) set to `run_id`."""
    attributes = dict(span.attributes or {})
    if "metadata" in attributes:
        meta = json.loads(str(attributes["metadata"]))
        attributes["metadata"] = json.dumps({**meta, "workflow_run_id": run_id} if "workflow_run_id" in meta else meta)
    if "dify.workflow.run_id" in attributes:
        attributes["dify.workflow.run_id"] = run_id
    return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                        attributes=attributes, kind=span.kind, status=span.status, start_time=span.start_time,
                        end_time=span.end_time)  # fmt: skip


@pytest.mark.parametrize("bad", ["run\x00id", "run\r\nid", "run\u202eid", "r" * 100_000])
def test_an_export_naming_a_run_id_no_other_way_in_takes_builds_no_run(bad: str) -> None:
    # The rule of `normalize`'s run ids: its spans pass through as sent, no run is made under that id.
    spans = [_with_run_id(span, bad) for span in recorded_spans(RUNS[0])]
    assert recognize(spans, "otlp") is None
    assert recognize([_with_run_id(span, "d61bc271-3e58-4e4b-b4ec-a07e0a95aade") for span in spans], "otlp")


def _with_meta(span: ReadableSpan, **changes: str) -> ReadableSpan:
    attributes = dict(span.attributes or {})
    attributes["metadata"] = json.dumps({**json.loads(str(attributes["metadata"])), **changes})
    return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                        attributes=attributes, kind=span.kind, status=span.status, start_time=span.start_time,
                        end_time=span.end_time, instrumentation_scope=span.instrumentation_scope)  # fmt: skip


@pytest.mark.parametrize("bad", ["app\x00id", "app\u202eid", "a" * 129])
def test_an_export_span_naming_another_id_no_other_way_in_takes_is_passed_through_unrebuilt(bad: str) -> None:
    # The run id's rule holds for every id: a workflow span naming such an app id makes no run; a node span naming
    # such an execution id is not rebuilt into the run but passed on as sent.
    spans = recorded_spans(RUNS[0])
    assert recognize([_with_meta(s, app_id=bad) if is_workflow_span(s) else s for s in spans], "otlp") is None
    node = next(s for s in spans if "node_type" in str((s.attributes or {}).get("metadata")))
    recognized = recognize([_with_meta(s, node_id=bad) if s is node else s for s in spans], "otlp")
    assert recognized is not None
    assert [s.name for s in recognized.others] == [node.name]
    assert all(n.execution_id != bad for n in recognized.run.nodes)

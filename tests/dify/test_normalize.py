from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from bridge.dify.formats import InputError, decode_json
from bridge.dify.model import DifyEvent
from bridge.dify.normalize import UnreadEvent, classify, normalize_event, parse_event_json
from bridge.dify.run_parts import packed_data, unpack
from bridge.dify.run_results import normalize_blocking, normalize_logs, normalize_message, normalize_run_detail
from bridge.dify.values import snake_keys, timestamp
from bridge.dify.webhook_payload import decode_webhook, normalize_webhook
from tests.runs import CAPTURES, EXAMPLES


def test_camel_case_keys_become_snake_case_but_user_data_is_untouched() -> None:
    event = normalize_event(
        {
            "event": "node_finished",
            "workflowRunId": "r1",
            "taskId": "t1",
            "data": {
                "nodeId": "n1",
                "nodeType": "llm",
                "elapsedTime": 1.5,
                "predecessorNodeId": "n0",
                "inputs": {"userName": "x", "sys.user_id": "6"},
                "outputs": {"camelOut": {"deepKey": 1}},
                "processData": {"modelName": "m"},
                "executionMetadata": {"totalTokens": 10, "totalPrice": "0.5", "currency": "USD"},
            },
        }
    )
    assert (event.event, event.workflow_run_id, event.task_id) == ("node_finished", "r1", "t1")
    data = event.data
    assert data["node_id"] == "n1" and data["predecessor_node_id"] == "n0" and data["elapsed_time"] == 1.5
    assert data["inputs"] == {"userName": "x", "sys.user_id": "6"}
    assert data["outputs"] == {"camelOut": {"deepKey": 1}}
    assert data["process_data"] == {"modelName": "m"}
    assert data["execution_metadata"] == {"total_tokens": 10, "total_price": "0.5", "currency": "USD"}


def test_snake_keys_leaves_dotted_and_snake_keys() -> None:
    assert snake_keys({"sys.user_id": 1, "already_snake": {"HTTPCode": 2}}) == {
        "sys.user_id": 1,
        "already_snake": {"httpcode": 2},
    }


def test_chat_event_without_data_object_keeps_its_top_level_fields() -> None:
    lines = (CAPTURES / "f_chatflow_llm.sse").read_text().splitlines()
    line = next(text for text in lines if '"event":"message_end"' in text)
    event = normalize_event(json.loads(line.removeprefix("data: ")))
    assert event.workflow_run_id is None and event.task_id == "223ac592-f542-4541-a3bc-2a7c7c752780"
    assert event.data["metadata"]["usage"]["total_tokens"] == 36
    assert event.conversation_id == "56f9dc9e-d64e-475d-b078-c88fb9d68896"


def test_java_null_event_is_kept_as_unknown() -> None:
    assert normalize_event({"event": None, "workflowRunId": "r"}).event == "unknown"


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ([1], ""),
        ({"event": "node_started", "data": {"node_id": "n"}}, "workflow_run_id"),
        ({"event": "node_started", "workflow_run_id": "r", "data": {}}, "data.node_id"),
        ({"event": "node_finished", "workflow_run_id": "r", "data": {"node_id": "n", "elapsed_time": "x"}},
         "data.elapsed_time"),
        ({"event": "node_finished", "workflow_run_id": "r", "data": {"node_id": "n", "created_at": "soon"}},
         "data.created_at"),
        ({"event": "workflow_started", "workflow_run_id": "r", "data": []}, "data"),
        ({"event": 5}, "event"),
    ],
)  # fmt: skip
def test_bad_events_name_the_field(obj: Any, field: str) -> None:
    # Parsed objects, and JSON text read as the receivers read it: the same error.
    for parsed in (obj, parse_event_json(json.dumps(obj))):
        with pytest.raises(InputError) as info:
            normalize_event(parsed, "f.ndjson", 7)
        assert info.value.field == field and info.value.line == 7
        assert str(info.value).startswith("f.ndjson:7: ")


def _as_read_generally(event: DifyEvent) -> DifyEvent:
    """`event` with its whole data parsed, as the general way reads it."""
    return msgspec.structs.replace(event, data=unpack(packed_data(event)), packed=None)


def test_node_and_container_events_in_difys_shape_keep_their_data_unread() -> None:
    unread = 0
    for path in sorted(CAPTURES.glob("*.sse")):
        for line in path.read_text().splitlines():
            if not line.startswith("data: "):
                continue
            document = line.removeprefix("data: ")
            parsed = parse_event_json(document)
            event, general = normalize_event(parsed, "f", 3), normalize_event(decode_json(document), "f", 3)
            if isinstance(parsed, UnreadEvent):
                unread += 1
                assert event.packed is not None and event.packed.decode() in document  # the text as it came
                # Only the fields read of it are parsed, and they are read as the general way reads them.
                assert event.data.items() <= general.data.items() and "inputs" not in event.data
                assert _as_read_generally(event) == general
            else:
                assert event.event in ("workflow_started", "message_end", "message") and event == general
    assert unread > 100  # every node, container, chunk and workflow_finished event (the rest asserted above)


@pytest.mark.parametrize(
    "obj",
    [
        # camelCase data (the Java client's): snake_case keys come only from the general way
        {"event": "node_finished", "workflow_run_id": "r", "data": {"id": "e", "node_id": "n", "elapsedTime": 1.5}},
        # an envelope key Dify does not send
        {"event": "node_finished", "workflow_run_id": "r", "extra": 1, "data": {"id": "e", "node_id": "n"}},
        # no execution id: the assembler pairs such events by their whole data
        {"event": "node_started", "workflow_run_id": "r", "data": {"node_id": "n", "title": "T"}},
        # no run id on the envelope: the general way takes workflow_finished's own
        {"event": "workflow_finished", "data": {"id": "r", "status": "succeeded"}},
        # a created_at as text
        {"event": "node_started", "workflow_run_id": "r", "created_at": "1795560000",
         "data": {"id": "e", "node_id": "n"}},
    ],
)  # fmt: skip
def test_events_the_one_pass_reading_cannot_take_whole_are_read_the_general_way(obj: dict[str, Any]) -> None:
    event = normalize_event(parse_event_json(json.dumps(obj)), "f", 1)
    assert event == normalize_event(obj, "f", 1) and event.packed is None


def test_an_event_carries_the_app_that_signed_it_whichever_way_it_is_read() -> None:
    """The stream receiver names the signing app as each event is made (`app_id`), not in a copy after."""
    documents = [
        '{"event":"node_started","workflow_run_id":"r","data":{"id":"e","node_id":"n"}}',  # its data left unread
        '{"event":"workflow_started","workflow_run_id":"r","data":{"id":"r"}}',  # read the general way
        '{"event":"node_started","workflowRunId":"r","data":{"id":"e","nodeId":"n"}}',  # camelCase: the general way
        '{"event":"node_started","workflow_run_id":"r","data":7}',  # refused the general way, after the one pass
    ]
    for document in documents[:3]:
        for parsed in (parse_event_json(document), decode_json(document)):
            assert normalize_event(parsed, "f", 1, None, "app-1").app_id == "app-1"
            assert normalize_event(parsed, "f", 1).app_id is None
    with pytest.raises(InputError, match="data: expected an object"):
        normalize_event(parse_event_json(documents[3]), "f", 1, None, "app-1")


def test_timestamps() -> None:
    assert timestamp(1795553248, "t") == 1795553248.0
    assert timestamp(1795553248123, "t") == 1795553248.123
    assert timestamp("2026-04-06T20:00:05Z", "t") == 1775505605.0
    assert timestamp("2026-04-06T20:00:05.250+00:00", "t") == 1775505605.25
    with pytest.raises(InputError, match="without a time zone"):
        timestamp("2026-04-06T20:00:05", "started_at")


def test_classify_shapes() -> None:
    assert classify({"event": "ping"}) == "event"
    assert classify({"workflow_run_id": "r", "nodes": []}) == "webhook"
    assert classify(json.loads((CAPTURES / "f_simple_http_blocking.json").read_text())) == "blocking"
    assert classify(json.loads((CAPTURES / "g_run_detail_simple.json").read_text())) == "run_detail"
    assert classify(json.loads((CAPTURES / "g_logs_simple.json").read_text())) == "logs"
    assert classify({"hello": 1}) is None and classify([]) is None


def test_a_blocking_chat_answer_is_a_message_not_a_stream_event() -> None:
    answer = json.loads((CAPTURES / "h2_chatflow_blocking.json").read_text())
    assert classify(answer) == "message"
    streamed = [json.loads(line[6:]) for line in (CAPTURES / "f_chatflow_llm.sse").read_text().splitlines()
                if line.startswith("data: ")]  # fmt: skip
    assert {e["event"] for e in streamed} >= {"message", "message_end"}
    assert {classify(e) for e in streamed} == {"event"}
    run = normalize_message(answer, "h2")
    assert (run.run_id, run.message_id, run.conversation_id, run.task_id, run.app_type, run.status) == (
        answer["message_id"], answer["message_id"], answer["conversation_id"], answer["task_id"], "advanced-chat",
        "succeeded")  # fmt: skip
    assert run.created_at == answer["created_at"] and run.message_usage == answer["metadata"]["usage"]
    with pytest.raises(InputError, match="message_id"):
        normalize_message({**answer, "id": None, "message_id": None}, "h2")


def test_blocking_run_detail_and_logs() -> None:
    blocking = normalize_blocking(json.loads((CAPTURES / "e_llm_simple_blocking.json").read_text()))
    assert (blocking.run_id, blocking.status, blocking.total_tokens) == (
        "d61bc271-3e58-4e4b-b4ec-a07e0a95aade",
        "succeeded",
        24,
    )
    assert blocking.task_id == "7df4823a-3014-48ec-8c45-e3d6a9737bba" and blocking.elapsed_time == 0.378046
    detail = normalize_run_detail(json.loads((CAPTURES / "g_run_detail_simple.json").read_text()))
    assert detail.inputs is not None and detail.inputs["name"] == "alice"  # `inputs` arrives as a JSON string
    logs = normalize_logs(json.loads((CAPTURES / "g_logs_simple.json").read_text()))
    assert [r.run_id for r in logs] == ["85a5f13c-f354-4c3d-864c-ec5dcc461bb6", "7421d391-5c3c-46df-8d3e-fdb2de64e0fa"]
    assert logs[0].user_id == "probe"


def test_webhook_payload_with_containers() -> None:
    run = normalize_webhook(
        {
            "workflow_run_id": "run-001",
            "app_id": "a",
            "app_name": "My App",
            "status": "succeeded",
            "started_at": "2026-04-06T20:00:00Z",
            "finished_at": "2026-04-06T20:00:05Z",
            "nodes": [
                {"node_id": "it", "node_type": "iteration", "title": "Loop", "status": "succeeded"},
                {"node_id": "t", "node_type": "tool", "status": "succeeded", "iteration_index": 0,
                 "parent_node_id": "it"},
                {"node_id": "t", "node_type": "tool", "status": "failed", "iteration_index": 1, "parent_node_id": "it",
                 "error": "boom", "token_count": 5},
            ],
        }
    )  # fmt: skip
    assert run.elapsed_time == 5.0 and run.app_name == "My App"
    assert [c.node_id for c in run.containers] == ["it"]
    assert [(n.iteration_id, n.iteration_index, n.status) for n in run.nodes] == [
        ("it", 0, "succeeded"),
        ("it", 1, "failed"),
    ]
    assert run.nodes[0].execution_id != run.nodes[1].execution_id
    assert run.nodes[1].execution_metadata["total_tokens"] == 5


def test_webhook_bodies_in_the_exact_shape_are_decoded_in_one_pass_and_read_as_the_lenient_way_reads_them() -> None:
    body = (EXAMPLES / "webhook_full.json").read_bytes()
    strict = decode_webhook(body)
    assert strict is not None
    assert normalize_webhook(strict) == normalize_webhook(json.loads(body))


@pytest.mark.parametrize(
    "change",
    [
        {"workflowRunId": "r"},  # camelCase: would be dropped by a strict reading
        {"total_tokens": "12"},  # a number as text
        {"app_name": 1},  # text as a number
        {"custom": "x"},  # a field the schema does not name
    ],
)
def test_other_webhook_bodies_are_left_to_the_lenient_reading(change: dict[str, Any]) -> None:
    payload = {"workflow_run_id": "r", "status": "succeeded", "nodes": [], **change}
    assert decode_webhook(json.dumps(payload).encode()) is None
    assert normalize_webhook(payload).run_id == "r"


def test_node_metadata_keys_are_snake_case_either_way() -> None:
    payload = {"workflow_run_id": "r", "status": "succeeded", "nodes": [{"node_id": "n", "node_type": "llm",
               "metadata": {"totalPrice": 1}}]}  # fmt: skip
    strict = decode_webhook(json.dumps(payload).encode())
    assert strict is not None
    for run in (normalize_webhook(strict), normalize_webhook(payload)):
        assert run.nodes[0].execution_metadata == {"total_price": 1}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "succeeded", "nodes": []}, "workflow_run_id"),
        ({"workflow_run_id": " ", "status": "succeeded", "nodes": []}, "workflow_run_id"),
        ({"workflow_run_id": "r", "nodes": []}, "status"),
        ({"workflow_run_id": "r", "status": "weird", "nodes": []}, "status"),
        ({"workflow_run_id": "r", "status": "failed", "nodes": [{"node_id": "n", "node_type": "x", "status": "?"}]},
         "nodes.0.status"),
        ({"workflow_run_id": "r", "status": "succeeded", "nodes": [{"node_type": "llm"}]}, "nodes.0.node_id"),
        ({"workflow_run_id": "r", "status": "failed", "nodes": [{"node_id": "n", "node_type": "", "elapsed_time": ""}]},
         "nodes.0.elapsed_time"),
        ({"workflow_run_id": "r", "status": "succeeded", "started_at": "yesterday", "nodes": []}, "started_at"),
        ({"workflow_run_id": "r", "status": "paused", "nodes": [{"node_id": "n", "node_type": "", "started_at": "no"}]},
         "nodes.0.started_at"),
    ],
)  # fmt: skip
def test_webhook_errors_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        normalize_webhook(payload, "hook.json", 1)
    assert info.value.field == field


@pytest.mark.parametrize("value", [-1, "-1", "1969-12-31T23:59:59Z", float("nan"), float("inf"), 2**64 / 1e9 + 1])
def test_times_outside_what_a_span_can_hold_are_refused(value: object) -> None:
    with pytest.raises(InputError, match="started_at"):
        normalize_webhook({"workflow_run_id": "r", "app_id": "a", "status": "succeeded", "started_at": value})


_BAD_RUN_IDS = {
    "NUL": "run\x00id",
    "line break": "run\nid",
    "RTL override": "run\u202edi",
    "zero-width space": "run\u200bid",
    "too long": "r" * 100_000,
}


@pytest.mark.parametrize("bad", _BAD_RUN_IDS.values(), ids=_BAD_RUN_IDS.keys())
def test_a_run_id_that_is_not_printable_or_too_long_is_refused_on_every_way_in(bad: str) -> None:
    # Every shape that names a run: a stream event (read either way), a webhook payload, a blocking answer, a chat
    # answer (its message id is the run's), a run detail and a logs page (the poller), each naming the field.
    shapes: list[tuple[Any, Any, str]] = [
        (normalize_event, {"event": "node_started", "workflow_run_id": bad, "data": {"id": "e", "node_id": "n"}},
         "workflow_run_id"),
        (lambda o, s, n: normalize_event(parse_event_json(json.dumps(o)), s, n),
         {"event": "node_started", "workflow_run_id": bad, "data": {"id": "e", "node_id": "n"}}, "workflow_run_id"),
        (normalize_event, {"event": "workflow_started", "data": {"id": bad}}, "data.id"),
        (normalize_event, {"event": "message", "message_id": bad, "answer": "hi"}, "message_id"),
        (normalize_webhook, {"workflow_run_id": bad, "status": "succeeded", "nodes": []}, "workflow_run_id"),
        (normalize_blocking, {"workflow_run_id": bad, "data": {"status": "succeeded"}}, "data.id"),
        (normalize_message, {"event": "message", "message_id": bad, "mode": "chat", "metadata": {}}, "message_id"),
        (normalize_run_detail, {"id": bad, "status": "succeeded"}, "id"),
        (normalize_logs, {"data": [{"workflow_run": {"id": bad, "status": "failed"}}]}, "data.0.workflow_run.id"),
    ]  # fmt: skip
    for normalize, obj, field in shapes:
        with pytest.raises(InputError) as info:
            normalize(obj, "runs.ndjson", 3)
        assert (info.value.field, info.value.line) == (field, 3)
        assert "printable" in info.value.reason or "at most 128 characters" in info.value.reason
        assert bad not in str(info.value)  # the rule is named, the id not echoed


def test_a_dify_uuid_and_any_printable_id_of_128_characters_are_taken() -> None:
    for run_id in ("d61bc271-3e58-4e4b-b4ec-a07e0a95aade", "é" * 128, "run id with spaces"):
        assert normalize_webhook({"workflow_run_id": run_id, "status": "succeeded", "nodes": []}).run_id == run_id


def _other_id_shapes(bad: str) -> list[tuple[Any, Any, str]]:
    """(normalize, payload, field) for every id other than the run id that a way in reads."""
    node = {"id": "e", "node_id": "n"}
    event = {"event": "node_started", "workflow_run_id": "r"}
    run = {"workflow_run_id": "r", "status": "succeeded"}
    return [
        *((normalize_event, {**event, key: bad, "data": node}, key) for key in ("task_id", "conversation_id")),
        *((normalize_event, {**event, "data": {**node, key: bad}}, f"data.{key}")
          for key in ("id", "node_id", "iteration_id", "loop_id", "parallel_id", "workflow_id")),
        (normalize_event, {"event": "agent_log", "workflow_run_id": "r", "data": {"node_execution_id": bad}},
         "data.node_execution_id"),
        *((normalize_webhook, {**run, key: bad, "nodes": []}, key) for key in ("app_id", "workflow_id",
                                                                               "conversation_id")),
        *((normalize_webhook, {**run, "nodes": [{"node_id": "n", "node_type": "llm", key: bad}]}, f"nodes.0.{key}")
          for key in ("node_id", "execution_id", "parent_node_id")),
        (normalize_blocking, {**run, "task_id": bad, "data": {"status": "succeeded"}}, "task_id"),
        (normalize_blocking, {**run, "data": {"status": "succeeded", "workflow_id": bad}}, "data.workflow_id"),
        *((normalize_message, {"event": "message", "message_id": "m", "mode": "chat", "metadata": {}, key: bad}, key)
          for key in ("task_id", "conversation_id")),
        (normalize_run_detail, {"id": "r", "status": "succeeded", "workflow_id": bad}, "workflow_id"),
        (normalize_logs, {"data": [{"workflow_run": {"id": "r", "status": "failed", "workflow_id": bad}}]},
         "data.0.workflow_run.workflow_id"),
    ]  # fmt: skip


@pytest.mark.parametrize("bad", _BAD_RUN_IDS.values(), ids=_BAD_RUN_IDS.keys())
def test_every_other_id_is_held_to_the_run_id_s_rule(bad: str) -> None:
    # Node, execution, task, conversation, workflow and app ids named spans and attributes as sent.
    for normalize, obj, field in _other_id_shapes(bad):
        for read in (obj, parse_event_json(json.dumps(obj))) if normalize is normalize_event else (obj,):
            with pytest.raises(InputError) as info:
                normalize(read, "runs.ndjson", 3)
            assert (info.value.field, info.value.line) == (field, 3), obj
            assert "printable" in info.value.reason or "at most 128 characters" in info.value.reason
            assert bad not in str(info.value)


def test_dify_s_own_ids_are_taken() -> None:
    for normalize, obj, _ in _other_id_shapes("17319283746510"):  # a graph node id as Dify makes them
        normalize(obj, "runs.ndjson", 3)
    for normalize, obj, _ in _other_id_shapes("d61bc271-3e58-4e4b-b4ec-a07e0a95aade"):
        normalize(obj, "runs.ndjson", 3)


def test_a_stream_event_s_ids_at_the_rule_s_edges_read_the_same_either_way() -> None:
    # The parsed event's fast path tests every id at once (`_ids_fine`); what it passes or sends to the general
    # path must come out as the general path alone makes it: 128 characters or an id given as a number taken,
    # 129 or a control character refused.
    for value, taken in (("é" * 128, True), (17319283746510, True), ("n" * 129, False), ("n\x7f", False)):
        for key in ("node_id", "parent_id"):
            obj = {"event": "node_started", "workflow_run_id": "r", "task_id": "t",
                   "data": {"id": "e", "node_id": "n", key: value}}  # fmt: skip
            if taken:
                fast, general = normalize_event(parse_event_json(json.dumps(obj)), "s", 1), normalize_event(obj, "s", 1)
                assert (fast.data, fast.workflow_run_id) == (general.data, general.workflow_run_id)
            else:
                with pytest.raises(InputError, match=f"data.{key}: must be"):
                    normalize_event(parse_event_json(json.dumps(obj)), "s", 1)


@pytest.mark.parametrize("value", [-1, 2**63, 10**30])
def test_a_count_no_span_can_carry_is_refused_naming_the_field(value: int) -> None:
    # Taken before (202), then left out of the run's spans with a warning per attribute at export.
    node = {"node_id": "n", "node_type": "llm", "token_count": value, "iteration_index": value, "loop_index": value}
    payload = {"workflow_run_id": "r", "status": "succeeded", "total_tokens": value, "total_steps": value,
               "nodes": [node]}  # fmt: skip
    with pytest.raises(InputError) as info:
        normalize_webhook(payload)
    fields = {info.value.field, *(field for field, _ in info.value.others)}
    assert fields == {"total_tokens", "total_steps", "nodes.0.token_count", "nodes.0.iteration_index",
                      "nodes.0.loop_index"}  # fmt: skip
    assert f"must be a count from 0 to 2^63-1, got {str(value)[:40]}" in info.value.reason
    assert normalize_webhook({**payload, "total_tokens": 2**63 - 1, "total_steps": 0, "nodes": []}).total_tokens


@pytest.mark.parametrize("field", ["total_tokens", "total_steps", "index", "retry_index", "exceptions_count"])
@pytest.mark.parametrize("value", [-1, 2**63, 10**30])
def test_a_stream_count_no_span_can_carry_is_refused_by_either_reading(field: str, value: int) -> None:
    # Taken before, then left out of the run's spans with a warning at export: refused now, as the webhook's.
    event = "workflow_finished" if field.startswith("total_") else "node_finished"
    data: dict[str, Any] = {"id": "e1", "node_id": "n1", "workflow_id": "w", field: value}
    obj = {"event": event, "workflow_run_id": "r1", "task_id": "t", "data": data}
    for parsed in (parse_event_json(json.dumps(obj)), obj):
        with pytest.raises(InputError) as info:
            normalize_event(parsed, "run.sse", 7)
        assert (info.value.field, info.value.line) == (f"data.{field}", 7)
        assert "must be a count from 0 to 2^63-1" in info.value.reason
    for fine in (0, 2**63 - 1):
        for parsed in (
            parse_event_json(json.dumps({**obj, "data": {**data, field: fine}})),
            obj | {"data": {**data, field: fine}},
        ):
            assert normalize_event(parsed, "run.sse", 7).data[field] == fine

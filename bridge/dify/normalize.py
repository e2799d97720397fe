"""Dify's stream events → `DifyEvent`s, and which shape a decoded JSON value has.

Stream events come in Dify's own snake_case or the Java client's camelCase; the other shapes are read by
`webhook_payload.py` (the whole-run webhook payload) and `run_results.py` (a blocking run response, a blocking
chat answer, `GET /v1/workflows/run/{id}` and `GET /v1/workflows/logs`).
Every function raises `InputError` naming the field at fault; unknown fields are kept, never fatal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypedDict

import msgspec

from bridge.dify.formats import InputError, decode_json
from bridge.dify.model import CHUNK_EVENTS, CONTAINER_EVENTS, DifyEvent, JSONDict
from bridge.dify.values import (
    LATEST,
    MAX_COUNT,
    MAX_ID,
    USER_DATA_KEYS,
    check_count,
    checked_id,
    has_camel,
    id_fault,
    number,
    snake_keys,
    text_or_none,
    timestamp,
)

Shape = Literal["event", "webhook", "blocking", "message", "run_detail", "logs"]

_ENVELOPE_KEYS = frozenset({"event", "workflow_run_id", "task_id", "conversation_id", "message_id", "created_at"})


def classify(obj: Any) -> Shape | None:
    """Which Dify shape a decoded JSON value has, or None."""
    if type(obj) is UnreadEvent:
        return "event"
    if not isinstance(obj, dict):
        return None
    if "event" in obj:
        # A blocking `/v1/chat-messages` answer is shaped like a stream's `message` event, but only it carries
        # the app's `mode` and the message's `metadata`.
        if obj["event"] == "message" and "mode" in obj and "metadata" in obj and "workflow_run_id" not in obj:
            return "message"
        return "event"
    if "nodes" in obj and ("workflow_run_id" in obj or "workflowRunId" in obj):
        return "webhook"
    if isinstance(obj.get("data"), dict) and ("workflow_run_id" in obj or "workflowRunId" in obj):
        return "blocking"
    if isinstance(obj.get("data"), list) and "page" in obj:
        return "logs"
    if "id" in obj and "status" in obj and ("workflow_id" in obj or "workflowId" in obj):
        return "run_detail"
    return None


# The ids a stream event's data carries (`id`: the run's, the node execution's or the agent log's).
_DATA_IDS = ("id", "node_id", "node_execution_id", "workflow_id", "iteration_id", "loop_id", "parallel_id", "parent_id")


def _ids_fine(data: Mapping[str, Any], *values: Any) -> bool:
    """Whether `values` and a stream event's data ids are all ids `checked_id` takes (`id_fault`'s rules inline:
    every event of a stream passes here, and a generator and a call a value were near half its time)."""
    for value in (*values, *map(data.get, _DATA_IDS)):
        if value is not None:
            text = value if type(value) is str else str(value)
            if len(text) > MAX_ID or not text.isprintable():
                return False
    return True


def _check_event_ids(obj: Mapping[str, Any], data: Mapping[str, Any], source: str, line: int) -> None:
    if _ids_fine(data, obj.get("task_id"), obj.get("conversation_id")):
        return  # nearly always: the one to refuse found, and worded, only when there is one
    for key in ("task_id", "conversation_id"):
        checked_id(obj.get(key), key, source, line)
    for key in _DATA_IDS:
        checked_id(data.get(key), f"data.{key}", source, line)


# --- stream events -----------------------------------------------------------------------------

# A count as an unread event's data holds it: any other integer fails to decode there and goes the general way.
_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]


_NODE_EVENTS = frozenset({"node_started", "node_finished", "node_retry"})
_RUN_SCOPED = _NODE_EVENTS | {"workflow_started", "workflow_finished"}
_COUNT_FIELDS = frozenset({"total_tokens", "total_steps", "index", "retry_index", "exceptions_count"})
_NUMERIC_DATA_FIELDS = ("elapsed_time", *sorted(_COUNT_FIELDS))


def normalize_event(
    obj: Any, source: str = "", line: int = 0, sse_event: str | None = None, app_id: str | None = None
) -> DifyEvent:
    """One stream event, snake_case or camelCase (or as `parse_event_json` left it) → `DifyEvent`; `app_id`:
    the registered app that signed it (`DifyEvent.app_id`)."""
    if type(obj) is UnreadEvent:
        return _normalize_unread(obj, source, line, sse_event, app_id)
    if not isinstance(obj, dict):
        raise InputError(source, line, "", f"expected a JSON object, got {type(obj).__name__}")
    raw_data = obj.get("data")
    # Dify's own events are snake_case already: only the Java client's camelCase ones need rewriting.
    if has_camel(obj) or (isinstance(raw_data, dict) and has_camel(raw_data)):
        obj = snake_keys(obj, preserve=USER_DATA_KEYS | {"data"} if obj.get("event") == "agent_log" else USER_DATA_KEYS)
    event = obj.get("event") or sse_event
    if event is None:
        # The Java client turns events it does not know into `event: null`: keep them as unknown.
        event = "unknown"
    if not isinstance(event, str):
        raise InputError(source, line, "event", f"expected a string, got {type(event).__name__}")
    raw_data = obj.get("data")
    if event == "agent_log" and isinstance(raw_data, dict):
        raw_data = {**snake_keys({k: v for k, v in raw_data.items() if k != "data"}), "data": raw_data.get("data")}
    if raw_data is not None and not isinstance(raw_data, dict):
        raise InputError(source, line, "data", f"expected an object, got {type(raw_data).__name__}")
    data: dict[str, Any] = (
        raw_data if raw_data is not None else {k: v for k, v in obj.items() if k not in _ENVELOPE_KEYS}
    )
    run_id = checked_id(obj.get("workflow_run_id"), "workflow_run_id", source, line)
    if event in _RUN_SCOPED and run_id is None:
        run_id = checked_id(data.get("id"), "data.id", source, line) if event.startswith("workflow_") else None
        if run_id is None:
            raise InputError(source, line, "workflow_run_id", f"missing on a {event} event")
    if event in _NODE_EVENTS and not data.get("node_id"):
        raise InputError(source, line, "data.node_id", f"missing on a {event} event")
    _check_event_ids(obj, data, source, line)
    # Checked in full only when not a plain number already (nearly always): this runs for every event.
    for key in _NUMERIC_DATA_FIELDS:
        value = data.get(key)
        if type(value) is int:
            if key in _COUNT_FIELDS:
                check_count(value, f"data.{key}", source, line)
        elif value is not None and not (type(value) is float and math.isfinite(value)):
            number(value, f"data.{key}", source, line)
    for key in ("created_at", "finished_at"):
        value = data.get(key)
        if value is not None:
            timestamp(value, f"data.{key}", source, line)
    metadata = data.get("execution_metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError(source, line, "data.execution_metadata", "expected an object")
    return DifyEvent(
        event=event,
        data=data,
        workflow_run_id=run_id,
        task_id=text_or_none(obj.get("task_id")),
        conversation_id=text_or_none(obj.get("conversation_id")),
        # A message id stands in for the run id of a chat run whose events carry none (`run_parts`).
        message_id=checked_id(obj.get("message_id"), "message_id", source, line),
        created_at=timestamp(obj.get("created_at"), "created_at", source, line),
        source=source,
        line=line,
        app_id=app_id,
    )


# --- stream events in Dify's own shape, data left unread ---------------------------------------
#
# Most events are node and container events whose data the bridge only routes by (ids, type, indexes) and
# keeps whole until the run is built. Read in Dify's own shape, their data stays the JSON text it came as
# (`DifyEvent.packed`): not parsed into objects here and written out again for the assembler and journal.
# Everything else (camelCase, other events, anything odd) is read the general way, with the same result.

_UNREAD_DATA_EVENTS = _NODE_EVENTS | CONTAINER_EVENTS | CHUNK_EVENTS | {"workflow_finished"}


class UnreadEvent(msgspec.Struct, forbid_unknown_fields=True):
    """A stream event's envelope in Dify's own shape (these keys only), its data not parsed yet."""

    event: str
    data: msgspec.Raw
    workflow_run_id: str | None = None
    task_id: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    created_at: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The event as the general parser reads it."""
        fields = [key for key in self.__struct_fields__ if key != "data"]
        envelope = {key: value for key in fields if (value := getattr(self, key)) is not None}
        return {**envelope, "data": decode_json(bytes(self.data))}


class _DataFields(TypedDict, total=False):
    """What is read of an unread event's data: routing, the live feed, and what `normalize_event` checks,
    typed as `normalize_event` takes them (a JSON number is finite): any other value fails to decode here
    and the event goes the general way, which takes or refuses it."""

    id: Any
    node_id: Any
    node_type: Any
    title: Any
    status: Any
    error: Any
    index: _Count | float | None
    retry_index: _Count | float | None
    elapsed_time: int | float | None
    total_tokens: _Count | float | None
    total_steps: _Count | float | None
    exceptions_count: _Count | float | None
    created_at: int | float | None
    finished_at: int | float | None
    execution_metadata: dict[str, Any] | None
    node_execution_id: Any
    workflow_id: Any
    iteration_id: Any
    loop_id: Any
    parallel_id: Any
    parent_id: Any
    # The camelCase spelling of any field the bridge reads: one present means the Java client's shape.
    nodeId: Any
    nodeType: Any
    retryIndex: Any
    elapsedTime: Any
    totalTokens: Any
    totalSteps: Any
    exceptionsCount: Any
    createdAt: Any
    finishedAt: Any
    executionMetadata: Any
    processData: Any
    iterationId: Any
    loopId: Any
    parallelId: Any
    agentStrategy: Any


_CAMEL_FIELDS = frozenset(key for key in _DataFields.__annotations__ if not key.islower())
_UNREAD = msgspec.json.Decoder(UnreadEvent)
_DATA_FIELDS = msgspec.json.Decoder(_DataFields)


def parse_event_json(document: str) -> Any:
    """One record's JSON text → an `UnreadEvent` for an event whose data can stay unread, else the parsed
    JSON (`decode_json`). For `iter_records(parse=...)` wherever stream events are read."""
    try:
        unread = _UNREAD.decode(document)
    except (msgspec.DecodeError, RecursionError):
        return decode_json(document)
    return unread if unread.event in _UNREAD_DATA_EVENTS else decode_json(document)


def _normalize_unread(
    unread: UnreadEvent, source: str, line: int, sse_event: str | None, app_id: str | None
) -> DifyEvent:
    try:
        data: JSONDict = _DATA_FIELDS.decode(unread.data)
    except (msgspec.DecodeError, RecursionError):  # no object: refused, and worded, the general way
        return normalize_event(unread.as_json(), source, line, sse_event, app_id)
    run_id = unread.workflow_run_id
    if (
        not _CAMEL_FIELDS.isdisjoint(data)
        # What only the general way reads or words: a run or node without ids, or no node id.
        or (unread.event in _RUN_SCOPED and not run_id)
        # A run or message id to refuse is refused, and worded, the general way.
        or (run_id is not None and id_fault(run_id) is not None)
        or (unread.message_id is not None and id_fault(unread.message_id) is not None)
        or not _ids_fine(data, unread.task_id, unread.conversation_id)
        or (unread.event in _NODE_EVENTS and not (data.get("id") and data.get("node_id")))
    ):
        return normalize_event(unread.as_json(), source, line, sse_event, app_id)
    for key in ("created_at", "finished_at"):
        value = data.get(key)
        if value is not None and not 0 <= value < LATEST:  # milliseconds, or refused
            timestamp(value, f"data.{key}", source, line)
    return DifyEvent(
        event=unread.event,
        data=data,
        workflow_run_id=run_id,
        task_id=unread.task_id,
        conversation_id=unread.conversation_id,
        message_id=unread.message_id,
        created_at=timestamp(unread.created_at, "created_at", source, line),
        source=source,
        line=line,
        packed=bytes(unread.data),
        app_id=app_id,
    )

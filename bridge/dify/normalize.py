"""Raw Dify payloads → `model` objects, one function per source shape.

Shapes: stream events (Dify's own snake_case, or the Java client's camelCase), the whole-run webhook
payload, a blocking run response, a blocking chat answer, `GET /v1/workflows/run/{id}` and
`GET /v1/workflows/logs`.
Every function raises `InputError` naming the field at fault; unknown fields are kept, never fatal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal, TypedDict, TypeVar

import msgspec
from msgspec.structs import replace

from bridge.dify.formats import InputError, decode_json
from bridge.dify.model import (
    CHUNK_EVENTS,
    CONTAINER_EVENTS,
    NODE_STATUSES,
    RUN_STATUSES,
    ContainerRun,
    DifyEvent,
    JSONDict,
    NodeRun,
    WorkflowRun,
)

Shape = Literal["event", "webhook", "blocking", "message", "run_detail", "logs"]

# Keys whose values are the user's data: their inner keys are never rewritten.
_USER_DATA_KEYS = frozenset(
    {"inputs", "outputs", "process_data", "files", "extras", "tool_input", "tool_response", "loop_variable_map"}
)
_ENVELOPE_KEYS = frozenset({"event", "workflow_run_id", "task_id", "conversation_id", "message_id", "created_at"})
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
# Dify sends Unix seconds; a few clients send milliseconds. Anything past this is taken as ms.
_MAX_SECONDS = 100_000_000_000
# The last second that unsigned 64-bit nanoseconds (OTLP span times) can hold: year 2554.
_LATEST = 2**64 / 1e9


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


def snake_key(key: str) -> str:
    if "." in key or "#" in key or key.islower():
        return key
    return _CAMEL.sub(r"_\1", key).lower()


# Keys seen to need no rewriting. Every event's keys are checked, and nearly all are these few dozen: one
# set operation instead of a check per key. Bounded, since keys come from outside.
_SNAKE_SEEN: set[str] = set()
_MAX_SNAKE_SEEN = 2048


def _has_camel(mapping: Mapping[str, Any]) -> bool:
    if _SNAKE_SEEN.issuperset(mapping):
        return False
    for key in mapping:
        if not isinstance(key, str):
            continue
        if not key.islower() and snake_key(key) != key:
            return True
        if len(_SNAKE_SEEN) < _MAX_SNAKE_SEEN:
            _SNAKE_SEEN.add(key)
    return False


def snake_keys(value: Any, *, preserve: frozenset[str] = _USER_DATA_KEYS) -> Any:
    """camelCase → snake_case keys, recursively, leaving the inside of user-data values untouched."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            # Checked inline: nearly every key is snake_case already, and whole payloads pass through here.
            new_key = key if not isinstance(key, str) or key.islower() else snake_key(key)
            if new_key not in preserve and isinstance(item, dict | list):
                item = snake_keys(item, preserve=preserve)
            out[new_key] = item
        return out
    if isinstance(value, list):
        return [snake_keys(item, preserve=preserve) if isinstance(item, dict | list) else item for item in value]
    return value


def timestamp(value: Any, field: str, source: str = "", line: int = 0) -> float | None:
    """Unix seconds (int, float, numeric string, or ms) or ISO 8601 → float seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(source, line, field, f"expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) / 1000 if value > _MAX_SECONDS else float(value)
        # A span's times are unsigned nanoseconds: nothing before 1970, nothing NaN or infinite.
        if not 0 <= seconds < _LATEST:
            # Written as sent: the stream reader's fast path takes `-1` as -1.0, the general one as -1.
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            raise InputError(source, line, field, f"not a time from 1970 on: {shown!r}")
        return seconds
    if isinstance(value, str):
        # Unix time as text ("1732000000.5"); an ISO 8601 time always holds a colon, which float() refuses.
        if ":" not in value:
            try:
                number_value = float(value)
            except ValueError:
                pass
            else:
                return timestamp(number_value, field, source, line)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(source, line, field, f"not a Unix time or ISO 8601 date: {value[:60]!r}") from None
        if parsed.tzinfo is None:
            raise InputError(source, line, field, f"ISO 8601 date without a time zone: {value[:60]!r}")
        return timestamp(parsed.timestamp(), field, source, line)
    raise InputError(source, line, field, f"expected a timestamp, got {type(value).__name__}")


def number(value: Any, field: str, source: str = "", line: int = 0) -> float | None:
    """A number that Dify may send as a JSON number or a decimal string (prices)."""
    if type(value) is float and math.isfinite(value):  # nearly always: durations
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(source, line, field, f"expected a number, got {value!r}")
    if not isinstance(value, int | float | str):
        raise InputError(source, line, field, f"expected a number, got {str(value)[:60]!r}")
    try:
        parsed = float(value)
    except ValueError:
        raise InputError(source, line, field, f"expected a number, got {str(value)[:60]!r}") from None
    except OverflowError:  # an integer past a float's range
        parsed = math.inf
    # Infinity and NaN are no count, duration or price: a span could not carry them either.
    if not math.isfinite(parsed):
        raise InputError(source, line, field, f"expected a finite number, got {str(value)[:60]!r}")
    return parsed


def integer(value: Any, field: str, source: str = "", line: int = 0) -> int | None:
    parsed = number(value, field, source, line)
    return None if parsed is None else int(parsed)


def as_number(value: Any) -> float | None:
    """What `number` reads, or None where it would refuse: for values inside what was already accepted, which
    must not keep a run from being built."""
    try:
        return number(value, "")
    except InputError:
        return None


def as_int(value: Any) -> int | None:
    if type(value) is int:  # nearly always: no parsing to do
        return value
    parsed = as_number(value)
    return None if parsed is None else int(parsed)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# Dify's run, message, execution, task, conversation, workflow and app ids are 36-character UUIDs, its graph
# node ids short digits or names (`1732000000000`, `llm`); other senders' ids (a prefix, a composite key) fit
# in 128. Ids name runs, spans and attributes in answers, logs and the queue, so they are held to printable text.
MAX_ID = 128
# The ids a stream event's data carries (`id`: the run's, the node execution's or the agent log's).
_DATA_IDS = ("id", "node_id", "node_execution_id", "workflow_id", "iteration_id", "loop_id", "parallel_id", "parent_id")


def id_fault(value: str) -> str | None:
    """Why `value` cannot be an id (too long, or a control, format or separator character), or None."""
    if len(value) > MAX_ID:
        return f"at most {MAX_ID} characters (Dify's are 36-character UUIDs), got {len(value)}"
    if not value.isprintable():
        position, char = next((i, c) for i, c in enumerate(value) if not c.isprintable())
        return f"printable characters only, found U+{ord(char):04X} at position {position}"
    return None


def checked_id(value: Any, field: str, source: str, line: int) -> str | None:
    """`value` as an id (None stays None), or InputError naming `field` and the rule it breaks."""
    text = _str(value)
    if text is not None and (fault := id_fault(text)) is not None:
        raise InputError(source, line, field, f"must be {fault}")
    return text


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


def _mapping(value: Any, field: str, source: str, line: int) -> JSONDict | None:
    if value is None:
        return None
    if isinstance(value, str):  # GET /v1/workflows/run/{id} sends `inputs` as a JSON string
        try:
            value = decode_json(value)
        except ValueError:
            return {"value": value}
    if not isinstance(value, dict):
        return {"value": value}
    return value


# --- stream events -----------------------------------------------------------------------------

# The largest count an OTLP span attribute holds (int64): a bigger one would be taken, then left out of the span.
_MAX_COUNT = 2**63 - 1
# A count as an unread event's data holds it: any other integer fails to decode there and goes the general way.
_Count = Annotated[int, msgspec.Meta(ge=0, le=_MAX_COUNT)]


def _count(value: int | None, field: str, source: str, line: int) -> None:
    if value is not None and not 0 <= value <= _MAX_COUNT:
        raise InputError(source, line, field, f"must be a count from 0 to 2^63-1, got {str(value)[:40]}")


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
    if _has_camel(obj) or (isinstance(raw_data, dict) and _has_camel(raw_data)):
        obj = snake_keys(
            obj, preserve=_USER_DATA_KEYS | {"data"} if obj.get("event") == "agent_log" else _USER_DATA_KEYS
        )
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
                _count(value, f"data.{key}", source, line)
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
        task_id=_str(obj.get("task_id")),
        conversation_id=_str(obj.get("conversation_id")),
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
        if value is not None and not 0 <= value < _LATEST:  # milliseconds, or refused
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


# --- whole-run webhook payload -----------------------------------------------------------------


class WebhookNode(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    node_id: str
    node_type: str
    title: str | None = None
    status: str = "succeeded"
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    process_data: dict[str, Any] | None = None
    elapsed_time: float | None = None
    started_at: str | float | None = None
    finished_at: str | float | None = None
    token_count: int | None = None
    error: str | None = None
    metadata: dict[str, Any] | None = None
    iteration_index: int | None = None
    loop_index: int | None = None
    parent_node_id: str | None = None
    execution_id: str | None = None


class WebhookPayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    workflow_run_id: str
    app_id: str | None = None
    app_name: str | None = None
    app_type: str | None = None
    workflow_id: str | None = None
    conversation_id: str | None = None
    started_at: str | float | None = None
    finished_at: str | float | None = None
    status: str
    total_tokens: int | None = None
    total_steps: int | None = None
    error: str | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    nodes: list[WebhookNode] = []


# Field name → whether it holds text (a lenient payload may send a number there: it is taken as text).
def _field_kinds(struct: type[msgspec.Struct]) -> dict[str, bool]:
    return {field.name: field.type in (str, str | None) for field in msgspec.structs.fields(struct)}


_PAYLOAD_FIELDS = _field_kinds(WebhookPayload)
# A node's metadata keys are rewritten where both readings meet (`normalize_webhook`), not twice.
_WEBHOOK_PRESERVED = _USER_DATA_KEYS | {"metadata"}
_NODE_FIELDS = _field_kinds(WebhookNode)
# Strict: a payload exactly in the schema's shape (snake_case, every value of its type, no other field) is
# decoded straight from the bytes. Anything else fails here and is read the lenient way.
_STRICT_WEBHOOK = msgspec.json.Decoder(WebhookPayload)


def _known_status(status: str, field: str, source: str, line: int, known: tuple[str, ...]) -> None:
    # An unknown status would become a trace that is neither an error nor a success: refused, with the choices.
    if status not in known:
        raise InputError(source, line, field, f"{status[:40]!r} is not one of {', '.join(known)}")


_run_status = partial(_known_status, known=RUN_STATUSES)
_node_status = partial(_known_status, known=NODE_STATUSES)


def decode_webhook(body: bytes) -> WebhookPayload | None:
    """`body` decoded and checked in one pass when it is a webhook payload in the schema's exact shape, which
    Dify's and Pisama's clients send; None for anything else (camelCase, numbers as text or text as numbers,
    extra fields, malformed JSON or UTF-8, nesting deeper than the parser goes), which `normalize_webhook` takes
    from the parsed JSON as before (or `parse_json` refuses, worded)."""
    try:
        return _STRICT_WEBHOOK.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        return None


def _lenient(obj: Any, fields: dict[str, bool]) -> Any:
    """A JSON object cut to the schema's `fields`, numbers in text fields as text."""
    if not isinstance(obj, dict):
        return obj
    return {
        key: str(value) if fields[key] and isinstance(value, int | float) and not isinstance(value, bool) else value
        for key, value in obj.items()
        if key in fields
    }


def _webhook_payload(obj: Any, source: str, line: int) -> WebhookPayload:
    """Any parsed JSON as a `WebhookPayload`: camelCase keys, unknown fields, numbers as text and text as
    numbers taken; InputError naming the first field at fault (`nodes.2.node_type`)."""
    payload = _lenient(snake_keys(obj, preserve=_WEBHOOK_PRESERVED), _PAYLOAD_FIELDS)
    if isinstance(payload, dict) and isinstance(payload.get("nodes"), list):
        payload["nodes"] = [_lenient(node, _NODE_FIELDS) for node in payload["nodes"]]
    try:
        return msgspec.convert(payload, WebhookPayload, strict=False)
    except msgspec.ValidationError as exc:
        first = _schema_error(str(exc), source, line)
    # msgspec stops at the first field at fault: the others are found field by field, on this error path only.
    found = _struct_errors(payload, WebhookPayload, "")
    if isinstance(payload, dict) and isinstance(payload.get("nodes"), list):
        for position, node in enumerate(payload["nodes"]):
            found += _struct_errors(node, WebhookNode, f"nodes.{position}.")
    others = tuple(error for error in found if error[0] != first.field)
    raise InputError(source, line, first.field, first.reason, others)


def _struct_errors(obj: Any, struct: type[msgspec.Struct], prefix: str) -> list[tuple[str, str]]:
    """Each field of `obj` (a JSON object cut to `struct`'s fields) that `struct` refuses, as (path, reason);
    `nodes` is left to the caller."""
    if not isinstance(obj, dict):
        return []
    errors: list[tuple[str, str]] = []
    for field in msgspec.structs.fields(struct):
        if field.name not in obj:
            if field.required:
                errors.append((f"{prefix}{field.name}", f"Object missing required field `{field.name}`"))
            continue
        if field.name == "nodes" and isinstance(obj["nodes"], list):
            continue
        try:
            msgspec.convert(obj[field.name], field.type, strict=False)
        except msgspec.ValidationError as exc:
            reason = _SCHEMA_ERROR.match(str(exc))
            assert reason is not None  # the pattern matches any text
            errors.append((f"{prefix}{field.name}", reason["reason"]))
    return errors


_SCHEMA_ERROR = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>.*)`)?$", re.DOTALL)
_MISSING_FIELD = re.compile(r"missing required field `(?P<name>[^`]+)`")


def _schema_error(message: str, source: str, line: int) -> InputError:
    """msgspec's "Expected `str`, got `int` - at `$.nodes[2].node_type`" as an `InputError` for
    `nodes.2.node_type`; a missing field is named in the path too."""
    match = _SCHEMA_ERROR.match(message)
    assert match is not None  # the pattern matches any text
    parts = re.findall(r"\.([^.\[]+)|\[(\d+)\]", match["path"] or "")
    path = [name or index for name, index in parts]
    if missing := _MISSING_FIELD.search(match["reason"]):
        path.append(missing["name"])
    return InputError(source, line, ".".join(path), match["reason"])


def normalize_webhook(obj: Any, source: str = "", line: int = 0) -> WorkflowRun:
    """A whole-run webhook payload (Pisama's shape, ISO 8601 times) → `WorkflowRun`; `obj` is the parsed JSON,
    or what `decode_webhook` made of the body."""
    payload = obj if isinstance(obj, WebhookPayload) else _webhook_payload(obj, source, line)
    return _webhook_run(payload, source, line)


_T = TypeVar("_T")


class _Faults:
    """The value checks of one payload, each run to its end: a sender is told every field at fault at once."""

    def __init__(self, source: str, line: int) -> None:
        self.source, self.line = source, line
        self.found: list[InputError] = []

    def check(self, check: Callable[[Any, str, str, int], _T], value: Any, key: str, node: int = -1) -> _T | None:
        """`check(value, key, source, line)`; a fault is kept under `nodes.{node}.{key}` for a node's value, a name
        made only then (about eight checks a node on every payload)."""
        try:
            return check(value, key, self.source, self.line)
        except InputError as fault:
            field = key if node < 0 else f"nodes.{node}.{key}"
            self.found.append(InputError(self.source, self.line, field, fault.reason))
            return None

    def raise_any(self) -> None:
        if self.found:
            first, *rest = self.found
            others = tuple((fault.field, fault.reason) for fault in rest if fault.field != first.field)
            raise InputError(self.source, self.line, first.field, first.reason, others)


def _webhook_run(payload: WebhookPayload, source: str, line: int) -> WorkflowRun:
    faults = _Faults(source, line)
    run_id = payload.workflow_run_id
    if not run_id.strip():
        faults.found.append(InputError(source, line, "workflow_run_id", "must not be empty"))
    else:
        faults.check(checked_id, run_id, "workflow_run_id")
    faults.check(_run_status, payload.status, "status")
    for key in ("app_id", "workflow_id", "conversation_id"):
        faults.check(checked_id, getattr(payload, key), key)
    for key in ("total_tokens", "total_steps"):
        faults.check(_count, getattr(payload, key), key)
    nodes: list[NodeRun] = []
    containers: list[ContainerRun] = []
    seen: dict[str, int] = {}
    for position, node in enumerate(payload.nodes):
        faults.check(_node_status, node.status, "status", position)
        for key in ("node_id", "execution_id", "parent_node_id"):
            faults.check(checked_id, getattr(node, key), key, position)
        for key in ("token_count", "iteration_index", "loop_index"):
            faults.check(_count, getattr(node, key), key, position)
        started = faults.check(timestamp, node.started_at, "started_at", position)
        finished = faults.check(timestamp, node.finished_at, "finished_at", position)
        elapsed = node.elapsed_time
        if elapsed is None and started is not None and finished is not None:
            elapsed = max(finished - started, 0.0)
        # Its keys are Dify's, not the user's: snake_case, however the payload was read.
        meta: dict[str, Any] = snake_keys(node.metadata) if node.metadata else {}
        if node.token_count is not None:
            meta.setdefault("total_tokens", node.token_count)
        parent = node.parent_node_id
        common: dict[str, Any] = {
            "node_id": node.node_id,
            "node_type": node.node_type,
            "title": node.title or node.node_id,
            "status": node.status,
            "order": position,
            "created_at": started,
            "finished_at": finished,
            "elapsed_time": elapsed,
            "inputs": node.inputs,
            "outputs": node.outputs,
            "error": node.error,
            "execution_metadata": meta,
        }
        if node.node_type in ("iteration", "loop"):
            containers.append(ContainerRun(**common))
            continue
        # Payload nodes have no execution id: the node id and its occurrence make a stable one.
        occurrence = seen.get(node.node_id, 0)
        seen[node.node_id] = occurrence + 1
        parent_type = next((c.node_type for c in containers if c.node_id == parent), None)
        in_loop = parent_type == "loop" or (parent_type is None and node.loop_index is not None)
        nodes.append(
            NodeRun(
                **common,
                execution_id=node.execution_id or f"{run_id}/{node.node_id}/{occurrence}",
                process_data=node.process_data,
                iteration_id=None if in_loop else parent,
                loop_id=parent if in_loop else None,
                iteration_index=None if in_loop else node.iteration_index,
                loop_index=node.loop_index if in_loop else None,
            )
        )
    started = faults.check(timestamp, payload.started_at, "started_at")
    finished = faults.check(timestamp, payload.finished_at, "finished_at")
    faults.raise_any()
    return WorkflowRun(
        run_id=run_id,
        status=payload.status,
        workflow_id=payload.workflow_id,
        app_id=payload.app_id,
        app_name=payload.app_name,
        app_type=payload.app_type,
        conversation_id=payload.conversation_id,
        created_at=started,
        finished_at=finished,
        elapsed_time=None if started is None or finished is None else max(finished - started, 0.0),
        inputs=payload.inputs,
        outputs=payload.outputs,
        error=payload.error,
        total_tokens=payload.total_tokens,
        total_steps=payload.total_steps,
        nodes=tuple(nodes),
        containers=tuple(containers),
    )


# --- workflow-level results: blocking response, run detail, logs --------------------------------


def _summary_run(data: Mapping[str, Any], run_id: Any, source: str, line: int, prefix: str) -> WorkflowRun:
    if not run_id:
        raise InputError(source, line, f"{prefix}id", "missing")
    checked_id(run_id, f"{prefix}id", source, line)
    checked_id(data.get("workflow_id"), f"{prefix}workflow_id", source, line)
    status = data.get("status")
    if not isinstance(status, str):
        raise InputError(source, line, f"{prefix}status", "missing or not a string")
    return WorkflowRun(
        run_id=str(run_id),
        status=status,
        workflow_id=_str(data.get("workflow_id")),
        created_at=timestamp(data.get("created_at"), f"{prefix}created_at", source, line),
        finished_at=timestamp(data.get("finished_at"), f"{prefix}finished_at", source, line),
        elapsed_time=number(data.get("elapsed_time"), f"{prefix}elapsed_time", source, line),
        inputs=_mapping(data.get("inputs"), f"{prefix}inputs", source, line),
        outputs=_mapping(data.get("outputs"), f"{prefix}outputs", source, line),
        error=_str(data.get("error")),
        total_tokens=integer(data.get("total_tokens"), f"{prefix}total_tokens", source, line),
        total_steps=integer(data.get("total_steps"), f"{prefix}total_steps", source, line),
        exceptions_count=integer(data.get("exceptions_count"), f"{prefix}exceptions_count", source, line),
    )


def _object(obj: Any, source: str, line: int) -> JSONDict:
    """`obj` with snake_case keys, if it is a JSON object; InputError otherwise."""
    if not isinstance(obj, dict):
        raise InputError(source, line, "", f"expected a JSON object, found {type(obj).__name__}")
    result: JSONDict = snake_keys(obj)
    return result


def normalize_blocking(obj: Any, source: str = "", line: int = 0) -> WorkflowRun:
    """`POST /v1/workflows/run` blocking response → a workflow-level `WorkflowRun`."""
    obj = _object(obj, source, line)
    data = obj.get("data")
    if not isinstance(data, dict):
        raise InputError(source, line, "data", "expected an object")
    run = _summary_run(data, obj.get("workflow_run_id") or data.get("id"), source, line, "data.")
    return replace(run, task_id=checked_id(obj.get("task_id"), "task_id", source, line))


def normalize_message(obj: Any, source: str = "", line: int = 0) -> WorkflowRun:
    """`POST /v1/chat-messages` blocking answer (`"event": "message"`) → a message-level `WorkflowRun`.

    Dify 1.14.1 leaves the workflow run id out of this answer, and its service API leads from a message to
    no run (`/v1/messages` items carry no `workflow_run_id`), so the message id stands in for the run id:
    the trace is the message's, apart from the run's trace that Dify's export or a stream gives. Dify
    answers a failed run with an error status, never with this shape, so the answer means it succeeded."""
    obj = _object(obj, source, line)
    message_id = checked_id(obj.get("message_id") or obj.get("id"), "message_id", source, line)
    if not message_id:
        raise InputError(source, line, "message_id", "missing")
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError(source, line, "metadata", "expected an object")
    usage = (metadata or {}).get("usage")
    resources = (metadata or {}).get("retriever_resources")
    answer = obj.get("answer")
    return WorkflowRun(
        run_id=message_id,
        status="succeeded",
        task_id=checked_id(obj.get("task_id"), "task_id", source, line),
        app_type=_str(obj.get("mode")),
        conversation_id=checked_id(obj.get("conversation_id"), "conversation_id", source, line),
        message_id=message_id,
        created_at=timestamp(obj.get("created_at"), "created_at", source, line),
        outputs={"answer": answer} if isinstance(answer, str) else None,
        message_usage=usage if isinstance(usage, dict) else None,
        retriever_resources=tuple(r for r in resources if isinstance(r, dict)) if isinstance(resources, list) else (),
    )


def normalize_run_detail(obj: Any, source: str = "", line: int = 0) -> WorkflowRun:
    """`GET /v1/workflows/run/{id}` → a workflow-level `WorkflowRun`."""
    obj = _object(obj, source, line)
    return _summary_run(obj, obj.get("id"), source, line, "")


def normalize_logs(obj: Any, source: str = "", line: int = 0) -> list[WorkflowRun]:
    """`GET /v1/workflows/logs` page → one workflow-level `WorkflowRun` per entry."""
    obj = _object(obj, source, line)
    entries = obj.get("data") or []
    if not isinstance(entries, list):
        raise InputError(source, line, "data", "expected a list")
    runs = []
    for position, entry in enumerate(entries):
        prefix = f"data.{position}.workflow_run."
        detail = entry.get("workflow_run") if isinstance(entry, dict) else None
        if not isinstance(detail, dict):
            raise InputError(source, line, f"data.{position}.workflow_run", "expected an object")
        user = entry.get("created_by_end_user") or {}
        run = _summary_run(detail, detail.get("id"), source, line, prefix)
        runs.append(replace(run, user_id=_str(user.get("session_id")) if isinstance(user, dict) else None))
    return runs

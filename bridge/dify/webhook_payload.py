"""The whole-run webhook payload (Pisama's shape, ISO 8601 times) → `WorkflowRun`: decoded straight from the
bytes when it is in the schema's exact shape, else read leniently; every field at fault named at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import msgspec

from bridge.dify.formats import InputError
from bridge.dify.model import NODE_STATUSES, RUN_STATUSES, ContainerRun, NodeRun, WorkflowRun
from bridge.dify.values import USER_DATA_KEYS, check_count, checked_id, snake_keys, timestamp


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
_WEBHOOK_PRESERVED = USER_DATA_KEYS | {"metadata"}
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
        faults.check(check_count, getattr(payload, key), key)
    nodes: list[NodeRun] = []
    containers: list[ContainerRun] = []
    seen: dict[str, int] = {}
    for position, node in enumerate(payload.nodes):
        faults.check(_node_status, node.status, "status", position)
        for key in ("node_id", "execution_id", "parent_node_id"):
            faults.check(checked_id, getattr(node, key), key, position)
        for key in ("token_count", "iteration_index", "loop_index"):
            faults.check(check_count, getattr(node, key), key, position)
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

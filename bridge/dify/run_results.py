"""Workflow-level results → `WorkflowRun`: a blocking run response, a blocking chat answer, `GET
/v1/workflows/run/{id}` and `GET /v1/workflows/logs`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from bridge.dify.formats import InputError, decode_json
from bridge.dify.model import JSONDict, WorkflowRun
from bridge.dify.values import checked_id, integer, number, snake_keys, text_or_none, timestamp


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
        workflow_id=text_or_none(data.get("workflow_id")),
        created_at=timestamp(data.get("created_at"), f"{prefix}created_at", source, line),
        finished_at=timestamp(data.get("finished_at"), f"{prefix}finished_at", source, line),
        elapsed_time=number(data.get("elapsed_time"), f"{prefix}elapsed_time", source, line),
        inputs=_mapping(data.get("inputs"), f"{prefix}inputs", source, line),
        outputs=_mapping(data.get("outputs"), f"{prefix}outputs", source, line),
        error=text_or_none(data.get("error")),
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
        app_type=text_or_none(obj.get("mode")),
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
        runs.append(replace(run, user_id=text_or_none(user.get("session_id")) if isinstance(user, dict) else None))
    return runs

"""Spans shaped as Dify's Arize Phoenix tracing provider exports a workflow run, made with the OTel SDK.

Every shape follows `langgenius/dify` `api/core/ops/arize_phoenix_trace/arize_phoenix_trace.py`
(`ensure_root_span`, `workflow_trace`, `set_span_status`, `_construct_llm_attributes`) and the workflow
metadata of `api/core/ops/ops_trace_manager.py` (`workflow_trace`): a `Dify` root ended at once, a
`workflow` span under it, one span per node execution (read back from Dify's database, so iteration and
loop nodes and each failed attempt of a retried node are executions of their own), exported one per request
by a `SimpleSpanProcessor`, the workflow span last. The runs come from the Dify 1.14.1 captures, so the
bridge's stream path and its OTLP path see the same run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, Status, StatusCode, set_span_in_context

from bridge.model import Attempt, ContainerRun, NodeRun, WorkflowRun

_NS = 1_000_000_000
_SPAN_KINDS = {"llm": "LLM", "knowledge-retrieval": "RETRIEVER", "tool": "TOOL", "agent": "AGENT"}


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _ns(seconds: float | None) -> int:
    return int((seconds or 0.0) * _NS)


@dataclass
class _Execution:
    """A row of Dify's workflow_node_executions, as the provider reads it."""

    id: str
    node_type: str
    title: str
    status: str
    created_at: float
    elapsed_time: float
    inputs: Mapping[str, Any] | None
    outputs: Mapping[str, Any] | None
    process_data: Mapping[str, Any] | None
    metadata: Mapping[str, Any]
    error: str | None


def _executions(run: WorkflowRun) -> list[_Execution]:
    """In creation order, as Dify's repository returns them (a container is created before its children)."""
    rows: list[tuple[float, int, int, _Execution]] = []
    for node in run.nodes:
        for attempt in node.retries:
            rows.append((node.created_at or 0.0, node.order, attempt.retry_index - 100, _attempt(node, attempt)))
        rows.append((node.created_at or 0.0, node.order, 0, _node(node)))
    for container in run.containers:
        rows.append((container.created_at or 0.0, container.order, 0, _container(run, container)))
    return [row[3] for row in sorted(rows, key=lambda row: row[:3])]


def _node(node: NodeRun) -> _Execution:
    meta = dict(node.execution_metadata)
    for key, value in (("iteration_id", node.iteration_id), ("iteration_index", node.iteration_index),
                       ("loop_id", node.loop_id), ("loop_index", node.loop_index)):  # fmt: skip
        if value is not None:
            meta[key] = value
    return _Execution(
        node.execution_id, node.node_type, node.title, node.status, node.created_at or 0.0, node.elapsed_time or 0.0,
        node.inputs, node.outputs, node.process_data, meta, node.error,
    )  # fmt: skip


def _attempt(node: NodeRun, attempt: Attempt) -> _Execution:
    return _Execution(f"{node.execution_id}-retry-{attempt.retry_index}", node.node_type, node.title, "retry",
                      attempt.created_at or node.created_at or 0.0, attempt.elapsed_time or 0.0, attempt.inputs,
                      attempt.outputs, attempt.process_data, dict(node.execution_metadata), attempt.error)  # fmt: skip


def _container(run: WorkflowRun, container: ContainerRun) -> _Execution:
    execution_id = container.execution_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run.run_id}/{container.node_id}"))
    meta = dict(container.execution_metadata)
    if container.total_tokens is not None:
        meta["total_tokens"] = container.total_tokens
    return _Execution(execution_id, container.node_type, container.title, container.status,
                      container.created_at or 0.0, container.elapsed_time or 0.0, container.inputs,
                      container.outputs, None, meta, container.error)  # fmt: skip


def _set_status(span: Span, error: str | None) -> None:
    if not error:
        span.set_status(Status(StatusCode.OK))
        return
    span.set_status(Status(StatusCode.ERROR, error))
    # The provider passes error strings, so the event's type is `str`.
    span.add_event("exception", {"exception.type": "str", "exception.message": error, "exception.escaped": False,
                                 "exception.stacktrace": error})  # fmt: skip


def _llm_attributes(process_data: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {"input.value": json.dumps(process_data.get("prompts", []), ensure_ascii=False)}
    if process_data.get("model_provider"):
        attributes["llm.provider"] = process_data["model_provider"]
    if process_data.get("model_name"):
        attributes["llm.model_name"] = process_data["model_name"]
    usage = process_data.get("usage") if "usage" in process_data else outputs.get("usage")
    if usage:
        attributes["llm.token_count.total"] = usage.get("total_tokens", 0)
        attributes["llm.token_count.prompt"] = usage.get("prompt_tokens", 0)
        attributes["llm.token_count.completion"] = usage.get("completion_tokens", 0)
    for i, message in enumerate(process_data.get("prompts") or []):
        if isinstance(message, dict):
            attributes[f"llm.input_messages.{i}.message.role"] = str(message.get("role", "user"))
            attributes[f"llm.input_messages.{i}.message.content"] = str(message.get("text") or "")
    return attributes


def export_run(run: WorkflowRun, exporter: SpanExporter, project: str = "dify-apps", app_id: str = "app-1") -> None:
    """Sends `run` through `exporter` as Dify's Phoenix provider would, one span per export call."""
    provider = TracerProvider(resource=Resource({"openinference.project.name": project, "model_id": project}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(f"arize_phoenix_tracer_{project}")
    dify_trace_id = run.message_id or run.run_id
    root = tracer.start_span("Dify")
    root.set_attribute("openinference.span.kind", "CHAIN")
    root.set_attribute("dify_project_name", project)
    root.set_attribute("dify_trace_id", dify_trace_id)
    root.set_status(Status(StatusCode.OK))
    root.end()
    metadata = {
        "workflow_id": run.workflow_id, "conversation_id": run.conversation_id, "workflow_run_id": run.run_id,
        "tenant_id": "tenant-1", "elapsed_time": run.elapsed_time, "status": run.status, "version": "draft",
        "total_tokens": run.total_tokens, "file_list": [], "triggered_from": "app-run", "user_id": run.user_id,
        "app_id": app_id, "created_from": "Dify", "trace_id": "", "message_id": run.message_id or "",
        "status_message": run.error or "", "level": "ERROR" if run.error else "DEFAULT",
        "trace_entity_type": "workflow", "workflow_app_log_id": "", "workflow_run_elapsed_time": run.elapsed_time,
        "workflow_run_version": "draft", "query": "",
    }  # fmt: skip
    workflow_attributes = {
        "openinference.span.kind": "CHAIN",
        "input.value": _dumps(run.inputs), "input.mime_type": "application/json",
        "output.value": _dumps(run.outputs), "output.mime_type": "application/json",
        "metadata": _dumps(metadata), "session.id": run.conversation_id or "",
    }  # fmt: skip
    workflow = tracer.start_span(
        "workflow", attributes=workflow_attributes, start_time=_ns(run.created_at), context=set_span_in_context(root)
    )
    for execution in _executions(run):
        node_metadata = {str(k): v for k, v in execution.metadata.items()}
        node_metadata.update({
            "node_id": execution.id, "node_type": execution.node_type, "node_status": execution.status,
            "tenant_id": "tenant-1", "app_id": app_id, "app_name": execution.title, "status": execution.status,
            "status_message": execution.error or "", "level": "ERROR" if execution.status == "failed" else "DEFAULT",
        })  # fmt: skip
        process_data, outputs = execution.process_data or {}, execution.outputs or {}
        if execution.node_type == "llm":
            if process_data.get("model_provider"):
                node_metadata["ls_provider"] = process_data["model_provider"]
            if process_data.get("model_name"):
                node_metadata["ls_model_name"] = process_data["model_name"]
        attributes = {
            "openinference.span.kind": _SPAN_KINDS.get(execution.node_type, "CHAIN"),
            "input.value": _dumps(execution.inputs or {}), "input.mime_type": "application/json",
            "output.value": _dumps(outputs), "output.mime_type": "application/json",
            "metadata": _dumps(node_metadata), "session.id": run.conversation_id or "",
        }  # fmt: skip
        span = tracer.start_span(
            execution.node_type, attributes=attributes, start_time=_ns(execution.created_at),
            context=set_span_in_context(workflow),
        )  # fmt: skip
        if execution.node_type == "llm":
            span.set_attributes(_llm_attributes(process_data, outputs))
        _set_status(span, execution.error if execution.status == "failed" else None)
        span.end(end_time=_ns(execution.created_at + execution.elapsed_time))
    _set_status(workflow, run.error)
    workflow.end(end_time=_ns(run.finished_at))
    provider.shutdown()

"""OTLP requests shaped as Dify's newer exporters send a workflow run; runs come from the Dify 1.14.1 captures.
READ FROM DIFY'S SOURCE, NOT VERIFIED: no Dify release we can run has these exporters, so no recording backs
them (Dify 1.14.1's own export, recorded, is in tests/dify_recordings.py).

- `provider_request`: Dify's OTLP tracing provider (main branch, after 1.14.1): `api/core/ops/workflow_trace.py`'s
  recorder makes the spans, `provider_export.span_attributes` their `dify.*` attributes and
  `otlp_trace.otlp_span` the OTLP span (structured values as kvlists and arrays, ids from UUIDs, the whole
  trace in one request).
- `enterprise_request`: Dify Enterprise telemetry, as `api/enterprise/telemetry/DATA_DICTIONARY.md` lists its
  `dify.workflow.run` and `dify.node.execution` span attributes.
"""

from __future__ import annotations

import uuid
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from bridge.dify.model import NodeRun, WorkflowRun

_NS = 1_000_000_000
_STATUS = {"succeeded": "ok", "exception": "handled_error", "failed": "error", "stopped": "cancelled"}


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=_attributes(value)))
    if isinstance(value, list | tuple):
        return AnyValue(array_value=ArrayValue(values=[_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def _attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in values.items() if v is not None]


def _id(*parts: str) -> bytes:
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).bytes[:8]


def _span(trace_id: bytes, span_id: bytes, parent: bytes, name: str, start: float | None, end: float | None,
          status: str, attributes: dict[str, Any]) -> Span:  # fmt: skip
    code = Status.STATUS_CODE_ERROR if status in ("error", "handled_error") else Status.STATUS_CODE_OK
    return Span(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=int((start or 0) * _NS), end_time_unix_nano=int((end or 0) * _NS),
        attributes=_attributes(attributes), status=Status(code=code, message=attributes.get("error.message") or ""),
        flags=1,
    )  # fmt: skip


def _node_attributes(run: WorkflowRun, node: NodeRun, attempt: int) -> dict[str, Any]:
    process_data = dict(node.process_data or {})
    llm = node.node_type == "llm"
    metadata = dict(node.execution_metadata)
    for key, value in (("iteration_id", node.iteration_id), ("iteration_index", node.iteration_index),
                       ("loop_id", node.loop_id), ("loop_index", node.loop_index)):  # fmt: skip
        if value is not None:
            metadata[key] = value
    return {
        "node_type": node.node_type, "node_version": "1", "index": node.order, "node_status": node.status,
        "metadata": metadata, "process_data": process_data or None,
        **{k: process_data[k] for k in ("model_name", "model_provider", "finish_reason") if k in process_data},
        "original_inputs": node.inputs if llm else None,
        "dify.workflow.run_id": run.run_id, "dify.node.execution_id": node.execution_id, "dify.node.id": node.node_id,
        "dify.node.attempt": attempt, "dify.span.name": node.title, "dify.span.type": node.node_type,
        "dify.span.status": _STATUS.get(node.status, "ok"),
        "dify.inputs": process_data.get("prompts") if llm else node.inputs, "dify.outputs": node.outputs,
        "dify.usage": process_data.get("usage"), "error.message": node.error,
    }  # fmt: skip


def provider_request(run: WorkflowRun, app_id: str = "app-1") -> ExportTraceServiceRequest:
    trace_id = uuid.uuid5(uuid.NAMESPACE_URL, f"dify:trace:{run.run_id}").bytes
    root_id = _id(run.run_id, "root")
    root = _span(trace_id, root_id, b"", "Workflow", run.created_at, run.finished_at, _STATUS.get(run.status, "ok"), {
        "workflow_run_status": run.status, "app_name": None, "dify.app_id": app_id, "dify.workflow.id": run.workflow_id,
        "dify.workflow.run_id": run.run_id, "dify.span.name": "Workflow", "dify.span.type": "workflow",
        "dify.span.status": _STATUS.get(run.status, "ok"), "dify.conversation.id": run.conversation_id,
        "dify.inputs": run.inputs, "dify.outputs": run.outputs, "error.message": run.error,
        "dify.usage": {"total_tokens": run.total_tokens} if run.total_tokens is not None else None,
    })  # fmt: skip
    spans = [root]
    container_ids = {c.node_id: _id(run.run_id, "container", c.node_id) for c in run.containers}
    for container in run.containers:
        spans.append(_span(trace_id, container_ids[container.node_id], root_id, container.title, container.created_at,
                           container.finished_at, _STATUS.get(container.status, "ok"), {
            "node_type": container.node_type, "node_status": container.status,
            "index": container.order,  # Dify numbers executions as they start, as the capture's arrival order
            "metadata": dict(container.execution_metadata), "dify.workflow.run_id": run.run_id,
            "dify.node.execution_id": f"exec-{container.node_id}", "dify.node.id": container.node_id,
            "dify.span.name": container.title, "dify.span.type": "node",
            "dify.span.status": _STATUS.get(container.status, "ok"), "dify.inputs": container.inputs,
            "dify.outputs": container.outputs,
        }))  # fmt: skip
    for node in run.nodes:
        parent = container_ids.get(node.iteration_id or node.loop_id or "", root_id)
        node_id = _id(run.run_id, node.execution_id)
        end = (node.created_at or 0) + (node.elapsed_time or 0)
        status = _STATUS.get(node.status, "ok")
        if not node.retries:
            spans.append(_span(trace_id, node_id, parent, node.title, node.created_at, end, status,
                               _node_attributes(run, node, 0)))  # fmt: skip
            continue
        # A retried node: its span sums up, one child per attempt, the last holding the result.
        summary = {**_node_attributes(run, node, len(node.retries)), "attempt_count": len(node.retries) + 1,
                   "dify.inputs": None, "dify.outputs": None, "dify.usage": None}  # fmt: skip
        spans.append(_span(trace_id, node_id, parent, node.title, node.created_at, end, status, summary))
        for attempt in node.retries:
            failed = {**_node_attributes(run, node, attempt.retry_index - 1), "node_status": "failed",
                      "dify.span.status": "error", "error.message": attempt.error,
                      "dify.inputs": attempt.inputs, "dify.outputs": attempt.outputs}  # fmt: skip
            spans.append(_span(trace_id, _id(run.run_id, node.execution_id, str(attempt.retry_index)), node_id,
                               f"{node.title} attempt {attempt.retry_index}", attempt.created_at,
                               attempt.finished_at, "error", failed))  # fmt: skip
        spans.append(_span(trace_id, _id(run.run_id, node.execution_id, "final"), node_id,
                           f"{node.title} attempt {len(node.retries) + 1}", node.created_at, end, status,
                           _node_attributes(run, node, len(node.retries))))  # fmt: skip
    resource = Resource(attributes=_attributes({"service.name": "dify"}))
    scope = ScopeSpans(scope=InstrumentationScope(name="dify.ops"), spans=spans)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=resource, scope_spans=[scope])])


def enterprise_request(run: WorkflowRun, app_id: str = "app-1") -> ExportTraceServiceRequest:
    trace_id = uuid.uuid5(uuid.NAMESPACE_URL, f"enterprise:{run.run_id}").bytes
    root_id = _id(run.run_id, "enterprise-root")
    common = {"dify.trace_id": run.run_id, "dify.tenant_id": "tenant-1", "dify.app_id": app_id,
              "dify.workflow.id": run.workflow_id, "dify.workflow.run_id": run.run_id,
              "dify.conversation.id": run.conversation_id, "dify.message.id": run.message_id}  # fmt: skip
    spans = [_span(trace_id, root_id, b"", "dify.workflow.run", run.created_at, run.finished_at,
                   _STATUS.get(run.status, "ok"), {**common, "dify.workflow.status": run.status,
                   "dify.workflow.error": run.error, "dify.workflow.elapsed_time": run.elapsed_time,
                   "dify.invoke_from": "api"})]  # fmt: skip
    executions: list[tuple[float, int, str, dict[str, Any], float | None, float | None]] = [
        (c.created_at or 0.0, c.order, c.title, {"dify.node.execution_id": f"exec-{c.node_id}",
         "dify.node.id": c.node_id, "dify.node.type": c.node_type, "dify.node.status": c.status,
         "dify.node.elapsed_time": c.elapsed_time,
         "dify.node.iteration_id": c.iteration_id, "dify.node.loop_id": c.loop_id}, c.created_at, c.finished_at)
        for c in run.containers
    ] + [
        (n.created_at or 0.0, n.order, n.title, {"dify.node.execution_id": n.execution_id, "dify.node.id": n.node_id,
         "dify.node.type": n.node_type, "dify.node.status": n.status, "dify.node.error": n.error,
         "dify.node.elapsed_time": n.elapsed_time, "dify.node.iteration_id": n.iteration_id,
         "dify.node.loop_id": n.loop_id, "dify.node.parallel_id": n.parallel_id},
         n.created_at, (n.created_at or 0.0) + (n.elapsed_time or 0.0))
        for n in run.nodes
    ]  # fmt: skip
    for _, order, title, attributes, start, end in sorted(executions, key=lambda e: e[:2]):
        status = _STATUS.get(str(attributes["dify.node.status"]), "ok")
        spans.append(_span(trace_id, _id(run.run_id, str(attributes["dify.node.execution_id"])), root_id,
                           "dify.node.execution", start, end, status,
                           {**common, **attributes, "dify.node.title": title, "dify.node.index": order}))  # fmt: skip
    resource = Resource(attributes=_attributes({"service.name": "dify", "host.name": "dify-api-1"}))
    scope = ScopeSpans(scope=InstrumentationScope(name="dify.enterprise"), spans=spans)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=resource, scope_spans=[scope])])

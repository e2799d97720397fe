"""A run rebuilt from Dify Enterprise's telemetry (`api/enterprise/telemetry`, DATA_DICTIONARY.md): read from
Dify's source, not verified against a recording."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.export_parts.provider import RUN_IDS, is_node_execution
from bridge.dify.export_parts.recognized import Recognized
from bridge.dify.export_parts.values import CONTAINER_TYPES, ids_fine, run_id_of, text_of, times_of
from bridge.dify.model import ContainerRun, NodeRun, WorkflowRun
from bridge.dify.values import as_int, as_number

# Spans `dify.workflow.run` and `dify.node.execution` (`.draft` for debug runs) carry ids, type, title,
# status, error, elapsed time, execution index and the enclosing iteration/loop/parallel ids; inputs,
# outputs, tokens and prices go to companion logs, not spans, so they are absent here, and without round
# indexes a container's nodes sit directly under it (no round spans).

_ENTERPRISE_NODE = ("dify.node.execution", "dify.node.execution.draft")


def _enterprise_node(span: ReadableSpan, order: int) -> NodeRun:
    attributes = span.attributes or {}
    elapsed = as_number(attributes.get("dify.node.elapsed_time"))
    return NodeRun(
        execution_id=str(attributes["dify.node.execution_id"]),
        node_id=text_of(attributes.get("dify.node.id")) or "",
        node_type=text_of(attributes.get("dify.node.type")) or "unknown",
        title=text_of(attributes.get("dify.node.title")) or span.name,
        status=text_of(attributes.get("dify.node.status")) or "succeeded",
        order=order,
        index=as_int(attributes.get("dify.node.index")),
        **{**times_of(span), **({"elapsed_time": elapsed} if elapsed is not None else {})},
        error=text_of(attributes.get("dify.node.error")),
        iteration_id=text_of(attributes.get("dify.node.iteration_id")),
        loop_id=text_of(attributes.get("dify.node.loop_id")),
        parallel_id=text_of(attributes.get("dify.node.parallel_id")),
    )


def recognize_enterprise(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    root = next((s for s in spans if s.name == "dify.workflow.run" and
                 run_id_of((s.attributes or {}).get("dify.workflow.run_id"))
                 and ids_fine(s.attributes or {}, *RUN_IDS)), None)  # fmt: skip
    if root is None or root.context is None:
        return None
    attributes = root.attributes or {}
    executions = sorted(
        (s for s in spans if s.name in _ENTERPRISE_NODE and is_node_execution(s)),
        key=lambda s: (s.start_time or 0, as_int((s.attributes or {}).get("dify.node.index")) or 0),
    )
    nodes = [_enterprise_node(span, position) for position, span in enumerate(executions)]
    containers = [
        ContainerRun(node_id=n.node_id or n.execution_id, node_type=n.node_type, title=n.title, status=n.status,
                     order=n.order, created_at=n.created_at, finished_at=n.finished_at, elapsed_time=n.elapsed_time,
                     error=n.error, iteration_id=n.iteration_id, loop_id=n.loop_id)
        for n in nodes if n.node_type in CONTAINER_TYPES
    ]  # fmt: skip
    elapsed = as_number(attributes.get("dify.workflow.elapsed_time"))
    run = WorkflowRun(
        run_id=str(attributes["dify.workflow.run_id"]),
        status=text_of(attributes.get("dify.workflow.status")) or "succeeded",
        receiver=receiver,
        workflow_id=text_of(attributes.get("dify.workflow.id")),
        app_id=text_of(attributes.get("dify.app_id")),
        app_name=text_of(root.resource.attributes.get("dify.app.name")),
        conversation_id=text_of(attributes.get("dify.conversation.id")),
        message_id=text_of(attributes.get("dify.message.id")),
        user_id=text_of(attributes.get("dify.invoked_by")),
        **{**times_of(root), **({"elapsed_time": elapsed} if elapsed is not None else {})},
        error=text_of(attributes.get("dify.workflow.error")),
        nodes=tuple(n for n in nodes if n.node_type not in CONTAINER_TYPES),
        containers=tuple(containers),
    )
    replaced = {s.context.span_id for s in (root, *executions) if s.context is not None}
    others = [s for s in spans if s.context is not None and s.context.span_id not in replaced]
    return Recognized(run, replaced, others)

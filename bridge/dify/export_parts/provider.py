"""A run rebuilt from Dify's OTLP provider's export (`api/core/ops/otlp_trace.py`, newer than 1.14.1): read from
Dify's source, not verified against a recording."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.export_parts.recognized import Recognized
from bridge.dify.export_parts.values import CONTAINER_TYPES, ids_fine, placement, run_id_of, text_of, times_of
from bridge.dify.model import Attempt, ContainerRun, JSONDict, NodeRun, WorkflowRun
from bridge.dify.values import as_int

# One request per trace, built from `core/ops/workflow_trace.py`'s recorder and `provider_export.py`'s
# `span_attributes`: a root `Workflow` span (`dify.span.type = workflow`, run status in `workflow_run_status`),
# a span per node execution under its parent execution (title as name; `dify.node.id` the graph node id,
# `dify.node.execution_id`; `dify.inputs`/`dify.outputs`/`dify.usage` as structured values; `node_type`,
# `node_status`, `index`, `metadata` (execution metadata), `process_data`, `original_inputs` (LLM nodes)).
# A retried node's span holds `attempt_count` and one child span per attempt (`dify.node.attempt`), the
# last of which carries the result.

# The ids the OTLP provider's and Enterprise's spans carry.
RUN_IDS = ("dify.workflow.id", "dify.app_id", "dify.conversation.id", "dify.message.id")
_NODE_IDS = ("dify.node.execution_id", "dify.node.id", "dify.node.iteration_id", "dify.node.loop_id",
             "dify.node.parallel_id")  # fmt: skip
_SPAN_STATUS = {"ok": "succeeded", "handled_error": "exception", "error": "failed", "cancelled": "stopped"}


def _provider_root(span: ReadableSpan) -> bool:
    attributes = span.attributes or {}
    return (
        attributes.get("dify.span.type") == "workflow" and run_id_of(attributes.get("dify.workflow.run_id")) is not None
        and ids_fine(attributes, *RUN_IDS)
    )  # fmt: skip


def is_node_execution(span: ReadableSpan) -> bool:
    """A span of a node execution (its own, or an attempt's) whose ids `normalize` would take."""
    attributes = span.attributes or {}
    return (
        bool(attributes.get("dify.node.execution_id"))
        and ids_fine(attributes, *_NODE_IDS)
        and ids_fine(_as_dict(attributes.get("metadata")) or {}, "iteration_id", "loop_id", "parallel_id")
    )


def _provider_status(attributes: Mapping[str, Any], key: str) -> str:
    return text_of(attributes.get(key)) or _SPAN_STATUS.get(str(attributes.get("dify.span.status")), "succeeded")


def _plain(value: Any) -> Any:
    """A decoded OTLP value as JSON data: arrays come back from OTLP as tuples, Dify's data has lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _as_dict(value: Any) -> JSONDict | None:
    return _plain(value) if isinstance(value, dict) else None


def _provider_node(span: ReadableSpan, attempts: list[ReadableSpan], order: int) -> NodeRun:
    """A node from its span, or from its last attempt's span when it was retried."""
    result = attempts[-1] if attempts else span
    attributes, own = result.attributes or {}, span.attributes or {}
    metadata = _as_dict(attributes.get("metadata")) or {}
    node_type = text_of(own.get("node_type")) or text_of(own.get("dify.span.type")) or "unknown"
    process_data = _as_dict(attributes.get("process_data"))
    usage = _as_dict(attributes.get("dify.usage"))
    if node_type == "llm" and usage and not (process_data or {}).get("usage"):
        process_data = {**(process_data or {}), "usage": usage}
    inputs = attributes.get("original_inputs") if node_type == "llm" else attributes.get("dify.inputs")
    return NodeRun(
        execution_id=str(own.get("dify.node.execution_id")),
        node_id=text_of(own.get("dify.node.id")) or "",
        node_type=node_type,
        title=text_of(own.get("dify.span.name")) or span.name,
        status=_provider_status(own, "node_status"),
        order=order,
        index=as_int(own.get("index")),
        **times_of(span),
        inputs=_as_dict(inputs),
        process_data=process_data,
        outputs=_as_dict(attributes.get("dify.outputs")),
        error=text_of(attributes.get("error.message")),
        execution_metadata=metadata,
        **placement(metadata),
        retries=tuple(
            Attempt(
                retry_index=index, status="failed", error=text_of((a.attributes or {}).get("error.message")),
                **times_of(a), inputs=_as_dict((a.attributes or {}).get("dify.inputs")),
                outputs=_as_dict((a.attributes or {}).get("dify.outputs")),
            )
            for index, a in enumerate(attempts[:-1], start=1)
        ),
    )  # fmt: skip


def _provider_container(span: ReadableSpan, order: int) -> ContainerRun:
    attributes = span.attributes or {}
    metadata = _as_dict(attributes.get("metadata")) or {}
    usage = _as_dict(attributes.get("aggregate_usage")) or {}
    return ContainerRun(
        node_id=text_of(attributes.get("dify.node.id")) or str(attributes.get("dify.node.execution_id")),
        node_type=str(attributes.get("node_type")),
        title=text_of(attributes.get("dify.span.name")) or span.name,
        status=_provider_status(attributes, "node_status"),
        order=order,
        **times_of(span),
        inputs=_as_dict(attributes.get("dify.inputs")),
        outputs=_as_dict(attributes.get("dify.outputs")),
        error=text_of(attributes.get("error.message")),
        execution_metadata=metadata,
        total_tokens=as_int(metadata.get("total_tokens")) or as_int(usage.get("total_tokens")),
        iteration_id=text_of(metadata.get("iteration_id")),
        loop_id=text_of(metadata.get("loop_id")),
        iteration_index=as_int(metadata.get("iteration_index")),
        loop_index=as_int(metadata.get("loop_index")),
    )


def recognize_provider(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    root = next((s for s in spans if _provider_root(s)), None)
    if root is None or root.context is None:
        return None
    root_attributes = root.attributes or {}
    executions = [s for s in spans if is_node_execution(s) and s is not root]
    by_execution: dict[str, list[ReadableSpan]] = {}
    for span in executions:
        by_execution.setdefault(str((span.attributes or {})["dify.node.execution_id"]), []).append(span)
    nodes: list[NodeRun] = []
    containers: list[ContainerRun] = []

    def creation(group: list[ReadableSpan]) -> tuple[int, int]:
        # Dify's execution index breaks ties between equal start times.
        index = min((i for s in group if (i := as_int((s.attributes or {}).get("index"))) is not None), default=1 << 62)
        return min(s.start_time or 0 for s in group), index

    ordered = sorted(by_execution.values(), key=creation)
    for position, group in enumerate(ordered):
        # The execution's own span is the one whose parent is not another span of the same execution; where
        # every one is (parents in a circle, which only a forged request holds), the first.
        own_ids = {s.context.span_id for s in group if s.context is not None}
        span = next((s for s in group if s.parent is None or s.parent.span_id not in own_ids), group[0])
        attempts = sorted((s for s in group if s is not span),
                          key=lambda s: as_int((s.attributes or {}).get("dify.node.attempt")) or 0)  # fmt: skip
        if (span.attributes or {}).get("node_type") in CONTAINER_TYPES:
            containers.append(_provider_container(span, position))
        else:
            nodes.append(_provider_node(span, attempts, position))
    replaced = {s.context.span_id for s in (root, *executions) if s.context is not None}
    usage = _as_dict(root_attributes.get("dify.usage")) or {}
    run = WorkflowRun(
        run_id=str(root_attributes["dify.workflow.run_id"]),
        status=_provider_status(root_attributes, "workflow_run_status"),
        receiver=receiver,
        workflow_id=text_of(root_attributes.get("dify.workflow.id")),
        app_id=text_of(root_attributes.get("dify.app_id")),
        app_name=text_of(root_attributes.get("app_name")),
        conversation_id=text_of(root_attributes.get("dify.conversation.id")),
        message_id=text_of(root_attributes.get("dify.message.id")),
        user_id=text_of(root_attributes.get("dify.user.id")),
        **times_of(root),
        inputs=_as_dict(root_attributes.get("dify.inputs")),
        outputs=_as_dict(root_attributes.get("dify.outputs")),
        error=text_of(root_attributes.get("error.message")),
        total_tokens=as_int(usage.get("total_tokens")),
        nodes=tuple(nodes),
        containers=tuple(containers),
    )
    others = [s for s in spans if s.context is not None and s.context.span_id not in replaced]
    return Recognized(run, replaced, others)

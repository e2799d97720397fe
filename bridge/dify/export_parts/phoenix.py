"""A run rebuilt from Dify 1.14.1's "Arize Phoenix" export (recorded: tests/testdata/dify-1.14.1-otlp*/): the
workflow span's metadata, its node spans, and a workflow used as a tool exported into its caller's trace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from bridge.dify.export_parts.phoenix_nodes import Execution, execution_of, nodes_of
from bridge.dify.export_parts.phoenix_spans import is_dify_root, is_node, is_workflow, phoenix_metadata
from bridge.dify.export_parts.recognized import Recognized
from bridge.dify.export_parts.values import mapping_of, run_id_of, seconds, span_elapsed, text_of
from bridge.dify.model import WorkflowRun
from bridge.dify.values import as_int, as_number


def _conversation(meta: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    """Only a chat app's conversation: for a plain workflow Dify puts the run id into `session.id`."""
    session = text_of(attributes.get("session.id"))
    if session == text_of(meta.get("workflow_run_id")):
        session = None
    return text_of(meta.get("conversation_id")) or session


def _caller(meta: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The run and node execution that started this run (a workflow used as a tool): `parent_trace_context`."""
    context = mapping_of(meta.get("parent_trace_context")) or {}
    return run_id_of(context.get("parent_workflow_run_id")), text_of(context.get("parent_node_execution_id"))


def _owners(spans: Sequence[ReadableSpan], workflows: set[int]) -> dict[int, int]:
    """Span id → the span id of the nearest workflow span above it, for every span whose parents lead to one
    within `spans`: a workflow used as a tool exports its run into the caller's trace, under the tool's span."""
    parents = {s.context.span_id: s.parent.span_id for s in spans if s.context is not None and s.parent is not None}
    owners: dict[int, int] = {}
    for span_id in parents:
        # The way up, in order; a cycle of parents (what a sender can make up) leads nowhere.
        above: dict[int, None] = {span_id: None}
        current = parents.get(span_id)
        while current is not None and current not in workflows and current not in owners and current not in above:
            above[current] = None
            current = parents.get(current)
        if current is None or current in above:
            continue
        owner = current if current in workflows else owners[current]
        owners.update(dict.fromkeys(above, owner))
    return owners


def recognize_phoenix(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    """Recognized by content, not names: the workflow span's metadata, the node spans' metadata (nodes in
    an iteration or loop are children of its span, the others of the workflow span) and the root's
    `dify_trace_id`. A run started by one of the run's nodes (a workflow used as a tool), when in the same
    spans, is rebuilt beside it (`nested`)."""
    # Each span's metadata decoded once.
    metas = {s.context.span_id: (s, phoenix_metadata(s)) for s in spans if s.context is not None}
    workflows = {span_id: span for span_id, (span, meta) in metas.items() if is_workflow(meta)}
    if not workflows:
        return None
    # The caller's run, where both are here: the one no other workflow started.
    main = next((w for i, w in workflows.items() if _caller(metas[i][1])[0] is None), next(iter(workflows.values())))
    owners = _owners(spans, set(workflows))
    executions: dict[int, list[Execution]] = {span_id: [] for span_id in workflows}
    for span_id, (span, meta) in metas.items():
        owner = owners.get(span_id)
        if owner is not None and span_id not in workflows and is_node(meta):
            executions[owner].append(execution_of(span, meta))
    replaced = set(workflows)
    replaced.update(e.span.context.span_id for group in executions.values() for e in group if e.span.context)
    replaced.update(s.context.span_id for s in spans if s.context is not None and is_dify_root(s))
    others = [s for s in spans if s.context is not None and s.context.span_id not in replaced]
    assert main.context is not None
    nested = [_phoenix_run(w, metas[i][1], executions[i], receiver) for i, w in workflows.items() if w is not main]
    main_id = main.context.span_id
    return Recognized(_phoenix_run(main, metas[main_id][1], executions[main_id], receiver), replaced, others, nested)


def _phoenix_run(
    workflow: ReadableSpan, meta: dict[str, Any], executions: list[Execution], receiver: str
) -> WorkflowRun:
    attributes = workflow.attributes or {}
    nodes, containers = nodes_of(executions)
    status = text_of(meta.get("status"))
    if status is None:
        status = "failed" if workflow.status.status_code is StatusCode.ERROR else "succeeded"
    elif status == "stopped" and workflow.status.status_code is StatusCode.ERROR:
        # Stopped while a node ran ("Aborted: User requested stop"): Dify's stream says `failed`, its stored run
        # `stopped`, its span is an error. As the stream (a run stopped between nodes is never exported).
        status = "failed"
    elapsed = as_number(meta.get("workflow_run_elapsed_time")) or as_number(meta.get("elapsed_time"))
    parent_run_id, parent_node_execution_id = _caller(meta)
    return WorkflowRun(
        run_id=str(text_of(meta["workflow_run_id"])),
        status=status,
        receiver=receiver,
        workflow_id=text_of(meta.get("workflow_id")),
        app_id=text_of(meta.get("app_id")),
        app_name=text_of(meta.get("app_name")),
        conversation_id=_conversation(meta, attributes),
        message_id=text_of(meta.get("message_id")),
        user_id=text_of(meta.get("user_id")),
        created_at=seconds(workflow.start_time),
        finished_at=seconds(workflow.end_time),
        elapsed_time=elapsed if elapsed is not None and elapsed > 0 else span_elapsed(workflow),
        inputs=mapping_of(attributes.get("input.value")),
        outputs=mapping_of(attributes.get("output.value")),
        error=text_of(meta.get("status_message")) or workflow.status.description,
        total_tokens=as_int(meta.get("total_tokens")),
        nodes=tuple(nodes),
        containers=tuple(containers),
        parent_run_id=parent_run_id,
        parent_node_execution_id=parent_node_execution_id,
    )

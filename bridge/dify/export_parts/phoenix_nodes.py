"""The nodes and iterations/loops of a run from its Phoenix node spans: retries folded into attempts, each node
put in the container execution and round it ran in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from bridge.dify.export_parts.values import (
    CONTAINER_TYPES,
    NS,
    json_value,
    mapping_of,
    placement,
    text_of,
    times_of,
)
from bridge.dify.model import Attempt, ContainerRun, JSONDict, NodeRun, Place
from bridge.dify.values import as_int

# Keys the Phoenix provider adds to a node's execution metadata: not part of Dify's own metadata.
_ADDED_NODE_KEYS = frozenset(
    {"node_id", "node_type", "node_status", "tenant_id", "app_id", "app_name", "status", "status_message", "level",
     "ls_provider", "ls_model_name", "prompt_tokens", "completion_tokens", "created_from"}
)  # fmt: skip
_ENUM_PREFIX = "WorkflowNodeExecutionMetadataKey."


def _execution_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    result = {}
    for key, value in meta.items():
        # Releases whose metadata keys were plain Enums wrote `WorkflowNodeExecutionMetadataKey.TOTAL_TOKENS`.
        name = key[len(_ENUM_PREFIX) :].lower() if key.startswith(_ENUM_PREFIX) else key
        if name not in _ADDED_NODE_KEYS:
            result[name] = value
    return result


def _llm_process_data(span: ReadableSpan, meta: Mapping[str, Any], outputs: JSONDict | None) -> dict[str, Any]:
    attributes = span.attributes or {}
    data: dict[str, Any] = {}
    prompts = json_value(attributes.get("input.value"))
    if isinstance(prompts, list):
        data["prompts"] = prompts
    provider = attributes.get("llm.provider") or meta.get("ls_provider")
    model = attributes.get("llm.model_name") or meta.get("ls_model_name")
    if provider:
        data["model_provider"] = provider
    if model:
        data["model_name"] = model
    if not isinstance((outputs or {}).get("usage"), dict):
        usage = {
            key: attributes[attribute]
            for key, attribute in (("prompt_tokens", "llm.token_count.prompt"),
                                   ("completion_tokens", "llm.token_count.completion"),
                                   ("total_tokens", "llm.token_count.total"))
            if attribute in attributes
        }  # fmt: skip
        if usage:
            data["usage"] = usage
    return data


@dataclass
class Execution:
    span: ReadableSpan
    meta: dict[str, Any]
    node_type: str
    status: str

    @property
    def execution_id(self) -> str:
        context = self.span.context
        return text_of(self.meta.get("node_id")) or (f"{context.span_id:016x}" if context else "")

    @property
    def title(self) -> str:
        return text_of(self.meta.get("app_name")) or self.node_type


def execution_of(span: ReadableSpan, meta: dict[str, Any]) -> Execution:
    node_type = text_of(meta.get("node_type")) or span.name
    status = text_of(meta.get("node_status")) or text_of(meta.get("status"))
    if status is None:
        status = "failed" if span.status.status_code is StatusCode.ERROR else "succeeded"
    return Execution(span, meta, node_type, status)


def _node(execution: Execution, order: int, retries: tuple[Attempt, ...]) -> NodeRun:
    span, meta = execution.span, execution.meta
    attributes = span.attributes or {}
    outputs = mapping_of(attributes.get("output.value"))
    execution_metadata = _execution_metadata(meta)
    is_llm = execution.node_type == "llm"
    return NodeRun(
        execution_id=execution.execution_id,
        node_id=execution.title,
        node_type=execution.node_type,
        title=execution.title,
        status=execution.status,
        order=order,
        **times_of(span),
        inputs=None if is_llm else mapping_of(attributes.get("input.value")),
        process_data=_llm_process_data(span, meta, outputs) if is_llm else None,
        outputs=outputs,
        error=text_of(meta.get("status_message"))
        or (span.status.description if execution.status == "failed" else None),
        execution_metadata=execution_metadata,
        **placement(execution_metadata),
        retries=retries,
    )


def _attempt(execution: Execution, index: int) -> Attempt:
    span = execution.span
    return Attempt(
        retry_index=index,
        status=execution.status,
        error=text_of(execution.meta.get("status_message")),
        **times_of(span),
        inputs=mapping_of((span.attributes or {}).get("input.value")),
        outputs=mapping_of((span.attributes or {}).get("output.value")),
    )


def _within(inner: ReadableSpan, outer: ReadableSpan, slack: int) -> bool:
    start, end = outer.start_time or 0, outer.end_time or 0
    return start - slack <= (inner.start_time or 0) <= end + slack


def _holder(span: ReadableSpan, candidates: list[Execution]) -> Execution | None:
    """The innermost of `candidates` whose time holds `span`'s start: exactly, else within a second (Dify stores
    times in whole seconds for some columns)."""
    for slack in (0, NS):
        holding = [c for c in candidates if _within(span, c.span, slack)]
        if holding:
            return max(holding, key=lambda c: c.span.start_time or 0)
    return None


@dataclass
class _Nesting:
    """Which container execution each node ran in and each container's graph id and place. Dify's export parents
    an iteration nested in another, and its rounds' nodes, wrongly (recorded, faults8 `aftenskole_*`: the inner
    one's nodes under the workflow span), but each span's metadata names its own container and round: the inner
    iteration's spans name the outer one and its round, the nodes in them the inner one and its round. Several
    executions of one container (one a round of the outer) are told apart by time."""

    holders: dict[str, Execution] = field(default_factory=dict)  # node execution id → its container execution
    graph_ids: dict[str, str] = field(default_factory=dict)  # container execution id → its graph node id
    places: dict[str, Place] = field(default_factory=dict)  # container execution id → the rounds around it


def _parent_of(execution: Execution) -> tuple[str | None, int | None]:
    meta = execution.meta
    if text_of(meta.get("iteration_id")):
        return text_of(meta.get("iteration_id")), as_int(meta.get("iteration_index"))
    return text_of(meta.get("loop_id")), as_int(meta.get("loop_index"))


def _nesting(containers: list[Execution], members: list[NodeRun], spans: dict[str, ReadableSpan]) -> _Nesting:
    """A node is held by the innermost container execution of its type whose time holds its start, not one that is
    itself inside the graph id the node names; that execution is given the graph id."""
    nesting = _Nesting()
    graph_ids = nesting.graph_ids
    for node in members:
        graph_id, node_type = (node.iteration_id, "iteration") if node.iteration_id else (node.loop_id, "loop")
        if graph_id is None:
            continue
        candidates = [c for c in containers if c.node_type == node_type and _parent_of(c)[0] != graph_id
                      and graph_ids.get(c.execution_id, graph_id) == graph_id]  # fmt: skip
        holder = _holder(spans[node.execution_id], candidates)
        if holder is not None:
            nesting.holders[node.execution_id] = holder
            graph_ids[holder.execution_id] = graph_id
    # An execution that ran no round (an inner iteration over an empty list) takes the graph id of one of the same
    # title in the same container.
    named = {(c.title, _parent_of(c)[0]): graph_ids[c.execution_id] for c in containers if c.execution_id in graph_ids}
    for c in containers:
        if c.execution_id not in graph_ids and (c.title, _parent_of(c)[0]) in named:
            graph_ids[c.execution_id] = named[c.title, _parent_of(c)[0]]

    def place(execution: Execution, seen: frozenset[str]) -> Place:
        parent_id, index = _parent_of(execution)
        if parent_id is None or execution.execution_id in seen:
            return ()
        parents = [c for c in containers if c is not execution and graph_ids.get(c.execution_id) == parent_id]
        parent = _holder(execution.span, parents)
        around = place(parent, seen | {execution.execution_id}) if parent is not None else ()
        return (*around, (parent_id, index))

    for c in containers:
        nesting.places[c.execution_id] = place(c, frozenset())
    return nesting


def _rounds(indexes: list[int | None]) -> tuple[int, ...]:
    """The rounds of a container from its members' indexes. A member without one was cut short by a stop (Dify
    writes the index when a node ends): it ran in the round after the last one that ended."""
    rounds = {i for i in indexes if i is not None}
    if None in indexes:
        rounds.add(max(rounds, default=-1) + 1)
    return tuple(sorted(rounds))


def _container(execution: Execution, nesting: _Nesting, order: int, members: list[NodeRun]) -> ContainerRun:
    span, meta = execution.span, _execution_metadata(execution.meta)
    loop = execution.node_type == "loop"
    graph_id = nesting.graph_ids.get(execution.execution_id)
    mine = [n for n in members if nesting.holders.get(n.execution_id) is execution]
    return ContainerRun(
        node_id=graph_id or execution.execution_id,
        node_type=execution.node_type,
        title=execution.title,
        status=execution.status,
        order=order,
        **times_of(span),
        inputs=mapping_of((span.attributes or {}).get("input.value")),
        outputs=mapping_of((span.attributes or {}).get("output.value")),
        error=text_of(execution.meta.get("status_message")),
        execution_metadata=meta,
        rounds=_rounds([n.loop_index if loop else n.iteration_index for n in mine]),
        total_tokens=as_int(meta.get("total_tokens")),
        iteration_id=text_of(meta.get("iteration_id")),
        loop_id=text_of(meta.get("loop_id")),
        iteration_index=as_int(meta.get("iteration_index")),
        loop_index=as_int(meta.get("loop_index")),
        outer=nesting.places[execution.execution_id][:-1],
    )


def nodes_of(executions: list[Execution]) -> tuple[list[NodeRun], list[ContainerRun]]:
    # Dify sends executions in creation order: arrival breaks ties between equal start times.
    executions = sorted(executions, key=lambda e: e.span.start_time or 0)
    nodes: list[NodeRun] = []
    # Dify records each failed attempt of a retried node as an execution with status `retry`: they become
    # the attempts of the next execution of the same node.
    pending: dict[tuple[str, str, int | None, int | None], list[Execution]] = {}
    containers: list[Execution] = []
    orders: dict[str, int] = {}
    for position, execution in enumerate(executions):
        orders[execution.execution_id] = position
        if execution.node_type in CONTAINER_TYPES:
            containers.append(execution)
            continue
        meta = execution.meta
        key = (
            execution.node_type,
            execution.title,
            as_int(meta.get("iteration_index")),
            as_int(meta.get("loop_index")),
        )
        if execution.status == "retry":
            pending.setdefault(key, []).append(execution)
            continue
        attempts = tuple(_attempt(e, i + 1) for i, e in enumerate(pending.pop(key, [])))
        nodes.append(_node(execution, position, attempts))
    spans = {e.execution_id: e.span for e in executions}
    nesting = _nesting(containers, nodes, spans)
    container_runs = [_container(c, nesting, orders[c.execution_id], nodes) for c in containers]
    nodes = [
        replace(n, outer=nesting.places[holder.execution_id]) if (holder := nesting.holders.get(n.execution_id)) else n
        for n in nodes
    ]
    return nodes, container_runs

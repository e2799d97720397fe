"""Spans that Dify's own tracing export sent → the `WorkflowRun` they were made from, so a run that reached
the bridge through Dify's tracing settings becomes the same trace the stream path builds.

Dify 1.14.1's "Arize Phoenix" provider (recorded: tests/testdata/dify-1.14.1-otlp*/) exports a run about 5 s
after it ended, one span per request, all in one trace with a random trace id:
- a root span named `<run id>` (`Dify` in older releases, read from source), created at export time, with
  `dify_trace_id`; it is sent first;
- the workflow span `workflow_<run id>` (older: `workflow`) under it, sent last: OpenInference
  `input.value`/`output.value`, `session.id` (a plain workflow's run id, a chatflow's conversation id), and a
  `metadata` JSON attribute with `workflow_run_id`, `app_id`, `workflow_id`, `conversation_id`, `message_id`,
  `status`, `status_message`, `total_tokens`, `elapsed_time`, `trace_entity_type: "workflow"`, and, for a
  workflow used as a tool, `parent_trace_context` (its workflow span then sits under the caller's tool span);
- one span per node execution, `<node_type>_<title>`, under the workflow span or under its iteration's or
  loop's span; `metadata` holds the node's execution metadata (tokens, `total_price`, `currency`,
  `iteration_id`/`iteration_index`, `loop_id`/`loop_index`, `error_strategy`, ...) plus `node_id` (the
  *execution* id), `node_type`, `node_status`, `status_message` and `app_name` (the node *title*). LLM nodes
  replace `input.value` with the prompt messages and add `llm.provider`, `llm.model_name`, `llm.token_count.*`.
They are recognized by that content, not by their names. A retried node is one span (no attempts).

Dify's newer OTLP provider and Dify Enterprise's telemetry (sections below) are read from Dify's source, not
verified against a recording.

Lost on Dify's side, so absent here too (docs/traces.md lists it all): the graph node id (the title stands in
for `dify.node.id`; an iteration or loop gets its graph id back from its children's `iteration_id`/`loop_id`),
the inputs of LLM nodes (only their prompts are sent), process data other than model and usage, retries,
stream-only events. Round spans are rebuilt from the children's `iteration_index`/`loop_index`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, StatusCode

from bridge.dify.formats import decode_json
from bridge.dify.model import Attempt, ContainerRun, JSONDict, NodeRun, Place, WorkflowRun
from bridge.dify.normalize import as_int, as_number, id_fault
from bridge.trace.otlp_spans import moved

_NS = 1_000_000_000
_CONTAINER_TYPES = ("iteration", "loop")
# Keys the Phoenix provider adds to a node's execution metadata: not part of Dify's own metadata.
_ADDED_NODE_KEYS = frozenset(
    {"node_id", "node_type", "node_status", "tenant_id", "app_id", "app_name", "status", "status_message", "level",
     "ls_provider", "ls_model_name", "prompt_tokens", "completion_tokens", "created_from"}
)  # fmt: skip
_ENUM_PREFIX = "WorkflowNodeExecutionMetadataKey."
# The Phoenix provider's tracer is `arize_phoenix_tracer_<project>` (1.14.1, recorded).
_PHOENIX_SCOPE = "arize_phoenix_tracer"


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return decode_json(value)
    except ValueError:
        return value


def _metadata(span: ReadableSpan) -> dict[str, Any]:
    """The span's `metadata` JSON, decoded ({} when it has none)."""
    attributes = span.attributes or {}
    meta = _json(attributes["metadata"]) if "metadata" in attributes else None
    return meta if isinstance(meta, dict) else {}


def _text(value: Any) -> str | None:
    """An id, name or message: strings and numbers only (anything else in the metadata is not one)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        return None
    return str(value)


def _run_id(value: Any) -> str | None:
    """A run id as `normalize` takes them (printable, not too long), or None: a span naming any other is no run's
    and passes through as sent."""
    text = _text(value)
    return text if text is not None and id_fault(text) is None else None


def _ids_fine(values: Mapping[str, Any], *keys: str) -> bool:
    """Whether the ids at `keys` are absent or ones `normalize` takes: a span with any other is not rebuilt."""
    return all((text := _text(values.get(key))) is None or id_fault(text) is None for key in keys)


def _mapping(value: Any) -> JSONDict | None:
    decoded = _json(value)
    return decoded if isinstance(decoded, dict) else None


def _is_workflow(meta: Mapping[str, Any]) -> bool:
    """The metadata of a Phoenix-provider workflow span, whatever the span is named (`workflow` in older
    releases, `workflow_<run id>` in 1.14.1): the run's own entity, with its run id."""
    return (
        _run_id(meta.get("workflow_run_id")) is not None and "node_type" not in meta
        and meta.get("trace_entity_type") in ("workflow", None)
        and _ids_fine(meta, "app_id", "workflow_id", "conversation_id", "message_id")
        and _ids_fine(_mapping(meta.get("parent_trace_context")) or {}, "parent_node_execution_id")
    )  # fmt: skip


def _is_node(meta: Mapping[str, Any]) -> bool:
    """The metadata of a Phoenix-provider node span: it names the node type and the execution (`node_id`)."""
    return (
        _text(meta.get("node_type")) is not None and _text(meta.get("node_id")) is not None
        and _ids_fine(meta, "node_id", "iteration_id", "loop_id", "parallel_id")
    )  # fmt: skip


def is_workflow_span(span: ReadableSpan) -> bool:
    """A Phoenix-provider workflow span (of any run, a nested one included)."""
    return _is_workflow(_metadata(span))


def closes_trace(span: ReadableSpan) -> bool:
    """The workflow span of a run no other run started: Dify exports it after its nodes, so the trace is
    complete once it is in. A nested run's (a workflow used as a tool) may come before the caller's."""
    meta = _metadata(span)
    return _is_workflow(meta) and "parent_trace_context" not in meta


def awaits_nested_run(spans: Sequence[ReadableSpan]) -> bool:
    """Whether the trace holds node spans of a run whose workflow span has not come: a workflow used as a tool,
    which Dify exports in a task of its own, seconds after its caller at times, its workflow span last (under
    the caller's tool span). Rebuilt without it, those nodes would be passed through as Dify sent them."""
    ids = {s.context.span_id for s in spans if s.context is not None}
    return any(s.parent is not None and s.parent.span_id not in ids and _is_node(_metadata(s)) for s in spans)


def _is_dify_root(span: ReadableSpan) -> bool:
    """The span the provider opens for a Dify trace (`Dify` in older releases, the run id in 1.14.1): it
    carries `dify_trace_id` and stands for nothing but the trace."""
    return span.parent is None and "dify_trace_id" in (span.attributes or {})


def is_api_check(span: ReadableSpan) -> bool:
    """The span Dify sends when a trace config is saved (`api_check`, attribute `test`, Phoenix's tracer): a
    connection check, not a run. Another sender's span of that name goes on as it came."""
    return (
        span.name == "api_check" and span.parent is None and "test" in (span.attributes or {})
        and span.instrumentation_scope is not None and span.instrumentation_scope.name.startswith(_PHOENIX_SCOPE)
    )  # fmt: skip


def looks_like_dify(spans: Sequence[ReadableSpan]) -> bool:
    """A trace some span of which Dify's Phoenix provider made (its tracer scope, its root's `dify_trace_id`, a
    node's metadata): one that should have been rebuilt."""
    return any(
        (s.instrumentation_scope is not None and s.instrumentation_scope.name.startswith(_PHOENIX_SCOPE))
        or _is_dify_root(s) or _is_node(_metadata(s))
        for s in spans
    )  # fmt: skip


def _seconds(ns: int | None) -> float | None:
    return None if not ns else ns / _NS


def _elapsed(span: ReadableSpan) -> float | None:
    if not span.start_time or not span.end_time:
        return None
    # Rounded as Dify rounds the `elapsed_time` its stream reports (microseconds), so both paths agree.
    return round(max(span.end_time - span.start_time, 0) / _NS, 6)


def _placement(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Where a node ran, from its execution metadata: enclosing iteration/loop and round, parallel branch."""
    return {
        "iteration_id": _text(metadata.get("iteration_id")), "loop_id": _text(metadata.get("loop_id")),
        "iteration_index": as_int(metadata.get("iteration_index")), "loop_index": as_int(metadata.get("loop_index")),
        "parallel_id": _text(metadata.get("parallel_id")), "agent_strategy": _text(metadata.get("agent_strategy")),
    }  # fmt: skip


def _times(span: ReadableSpan) -> dict[str, Any]:
    """`created_at`, `finished_at` and `elapsed_time` of an execution, from its span's times."""
    return {"created_at": _seconds(span.start_time), "finished_at": _seconds(span.end_time),
            "elapsed_time": _elapsed(span)}  # fmt: skip


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
    prompts = _json(attributes.get("input.value"))
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
class _Execution:
    span: ReadableSpan
    meta: dict[str, Any]
    node_type: str
    status: str

    @property
    def execution_id(self) -> str:
        context = self.span.context
        return _text(self.meta.get("node_id")) or (f"{context.span_id:016x}" if context else "")

    @property
    def title(self) -> str:
        return _text(self.meta.get("app_name")) or self.node_type


def _execution(span: ReadableSpan, meta: dict[str, Any]) -> _Execution:
    node_type = _text(meta.get("node_type")) or span.name
    status = _text(meta.get("node_status")) or _text(meta.get("status"))
    if status is None:
        status = "failed" if span.status.status_code is StatusCode.ERROR else "succeeded"
    return _Execution(span, meta, node_type, status)


def _node(execution: _Execution, order: int, retries: tuple[Attempt, ...]) -> NodeRun:
    span, meta = execution.span, execution.meta
    attributes = span.attributes or {}
    outputs = _mapping(attributes.get("output.value"))
    execution_metadata = _execution_metadata(meta)
    is_llm = execution.node_type == "llm"
    return NodeRun(
        execution_id=execution.execution_id,
        node_id=execution.title,
        node_type=execution.node_type,
        title=execution.title,
        status=execution.status,
        order=order,
        **_times(span),
        inputs=None if is_llm else _mapping(attributes.get("input.value")),
        process_data=_llm_process_data(span, meta, outputs) if is_llm else None,
        outputs=outputs,
        error=_text(meta.get("status_message")) or (span.status.description if execution.status == "failed" else None),
        execution_metadata=execution_metadata,
        **_placement(execution_metadata),
        retries=retries,
    )


def _attempt(execution: _Execution, index: int) -> Attempt:
    span = execution.span
    return Attempt(
        retry_index=index,
        status=execution.status,
        error=_text(execution.meta.get("status_message")),
        **_times(span),
        inputs=_mapping((span.attributes or {}).get("input.value")),
        outputs=_mapping((span.attributes or {}).get("output.value")),
    )


def _within(inner: ReadableSpan, outer: ReadableSpan, slack: int) -> bool:
    start, end = outer.start_time or 0, outer.end_time or 0
    return start - slack <= (inner.start_time or 0) <= end + slack


def _holder(span: ReadableSpan, candidates: list[_Execution]) -> _Execution | None:
    """The innermost of `candidates` whose time holds `span`'s start: exactly, else within a second (Dify stores
    times in whole seconds for some columns)."""
    for slack in (0, _NS):
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

    holders: dict[str, _Execution] = field(default_factory=dict)  # node execution id → its container execution
    graph_ids: dict[str, str] = field(default_factory=dict)  # container execution id → its graph node id
    places: dict[str, Place] = field(default_factory=dict)  # container execution id → the rounds around it


def _parent_of(execution: _Execution) -> tuple[str | None, int | None]:
    meta = execution.meta
    if _text(meta.get("iteration_id")):
        return _text(meta.get("iteration_id")), as_int(meta.get("iteration_index"))
    return _text(meta.get("loop_id")), as_int(meta.get("loop_index"))


def _nesting(containers: list[_Execution], members: list[NodeRun], spans: dict[str, ReadableSpan]) -> _Nesting:
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

    def place(execution: _Execution, seen: frozenset[str]) -> Place:
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


def _container(execution: _Execution, nesting: _Nesting, order: int, members: list[NodeRun]) -> ContainerRun:
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
        **_times(span),
        inputs=_mapping((span.attributes or {}).get("input.value")),
        outputs=_mapping((span.attributes or {}).get("output.value")),
        error=_text(execution.meta.get("status_message")),
        execution_metadata=meta,
        rounds=_rounds([n.loop_index if loop else n.iteration_index for n in mine]),
        total_tokens=as_int(meta.get("total_tokens")),
        iteration_id=_text(meta.get("iteration_id")),
        loop_id=_text(meta.get("loop_id")),
        iteration_index=as_int(meta.get("iteration_index")),
        loop_index=as_int(meta.get("loop_index")),
        outer=nesting.places[execution.execution_id][:-1],
    )


def _nodes(executions: list[_Execution]) -> tuple[list[NodeRun], list[ContainerRun]]:
    # Dify sends executions in creation order: arrival breaks ties between equal start times.
    executions = sorted(executions, key=lambda e: e.span.start_time or 0)
    nodes: list[NodeRun] = []
    # Dify records each failed attempt of a retried node as an execution with status `retry`: they become
    # the attempts of the next execution of the same node.
    pending: dict[tuple[str, str, int | None, int | None], list[_Execution]] = {}
    containers: list[_Execution] = []
    orders: dict[str, int] = {}
    for position, execution in enumerate(executions):
        orders[execution.execution_id] = position
        if execution.node_type in _CONTAINER_TYPES:
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


@dataclass
class Recognized:
    """A Dify workflow run rebuilt from its exported spans, and the trace's other spans."""

    run: WorkflowRun
    replaced: set[int] = field(default_factory=set)  # span ids the rebuilt runs stand for
    others: list[ReadableSpan] = field(default_factory=list)
    # Runs the run's nodes started (a workflow used as a tool), when their spans came with it: each its own trace.
    nested: list[WorkflowRun] = field(default_factory=list)


def recognize(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    """The Dify workflow run in one trace's spans, or None when the trace holds no Dify workflow span."""
    return (
        _recognize_phoenix(spans, receiver)
        or _recognize_provider(spans, receiver)
        or _recognize_enterprise(spans, receiver)
    )


def _conversation(meta: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    """Only a chat app's conversation: for a plain workflow Dify puts the run id into `session.id`."""
    session = _text(attributes.get("session.id"))
    if session == _text(meta.get("workflow_run_id")):
        session = None
    return _text(meta.get("conversation_id")) or session


def _caller(meta: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The run and node execution that started this run (a workflow used as a tool): `parent_trace_context`."""
    context = _mapping(meta.get("parent_trace_context")) or {}
    return _run_id(context.get("parent_workflow_run_id")), _text(context.get("parent_node_execution_id"))


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


def _recognize_phoenix(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    """Recognized by content, not names: the workflow span's metadata, the node spans' metadata (nodes in
    an iteration or loop are children of its span, the others of the workflow span) and the root's
    `dify_trace_id`. A run started by one of the run's nodes (a workflow used as a tool), when in the same
    spans, is rebuilt beside it (`nested`)."""
    # Each span's metadata decoded once.
    metas = {s.context.span_id: (s, _metadata(s)) for s in spans if s.context is not None}
    workflows = {span_id: span for span_id, (span, meta) in metas.items() if _is_workflow(meta)}
    if not workflows:
        return None
    # The caller's run, where both are here: the one no other workflow started.
    main = next((w for i, w in workflows.items() if _caller(metas[i][1])[0] is None), next(iter(workflows.values())))
    owners = _owners(spans, set(workflows))
    executions: dict[int, list[_Execution]] = {span_id: [] for span_id in workflows}
    for span_id, (span, meta) in metas.items():
        owner = owners.get(span_id)
        if owner is not None and span_id not in workflows and _is_node(meta):
            executions[owner].append(_execution(span, meta))
    replaced = set(workflows)
    replaced.update(e.span.context.span_id for group in executions.values() for e in group if e.span.context)
    replaced.update(s.context.span_id for s in spans if s.context is not None and _is_dify_root(s))
    others = [s for s in spans if s.context is not None and s.context.span_id not in replaced]
    assert main.context is not None
    nested = [_phoenix_run(w, metas[i][1], executions[i], receiver) for i, w in workflows.items() if w is not main]
    main_id = main.context.span_id
    return Recognized(_phoenix_run(main, metas[main_id][1], executions[main_id], receiver), replaced, others, nested)


def _phoenix_run(
    workflow: ReadableSpan, meta: dict[str, Any], executions: list[_Execution], receiver: str
) -> WorkflowRun:
    attributes = workflow.attributes or {}
    nodes, containers = _nodes(executions)
    status = _text(meta.get("status"))
    if status is None:
        status = "failed" if workflow.status.status_code is StatusCode.ERROR else "succeeded"
    elif status == "stopped" and workflow.status.status_code is StatusCode.ERROR:
        # Stopped while a node ran ("Aborted: User requested stop"): Dify's stream says `failed`, its stored run
        # `stopped`, its span is an error. As the stream (a run stopped between nodes is never exported).
        status = "failed"
    elapsed = as_number(meta.get("workflow_run_elapsed_time")) or as_number(meta.get("elapsed_time"))
    parent_run_id, parent_node_execution_id = _caller(meta)
    return WorkflowRun(
        run_id=str(_text(meta["workflow_run_id"])),
        status=status,
        receiver=receiver,
        workflow_id=_text(meta.get("workflow_id")),
        app_id=_text(meta.get("app_id")),
        app_name=_text(meta.get("app_name")),
        conversation_id=_conversation(meta, attributes),
        message_id=_text(meta.get("message_id")),
        user_id=_text(meta.get("user_id")),
        created_at=_seconds(workflow.start_time),
        finished_at=_seconds(workflow.end_time),
        elapsed_time=elapsed if elapsed is not None and elapsed > 0 else _elapsed(workflow),
        inputs=_mapping(attributes.get("input.value")),
        outputs=_mapping(attributes.get("output.value")),
        error=_text(meta.get("status_message")) or workflow.status.description,
        total_tokens=as_int(meta.get("total_tokens")),
        nodes=tuple(nodes),
        containers=tuple(containers),
        parent_run_id=parent_run_id,
        parent_node_execution_id=parent_node_execution_id,
    )


# --- Dify's OTLP provider (`api/core/ops/otlp_trace.py`, newer than 1.14.1) ------------------------------
#
# One request per trace, built from `core/ops/workflow_trace.py`'s recorder and `provider_export.py`'s
# `span_attributes`: a root `Workflow` span (`dify.span.type = workflow`, run status in `workflow_run_status`),
# a span per node execution under its parent execution (title as name; `dify.node.id` the graph node id,
# `dify.node.execution_id`; `dify.inputs`/`dify.outputs`/`dify.usage` as structured values; `node_type`,
# `node_status`, `index`, `metadata` (execution metadata), `process_data`, `original_inputs` (LLM nodes)).
# A retried node's span holds `attempt_count` and one child span per attempt (`dify.node.attempt`), the
# last of which carries the result.

# The ids the OTLP provider's and Enterprise's spans carry.
_RUN_IDS = ("dify.workflow.id", "dify.app_id", "dify.conversation.id", "dify.message.id")
_NODE_IDS = ("dify.node.execution_id", "dify.node.id", "dify.node.iteration_id", "dify.node.loop_id",
             "dify.node.parallel_id")  # fmt: skip
_SPAN_STATUS = {"ok": "succeeded", "handled_error": "exception", "error": "failed", "cancelled": "stopped"}


def _provider_root(span: ReadableSpan) -> bool:
    attributes = span.attributes or {}
    return (
        attributes.get("dify.span.type") == "workflow" and _run_id(attributes.get("dify.workflow.run_id")) is not None
        and _ids_fine(attributes, *_RUN_IDS)
    )  # fmt: skip


def _provider_execution(span: ReadableSpan) -> bool:
    """A span of a node execution (its own, or an attempt's) whose ids `normalize` would take."""
    attributes = span.attributes or {}
    return (
        bool(attributes.get("dify.node.execution_id"))
        and _ids_fine(attributes, *_NODE_IDS)
        and _ids_fine(_as_dict(attributes.get("metadata")) or {}, "iteration_id", "loop_id", "parallel_id")
    )


def _provider_status(attributes: Mapping[str, Any], key: str) -> str:
    return _text(attributes.get(key)) or _SPAN_STATUS.get(str(attributes.get("dify.span.status")), "succeeded")


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
    node_type = _text(own.get("node_type")) or _text(own.get("dify.span.type")) or "unknown"
    process_data = _as_dict(attributes.get("process_data"))
    usage = _as_dict(attributes.get("dify.usage"))
    if node_type == "llm" and usage and not (process_data or {}).get("usage"):
        process_data = {**(process_data or {}), "usage": usage}
    inputs = attributes.get("original_inputs") if node_type == "llm" else attributes.get("dify.inputs")
    return NodeRun(
        execution_id=str(own.get("dify.node.execution_id")),
        node_id=_text(own.get("dify.node.id")) or "",
        node_type=node_type,
        title=_text(own.get("dify.span.name")) or span.name,
        status=_provider_status(own, "node_status"),
        order=order,
        index=as_int(own.get("index")),
        **_times(span),
        inputs=_as_dict(inputs),
        process_data=process_data,
        outputs=_as_dict(attributes.get("dify.outputs")),
        error=_text(attributes.get("error.message")),
        execution_metadata=metadata,
        **_placement(metadata),
        retries=tuple(
            Attempt(
                retry_index=index, status="failed", error=_text((a.attributes or {}).get("error.message")),
                **_times(a), inputs=_as_dict((a.attributes or {}).get("dify.inputs")),
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
        node_id=_text(attributes.get("dify.node.id")) or str(attributes.get("dify.node.execution_id")),
        node_type=str(attributes.get("node_type")),
        title=_text(attributes.get("dify.span.name")) or span.name,
        status=_provider_status(attributes, "node_status"),
        order=order,
        **_times(span),
        inputs=_as_dict(attributes.get("dify.inputs")),
        outputs=_as_dict(attributes.get("dify.outputs")),
        error=_text(attributes.get("error.message")),
        execution_metadata=metadata,
        total_tokens=as_int(metadata.get("total_tokens")) or as_int(usage.get("total_tokens")),
        iteration_id=_text(metadata.get("iteration_id")),
        loop_id=_text(metadata.get("loop_id")),
        iteration_index=as_int(metadata.get("iteration_index")),
        loop_index=as_int(metadata.get("loop_index")),
    )


def _recognize_provider(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    root = next((s for s in spans if _provider_root(s)), None)
    if root is None or root.context is None:
        return None
    root_attributes = root.attributes or {}
    executions = [s for s in spans if _provider_execution(s) and s is not root]
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
        if (span.attributes or {}).get("node_type") in _CONTAINER_TYPES:
            containers.append(_provider_container(span, position))
        else:
            nodes.append(_provider_node(span, attempts, position))
    replaced = {s.context.span_id for s in (root, *executions) if s.context is not None}
    usage = _as_dict(root_attributes.get("dify.usage")) or {}
    run = WorkflowRun(
        run_id=str(root_attributes["dify.workflow.run_id"]),
        status=_provider_status(root_attributes, "workflow_run_status"),
        receiver=receiver,
        workflow_id=_text(root_attributes.get("dify.workflow.id")),
        app_id=_text(root_attributes.get("dify.app_id")),
        app_name=_text(root_attributes.get("app_name")),
        conversation_id=_text(root_attributes.get("dify.conversation.id")),
        message_id=_text(root_attributes.get("dify.message.id")),
        user_id=_text(root_attributes.get("dify.user.id")),
        **_times(root),
        inputs=_as_dict(root_attributes.get("dify.inputs")),
        outputs=_as_dict(root_attributes.get("dify.outputs")),
        error=_text(root_attributes.get("error.message")),
        total_tokens=as_int(usage.get("total_tokens")),
        nodes=tuple(nodes),
        containers=tuple(containers),
    )
    others = [s for s in spans if s.context is not None and s.context.span_id not in replaced]
    return Recognized(run, replaced, others)


# --- Dify Enterprise telemetry (`api/enterprise/telemetry`, DATA_DICTIONARY.md) ---------------------------
#
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
        node_id=_text(attributes.get("dify.node.id")) or "",
        node_type=_text(attributes.get("dify.node.type")) or "unknown",
        title=_text(attributes.get("dify.node.title")) or span.name,
        status=_text(attributes.get("dify.node.status")) or "succeeded",
        order=order,
        index=as_int(attributes.get("dify.node.index")),
        **{**_times(span), **({"elapsed_time": elapsed} if elapsed is not None else {})},
        error=_text(attributes.get("dify.node.error")),
        iteration_id=_text(attributes.get("dify.node.iteration_id")),
        loop_id=_text(attributes.get("dify.node.loop_id")),
        parallel_id=_text(attributes.get("dify.node.parallel_id")),
    )


def _recognize_enterprise(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    root = next((s for s in spans if s.name == "dify.workflow.run" and
                 _run_id((s.attributes or {}).get("dify.workflow.run_id"))
                 and _ids_fine(s.attributes or {}, *_RUN_IDS)), None)  # fmt: skip
    if root is None or root.context is None:
        return None
    attributes = root.attributes or {}
    executions = sorted(
        (s for s in spans if s.name in _ENTERPRISE_NODE and _provider_execution(s)),
        key=lambda s: (s.start_time or 0, as_int((s.attributes or {}).get("dify.node.index")) or 0),
    )
    nodes = [_enterprise_node(span, position) for position, span in enumerate(executions)]
    containers = [
        ContainerRun(node_id=n.node_id or n.execution_id, node_type=n.node_type, title=n.title, status=n.status,
                     order=n.order, created_at=n.created_at, finished_at=n.finished_at, elapsed_time=n.elapsed_time,
                     error=n.error, iteration_id=n.iteration_id, loop_id=n.loop_id)
        for n in nodes if n.node_type in _CONTAINER_TYPES
    ]  # fmt: skip
    elapsed = as_number(attributes.get("dify.workflow.elapsed_time"))
    run = WorkflowRun(
        run_id=str(attributes["dify.workflow.run_id"]),
        status=_text(attributes.get("dify.workflow.status")) or "succeeded",
        receiver=receiver,
        workflow_id=_text(attributes.get("dify.workflow.id")),
        app_id=_text(attributes.get("dify.app_id")),
        app_name=_text(root.resource.attributes.get("dify.app.name")),
        conversation_id=_text(attributes.get("dify.conversation.id")),
        message_id=_text(attributes.get("dify.message.id")),
        user_id=_text(attributes.get("dify.invoked_by")),
        **{**_times(root), **({"elapsed_time": elapsed} if elapsed is not None else {})},
        error=_text(attributes.get("dify.workflow.error")),
        nodes=tuple(n for n in nodes if n.node_type not in _CONTAINER_TYPES),
        containers=tuple(containers),
    )
    replaced = {s.context.span_id for s in (root, *executions) if s.context is not None}
    others = [s for s in spans if s.context is not None and s.context.span_id not in replaced]
    return Recognized(run, replaced, others)


def rehome(spans: Sequence[ReadableSpan], root: SpanContext, replaced: set[int]) -> list[ReadableSpan]:
    """`spans` moved into the rebuilt trace: its trace id, and the rebuilt root as parent wherever their
    parent was a span the run replaced."""
    result = []
    for span in spans:
        assert span.context is not None
        context = SpanContext(root.trace_id, span.context.span_id, False, span.context.trace_flags,
                              span.context.trace_state)  # fmt: skip
        parent = span.parent
        if parent is None or parent.span_id in replaced:
            parent = root
        else:
            parent = SpanContext(root.trace_id, parent.span_id, parent.is_remote, parent.trace_flags)
        result.append(moved(span, context, parent))
    return result

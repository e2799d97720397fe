"""A `WorkflowRun` → the `ReadableSpan`s of one trace. The only module that creates spans, ids and parents.

Tree: `invoke_workflow` root → nodes; iteration/loop container → one span per round → the round's nodes;
retried node → one span per failed attempt; agent node → its agent-log entries.

Ids are derived, never random: the trace id is the run id's own 128 bits when it is a UUID (so a Dify run
id, its dashes taken out, finds the trace in Jaeger or Tempo), else the first 16 bytes of its sha256; span ids
hash the run id and the node execution id (+ attempt), so re-sending a run gives byte-identical ids.

Times: Dify stamps whole seconds but reports precise `elapsed_time`s. Siblings are laid out one after
another from their parent's start, each no earlier than its own `created_at`, with its own precise
duration; a parent is stretched when its children need more room, so children always lie inside it.
"""

from __future__ import annotations

import hashlib
import operator
import struct
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from bridge import __version__
from bridge.dify.model import AgentLogEntry, ContainerRun, NodeRun, Place, WorkflowRun
from bridge.trace import attributes as a

SCOPE = InstrumentationScope("dify-otel-bridge", __version__)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NS = 1_000_000_000
_LAST_NS = 2**64 - 1  # OTLP times are unsigned 64-bit nanoseconds
_LAST_S = _LAST_NS / _NS
_CLIENT_OPERATIONS = frozenset({"chat", "retrieval"})
_UNSET = Status()  # a span's status when it did not fail; immutable, so shared


def trace_id_for(run_id: str) -> int:
    digits = run_id.replace("-", "")
    try:
        # What `uuid.UUID(run_id).int` is for a UUID with or without dashes (it reads the same digits the same
        # way), without making one; other shapes (braces, `urn:uuid:`) go through `uuid`.
        value = int(digits, 16) if len(digits) == 32 else uuid.UUID(run_id).int
    except ValueError:
        try:
            value = uuid.UUID(run_id).int
        except ValueError:
            value = int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:16], "big")
    return value or 1


def root_context(run_id: str) -> SpanContext:
    """The context of a run's root span, as `SpanBuilder.build` gives it, known without building the run."""
    return SpanContext(trace_id_for(run_id), span_id_for(run_id, "run"), is_remote=False, trace_flags=_SAMPLED)


def span_id_for(*parts: object) -> int:
    return _span_id("\x1f".join(map(str, parts)))


def _span_id(joined: str) -> int:
    """`span_id_for` of the parts `joined` (by `\x1f`, each as `str()` writes it): the builder writes the text with
    an f-string, which costs a third of joining the parts."""
    return _FIRST_8(hashlib.sha256(joined.encode()).digest())[0] or 1


_FIRST_8 = struct.Struct(">Q").unpack_from  # the first 8 bytes of a digest, big-endian


@dataclass(slots=True)
class _Draft:
    """A span before its time is placed: duration known bottom-up, start placed top-down."""

    name: str
    span_id: int
    attributes: dict[str, Any]
    own_duration: int | None  # ns; integers so precise elapsed times survive epoch-sized offsets
    floor: int | None  # ns; earliest possible start (Dify's whole-second created_at)
    order: tuple[float, int]
    kind: SpanKind = SpanKind.INTERNAL
    status: Status = _UNSET
    events: list[tuple[str, dict[str, Any], float | None]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    children: list[_Draft] = field(default_factory=list)
    start: int = 0
    end: int = 0


class SpanBuilder:
    """Builds the spans of a run. Synchronous, pure (no I/O); raises nothing on odd runs."""

    def __init__(self, resource_attributes: Mapping[str, str] | None = None) -> None:
        self._base = dict(resource_attributes or {"service.name": "dify"})
        self._resources: dict[tuple[str | None, str | None, str], Resource] = {}

    def resource_for(self, run: WorkflowRun) -> Resource:
        source = run.receiver.partition("/")[0]
        key = (run.app_id, run.app_name, source)
        resource = self._resources.get(key)
        if resource is None:
            # The way in on the resource too, so that every span of a trace, not only its root, says it.
            attrs: dict[str, str] = {**self._base, a.DIFY_SOURCE: source}
            if run.app_id:
                attrs[a.DIFY_APP_ID] = run.app_id
            if run.app_name:
                attrs[a.DIFY_APP_NAME] = run.app_name
            resource = self._resources[key] = Resource(attrs)
        return resource

    def build(self, run: WorkflowRun) -> list[ReadableSpan]:
        written: dict[int, tuple[str, Any]] = {}
        a.record_json(written)
        try:
            root = _root_draft(run)
        finally:
            a.record_json(None)
        start = _ns(_estimate_start(run.created_at, run.finished_at, run.elapsed_time))
        _place(root, _ns(time.time()) if start is None else start)  # type: ignore[arg-type]
        trace_id = trace_id_for(run.run_id)
        resource = self.resource_for(run)
        spans: list[ReadableSpan] = []
        _emit(root, None, trace_id, resource, written, spans)
        return spans


class BuiltSpan(ReadableSpan):
    """A span the builder made. `json_values`: its trace's input/output JSON texts, by id() of the text, with
    the values they were written from (shared by the trace's spans): `detectors.json_attr` reads a value
    from here when the span still holds that very text, instead of parsing it. The same value, but for a
    NaN or infinity (JSON has none: the text says null), which is read as Dify sent it."""

    json_values: Mapping[int, tuple[str, Any]] = {}
    # Nothing is ever dropped from a built span: no bounded collections to ask (an ABC instance check each).
    dropped_attributes = 0
    dropped_events = 0
    dropped_links = 0

    def __init__(
        self, name: str, context: SpanContext, parent: SpanContext | None, resource: Resource,
        attributes: dict[str, Any], events: list[Event], links: list[Link], kind: SpanKind, status: Status,
        start_time: int, end_time: int, json_values: Mapping[int, tuple[str, Any]],
    ) -> None:  # fmt: skip
        # What `ReadableSpan.__init__` sets, set directly: its keyword arguments and defaults cost 2.5x this for
        # every span (tests/trace/test_spans.py checks that a built span has the fields the SDK's has).
        self._name, self._context, self._parent, self._resource = name, context, parent, resource
        self._attributes, self._events, self._links, self._kind = attributes, events, links, kind
        self._status, self._start_time, self._end_time = status, start_time, end_time
        self._instrumentation_info, self._instrumentation_scope = None, SCOPE
        self.json_values = json_values


def with_attributes(
    span: ReadableSpan,
    attributes: Mapping[str, Any],
    events: Sequence[Event] | None = None,
    status: Status | None = None,
    *,
    name: str | None = None,
    resource: Resource | None = None,
    links: Sequence[Link] | None = None,
) -> ReadableSpan:
    """A copy of `span` with new attributes (and events, status, name, resource, links): how processors change
    ended spans."""
    return ReadableSpan(
        name=span.name if name is None else name,
        context=span.context,
        parent=span.parent,
        resource=span.resource if resource is None else resource,
        attributes=attributes,
        events=span.events if events is None else events,
        links=span.links if links is None else links,
        kind=span.kind,
        status=span.status if status is None else status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


# --- drafting: the tree and durations ------------------------------------------------------------


def _estimate_start(created: float | None, finished: float | None, elapsed: float | None) -> float | None:
    """The real start lies in [created, created+1) and ends in [finished, finished+1)."""
    if created is None:
        return finished - elapsed if finished is not None and elapsed is not None else finished
    if finished is not None and elapsed is not None:
        return max(created, finished - elapsed)
    return created


def _ns(seconds: float | None) -> int | None:
    """Seconds as OTLP nanoseconds, within what OTLP carries: an absurd duration or time in an accepted run
    (1e308, NaN) must not keep the run from being built."""
    if seconds is None or seconds != seconds:
        return None
    if 0.0 <= seconds <= _LAST_S:  # nearly always: no clamping to do
        return round(seconds * _NS)
    return round(min(max(seconds, 0.0), _LAST_S) * _NS)


def _duration(created: float | None, finished: float | None, elapsed: float | None) -> int | None:
    if elapsed is not None:
        return _ns(max(elapsed, 0.0))
    if created is not None and finished is not None:
        return _ns(max(finished - created, 0.0))
    return None


def _status(status: str, message: str | None) -> Status:
    if status in ("failed", "exception"):
        return Status(StatusCode.ERROR, message or status)
    return _UNSET


def _error_event(message: str | None, error_type: str) -> tuple[str, dict[str, Any], None]:
    return ("exception", {"exception.type": error_type, "exception.message": message or error_type}, None)


def _node_draft(run: WorkflowRun, node: NodeRun) -> _Draft:
    attrs = a.node_attributes(node)
    message = node.error
    if node.status == "exception":
        # Error strategies hide the real message in outputs.error_message and put a generic one in `error`.
        message = str((node.outputs or {}).get("error_message") or node.error or "exception")
    draft = _Draft(
        name=a.node_span_name(node),
        span_id=_span_id(f"{run.run_id}\x1f{node.execution_id}"),
        attributes=attrs,
        own_duration=_duration(node.created_at, node.finished_at, node.elapsed_time),
        floor=_ns(_estimate_start(node.created_at, node.finished_at, node.elapsed_time)),
        order=(node.created_at or 0.0, node.order),
        kind=SpanKind.CLIENT if attrs.get(a.GEN_AI_OPERATION) in _CLIENT_OPERATIONS else SpanKind.INTERNAL,
        status=_status(node.status, message),
    )
    if draft.status.status_code is StatusCode.ERROR:
        error_type = f"dify.{node.node_type}.{'handled_error' if node.status == 'exception' else 'error'}"
        draft.events.append(_error_event(message, error_type))
    for attempt in node.retries:
        retry = _Draft(
            name=f"{draft.name} (attempt {attempt.retry_index})",
            span_id=_span_id(f"{run.run_id}\x1f{node.execution_id}\x1fattempt\x1f{attempt.retry_index}"),
            attributes=a.attempt_attributes(node, attempt),
            own_duration=_duration(attempt.created_at, attempt.finished_at, attempt.elapsed_time),
            floor=_ns(attempt.created_at),
            order=(0.0, attempt.retry_index),
            status=Status(StatusCode.ERROR, attempt.error or "retry"),
        )
        retry.events.append(_error_event(attempt.error, f"dify.{node.node_type}.error"))
        draft.children.append(retry)
    draft.children.extend(_agent_log_drafts(run, node, None))
    return draft


def _agent_log_drafts(run: WorkflowRun, node: NodeRun, parent_id: str | None) -> list[_Draft]:
    known = {entry.id for entry in node.agent_logs}
    drafts = []
    for entry in node.agent_logs:
        parent = entry.parent_id if entry.parent_id in known else None
        if parent != parent_id:
            continue
        drafts.append(_agent_log_draft(run, node, entry))
    return drafts


def _agent_log_draft(run: WorkflowRun, node: NodeRun, entry: AgentLogEntry) -> _Draft:
    elapsed = entry.metadata.get("elapsed_time")
    draft = _Draft(
        name=a.agent_log_name(entry),
        span_id=_span_id(f"{run.run_id}\x1f{node.execution_id}\x1flog\x1f{entry.id}"),
        attributes=a.agent_log_attributes(entry),
        own_duration=_ns(elapsed) if isinstance(elapsed, int | float) else None,
        floor=None,
        order=(0.0, entry.order),
        status=_status("failed" if entry.error or entry.status in ("error", "failed") else "", entry.error),
    )
    draft.children.extend(_agent_log_drafts(run, node, entry.id))
    return draft


def _container_draft(run: WorkflowRun, container: ContainerRun, members: list[NodeRun]) -> _Draft:
    # A container nested in another runs once a round of the outer: the rounds around it tell its runs apart.
    place = _execution(container)[0]
    execution_id = (container.execution_id or "") + (f"\x1f{place}" if place else "")
    draft = _Draft(
        name=a.label(f"{container.node_type} {container.title}"),
        span_id=_span_id(f"{run.run_id}\x1fcontainer\x1f{container.node_id}\x1f{execution_id}"),
        attributes=a.container_attributes(container),
        own_duration=_duration(container.created_at, container.finished_at, container.elapsed_time),
        floor=_ns(_estimate_start(container.created_at, container.finished_at, container.elapsed_time)),
        order=(container.created_at or 0.0, container.order),
        status=_status(container.status, container.error),
    )
    index_of = _round_index_getter(container)
    durations = container.execution_metadata.get(f"{container.node_type}_duration_map") or {}
    rounds = sorted(set(container.rounds) | {i for n in members if (i := index_of(n)) is not None})
    by_round: dict[int | None, list[NodeRun]] = {}
    for node in members:
        by_round.setdefault(index_of(node), []).append(node)
    for index in rounds:
        duration = durations.get(str(index), durations.get(index)) if isinstance(durations, dict) else None
        round_draft = _Draft(
            name=f"{container.node_type}[{index}]",
            span_id=_span_id(f"{run.run_id}\x1fround\x1f{container.node_id}\x1f{execution_id}\x1f{index}"),
            attributes=a.round_attributes(container, index),
            own_duration=_ns(duration) if isinstance(duration, int | float) else None,
            floor=None,
            order=(0.0, index),
        )
        round_draft.children.extend(_node_draft(run, node) for node in by_round.get(index, ()))
        draft.children.append(round_draft)
    # Members whose round is unknown (a node that started but never finished) sit on the container.
    draft.children.extend(_node_draft(run, node) for node in by_round.get(None, ()))
    return draft


def _round_index_getter(container: ContainerRun) -> Any:
    if container.node_type == "loop":
        return lambda node: node.loop_index
    return lambda node: node.iteration_index


def _parent_container(node: NodeRun | ContainerRun) -> str | None:
    return node.iteration_id or node.loop_id


def _once(containers: Sequence[ContainerRun]) -> set[str]:
    seen: dict[str, int] = {}
    for container in containers:
        seen[container.node_id] = seen.get(container.node_id, 0) + 1
    return {node_id for node_id, count in seen.items() if count == 1}


def _execution(container: ContainerRun) -> tuple[Place, str]:
    """Which execution of its node a container is: the rounds of the containers around it, and its node id. Its
    members name it by their `outer` and their container's id."""
    parent = _parent_container(container)
    index = container.iteration_index if container.iteration_id else container.loop_index
    return ((*container.outer, (parent, index)) if parent else ()), container.node_id


def _caller(run: WorkflowRun) -> list[Link]:
    """A run started by another run's node (a workflow used as a tool) links to that node's span, which sits in
    the calling run's trace."""
    if run.parent_run_id is None or run.parent_node_execution_id is None:
        return []
    context = SpanContext(
        trace_id_for(run.parent_run_id), span_id_for(run.parent_run_id, run.parent_node_execution_id),
        is_remote=True, trace_flags=_SAMPLED,
    )  # fmt: skip
    return [Link(context, {"dify.link.type": "caller"})]


def _root_draft(run: WorkflowRun) -> _Draft:
    root = _Draft(
        name=f"invoke_workflow {a.run_name(run)}",
        span_id=span_id_for(run.run_id, "run"),  # as root_context
        attributes=a.run_attributes(run, run.nodes),
        own_duration=_duration(run.created_at, run.finished_at, run.elapsed_time),
        floor=None,
        order=(0.0, 0),
        status=_status(run.status, run.error),
        links=_caller(run),
    )
    if root.status.status_code is StatusCode.ERROR:
        root.events.append(_error_event(run.error, "dify.workflow.error"))
    containers = {_execution(c): c for c in run.containers}
    # A node id run once: whatever rounds its members say are around it (a release naming every container's own
    # parent gives none).
    single = _once(run.containers)
    once = {c.node_id: key for key, c in containers.items() if c.node_id in single}

    def enclosing(item: NodeRun | ContainerRun) -> tuple[Place, str | None]:
        parent = _parent_container(item)
        return once.get(parent, (item.outer, parent)) if parent else ((), None)

    # Children may name a container Dify sent no events for (Java client): synthesize it.
    for node in run.nodes:
        parent = _parent_container(node)
        if parent and enclosing(node) not in containers:
            node_type = "iteration" if node.iteration_id else "loop"
            containers[node.outer, parent] = ContainerRun(parent, node_type, parent, "succeeded", order=node.order,
                                                          outer=node.outer)  # fmt: skip
    members: dict[tuple[Place, str | None], list[NodeRun]] = {}
    for node in run.nodes:
        members.setdefault(enclosing(node), []).append(node)
    container_drafts: dict[tuple[Place, str | None], _Draft] = {
        key: _container_draft(run, c, members.get(key, [])) for key, c in containers.items()
    }
    for key, container in containers.items():
        parent = _parent_container(container)
        parent_draft = container_drafts.get(enclosing(container)) if parent and parent != key[1] else None
        if parent_draft is None:
            root.children.append(container_drafts[key])
            continue
        index = container.iteration_index if container.iteration_id else container.loop_index
        target = next((r for r in parent_draft.children if r.attributes.get(a.DIFY_ROUND_INDEX) == index), None)
        (target or parent_draft).children.append(container_drafts[key])
    root.children.extend(_node_draft(run, node) for node in members.get(((), None), ()))
    for thought in run.agent_thoughts:
        root.children.append(
            _Draft(
                name=a.label(f"execute_tool {thought.tool}") if thought.tool else "agent_thought",
                span_id=_span_id(f"{run.run_id}\x1fthought\x1f{thought.id}"),
                attributes=a.thought_attributes(thought),
                own_duration=None,
                floor=_ns(thought.created_at),
                order=(thought.created_at or 0.0, thought.order),
            )
        )
    for event in run.events:
        root.events.append((event.name, {a.DIFY_EVENT_DATA: a.to_json(event.data)}, event.created_at))
    return root


# --- placing: times top-down ---------------------------------------------------------------------


_ORDER = operator.attrgetter("order")


def _place(draft: _Draft, start: int) -> int:
    """Place `draft` at `start` and its children inside it; returns its end."""
    draft.start = start
    cursor = start
    for child in sorted(draft.children, key=_ORDER) if len(draft.children) > 1 else draft.children:
        child_start = max(cursor, child.floor) if child.floor is not None else cursor
        cursor = _place(child, child_start)
    own = draft.own_duration if draft.own_duration is not None else cursor - start
    draft.end = max(start + own, cursor)
    return draft.end


def _emit(
    draft: _Draft,
    parent: SpanContext | None,
    trace_id: int,
    resource: Resource,
    json_values: Mapping[int, tuple[str, Any]],
    out: list[ReadableSpan],
) -> None:
    context = SpanContext(trace_id, draft.span_id, False, _SAMPLED)
    events = [
        Event(name, attrs, min(max(_ns(ts) or draft.start, draft.start), draft.end, _LAST_NS))
        for name, attrs, ts in draft.events
    ]
    # Absurd durations (a corrupt elapsed_time) must not push a time past what OTLP can carry.
    start, end = min(draft.start, _LAST_NS), min(draft.end, _LAST_NS)
    out.append(BuiltSpan(draft.name, context, parent, resource, draft.attributes, events, draft.links, draft.kind,
                         draft.status, start, end, json_values))  # fmt: skip
    for child in draft.children:
        _emit(child, context, trace_id, resource, json_values, out)


def rewrite_attributes(
    spans: Sequence[ReadableSpan], rewrite: Callable[[Mapping[str, Any]], dict[str, Any] | None]
) -> list[ReadableSpan]:
    """Applies `rewrite` to every span's and event's attributes (None: unchanged); only changed spans are copied."""
    result = []
    for span in spans:
        attributes = rewrite(span.attributes or {})
        events: list[Event] | None = None
        for position, event in enumerate(span.events):
            event_attributes = rewrite(event.attributes or {})
            if event_attributes is not None:
                events = events if events is not None else list(span.events)
                events[position] = Event(event.name, event_attributes, event.timestamp)
        if attributes is None and events is None:
            result.append(span)
        else:
            result.append(
                with_attributes(span, attributes if attributes is not None else span.attributes or {}, events)
            )
    return result


def build_spans(run: WorkflowRun, resource_attributes: Mapping[str, str] | None = None) -> list[ReadableSpan]:
    """Convenience for one-off builds (tests, `detect`): a fresh `SpanBuilder`."""
    return SpanBuilder(resource_attributes).build(run)


__all__ = [
    "SCOPE", "SpanBuilder", "build_spans", "rewrite_attributes", "root_context", "span_id_for", "trace_id_for",
    "with_attributes",
]  # fmt: skip

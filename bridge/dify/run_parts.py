"""The pieces of one run as the assembler collects them, and the `WorkflowRun` built from them.

Each piece is keyed by something that does not depend on arrival (execution id, retry index, round
index, log id), and where two copies of a piece disagree the later stage wins (finished over started).

Event data of nodes, containers and the run is held packed (compact JSON bytes) until the run is built:
open runs wait in memory for minutes, and parsed JSON takes four to five times the room of its text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson
from msgspec.structs import replace

from bridge.dify.formats import InputError, read_integer
from bridge.dify.model import (
    RUN_STATUS_INCOMPLETE,
    AgentLogEntry,
    AgentThought,
    Attempt,
    ContainerRun,
    DifyEvent,
    JSONDict,
    NodeRun,
    Place,
    RunEvent,
    WorkflowRun,
)
from bridge.dify.values import as_int, as_number, timestamp


def as_timestamp(value: Any) -> float | None:
    try:
        return timestamp(value, "")
    except (ValueError, InputError):
        return None


Packed = bytes


_SORTED = msgspec.json.Encoder(enc_hook=str, order="sorted").encode


def pack(data: JSONDict) -> Packed:
    try:
        # Copied to its exact size: orjson's own result keeps its whole growth buffer alive. (msgspec's encoder
        # is faster but its results took a fifth more room: 14.1 KB a run in flight in bench/memory.py, not 11.8.)
        return bytes(memoryview(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)))
    except orjson.JSONEncodeError:  # integers past 64 bits, which orjson does not write
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def packed_data(event: DifyEvent) -> Packed:
    """An event's data packed: as it came, when it was never parsed (`DifyEvent.packed`)."""
    return event.packed if event.packed is not None else pack(event.data)


def fingerprint(name: str, data: JSONDict) -> bytes:
    """What tells repeated copies of an event apart from distinct ones: a digest of its name and data
    (keys sorted), 16 bytes however large the event."""
    return hashlib.blake2b(name.encode() + b"\0" + _SORTED(data), digest_size=16).digest()


def unpack(packed: Packed) -> JSONDict:
    try:
        data: JSONDict = orjson.loads(packed)
    except orjson.JSONDecodeError:  # packed by `pack`'s fallback (NaN, Infinity), or kept as sent (long integers)
        data = json.loads(packed, parse_int=read_integer)
    return data


def _dict(value: Any) -> JSONDict:
    """A mapping from a mapping or a packed one; anything else is empty."""
    if isinstance(value, bytes):
        value = unpack(value)
    return value if isinstance(value, dict) else {}


def _opt_dict(value: Any) -> JSONDict | None:
    return value if isinstance(value, dict) else None


@dataclass
class NodeParts:
    order: int
    started: Packed | None = None
    finished: Packed | None = None
    retries: dict[int, Packed] = field(default_factory=dict)
    logs: dict[str, tuple[JSONDict, int]] = field(default_factory=dict)


@dataclass
class ContainerParts:
    node_type: str
    order: int
    started: Packed | None = None
    completed: Packed | None = None
    node_started: Packed | None = None  # older releases: node events for the container itself
    node_finished: Packed | None = None
    rounds: dict[int, int] = field(default_factory=dict)  # round index → order of its *_next event
    closed: int | None = None  # order of its *_completed event


def container_key(node_id: str, earlier: int) -> str:
    """An execution's key in `RunParts.containers`: the container's node id, and for a later run of it (a container
    nested in another, run once a round of the outer) how many runs came before."""
    return node_id if earlier == 0 else f"{node_id}\x1f{earlier}"


@dataclass
class RunParts:
    key: str
    receiver: str = "replay"
    order: int = 0
    last_activity: float = 0.0
    terminal_at: float | None = None
    run_id: str | None = None
    task_id: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    # The app that signed the run's first signed events (`DifyEvent.app_id`), else workflow_started's
    # `sys.app_id` (read while it is parsed): the service routes and names a run by it before the run is built
    # (in a pipeline worker).
    app_id: str | None = None
    app_signed: bool = False
    started: Packed | None = None
    finished: Packed | None = None
    message_end: JSONDict | None = None
    error: JSONDict | None = None
    paused: bool = False
    nodes: dict[str, NodeParts] = field(default_factory=dict)
    containers: dict[str, ContainerParts] = field(default_factory=dict)  # by `container_key`
    executions: dict[str, int] = field(default_factory=dict)  # node id → its runs, for a container run twice or more
    thoughts: dict[str, tuple[JSONDict, int]] = field(default_factory=dict)
    events: dict[bytes, RunEvent] = field(default_factory=dict)  # fingerprint → event
    # Events without an execution id (Java client): k-th start pairs with k-th finish of a node.
    anonymous: dict[tuple[str, str], int] = field(default_factory=dict)
    anonymous_seen: set[bytes] = field(default_factory=set)
    journal: list[int] = field(default_factory=list)  # the bridge's journal rows these events are stored in

    def next_order(self) -> int:
        self.order += 1
        return self.order

    @property
    def has_workflow(self) -> bool:
        return self.run_id is not None

    @property
    def built_run_id(self) -> str:
        """The id of the run built from these parts: a chat message's, or the assembler's key, without a run id."""
        return self.run_id or str(self.message_id or self.key)

    def set_started(self, data: JSONDict) -> None:
        """The first workflow_started wins."""
        if self.started is None:
            inputs = data.get("inputs")
            if not self.app_signed:
                self.app_id = _str(inputs.get("sys.app_id")) if isinstance(inputs, dict) else None
            self.started = pack(data)

    def signed_by(self, app_id: str) -> None:
        """The first signing app wins (the stream receiver refuses another's events for an open run)."""
        if not self.app_signed:
            self.app_id, self.app_signed = app_id, True


def _run_status(parts: RunParts) -> str:
    finished = _dict(parts.finished)
    if finished.get("status"):
        return str(finished["status"])
    if parts.error is not None:
        return "failed"
    if parts.paused:
        return "paused"
    if parts.message_end is not None and not parts.has_workflow:
        return "succeeded"
    return RUN_STATUS_INCOMPLETE


def build_run(parts: RunParts) -> WorkflowRun:
    started = _dict(parts.started)
    finished = _dict(parts.finished)
    inputs = _opt_dict(started.get("inputs"))
    sys_inputs = inputs or {}
    status = _run_status(parts)
    message_meta = _dict(_dict(parts.message_end).get("metadata"))
    resources = message_meta.get("retriever_resources")
    error = finished.get("error") or _dict(parts.error).get("message")
    created = as_timestamp(started.get("created_at")) or as_timestamp(finished.get("created_at"))
    built = sorted((_build_node(eid, node, status) for eid, node in parts.nodes.items()), key=lambda n: n.order)
    nodes, containers = _nested(parts.containers, tuple(built), status)
    return WorkflowRun(
        run_id=parts.built_run_id,
        status=status,
        receiver=parts.receiver,
        journal=tuple(parts.journal),
        task_id=parts.task_id,
        workflow_id=str(finished.get("workflow_id") or started.get("workflow_id") or "") or None,
        app_id=parts.app_id,
        conversation_id=parts.conversation_id or _str(sys_inputs.get("sys.conversation_id")),
        message_id=parts.message_id,
        user_id=_str(sys_inputs.get("sys.user_id")),
        created_at=created if created is not None else min((n.created_at for n in nodes if n.created_at), default=None),
        finished_at=as_timestamp(finished.get("finished_at")),
        elapsed_time=as_number(finished.get("elapsed_time")),
        inputs=inputs,
        outputs=_opt_dict(finished.get("outputs")),
        error=str(error) if error else None,
        total_tokens=as_int(finished.get("total_tokens")),
        total_steps=as_int(finished.get("total_steps")),
        exceptions_count=as_int(finished.get("exceptions_count")),
        nodes=nodes,
        containers=containers,
        agent_thoughts=tuple(sorted(_build_thoughts(parts), key=lambda t: (t.position, t.order))),
        events=tuple(sorted(parts.events.values(), key=lambda e: e.order)),
        message_usage=_opt_dict(message_meta.get("usage")),
        retriever_resources=tuple(r for r in resources if isinstance(r, dict)) if isinstance(resources, list) else (),
    )


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True, slots=True)
class ClosedRun:
    """A run the assembler has closed, to be built where its trace is (a pipeline worker): its parts are
    mostly packed bytes, cheaper to send there than the run, and building it is work the server process is
    spared. `app_name`: the registered app's name, which stream events never carry."""

    parts: RunParts
    app_name: str | None = None

    @property
    def run_id(self) -> str:
        return self.parts.built_run_id

    @property
    def app_id(self) -> str | None:
        return self.parts.app_id

    def build(self) -> WorkflowRun:
        run = build_run(self.parts)
        return run if self.app_name is None else replace(run, app_name=self.app_name)


def _build_node(execution_id: str, parts: NodeParts, run_status: str) -> NodeRun:
    started, finished = _dict(parts.started), _dict(parts.finished)
    last_retry = _dict(parts.retries[max(parts.retries)]) if parts.retries else {}
    data: Mapping[str, Any] = {**last_retry, **started, **finished} if finished else {**started, **last_retry}
    metadata = _dict(data.get("execution_metadata"))
    if finished:
        status = str(finished.get("status") or "succeeded")
    elif run_status in ("stopped", "failed", "paused"):
        status = run_status
    else:
        status = RUN_STATUS_INCOMPLETE
    return NodeRun(
        execution_id=execution_id,
        node_id=str(data.get("node_id") or ""),
        node_type=str(data.get("node_type") or "unknown"),
        title=str(data.get("title") or data.get("node_id") or ""),
        status=status,
        order=parts.order,
        index=as_int(data.get("index")),
        created_at=as_timestamp(started.get("created_at")) or as_timestamp(data.get("created_at")),
        finished_at=as_timestamp(finished.get("finished_at")),
        elapsed_time=as_number(finished.get("elapsed_time")),
        inputs=_opt_dict(finished.get("inputs")) or _opt_dict(started.get("inputs")),
        process_data=_opt_dict(finished.get("process_data")),
        outputs=_opt_dict(finished.get("outputs")),
        error=_str(finished.get("error")),
        execution_metadata=metadata,
        iteration_id=_str(data.get("iteration_id") or metadata.get("iteration_id")),
        loop_id=_str(data.get("loop_id") or metadata.get("loop_id")),
        iteration_index=as_int(metadata.get("iteration_index")),
        loop_index=as_int(metadata.get("loop_index")),
        parallel_id=_str(data.get("parallel_id") or metadata.get("parallel_id")),
        agent_strategy=_agent_strategy(started.get("agent_strategy") or data.get("agent_strategy")),
        retries=tuple(_build_attempt(index, _dict(retry)) for index, retry in sorted(parts.retries.items())),
        agent_logs=tuple(
            _build_log(log_id, entry, order) for log_id, (entry, order) in sorted(parts.logs.items(), key=_by_order)
        ),
    )


def _by_order(item: tuple[str, tuple[JSONDict, int]]) -> int:
    return item[1][1]


def _agent_strategy(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("name"))
    return _str(value)


def _build_attempt(index: int, data: JSONDict) -> Attempt:
    return Attempt(
        retry_index=index,
        status=str(data.get("status") or "retry"),
        error=_str(data.get("error")),
        elapsed_time=as_number(data.get("elapsed_time")),
        created_at=as_timestamp(data.get("created_at")),
        finished_at=as_timestamp(data.get("finished_at")),
        inputs=_opt_dict(data.get("inputs")),
        process_data=_opt_dict(data.get("process_data")),
        outputs=_opt_dict(data.get("outputs")),
    )


def _build_log(log_id: str, data: JSONDict, order: int) -> AgentLogEntry:
    return AgentLogEntry(
        id=log_id,
        label=str(data.get("label") or log_id),
        parent_id=_str(data.get("parent_id")),
        status=_str(data.get("status")),
        error=_str(data.get("error")),
        data=_dict(data.get("data")),
        metadata=_dict(data.get("metadata")),
        order=order,
    )


class _Nest:
    """Containers nested in others by the order their events came in. Dify 1.14.1 streams an iteration inside
    another iteration's round with no id of the outer one, and the nodes of its rounds with the outer one's id
    (`iteration_id`, `execution_metadata.iteration_id`) and the inner one's round index (recorded, faults8
    `aftenskole_*`): only arrival tells which container and which run of it a node ran in. A container is taken
    for nested in the innermost one open when it started, of those whose id the nodes within it name, when none
    names its own; a node for run in the innermost container open when it came, of those its id names or that are
    nested in one it names. No node names the inner one: a container some node names is never moved."""

    def __init__(self, containers: dict[str, ContainerParts], nodes: tuple[NodeRun, ...]) -> None:
        self.containers = containers
        self.parents: dict[str, tuple[str, int | None]] = {}  # key → its outer one's key and round
        by_start = sorted(containers, key=lambda key: containers[key].order)
        # A container some node names is where Dify put it: arrival, which shuffled or late events blur, is read
        # only for those no node names.
        anywhere = {_parent_container(n) for n in nodes}
        for key in by_start:
            parts = containers[key]
            if _parent_given(parts) or _node_id(key) in anywhere:
                continue
            named = {_parent_container(n) for n in nodes if self._open(key, n.order)}
            if not named:
                continue
            around = [k for k in by_start if _node_id(k) != _node_id(key) and self._open(k, parts.order)
                      and named & set(self._chain(k))]  # fmt: skip
            if around:
                outer = max(around, key=lambda k: containers[k].order)
                self.parents[key] = (outer, _round_at(containers[outer], parts.order))

    def _open(self, key: str, order: int) -> bool:
        parts = self.containers[key]
        return parts.order < order and (parts.closed is None or order < parts.closed)

    def _chain(self, key: str) -> list[str]:
        """The node ids of the container and of those it is nested in."""
        chain = [_node_id(key)]
        while key in self.parents and len(chain) <= len(self.containers):
            key = self.parents[key][0]
            chain.append(_node_id(key))
        return chain

    def place(self, key: str) -> Place:
        """The containers around this one, outermost first, with the round it ran in."""
        if key not in self.parents or len(self._chain(key)) > len(self.containers):
            return ()
        outer, index = self.parents[key]
        return (*self.place(outer), (_node_id(outer), index))

    def holder(self, node: NodeRun) -> str | None:
        """The key of the container execution the node ran in."""
        named = _parent_container(node)
        if named is None:
            return None
        keys = [k for k in self.containers if named in self._chain(k) and self._open(k, node.order)]
        if keys:
            return max(keys, key=lambda k: self.containers[k].order)
        runs = [k for k in self.containers if _node_id(k) == named]
        before = [k for k in runs if self.containers[k].order < node.order]
        return max(before, key=lambda k: self.containers[k].order) if before else (runs[0] if runs else None)


def _node_id(key: str) -> str:
    return key.partition("\x1f")[0]


def _parent_container(node: NodeRun) -> str | None:
    return node.iteration_id or node.loop_id


def _parent_given(parts: ContainerParts) -> bool:
    """Whether Dify named the container a container is in (releases that send it on the container's events)."""
    started = {**_dict(parts.node_started), **_dict(parts.started)}
    meta = _dict(_dict(parts.node_finished).get("execution_metadata"))
    return any(started.get(k) or meta.get(k) for k in ("iteration_id", "loop_id"))


def _round_at(parts: ContainerParts, order: int) -> int | None:
    """The round of a container under way at `order`: the last whose *_next came before (a loop's first has none)."""
    before = [index for index, at in parts.rounds.items() if at < order]
    return max(before) if before else (0 if parts.node_type == "loop" else None)


def _nested(
    containers: dict[str, ContainerParts], nodes: tuple[NodeRun, ...], run_status: str
) -> tuple[tuple[NodeRun, ...], tuple[ContainerRun, ...]]:
    """The run's `nodes` and `containers`, each container execution with the nodes that ran in it."""
    nest = _Nest(containers, nodes) if len(containers) > 1 else None
    if nest is None or (not nest.parents and all(key == _node_id(key) for key in containers)):
        # Nothing nested by arrival: each container with the nodes that name it, as Dify named them.
        built = (_build_container(key, c, _named(nodes, key, c), run_status) for key, c in containers.items())
        return nodes, tuple(built)
    held: dict[str, list[NodeRun]] = {key: [] for key in containers}
    placed = []
    for node in nodes:
        key = nest.holder(node)
        if key is not None and key in held:
            node = _moved(node, key, containers[key].node_type, nest.place(key))
            held[key].append(node)
        placed.append(node)
    placed_containers: list[ContainerRun] = []
    for key, parts in containers.items():
        container = _build_container(_node_id(key), parts, held[key], run_status)
        if key in nest.parents:
            outer, index = nest.parents[key]
            inner = "iteration" if containers[outer].node_type == "iteration" else "loop"
            container = replace(container, outer=nest.place(outer), **{f"{inner}_id": _node_id(outer),
                                                                        f"{inner}_index": index})  # fmt: skip
        placed_containers.append(container)
    return tuple(placed), tuple(placed_containers)


def _named(nodes: tuple[NodeRun, ...], node_id: str, parts: ContainerParts) -> list[NodeRun]:
    return [n for n in nodes if (n.iteration_id if parts.node_type == "iteration" else n.loop_id) == node_id]


def _moved(node: NodeRun, key: str, node_type: str, outer: Place) -> NodeRun:
    """The node in the container execution `key`: its id and the rounds around it (unchanged when Dify named it)."""
    node_id = _node_id(key)
    if _parent_container(node) == node_id:
        return replace(node, outer=outer) if outer else node
    index = node.iteration_index if node.iteration_index is not None else node.loop_index
    if node_type == "iteration":
        return replace(node, iteration_id=node_id, iteration_index=index, loop_id=None, loop_index=None, outer=outer)
    return replace(node, loop_id=node_id, loop_index=index, iteration_id=None, iteration_index=None, outer=outer)


def _build_container(node_id: str, parts: ContainerParts, members: list[NodeRun], run_status: str) -> ContainerRun:
    started = {**_dict(parts.node_started), **_dict(parts.started)}
    completed = {**_dict(parts.node_finished), **_dict(parts.completed)}
    is_iteration = parts.node_type == "iteration"
    indexes = {i for n in members if (i := n.iteration_index if is_iteration else n.loop_index) is not None}
    rounds = set(parts.rounds) | indexes
    if parts.node_type == "loop" and parts.started is not None:
        rounds.add(0)  # Dify sends loop_next only between rounds: round 0 has none
    if parts.completed is not None and indexes:
        # A loop that reached its count limit announces one more round (loop_next) that never runs (recorded).
        rounds = {r for r in rounds if r <= max(indexes)}
    if completed.get("status"):
        status = str(completed["status"])
    elif parts.completed is not None:
        status = "failed" if completed.get("error") else "succeeded"
    elif any(n.status == "failed" for n in members):
        status = "failed"
    else:
        status = run_status if run_status in ("stopped", "failed", "paused", "succeeded") else RUN_STATUS_INCOMPLETE
    metadata = _dict(completed.get("execution_metadata"))
    node_meta = _dict(_dict(parts.node_finished).get("execution_metadata"))
    return ContainerRun(
        node_id=node_id,
        node_type=parts.node_type,
        title=str(started.get("title") or completed.get("title") or node_id),
        status=status,
        order=parts.order,
        execution_id=_str(_dict(parts.node_started or parts.node_finished).get("id")),
        created_at=as_timestamp(started.get("created_at")),
        finished_at=as_timestamp(completed.get("finished_at")),
        elapsed_time=as_number(completed.get("elapsed_time")),
        inputs=_opt_dict(completed.get("inputs")) or _opt_dict(started.get("inputs")),
        outputs=_opt_dict(completed.get("outputs")),
        error=_str(completed.get("error")),
        metadata=_dict(started.get("metadata")),
        execution_metadata={**node_meta, **metadata},
        rounds=tuple(sorted(rounds)),
        total_tokens=as_int(completed.get("total_tokens")),
        iteration_id=_str(started.get("iteration_id") or node_meta.get("iteration_id")),
        loop_id=_str(started.get("loop_id") or node_meta.get("loop_id")),
        iteration_index=as_int(node_meta.get("iteration_index")),
        loop_index=as_int(node_meta.get("loop_index")),
    )


def _build_thoughts(parts: RunParts) -> Iterator[AgentThought]:
    for thought_id, (data, order) in parts.thoughts.items():
        yield AgentThought(
            id=thought_id,
            position=as_int(data.get("position")) or 0,
            thought=str(data.get("thought") or ""),
            observation=str(data.get("observation") or ""),
            tool=str(data.get("tool") or ""),
            tool_input=str(data.get("tool_input") or ""),
            created_at=as_timestamp(data.get("created_at")),
            order=order,
        )

"""Stream events → complete runs, one per `workflow_run_id`.

Events may arrive out of order or more than once: every piece of a run is merged by a key that does
not depend on arrival (execution id, retry index, round index, log id), so the assembled run is the
same whatever the order. A run is handed out `terminal_wait` seconds after its terminal event (late
stragglers still join it), or after `idle_timeout` seconds without any event, as `incomplete`.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.model import (
    CHUNK_EVENTS,
    CONTAINER_EVENTS,
    RUN_STATUS_INCOMPLETE,
    AgentLogEntry,
    AgentThought,
    Attempt,
    ContainerRun,
    DifyEvent,
    JSONDict,
    NodeRun,
    RunEvent,
    WorkflowRun,
)
from bridge.normalize import integer, number, timestamp

logger = logging.getLogger(__name__)

_IGNORED_EVENTS = frozenset({"ping"}) | CHUNK_EVENTS
# Where two copies of one agent-log entry disagree, the later stage wins, whatever arrived last.
_LOG_STATUS_RANK = {"start": 0, "running": 0, "success": 1, "succeeded": 1, "error": 1, "failed": 1}


def _int(value: Any) -> int | None:
    try:
        return integer(value, "")
    except ValueError:
        return None


def _num(value: Any) -> float | None:
    try:
        return number(value, "")
    except ValueError:
        return None


def _ts(value: Any) -> float | None:
    try:
        return timestamp(value, "")
    except ValueError:
        return None


def _dict(value: Any) -> JSONDict:
    return value if isinstance(value, dict) else {}


def _opt_dict(value: Any) -> JSONDict | None:
    return value if isinstance(value, dict) else None


@dataclass
class _NodeParts:
    order: int
    started: JSONDict | None = None
    finished: JSONDict | None = None
    retries: dict[int, JSONDict] = field(default_factory=dict)
    logs: dict[str, tuple[JSONDict, int]] = field(default_factory=dict)


@dataclass
class _ContainerParts:
    node_type: str
    order: int
    started: JSONDict | None = None
    completed: JSONDict | None = None
    node_started: JSONDict | None = None  # older releases: node events for the container itself
    node_finished: JSONDict | None = None
    rounds: dict[int, int] = field(default_factory=dict)  # round index → order of its *_next event


@dataclass
class _RunParts:
    key: str
    order: int = 0
    last_activity: float = 0.0
    terminal_at: float | None = None
    run_id: str | None = None
    task_id: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    started: JSONDict | None = None
    finished: JSONDict | None = None
    message_end: JSONDict | None = None
    error: JSONDict | None = None
    paused: bool = False
    nodes: dict[str, _NodeParts] = field(default_factory=dict)
    containers: dict[str, _ContainerParts] = field(default_factory=dict)
    thoughts: dict[str, tuple[JSONDict, int]] = field(default_factory=dict)
    events: dict[str, RunEvent] = field(default_factory=dict)  # fingerprint → event
    # Events without an execution id (Java client): k-th start pairs with k-th finish of a node.
    anonymous: dict[tuple[str, str], int] = field(default_factory=dict)
    anonymous_seen: set[str] = field(default_factory=set)

    def next_order(self) -> int:
        self.order += 1
        return self.order

    @property
    def has_workflow(self) -> bool:
        return self.run_id is not None


class RunAssembler:
    """Collects `DifyEvent`s into `WorkflowRun`s. Not thread-safe: one owner feeds and polls it."""

    def __init__(self, idle_timeout: float = 300.0, terminal_wait: float = 2.0, completed_run_memory: int = 10_000):
        self.idle_timeout = idle_timeout
        self.terminal_wait = terminal_wait
        self._memory = completed_run_memory
        self._runs: dict[str, _RunParts] = {}
        self._task_runs: dict[str, str] = {}  # task_id → run key
        self._context_runs: dict[str, str] = {}  # stream context → last run key, for `error` events
        self._completed: OrderedDict[str, None] = OrderedDict()
        self.dropped_late = 0

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, event: DifyEvent, now: float, context: str | None = None) -> None:
        if event.event in _IGNORED_EVENTS:
            return
        key = self._key_for(event, context)
        if key is None:
            logger.warning("dropping %s event with no run, task or stream to attach it to", event.event)
            return
        if key in self._completed:
            self.dropped_late += 1
            return
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = _RunParts(key=key)
        if context is not None:
            self._context_runs[context] = key
        run.last_activity = now
        if event.workflow_run_id and run.run_id is None:
            run.run_id = event.workflow_run_id
        run.task_id = run.task_id or event.task_id
        run.conversation_id = run.conversation_id or event.conversation_id
        run.message_id = run.message_id or event.message_id
        self._merge(run, event, now)

    def due(self, now: float) -> list[WorkflowRun]:
        """Runs whose terminal wait or idle timeout has passed, removed from the assembler."""
        ready = [
            key
            for key, run in self._runs.items()
            if (run.terminal_at is not None and now - run.terminal_at >= self.terminal_wait)
            or now - run.last_activity >= self.idle_timeout
        ]
        return [self._close(key) for key in ready]

    def drain(self) -> list[WorkflowRun]:
        """Every run still open, closed now (end of a replay, shutdown)."""
        return [self._close(key) for key in list(self._runs)]

    # --- keys ----------------------------------------------------------------------------------

    def _key_for(self, event: DifyEvent, context: str | None) -> str | None:
        if event.workflow_run_id:
            key = event.workflow_run_id
            if event.task_id:
                self._adopt_task(event.task_id, key)
            return key
        if event.task_id:
            return self._task_runs.setdefault(event.task_id, f"task:{event.task_id}")
        if context is not None:
            return self._context_runs.get(context)
        return None

    def _adopt_task(self, task_id: str, key: str) -> None:
        """Chat events (message_end, agent_thought) carry only task_id: fold them into the run."""
        previous = self._task_runs.get(task_id)
        self._task_runs[task_id] = key
        if previous is None or previous == key or previous not in self._runs:
            return
        orphan = self._runs.pop(previous)
        run = self._runs.setdefault(key, _RunParts(key=key))
        run.message_end = run.message_end or orphan.message_end
        run.error = run.error or orphan.error
        run.thoughts.update(orphan.thoughts)
        run.events.update(orphan.events)
        run.order = max(run.order, orphan.order)
        run.conversation_id = run.conversation_id or orphan.conversation_id
        run.message_id = run.message_id or orphan.message_id

    # --- merging -------------------------------------------------------------------------------

    def _merge(self, run: _RunParts, event: DifyEvent, now: float) -> None:
        name, data = event.event, event.data
        if name == "workflow_started":
            run.started = run.started or data
        elif name == "workflow_finished":
            run.finished = data
            run.terminal_at = now
        elif name in ("node_started", "node_finished", "node_retry"):
            self._merge_node(run, name, data)
        elif name in CONTAINER_EVENTS:
            self._merge_container_event(run, name, data)
        elif name == "agent_log":
            self._merge_agent_log(run, data)
        elif name == "agent_thought":
            thought_id = str(data.get("id") or f"position-{data.get('position')}")
            previous = run.thoughts.get(thought_id)
            merged = {**previous[0], **{k: v for k, v in data.items() if v not in (None, "")}} if previous else data
            run.thoughts[thought_id] = (merged, previous[1] if previous else run.next_order())
        elif name == "message_end":
            run.message_end = data
            if not run.has_workflow:
                run.terminal_at = now
        elif name == "error":
            run.error = data
            run.terminal_at = now
            self._keep_event(run, event)
        else:
            if name == "workflow_paused":
                run.paused = True
            self._keep_event(run, event)

    def _keep_event(self, run: _RunParts, event: DifyEvent) -> None:
        fingerprint = event.event + json.dumps(event.data, sort_keys=True, default=str)
        if fingerprint not in run.events:
            created = event.created_at if event.created_at is not None else _ts(event.data.get("created_at"))
            run.events[fingerprint] = RunEvent(event.event, event.data, created, run.next_order())

    def _node_key(self, run: _RunParts, name: str, data: JSONDict) -> str | None:
        execution_id = data.get("id")
        if execution_id:
            return str(execution_id)
        fingerprint = name + json.dumps(data, sort_keys=True, default=str)
        if fingerprint in run.anonymous_seen:
            return None
        run.anonymous_seen.add(fingerprint)
        counter_key = (name, str(data.get("node_id")))
        occurrence = run.anonymous.get(counter_key, 0)
        run.anonymous[counter_key] = occurrence + 1
        return f"{run.key}/{data.get('node_id')}/{occurrence}"

    def _merge_node(self, run: _RunParts, name: str, data: JSONDict) -> None:
        if data.get("node_type") in ("iteration", "loop"):
            parts = self._container(run, str(data["node_id"]), str(data["node_type"]))
            if name == "node_started":
                parts.node_started = data
            elif name == "node_finished":
                parts.node_finished = data
            return
        key = self._node_key(run, name, data)
        if key is None:
            return
        node = run.nodes.get(key)
        if node is None:
            node = run.nodes[key] = _NodeParts(order=run.next_order())
        if name == "node_started":
            node.started = data
        elif name == "node_finished":
            node.finished = data
        else:
            node.retries[_int(data.get("retry_index")) or len(node.retries) + 1] = data

    def _container(self, run: _RunParts, node_id: str, node_type: str) -> _ContainerParts:
        parts = run.containers.get(node_id)
        if parts is None:
            parts = run.containers[node_id] = _ContainerParts(node_type=node_type, order=run.next_order())
        return parts

    def _merge_container_event(self, run: _RunParts, name: str, data: JSONDict) -> None:
        node_type, _, stage = name.partition("_")
        parts = self._container(run, str(data.get("node_id") or data.get("id")), node_type)
        if stage == "started":
            parts.started = data
        elif stage == "completed":
            parts.completed = data
        else:
            index = _int(data.get("index"))
            if index is not None:
                parts.rounds.setdefault(index, run.next_order())

    def _merge_agent_log(self, run: _RunParts, data: JSONDict) -> None:
        execution_id = data.get("node_execution_id")
        log_id = data.get("id")
        if not execution_id or not log_id:
            return
        node = run.nodes.get(str(execution_id))
        if node is None:
            node = run.nodes[str(execution_id)] = _NodeParts(order=run.next_order())
        previous = node.logs.get(str(log_id))
        if previous is None:
            node.logs[str(log_id)] = (data, run.next_order())
        elif _LOG_STATUS_RANK.get(str(data.get("status")), 1) >= _LOG_STATUS_RANK.get(
            str(previous[0].get("status")), 1
        ):
            node.logs[str(log_id)] = (data, previous[1])

    # --- building ------------------------------------------------------------------------------

    def _close(self, key: str) -> WorkflowRun:
        parts = self._runs.pop(key)
        self._completed[key] = None
        while len(self._completed) > self._memory:
            self._completed.popitem(last=False)
        for task_id in [t for t, k in self._task_runs.items() if k == key]:
            del self._task_runs[task_id]
        for context in [c for c, k in self._context_runs.items() if k == key]:
            del self._context_runs[context]
        return build_run(parts)


def _run_status(parts: _RunParts) -> str:
    if parts.finished is not None and parts.finished.get("status"):
        return str(parts.finished["status"])
    if parts.error is not None:
        return "failed"
    if parts.paused:
        return "paused"
    if parts.message_end is not None and not parts.has_workflow:
        return "succeeded"
    return RUN_STATUS_INCOMPLETE


def build_run(parts: _RunParts) -> WorkflowRun:
    started = _dict(parts.started)
    finished = _dict(parts.finished)
    inputs = _opt_dict(started.get("inputs"))
    sys_inputs = inputs or {}
    status = _run_status(parts)
    message_meta = _dict(_dict(parts.message_end).get("metadata"))
    error = finished.get("error") or _dict(parts.error).get("message")
    created_candidates = [
        t for t in (_ts(started.get("created_at")), _ts(finished.get("created_at"))) if t is not None
    ] or [t for n in parts.nodes.values() for t in (_ts(_dict(n.started or n.finished).get("created_at")),) if t]
    nodes = tuple(sorted((_build_node(eid, node, status) for eid, node in parts.nodes.items()), key=lambda n: n.order))
    return WorkflowRun(
        run_id=parts.run_id or str(parts.message_id or parts.key),
        status=status,
        source="stream",
        task_id=parts.task_id,
        workflow_id=str(finished.get("workflow_id") or started.get("workflow_id") or "") or None,
        app_id=_str(sys_inputs.get("sys.app_id")),
        conversation_id=parts.conversation_id or _str(sys_inputs.get("sys.conversation_id")),
        message_id=parts.message_id,
        user_id=_str(sys_inputs.get("sys.user_id")),
        created_at=min(created_candidates) if created_candidates else None,
        finished_at=_ts(finished.get("finished_at")),
        elapsed_time=_num(finished.get("elapsed_time")),
        inputs=inputs,
        outputs=_opt_dict(finished.get("outputs")),
        error=str(error) if error else None,
        total_tokens=_int(finished.get("total_tokens")),
        total_steps=_int(finished.get("total_steps")),
        exceptions_count=_int(finished.get("exceptions_count")),
        nodes=nodes,
        containers=tuple(_build_container(node_id, c, nodes, status) for node_id, c in parts.containers.items()),
        agent_thoughts=tuple(sorted(_build_thoughts(parts), key=lambda t: (t.position, t.order))),
        events=tuple(sorted(parts.events.values(), key=lambda e: e.order)),
        message_usage=_opt_dict(message_meta.get("usage")),
        retriever_resources=tuple(r for r in message_meta.get("retriever_resources") or () if isinstance(r, dict)),
    )


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _build_node(execution_id: str, parts: _NodeParts, run_status: str) -> NodeRun:
    started, finished = _dict(parts.started), _dict(parts.finished)
    last_retry = parts.retries[max(parts.retries)] if parts.retries else {}
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
        index=_int(data.get("index")),
        created_at=_ts(started.get("created_at")) or _ts(data.get("created_at")),
        finished_at=_ts(finished.get("finished_at")),
        elapsed_time=_num(finished.get("elapsed_time")),
        inputs=_opt_dict(finished.get("inputs")) or _opt_dict(started.get("inputs")),
        process_data=_opt_dict(finished.get("process_data")),
        outputs=_opt_dict(finished.get("outputs")),
        error=_str(finished.get("error")),
        execution_metadata=metadata,
        iteration_id=_str(data.get("iteration_id") or metadata.get("iteration_id")),
        loop_id=_str(data.get("loop_id") or metadata.get("loop_id")),
        iteration_index=_int(metadata.get("iteration_index")),
        loop_index=_int(metadata.get("loop_index")),
        parallel_id=_str(data.get("parallel_id") or metadata.get("parallel_id")),
        parallel_start_node_id=_str(data.get("parallel_start_node_id") or metadata.get("parallel_start_node_id")),
        agent_strategy=_agent_strategy(started.get("agent_strategy") or data.get("agent_strategy")),
        retries=tuple(_build_attempt(index, retry) for index, retry in sorted(parts.retries.items())),
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
        elapsed_time=_num(data.get("elapsed_time")),
        created_at=_ts(data.get("created_at")),
        finished_at=_ts(data.get("finished_at")),
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


def _build_container(
    node_id: str, parts: _ContainerParts, children: tuple[NodeRun, ...], run_status: str
) -> ContainerRun:
    started = {**_dict(parts.node_started), **_dict(parts.started)}
    completed = {**_dict(parts.node_finished), **_dict(parts.completed)}
    rounds = set(parts.rounds)
    index_attr = "iteration_index" if parts.node_type == "iteration" else "loop_index"
    id_attr = "iteration_id" if parts.node_type == "iteration" else "loop_id"
    rounds.update(getattr(n, index_attr) for n in children if getattr(n, id_attr) == node_id)
    rounds.discard(None)  # type: ignore[arg-type]
    if parts.node_type == "loop" and parts.started is not None:
        rounds.add(0)  # Dify sends loop_next only between rounds: round 0 has none
    if completed.get("status"):
        status = str(completed["status"])
    elif parts.completed is not None:
        status = "failed" if completed.get("error") else "succeeded"
    elif any(getattr(n, id_attr) == node_id and n.status == "failed" for n in children):
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
        created_at=_ts(started.get("created_at")),
        finished_at=_ts(completed.get("finished_at")),
        elapsed_time=_num(completed.get("elapsed_time")),
        inputs=_opt_dict(completed.get("inputs")) or _opt_dict(started.get("inputs")),
        outputs=_opt_dict(completed.get("outputs")),
        error=_str(completed.get("error")),
        metadata=_dict(started.get("metadata")),
        execution_metadata={**node_meta, **metadata},
        rounds=tuple(sorted(rounds)),
        total_tokens=_int(completed.get("total_tokens")),
        steps=_int(completed.get("steps")),
        iteration_id=_str(started.get("iteration_id") or node_meta.get("iteration_id")),
        loop_id=_str(started.get("loop_id") or node_meta.get("loop_id")),
        iteration_index=_int(node_meta.get("iteration_index")),
        loop_index=_int(node_meta.get("loop_index")),
    )


def _build_thoughts(parts: _RunParts) -> Iterator[AgentThought]:
    for thought_id, (data, order) in parts.thoughts.items():
        yield AgentThought(
            id=thought_id,
            position=_int(data.get("position")) or 0,
            thought=str(data.get("thought") or ""),
            observation=str(data.get("observation") or ""),
            tool=str(data.get("tool") or ""),
            tool_input=str(data.get("tool_input") or ""),
            created_at=_ts(data.get("created_at")),
            order=order,
        )

"""Stream events → complete runs, one per `workflow_run_id`.

Events may arrive out of order or more than once: every piece of a run is merged by a key that does
not depend on arrival (execution id, retry index, round index, log id), so the assembled run is the
same whatever the order. A run is handed out `terminal_wait` seconds after its terminal event (late
stragglers still join it), or after `idle_timeout` seconds without any event, as `incomplete`.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import OrderedDict
from itertools import count

from bridge.dify.model import CHUNK_EVENTS, CONTAINER_EVENTS, DifyEvent, JSONDict, RunEvent, WorkflowRun
from bridge.dify.run_parts import (
    ContainerParts,
    NodeParts,
    RunParts,
    as_timestamp,
    build_run,
    container_key,
    fingerprint,
    packed_data,
)
from bridge.dify.values import as_int

logger = logging.getLogger(__name__)

_IGNORED_EVENTS = frozenset({"ping"}) | CHUNK_EVENTS
# Where two copies of one agent-log entry disagree, the later stage wins, whatever arrived last.
_LOG_STATUS_RANK = {"start": 0, "running": 0, "success": 1, "succeeded": 1, "error": 1, "failed": 1}


class RunAssembler:
    """Collects `DifyEvent`s into `WorkflowRun`s. Not thread-safe: one owner feeds and polls it."""

    def __init__(self, idle_timeout: float = 300.0, terminal_wait: float = 2.0, completed_run_memory: int = 10_000):
        self.idle_timeout = idle_timeout
        self.terminal_wait = terminal_wait
        self._memory = completed_run_memory
        self._runs: dict[str, RunParts] = {}
        self._task_runs: dict[str, str] = {}  # task_id → run key
        self._context_runs: dict[str, str] = {}  # stream context → last run key, for `error` events
        # The other way round (run key → the task ids and contexts ever pointed at it), so that closing a run
        # forgets its own instead of looking through every open run's.
        self._tasks_of: dict[str, set[str]] = {}
        self._contexts_of: dict[str, set[str]] = {}
        self._completed: OrderedDict[str, None] = OrderedDict()
        self.dropped_late = 0
        # Events dropped for having no run, task or stream to join: counted, the caller says so once per batch.
        self.dropped_orphans = 0
        # Open runs by when they may be due, so that `due` looks at those only, not at every open run after
        # every event. An entry may be stale (its run closed, or given a later deadline since): it is checked
        # when it comes up. `_scheduled`: each open run's earliest entry; `_opened`: the order runs opened in,
        # which `due` hands runs out in.
        self._deadlines: list[tuple[float, int, str]] = []
        self._scheduled: dict[str, float] = {}
        self._opened: dict[str, int] = {}
        self._sequence = count()

    def __len__(self) -> int:
        return len(self._runs)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def signed_elsewhere(self, event: DifyEvent) -> str | None:
        """The open run `event` would join when another app than the event's signed it, else None."""
        key = self._key_for_lookup(event)
        run = self._runs.get(key) if key is not None else None
        if run is None or not run.app_signed or event.app_id is None or run.app_id == event.app_id:
            return None
        return run.built_run_id

    def _key_for_lookup(self, event: DifyEvent) -> str | None:
        if event.workflow_run_id:
            return event.workflow_run_id
        return self._task_runs.get(event.task_id) if event.task_id else None

    def opens_run(self, event: DifyEvent) -> bool:
        """True if `add` would start a new run for `event` (admission control asks before accepting it)."""
        if event.event in _IGNORED_EVENTS:
            return False
        if not event.workflow_run_id and not event.task_id:
            return False  # joins its stream's last run, or is dropped
        key = self._key_for_lookup(event)
        return key is None or (key not in self._runs and key not in self._completed)

    def add(
        self,
        event: DifyEvent,
        now: float,
        context: str | None = None,
        receiver: str = "replay",
        journal: int | None = None,
    ) -> bool:
        """Merges `event` into its run; `context` names the stream it came on, `receiver` what delivered it,
        `journal` the row it is stored in. False if the event was not kept (ping, chunk, late, orphan)."""
        if event.event in _IGNORED_EVENTS:
            return False
        key = self._key_for(event, context)
        if key is None:
            self.dropped_orphans += 1
            return False
        if key in self._completed:
            self.dropped_late += 1
            return False
        run = self._runs.get(key)
        if run is None:
            run = self._open(key, receiver)
        # Nearly every event comes on the stream its run's last one came on: nothing to note then (a context
        # pointing at a run is always among that run's contexts).
        if context is not None and self._context_runs.get(context) != key:
            self._context_runs[context] = key
            self._contexts_of.setdefault(key, set()).add(context)
        run.last_activity = now
        if event.workflow_run_id and run.run_id is None:
            run.run_id = event.workflow_run_id
        run.task_id = run.task_id or event.task_id
        run.conversation_id = run.conversation_id or event.conversation_id
        run.message_id = run.message_id or event.message_id
        if journal is not None:
            run.journal.append(journal)
        if event.app_id is not None:
            run.signed_by(event.app_id)
        self._merge(run, event, now)
        self._schedule(key, run)
        return True

    def due(self, now: float) -> list[WorkflowRun]:
        """Runs whose terminal wait or idle timeout has passed, removed from the assembler."""
        return [build_run(parts) for parts in self.due_parts(now)]

    def drain(self) -> list[WorkflowRun]:
        """Every run still open, closed now (end of a replay, shutdown)."""
        return [build_run(parts) for parts in self.drain_parts()]

    def due_parts(self, now: float) -> list[RunParts]:
        """`due`, not built yet (`build_run`): the service builds runs outside its lock, or in a worker."""
        # Entries up to a hair past `now`: a deadline is a sum, rounded, where the test below is a difference.
        limit = now + abs(now) * 1e-12
        deadlines = self._deadlines
        if not deadlines or deadlines[0][0] > limit:
            return []  # nearly every call in a replay, which asks after each record
        ready: set[str] = set()
        later = []
        while deadlines and deadlines[0][0] <= limit:
            _, _, key = heapq.heappop(deadlines)
            run = self._runs.get(key)
            if run is None or key in ready:
                continue
            if self._is_due(run, now):
                ready.add(key)
            else:
                later.append((key, run))
        for key, run in later:
            self._scheduled.pop(key, None)
            self._schedule(key, run)
        return [self._close(key) for key in sorted(ready, key=self._opened.__getitem__)]

    def next_deadline(self) -> float:
        """When the first open run may be due (inf: none open): `due_parts` then closes it. Possibly earlier
        than any run is (an entry gone stale), never later."""
        return self._deadlines[0][0] if self._deadlines else math.inf

    def _is_due(self, run: RunParts, now: float) -> bool:
        return (
            run.terminal_at is not None and now - run.terminal_at >= self.terminal_wait
        ) or now - run.last_activity >= self.idle_timeout

    def _open(self, key: str, receiver: str) -> RunParts:
        run = self._runs[key] = RunParts(key=key, receiver=receiver)
        self._opened[key] = next(self._sequence)
        return run

    def _schedule(self, key: str, run: RunParts) -> None:
        """An entry for `run` at its deadline, unless one as early is there already."""
        deadline = run.last_activity + self.idle_timeout
        if run.terminal_at is not None:
            deadline = min(deadline, run.terminal_at + self.terminal_wait)
        if deadline < self._scheduled.get(key, math.inf):
            self._scheduled[key] = deadline
            heapq.heappush(self._deadlines, (deadline, next(self._sequence), key))
            if len(self._deadlines) > 2 * len(self._runs) + 1024:  # mostly stale: only the earliest of each
                self._deadlines = [(d, next(self._sequence), k) for k, d in self._scheduled.items()]
                heapq.heapify(self._deadlines)

    def drain_parts(self) -> list[RunParts]:
        """`drain`, not built yet."""
        return [self._close(key) for key in list(self._runs)]

    # --- keys ----------------------------------------------------------------------------------

    def _key_for(self, event: DifyEvent, context: str | None) -> str | None:
        if event.workflow_run_id:
            key = event.workflow_run_id
            if event.task_id:
                self._adopt_task(event.task_id, key)
            return key
        if event.task_id:
            known = self._task_runs.get(event.task_id)
            if known is not None:
                return known
            placeholder = self._task_runs[event.task_id] = f"task:{event.task_id}"
            self._tasks_of[placeholder] = {event.task_id}
            return placeholder
        if context is not None:
            return self._context_runs.get(context)
        return None

    def _adopt_task(self, task_id: str, key: str) -> None:
        """Chat events (message_end, agent_thought) carry only task_id: fold them into the run."""
        previous = self._task_runs.get(task_id)
        if previous == key:  # as nearly always: noted at the run's first event (and among its task ids since)
            return
        self._task_runs[task_id] = key
        self._tasks_of.setdefault(key, set()).add(task_id)
        # Only a placeholder keyed by the task id is folded in; a task id reused by another run is not ours.
        if previous is None or previous == key or not previous.startswith("task:") or previous not in self._runs:
            return
        orphan = self._runs.pop(previous)
        self._forget(previous)
        self._tasks_of.pop(previous, None)  # its one task id points at `key` now
        run = self._runs.get(key) or self._open(key, orphan.receiver)
        run.message_end = run.message_end or orphan.message_end
        run.error = run.error or orphan.error
        run.thoughts.update(orphan.thoughts)
        run.events.update(orphan.events)
        run.order = max(run.order, orphan.order)
        run.conversation_id = run.conversation_id or orphan.conversation_id
        run.message_id = run.message_id or orphan.message_id
        run.journal.extend(orphan.journal)

    # --- merging -------------------------------------------------------------------------------

    def _merge(self, run: RunParts, event: DifyEvent, now: float) -> None:
        name, data = event.event, event.data
        if name == "workflow_started":
            run.set_started(data)
        elif name == "workflow_finished":
            run.finished = packed_data(event)
            run.terminal_at = now
        elif name in ("node_started", "node_finished", "node_retry"):
            self._merge_node(run, event)
        elif name in CONTAINER_EVENTS:
            self._merge_container_event(run, event)
        elif name == "agent_log":
            self._merge_agent_log(run, data)
        elif name == "agent_thought":
            thought_id = str(data.get("id") or f"position-{data.get('position')}")
            previous = run.thoughts.get(thought_id)
            # The thought's time is on the envelope (`created_at`), which normalization keeps apart from data.
            merged = {"created_at": event.created_at, **(previous[0] if previous else {})}
            merged.update({k: v for k, v in data.items() if v not in (None, "")})
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

    def _keep_event(self, run: RunParts, event: DifyEvent) -> None:
        key = fingerprint(event.event, event.data)
        if key not in run.events:
            created = event.created_at if event.created_at is not None else as_timestamp(event.data.get("created_at"))
            run.events[key] = RunEvent(event.event, event.data, created, run.next_order())

    def _node_key(self, run: RunParts, name: str, data: JSONDict) -> str | None:
        execution_id = data.get("id")
        if execution_id:
            return str(execution_id)
        seen = fingerprint(name, data)
        if seen in run.anonymous_seen:
            return None
        run.anonymous_seen.add(seen)
        counter_key = (name, str(data.get("node_id")))
        occurrence = run.anonymous.get(counter_key, 0)
        run.anonymous[counter_key] = occurrence + 1
        return f"{run.key}/{data.get('node_id')}/{occurrence}"

    def _merge_node(self, run: RunParts, event: DifyEvent) -> None:
        name, data = event.event, event.data
        if data.get("node_type") in ("iteration", "loop"):
            parts = self._container(run, str(data["node_id"]), str(data["node_type"]))
            if name == "node_started":
                parts.node_started = packed_data(event)
            elif name == "node_finished":
                parts.node_finished = packed_data(event)
            return
        key = self._node_key(run, name, data)
        if key is None:
            return
        node = run.nodes.get(key)
        if node is None:
            node = run.nodes[key] = NodeParts(order=run.next_order())
        if name == "node_started":
            node.started = packed_data(event)
        elif name == "node_finished":
            node.finished = packed_data(event)
        else:
            node.retries[as_int(data.get("retry_index")) or len(node.retries) + 1] = packed_data(event)

    def _container(self, run: RunParts, node_id: str, node_type: str) -> ContainerParts:
        """The container's latest execution."""
        parts = run.containers.get(container_key(node_id, run.executions.get(node_id, 1) - 1))
        if parts is None:
            parts = run.containers[node_id] = ContainerParts(node_type=node_type, order=run.next_order())
        return parts

    def _merge_container_event(self, run: RunParts, event: DifyEvent) -> None:
        data = event.data
        node_type, _, stage = event.event.partition("_")
        node_id = str(data.get("node_id") or data.get("id"))
        parts = self._container(run, node_id, node_type)
        if stage == "started":
            packed = packed_data(event)
            if parts.completed is not None and parts.started not in (None, packed):
                # Started again after it completed: a container nested in another, run once a round of the outer
                # (Dify 1.14.1 gives every run of it the same id; recorded, faults8 `aftenskole_*`).
                count = run.executions[node_id] = run.executions.get(node_id, 1) + 1
                parts = run.containers[container_key(node_id, count - 1)] = ContainerParts(node_type, run.next_order())
            parts.started = packed
        elif stage == "completed":
            parts.completed = packed_data(event)
            parts.closed = parts.closed or run.next_order()
        else:
            index = as_int(data.get("index"))
            if index is not None:
                parts.rounds.setdefault(index, run.next_order())

    def _merge_agent_log(self, run: RunParts, data: JSONDict) -> None:
        execution_id = data.get("node_execution_id")
        log_id = data.get("id")
        if not execution_id or not log_id:
            return
        node = run.nodes.get(str(execution_id))
        if node is None:
            node = run.nodes[str(execution_id)] = NodeParts(order=run.next_order())
        previous = node.logs.get(str(log_id))
        if previous is None:
            node.logs[str(log_id)] = (data, run.next_order())
        elif _LOG_STATUS_RANK.get(str(data.get("status")), 1) >= _LOG_STATUS_RANK.get(
            str(previous[0].get("status")), 1
        ):
            node.logs[str(log_id)] = (data, previous[1])

    # --- closing -------------------------------------------------------------------------------

    def _forget(self, key: str) -> None:
        """An open run's schedule, once it is closed or merged into another (its heap entries go stale)."""
        self._scheduled.pop(key, None)
        del self._opened[key]

    def _close(self, key: str) -> RunParts:
        parts = self._runs.pop(key)
        self._forget(key)
        self._completed[key] = None
        while len(self._completed) > self._memory:
            self._completed.popitem(last=False)
        for task_id in self._tasks_of.pop(key, ()):
            if self._task_runs.get(task_id) == key:
                del self._task_runs[task_id]
        for context in self._contexts_of.pop(key, ()):
            if self._context_runs.get(context) == key:
                del self._context_runs[context]
        return parts

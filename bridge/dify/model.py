"""Dify run data as the bridge sees it: events in, assembled runs out. No I/O here.

Names follow Dify's own (`node_finished`, `workflow_run_id`, `execution_metadata`) so a reader can
check a field against Dify's source or a captured stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

JSONDict = Mapping[str, Any]

# Statuses Dify 1.14.1 reports on a run (`workflow_finished.data.status`, its WorkflowExecutionStatus) and on a
# node (`node_finished.data.status`, WorkflowNodeExecutionStatus): what a webhook payload may say. Succeeded,
# failed, partial-succeeded, stopped, exception and retry are in the recordings; the rest read from Dify's source.
RUN_STATUSES = ("running", "succeeded", "failed", "stopped", "partial-succeeded", "paused")
NODE_STATUSES = ("pending", "running", "succeeded", "failed", "exception", "stopped", "paused", "retry")
# Ours, for runs cut short.
RUN_STATUS_INCOMPLETE = "incomplete"
CONTAINER_EVENTS = frozenset(
    {"iteration_started", "iteration_next", "iteration_completed", "loop_started", "loop_next", "loop_completed"}
)
# Events that carry streamed text: counted, not stored (the node's outputs hold the full text).
CHUNK_EVENTS = frozenset(
    {"text_chunk", "reasoning_chunk", "message", "agent_message", "tts_message", "tts_message_end", "text_replace"}
)


# The containers around a node or container (outside the one it is in), outermost first, each with its round.
Place = tuple[tuple[str, int | None], ...]


class DifyEvent(msgspec.Struct, frozen=True):
    """One Dify stream event after normalization (snake_case keys, user data untouched).

    `data` is the event's `data` object; for chat events that have none (message_end, agent_thought,
    error, ...) it is the top-level object minus the envelope keys below.
    """

    event: str
    data: JSONDict
    workflow_run_id: str | None = None
    task_id: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    created_at: float | None = None
    # Where the event came from, for error messages and arrival order: (source name, line number).
    source: str = ""
    line: int = 0
    # The data object as the JSON text it came in, for events read in Dify's own shape whose data the bridge
    # only routes by: `data` then holds just the fields read here (ids, type, indexes, times, status).
    packed: bytes | None = None
    # The registered app whose secret signed the request that brought the event (the stream receiver): the run's
    # app, whatever the event's own `sys.app_id` says. None for unsigned ways in (proxy, replay).
    app_id: str | None = None


class Attempt(msgspec.Struct, frozen=True):
    """A failed attempt of a node that Dify retried (`node_retry`)."""

    retry_index: int
    status: str
    error: str | None
    elapsed_time: float | None
    created_at: float | None
    finished_at: float | None
    inputs: JSONDict | None = None
    process_data: JSONDict | None = None
    outputs: JSONDict | None = None


class AgentLogEntry(msgspec.Struct, frozen=True):
    """One `agent_log` entry of an agent node (a round, a thought, a tool call)."""

    id: str
    label: str
    parent_id: str | None
    status: str | None
    error: str | None
    data: JSONDict
    metadata: JSONDict
    order: int


class NodeRun(msgspec.Struct, frozen=True):
    """One execution of a graph node."""

    execution_id: str
    node_id: str
    node_type: str
    title: str
    status: str
    order: int  # arrival order of the node's first event; breaks ties within one Dify second
    index: int | None = None
    created_at: float | None = None
    finished_at: float | None = None
    elapsed_time: float | None = None
    inputs: JSONDict | None = None
    process_data: JSONDict | None = None
    outputs: JSONDict | None = None
    error: str | None = None
    execution_metadata: JSONDict = msgspec.field(default_factory=dict)
    iteration_id: str | None = None  # graph node id of the enclosing iteration
    loop_id: str | None = None  # graph node id of the enclosing loop
    iteration_index: int | None = None
    loop_index: int | None = None
    parallel_id: str | None = None
    agent_strategy: str | None = None
    retries: tuple[Attempt, ...] = ()
    # The containers around the enclosing one, outermost first, each with the round this ran in: which execution
    # of a container nested in another (run once a round of the outer) the node belongs to.
    outer: Place = ()
    agent_logs: tuple[AgentLogEntry, ...] = ()


class ContainerRun(msgspec.Struct, frozen=True):
    """An iteration or loop node: from iteration_*/loop_* events, its own node events, or its children."""

    node_id: str
    node_type: str  # "iteration" or "loop"
    title: str
    status: str
    order: int
    execution_id: str | None = None  # only when Dify sent node events for the container (older releases)
    created_at: float | None = None
    finished_at: float | None = None
    elapsed_time: float | None = None
    inputs: JSONDict | None = None
    outputs: JSONDict | None = None
    error: str | None = None
    metadata: JSONDict = msgspec.field(default_factory=dict)  # iteration_started/loop_started `metadata`
    execution_metadata: JSONDict = msgspec.field(default_factory=dict)
    rounds: tuple[int, ...] = ()  # every round index seen, sorted
    total_tokens: int | None = None
    iteration_id: str | None = None  # when the container itself sits in another container
    loop_id: str | None = None
    iteration_index: int | None = None
    loop_index: int | None = None
    # As NodeRun.outer: the containers around the one this sits in, for a container nested two deep or more.
    outer: Place = ()


class RunEvent(msgspec.Struct, frozen=True):
    """Something that happened in a run without being a node: kept as a span event on the root."""

    name: str
    data: JSONDict
    created_at: float | None
    order: int


class AgentThought(msgspec.Struct, frozen=True):
    """An `agent_thought` of a chat/agent app."""

    id: str
    position: int
    thought: str
    observation: str
    tool: str
    tool_input: str
    created_at: float | None
    order: int


class WorkflowRun(msgspec.Struct, frozen=True):
    """A whole Dify run, ready to become one trace."""

    run_id: str
    status: str
    receiver: str = "replay"  # what delivered it: webhook, stream, proxy, poller or replay (`dify.source`)
    instance: str | None = None  # the registered Dify instance it came from, where the receiver knows it
    task_id: str | None = None
    workflow_id: str | None = None
    app_id: str | None = None
    app_name: str | None = None
    app_type: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    user_id: str | None = None
    created_at: float | None = None
    finished_at: float | None = None
    elapsed_time: float | None = None
    inputs: JSONDict | None = None
    outputs: JSONDict | None = None
    error: str | None = None
    total_tokens: int | None = None
    total_steps: int | None = None
    exceptions_count: int | None = None
    nodes: tuple[NodeRun, ...] = ()
    containers: tuple[ContainerRun, ...] = ()
    agent_thoughts: tuple[AgentThought, ...] = ()
    events: tuple[RunEvent, ...] = ()
    message_usage: JSONDict | None = None  # chat apps: message_end.metadata.usage
    retriever_resources: tuple[JSONDict, ...] = ()
    # A run started by another run's node (a workflow used as a tool): that run and node execution.
    parent_run_id: str | None = None
    parent_node_execution_id: str | None = None
    # Rows of the bridge's event journal this run was assembled from: deleted when its spans are queued.
    journal: tuple[int, ...] = ()

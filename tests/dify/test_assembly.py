from __future__ import annotations

import random
import time

import pytest

from bridge.dify.assembly import RunAssembler
from bridge.dify.formats import decode_json
from bridge.dify.model import DifyEvent, WorkflowRun
from bridge.trace.otlp_wire import encode_request
from bridge.trace.spans import build_spans
from tests.runs import CAPTURES, events_of


def _assemble(events: list[DifyEvent]) -> list[WorkflowRun]:
    assembler = RunAssembler()
    for event in events:
        assembler.add(event, 0.0, context="test")
    return assembler.drain()


def _shape(run: WorkflowRun) -> list[tuple[object, ...]]:
    """Everything about the trace but arrival-dependent tie-breaks within one Dify second."""
    return sorted(
        (s.context.span_id if s.context else 0, s.parent.span_id if s.parent else 0, s.name,
         tuple(sorted((s.attributes or {}).items())), s.status.status_code, s.status.description,
         tuple(e.name for e in s.events))
        for s in build_spans(run)
    )  # fmt: skip


def test_shuffled_and_duplicated_events_give_the_same_trace() -> None:
    for name in ("b_iteration_ifelse_http.sse", "d_http_retry_fail.sse", "f_chatflow_llm.sse"):
        events = events_of(CAPTURES / name)
        (expected,) = _assemble(events)
        rng = random.Random(name)
        for _ in range(5):
            mixed = events + rng.sample(events, k=len(events) // 3)
            rng.shuffle(mixed)
            (run,) = _assemble(mixed)
            assert _shape(run) == _shape(expected), name


def test_reordering_within_a_node_keeps_times_identical() -> None:
    events = events_of(CAPTURES / "a_llm_simple.sse")
    (expected,) = _assemble(events)
    # finished before started, terminal in the middle, a duplicate at the end
    moved = [events[1], events[3], events[2], events[0], *events[4:]]
    terminal = next(i for i, e in enumerate(moved) if e.event == "workflow_finished")
    moved.insert(2, moved.pop(terminal))
    (run,) = _assemble([*moved, events[3]])
    assert [(s.name, s.start_time, s.end_time) for s in build_spans(run)] == [
        (s.name, s.start_time, s.end_time) for s in build_spans(expected)
    ]


def test_terminal_wait_lets_stragglers_join_then_late_events_are_dropped() -> None:
    events = events_of(CAPTURES / "a_simple_http.sse")
    terminal = next(e for e in events if e.event == "workflow_finished")
    others = [e for e in events if e is not terminal]
    assembler = RunAssembler(idle_timeout=60, terminal_wait=2)
    assembler.add(terminal, now=100)
    assert assembler.due(101) == []
    for event in others:
        assembler.add(event, now=101)
    assert assembler.due(101.5) == []
    (run,) = assembler.due(102)
    assert run.status == "succeeded" and len(run.nodes) == 3
    assembler.add(others[-1], now=103)
    assert len(assembler) == 0 and assembler.dropped_late == 1


def test_run_without_terminal_event_is_closed_as_incomplete_after_idle_timeout() -> None:
    events = [e for e in events_of(CAPTURES / "a_simple_http.sse") if e.event != "workflow_finished"][:-1]
    assembler = RunAssembler(idle_timeout=30, terminal_wait=2)
    for event in events:
        assembler.add(event, now=10)
    assert assembler.due(39) == []
    (run,) = assembler.due(40)
    assert run.status == "incomplete"
    assert [n.status for n in run.nodes] == ["succeeded", "succeeded", "incomplete"]
    root = next(s for s in build_spans(run) if s.parent is None)
    assert root.attributes is not None and root.attributes["dify.run.status"] == "incomplete"


def test_chat_events_before_any_workflow_event_join_the_run_by_task_id() -> None:
    events = events_of(CAPTURES / "f_chatflow_llm.sse")
    message_end = next(e for e in events if e.event == "message_end")
    (run,) = _assemble([message_end, *[e for e in events if e is not message_end]])
    assert run.run_id == "731e3ac1-ea9d-4f9a-9185-d2d8123adf23"
    assert run.message_usage is not None and run.message_usage["total_tokens"] == 36


def test_error_event_without_ids_closes_the_stream_run_as_failed() -> None:
    events = events_of(CAPTURES / "a_simple_http.sse")[:3]
    error = DifyEvent("error", {"status": 500, "code": "internal", "message": "model quota exceeded"})
    assembler = RunAssembler(terminal_wait=0)
    for event in [*events, error]:
        assembler.add(event, now=1, context="conn-1")
    (run,) = assembler.due(1)
    assert (run.status, run.error) == ("failed", "model quota exceeded")
    assert [e.name for e in run.events] == ["error"]


def test_java_events_without_execution_ids_pair_start_and_finish_per_node() -> None:
    def node(event: str, node_id: str, **extra: object) -> DifyEvent:
        return DifyEvent(event, {"node_id": node_id, "node_type": "code", "title": node_id, **extra}, "r")

    events = [
        node("node_started", "a"),
        node("node_finished", "a", status="succeeded", elapsed_time=0.1),
        node("node_started", "b"),
        node("node_finished", "b", status="failed", error="x", elapsed_time=0.2),
        node("node_finished", "b", status="failed", error="x", elapsed_time=0.2),  # duplicate
    ]
    (run,) = _assemble(events)
    assert [(n.node_id, n.status, n.elapsed_time) for n in run.nodes] == [("a", "succeeded", 0.1), ("b", "failed", 0.2)]


def test_agent_log_entries_merge_start_and_success() -> None:
    def log(status: str, log_id: str, parent: str | None) -> DifyEvent:
        return DifyEvent(
            "agent_log",
            {"node_execution_id": "exec", "id": log_id, "label": log_id, "parent_id": parent, "status": status,
             "data": {}, "metadata": {}, "node_id": "agent"},
            "r",
        )  # fmt: skip

    (run,) = _assemble([log("success", "round", None), log("start", "round", None), log("start", "call", "round")])
    (node,) = run.nodes
    assert [(e.id, e.status) for e in node.agent_logs] == [("round", "success"), ("call", "start")]


def test_loop_round_zero_exists_without_loop_next() -> None:
    base = {"node_id": "lp", "node_type": "loop", "title": "Loop", "id": "lp"}
    events = [
        DifyEvent("loop_started", {**base, "metadata": {"loop_length": 10}}, "r"),
        DifyEvent("loop_next", {**base, "index": 1}, "r"),
        DifyEvent("workflow_finished", {"status": "stopped", "error": "Stopped by user."}, "r"),
    ]
    (run,) = _assemble(events)
    (loop,) = run.containers
    assert loop.rounds == (0, 1) and loop.status == "stopped"


def _node(event: str, exec_id: str, node_id: str, node_type: str, **extra: object) -> DifyEvent:
    return DifyEvent(event, {"id": exec_id, "node_id": node_id, "node_type": node_type, "title": node_id, **extra}, "r")


def test_older_releases_send_node_events_for_the_container_itself() -> None:
    child_meta = {"iteration_id": "it", "iteration_index": 1}
    (run,) = _assemble(
        [
            _node("node_started", "c-exec", "it", "iteration", created_at=100),
            _node("node_started", "k1", "code", "code", iteration_id="it"),
            _node("node_finished", "k1", "code", "code", iteration_id="it", status="succeeded",
                  execution_metadata=child_meta, elapsed_time=0.5),
            _node("node_finished", "c-exec", "it", "iteration", status="succeeded", elapsed_time=2.0),
            DifyEvent("workflow_finished", {"status": "succeeded"}, "r"),
        ]
    )  # fmt: skip
    (container,) = run.containers
    assert (container.execution_id, container.elapsed_time, container.rounds) == ("c-exec", 2.0, (1,))
    assert [n.node_id for n in run.nodes] == ["code"]  # the container is not a node span of its own
    names = [s.name for s in build_spans(run)]
    assert names.count("iteration it") == 1 and "iteration[1]" in names


def test_container_without_any_container_event_is_rebuilt_from_its_children() -> None:
    (run,) = _assemble(
        [
            _node("node_finished", f"k{i}", "tool", "tool", loop_id="lp", status="succeeded",
                  execution_metadata={"loop_id": "lp", "loop_index": i}, elapsed_time=0.1)
            for i in range(2)
        ]
    )  # fmt: skip
    spans = build_spans(run)
    parents = {s.context.span_id: s.name for s in spans if s.context}
    assert sorted((s.name, parents.get(s.parent.span_id if s.parent else 0)) for s in spans if s.parent) == [
        ("execute_tool tool", "loop[0]"),
        ("execute_tool tool", "loop[1]"),
        ("loop lp", "invoke_workflow dify"),
        ("loop[0]", "loop lp"),
        ("loop[1]", "loop lp"),
    ]


def test_paused_run_and_human_input_events() -> None:
    (run,) = _assemble(
        [
            DifyEvent("workflow_started", {"id": "r", "created_at": 1}, "r"),
            DifyEvent("human_input_required", {"node_id": "ask", "form_id": "f1"}, "r"),
            DifyEvent("workflow_paused", {"reason": "human_input"}, "r"),
        ]
    )
    assert run.status == "paused"
    assert [e.name for e in run.events] == ["human_input_required", "workflow_paused"]


def test_a_node_builds_the_same_whichever_of_its_events_comes_first() -> None:
    started = DifyEvent("node_started", {"id": "e1", "node_id": "n", "node_type": "code", "title": "T",
                                         "inputs": {"q": "x" * 1000}, "created_at": 10, "predecessor_node_id": "p"},
                        workflow_run_id="r")  # fmt: skip
    finished = DifyEvent("node_finished", {"id": "e1", "node_id": "n", "node_type": "code", "title": "T",
                                           "inputs": {}, "outputs": {"a": 1}, "created_at": 11, "status": "succeeded",
                                           "elapsed_time": 1.0, "finished_at": 12}, workflow_run_id="r")  # fmt: skip
    for order in ([started, finished], [finished, started]):
        assembler = RunAssembler(terminal_wait=0)
        for event in order:
            assembler.add(event, 1.0)
        (node,) = assembler.drain()[0].nodes
        assert node.inputs == {"q": "x" * 1000}  # the finish event's inputs are empty: the start's count
        assert node.created_at == 10 and node.outputs == {"a": 1} and node.title == "T"


def test_events_read_with_their_data_unread_build_the_runs_read_the_general_way() -> None:
    for path in sorted(CAPTURES.glob("*.sse")):
        unread, general = _assemble(events_of(path)), _assemble(events_of(path, decode_json))
        assert unread == general
        assert [encode_request(build_spans(r)) for r in unread] == [encode_request(build_spans(r)) for r in general]


def _fresh_runs(count: int, rng: random.Random) -> list[list[DifyEvent]]:
    """`count` runs of real captures (a workflow, a chat flow), each with run and task ids of its own."""
    runs = []
    for index in range(count):
        path = CAPTURES / ("a_simple_http.sse", "f_chatflow_llm.sse", "d_http_retry_fail.sse")[index % 3]
        events = events_of(path)
        run_id, task_id = events[0].workflow_run_id, events[0].task_id
        text = path.read_text().replace(str(run_id), f"run-{index}").replace(str(task_id), f"task-{index}")
        runs.append(_events_from(text, f"copy-{index}"))
        if index % 5 == 0:
            rng.shuffle(runs[-1])
    return runs


def _events_from(text: str, source: str) -> list[DifyEvent]:
    from bridge.dify.formats import Record, iter_records
    from bridge.dify.normalize import normalize_event, parse_event_json

    return [
        normalize_event(r.obj, source, r.line, r.sse_event)
        for r in iter_records(text, source, parse=parse_event_json)
        if isinstance(r, Record)
    ]


def test_due_hands_out_exactly_the_runs_a_scan_of_every_open_run_finds_in_the_order_they_opened() -> None:
    """`due` keeps open runs by deadline; checked against the plain rule over every open run, with events
    interleaved, runs left without a terminal event, stragglers, and a clock that steps back now and then."""
    rng = random.Random(29)
    runs = _fresh_runs(60, rng)
    for index in range(0, 60, 7):
        runs[index] = [e for e in runs[index] if e.event not in ("workflow_finished", "message_end")]
    assembler = RunAssembler(idle_timeout=5.0, terminal_wait=1.5)
    queue = [(rng.random(), index, event) for index, run in enumerate(runs) for event in run]
    queue.sort(key=lambda item: item[0])
    now, handed_out = 1000.0, 0
    for step, (_, index, event) in enumerate(queue):
        now += rng.choice([0.0, 0.01, 0.3, 0.7, -0.2])
        assembler.add(event, now, context=f"conn-{index}")
        if step % 3 == 0:
            probe = now + rng.choice([0.0, 0.5, 1.5, 6.0])
            expected = [
                key for key, run in assembler._runs.items()
                if (run.terminal_at is not None and probe - run.terminal_at >= assembler.terminal_wait)
                or probe - run.last_activity >= assembler.idle_timeout
            ]  # fmt: skip
            assert [parts.key for parts in assembler.due_parts(probe)] == expected
            handed_out += len(expected)
    assert handed_out + len(assembler.drain()) >= 60


def test_due_looks_only_at_runs_whose_deadline_came(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thousand open runs: asking after every event which are due does not look at each one each time."""
    checked = 0
    is_due = RunAssembler._is_due

    def counting(self: RunAssembler, run: object, now: float) -> bool:
        nonlocal checked
        checked += 1
        return is_due(self, run, now)  # type: ignore[arg-type]

    monkeypatch.setattr(RunAssembler, "_is_due", counting)
    assembler = RunAssembler(idle_timeout=3000, terminal_wait=2000)
    for index, run in enumerate(_fresh_runs(1000, random.Random(1))):
        for event in run:
            assembler.add(event, now=float(index))
            assert assembler.due(float(index)) == []
    assert checked == 0
    assert [run.run_id for run in assembler.due(2001.5)] == ["run-0", "run-1"]
    assert checked == 2


def test_closing_a_run_does_not_look_through_every_open_runs_tasks_and_streams() -> None:
    """20,000 runs open at once, each with a task id and a stream of its own, then closed: each close forgets only
    its own task and stream (looking through every open run's made this quadratic: minutes here)."""
    count = 20_000
    assembler = RunAssembler(idle_timeout=600, terminal_wait=1)
    for index in range(count):
        data = {"id": f"run-{index}", "workflow_id": "w", "created_at": 1795552883}
        started = DifyEvent("workflow_started", data, workflow_run_id=f"run-{index}", task_id=f"task-{index}")
        assembler.add(started, now=0.0, context=f"stream-{index}")
    for index in range(count):
        finished = {"id": f"run-{index}", "status": "succeeded", "created_at": 1795552883, "finished_at": 1795552884}
        assembler.add(DifyEvent("workflow_finished", finished, workflow_run_id=f"run-{index}"), now=1.0)
    start = time.perf_counter()
    closed = assembler.due_parts(2.0)
    took = time.perf_counter() - start
    assert len(closed) == count and len(assembler) == 0
    assert assembler._task_runs == {} and assembler._context_runs == {}
    assert took < 5.0, f"closing {count} runs took {took:.1f} s"


def test_an_error_event_joins_the_run_that_last_came_on_its_stream_when_runs_take_turns() -> None:
    """A run's events after the first on the same stream note nothing new; the stream's run changes as another's
    events come on it, and back, and every note is forgotten when the runs close."""
    first, second = (events_of(CAPTURES / name)[:3] for name in ("a_simple_http.sse", "a_llm_simple.sse"))
    assert first[0].workflow_run_id != second[0].workflow_run_id and first[0].task_id
    error = DifyEvent("error", {"status": 500, "code": "internal", "message": "model quota exceeded"})
    assembler = RunAssembler(terminal_wait=0)
    for event in [first[0], first[1], second[0], second[1], first[2], second[2], error]:
        assembler.add(event, now=1, context="conn-1")
    (run,) = assembler.due(1)
    assert (run.run_id, run.status) == (second[0].workflow_run_id, "failed")
    for event in (first[0], error):
        assembler.add(event, now=2, context="conn-1")
    (run,) = assembler.due(2)
    assert (run.run_id, run.status) == (first[0].workflow_run_id, "failed")
    assert assembler._task_runs == {} and assembler._context_runs == {}
    assert assembler._tasks_of == {} and assembler._contexts_of == {}

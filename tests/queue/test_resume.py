"""A stopped bridge resumes: half-received stream runs and undelivered runs survive a restart."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from msgspec.structs import replace
from opentelemetry.sdk.trace import ReadableSpan

from bridge.cli.commands import main
from bridge.config.loader import parse_config
from bridge.config.models import BridgeConfig
from bridge.dify.formats import decode_json
from bridge.dify.model import RUN_STATUS_INCOMPLETE, DifyEvent, WorkflowRun
from bridge.queue.journal import event_of, to_row
from bridge.queue.rows import JournalRow
from bridge.queue.storage import QueueStorage
from bridge.service.pipeline_workers import WorkerLost
from bridge.service.service import BridgeService
from bridge.trace.otlp_spans import to_spans
from tests.dify_otlp_exports import provider_request
from tests.dify_recordings import client_answer, rebuilt_spans, recorded_spans
from tests.otlp_sink import OtlpSink, ReceivedSpan
from tests.runs import CAPTURES, events_of, load_run, spans_of

CAPTURE = CAPTURES / "b_iteration_ifelse_http.sse"


def _config(queue: str, sink: OtlpSink) -> BridgeConfig:
    return parse_config(_config_text(queue, sink))


def _config_text(queue: str, sink: OtlpSink) -> str:
    return (
        f"exporters: {{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}},"
        " retry_on_failure: {initial_interval: 20ms}}}\n"
        "processors: {batch: {timeout: 10ms}}\n"
        "service:\n"
        "  assembly: {terminal_wait: 0s}\n"
        f"  queue: {{path: '{queue}'}}\n"
        "  pipelines: {traces: {processors: [batch], exporters: [otlp]}}\n"
    )


def _assert_whole(received: list[ReceivedSpan], expected: list[ReadableSpan] | None = None) -> None:
    """The run (by default the capture's) arrived whole, once per span."""
    expected = spans_of(CAPTURE) if expected is None else expected
    assert len(received) == len(expected) == len({s.span_id for s in received})
    assert sorted(s.name for s in received) == sorted(s.name for s in expected)


def test_a_stream_run_half_received_before_a_restart_is_whole_after_it(tmp_path: Path) -> None:
    events = events_of(CAPTURE)
    half = len(events) // 2
    with OtlpSink() as sink:
        first = BridgeService(_config(str(tmp_path / "q.db"), sink))
        first.submit_events(events[:half], 1000.0, "file", "replay")
        first.shutdown()
        assert sink.spans() == []  # nothing was closed as incomplete
        second = BridgeService(_config(str(tmp_path / "q.db"), sink))
        assert (events[0].workflow_run_id or "") in second.assembler
        second.submit_events(events[half:], 1001.0, "file", "replay")
        assert second.poll(1001.0) == 1
        assert second.flush(10)
        second.shutdown()
        received = sink.spans()
    _assert_whole(received)
    reopened = QueueStorage(str(tmp_path / "q.db"))
    assert reopened.journal_rows() == []  # the finished run's events left the journal with its spans
    reopened.close()


def test_runs_closed_on_the_event_loop_are_queued_and_one_that_fails_stays_in_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` with pipeline workers closes runs on its loop (`poll_async`): a run built there is queued with its
    journal rows gone; one its worker is lost with is logged and keeps its rows for the next start."""
    captures = [CAPTURE, CAPTURES / "a_simple_http.sse"]
    with OtlpSink() as sink:
        config = parse_config(_config_text(str(tmp_path / "q.db"), sink) + "  workers: 1\n")

        async def serve() -> tuple[list[JournalRow], list[JournalRow]]:
            service = BridgeService(config, loop=asyncio.get_running_loop())
            try:
                await service.submit_events_async(events_of(captures[0]), 1000.0, "first", "replay")
                await service.poll_async(1000.0)
                await service.closing_done()
                after_first = service.storage.journal_rows()

                async def lost(run: object) -> None:
                    raise WorkerLost("pipeline-worker-0 exited (code -9) before this run was built")

                monkeypatch.setattr(service.runs, "process_async", lost)
                await service.submit_events_async(events_of(captures[1]), 1000.0, "second", "replay")
                await service.poll_async(1000.0)
                await service.closing_done()
                return after_first, service.storage.journal_rows()
            finally:
                await asyncio.to_thread(service.shutdown, 10)

        after_first, after_second = asyncio.run(serve())
        received = sink.spans()
    assert after_first == []
    _assert_whole(received)
    lost = events_of(captures[1])
    assert after_second and {row.context for row in after_second} == {"second"}
    with OtlpSink() as sink:
        restarted = BridgeService(_config(str(tmp_path / "q.db"), sink))
        assert (lost[0].workflow_run_id or "") in restarted.assembler  # resumed at the next start
        restarted.shutdown()


def test_runs_queued_while_the_backend_was_down_are_delivered_after_a_restart(tmp_path: Path) -> None:
    with OtlpSink() as down:
        pass
    first = BridgeService(_config(str(tmp_path / "q.db"), down))
    spans = first.submit_run(load_run(CAPTURE))
    assert first.shutdown(timeout=0.2) is False  # not delivered: kept
    with OtlpSink(down.grpc_port, down.http_port) as sink:
        second = BridgeService(_config(str(tmp_path / "q.db"), sink))
        assert second.flush(10)
        second.shutdown()
        assert len(sink.spans()) == spans


def test_an_in_memory_queue_exports_open_runs_as_incomplete_at_shutdown() -> None:
    events = events_of(CAPTURE)
    with OtlpSink() as sink:
        service = BridgeService(_config(":memory:", sink))
        service.submit_events(events[:5], 1000.0, "file", "replay")
        assert service.shutdown()
        (root,) = [s for s in sink.spans() if s.parent_span_id is None]
    assert root.attributes["dify.run.status"] == RUN_STATUS_INCOMPLETE


# Dify 1.14.1's recorded export of a run: its workflow span comes last, so the trace is open until it is in.
RECORDED = "b_iteration_ifelse_http"


def test_otlp_spans_of_a_trace_still_open_at_a_restart_are_whole_after_it(tmp_path: Path) -> None:
    spans = recorded_spans(RECORDED)
    with OtlpSink() as sink:
        first = BridgeService(_config(str(tmp_path / "q.db"), sink))
        first.submit_spans(spans[: len(spans) // 2], 1000.0, "replay")
        first.submit_spans(spans[len(spans) // 2 : -1], 1000.0, "replay")
        first.shutdown()
        assert sink.spans() == []
        second = BridgeService(_config(str(tmp_path / "q.db"), sink))
        assert len(second.traces) == 1
        second.submit_spans(spans[-1:], 1001.0, "replay")
        assert second.poll(1001.0) == 1
        assert second.flush(10)
        second.shutdown()
        received = sink.spans()
    _assert_whole(received, rebuilt_spans(RECORDED))
    reopened = QueueStorage(str(tmp_path / "q.db"))
    assert reopened.span_journal_rows() == []
    reopened.close()


def test_a_trace_resumed_long_after_its_last_span_waits_for_the_rest_from_the_restart(tmp_path: Path) -> None:
    """The bridge was down longer than the trace's wait: the rest of it can only come now (a sender retrying)."""
    spans = recorded_spans(RECORDED)
    with OtlpSink() as sink:
        first = BridgeService(_config(str(tmp_path / "q.db"), sink))
        first.submit_spans(spans[:-1], 1000.0, "replay")  # long ago: export_wait (30 s) is long past
        first.shutdown()
        second = BridgeService(_config(str(tmp_path / "q.db"), sink))
        assert second.poll(time.time() + 29) == 0
        second.submit_spans(spans[-1:], time.time(), "replay")
        assert second.poll(time.time()) == 1
        assert second.flush(10)
        second.shutdown()
        received = sink.spans()
    _assert_whole(received, rebuilt_spans(RECORDED))


def test_an_otlp_copy_of_a_run_queued_before_is_dropped_and_forgotten(tmp_path: Path) -> None:
    run = load_run(client_answer(RECORDED))  # the stream of the run the recording exported
    with OtlpSink() as sink:
        service = BridgeService(_config(str(tmp_path / "q.db"), sink))
        count = service.submit_run(run)
        service.submit_spans(recorded_spans(RECORDED), 1000.0, "replay")
        assert service.poll(1000.0) == 1
        assert service.flush(10)
        service.shutdown()
        assert len(sink.spans()) == count  # once, not twice
    reopened = QueueStorage(str(tmp_path / "q.db"))
    assert reopened.span_journal_rows() == []
    reopened.close()


def test_a_dify_trace_without_its_last_span_closes_after_export_wait(tmp_path: Path) -> None:
    spans = recorded_spans(RECORDED)[:-1]
    with OtlpSink() as sink:
        service = BridgeService(_config(str(tmp_path / "q.db"), sink))
        service.submit_spans(spans, 1000.0, "replay")
        # Dify's spans wait export_wait (30 s by default) for the workflow span, not decision_wait (5 s).
        assert service.poll(1029.0) == 0
        assert service.poll(1030.0) == 1
        assert service.flush(10)
        service.shutdown()
        received = sink.spans()
    # No workflow span: nothing to rebuild from, so the spans go on as Dify sent them.
    assert sorted(s.span_id for s in received) == sorted(f"{s.context.span_id:016x}" for s in spans if s.context)


def test_a_run_that_fails_to_build_keeps_its_events_and_holds_back_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bad, good = events_of(CAPTURES / "a_llm_simple.sse"), events_of(CAPTURE)
    bad_id = bad[0].workflow_run_id
    with OtlpSink() as sink:
        service = BridgeService(_config(str(tmp_path / "q.db"), sink))
        build = service.builder.build

        def failing(run: WorkflowRun) -> list[ReadableSpan]:
            if run.run_id == bad_id:
                raise RuntimeError("a bug in the span builder")
            return build(run)

        monkeypatch.setattr(service.builder, "build", failing)
        service.submit_events(bad + good, 1000.0, "file", "replay")  # the bad run closes first
        assert service.poll(1000.0) == 2
        assert service.flush(10)
        service.shutdown()
        received = sink.spans()
    _assert_whole(received)
    assert f"run {bad_id} could not be built" in caplog.text
    reopened = QueueStorage(str(tmp_path / "q.db"))
    kept = reopened.journal_rows()  # for the next start (and whoever fixes the bug)
    assert kept and all(f'"workflow_run_id":"{bad_id}"' in row.event for row in kept)
    reopened.close()


@pytest.mark.parametrize("received", ["stream events", "otlp spans"])
def test_what_is_received_waits_for_its_journal_commit_outside_the_service_lock(
    tmp_path: Path, otlp_sink: OtlpSink, received: str
) -> None:
    """Every receiver and the closing of runs take the service's lock: a commit under it held them all up."""
    service = BridgeService(_config(f"{tmp_path}/queue.db", otlp_sink))
    if received == "stream events":
        submit = partial(service.submit_events, events_of(CAPTURE), time.time(), "ctx", "proxy")
    else:
        submit = partial(service.submit_spans, to_spans(provider_request(load_run(CAPTURE))).spans, time.time(), "otlp")
    try:
        with service.storage._lock:  # the queue's writer cannot commit meanwhile
            submitting = threading.Thread(target=submit)
            submitting.start()
            deadline = time.monotonic() + 10
            while not (len(service.assembler) or len(service.traces)):
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert service._lock.acquire(timeout=5)  # free while the commit waits
            service._lock.release()
            assert submitting.is_alive()  # not answered before what it got is on disk
        submitting.join(10)
        assert service.storage.journal_rows() or service.storage.span_journal_rows()
    finally:
        service.shutdown(timeout=0)


def test_a_journaled_event_reads_back_as_the_event_read_the_general_way() -> None:
    for event, general in zip(events_of(CAPTURE), events_of(CAPTURE, decode_json), strict=True):
        assert event_of(to_row(1, event, 1000.0, "ctx", "stream")) == general


def test_a_journaled_event_keeps_every_field_of_its_envelope() -> None:
    """An event whose data came packed has its other fields written from a struct of their own: every field, in
    text JSON must escape (quotes, line breaks, other scripts), reads back as it was."""
    packed = [event for event in events_of(CAPTURE) if event.packed is not None]
    assert packed
    odd = 'a "quoted"\nrun \u00e9\u6f22 \\ \U0001f600'
    for event in packed:
        fields = {
            "workflow_run_id": odd, "task_id": odd + "t", "conversation_id": odd + "c", "message_id": odd + "m",
            "created_at": 1795553248.123456, "source": odd + "s", "line": 2**40, "app_id": odd + "a",
        }  # fmt: skip
        assert set(fields) | {"event", "data", "packed"} == set(DifyEvent.__struct_fields__)  # no field forgotten
        changed = replace(event, **fields)
        read = event_of(to_row(1, changed, 1000.0, "ctx", "stream"))
        assert changed.packed is not None and read == replace(changed, data=decode_json(changed.packed), packed=None)


def test_a_journaled_integer_past_pythons_digit_limit_reads_back(tmp_path: Path) -> None:
    """Found attacking the served bridge: a stream event holding a 5,000-digit integer was journaled as it came,
    and every later start failed reading it back (Python reads no integer that long)."""
    text = CAPTURE.read_text().replace('"elapsed_time":', '"huge": ' + "9" * 5_000 + ', "elapsed_time":', 1)
    capture = tmp_path / "huge.sse"
    capture.write_text(text)
    events = events_of(capture)
    (event,) = [event for event in events if event.packed is not None and b"9" * 5_000 in event.packed]
    assert event_of(to_row(1, event, 1000.0, "ctx", "stream")).data["huge"] == float("inf")
    with OtlpSink() as sink:
        first = BridgeService(_config(str(tmp_path / "q.db"), sink))
        first.submit_events(events[:-1], 1000.0, "file", "replay")
        first.shutdown(timeout=0)
        second = BridgeService(_config(str(tmp_path / "q.db"), sink))  # raised ValueError
        try:
            second.submit_events(events[-1:], 1001.0, "file", "replay")
            assert second.poll(1001.0) == 1 and second.flush(10)
        finally:
            second.shutdown(timeout=0)
        _assert_whole(sink.wait_for_spans(len(spans_of(CAPTURE))))


def test_a_nested_run_exported_after_its_caller_closes_at_its_workflow_span(tmp_path: Path) -> None:
    """A workflow used as a tool is exported ~5 s after its caller (recorded), into the caller's trace: once the
    caller was rebuilt, the nested run's workflow span closes what follows, with no export_wait."""
    spans = recorded_spans("wf_tool")
    outer, inner = spans[:5], spans[5:]  # as they arrived
    assert {s.name for s in inner} >= {"workflow_7e2c9f94-9fcb-42ab-9f06-cb19610e54e6"}
    with OtlpSink() as sink:
        service = BridgeService(_config(":memory:", sink))
        service.submit_spans(outer, 1000.0, "replay")
        assert service.poll(1000.0) == 1
        service.submit_spans(inner, 1005.0, "replay")
        assert service.poll(1005.0) == 1  # not at 1035
        assert service.flush(10)
        service.shutdown()
        received = sink.spans()
    assert {s.trace_id for s in received} == {
        "09c60c581ccc40e48028619562b5f7f1", "7e2c9f949fcb42ab9f06cb19610e54e6"
    }  # fmt: skip


def test_an_unreadable_journal_row_is_dead_lettered_once_while_every_other_row_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # One such row stopped every start ("Application startup failed"): a bug of an earlier version, a damaged file;
    # then it was kept in the journal and retried, and logged, at every start.
    events = events_of(CAPTURE)
    half = len(events) // 2
    queue = tmp_path / "q.db"
    with OtlpSink() as sink:
        first = BridgeService(_config(str(queue), sink))
        first.submit_events(events[:half], 1000.0, "file", "replay")
        first.shutdown()
        with sqlite3.connect(queue) as db:
            db.execute("INSERT INTO journal VALUES (9001, 1000.0, NULL, 'stream', '{\"event\": \"node_star')")
            db.execute("INSERT INTO journal VALUES (9002, 1000.0, NULL, 'stream', '{\"unknown_field\": 1}')")
            db.execute("INSERT INTO span_journal VALUES (9003, 1000.0, 'otlp', x'0a05ffffffffff')")
        db.close()
        second = BridgeService(_config(str(queue), sink))
        assert (events[0].workflow_run_id or "") in second.assembler
        second.submit_events(events[half:], 1001.0, "file", "replay")
        assert second.poll(1001.0) == 1
        assert second.flush(10)
        second.shutdown()
        _assert_whole(sink.spans())
        for row_id, kind in ((9001, "stream event"), (9002, "stream event"), (9003, "otlp spans")):
            assert f"journal row {row_id} ({kind}) cannot be read: " in caplog.text
        assert caplog.text.count("moved to the dead letters") == 3
        caplog.clear()
        third = BridgeService(_config(str(queue), sink))  # not read, nor logged, again
        third.shutdown()
    assert "cannot be read" not in caplog.text
    reopened = QueueStorage(str(queue))
    assert reopened.journal_rows() == [] and reopened.span_journal_rows() == []
    letters = reopened.dead_letters()
    assert [(d.exporter, d.pipeline, d.reason) for d in letters] == [
        ("(journal)", "stream event", "journal row 9001 (stream event) cannot be read: JSONDecodeError"),
        ("(journal)", "stream event", "journal row 9002 (stream event) cannot be read: TypeError"),
        ("(journal)", "otlp spans", "journal row 9003 (otlp spans) cannot be read: DecodeError"),
    ]
    assert reopened.dead_letter_payload(letters[2].id) == bytes.fromhex("0a05ffffffffff")  # kept as it was stored
    assert reopened.requeue(None) == 0  # raw events and spans are no export request: never sent
    reopened.close()
    assert main(["deadletter", "list", "--queue", str(queue)]) == 0
    listed = capsys.readouterr()
    assert listed.out.count("(journal)") == 3 and "3 dead letter(s)" in listed.err
    assert main(["deadletter", "retry", str(letters[0].id), "--queue", str(queue)]) == 1
    assert f"deadletter retry: {letters[0].id}: a journal row no start could read" in capsys.readouterr().err

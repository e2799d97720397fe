"""The queue file alone: cursors, collection, batching reads, dead letters, journal, damaged files."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bridge.queue import storage as storage_module
from bridge.queue.errors import QueueError
from bridge.queue.rows import AcceptedRun, JournalRow, SpanJournalRow
from bridge.queue.storage import QueueStorage
from tests.runs import CAPTURES, request_of

TRACES = frozenset({"traces"})
A = request_of(CAPTURES / "a_simple_http.sse")  # 4 spans
B = request_of(CAPTURES / "a_llm_simple.sse")


def _open(tmp_path: Path, *exporters: str) -> QueueStorage:
    storage = QueueStorage(str(tmp_path / "q.db"))
    storage.register(exporters or ("otlp",))
    return storage


def test_entries_stay_until_every_exporter_has_passed_them(tmp_path: Path) -> None:
    storage = _open(tmp_path, "jaeger", "tempo")
    storage.append([("traces", 4, A), ("traces", 4, A)], now=1.0)()
    assert storage.queued_bytes == 2 * len(A)
    entries, scanned, _ = storage.pending("jaeger", TRACES, storage.cursor("jaeger"), 100, None)
    assert [e.id for e in entries] == [1, 2] and scanned == 2
    storage.advance("jaeger", 2)
    assert storage.queued_bytes == 2 * len(A)  # tempo has not passed them
    assert storage.backlog("tempo", TRACES)[:2] == (2, 8) and storage.backlog("jaeger", TRACES)[:2] == (0, 0)
    storage.advance("tempo", 1)
    assert storage.queued_bytes == len(A)
    storage.advance("tempo", 2)
    assert storage.queued_bytes == 0


def test_ids_are_never_reused_after_everything_was_delivered(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)], now=1.0)()
    storage.advance("otlp", 1)
    storage.close()
    reopened = _open(tmp_path)
    reopened.append([("traces", 4, A)], now=2.0)()
    entries, _, _ = reopened.pending("otlp", TRACES, reopened.cursor("otlp"), 100, None)
    assert [e.id for e in entries] == [2]  # not 1 again, which the cursor has passed


def test_a_read_fills_one_request_by_spans_and_bytes_and_always_takes_one(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)] * 5, now=1.0)()
    assert len(storage.pending("otlp", TRACES, 0, 8, None)[0]) == 2
    assert len(storage.pending("otlp", TRACES, 0, 100, 3 * len(A))[0]) == 3
    assert len(storage.pending("otlp", TRACES, 0, 1, 10)[0]) == 1  # too big for any limit: sent alone
    # Full: the next entry did not fit (by spans, by bytes); not full: every entry is in.
    assert storage.pending("otlp", TRACES, 0, 10, None).full
    assert storage.pending("otlp", TRACES, 0, 100, 3 * len(A)).full
    assert not storage.pending("otlp", TRACES, 0, 100, None).full


def test_entries_of_other_pipelines_are_passed_over(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("other", 4, A), ("traces", 4, B), ("other", 4, A)], now=1.0)()
    entries, scanned, _ = storage.pending("otlp", TRACES, 0, 100, None)
    assert [e.id for e in entries] == [2] and scanned == 3  # the cursor may pass the trailing one too
    assert storage.pending("otlp", TRACES, 0, 100, None)[1] == 3
    assert storage.pending("otlp", TRACES, 3, 100, None)[:2] == ([], 3)


def test_concatenated_entries_are_one_merged_request(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("traces", 4, A), ("traces", 6, B)], now=1.0)()
    entries, _, _ = storage.pending("otlp", TRACES, 0, 100, None)
    merged = ExportTraceServiceRequest.FromString(storage.payload(entries))
    expected = (
        ExportTraceServiceRequest.FromString(A).resource_spans[:]
        + ExportTraceServiceRequest.FromString(B).resource_spans[:]
    )
    assert list(merged.resource_spans) == list(expected)


def test_dead_letters_keep_the_reason_and_go_back_to_the_exporter_that_refused_them(tmp_path: Path) -> None:
    storage = _open(tmp_path, "jaeger", "tempo")
    storage.append([("traces", 4, A), ("traces", 4, B)], now=1.0)()
    entries, _, _ = storage.pending("tempo", TRACES, 0, 4, None)
    storage.dead_letter("tempo", entries, "HTTP 400: bad span", now=2.0, advance_to=entries[-1].id)
    (letter,) = storage.dead_letters()
    assert (letter.exporter, letter.spans, letter.reason, letter.size) == ("tempo", 4, "HTTP 400: bad span", len(A))
    assert storage.requeue([letter.id]) == 1 and storage.dead_letters() == []
    assert storage.pending("jaeger", TRACES, 2, 100, None)[:2] == ([], 3)  # not for jaeger
    (again,), _, _ = storage.pending("tempo", TRACES, 1, 1, None)
    assert again.id == 2  # tempo's next entry is B, then the re-queued A
    (requeued,), _, _ = storage.pending("tempo", TRACES, 2, 1, None)
    assert requeued.id == 3 and storage.payload([requeued]) == A


def test_journal_rows_leave_with_the_spans_they_became(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.journal([JournalRow(1, 1.0, "ctx", "stream", "{}"), JournalRow(2, 1.5, None, "proxy", "{}")])()
    assert storage.last_journal_id() == 2
    storage.append([("traces", 4, A)], now=2.0, release=[1])()
    assert [r.id for r in storage.journal_rows()] == [2]


def test_journal_rows_read_back_field_for_field(tmp_path: Path) -> None:
    """Rows go to SQLite as the tuples they are, each value to its named column."""
    storage = _open(tmp_path)
    rows = [JournalRow(1, 1.5, "ctx", "stream/a", '{"event":"x"}'), JournalRow(2, 2.25, None, "proxy", "{}")]
    spans = [SpanJournalRow(3, 3.5, "otlp", b"\x0a\x00"), SpanJournalRow(4, 4.75, "otlp/b", b"")]
    storage.journal(rows)()
    storage.journal_spans(spans)()
    assert storage.journal_rows() == rows and storage.span_journal_rows() == spans
    reopened = QueueStorage(str(tmp_path / "q.db"))
    assert reopened.journal_rows() == rows and reopened.span_journal_rows() == spans
    reopened.close()


def test_journal_rows_and_a_release_of_them_committed_in_one_group_leave_what_was_not_released(
    tmp_path: Path,
) -> None:
    storage = _open(tmp_path)

    async def hand_over() -> list[bool]:
        with storage._lock:  # the writer waits with a first group: the next writes form one group after it
            first = storage.journal_soon([JournalRow(1, 1.0, "ctx", "stream", "{}")])
            await asyncio.sleep(0.05)
            rows = storage.journal_soon(
                [JournalRow(2, 1.0, "ctx", "stream", "{}"), JournalRow(3, 1.0, None, "s", "{}")]
            )
            run = storage.append_new_run([("traces", 4, A)], 2.0, AcceptedRun("r", "stream", 2), [1, 2])
        return [await first, await rows, await run]

    assert asyncio.run(hand_over()) == [True, True, True]
    assert [r.id for r in storage.journal_rows()] == [3]
    assert storage.run_seen("r")


def test_journal_rows_of_one_turn_of_the_event_loop_go_to_the_writer_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _open(tmp_path)
    handed: list[list[int]] = []
    enqueue = storage._writer.enqueue

    def recording(request: Any) -> None:
        handed.append([r.id for r in request.journal])
        enqueue(request)

    monkeypatch.setattr(storage._writer, "enqueue", recording)

    async def requests() -> list[bool]:
        first = storage.journal_this_turn([JournalRow(1, 1.0, "ctx", "stream", "{}")])
        second = storage.journal_this_turn(
            [JournalRow(2, 1.0, "ctx", "stream", "{}"), JournalRow(3, 1.0, None, "s", "{}")]
        )
        assert handed == []  # not before the turn ends
        answers = [await first, await second]
        return [*answers, await storage.journal_this_turn([JournalRow(4, 2.0, None, "stream", "{}")])]

    assert asyncio.run(requests()) == [True, True, True]
    assert handed == [[1, 2, 3], [4]]
    assert [r.id for r in storage.journal_rows()] == [1, 2, 3, 4]
    storage.close()


def test_a_commit_of_journal_rows_only_runs_no_query_for_accepted_runs(tmp_path: Path) -> None:
    """Each statement gives up the interpreter lock and waits to get it back: a journal write (every stream
    request, every OTLP request) asks nothing about runs it does not hold."""
    storage = _open(tmp_path)
    statements: list[str] = []
    storage._db.set_trace_callback(statements.append)
    storage.journal([JournalRow(1, 1.0, None, "stream", "{}")])()
    storage._db.set_trace_callback(None)
    assert [sql.split()[0] for sql in statements] == ["BEGIN", "INSERT", "COMMIT"]
    storage.close()


def test_a_group_larger_than_one_statement_holds_is_written_whole(tmp_path: Path) -> None:
    """Rows are written many to a statement, within SQLite's smallest limit on bound values (999, set here):
    a group of more entries than one statement takes, releasing more journal rows, still goes in whole."""
    storage = _open(tmp_path)
    storage._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    storage.journal([JournalRow(i, 1.0, None, "stream", "{}") for i in range(1, 1501)])()

    async def hand_over() -> list[bool]:
        with storage._lock:  # the writer waits with a first group: the rest form one group after it
            first = storage.append_new_run([("traces", 4, A)], 2.0, AcceptedRun("r0", "stream", 1), ())
            await asyncio.sleep(0.05)
            runs = [
                storage.append_new_run([("traces", 4, A)] * 2, 2.0, AcceptedRun(f"r{i}", "stream", 1), released)
                for i in range(1, 241)
                for released in [range(i * 6 - 5, i * 6 + 1)]
            ]
        return [await first, *await asyncio.gather(*runs)]

    assert all(asyncio.run(hand_over()))
    assert [r.id for r in storage.journal_rows()] == list(range(1441, 1501))
    assert len(storage.pending("otlp", TRACES, 0, 10_000, None)[0]) == 481
    assert all(storage.run_seen(f"r{i}") for i in range(241))
    assert storage.queued_bytes == 481 * len(A)


def test_a_new_exporter_starts_at_the_tail(tmp_path: Path) -> None:
    storage = _open(tmp_path, "old")
    storage.append([("traces", 4, A)], now=1.0)()
    storage.register(["old", "new"])
    assert storage.cursor("new") == 1 and storage.cursor("old") == 0


def test_a_damaged_file_is_reported_at_start(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(QueueError, match=r"q\.db: cannot use the queue file: file is not a database"):
        QueueStorage(str(path))


def test_an_unwritable_file_is_reported_at_start(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through file modes: make the directory a file instead, which nobody can open under
        (tmp_path / "blocked").write_text("")
        with pytest.raises(QueueError, match=r"blocked/q\.db: cannot use the queue file"):
            QueueStorage(str(tmp_path / "blocked" / "q.db"))
        return
    path = tmp_path / "q.db"
    QueueStorage(str(path)).close()
    path.chmod(0o444)
    with pytest.raises(QueueError, match="readonly"):
        QueueStorage(str(path))


def test_a_write_failure_is_a_queue_error_and_takes_nothing(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)], now=1.0)()
    storage._db.execute("PRAGMA max_page_count = 1")  # the disk is full from now on
    with pytest.raises(QueueError, match="full"):
        storage.append([("traces", 6, B * 50)], now=2.0)()
    assert storage.queued_bytes == len(A)
    assert len(storage.pending("otlp", TRACES, 0, 100, None)[0]) == 1


def test_the_log_starts_over_at_64_mib_and_is_cut_back_to_128_mib(tmp_path: Path) -> None:
    # README's "Limits instead of drops" names both sizes; the frame count assumes SQLite's page size.
    storage = _open(tmp_path)
    page_size = storage._db.execute("PRAGMA page_size").fetchone()[0]
    assert storage_module.LOG_RESTART_FRAMES * page_size == 64 << 20
    assert storage._db.execute("PRAGMA journal_size_limit").fetchone()[0] == 128 << 20


def test_a_checkpoint_lets_the_log_start_over_instead_of_growing(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    log = tmp_path / "q.db-wal"
    for _ in range(300):
        storage.append([("traces", 4, A)], now=1.0)()
    grown = log.stat().st_size
    assert grown > 300 * len(A)  # commits do not checkpoint by themselves
    storage.checkpoint()
    for _ in range(300):
        storage.append([("traces", 4, A)], now=2.0)()
    assert log.stat().st_size <= grown  # written over from the start
    assert len(storage.pending("otlp", TRACES, 0, 10_000, None)[0]) == 600


class _CommitDuringCopy:
    """The checkpointer's connection, with a commit landing while its first pass copies (as under load)."""

    def __init__(self, storage: QueueStorage) -> None:
        self.db = sqlite3.connect(storage.path, isolation_level=None)
        self.storage = storage
        self.passes = 0

    def execute(self, sql: str) -> sqlite3.Cursor:
        cursor = self.db.execute(sql)
        if "wal_checkpoint" in sql:
            self.passes += 1
            if self.passes == 1:
                self.storage.append([("traces", 4, A)], now=3.0)()
        return cursor

    def log_frames(self) -> int:
        return int(self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])

    def close(self) -> None:
        self.db.close()


def test_a_long_log_starts_over_though_commits_land_while_it_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "LOG_RESTART_FRAMES", 100)
    storage = _open(tmp_path)
    checkpointer = _CommitDuringCopy(storage)
    monkeypatch.setattr(storage, "_checkpointer", checkpointer)
    for _ in range(300):
        storage.append([("traces", 4, A)], now=1.0)()
    storage.checkpoint()
    assert checkpointer.passes == 2  # the second under the writer's lock
    storage.append([("traces", 4, A)], now=4.0)()
    assert checkpointer.log_frames() < 10  # this commit's frames only: the log started over
    assert len(storage.pending("otlp", TRACES, 0, 10_000, None)[0]) == 302


def test_a_short_log_is_copied_without_holding_the_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = _open(tmp_path)
    checkpointer = _CommitDuringCopy(storage)
    monkeypatch.setattr(storage, "_checkpointer", checkpointer)
    storage.append([("traces", 4, A)], now=1.0)()
    storage.checkpoint()
    assert checkpointer.passes == 1


class _HeldCopy:
    """The checkpointer's connection, held inside its first pass until `release` is set."""

    def __init__(self, storage: QueueStorage) -> None:
        self.db = sqlite3.connect(storage.path, isolation_level=None, check_same_thread=False)
        self.copying, self.release = threading.Event(), threading.Event()
        self.closed = False

    def execute(self, sql: str) -> sqlite3.Cursor:
        if "wal_checkpoint" in sql:
            self.copying.set()
            self.release.wait(10)
        assert not self.closed, "used after it was closed"
        return self.db.execute(sql)

    def close(self) -> None:
        self.closed = True
        self.db.close()


def test_closing_waits_for_a_checkpoint_under_way_and_none_runs_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's checkpoint runs in a thread that a cancelled task does not stop: the file may be closed
    meanwhile (closing the connection under a running statement crashed the process)."""
    storage = _open(tmp_path)
    held = _HeldCopy(storage)
    monkeypatch.setattr(storage, "_checkpointer", held)
    failures: list[BaseException] = []

    def checkpoint() -> None:
        try:
            storage.checkpoint()
        except BaseException as error:
            failures.append(error)

    checkpointing = threading.Thread(target=checkpoint)
    checkpointing.start()
    assert held.copying.wait(10)
    closing = threading.Thread(target=storage.close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive()  # waits for the checkpoint under way
    held.release.set()
    checkpointing.join(10)
    closing.join(10)
    assert not failures and held.closed and not closing.is_alive()
    storage.checkpoint()  # after closing: nothing, and no connection opened again
    assert storage._checkpointer is None


def test_an_append_after_closing_fails_at_once_and_starts_no_writer(tmp_path: Path) -> None:
    """A poll thread still running while the server shuts down: its append must not start a writer on the
    closed file (that thread would linger), and whoever waits for it, on a thread or a loop, gets the error."""
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)], 1.0)()
    storage.close()
    committed = storage.append([("traces", 4, A)], 2.0)
    with pytest.raises(QueueError, match="closed"):
        committed()

    async def on_the_loop() -> None:
        with pytest.raises(QueueError, match="closed"):
            await storage.append_new_run([("traces", 4, A)], 3.0, AcceptedRun("r", "webhook", 0), ())

    asyncio.run(asyncio.wait_for(on_the_loop(), 10))
    assert storage._writer._thread is None


def test_scans_for_the_metrics_do_not_wait_for_a_commit_under_way(tmp_path: Path) -> None:
    """The backlog gauge scans every entry waiting (15 ms for 50,000): under the writer's lock that held every
    acknowledgement for as long, twice a scrape, just when a backend was down and the queue long."""
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)], 1.0)()
    with ThreadPoolExecutor(1) as pool, storage._lock:  # as while the writer commits
        scans = pool.submit(lambda: (storage.backlog("otlp", TRACES), storage.dead_letter_count()))
        assert scans.result(timeout=10) == ((1, 4, 1.0), 0)
    storage.close()
    with pytest.raises(QueueError, match="closed"):
        storage.backlog("otlp", TRACES)


def test_a_run_is_accepted_with_its_spans_once_and_a_richer_copy_beats_a_poorer_one(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    assert storage.append([("traces", 4, A)], 1.0, run=AcceptedRun("r", "webhook", 1), exclusive=True)()
    assert not storage.append([("traces", 4, A)], 2.0, run=AcceptedRun("r", "webhook/n8n", 1), exclusive=True)()
    assert storage.append([("traces", 4, A)], 3.0, run=AcceptedRun("r", "stream", 2), exclusive=True)()  # richer
    assert not storage.append([("traces", 4, A)], 3.5, run=AcceptedRun("r", "otlp", 2), exclusive=True)()  # a copy
    assert storage.append([("traces", 1, B)], 4.0, run=AcceptedRun("p", "poller", 0), exclusive=True)()
    assert storage.append([("traces", 4, B)], 5.0, run=AcceptedRun("p", "webhook", 1), exclusive=True)()
    assert not storage.append([("traces", 1, B)], 6.0, run=AcceptedRun("p", "poller", 0), exclusive=True)()
    assert storage.append([("traces", 4, B)], 7.0, run=AcceptedRun("r2", "proxy", 2))()  # not exclusive: queued
    assert storage.append([("traces", 4, B)], 8.0, run=AcceptedRun("r2", "proxy", 2))()
    assert storage.run_seen("r") and storage.run_seen("p") and not storage.run_seen("q")
    entries, _, _ = storage.pending("otlp", TRACES, 0, 100, None)
    # Refused copies left nothing behind; the copies richer ones replaced (1.0, 4.0) are passed over.
    assert [e.created_at for e in entries] == [3.0, 5.0, 7.0, 8.0]


def test_a_richer_copy_replaces_a_poorer_one_still_queued_where_an_exporter_has_not_sent_it(tmp_path: Path) -> None:
    storage = _open(tmp_path, "sent", "waiting")
    assert storage.append([("traces", 1, B)], 1.0, run=AcceptedRun("r", "poller", 0), exclusive=True)()
    assert storage.append([("traces", 4, A)], 2.0, run=AcceptedRun("other", "stream", 2), exclusive=True)()
    (first, _), _, _ = storage.pending("sent", TRACES, 0, 100, None)
    storage.advance("sent", first.id)  # one backend got the poller's copy already; the other did not
    reading, _, _ = storage.pending("waiting", TRACES, 0, 100, None)  # a delivery under way, before the copy
    assert storage.append([("traces", 4, A)], 3.0, run=AcceptedRun("r", "stream", 2), exclusive=True)()
    assert storage.queued_bytes == 2 * len(A)  # the poorer copy's bytes are no longer queued
    waiting, _, _ = storage.pending("waiting", TRACES, 0, 100, None)
    assert [e.created_at for e in waiting] == [2.0, 3.0]  # only the richer copy goes to this backend
    sent, _, _ = storage.pending("sent", TRACES, first.id, 100, None)
    assert [e.created_at for e in sent] == [2.0, 3.0]
    assert storage.payload(reading) == A  # a read under way sends what is left: nothing of the replaced copy
    # A copy that holds no more replaces nothing.
    assert not storage.append([("traces", 4, A)], 4.0, run=AcceptedRun("r", "otlp", 2), exclusive=True)()
    assert [e.created_at for e in storage.pending("waiting", TRACES, 0, 100, None)[0]] == [2.0, 3.0]
    storage.close()


def test_run_ids_older_than_the_retention_are_forgotten_a_chunk_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept for ever, accepted run ids grew the file by every run queued. Forgotten ones can be queued again;
    a checkpoint forgets at most `_FORGET_AT_ONCE`, oldest first, and never a recent one."""
    monkeypatch.setattr(storage_module, "_FORGET_AT_ONCE", 3)
    storage = QueueStorage(str(tmp_path / "q.db"), run_id_retention=3600.0)
    storage.register(["otlp"])
    now = time.time()
    for n in range(7):
        storage.append([("traces", 4, A)], now - 7200 + n, run=AcceptedRun(f"old-{n}", "webhook", 1), exclusive=True)()
    storage.append([("traces", 4, A)], now, run=AcceptedRun("new", "webhook", 1), exclusive=True)()

    def known() -> list[str]:
        return [n for n in [f"old-{n}" for n in range(7)] + ["new"] if storage.run_seen(n)]

    storage.checkpoint()
    assert known() == ["old-3", "old-4", "old-5", "old-6", "new"]
    storage.checkpoint()
    storage.checkpoint()
    assert known() == ["new"]
    storage.checkpoint()  # nothing old left: nothing else goes
    assert known() == ["new"]
    assert storage.append([("traces", 4, A)], now, run=AcceptedRun("old-0", "webhook", 1), exclusive=True)()
    assert not storage.append([("traces", 4, A)], now, run=AcceptedRun("new", "webhook", 1), exclusive=True)()
    storage.close()


def test_without_a_retention_run_ids_are_kept(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)], 1.0, run=AcceptedRun("r", "webhook", 1), exclusive=True)()
    storage.checkpoint()
    assert storage.run_seen("r")
    storage.close()


def _older_file(tmp_path: Path, version: str, accepted_runs: str) -> QueueStorage:
    """A queue file of an older schema `version` holding only `accepted_runs` (its columns and rows, as SQL)."""
    path = tmp_path / "queue.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            f"INSERT INTO meta VALUES ('schema', '{version}');{accepted_runs}"
        )
    return QueueStorage(str(path))


def test_a_newer_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    # docs/operations.md: a bridge that cannot read a file (a newer one) refuses to start, changing nothing in it.
    # It used to add its own tables and switch the file to WAL before reading the version.
    with pytest.raises(QueueError, match="queue schema 9, this bridge reads"):
        _older_file(tmp_path, "9", "CREATE TABLE entries_v9 (id INTEGER PRIMARY KEY);")
    with contextlib.closing(sqlite3.connect(tmp_path / "queue.db")) as db:
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master ORDER BY name")] == [
            "entries_v9",
            "meta",
            "sqlite_autoindex_meta_1",
        ]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_refused_file_s_connection_is_closed_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def connect_and_keep(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr("bridge.queue.storage.sqlite3.connect", connect_and_keep)
    with pytest.raises(QueueError, match="queue schema 9"):
        _older_file(tmp_path, "9", "")
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        opened[-1].execute("SELECT 1")


def test_a_version_1_file_learns_what_its_accepted_copies_held(tmp_path: Path) -> None:
    storage = _older_file(
        tmp_path,
        "1",
        "CREATE TABLE accepted_runs (run_id TEXT PRIMARY KEY, receiver TEXT NOT NULL, accepted_at REAL NOT NULL);"
        "INSERT INTO accepted_runs VALUES ('p', 'poller', 1), ('w', 'webhook/n8n', 1), ('s', 'stream', 1);",
    )
    richer = [storage.append([("traces", 4, A)], 2.0, run=AcceptedRun(run, "webhook", 1), exclusive=True)()
              for run in ("p", "w", "s")]  # fmt: skip
    assert richer == [True, False, False]  # only the poller's copy held less than a webhook's
    storage.close()


def test_a_version_2_file_keeps_its_accepted_copies_and_learns_their_entries_from_now_on(tmp_path: Path) -> None:
    storage = _older_file(
        tmp_path,
        "2",
        "CREATE TABLE accepted_runs (run_id TEXT PRIMARY KEY, receiver TEXT NOT NULL, accepted_at REAL NOT NULL, "
        "detail INTEGER NOT NULL DEFAULT 2);"
        "INSERT INTO accepted_runs VALUES ('p', 'poller', 1, 0), ('s', 'stream', 1, 2);",
    )
    storage.register(["otlp"])
    assert not storage.append([("traces", 4, A)], 2.0, run=AcceptedRun("s", "otlp", 2), exclusive=True)()
    assert storage.append([("traces", 4, A)], 2.0, run=AcceptedRun("p", "stream", 2), exclusive=True)()
    assert storage.append([("traces", 1, B)], 3.0, run=AcceptedRun("q", "poller", 0), exclusive=True)()
    assert storage.append([("traces", 4, A)], 4.0, run=AcceptedRun("q", "stream", 2), exclusive=True)()
    assert [e.created_at for e in storage.pending("otlp", TRACES, 0, 100, None)[0]] == [2.0, 4.0]
    storage.close()


def test_concurrent_appends_are_committed_in_groups_and_each_gets_its_answer(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    answers: dict[int, bool] = {}

    def submit(i: int) -> None:
        answers[i] = storage.append(
            [("traces", 4, A)], float(i), run=AcceptedRun(f"r{i % 50}", "webhook", 1), exclusive=True
        )()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(answers.values()) == 50  # one acceptance per run id, whoever came first
    assert len(storage.pending("otlp", TRACES, 0, 10_000, None)[0]) == 50
    assert storage.queued_bytes == 50 * len(A)


def test_entries_queued_by_another_process_are_counted_at_the_next_checkpoint(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    other = QueueStorage(str(tmp_path / "q.db"))  # `deadletter retry` in another process
    other.append([("traces", 4, A)], now=1.0)()
    other.close()
    assert storage.queued_bytes == 0
    storage.advance("otlp", 1)  # delivered by this process: never below zero
    assert storage.queued_bytes == 0
    storage.append([("traces", 4, B)], now=2.0)()
    other = QueueStorage(str(tmp_path / "q.db"))
    other.append([("traces", 4, A)], now=3.0)()
    other.close()
    assert storage.queued_bytes == len(B)
    sums = _sums_run(storage)
    storage.checkpoint()
    assert storage.queued_bytes == len(B) + len(A)
    storage.checkpoint()
    assert len(sums) == 1  # counted again once, at the first checkpoint after the other process wrote


def test_a_checkpoint_does_not_read_the_queue_through_when_only_this_process_wrote(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    for now in range(20):
        storage.append([("traces", 4, A)], now=float(now))()
    sums = _sums_run(storage)
    storage.checkpoint()
    storage.checkpoint()
    assert sums == []  # this process's own appends are counted as they are made
    assert storage.queued_bytes == 20 * len(A)


def _sums_run(storage: QueueStorage) -> list[str]:
    """The statements from now on, on either of the queue's connections, that sum the queued bytes."""
    sums: list[str] = []

    def seen(sql: str) -> None:
        if sql == "SELECT COALESCE(SUM(size), 0) FROM entries":
            sums.append(sql)

    storage._db.set_trace_callback(seen)
    storage._reader().set_trace_callback(seen)
    return sums


def test_the_count_changes_with_the_commit_under_the_writers_lock(tmp_path: Path) -> None:
    # A checkpoint counts under the same lock: a change made after the lock is let go would be counted twice.
    storage = _open(tmp_path)
    at_commit: list[int] = []
    storage._db.set_trace_callback(lambda sql: at_commit.append(storage.queued_bytes) if sql == "COMMIT" else None)
    storage.append([("traces", 4, A)], now=1.0)()
    assert at_commit == [len(A)]


def test_a_failed_commit_is_rolled_back_and_counted_again_at_the_next_checkpoint(tmp_path: Path) -> None:
    storage = _open(tmp_path)
    storage.append([("traces", 4, A)], now=1.0)()

    def fail_at_commit(sql: str) -> None:
        if sql == "COMMIT":
            storage._db.interrupt()  # the COMMIT fails: nothing of the group is kept

    storage._db.set_trace_callback(fail_at_commit)
    with pytest.raises(QueueError):
        storage.append([("traces", 6, B)], now=2.0)()
    storage._db.set_trace_callback(None)
    storage.checkpoint()
    assert storage.queued_bytes == len(A)
    assert len(storage.pending("otlp", TRACES, 0, 100, None)[0]) == 1
    assert storage.append([("traces", 6, B)], now=3.0)()  # the writer goes on: no transaction left open
    assert storage.queued_bytes == len(A) + len(B)


def test_runs_appended_from_the_event_loop_are_grouped_answered_and_refused_as_from_threads(tmp_path: Path) -> None:
    storage = _open(tmp_path)

    async def submit_all() -> list[bool]:
        appends = [
            storage.append_new_run([("traces", 4, A)], float(i), AcceptedRun(f"r{i % 20}", "webhook", 1), ())
            for i in range(100)
        ]
        return await asyncio.gather(*appends)

    answers = asyncio.run(submit_all())
    assert sum(answers) == 20  # one acceptance per run id
    assert len(storage.pending("otlp", TRACES, 0, 10_000, None)[0]) == 20
    storage._db.execute("PRAGMA max_page_count = 1")  # the disk is full from now on

    async def append_new() -> bool:
        return await storage.append_new_run([("traces", 6, B * 50)], 2.0, AcceptedRun("new", "webhook", 1), ())

    with pytest.raises(QueueError, match="full"):
        asyncio.run(append_new())
    assert not storage.run_seen("new")

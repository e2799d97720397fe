"""The queue file: SQLite in WAL mode. Thread-safe; every call is one short transaction.

`entries` holds OTLP `ExportTraceServiceRequest`s as serialized bytes, `cursors` how far each exporter has
delivered, `dead_letters` what a backend refused for good, `journal` the stream events of runs still being
assembled, `span_journal` the received OTLP spans of traces still waiting for their last span (one
`ExportTraceServiceRequest` per trace and request); both journals number their rows from one sequence.
Entry ids come from AUTOINCREMENT, so an id is never reused and a cursor never skips an entry.
A journal row no start can read is moved to the dead letters, under the exporter name `JOURNAL`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import Any, NamedTuple

from bridge.queue.errors import QueueError
from bridge.state_files.file_lock import FileInUse, FileLock
from bridge.state_files.private_file import make_private

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, exporter TEXT, created_at REAL NOT NULL,
    spans INTEGER NOT NULL, size INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (exporter TEXT PRIMARY KEY, entry_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, exporter TEXT NOT NULL, pipeline TEXT NOT NULL, created_at REAL NOT NULL,
    failed_at REAL NOT NULL, spans INTEGER NOT NULL, size INTEGER NOT NULL, reason TEXT NOT NULL,
    payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accepted_runs (
    run_id TEXT PRIMARY KEY, receiver TEXT NOT NULL, accepted_at REAL NOT NULL, detail INTEGER NOT NULL DEFAULT 2,
    entries_from INTEGER, entries_to INTEGER);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY, received_at REAL NOT NULL, context TEXT, receiver TEXT NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS span_journal (
    id INTEGER PRIMARY KEY, received_at REAL NOT NULL, receiver TEXT NOT NULL, payload BLOB NOT NULL);
"""
SCHEMA_VERSION = "3"
# Version 1 → 2: how much of its run each accepted copy holds (`detail`), read before from the receiver's name.
_MIGRATE_1 = """
ALTER TABLE accepted_runs ADD COLUMN detail INTEGER NOT NULL DEFAULT 2;
UPDATE accepted_runs SET detail = 0 WHERE receiver LIKE 'poller%';
UPDATE accepted_runs SET detail = 1 WHERE receiver = 'webhook' OR receiver LIKE 'webhook/%';
"""
# Version 2 → 3: the entries each accepted copy was queued as, emptied when a richer copy replaces it (copies
# accepted before are not known by their entries: they stay).
_MIGRATE_2 = """
ALTER TABLE accepted_runs ADD COLUMN entries_from INTEGER;
ALTER TABLE accepted_runs ADD COLUMN entries_to INTEGER;
"""
# The dead letters' exporter for journal rows no start could read: raw events or spans, kept to be looked into,
# never requeued (they are no export request, and were never redacted). No component id has parentheses.
JOURNAL = "(journal)"
# Appends committed in one transaction at most.
_GROUP_MAX = 256
# Run ids forgotten per checkpoint (one a second) at most: more than any bridge accepts a second, in a short
# hold of the writer's lock.
_FORGET_AT_ONCE = 5000
# Rows read per query, and at most per delivery step (entries of other pipelines are skipped over).
_PAGE = 64
_SCAN = 2000


class AcceptedRun(NamedTuple):
    """A run's copy as the duplicate check knows it. `detail`: how much of the run the copy holds (higher holds
    more); a later copy of an accepted run is queued too only when it holds more."""

    run_id: str
    receiver: str
    detail: int


@dataclass
class _Append:
    entries: Sequence[tuple[str, int, bytes]]
    now: float
    release: Sequence[int] = ()
    run: AcceptedRun | None = None
    exclusive: bool = False
    journal: Sequence[JournalRow] = ()
    span_journal: Sequence[SpanJournalRow] = ()
    # Its waiter, woken by the writer thread once committed or failed: a thread's, or an event loop's future.
    done: Callable[[], None] | asyncio.Future[None] = lambda: None
    accepted: bool = False
    error: QueueError | None = None

    def outcome(self) -> bool:
        if self.error is not None:
            raise self.error
        return self.accepted


def _wake(group: list[_Append]) -> None:
    """Wakes the waiters of a committed (or failed) group from the writer thread: each event loop once, not once
    per request. Waking a loop writes to its self-pipe, which gives up the interpreter lock, and getting it back
    behind a busy loop takes up to a switch interval (`bridge.SWITCH_INTERVAL_S`)."""
    loops: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for request in group:
        if isinstance(request.done, asyncio.Future):
            loops.setdefault(request.done.get_loop(), []).append(request.done)
        else:
            request.done()
    for loop, futures in loops.items():
        with contextlib.suppress(RuntimeError):  # a loop already closed has no one to wake
            loop.call_soon_threadsafe(_resolve, futures)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for finished in futures:
        if not finished.done():  # its awaiter may have been cancelled (the client went away)
            finished.set_result(None)


def _waited(request: _Append, finished: threading.Event) -> bool:
    finished.wait()
    return request.outcome()


async def _outcome(request: _Append, finished: asyncio.Future[None]) -> bool:
    await finished
    return request.outcome()


# Values bound per statement: SQLite's smallest limit (before 3.32).
_MAX_VALUES = 999


def _insert(db: sqlite3.Connection, into: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """`{into} VALUES (…), (…), …`: one statement for up to `_MAX_VALUES` values. `executemany` steps once per
    row, and each step gives up the interpreter lock and waits to get it back behind the busy threads."""
    if not rows:
        return
    width = len(rows[0])
    marks = f"({','.join('?' * width)})"
    per = _MAX_VALUES // width
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        db.execute(f"{into} VALUES {','.join([marks] * len(chunk))}", [value for row in chunk for value in row])


def _delete(db: sqlite3.Connection, table: str, ids: Sequence[int]) -> None:
    """`DELETE FROM {table} WHERE id IN (…)`, as `_insert`: one statement for many rows."""
    for start in range(0, len(ids), _MAX_VALUES):
        chunk = ids[start : start + _MAX_VALUES]
        db.execute(f"DELETE FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)


def _tail(db: sqlite3.Connection) -> int:
    """The last entry id ever given."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").fetchone()
    return int(row[0]) if row else 0


def _empty_entries(db: sqlite3.Connection, ranges: Sequence[tuple[int, int]]) -> int:
    """Empties the entries in `ranges` (ids, both ends in) that are still queued: copies of runs a richer copy
    replaced. Their rows stay (a delivery may be reading them), holding no spans and no bytes, and readers pass
    over them. Returns the bytes freed."""
    freed = 0
    for start, end in ranges:
        freed += db.execute(
            "SELECT COALESCE(SUM(size), 0) FROM entries WHERE id BETWEEN ? AND ?", (start, end)
        ).fetchone()[0]
        db.execute("UPDATE entries SET spans = 0, size = 0, payload = x'' WHERE id BETWEEN ? AND ?", (start, end))
    return int(freed)


def _insert_journal(db: sqlite3.Connection, rows: Sequence[JournalRow]) -> None:
    _insert(db, "INSERT INTO journal (id, received_at, context, receiver, event)", rows)


def _insert_span_journal(db: sqlite3.Connection, rows: Sequence[SpanJournalRow]) -> None:
    _insert(db, "INSERT INTO span_journal (id, received_at, receiver, payload)", rows)


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    pipeline: str
    created_at: float
    spans: int
    size: int


class Pending(NamedTuple):
    """What `pending` found: the entries for one request, the last id looked at, and whether an entry was
    left out for want of room (then the request cannot grow: it is as full as it gets)."""

    entries: list[Entry]
    scanned: int
    full: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    exporter: str
    pipeline: str
    created_at: float
    failed_at: float
    spans: int
    size: int
    reason: str


# Journal rows are tuples, handed to SQLite as they are (in the order of the columns their INSERT names): one is made
# for nearly every stream event, in a third of a frozen dataclass's time (whose `__init__` sets each field through
# `object.__setattr__`).
class JournalRow(NamedTuple):
    id: int
    received_at: float
    context: str | None
    receiver: str
    event: str  # the normalized event as JSON


class SpanJournalRow(NamedTuple):
    id: int
    received_at: float
    receiver: str
    payload: bytes  # one trace's spans from one request, as an `ExportTraceServiceRequest`


# The write-ahead log is started over once it holds this many frames (64 MiB of 4 KiB pages): see `checkpoint`.
LOG_RESTART_FRAMES = 16_384


def _schema_version(db: sqlite3.Connection) -> str | None:
    """The schema version a queue file records; None for a new file (or one from before versions were kept)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return None if row is None else str(row[0])


class QueueStorage:
    """Opens (creating) the file and checks it at once: a damaged or unwritable file fails here, at start."""

    def __init__(
        self, path: str, fsync: bool = False, run_id_retention: float | None = None, exclusive: bool = False
    ) -> None:
        """`exclusive`: this process alone may use the file (`serve`): another bridge on it fails at start."""
        self.path = path
        # Accepted run ids older than this are forgotten at checkpoints; None keeps them (tools, tests).
        self.run_id_retention = run_id_retention
        self._lock = threading.Lock()
        self._checkpointer: sqlite3.Connection | None = None
        # The checkpointer's connection: one checkpoint at a time, and none while or after the file is closed
        # (a checkpoint started by a cancelled task still runs in its thread while the server shuts down).
        self._checkpoint_lock = threading.Lock()
        self._closed = False
        self._appends: SimpleQueue[_Append | None] = SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._writer_closed = False
        # `journal_this_turn`: the rows of one turn of an event loop, handed to the writer together at its end.
        self._turn: tuple[asyncio.AbstractEventLoop, _Append, asyncio.Future[None], list[JournalRow]] | None = None
        self._exporters: tuple[str, ...] = ()
        self._file_lock: FileLock | None = None
        db: sqlite3.Connection | None = None
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._file_lock = FileLock(path) if exclusive else None
            make_private(path)  # run content, before redaction in the journals
            db = self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            check = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise QueueError(f"{path}: the queue file is damaged ({check}); restore it or move it away")
            # A newer bridge's file is refused before anything is written to it (tables, WAL mode).
            version = _schema_version(self._db)
            if version not in (None, "1", "2", SCHEMA_VERSION):
                raise QueueError(f"{path}: queue schema {version}, this bridge reads {SCHEMA_VERSION}")
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL survives a killed process; FULL also survives power loss, at an fsync per commit.
            self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            # Checkpoints (which fsync) run from `checkpoint`, off the path of any acknowledgement.
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            # A log that grew longer in a burst is cut back to this when it starts over.
            self._db.execute(f"PRAGMA journal_size_limit={2 * LOG_RESTART_FRAMES * 4096}")
            self._db.executescript(_SCHEMA)
            if version == "1":
                self._db.executescript(_MIGRATE_1 + _MIGRATE_2)
            elif version == "2":
                self._db.executescript(_MIGRATE_2)
            # Also a write probe: a read-only file or directory fails now rather than at the first run.
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            self._data_version = -1
            self._recount_if_changed_elsewhere()
        except FileInUse as exc:
            raise QueueError(f"{path}: {exc}: stop that bridge, or give this one its own service.queue.path") from None
        except BaseException as exc:
            # A refused file is left closed at once, not when the collector finds the connection.
            if db is not None:
                db.close()
            self._release_file_lock()
            if isinstance(exc, sqlite3.Error | OSError):
                raise QueueError(f"{path}: cannot use the queue file: {exc}") from None
            raise

    def _release_file_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def close(self) -> None:
        with self._writer_lock:
            self._writer_closed = True
            if self._writer is not None:
                self._appends.put(None)
                self._writer.join()
                self._writer = None
        with self._checkpoint_lock, contextlib.suppress(sqlite3.Error):
            self._closed = True
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
        self._release_file_lock()

    def checkpoint(self) -> None:
        """Copies the write-ahead log into the database file on a connection of its own (PASSIVE: it never
        blocks a writer), and lets a long log start over; recounts the bytes queued if another process changed
        them; forgets old run ids."""
        with self._checkpoint_lock:
            if self.path != ":memory:" and not self._closed:
                self._checkpoint()
                if self.run_id_retention is not None:
                    self._forget_runs(time.time() - self.run_id_retention)

    def _forget_runs(self, before: float) -> None:
        """Forgets run ids accepted before `before`, oldest first and at most `_FORGET_AT_ONCE` a call. Kept, they
        grew the file by every run ever queued (about 110 bytes a run: 9 GB a day at 1,000 runs/s). Rows are
        in rowid order, which is the order of their acceptance (a replaced row gets a new rowid), so neither
        the check nor the delete reads more than the rows it looks at, and no index on the time is needed."""
        try:
            oldest = self._reader().execute("SELECT accepted_at FROM accepted_runs ORDER BY rowid LIMIT 1").fetchone()
        except sqlite3.Error as exc:
            raise QueueError(f"{self.path}: reading accepted runs failed: {exc}") from None
        if oldest is None or oldest[0] >= before:
            return  # nothing to forget: the writer's lock is not taken
        with self._transaction() as db:
            db.execute(
                "DELETE FROM accepted_runs WHERE rowid IN (SELECT rowid FROM "
                "(SELECT rowid, accepted_at FROM accepted_runs ORDER BY rowid LIMIT ?) WHERE accepted_at < ?)",
                (_FORGET_AT_ONCE, before),
            )

    def _reader(self) -> sqlite3.Connection:
        """The checkpointer's connection (the caller holds `_checkpoint_lock`): it also serves reads that must
        not hold up the writer, since in WAL mode it reads the last commit while the writer goes on."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        return self._checkpointer

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for a scan of the queue: the reader, beside the writer; for ":memory:", which no other
        connection sees, the writer's own under its lock. SQLite errors become QueueError."""
        try:
            if self.path == ":memory:":
                with self._lock:
                    yield self._db
                return
            with self._checkpoint_lock:
                if self._closed:
                    raise QueueError(f"{self.path}: the queue is closed")
                yield self._reader()
        except sqlite3.Error as exc:
            raise QueueError(f"{self.path}: {exc}") from None

    def _checkpoint(self) -> None:
        try:
            reader = self._reader()
            log_frames = reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            if log_frames >= LOG_RESTART_FRAMES:
                # Under steady load the writer commits while the pass above copies, so the log is never wholly
                # copied and never starts over: it grew without end (300 MB in 12 s at 1,400 runs/s), every
                # commit extending the file. A pass under the writer's lock copies the little committed since;
                # the next commit then writes the log over from its start. It holds commits for its two fsyncs
                # (3-17 ms on the benchmark VM), so it runs only once the log is this long.
                with self._lock:
                    reader.execute("PRAGMA wal_checkpoint(PASSIVE)")
            with self._lock:
                self._recount_if_changed_elsewhere()
        except sqlite3.Error as exc:
            raise QueueError(f"{self.path}: checkpoint failed: {exc}") from None

    def _recount_if_changed_elsewhere(self) -> None:
        """Counts the bytes queued again when another connection (`deadletter retry` in another process)
        committed since the last count; this process keeps its own count as it commits. Recounting every time
        read the whole queue: 0.23 s a second with the default 1 GiB queued, the backend down. The caller
        holds the writer's lock (or, opening the file, no thread writes yet), so no commit of ours falls between the
        count and the assignment."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self.queued_bytes = int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Holds the lock; BEGIN IMMEDIATE … COMMIT, rolled back on error; SQLite errors become QueueError."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    # The count may hold changes rolled back: the next checkpoint counts again.
                    self._data_version = -1
                    # SQLite has already rolled back after some errors (disk full); a failed COMMIT may leave the
                    # transaction open, and every later BEGIN would fail.
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise QueueError(f"{self.path}: {exc}") from None

    # --- exporters and cursors -----------------------------------------------------------------

    def register(self, exporters: Iterable[str]) -> None:
        """The exporters reading the queue. A new one starts at the tail: older entries were queued for others."""
        self._exporters = tuple(sorted(set(exporters)))
        with self._transaction() as db:
            tail = _tail(db)
            db.executemany("INSERT OR IGNORE INTO cursors VALUES (?, ?)", [(e, tail) for e in self._exporters])
            self._collect(db)

    def cursor(self, exporter: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT entry_id FROM cursors WHERE exporter = ?", (exporter,)).fetchone()
        return int(row[0]) if row else 0

    def advance(self, exporter: str, entry_id: int) -> None:
        """Moves the exporter past `entry_id`; entries every exporter has passed are deleted."""
        with self._transaction() as db:
            self._move(db, exporter, entry_id)

    def _move(self, db: sqlite3.Connection, exporter: str, entry_id: int) -> None:
        db.execute(
            "UPDATE cursors SET entry_id = ? WHERE exporter = ? AND entry_id < ?", (entry_id, exporter, entry_id)
        )
        self._collect(db)

    def _collect(self, db: sqlite3.Connection) -> None:
        """Deletes, in the caller's transaction, the entries every exporter has passed."""
        if not self._exporters:
            return
        marks = ",".join("?" * len(self._exporters))
        (floor,) = db.execute(
            f"SELECT MIN(entry_id) FROM cursors WHERE exporter IN ({marks})", self._exporters
        ).fetchone()
        freed = db.execute("SELECT COALESCE(SUM(size), 0) FROM entries WHERE id <= ?", (floor,)).fetchone()[0]
        if freed:
            db.execute("DELETE FROM entries WHERE id <= ?", (floor,))
            self.queued_bytes = max(self.queued_bytes - int(freed), 0)

    # --- entries ---------------------------------------------------------------------------------

    def append(
        self,
        entries: Sequence[tuple[str, int, bytes]],
        now: float,
        release: Sequence[int] = (),
        run: AcceptedRun | None = None,
        exclusive: bool = False,
    ) -> Callable[[], bool]:
        """Queues OTLP requests `(pipeline, spans, payload)`, records `run` as accepted and
        forgets the journal rows the requests were built from, atomically: a crash leaves either the
        events or the spans, never neither, and never a run marked accepted without its spans.
        `exclusive`: queue nothing and answer False if the run was accepted before (a duplicate); its journal
        rows are still forgotten.

        Handed to the writer thread at once; calling the result waits for the commit and gives the answer.
        Appends handed over before the first is waited for are committed together (group commit): one
        transaction and one lock hand-off for many runs, where each thread taking the lock in turn would queue
        behind the others for the interpreter lock too."""
        return self._soon(_Append(entries, now, release, run, exclusive))

    def append_new_run(
        self, entries: Sequence[tuple[str, int, bytes]], now: float, run: AcceptedRun, release: Sequence[int]
    ) -> Awaitable[bool]:
        """`append(entries, now, release, run, exclusive=True)` for the event loop: the commit is awaited
        instead of parking a thread to wait for it (a thread hop per request was a tenth of a busy bridge's
        work)."""
        return self._awaitable(_Append(entries, now, release, run, exclusive=True))

    def _soon(self, request: _Append) -> Callable[[], bool]:
        finished = threading.Event()
        request.done = finished.set
        self._enqueue(request)
        return partial(_waited, request, finished)

    def _awaitable(self, request: _Append) -> Awaitable[bool]:
        """The request handed to the writer now, in call order (the order of the commits); its outcome
        awaited later."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        request.done = finished
        self._enqueue(request)
        return _outcome(request, finished)

    def _enqueue(self, request: _Append) -> None:
        with self._writer_lock:
            if self._writer_closed:
                # A thread still running after shutdown (a poll under way) must not start a writer on a closed
                # file: its append fails now, and what it was built from stays journaled.
                request.error = QueueError(f"{self.path}: the queue is closed")
                _wake([request])
                return
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_appends, name="queue-writer", daemon=True)
                self._writer.start()
            self._appends.put(request)

    def _write_appends(self) -> None:
        while (first := self._appends.get()) is not None:
            group = [first]
            while len(group) < _GROUP_MAX and not self._appends.empty():
                following = self._appends.get()
                if following is None:
                    self._appends.put(None)  # stop after this group
                    break
                group.append(following)
            self._commit(group)

    def _commit(self, group: list[_Append]) -> None:
        """Every request of `group` ends done: committed, or with the error (the whole group fails together).
        A handful of statements per group, whatever its size: each one hands the interpreter lock back and
        has to wait for it again."""
        try:
            with self._transaction() as db:
                # First: a request of the group may release rows journaled by an earlier one.
                _insert_journal(db, [row for request in group for row in request.journal])
                _insert_span_journal(db, [row for request in group for row in request.span_journal])
                accepted, entries, released, replaced = self._decide(db, group)
                _insert(db, "INSERT OR REPLACE INTO accepted_runs", accepted)
                _insert(db, "INSERT INTO entries (pipeline, exporter, created_at, spans, size, payload)", entries)
                freed = _empty_entries(db, replaced) if replaced else 0
                if released:
                    _delete(db, "journal", released)
                    _delete(db, "span_journal", released)
                # Under the writer's lock, as every change of the count is (a checkpoint's count included).
                self.queued_bytes += sum(row[4] for row in entries) - freed
        except Exception as error:  # the writer thread must outlive any failure, or every append would hang
            failure = error if isinstance(error, QueueError) else QueueError(f"{self.path}: {error!r}")
            for request in group:
                request.error = failure
        finally:
            _wake(group)

    @staticmethod
    def _decide(
        db: sqlite3.Connection, group: list[_Append]
    ) -> tuple[
        list[tuple[str, str, float, int, int | None, int | None]],
        list[tuple[str, None, float, int, int, bytes]],
        list[int],
        list[tuple[int, int]],
    ]:
        """Which requests are taken, in order (a group may hold one run twice): the rows to write, and the id
        ranges of the entries of copies a richer copy replaces. A run accepted before is taken again only in a
        copy holding more of it (`AcceptedRun.detail`)."""
        ids = [request.run[0] for request in group if request.run is not None]
        marks = ",".join("?" * len(ids))
        # Not asked when no run is in the group (journal rows only): each statement gives up the interpreter lock.
        known: dict[str, tuple[int, int | None, int | None]] = (
            {
                row[0]: row[1:]
                for row in db.execute(
                    f"SELECT run_id, detail, entries_from, entries_to FROM accepted_runs WHERE run_id IN ({marks})", ids
                )
            }
            if ids
            else {}
        )
        # The id the first entry written will get: AUTOINCREMENT counts on from the last id ever given, row by row.
        first_id = _tail(db) + 1 if ids else 0
        accepted: list[tuple[str, str, float, int, int | None, int | None]] = []
        entries: list[tuple[str, None, float, int, int, bytes]] = []
        released: list[int] = []
        replaced: list[tuple[int, int]] = []
        for request in group:
            if request.run is not None:
                run_id, receiver, detail = request.run
                previous = known.get(run_id)
                if previous is None or detail > previous[0]:
                    start, end = first_id + len(entries), first_id + len(entries) + len(request.entries) - 1
                    if previous is not None and previous[1] is not None and previous[2] is not None:
                        replaced.append((previous[1], previous[2]))
                    known[run_id] = (detail, start, end)
                    accepted.append((run_id, receiver, request.now, detail, start, end))
                elif request.exclusive:
                    # A copy of a run already queued: what it was built from is no longer needed either.
                    released += request.release
                    continue
            request.accepted = True
            entries += [
                (pipeline, None, request.now, spans, len(payload), payload)
                for pipeline, spans, payload in request.entries
            ]
            released += request.release
        return accepted, entries, released, replaced

    def run_seen(self, run_id: str) -> bool:
        """True if a run with this id was queued before, by any receiver."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM accepted_runs WHERE run_id = ?", (run_id,)).fetchone() is not None

    def pending(
        self, exporter: str, pipelines: frozenset[str], after: int, max_spans: int, max_bytes: int | None
    ) -> Pending:
        """The oldest entries for `exporter` after id `after` that fit one request (at least one), and the
        last id looked at: entries of other pipelines in between are passed over with them."""
        taken: list[Entry] = []
        scanned, spans, size = after, 0, 0
        # Pages: a batch needs a few dozen rows, and reading thousands per step was a sixth of the CPU of a
        # busy bridge; entries of other pipelines are passed over for at most `_SCAN` rows per step.
        while scanned - after < _SCAN:
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, pipeline, exporter, created_at, spans, size FROM entries WHERE id > ? ORDER BY id "
                    "LIMIT ?",
                    (scanned, _PAGE),
                ).fetchall()
            for entry_id, pipeline, only, created_at, entry_spans, entry_size in rows:
                # Passed over: another pipeline's, or emptied (a copy of a run that a richer copy replaced).
                if not entry_spans or ((only != exporter) if only else (pipeline not in pipelines)):
                    scanned = entry_id
                    continue
                full = spans + entry_spans > max_spans or (max_bytes is not None and size + entry_size > max_bytes)
                if taken and full:
                    return Pending(taken, scanned, full=True)
                taken.append(Entry(entry_id, pipeline, created_at, entry_spans, entry_size))
                scanned, spans, size = entry_id, spans + entry_spans, size + entry_size
            if len(rows) < _PAGE:
                break
        return Pending(taken, scanned)

    def payload(self, entries: Sequence[Entry]) -> bytes:
        """The entries as one request: serialized messages of one protobuf type concatenate into their merge."""
        marks = ",".join("?" * len(entries))
        with self._lock:
            rows = self._db.execute(
                f"SELECT payload FROM entries WHERE id IN ({marks}) ORDER BY id", [e.id for e in entries]
            ).fetchall()
        if len(rows) != len(entries):
            raise QueueError(f"{self.path}: queued entries vanished while being sent")
        return b"".join(row[0] for row in rows)

    def backlog(self, exporter: str, pipelines: frozenset[str]) -> tuple[int, int, float | None]:
        """(entries, spans, oldest created_at) still to deliver for `exporter`. A scan of every entry waiting (15
        ms for 50,000 of them), so it runs beside the writer, never holding up a commit."""
        marks = ",".join("?" * len(pipelines)) or "NULL"
        with self._reading() as db:
            row = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(spans), 0), MIN(created_at) FROM entries "
                f"WHERE id > (SELECT entry_id FROM cursors WHERE exporter = ?) "
                f"AND (exporter = ? OR (exporter IS NULL AND pipeline IN ({marks})))",
                (exporter, exporter, *sorted(pipelines)),
            ).fetchone()
        return int(row[0]), int(row[1]), row[2]

    # --- dead letters ----------------------------------------------------------------------------

    def dead_letter(self, exporter: str, entries: Sequence[Entry], reason: str, now: float, advance_to: int) -> None:
        """Copies `entries` to the dead letters with `reason` and moves the exporter's cursor past them."""
        marks = ",".join("?" * len(entries))
        with self._transaction() as db:
            db.execute(
                "INSERT INTO dead_letters (exporter, pipeline, created_at, failed_at, spans, size, reason, payload) "
                f"SELECT ?, pipeline, created_at, ?, spans, size, ?, payload FROM entries WHERE id IN ({marks}) "
                "ORDER BY id",
                (exporter, now, reason, *(e.id for e in entries)),
            )
            self._move(db, exporter, advance_to)

    def dead_letter_count(self) -> int:
        with self._reading() as db:
            return int(db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, exporter, pipeline, created_at, failed_at, spans, size, reason "
                "FROM dead_letters ORDER BY id"
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def dead_letter_payload(self, letter_id: int) -> bytes:
        """The refused request's bytes (an `ExportTraceServiceRequest`)."""
        with self._lock:
            row = self._db.execute("SELECT payload FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
        return bytes(row[0]) if row else b""

    def requeue(self, ids: Sequence[int] | None) -> int:
        """Moves dead letters (all of them when `ids` is None) back into the queue, each addressed to the
        exporter that refused it, journal rows (`JOURNAL`) excepted; returns how many moved."""
        where, args = "WHERE exporter != ?", list[str | int]([JOURNAL])
        if ids is not None:
            where, args = f"{where} AND id IN ({','.join('?' * len(ids))})", [*args, *ids]
        with self._transaction() as db:
            moved = db.execute(
                "INSERT INTO entries (pipeline, exporter, created_at, spans, size, payload) "
                f"SELECT pipeline, exporter, created_at, spans, size, payload FROM dead_letters {where} ORDER BY id",
                args,
            ).rowcount
            size = db.execute(f"SELECT COALESCE(SUM(size), 0) FROM dead_letters {where}", args).fetchone()[0]
            db.execute(f"DELETE FROM dead_letters {where}", args)
            self.queued_bytes += int(size)
        return int(moved)

    # --- journal of in-flight stream events ------------------------------------------------------

    def journal(self, rows: Sequence[JournalRow]) -> Callable[[], bool]:
        """Stream events of runs still open, handed to the writer now, so that rows are committed in the order of
        the calls (a caller holding a lock keeps the order it gives them, and need not hold it for the commit);
        calling the result waits for the commit."""
        return self._soon(_Append((), 0.0, journal=rows))

    def journal_soon(self, rows: Sequence[JournalRow]) -> Awaitable[bool]:
        """`journal` for the event loop: the commit is awaited."""
        return self._awaitable(_Append((), 0.0, journal=rows))

    def journal_this_turn(self, rows: Sequence[JournalRow]) -> Awaitable[bool]:
        """`journal_soon`, the rows of every call in this turn of the event loop (requests read together) handed
        to the writer as one at the turn's end: one hand-off and one wake-up of the writer thread for them all,
        in the order of the calls; committed, or failed, together. Only for rows that nothing handed to the
        writer sooner releases: the caller closes their runs on this loop, in a later turn."""
        loop = asyncio.get_running_loop()
        if self._turn is None or self._turn[0] is not loop:
            request, finished, gathered = _Append((), 0.0), loop.create_future(), list[JournalRow]()
            request.done, request.journal = finished, gathered
            self._turn = (loop, request, finished, gathered)
            loop.call_soon(self._end_turn)
        _, request, finished, gathered = self._turn
        gathered += rows
        return _outcome(request, finished)

    def _end_turn(self) -> None:
        if self._turn is not None:
            request, self._turn = self._turn[1], None
            self._enqueue(request)

    def dead_letter_journal_row(self, row_id: int, kind: str, reason: str, now: float) -> None:
        """Moves journal row `row_id` (of either journal) to the dead letters as it is stored, with `reason`
        (`kind` as its pipeline), so that no later start reads it again."""
        with self._transaction() as db:
            for table, column in (("journal", "CAST(event AS BLOB)"), ("span_journal", "payload")):
                db.execute(
                    "INSERT INTO dead_letters (exporter, pipeline, created_at, failed_at, spans, size, reason, "
                    f"payload) SELECT ?, ?, received_at, ?, 0, LENGTH({column}), ?, {column} FROM {table} WHERE id = ?",
                    (JOURNAL, kind, now, reason, row_id),
                )
                db.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))

    def journal_rows(self) -> list[JournalRow]:
        with self._lock:
            rows = self._db.execute("SELECT id, received_at, context, receiver, event FROM journal ORDER BY id")
            return [JournalRow(*row) for row in rows.fetchall()]

    def journal_spans(self, rows: Sequence[SpanJournalRow]) -> Callable[[], bool]:
        """Received OTLP spans of traces still open, as `journal`."""
        return self._soon(_Append((), 0.0, span_journal=rows))

    def journal_spans_soon(self, rows: Sequence[SpanJournalRow]) -> Awaitable[bool]:
        """`journal_spans` for the event loop: the commit is awaited."""
        return self._awaitable(_Append((), 0.0, span_journal=rows))

    def span_journal_rows(self) -> list[SpanJournalRow]:
        with self._lock:
            rows = self._db.execute("SELECT id, received_at, receiver, payload FROM span_journal ORDER BY id")
            return [SpanJournalRow(*row) for row in rows.fetchall()]

    def last_journal_id(self) -> int:
        """The highest row id of either journal: new rows of both continue from it."""
        with self._lock:
            query = (
                "SELECT MAX((SELECT COALESCE(MAX(id), 0) FROM journal), "
                "(SELECT COALESCE(MAX(id), 0) FROM span_journal))"
            )
            return int(self._db.execute(query).fetchone()[0])

"""The queue file: SQLite in WAL mode. Thread-safe; every call is one short transaction.

`entries` holds OTLP `ExportTraceServiceRequest`s as serialized bytes, `cursors` how far each exporter has
delivered, `dead_letters` what a backend refused for good, `journal` the stream events of runs still being
assembled, `span_journal` the received OTLP spans of traces still waiting for their last span (one
`ExportTraceServiceRequest` per trace and request); both journals number their rows from one sequence.
Entry ids come from AUTOINCREMENT, so an id is never reused and a cursor never skips an entry.
A journal row no start can read is moved to the dead letters, under the exporter name `JOURNAL`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from pathlib import Path

from bridge.queue.appends import last_entry_id, write_group
from bridge.queue.errors import QueueError
from bridge.queue.group_commit import Append, GroupWriter
from bridge.queue.rows import AcceptedRun, DeadLetter, Entry, JournalRow, Pending, SpanJournalRow
from bridge.queue.schema import check_version, create_or_migrate
from bridge.state_files.file_lock import FileInUse, FileLock
from bridge.state_files.private_file import make_private

# The dead letters' exporter for journal rows no start could read: raw events or spans, kept to be looked into,
# never requeued (they are no export request, and were never redacted). No component id has parentheses.
JOURNAL = "(journal)"
# Run ids forgotten per checkpoint (one a second) at most: more than any bridge accepts a second, in a short
# hold of the writer's lock.
_FORGET_AT_ONCE = 5000
# Rows read per query, and at most per delivery step (entries of other pipelines are skipped over).
_PAGE = 64
_SCAN = 2000
# The write-ahead log is started over once it holds this many frames (64 MiB of 4 KiB pages): see `checkpoint`.
LOG_RESTART_FRAMES = 16_384


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
        self._writer = GroupWriter(path, self._commit)
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
            version = check_version(self._db, path)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL survives a killed process; FULL also survives power loss, at an fsync per commit.
            self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            # Checkpoints (which fsync) run from `checkpoint`, off the path of any acknowledgement.
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            # A log that grew longer in a burst is cut back to this when it starts over.
            self._db.execute(f"PRAGMA journal_size_limit={2 * LOG_RESTART_FRAMES * 4096}")
            create_or_migrate(self._db, version)
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
        self._writer.close()
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
            tail = last_entry_id(db)
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
        return self._writer.soon(Append(entries, now, release, run, exclusive))

    def append_new_run(
        self, entries: Sequence[tuple[str, int, bytes]], now: float, run: AcceptedRun, release: Sequence[int]
    ) -> Awaitable[bool]:
        """`append(entries, now, release, run, exclusive=True)` for the event loop: the commit is awaited
        instead of parking a thread to wait for it (a thread hop per request was a tenth of a busy bridge's
        work)."""
        return self._writer.awaitable(Append(entries, now, release, run, exclusive=True))

    def _commit(self, group: list[Append]) -> None:
        with self._transaction() as db:
            # Under the writer's lock, as every change of the count is (a checkpoint's count included).
            self.queued_bytes += write_group(db, group)

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
        return self._writer.soon(Append((), 0.0, journal=rows))

    def journal_soon(self, rows: Sequence[JournalRow]) -> Awaitable[bool]:
        """`journal` for the event loop: the commit is awaited."""
        return self._writer.awaitable(Append((), 0.0, journal=rows))

    def journal_this_turn(self, rows: Sequence[JournalRow]) -> Awaitable[bool]:
        """`journal_soon`, the rows of every call in this turn of the event loop (requests read together) handed
        to the writer as one at the turn's end: one hand-off and one wake-up of the writer thread for them all,
        in the order of the calls; committed, or failed, together. Only for rows that nothing handed to the
        writer sooner releases: the caller closes their runs on this loop, in a later turn."""
        return self._writer.this_turn(rows)

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
        return self._writer.soon(Append((), 0.0, span_journal=rows))

    def journal_spans_soon(self, rows: Sequence[SpanJournalRow]) -> Awaitable[bool]:
        """`journal_spans` for the event loop: the commit is awaited."""
        return self._writer.awaitable(Append((), 0.0, span_journal=rows))

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

"""What a committed group of appends writes, in the writer's transaction: journal rows, the runs accepted and
their entries, the entries of copies a richer copy replaced emptied, the journal rows released deleted."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from bridge.queue.group_commit import Append
from bridge.queue.rows import JournalRow, SpanJournalRow

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


def last_entry_id(db: sqlite3.Connection) -> int:
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


def write_group(db: sqlite3.Connection, group: list[Append]) -> int:
    """Writes `group`'s rows, each request's `accepted` set; returns the change of the bytes queued. A handful
    of statements per group, whatever its size: each one hands the interpreter lock back and has to wait for
    it again."""
    # First: a request of the group may release rows journaled by an earlier one.
    _insert_journal(db, [row for request in group for row in request.journal])
    _insert_span_journal(db, [row for request in group for row in request.span_journal])
    accepted, entries, released, replaced = _decide(db, group)
    _insert(db, "INSERT OR REPLACE INTO accepted_runs", accepted)
    _insert(db, "INSERT INTO entries (pipeline, exporter, created_at, spans, size, payload)", entries)
    freed = _empty_entries(db, replaced) if replaced else 0
    if released:
        _delete(db, "journal", released)
        _delete(db, "span_journal", released)
    return sum(row[4] for row in entries) - freed


def _decide(
    db: sqlite3.Connection, group: list[Append]
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
    first_id = last_entry_id(db) + 1 if ids else 0
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
            (pipeline, None, request.now, spans, len(payload), payload) for pipeline, spans, payload in request.entries
        ]
        released += request.release
    return accepted, entries, released, replaced

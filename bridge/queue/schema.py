"""The queue file's tables, the schema version it records, and the migrations from older versions."""

from __future__ import annotations

import sqlite3

from bridge.queue.errors import QueueError

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


def _schema_version(db: sqlite3.Connection) -> str | None:
    """The schema version a queue file records; None for a new file (or one from before versions were kept)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return None if row is None else str(row[0])


def check_version(db: sqlite3.Connection, path: str) -> str | None:
    """The file's schema version (None for a new file); a newer bridge's file is refused before anything is
    written to it (tables, WAL mode)."""
    version = _schema_version(db)
    if version not in (None, "1", "2", SCHEMA_VERSION):
        raise QueueError(f"{path}: queue schema {version}, this bridge reads {SCHEMA_VERSION}")
    return version


def create_or_migrate(db: sqlite3.Connection, version: str | None) -> None:
    """Creates the tables a file lacks and migrates one of `version` to `SCHEMA_VERSION`; the version recorded
    is also a write probe: a read-only file or directory fails now rather than at the first run."""
    db.executescript(_SCHEMA)
    if version == "1":
        db.executescript(_MIGRATE_1 + _MIGRATE_2)
    elif version == "2":
        db.executescript(_MIGRATE_2)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

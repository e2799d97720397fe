"""SQLite files only the bridge's user may read: the store holds registrations, the queue run content
(its journals before redaction)."""

from __future__ import annotations

import contextlib
import os

# SQLite gives a database's write-ahead log and shared-memory index the mode of the database file itself.
_COMPANIONS = ("", "-wal", "-shm", "-journal")


def make_private(path: str) -> None:
    """Creates `path` with mode 0600 if it does not exist, and takes group and other access away from it and its
    companion files if they do (files made by earlier versions were 0644). Call before SQLite opens it."""
    if path == ":memory:":
        return
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, 0o600)

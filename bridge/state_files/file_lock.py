"""One bridge per queue file and store: an exclusive lock on `<file>.lock`, held while the file is open.

Two bridges on one queue file would both deliver every entry, and on one store both poll the same instances.
The lock is `flock` on a file of its own (SQLite's own locks on the database are `fcntl` locks, which `flock`
must not be mixed with on network file systems); the kernel drops it when its holder dies, even by `kill -9`.
Tools that share a running bridge's queue file on purpose (`deadletter`) take no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os


class FileInUse(Exception):
    """Another process holds the lock; the message names it by its process id when it wrote one."""


class FileLock:
    """The lock on `<path>.lock`, taken at construction (or `FileInUse`), released by `release` or at exit."""

    def __init__(self, path: str) -> None:
        self.path = path + ".lock"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise FileInUse(f"in use by another process{f' (pid {holder})' if holder.isdigit() else ''}") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

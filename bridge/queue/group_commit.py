"""The queue file's one writer thread: appends handed over before the first is waited for are committed
together (group commit), in the order they were handed over, and their waiters woken, a thread's or an event
loop's."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from queue import SimpleQueue

from bridge.queue.errors import QueueError
from bridge.queue.rows import AcceptedRun, JournalRow, SpanJournalRow

# Appends committed in one transaction at most.
_GROUP_MAX = 256


@dataclass
class Append:
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


def _wake(group: list[Append]) -> None:
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


def _waited(request: Append, finished: threading.Event) -> bool:
    finished.wait()
    return request.outcome()


async def _outcome(request: Append, finished: asyncio.Future[None]) -> bool:
    await finished
    return request.outcome()


class GroupWriter:
    """Hands appends to the writer thread (started by the first) which commits them in groups through
    `commit`: a failure of `commit` is the failure of every append of the group."""

    def __init__(self, path: str, commit: Callable[[list[Append]], None]) -> None:
        self._path = path
        self._commit_rows = commit
        self._appends: SimpleQueue[Append | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        # `this_turn`: the rows of one turn of an event loop, handed to the writer together at its end.
        self._turn: tuple[asyncio.AbstractEventLoop, Append, asyncio.Future[None], list[JournalRow]] | None = None

    def close(self) -> None:
        """Commits what was handed over and stops the thread; later appends fail."""
        with self._lock:
            self._closed = True
            if self._thread is not None:
                self._appends.put(None)
                self._thread.join()
                self._thread = None

    def soon(self, request: Append) -> Callable[[], bool]:
        finished = threading.Event()
        request.done = finished.set
        self.enqueue(request)
        return partial(_waited, request, finished)

    def awaitable(self, request: Append) -> Awaitable[bool]:
        """The request handed to the writer now, in call order (the order of the commits); its outcome
        awaited later."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        request.done = finished
        self.enqueue(request)
        return _outcome(request, finished)

    def enqueue(self, request: Append) -> None:
        with self._lock:
            if self._closed:
                # A thread still running after shutdown (a poll under way) must not start a writer on a closed
                # file: its append fails now, and what it was built from stays journaled.
                request.error = QueueError(f"{self._path}: the queue is closed")
                _wake([request])
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_appends, name="queue-writer", daemon=True)
                self._thread.start()
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

    def _commit(self, group: list[Append]) -> None:
        """Every request of `group` ends done: committed, or with the error (the whole group fails together)."""
        try:
            self._commit_rows(group)
        except Exception as error:  # the writer thread must outlive any failure, or every append would hang
            failure = error if isinstance(error, QueueError) else QueueError(f"{self._path}: {error!r}")
            for request in group:
                request.error = failure
        finally:
            _wake(group)

    def this_turn(self, rows: Sequence[JournalRow]) -> Awaitable[bool]:
        """Journal rows of every call in this turn of the event loop, handed over as one append at its end."""
        loop = asyncio.get_running_loop()
        if self._turn is None or self._turn[0] is not loop:
            request, finished, gathered = Append((), 0.0), loop.create_future(), list[JournalRow]()
            request.done, request.journal = finished, gathered
            self._turn = (loop, request, finished, gathered)
            loop.call_soon(self._end_turn)
        _, request, finished, gathered = self._turn
        gathered += rows
        return _outcome(request, finished)

    def _end_turn(self) -> None:
        if self._turn is not None:
            request, self._turn = self._turn[1], None
            self.enqueue(request)

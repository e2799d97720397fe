"""An export queue in memory, for `replay`: the deliveries read it as they read the queue file, without SQLite.

A replay keeps nothing across runs of the command (it says so when an export fails), so what it queues needs
no file, no journal and no duplicate check: entries are appended in order, read by each exporter's delivery
from its cursor, and dropped once every exporter has moved past them. Dead letters are counted, not kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from bridge.queue.rows import Entry, Pending

_DROP_AT_ONCE = 256


class MemoryQueue:
    """Entries of (pipeline, span count, OTLP request), numbered from 1 in the order they are appended."""

    path = ":memory:"

    def __init__(self, exporters: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[Entry, bytes]] = []  # entries after `_dropped`, oldest first
        self._dropped = 0  # entries removed from the front (the last one's id)
        self._last = 0
        self._cursors = dict.fromkeys(exporters, 0)

    def append(self, entries: Sequence[tuple[str, int, bytes]], now: float) -> None:
        with self._lock:
            for pipeline, spans, payload in entries:
                self._last += 1
                self._entries.append((Entry(self._last, pipeline, now, spans, len(payload)), payload))

    def cursor(self, exporter: str) -> int:
        with self._lock:
            return self._cursors[exporter]

    def pending(
        self, exporter: str, pipelines: frozenset[str], after: int, max_spans: int, max_bytes: int | None
    ) -> Pending:
        """As `QueueStorage.pending`: the oldest entries of `pipelines` after id `after` that fit one request."""
        taken: list[Entry] = []
        scanned, spans, size = after, 0, 0
        with self._lock:
            start = max(after - self._dropped, 0)
            for index in range(start, len(self._entries)):
                entry = self._entries[index][0]
                if entry.pipeline not in pipelines:
                    scanned = entry.id
                    continue
                full = spans + entry.spans > max_spans or (max_bytes is not None and size + entry.size > max_bytes)
                if taken and full:
                    return Pending(taken, scanned, full=True)
                taken.append(entry)
                scanned, spans, size = entry.id, spans + entry.spans, size + entry.size
        return Pending(taken, scanned)

    def payload(self, entries: Sequence[Entry]) -> bytes:
        """The entries as one request: serialized messages of one protobuf type concatenate into their merge."""
        with self._lock:
            return b"".join(self._entries[entry.id - self._dropped - 1][1] for entry in entries)

    def advance(self, exporter: str, entry_id: int) -> None:
        with self._lock:
            self._cursors[exporter] = entry_id
            done = min(self._cursors.values()) - self._dropped
            # Removed in pieces, not one by one: a list's front is costly to cut.
            if done >= _DROP_AT_ONCE or done == len(self._entries):
                del self._entries[:done]
                self._dropped += done

    def dead_letter(self, exporter: str, entries: Sequence[Entry], reason: str, now: float, advance_to: int) -> None:
        """Moves the exporter past `entries`; the delivery counts their spans and logs the reason."""
        self.advance(exporter, advance_to)

    def backlog(self, exporter: str, pipelines: frozenset[str]) -> tuple[int, int, float | None]:
        """(entries, spans, oldest created_at) still to deliver for `exporter`."""
        with self._lock:
            waiting = [
                entry
                for entry, _ in self._entries[max(self._cursors[exporter] - self._dropped, 0) :]
                if entry.pipeline in pipelines
            ]
        return len(waiting), sum(e.spans for e in waiting), min((e.created_at for e in waiting), default=None)

"""The queue file's rows as the bridge reads and writes them: accepted runs, entries, dead letters, journal rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class AcceptedRun(NamedTuple):
    """A run's copy as the duplicate check knows it. `detail`: how much of the run the copy holds (higher holds
    more); a later copy of an accepted run is queued too only when it holds more."""

    run_id: str
    receiver: str
    detail: int


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

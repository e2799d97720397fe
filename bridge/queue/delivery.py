"""One exporter's delivery: reads its entries from the queue, batches them, sends, retries, dead-letters.

Each exporter has its own thread and cursor, so a slow or absent backend holds back only itself. The
cursor moves only after the backend answered, so a crash re-sends at most the batch in flight.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import metrics

from bridge.exporters import Sender, SendResult
from bridge.queue.errors import QueueError
from bridge.queue.retry import backoff
from bridge.queue.rows import Entry, Pending

logger = logging.getLogger(__name__)
# How often an idle delivery looks at the queue anyway (entries re-queued by another process).
IDLE_POLL_S = 1.0
# A backend failing for longer than this is logged again (not on every retry).
_LOG_EVERY_S = 60.0


class DeliveryQueue(Protocol):
    """What a delivery reads and moves on: the queue file (`QueueStorage`), or replay's `MemoryQueue`."""

    path: str

    def cursor(self, exporter: str) -> int: ...

    def pending(
        self, exporter: str, pipelines: frozenset[str], after: int, max_spans: int, max_bytes: int | None
    ) -> Pending: ...

    def payload(self, entries: Sequence[Entry]) -> bytes: ...

    def advance(self, exporter: str, entry_id: int) -> None: ...

    def dead_letter(
        self, exporter: str, entries: Sequence[Entry], reason: str, now: float, advance_to: int
    ) -> None: ...


@dataclass(frozen=True)
class BatchSettings:
    timeout: float  # longest an entry waits for its batch to fill
    send_batch_size: int  # spans per request


class DeliveryMetrics:
    """The export instruments, created once per meter and shared by every delivery."""

    def __init__(self, meter: metrics.Meter) -> None:
        self.requests = meter.create_counter(
            "dify_bridge.export.requests", unit="{request}", description="Export requests by outcome"
        )
        self.spans = meter.create_counter("dify_bridge.export.spans", unit="{span}", description="Spans delivered")
        self.retries = meter.create_counter(
            "dify_bridge.export.retries", unit="{retry}", description="Retries of failed export requests"
        )
        self.dead_letters = meter.create_counter(
            "dify_bridge.export.dead_lettered", unit="{span}", description="Spans moved to the dead letters"
        )


class Delivery:
    def __init__(
        self,
        exporter: str,
        sender: Sender,
        storage: DeliveryQueue,
        pipelines: frozenset[str],
        batch: BatchSettings,
        instruments: DeliveryMetrics,
    ) -> None:
        self.exporter, self.sender, self.storage, self.pipelines = exporter, sender, storage, pipelines
        self.batch = batch
        self._metrics = instruments
        self._attributes = {"exporter": exporter}
        self._rng = random.Random()
        self._cursor = storage.cursor(exporter)
        self._saved = self._cursor  # the cursor as the queue file holds it: behind `_cursor` while it cannot be written
        self._isolate_to = 0  # entries up to this id go one per request (a batch of them was refused)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._state = threading.Condition()
        self._reads = 0
        self._empty_read = 0  # number of the last read that found nothing to send
        self._flushers = 0
        self._notified = (0, 0)  # spans and bytes queued so far, as told by `notify`
        self._wake_at: tuple[float, float] = (0, 0)  # `notify` wakes the thread once at these spans or past these bytes
        self._last_logged = 0.0
        self.last_ok: bool | None = None  # None until the first request
        self.last_error: str | None = None  # the reason of the last failed request
        # Said in each retry's warning: a queue in memory (replay) loses what it holds when the process ends.
        self._kept = "queued data is kept" if storage.path != ":memory:" else "held in memory only, lost at exit"
        self.delivered_spans = 0
        self.dead_spans = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # The thread is made here: one made before a fork counts as ended in the child (CPython marks every
        # thread object but the forking one stopped), and `replay`'s workers fork with their deliveries made.
        self._thread = threading.Thread(target=self._run, name=f"delivery-{self.exporter}", daemon=True)
        self._thread.start()

    def notify(self, spans: int, size: int) -> None:
        """New entries of `spans` spans in `size` bytes were queued (counted whichever pipelines they are of:
        counting too many only makes a waiting batch look again sooner)."""
        with self._state:
            self._notified = (self._notified[0] + spans, self._notified[1] + size)
            reached = self._reached()
        if reached:
            self._wake.set()

    def _reached(self) -> bool:
        """Whether what was queued reached the mark the thread waits for (the caller holds `_state`)."""
        return self._notified[0] >= self._wake_at[0] or self._notified[1] > self._wake_at[1]

    def flush(self, timeout: float) -> bool:
        """Sends what is queued without waiting for batches to fill; True once a read finds nothing left."""
        deadline = time.monotonic() + timeout
        with self._state:
            self._flushers += 1
            start = self._reads
            self._wake.set()
            try:
                while self._empty_read <= start:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._thread is None or not self._thread.is_alive():
                        return False
                    self._state.wait(min(remaining, 0.1))
                return True
            finally:
                self._flushers -= 1

    def stop(self, timeout: float = 5.0) -> None:
        """Stops after the request in flight; whatever is not delivered stays queued."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
        self.sender.close()

    # --- the delivery thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            # Cleared before the read, so a notify arriving during it wakes the wait below (none is lost).
            self._wake.clear()
            try:
                if self._step():
                    continue
            except QueueError as error:
                logger.error("exporter %s: %s", self.exporter, error)
            except Exception:  # a bug must not end deliveries for good: log, pause, go on
                logger.exception("exporter %s: delivery failed", self.exporter)
            self._wake.wait(IDLE_POLL_S)

    def _step(self) -> bool:
        """One read and at most one request; False when nothing is left to send."""
        with self._state:
            self._reads += 1
            read, notified = self._reads, self._notified
        isolating = self._cursor < self._isolate_to
        max_spans = 1 if isolating else self.batch.send_batch_size
        entries, scanned, full = self.storage.pending(
            self.exporter, self.pipelines, self._cursor, max_spans, self.sender.max_request_bytes
        )
        if not entries:
            # Past entries of other pipelines, or a cursor the queue file could not take before (disk full).
            if max(scanned, self._cursor) > self._saved:
                self._move(max(scanned, self._cursor))
            with self._state:
                self._empty_read = read
                self._state.notify_all()
            return False
        spans = sum(e.spans for e in entries)
        # A batch is sent once full: at `send_batch_size`, or when the next entry would not fit (waiting then
        # only delayed it, and every entry queued meanwhile woke this thread to read the same batch again).
        if (
            spans < self.batch.send_batch_size
            and not full
            and not isolating
            and not self._flushers
            and not self._stop.is_set()
        ):
            wait = self.batch.timeout - (time.time() - entries[0].created_at)
            if wait > 0:
                self._fill(spans, sum(e.size for e in entries), notified, wait)
                return True
        self._deliver(entries, scanned, spans)
        return True

    def _fill(self, spans: int, size: int, notified: tuple[int, int], wait: float) -> None:
        """Lets a batch of `spans` in `size` bytes fill for up to `wait` seconds: until what was queued since
        its read (`notified` then) would fill it, or a flush or stop asks for it. Waking and reading again at
        each new entry read the same rows over and over, under the writer's lock: a read per run below
        saturation."""
        limit = self.sender.max_request_bytes
        with self._state:
            room = math.inf if limit is None else limit - size
            self._wake_at = (notified[0] + self.batch.send_batch_size - spans, notified[1] + room)
            self._wake.clear()  # a notify before this mark set it: `_reached` looks at those
            ready = self._reached() or self._flushers > 0
        try:
            if not ready and not self._stop.is_set():
                self._wake.wait(wait)
        finally:
            with self._state:
                self._wake_at = (0, 0)

    def _deliver(self, entries: list[Entry], scanned: int, spans: int) -> None:
        limit = self.sender.max_request_bytes
        if len(entries) == 1 and limit is not None and entries[0].size > limit:
            reason = f"one trace piece of {entries[0].size} bytes exceeds max_request_bytes ({limit})"
            return self._dead_letter(entries, scanned, spans, reason)
        payload = self.storage.payload(entries)
        attempt, first_failure = 0, 0.0
        while True:
            try:
                result = self.sender.send(payload)
            except Exception as error:  # a sender bug is a failed request, not a dead thread
                result = SendResult(False, True, f"{type(error).__name__}: {error}")
            outcome = "delivered" if result.ok else "retryable" if result.retryable else "refused"
            self.last_error = None if result.ok else result.reason
            self._metrics.requests.add(1, {**self._attributes, "outcome": outcome})
            self.last_ok = result.ok
            if result.ok:
                return self._delivered(entries, scanned, spans, result)
            if not result.retryable or not self.sender.retry.enabled:
                if len(entries) > 1:
                    # Send these one per request next, so only the entry the backend refuses is dead-lettered.
                    self._isolate_to = scanned
                    return None
                return self._dead_letter(entries, scanned, spans, result.reason)
            now = time.monotonic()
            first_failure = first_failure or now
            max_elapsed = self.sender.retry.max_elapsed_time
            if max_elapsed and now - first_failure >= max_elapsed:
                return self._dead_letter(entries, scanned, spans, f"gave up after {max_elapsed:g}s: {result.reason}")
            attempt += 1
            delay = backoff(self.sender.retry, attempt, result.retry_after, self._rng)
            if now - self._last_logged >= _LOG_EVERY_S or attempt == 1:
                self._last_logged = now
                logger.warning("exporter %s: %s; retrying in %.1fs (%s)", self.exporter, result.reason, delay,
                               self._kept)  # fmt: skip
            self._metrics.retries.add(1, self._attributes)
            if self._stop.wait(delay):
                return None  # stopping: the batch stays queued for the next start
            # Read again: while the backend was down, a richer copy of a run may have replaced one of these.
            payload = self.storage.payload(entries)

    def _delivered(self, entries: list[Entry], scanned: int, spans: int, result: SendResult) -> None:
        if result.rejected_spans:
            reason = f"partial success: the backend rejected {result.rejected_spans} of {spans} spans: {result.reason}"
            self._dead_letter(entries, scanned, result.rejected_spans, reason)
            spans -= result.rejected_spans
        else:
            if result.reason:
                logger.warning("exporter %s: backend warning: %s", self.exporter, result.reason)
            self._move(scanned)
        self.delivered_spans += spans
        self._metrics.spans.add(spans, self._attributes)

    def _move(self, scanned: int) -> None:
        """Past `scanned`: in memory first, so a queue file that cannot be written (disk full) does not have the
        delivered batch sent again at every poll while later ones wait; saved by the first move that can be."""
        self._cursor = scanned
        self.storage.advance(self.exporter, scanned)
        self._saved = scanned

    def _dead_letter(self, entries: list[Entry], scanned: int, spans: int, reason: str) -> None:
        logger.error("exporter %s: %d spans moved to the dead letters: %s", self.exporter, spans, reason)
        self.storage.dead_letter(self.exporter, entries, reason, time.time(), scanned)
        self._cursor = self._saved = scanned
        self.dead_spans += spans
        self._metrics.dead_letters.add(spans, self._attributes)


def notify_all(deliveries: Mapping[str, Delivery], entries: Sequence[tuple[str, int, bytes]]) -> None:
    """Tells every delivery that `entries` (pipeline, span count, OTLP request) were just queued."""
    spans, size = sum(e[1] for e in entries), sum(len(e[2]) for e in entries)
    for delivery in deliveries.values():
        delivery.notify(spans, size)


def flush_all(deliveries: Mapping[str, Delivery], timeout: float) -> bool:
    """Waits up to `timeout` seconds in all for every delivery to send what is queued."""
    deadline = time.monotonic() + timeout
    return all(d.flush(max(deadline - time.monotonic(), 0.0)) for d in deliveries.values())

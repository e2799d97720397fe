"""At start, the journal read back: stream events into their open runs and OTLP spans into their open traces, so
that half-received runs and traces resume; a row no start can read goes to the dead letters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.queue.journal import event_of
from bridge.queue.rows import JournalRow, SpanJournalRow
from bridge.queue.storage import QueueStorage
from bridge.trace.assembly import TraceAssembler
from bridge.trace.otlp_spans import to_spans

logger = logging.getLogger(__name__)


def resume_journal(
    storage: QueueStorage,
    assembler: RunAssembler,
    traces: TraceAssembler,
    decision_wait: Callable[[Sequence[ReadableSpan]], float],
) -> None:
    """Every journaled row into `assembler` (stream events) or `traces` (OTLP spans, each trace to wait
    `decision_wait` of its spans)."""
    rows = storage.journal_rows()
    for row in rows:
        _resumed(storage, "stream event", row.id, partial(_resume_event, assembler, row))
    if rows:
        logger.info("resumed %d open runs from %d journaled events", len(assembler), len(rows))
    span_rows = storage.span_journal_rows()
    # A resumed trace's wait counts from now: no sender could send the rest while the bridge was down (Dify's
    # exporter, seen live, tries again 1.15 s after a refused connection, then 1.9 s, 4.6 s, 9 s later).
    resumed_at = time.time()
    for span_row in span_rows:
        resume = partial(_resume_spans, traces, decision_wait, span_row, resumed_at)
        _resumed(storage, "otlp spans", span_row.id, resume)
    if span_rows:
        logger.info("resumed %d open traces from %d journaled requests", len(traces), len(span_rows))


def _resumed(storage: QueueStorage, kind: str, row_id: int, resume: Callable[[], None]) -> None:
    """`resume` of one journal row at start. A row it cannot read (a bug of an earlier version, a damaged file)
    stopped every start, then was retried at every start: it is moved to the dead letters (`deadletter list`
    shows it, under the exporter `(journal)`) and logged once, by id, kind and the error's type (its text, raw
    run content, is not logged); every other row resumes."""
    try:
        resume()
    except Exception as exc:
        reason = f"journal row {row_id} ({kind}) cannot be read: {type(exc).__name__}"
        storage.dead_letter_journal_row(row_id, kind, reason, time.time())
        logger.error("%s; moved to the dead letters, left out of this and every later start", reason)


def _resume_event(assembler: RunAssembler, row: JournalRow) -> None:
    assembler.add(event_of(row), row.received_at, row.context, row.receiver, journal=row.id)


def _resume_spans(
    traces: TraceAssembler,
    decision_wait: Callable[[Sequence[ReadableSpan]], float],
    row: SpanJournalRow,
    resumed_at: float,
) -> None:
    spans = to_spans(ExportTraceServiceRequest.FromString(row.payload)).spans
    if spans and spans[0].context is not None:
        wait = decision_wait(spans)
        traces.add(spans[0].context.trace_id, spans, max(row.received_at, resumed_at), row.receiver, wait, row.id)

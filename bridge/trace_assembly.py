"""Spans received over OTLP → whole traces. Exporters send a trace's spans as they end, often one per
request: spans are held per trace id until the trace is known complete (Dify's `workflow` span, which
ends after its nodes, has arrived) or no span of it came for `decision_wait` seconds, as the Collector's
tail sampling waits before deciding on a trace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan


@dataclass
class PendingTrace:
    trace_id: int
    receiver: str  # the receiver that delivered its first span
    decision_wait: float
    last_seen: float
    spans: list[ReadableSpan] = field(default_factory=list)
    journal: list[int] = field(default_factory=list)  # its rows in the span journal
    complete: bool = False


class TraceAssembler:
    """Not thread-safe: the service calls it under its lock."""

    def __init__(self, is_last: Callable[[ReadableSpan], bool]) -> None:
        self._is_last = is_last
        self._traces: dict[int, PendingTrace] = {}

    def __len__(self) -> int:
        return len(self._traces)

    def opens_trace(self, trace_id: int) -> bool:
        return trace_id not in self._traces

    def add(
        self, trace_id: int, spans: Sequence[ReadableSpan], now: float, receiver: str, decision_wait: float,
        journal: int | None = None, complete: bool = False,
    ) -> None:  # fmt: skip
        """`spans`, all of trace `trace_id`, join their trace; `complete`: the caller knows the trace is whole."""
        pending = self._traces.get(trace_id)
        if pending is None:
            pending = self._traces[trace_id] = PendingTrace(trace_id, receiver, decision_wait, now)
        pending.spans.extend(spans)
        pending.last_seen = max(pending.last_seen, now)
        pending.decision_wait = max(pending.decision_wait, decision_wait)
        if journal is not None:
            pending.journal.append(journal)
        pending.complete = pending.complete or complete or any(self._is_last(span) for span in spans)

    def due(self, now: float) -> list[PendingTrace]:
        """Traces that are complete or waited long enough, removed from the assembler."""
        ready = [t for t in self._traces.values() if t.complete or now - t.last_seen >= t.decision_wait]
        for trace in ready:
            del self._traces[trace.trace_id]
        return ready

    def drain(self) -> list[PendingTrace]:
        """Every trace held, as it is."""
        traces = list(self._traces.values())
        self._traces.clear()
        return traces

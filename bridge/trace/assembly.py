"""Spans received over OTLP → whole traces. Exporters send a trace's spans as they end, often one per
request: spans are held per trace id until the trace is known complete (Dify's `workflow` span, which
ends after its nodes, has arrived, and no run it started is half in) or no span of it came for
`decision_wait` seconds, as the Collector's tail sampling waits before deciding on a trace."""

from __future__ import annotations

from collections import OrderedDict
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
    """Not thread-safe: the service calls it under its lock. `is_last`: a span after which its trace is complete;
    `awaits_more`: whether a complete trace still waits for spans (of a run it started), up to its
    `decision_wait`. `memory`: how many closed trace ids are remembered (`closed_before`)."""

    def __init__(
        self, is_last: Callable[[ReadableSpan], bool], awaits_more: Callable[[Sequence[ReadableSpan]], bool],
        memory: int,
    ) -> None:  # fmt: skip
        self._is_last, self._awaits_more, self._memory = is_last, awaits_more, memory
        self._traces: dict[int, PendingTrace] = {}
        self._closed: OrderedDict[int, None] = OrderedDict()

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

    def closed_before(self, trace_id: int) -> bool:
        """Whether a trace of this id was handed out (among the last `memory`): its spans from now on came late."""
        return trace_id in self._closed

    def due(self, now: float) -> list[PendingTrace]:
        """Traces that are complete or waited long enough, removed from the assembler."""
        ready = [
            t for t in self._traces.values()
            if (t.complete and not self._awaits_more(t.spans)) or now - t.last_seen >= t.decision_wait
        ]  # fmt: skip
        return self._handed_out(ready)

    def drain(self) -> list[PendingTrace]:
        """Every trace held, as it is."""
        return self._handed_out(list(self._traces.values()))

    def _handed_out(self, traces: list[PendingTrace]) -> list[PendingTrace]:
        for trace in traces:
            del self._traces[trace.trace_id]
            self._closed[trace.trace_id] = None
            self._closed.move_to_end(trace.trace_id)
        while len(self._closed) > self._memory:
            self._closed.popitem(last=False)
        return traces

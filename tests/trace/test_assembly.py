from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.trace.assembly import TraceAssembler


def _span(name: str, trace_id: int = 1, span_id: int = 1) -> ReadableSpan:
    return ReadableSpan(name, SpanContext(trace_id, span_id, False))


def _is_last(span: ReadableSpan) -> bool:
    return span.name == "last"


def _awaits_more(spans: Sequence[ReadableSpan]) -> bool:
    return any(span.name == "more to come" for span in spans)


def test_a_complete_trace_that_awaits_more_waits_its_decision_wait_at_most() -> None:
    traces = TraceAssembler(_is_last, _awaits_more, memory=10)
    traces.add(1, [_span("more to come"), _span("last", span_id=2)], 100.0, "otlp", decision_wait=30.0)
    assert traces.due(100.0) == [] and traces.due(129.9) == []
    (trace,) = traces.due(130.0)
    assert [span.name for span in trace.spans] == ["more to come", "last"]


def test_a_complete_trace_goes_at_once_when_nothing_more_is_awaited() -> None:
    traces = TraceAssembler(_is_last, _awaits_more, memory=10)
    traces.add(1, [_span("last")], 100.0, "otlp", decision_wait=30.0)
    assert [t.trace_id for t in traces.due(100.0)] == [1]


def test_closed_trace_ids_are_remembered_up_to_memory() -> None:
    traces = TraceAssembler(_is_last, _awaits_more, memory=2)
    for trace_id in (1, 2, 3):
        traces.add(trace_id, [_span("last", trace_id)], 100.0, "otlp", decision_wait=5.0)
        assert not traces.closed_before(trace_id)
        traces.due(100.0)
    assert [traces.closed_before(trace_id) for trace_id in (1, 2, 3)] == [False, True, True]
    traces.add(4, [_span("open", 4)], 100.0, "otlp", decision_wait=5.0)
    traces.drain()
    assert traces.closed_before(4) and not traces.closed_before(2)

"""The service's handling of OTLP traces over time, on a clock of the test's own: the recorded export of a
workflow used as a tool (`wf_tool`: the caller's 5 requests, then the nested run's 4, its workflow span last)
split where Dify's separate export of the nested run may split it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.config.loader import parse_config
from bridge.dify.export import recognize
from bridge.service.service import BridgeService
from bridge.trace.spans import build_spans, root_context
from tests.dify_recordings import recorded_spans
from tests.otlp_sink import OtlpSink, ReceivedSpan

CALLER_SPANS = 5  # the caller's requests come first: its root, end, start, tool node and workflow span


@pytest.fixture
def service(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeService]:
    text = (
        f"exporters: {{otlp: {{endpoint: '{otlp_sink.grpc_endpoint}', tls: {{insecure: true}}}}}}\n"
        "processors: {batch: {timeout: 10ms}}\n"
        "service:\n"
        "  assembly: {export_wait: 30s}\n"
        f"  queue: {{path: '{tmp_path / 'queue.db'}'}}\n"
        "  pipelines: {traces: {processors: [batch], exporters: [otlp]}}\n"
    )
    service = BridgeService(parse_config(text))
    yield service
    service.shutdown()


def _expected() -> tuple[list[ReadableSpan], list[ReadableSpan]]:
    """What the bridge sends for the whole export received at once: the caller's run and the nested run."""
    recognized = recognize(recorded_spans("wf_tool"), "replay")
    assert recognized is not None
    (nested,) = recognized.nested
    return build_spans(recognized.run), build_spans(nested)


def _ids(spans: list[ReadableSpan]) -> set[tuple[str, str, str | None]]:
    return {
        (f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}", s.parent and f"{s.parent.span_id:016x}")
        for s in spans
        if s.context is not None
    }


def _received(service: BridgeService, sink: OtlpSink, count: int) -> set[tuple[str, str, str | None]]:
    """What the sink got, once `count` spans came and everything queued was delivered."""
    sink.wait_for_spans(count)
    assert service.flush(10)
    spans: list[ReceivedSpan] = sink.spans()
    assert len(spans) == len({(s.trace_id, s.span_id) for s in spans})  # none twice
    return {(s.trace_id, s.span_id, s.parent_span_id) for s in spans}


def test_a_callers_trace_holding_part_of_a_nested_run_waits_for_the_rest(
    service: BridgeService, otlp_sink: OtlpSink
) -> None:
    spans = recorded_spans("wf_tool")
    service.submit_spans(spans[: CALLER_SPANS + 1], 1000.0, "replay")  # the nested run's first node came in time
    assert service.poll(1000.0) == 0  # the caller's workflow span is in, the nested run's is not
    service.submit_spans(spans[CALLER_SPANS + 1 :], 1025.0, "replay")
    assert service.poll(1025.0) == 1
    caller, nested = _expected()
    assert _received(service, otlp_sink, len(caller + nested)) == _ids(caller + nested)


def test_the_wait_for_a_nested_run_is_bounded_by_export_wait(service: BridgeService, otlp_sink: OtlpSink) -> None:
    """The nested run's workflow span never comes: after export_wait the caller's run is rebuilt and the nested
    run's node, which nothing can rebuild, goes on as Dify sent it (its parent the missing workflow span), in the
    caller's rebuilt trace."""
    spans = recorded_spans("wf_tool")
    service.submit_spans(spans[: CALLER_SPANS + 1], 1000.0, "replay")
    assert service.poll(1029.0) == 0
    assert service.poll(1030.0) == 1
    recognized = recognize(spans[:CALLER_SPANS], "replay")
    assert recognized is not None
    root = root_context(recognized.run.run_id)
    node = spans[CALLER_SPANS]
    assert node.context is not None and node.parent is not None
    as_sent = (f"{root.trace_id:032x}", f"{node.context.span_id:016x}", f"{node.parent.span_id:016x}")
    caller = build_spans(recognized.run)
    assert _received(service, otlp_sink, len(caller) + 1) == _ids(caller) | {as_sent}


def test_a_nested_run_coming_after_its_caller_closed_is_complete_with_its_workflow_span(
    service: BridgeService, otlp_sink: OtlpSink
) -> None:
    """Complete at once, even when the caller's trace was only taken to be rebuilt (a poll between taking it and
    rebuilding it), not after export_wait."""
    spans = recorded_spans("wf_tool")
    service.submit_spans(spans[:CALLER_SPANS], 1000.0, "replay")
    assert len(service.traces.due(1000.0)) == 1  # taken as a poll takes it, not rebuilt yet
    service.submit_spans(spans[CALLER_SPANS:], 1000.0, "replay")
    assert service.poll(1000.0) == 1
    _, nested = _expected()
    assert _received(service, otlp_sink, len(nested)) == _ids(nested)


def test_spans_after_a_late_nested_run_join_the_callers_rebuilt_trace(
    service: BridgeService, otlp_sink: OtlpSink
) -> None:
    """The nested run rebuilt after its caller does not take the caller's place for later spans of the trace."""
    spans = recorded_spans("wf_tool")
    service.submit_spans(spans[:CALLER_SPANS], 1000.0, "replay")
    assert service.poll(1000.0) == 1
    service.submit_spans(spans[CALLER_SPANS:], 1001.0, "replay")
    assert service.poll(1001.0) == 1
    caller_workflow = spans[CALLER_SPANS - 1].context
    assert caller_workflow is not None
    straggler = ReadableSpan("message", SpanContext(caller_workflow.trace_id, 0x5EED, False), caller_workflow)
    service.submit_spans([straggler], 1002.0, "replay")
    assert service.poll(1032.0) == 1
    recognized = recognize(spans[:CALLER_SPANS], "replay")
    assert recognized is not None
    root = root_context(recognized.run.run_id)
    caller, nested = _expected()
    received = _received(service, otlp_sink, len(caller + nested) + 1)
    assert received == _ids(caller + nested) | {(f"{root.trace_id:032x}", f"{0x5EED:016x}", f"{root.span_id:016x}")}

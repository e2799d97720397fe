"""`bridge/trace/otlp_spans.py`: OTLP protobuf spans read into SDK spans."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bridge.trace.otlp_spans import to_spans


def _request(trace_state: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name, span.trace_state = b"\x01" * 16, b"\x02" * 8, "s", trace_state
    link = span.links.add()
    link.trace_id, link.span_id, link.trace_state = b"\x03" * 16, b"\x04" * 8, trace_state
    return request


@pytest.mark.parametrize(
    "bad", ["x=1\n2026-12-07 17:25:53,445 ERROR bridge: forged line", "a" * 100_000, "=,=,\x00", "k=v,k=w"]
)
def test_a_trace_state_that_is_not_w3c_is_dropped_without_logging_it(
    bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The SDK's parser logged each bad member whole, once per span and link: a sender's text, of any length (100 KB
    # a line) and with line breaks (forged log lines), in the bridge's log. It then kept no trace state: nor do we.
    with caplog.at_level(logging.DEBUG):
        (span,) = to_spans(_request(bad)).spans
    assert caplog.records == []
    assert span.context is not None and not span.context.trace_state
    assert not span.links[0].context.trace_state


def test_a_w3c_trace_state_is_kept() -> None:
    (span,) = to_spans(_request("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7,vendor@tenant=x")).spans
    assert span.context is not None
    assert dict(span.context.trace_state) == {"congo": "t61rcWkgMzE", "rojo": "00f067aa0ba902b7", "vendor@tenant": "x"}
    assert dict(span.links[0].context.trace_state) == dict(span.context.trace_state)

"""The test receiver itself, proven with the SDK's own exporters."""

from __future__ import annotations

import json

import httpx2 as httpx
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import Attributes

from tests.otlp_sink import OtlpSink


def _emit(exporter: SpanExporter) -> None:
    provider = TracerProvider(resource=Resource({"service.name": "sink-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    attributes: Attributes = {"s": "x", "i": 3, "f": 1.5, "b": True, "l": ["a"]}
    with tracer.start_as_current_span("parent", attributes=attributes), tracer.start_as_current_span("child") as child:
        child.add_event("evt", {"k": "v"})
        child.set_status(Status(StatusCode.ERROR, "bad"))
    provider.shutdown()


def _check(sink: OtlpSink, protocol: str) -> None:
    spans = {s.name: s for s in sink.wait_for_spans(2)}
    parent, child = spans["parent"], spans["child"]
    assert parent.parent_span_id is None and child.parent_span_id == parent.span_id
    assert child.trace_id == parent.trace_id and len(parent.trace_id) == 32
    assert parent.attributes == {"s": "x", "i": 3, "f": 1.5, "b": True, "l": ["a"]}
    assert child.events[0][0] == "evt" and child.events[0][2] == {"k": "v"}
    assert (child.status_code, child.status_message) == (2, "bad")
    assert parent.resource["service.name"] == "sink-test" and parent.protocol == protocol


def test_grpc(otlp_sink: OtlpSink) -> None:
    _emit(GrpcExporter(endpoint=otlp_sink.grpc_endpoint, insecure=True, headers={"x-team": "a"}))
    _check(otlp_sink, "grpc")
    assert otlp_sink.headers()[0]["x-team"] == "a"
    assert otlp_sink.span_count() == len(otlp_sink.spans()) == 2
    otlp_sink.clear()
    assert otlp_sink.span_count() == 0


def test_http_gzip(otlp_sink: OtlpSink) -> None:
    _emit(HttpExporter(endpoint=otlp_sink.http_endpoint, compression=Compression.Gzip, headers={"x-team": "b"}))
    _check(otlp_sink, "http")
    assert otlp_sink.headers()[0]["x-team"] == "b"


def test_http_json_with_hex_ids(otlp_sink: OtlpSink) -> None:
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "j"}, "spans": [
        {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "json-span",
         "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]}  # fmt: skip
    response = httpx.post(
        otlp_sink.http_endpoint, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    (span,) = otlp_sink.spans()
    assert (span.trace_id, span.span_id, span.name) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        "json-span",
    )

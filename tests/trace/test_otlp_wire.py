"""The direct OTLP encoder says what the SDK's encoder says: both are decoded and compared as messages."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

from bridge.trace import otlp_wire
from bridge.trace.otlp_wire import encode_request
from tests.runs import EXAMPLES, spans_of

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)  # lone surrogates: see the last test
SCALAR = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | TEXT | st.binary(max_size=20)
VALUE: Any = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
ATTRIBUTES = st.dictionaries(st.sampled_from(["dify.node.type", "input.value", "", "k"]) | TEXT, VALUE, max_size=8)
IDS = st.integers(1, 2**64 - 1)
RESOURCES = [Resource({"service.name": "dify"}), Resource({"service.name": "dify", "dify.app.id": "a"}),
             Resource({"service.name": "dify"}, schema_url="https://opentelemetry.io/schemas/1.26.0")]  # fmt: skip
SCOPES = [InstrumentationScope("dify-otel-bridge", "0.1"), InstrumentationScope("other", None, "https://s"), None]


def _context(trace_id: int, span_id: int, remote: bool = False, state: TraceState | None = None) -> SpanContext:
    return SpanContext(trace_id, span_id, remote, TraceFlags(1), state)


@st.composite
def spans(draw: st.DrawFn) -> ReadableSpan:
    trace_id = draw(st.integers(1, 2**128 - 1))
    parent = draw(st.none() | st.builds(_context, st.just(trace_id), IDS, st.booleans()))
    state = draw(st.none() | st.just(TraceState([("dify", "1"), ("b", "x")])))
    times = draw(st.lists(st.integers(0, 2**64 - 1), min_size=2, max_size=2))
    events = draw(st.lists(st.builds(Event, TEXT, ATTRIBUTES, st.integers(0, 2**64 - 1)), max_size=3))
    links = draw(st.lists(st.builds(Link, st.builds(_context, IDS, IDS, st.booleans()), ATTRIBUTES), max_size=2))
    return ReadableSpan(
        name=draw(TEXT),
        context=_context(trace_id, draw(IDS), state=state),
        parent=parent,
        # Equal resources as distinct objects must still share one ResourceSpans, as in the SDK.
        resource=draw(st.sampled_from(RESOURCES) | st.just(Resource({"service.name": "dify"}))),
        attributes=draw(ATTRIBUTES),
        events=events,
        links=links,
        kind=draw(st.sampled_from(list(SpanKind))),
        status=draw(st.sampled_from([Status(), Status(StatusCode.OK), Status(StatusCode.ERROR, "boom")])),
        start_time=min(times),
        end_time=max(times),
        instrumentation_scope=draw(st.sampled_from(SCOPES)),
    )


def _same_as_sdk(batch: list[ReadableSpan]) -> None:
    assert ExportTraceServiceRequest.FromString(encode_request(batch)) == encode_spans(batch)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spans(), max_size=6))
def test_random_spans_encode_as_the_sdk_does(batch: list[ReadableSpan]) -> None:
    _same_as_sdk(batch)


def test_a_built_run_encodes_as_the_sdk_does() -> None:
    spans = spans_of(EXAMPLES / "workflow_full.ndjson")
    assert len(spans) > 10
    _same_as_sdk(spans)


def test_values_otlp_cannot_carry_are_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    span = ReadableSpan(
        name="n",
        context=_context(1, 2),
        resource=RESOURCES[0],
        attributes={"big": 2**64, "odd": object(), "kept": "yes"},  # type: ignore[dict-item]
    )
    with caplog.at_level(logging.WARNING, logger="bridge.trace.otlp_wire"):
        decoded = ExportTraceServiceRequest.FromString(encode_request([span]))
    attributes = decoded.resource_spans[0].scope_spans[0].spans[0].attributes
    assert [(kv.key, kv.value.string_value) for kv in attributes] == [("kept", "yes")]
    assert "'big'" in caplog.text and "'odd'" in caplog.text


def test_text_that_is_not_unicode_is_replaced_not_fatal() -> None:
    span = ReadableSpan(name="bad \ud800", context=_context(1, 2), resource=RESOURCES[0], attributes={"k": "v\udfff"})
    decoded = ExportTraceServiceRequest.FromString(encode_request([span])).resource_spans[0].scope_spans[0].spans[0]
    assert decoded.name == "bad ?" and decoded.attributes[0].value.string_value == "v?"


def test_the_cache_of_encoded_pairs_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otlp_wire, "_MAX_PAIRS", 8)
    batch = [
        ReadableSpan(name="n", context=_context(1, i + 1), resource=RESOURCES[0], attributes={"k": f"v{i}", "n": i})
        for i in range(50)
    ]
    _same_as_sdk(batch)
    _same_as_sdk(batch)  # the second time partly from the cache
    assert sum(len(by_value) for by_value in otlp_wire._PAIRS.values()) <= 8

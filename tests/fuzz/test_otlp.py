"""OTLP bodies fed at random: random protobuf requests (odd ids, times, kinds, status codes, nested
attributes, Dify-looking `metadata`), mutated bytes of real requests, random OTLP/JSON. Every request is
taken or refused with a clear error; whatever is taken goes through recognition, the processors and the
encoder without an exception; over HTTP, no answer is a server error."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from typing import Any, cast

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from starlette.testclient import TestClient

from bridge.config.loader import parse_config
from bridge.dify.export import recognize
from bridge.http.server import create_app
from bridge.trace.otlp_json import from_otlp_json
from bridge.trace.otlp_spans import to_spans
from bridge.trace.spans import SpanBuilder
from tests.bridge_server import API_KEY, bridge_config_text
from tests.dify_otlp_exports import enterprise_request, provider_request
from tests.dify_recordings import recorded_spans
from tests.fuzz.test_http import HTTP
from tests.fuzz.test_parsers import _PROCESSORS, FUZZ, JSON, ODD, KeyPath, _key_paths, _put_at
from tests.runs import CAPTURES, load_run

_BUILDER = SpanBuilder()


def _any_value(depth: int = 0) -> st.SearchStrategy[AnyValue]:
    scalars = st.one_of(
        st.builds(lambda v: AnyValue(string_value=v), st.text(max_size=20)),
        st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1)),
        st.builds(lambda v: AnyValue(double_value=v), st.floats(allow_nan=True)),
        st.builds(lambda v: AnyValue(bool_value=v), st.booleans()),
        st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=10)),
        st.just(AnyValue()),
    )
    if depth >= 2:
        return scalars
    inner = _any_value(depth + 1)
    return (
        scalars
        | st.builds(lambda vs: AnyValue(array_value=ArrayValue(values=vs)), st.lists(inner, max_size=3))
        | (
            st.builds(
                lambda kvs: AnyValue(kvlist_value=KeyValueList(values=kvs)), st.lists(_key_value(inner), max_size=3)
            )
        )
    )


def _key_value(values: st.SearchStrategy[AnyValue]) -> st.SearchStrategy[KeyValue]:
    # Keys the recognizers read (Phoenix's OpenInference ones, the OTLP provider's `dify.*` ones) come up often.
    keys = st.sampled_from(
        [
            "input.value",
            "output.value",
            "x",
            "dify.node.execution_id",
            "dify.node.id",
            "node_type",
            "node_status",
            "metadata",
            "process_data",
            "dify.inputs",
            "dify.outputs",
            "dify.usage",
            "index",
            "dify.node.attempt",
            "dify.span.status",
            "original_inputs",
            "error.message",
            "dify.node.type",
            "dify.node.elapsed_time",
            "dify.node.iteration_id",
            "dify.node.index",
            "dify.node.status",
        ]
    )
    return st.builds(lambda k, v: KeyValue(key=k, value=v), keys | st.text(max_size=10), values)  # fmt: skip


# Dify's `metadata` attribute, as JSON text with random values under the keys the recognizer reads.
_METADATA_KEYS = {
    "trace_entity_type": st.sampled_from(["workflow", "message"]) | JSON,
    "node_type": st.sampled_from(["llm", "iteration", "loop", "tool"]) | JSON,
    "node_status": st.sampled_from(["succeeded", "retry", "exception", "failed"]) | JSON,
    **{key: JSON for key in ("workflow_run_id", "node_id", "iteration_id", "iteration_index", "loop_id", "status",
                             "app_name", "total_tokens", "workflow_run_elapsed_time", "status_message")},
}  # fmt: skip
_METADATA = st.fixed_dictionaries({}, optional=_METADATA_KEYS).map(
    lambda m: KeyValue(key="metadata", value=AnyValue(string_value=json.dumps(m)))
)
_IDS = st.sampled_from([b"\x01" * 16, b"\x02" * 16]) | st.binary(max_size=17)
_SPAN_IDS = st.sampled_from([b"\x0a" * 8, b"\x0b" * 8, b"\x0c" * 8, b""]) | st.binary(max_size=9)
_TIMES = st.integers(0, 2**64 - 1)


@st.composite
def _spans(draw: st.DrawFn) -> Span:
    return Span(
        trace_id=draw(_IDS),
        span_id=draw(_SPAN_IDS),
        parent_span_id=draw(_SPAN_IDS),
        name=draw(
            st.sampled_from(["workflow", "Dify", "llm", "iteration", "dify.node.execution"]) | st.text(max_size=8)
        ),
        kind=cast(Span.SpanKind.ValueType, draw(st.integers(0, 7))),
        start_time_unix_nano=draw(_TIMES),
        end_time_unix_nano=draw(_TIMES),
        attributes=draw(st.lists(_key_value(_any_value()) | _METADATA, max_size=5)),
        status=Status(code=cast(Status.StatusCode.ValueType, draw(st.integers(0, 4))), message="m"),
    )


@st.composite
def _workflow_span(draw: st.DrawFn) -> Span:
    """A Dify workflow root the others can hang under (trace 01…, span 0a…), in Phoenix's shape, the OTLP
    provider's or Enterprise's, so every recognizer gets exercised."""
    run_id = draw(st.text(min_size=1, max_size=8) | st.uuids().map(str))
    shape = draw(st.sampled_from(["phoenix", "provider", "enterprise"]))
    run = KeyValue(key="dify.workflow.run_id", value=AnyValue(string_value=run_id))
    if shape == "phoenix":
        metadata = json.dumps({"trace_entity_type": "workflow", "workflow_run_id": run_id})
        marks = [KeyValue(key="metadata", value=AnyValue(string_value=metadata))]
    elif shape == "provider":
        marks = [KeyValue(key="dify.span.type", value=AnyValue(string_value="workflow")), run]
    else:
        marks = [run]
    return Span(
        trace_id=b"\x01" * 16,
        span_id=b"\x0a" * 8,
        name="dify.workflow.run" if shape == "enterprise" else "workflow",
        start_time_unix_nano=draw(_TIMES),
        end_time_unix_nano=draw(_TIMES),
        attributes=[*marks, *draw(st.lists(_key_value(_any_value()), max_size=3))],
    )


REQUESTS = st.builds(
    lambda spans, workflow: ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans + workflow)])]
    ),
    st.lists(_spans(), max_size=6),
    st.lists(_workflow_span(), max_size=1),
)


def _through_everything(request: ExportTraceServiceRequest) -> None:
    spans = to_spans(request).spans
    by_trace: dict[int, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    for trace in by_trace.values():
        recognized = recognize(trace, "otlp")
        built: Sequence[Any] = _BUILDER.build(recognized.run) if recognized is not None else trace
        for processor in _PROCESSORS:
            built = processor.process(built)
        encode_spans(built).SerializeToString()


@FUZZ
@given(REQUESTS)
def test_random_requests_go_through_recognition_processing_and_encoding(request: ExportTraceServiceRequest) -> None:
    decoded = to_spans(request)
    total = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    assert len(decoded.spans) + decoded.rejected == total
    _through_everything(request)


def _real_request() -> bytes:
    """Dify 1.14.1's recorded export of one run, in one request."""
    return bytes(encode_spans(recorded_spans("b_iteration_ifelse_http")).SerializeToString())


REAL = _real_request()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(REAL) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_real_requests_are_refused_or_taken(flips: list[tuple[int, int]]) -> None:
    body = bytearray(REAL)
    for position, value in flips:
        body[position] = value
    try:
        request = ExportTraceServiceRequest.FromString(bytes(body))
    except DecodeError:
        return
    _through_everything(request)


@FUZZ
@given(JSON | st.fixed_dictionaries({"resourceSpans": st.lists(st.fixed_dictionaries(
    {"scopeSpans": st.lists(st.fixed_dictionaries({"spans": st.lists(st.dictionaries(
        st.sampled_from(["traceId", "spanId", "name", "kind", "startTimeUnixNano", "attributes", "status"]),
        JSON | st.text(alphabet="0123456789abcdef", max_size=32), max_size=6), max_size=3)}), max_size=2)}),
    max_size=2)}))  # fmt: skip
def test_random_otlp_json_is_a_request_or_a_value_error(obj: Any) -> None:
    try:
        request = from_otlp_json(obj)
    except ValueError as exc:
        assert str(exc)
        return
    _through_everything(request)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp_path = tmp_path_factory.mktemp("fuzz-otlp")
    text = bridge_config_text(tmp_path, "127.0.0.1:9", otlp="{protocols: {http: {max_body_bytes: 4000}}}")
    with TestClient(create_app(parse_config(text))) as running:
        yield running


@HTTP
@given(
    body=st.binary(max_size=300) | st.builds(lambda r: r.SerializeToString(), REQUESTS)
    | st.builds(lambda o: json.dumps(o).encode(), JSON),
    content_type=st.sampled_from(["application/x-protobuf", "application/json", "text/plain"]),
    gzipped=st.booleans(),
)  # fmt: skip
def test_random_otlp_bodies_never_cause_a_server_error(
    client: TestClient, body: bytes, content_type: str, gzipped: bool
) -> None:
    headers = {"content-type": content_type, "api_key": API_KEY}
    if gzipped:
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    answer = client.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code in (200, 400, 413, 415, 429), answer.text
    assert answer.status_code == 200 or answer.json()["detail"]


def _dify_exports() -> list[ExportTraceServiceRequest]:
    """Dify's three export shapes of two runs (an LLM; an iteration with a branch and HTTP calls): Phoenix's as
    Dify 1.14.1 sent it (recorded), the OTLP provider's and Enterprise's as read from Dify's source."""
    requests = [encode_spans(recorded_spans(name)) for name in ("n_llm_simple", "b_iteration_ifelse_http")]
    for capture in ("a_llm_simple.sse", "b_iteration_ifelse_http.sse"):
        run = load_run(CAPTURES / capture)
        requests += [provider_request(run), enterprise_request(run)]
    return requests


def _json_text(value: AnyValue) -> Any:
    if not value.string_value.startswith(("{", "[")):
        return None
    try:
        return json.loads(value.string_value)
    except ValueError:
        return None


def _spans_of(request: ExportTraceServiceRequest) -> list[Span]:
    return [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]


EXPORTS = _dify_exports()
# Every place in every export: (request, span, attribute, path inside the attribute's JSON text or None).
EXPORT_PLACES = [
    (r, s, a, path)
    for r, request in enumerate(EXPORTS)
    for s, span in enumerate(_spans_of(request))
    for a, attribute in enumerate(span.attributes)
    for path in [None, *_key_paths(_json_text(attribute.value))]
]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(EXPORT_PLACES), ODD | JSON, _any_value()), min_size=1, max_size=3))
def test_real_dify_exports_with_any_value_anywhere_are_taken_whole(
    changes: list[tuple[tuple[int, int, int, KeyPath | None], Any, AnyValue]],
) -> None:
    """An attribute of Dify's export, or a value inside its JSON text, set to anything: the trace still goes
    through recognition, the span builder, the processors and the encoder."""
    request = ExportTraceServiceRequest()
    request.CopyFrom(EXPORTS[changes[0][0][0]])
    spans = _spans_of(request)
    for (r, s, a, path), json_value, any_value in changes:
        if r != changes[0][0][0]:
            continue
        attribute = spans[s].attributes[a]
        document = _json_text(attribute.value)
        if path is None or document is None:
            attribute.value.CopyFrom(any_value)
        else:
            _put_at(document, path, json_value)
            attribute.value.string_value = json.dumps(document)
    _through_everything(request)

"""OTLP trace requests → the SDK's `ReadableSpan`s, so spans received over OTLP go through the same
processors and the same encoder as the spans the bridge builds.

What survives the round trip: ids, parent, name, kind, times, attributes (nested maps, arrays and bytes
included), events, links, status, trace state, resource and scope. What does not: dropped-item counts
and an unspecified kind (sent on as INTERNAL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

_KINDS = {
    ProtoSpan.SPAN_KIND_SERVER: SpanKind.SERVER,
    ProtoSpan.SPAN_KIND_CLIENT: SpanKind.CLIENT,
    ProtoSpan.SPAN_KIND_PRODUCER: SpanKind.PRODUCER,
    ProtoSpan.SPAN_KIND_CONSUMER: SpanKind.CONSUMER,
}
_PARENT_HAS_IS_REMOTE, _PARENT_IS_REMOTE = 0x100, 0x200


def decode_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(decode_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return {kv.key: decode_value(kv.value) for kv in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def decode_attributes(items: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: decode_value(kv.value) for kv in items}


@dataclass
class Decoded:
    """The valid spans of a request, and what was wrong with the others (for OTLP's partial success)."""

    spans: list[ReadableSpan] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def _span_error(span: ProtoSpan) -> str | None:
    if len(span.trace_id) != 16 or not any(span.trace_id):
        return f"span {span.name!r}: trace_id must be 16 bytes, not all zero (got {len(span.trace_id)} bytes)"
    if len(span.span_id) != 8 or not any(span.span_id):
        return f"span {span.name!r}: span_id must be 8 bytes, not all zero (got {len(span.span_id)} bytes)"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return f"span {span.name!r}: parent_span_id must be empty or 8 bytes (got {len(span.parent_span_id)} bytes)"
    return None


# A W3C trace-context `tracestate` member (key=value), as the spec and the SDK's parser define it.
_MEMBER = re.compile(
    r"[ \t]*(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})"
    r"=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e][ \t]*"
)


def _trace_state(text: str) -> TraceState | None:
    """`text` as a trace state, or None when it is not W3C's: the SDK's parser would keep none either, after
    logging the sender's text whole (any length, line breaks included) once per span and link."""
    if not text or not all(not member.strip(" \t") or _MEMBER.fullmatch(member) for member in text.split(",")):
        return None
    return TraceState.from_header([text])


def _context(trace_id: bytes, span_id: bytes, flags: int, trace_state: str, remote: bool) -> SpanContext:
    return SpanContext(
        int.from_bytes(trace_id, "big"),
        int.from_bytes(span_id, "big"),
        is_remote=remote,
        trace_flags=TraceFlags(flags & 0xFF),
        trace_state=_trace_state(trace_state),
    )


def _readable(span: ProtoSpan, resource: Resource, scope: InstrumentationScope) -> ReadableSpan:
    context = _context(span.trace_id, span.span_id, span.flags, span.trace_state, False)
    parent = None
    if span.parent_span_id and any(span.parent_span_id):
        remote = bool(span.flags & _PARENT_HAS_IS_REMOTE and span.flags & _PARENT_IS_REMOTE)
        parent = _context(span.trace_id, span.parent_span_id, span.flags, "", remote)
    links = [
        Link(_context(link.trace_id, link.span_id, link.flags, link.trace_state, False),
             decode_attributes(link.attributes))
        for link in span.links
        if len(link.trace_id) == 16 and len(link.span_id) == 8
    ]  # fmt: skip
    code = StatusCode(span.status.code) if span.status.code in (0, 1, 2) else StatusCode.UNSET
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=decode_attributes(span.attributes),
        events=[Event(e.name, decode_attributes(e.attributes), e.time_unix_nano) for e in span.events],
        links=links,
        kind=_KINDS.get(span.kind, SpanKind.INTERNAL),
        status=Status(code, span.status.message or None) if code is StatusCode.ERROR else Status(code),
        start_time=span.start_time_unix_nano,
        end_time=span.end_time_unix_nano,
        instrumentation_scope=scope,
    )


def to_spans(request: ExportTraceServiceRequest) -> Decoded:
    """Every span of `request` with a valid trace and span id; the others are counted and described."""
    decoded = Decoded()
    for resource_spans in request.resource_spans:
        resource = Resource(decode_attributes(resource_spans.resource.attributes), resource_spans.schema_url)
        for scope_spans in resource_spans.scope_spans:
            proto_scope = scope_spans.scope
            scope = InstrumentationScope(
                proto_scope.name, proto_scope.version or None, scope_spans.schema_url or None,
                decode_attributes(proto_scope.attributes) or None,
            )  # fmt: skip
            for span in scope_spans.spans:
                error = _span_error(span)
                if error is None:
                    decoded.spans.append(_readable(span, resource, scope))
                else:
                    decoded.rejected += 1
                    if len(decoded.errors) < 5:
                        decoded.errors.append(error)
    return decoded


def moved(
    span: ReadableSpan, context: SpanContext | None = None, parent: SpanContext | None = None,
    resource: Resource | None = None,
) -> ReadableSpan:  # fmt: skip
    """`span` with another context, parent or resource (each kept where not given)."""
    return ReadableSpan(
        name=span.name, context=context or span.context, parent=parent or span.parent,
        resource=resource or span.resource, attributes=span.attributes, events=span.events, links=span.links,
        kind=span.kind, status=span.status, start_time=span.start_time, end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )  # fmt: skip


def with_resource_defaults(spans: Iterable[ReadableSpan], defaults: Mapping[str, str]) -> list[ReadableSpan]:
    """`spans` with each key of `defaults` their resource lacks added (the bridge's `service.name` for Dify's
    spans, which have none: Jaeger and Tempo file those under "unknown_service")."""
    filled: dict[int, Resource] = {}
    result = []
    for span in spans:
        missing = {key: value for key, value in defaults.items() if key not in span.resource.attributes}
        if not missing:
            result.append(span)
            continue
        resource = filled.get(id(span.resource))
        if resource is None:
            resource = filled[id(span.resource)] = span.resource.merge(Resource(missing))
        result.append(moved(span, resource=resource))
    return result

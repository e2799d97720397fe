"""`ReadableSpan`s → a serialized OTLP `ExportTraceServiceRequest`, written straight in protobuf's wire format.

The SDK's encoder (`encode_spans(...).SerializeToString()`) builds a protobuf object per span, attribute and
value, then serializes them, and hashes each span's `Resource` (a JSON dump of its attributes) to group
spans: about a third of a converted run's cost. This writes the same bytes' meaning directly: same fields,
same grouping (resource, then scope, in first-seen order), same span flags, same choice of value fields;
a test decodes both and compares them. Values the SDK cannot encode (an int beyond 64 bits, an unknown
type) are dropped with a warning, as the SDK drops them; strings that are not valid Unicode get "?".

Field numbers are from opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, StatusCode

from bridge.trace.fields import built_wire_fields
from bridge.trace.spans import BuiltSpan

logger = logging.getLogger(__name__)

_BYTE = [bytes((n,)) for n in range(128)]
_FIXED64 = struct.Struct("<Q").pack
_DOUBLE = struct.Struct("<d").pack
_FIXED32 = struct.Struct("<I").pack
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Span flags, as the SDK sets them: "is-remote is known", plus "parent is remote".
_FLAGS_LOCAL = b"\x85\x01" + _FIXED32(0x100)  # field 16, fixed32
_FLAGS_REMOTE = b"\x85\x01" + _FIXED32(0x300)
_KINDS = {kind: b"\x30" + _BYTE[kind.value + 1] for kind in SpanKind}  # OTLP numbers them from 1
_INTERNAL = _KINDS[SpanKind.INTERNAL]
_CODES = {code: b"\x18" + _BYTE[code.value] if code.value else b"" for code in StatusCode}
# Encoded `key` fields (tag, length, UTF-8) by attribute key: a run repeats a few dozen keys thousands of
# times. Bounded, since keys of passed-through spans come from outside.
_KEYS: dict[str, bytes] = {}
_MAX_KEYS = 4096
# Whole encoded `KeyValue`s of short strings and integers by key, then value: types, statuses, models, mime
# types, roles and counts repeat from span to span and run to run. Emptied when `_pairs_held` reaches the
# bound (values come from outside).
_PAIRS: dict[str, dict[object, bytes]] = {}
_MAX_PAIRS = 16384
_pairs_held = 0
_SHORT = 32


class _Unencodable(ValueError):
    pass


def _varint(value: int) -> bytes:
    if value < 0x80:
        return _BYTE[value]
    if value < 0x4000:  # most lengths of spans and long values
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _delimited(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


def _text(value: str) -> bytes:
    return value.encode("utf-8", "replace")


def _any_value(value: Any) -> bytes:
    """An `AnyValue` message (without its own tag and length)."""
    kind = type(value)
    if kind is str:
        return _delimited(b"\x0a", _text(value))
    if kind is bool:
        return b"\x10\x01" if value else b"\x10\x00"
    if kind is int:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _Unencodable(f"{value} does not fit in 64 bits")
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
    if kind is float:
        return b"\x21" + _DOUBLE(value)
    if value is None:
        return b""
    if kind is list or kind is tuple:
        return _delimited(b"\x2a", b"".join([_delimited(b"\x0a", _any_value(item)) for item in value]))
    # Subclasses and other containers, in the SDK's order of checks.
    if isinstance(value, bool):
        return _any_value(bool(value))
    if isinstance(value, str):
        return _any_value(str(value))
    if isinstance(value, int):
        return _any_value(int(value))
    if isinstance(value, float):
        return _any_value(float(value))
    if isinstance(value, bytes):
        return _delimited(b"\x3a", value)
    if isinstance(value, Sequence):
        return _delimited(b"\x2a", b"".join([_delimited(b"\x0a", _any_value(item)) for item in value]))
    if isinstance(value, Mapping):
        pairs = b"".join([_delimited(b"\x0a", _key_value(str(k), v)) for k, v in value.items()])
        return _delimited(b"\x32", pairs)
    raise _Unencodable(f"type {type(value).__name__} is not an OTLP value")


def _key(key: str) -> bytes:
    encoded = _KEYS.get(key)
    if encoded is None:
        encoded = _delimited(b"\x0a", _text(key)) if key else b""
        if len(_KEYS) < _MAX_KEYS:
            _KEYS[key] = encoded
    return encoded


def _key_value(key: str, value: Any) -> bytes:
    return _key(key) + _delimited(b"\x12", _any_value(value))


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None, parts: list[bytes]) -> None:
    """Appends each attribute to `parts` as one `KeyValue` field with `tag`; unencodable ones are left out."""
    if not attributes:
        return
    global _pairs_held
    span_attributes = tag == b"\x4a"  # pairs are kept with their tag: span attributes only
    for key, value in attributes.items():
        kind = type(value)
        cached = span_attributes and (kind is int or (kind is str and len(value) <= _SHORT))
        if cached:
            # By key, then value: no tuple to build and hash per attribute.
            by_value = _PAIRS.get(key)
            if by_value is not None:
                pair = by_value.get(value)
                if pair is not None:
                    parts.append(pair)
                    continue
        encoded_key = _KEYS.get(key) or _key(key)
        # Strings, numbers and flags are nearly every attribute: `_any_value`'s scalar cases, written inline (the
        # hot path of a conversion: without them it measured 1.90x the SDK instead of 2.1x).
        if kind is str:
            text = value.encode("utf-8", "replace")
            size = len(text)
            if size < 126:
                pair_size = len(encoded_key) + size + 4
                header = (tag, _BYTE[pair_size] if pair_size < 0x80 else _varint(pair_size), encoded_key,
                          b"\x12", _BYTE[size + 2], b"\x0a", _BYTE[size])  # fmt: skip
            else:
                length = _varint(size)
                value_length = _varint(len(length) + 1 + size)
                pair_size = len(encoded_key) + len(value_length) + len(length) + size + 2
                header = (tag, _varint(pair_size), encoded_key, b"\x12", value_length, b"\x0a", length)
            if not cached:
                # The text itself is not copied here: the request is joined once, at the end.
                parts += (b"".join(header), text)
                continue
            pair = b"".join(header) + text
        else:
            if kind is float:
                pair = encoded_key + b"\x12\x09\x21" + _DOUBLE(value)
            elif kind is int and 0 <= value <= _INT64_MAX:
                number = _varint(value)
                pair = encoded_key + b"\x12" + _BYTE[len(number) + 1] + b"\x18" + number
            elif kind is bool:
                pair = encoded_key + (b"\x12\x02\x10\x01" if value else b"\x12\x02\x10\x00")
            else:
                try:
                    pair = encoded_key + _delimited(b"\x12", _any_value(value))
                except _Unencodable as exc:
                    logger.warning("attribute %r left out of the OTLP request: %s", key, exc)
                    continue
            size = len(pair)
            pair = tag + _BYTE[size] + pair if size < 0x80 else tag + _varint(size) + pair
        if cached:
            if _pairs_held >= _MAX_PAIRS:
                _PAIRS.clear()
                _pairs_held = 0
                by_value = None
            if by_value is None:
                by_value = _PAIRS[key] = {}
            by_value[value] = pair
            _pairs_held += 1
        parts.append(pair)


def _span(span: ReadableSpan) -> bytes:
    if type(span) is BuiltSpan:
        # Its fields as the builder set them: the SDK's properties wrap the attributes and copy the events and
        # links at every read, and each is a call. Nothing is dropped from a built span.
        context, attributes, events, links, parent, name, kind, status, start_time, end_time = built_wire_fields(span)
        dropped_attributes = dropped_events = dropped_links = 0
    else:
        context, attributes, events, links = span.get_span_context(), span.attributes, span.events, span.links
        parent, name, kind, status = span.parent, span.name, span.kind, span.status
        start_time, end_time = span.start_time, span.end_time
        dropped_attributes, dropped_events = span.dropped_attributes, span.dropped_events
        dropped_links = span.dropped_links
    assert context is not None
    parts = [b"\x0a\x10", context.trace_id.to_bytes(16, "big"), b"\x12\x08", context.span_id.to_bytes(8, "big")]
    trace_state = context.trace_state
    if trace_state:
        parts.append(_delimited(b"\x1a", _text(",".join(f"{k}={v}" for k, v in trace_state.items()))))
    if parent is not None:
        parts += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
    if name:
        parts.append(_delimited(b"\x2a", _text(name)))
    parts.append(_INTERNAL if kind is SpanKind.INTERNAL else _KINDS[kind])
    if start_time:
        parts += (b"\x39", _FIXED64(start_time))
    if end_time:
        parts += (b"\x41", _FIXED64(end_time))
    _attributes(b"\x4a", attributes, parts)
    if dropped_attributes:
        parts += (b"\x50", _varint(dropped_attributes))
    for event in events:
        parts.append(
            _delimited(b"\x5a", _event(event.name, event.timestamp, event.attributes, event.dropped_attributes))
        )
    if dropped_events:
        parts += (b"\x60", _varint(dropped_events))
    for link in links:
        link_parts = [b"\x0a\x10", link.context.trace_id.to_bytes(16, "big"), b"\x12\x08"]
        link_parts.append(link.context.span_id.to_bytes(8, "big"))
        _attributes(b"\x22", link.attributes, link_parts)
        if link.dropped_attributes:
            link_parts += (b"\x28", _varint(link.dropped_attributes))
        link_parts += (b"\x35", _FIXED32(0x300 if link.context.is_remote else 0x100))
        parts.append(_delimited(b"\x6a", b"".join(link_parts)))
    if dropped_links:
        parts += (b"\x70", _varint(dropped_links))
    if status.status_code is StatusCode.UNSET and not status.description:
        parts.append(b"\x7a\x00")
    else:
        status_fields = _CODES[status.status_code]
        if status.description:
            status_fields = _delimited(b"\x12", _text(status.description)) + status_fields
        parts.append(_delimited(b"\x7a", status_fields))
    parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
    return b"".join(parts)


def _event(name: str, timestamp: int | None, attributes: Mapping[str, Any] | None, dropped: int) -> bytes:
    parts = [b"\x09" + _FIXED64(timestamp)] if timestamp else []
    if name:
        parts.append(_delimited(b"\x12", _text(name)))
    _attributes(b"\x1a", attributes, parts)
    if dropped:
        parts += (b"\x20", _varint(dropped))
    return b"".join(parts)


def _scope(scope: InstrumentationScope | None) -> bytes:
    if scope is None:
        return b""
    parts = [_delimited(b"\x0a", _text(scope.name)) if scope.name else b""]
    if scope.version:
        parts.append(_delimited(b"\x12", _text(scope.version)))
    _attributes(b"\x1a", scope.attributes, parts)
    return b"".join(parts)


def encode_request(spans: Sequence[ReadableSpan]) -> bytes:
    """`spans` as one serialized `ExportTraceServiceRequest`."""
    # Grouped by identity first: the SDK's Resource hashes by dumping its attributes to JSON.
    groups: dict[int, tuple[Resource, dict[InstrumentationScope | None, list[bytes]]]] = {}
    # A trace's spans nearly always share one resource and scope: the last one's list is reused without hashing
    # the scope (InstrumentationScope hashes in Python).
    last: tuple[Resource | None, InstrumentationScope | None, list[bytes]] = (None, None, [])
    for span in spans:
        resource, scope = span.resource, span.instrumentation_scope or None
        if resource is last[0] and scope is last[1]:
            encoded = last[2]
        else:
            group = groups.get(id(resource))
            if group is None:
                group = next((g for g in groups.values() if g[0] == resource), None) or (resource, {})
                groups[id(resource)] = group
            encoded = group[1].setdefault(scope, [])
            last = (resource, scope, encoded)
        body = _span(span)
        encoded += (b"\x12", _varint(len(body)), body)
    # Each message's pieces are kept apart and joined once, at the end: a span's bytes are copied once more, not
    # once per level of the request.
    out: list[bytes] = []
    for resource, scopes in {id(group[1]): group for group in groups.values()}.values():
        resource_attributes: list[bytes] = []
        _attributes(b"\x0a", resource.attributes, resource_attributes)
        encoded_resource = b"".join(resource_attributes)
        parts = [b"\x0a", _varint(len(encoded_resource)), encoded_resource]
        for scope, encoded in scopes.items():
            scope_field = _delimited(b"\x0a", _scope(scope))
            schema = _delimited(b"\x1a", _text(scope.schema_url)) if scope is not None and scope.schema_url else b""
            parts += (b"\x12", _varint(len(scope_field) + sum(map(len, encoded)) + len(schema)), scope_field)
            parts += encoded
            parts.append(schema)
        if resource.schema_url:
            parts.append(_delimited(b"\x1a", _text(resource.schema_url)))
        out += (b"\x0a", _varint(sum(map(len, parts))))
        out += parts
    return b"".join(out)

"""A trace's spans → serialized OTLP `ExportTraceServiceRequest`s, each within a size limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan

from bridge.processors.reduce import MARKER_BYTES, truncate
from bridge.trace.attributes import DIFY_BRIDGE_CUT_ATTRIBUTES
from bridge.trace.otlp_wire import encode_request
from bridge.trace.spans import with_attributes


def encode(spans: Sequence[ReadableSpan], max_bytes: int | None) -> list[tuple[int, bytes]]:
    """(span count, request bytes) pieces. A trace too large for one request is halved until each piece
    fits; a single span over the limit has its longest texts cut until it fits (`_cut_to_fit`), and stays whole
    only if it cannot (its delivery then dead-letters it, naming the size)."""
    if not spans:
        return []
    payload = encode_request(spans)
    if max_bytes is None or len(payload) <= max_bytes:
        return [(len(spans), payload)]
    if len(spans) == 1:
        return [(1, _cut_to_fit(spans[0], payload, max_bytes))]
    half = len(spans) // 2
    return encode(spans[:half], max_bytes) + encode(spans[half:], max_bytes)


def _cut_to_fit(span: ReadableSpan, payload: bytes, max_bytes: int) -> bytes:
    """`span`'s request with every text attribute (of the span and its events) cut to the most bytes that lets
    it fit `max_bytes`, found by bisection; the cut ones named in `dify.bridge.cut_attributes`. `payload` (the
    span whole) if texts cut to their ellipsis would not fit either: what is too large is not text."""
    fitting = None
    low, high = MARKER_BYTES, max(_text_sizes(span), default=0) - 1  # the longest cap that fits, if any
    while low <= high:
        cap = (low + high) // 2
        attempt = encode_request([_capped(span, cap)])
        if len(attempt) <= max_bytes:
            fitting, low = attempt, cap + 1
        else:
            high = cap - 1
    return payload if fitting is None else fitting


def _text_sizes(span: ReadableSpan) -> list[int]:
    holders = [span.attributes or {}, *(event.attributes or {} for event in span.events)]
    return [len(value.encode()) for holder in holders for value in holder.values() if isinstance(value, str)]


def _capped(span: ReadableSpan, cap: int) -> ReadableSpan:
    """`span` with each text longer than `cap` bytes cut to `cap`, its ellipsis included."""
    cut: list[str] = []

    def capped(attributes: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
        out = dict(attributes or {})
        for key, value in out.items():
            if isinstance(value, str) and len(value) > cap // 4 and len(value.encode()) > cap:
                out[key] = truncate(value, cap)
                cut.append(prefix + key)
        return out

    events = [Event(event.name, capped(event.attributes, f"{event.name}: "), event.timestamp) for event in span.events]
    attributes = capped(span.attributes, "")
    attributes[DIFY_BRIDGE_CUT_ATTRIBUTES] = tuple(cut)
    return with_attributes(span, attributes, events)

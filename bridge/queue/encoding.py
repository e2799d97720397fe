"""A trace's spans → serialized OTLP `ExportTraceServiceRequest`s, each within a size limit."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

from bridge.trace.otlp_wire import encode_request


def encode(spans: Sequence[ReadableSpan], max_bytes: int | None) -> list[tuple[int, bytes]]:
    """(span count, request bytes) pieces. A trace too large for one request is halved until each piece
    fits; a single span over the limit stays whole (its delivery dead-letters it, naming the size)."""
    if not spans:
        return []
    payload = encode_request(spans)
    if max_bytes is None or len(payload) <= max_bytes or len(spans) == 1:
        return [(len(spans), payload)]
    half = len(spans) // 2
    return encode(spans[:half], max_bytes) + encode(spans[half:], max_bytes)

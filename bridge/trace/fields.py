"""A finished span's fields, read where the OpenTelemetry SDK keeps them: the one place outside the span builder that
knows the SDK's private names. Each `ReadableSpan` property is a call, `attributes` wraps the dict in a new read-only
proxy at every read, `events` and `links` copy, and detectors and the wire encoder read dozens a run. A span of
another class (no such fields) is read through its properties.

Every reader returns what the properties would, to read only."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from operator import attrgetter
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.dify.formats import decode_json
from bridge.trace.spans import BuiltSpan


def attributes_of(span: ReadableSpan) -> Mapping[str, Any]:
    """A span's attributes: the dict itself, not a new proxy."""
    try:  # an attribute lookup that fails costs more than one that succeeds: the SDK's class first
        attributes: Mapping[str, Any] | None = span._attributes
    except AttributeError:
        attributes = None
    return attributes if attributes is not None else (span.attributes or {})


def attribute(span: ReadableSpan, key: str, default: Any = None) -> Any:
    """One attribute (`attributes_of`, inlined: detectors read a hundred a run)."""
    try:
        return span._attributes.get(key, default)  # type: ignore[union-attr]
    except AttributeError:  # not the SDK's own span class, or no attributes at all
        return (span.attributes or {}).get(key, default)


def json_attribute(span: ReadableSpan, key: str) -> Any:
    """An attribute holding JSON (`input.value`, `output.value`), decoded; the raw string if it is not JSON.
    Values are shared between readers: read them, never change them. A text the span builder wrote is not
    parsed: the builder kept the value it wrote it from."""
    try:  # `attribute`, inlined: detectors read a dozen JSON attributes a run
        raw = span._attributes.get(key)  # type: ignore[union-attr]
    except AttributeError:
        raw = (span.attributes or {}).get(key)
    if not isinstance(raw, str):
        return raw
    if isinstance(span, BuiltSpan):
        written = span.json_values.get(id(raw))
        if written is not None and written[0] is raw:
            return written[1]
    return json_value(raw)


@lru_cache(maxsize=4096)
def json_value(raw: str) -> Any:
    """`raw` decoded as JSON; `raw` itself if it is not JSON. Cached like `json_attribute`: read it, never change
    it."""
    try:
        return decode_json(raw)
    except ValueError:
        return raw


def span_id(span: ReadableSpan) -> int:
    """A span's id; 0 for a span without a context."""
    try:
        context = span._context
    except AttributeError:
        context = span.context
    return context.span_id if context is not None else 0


def placement(span: ReadableSpan) -> tuple[Mapping[str, Any], SpanContext | None, int | None]:
    """(attributes, parent, start time) in one call: what a pass over a trace's spans reads of each."""
    try:
        attributes: Mapping[str, Any] | None = span._attributes
        parent, start = span._parent, span._start_time
    except AttributeError:
        attributes, parent, start = None, span.parent, span.start_time
    return (attributes if attributes is not None else (span.attributes or {})), parent, start


# A span the builder made, every field the OTLP wire carries, as the builder set them, by one C getter: context,
# attributes, events, links, parent, name, kind, status, start and end time. (The properties would copy the events
# and links; nothing is ever dropped from a built span.)
built_wire_fields = attrgetter(
    "_context", "_attributes", "_events", "_links", "_parent", "_name", "_kind", "_status", "_start_time", "_end_time"
)

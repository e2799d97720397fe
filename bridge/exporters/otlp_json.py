"""OTLP/JSON from a serialized request, as the OTLP specification writes it: lowerCamelCase keys, enums
as integers, trace and span ids in hex (protobuf's own JSON mapping would write them in base64)."""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: base64.b64decode(v).hex() if k in _ID_KEYS and isinstance(v, str) else _hex_ids(v)
                for k, v in obj.items()}  # fmt: skip
    if isinstance(obj, list):
        return [_hex_ids(v) for v in obj]
    return obj


def to_otlp_json(payload: bytes) -> dict[str, Any]:
    """The request `payload` (protobuf bytes) as an OTLP/JSON object."""
    request = ExportTraceServiceRequest.FromString(payload)
    result: dict[str, Any] = _hex_ids(MessageToDict(request, use_integers_for_enums=True))
    return result

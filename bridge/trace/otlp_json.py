"""OTLP/JSON ⇄ serialized requests, as the OTLP specification writes them: lowerCamelCase keys, enums as
integers, trace and span ids in hex (protobuf's own JSON mapping writes them in base64)."""

from __future__ import annotations

import base64
import re
from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_BYTES_KEYS = frozenset({"bytesValue", "bytes_value"})
# Base64 as protobuf's JSON mapping takes it (standard or URL-safe alphabet, padding optional). Protobuf itself
# skips any other character, so `"!!!"` became b"" and a value was changed without a word.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


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


def _base64_ids(obj: Any, path: str) -> Any:
    if isinstance(obj, dict):
        result = {}
        for key, value in obj.items():
            where = f"{path}.{key}" if path else key
            if key in _ID_KEYS and isinstance(value, str):
                try:
                    value = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise ValueError(f"{where}: ids are hex in OTLP/JSON, got {value[:40]!r}") from None
                result[key] = value
            elif key in _BYTES_KEYS and isinstance(value, str) and not _is_base64(value):
                raise ValueError(f"{where}: bytes are base64 in OTLP/JSON, got {value[:40]!r}")
            else:
                result[key] = _base64_ids(value, where)
        return result
    if isinstance(obj, list):
        return [_base64_ids(value, f"{path}[{i}]") for i, value in enumerate(obj)]
    return obj


def _is_base64(text: str) -> bool:
    return _BASE64.fullmatch(text) is not None and len(text.rstrip("=")) % 4 != 1


def from_otlp_json(obj: Any) -> ExportTraceServiceRequest:
    """An OTLP/JSON object as a request; unknown fields are ignored (as the specification asks of receivers).
    ValueError names the first field that is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"the body must be a JSON object (ExportTraceServiceRequest), got {type(obj).__name__}")
    request = ExportTraceServiceRequest()
    try:
        ParseDict(_base64_ids(obj, ""), request, ignore_unknown_fields=True)
    except ParseError as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:  # values nested a few hundred deep (a 500): protobuf itself takes 100 levels
        raise ValueError("values nested too deeply (OTLP takes 100 levels)") from None
    return request

"""Reading request bodies the same way everywhere: content type (415), size (413), JSON (400), schema (422)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import ClientDisconnect, Request

from bridge.dify.formats import decode_json
from bridge.http.errors import ApiError, clip

Model = TypeVar("Model", bound=BaseModel)
# A body's invalid fields named in one answer, at the most.
_MAX_ERRORS = 20


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def require_media_type(request: Request, accepted: Iterable[str]) -> str:
    kind = media_type(request)
    allowed = tuple(accepted)
    if kind not in allowed:
        detail = f"Content-Type must be one of {', '.join(allowed)}, got {clip(kind)!r}"
        raise ApiError(415, "unsupported_media_type", detail)
    return kind


async def read_body(request: Request, max_bytes: int, *, encoded: bool = False) -> bytes:
    """The raw body, refused with 413 as soon as it passes `max_bytes` (the declared length is not trusted),
    with 408 if it is not complete within the server's `body_timeout`, 400 if the client goes away first.
    `encoded`: the caller undoes a `Content-Encoding` itself; else a body with one is refused (415), not read
    as the text it is not."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if not encoded and encoding not in ("", "identity"):
        detail = f"Content-Encoding {clip(encoding)!r} is not taken here: send the body uncompressed"
        raise ApiError(415, "unsupported_content_encoding", detail)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "body_too_large", f"the body is {declared} bytes; the limit is {max_bytes}")
    timeout: float | None = getattr(request.app.state, "body_timeout", None)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise ApiError(413, "body_too_large", f"the body passes the limit of {max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, "body_timeout", f"the body was not complete within {timeout:g} s") from None
    except ClientDisconnect:
        # An answer no one reads, but not an unhandled error: each such client logged a traceback.
        raise ApiError(400, "client_disconnected", "the client went away before its body was complete") from None
    return b"".join(chunks)


def require_utf8(body: bytes) -> None:
    """415 naming the encoding of a body in UTF-16 or UTF-32 (a byte order mark, or NULs among its first bytes):
    JSON between systems is UTF-8 (RFC 8259, 8.1), and so OTLP/JSON and Dify's streams are. The standard
    library's `json.loads` read such a body on some paths only (`/v1/traces`, not the stream receiver)."""
    if body.find(b"\x00", 0, 4) >= 0 or body.startswith((b"\xff\xfe", b"\xfe\xff")):  # no slice: ~0.2 us a request
        encoding = json.detect_encoding(body)
        if not encoding.startswith("utf-8"):
            detail = f"the body reads as {encoding.upper()}; send it as UTF-8 (JSON between systems is UTF-8)"
            raise ApiError(415, "unsupported_charset", detail)


def parse_json(body: bytes) -> Any:
    require_utf8(body)
    try:
        return decode_json(body)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} at line {exc.lineno}, column {exc.colno} (position {exc.pos})"
        raise ApiError(400, "malformed_json", "the body is empty" if body.isspace() or not body else detail) from None


def validate(model: type[Model], data: Any) -> Model:
    """`data` as `model`, or 422 naming every invalid field (not only the first), each with its path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = exc.errors()
        named = [(".".join(str(part) for part in error["loc"]) or "body", _reason(model, error))
                 for error in found[:_MAX_ERRORS]]  # fmt: skip
        raise invalid_payload(named, len(found)) from None


def invalid_payload(found: list[tuple[str, str]], total: int | None = None) -> ApiError:
    """422 naming each (field, reason) of `found`, `total` of them in all (the first 20 listed: a 100 KB body of
    5,000 unknown keys was answered with 900 KB)."""
    total = len(found) if total is None else total
    errors = [{"field": field or "body", "reason": reason} for field, reason in found[:_MAX_ERRORS]]
    detail = "; ".join(f"{error['field']}: {error['reason']}" for error in errors)
    if total > _MAX_ERRORS:
        detail += f"; and {total - _MAX_ERRORS} more errors"
    return ApiError(422, "invalid_payload", detail, errors=errors)


def _reason(model: type[BaseModel], error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":  # as the config loader says it
        return f"unknown key; known keys: {', '.join(model.model_fields)}"
    # A validator's own words, without pydantic's "Value error, " (as the config loader says them).
    return str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]


async def read_model(request: Request, model: type[Model], max_bytes: int = 1 << 20) -> Model:
    require_media_type(request, ["application/json"])
    return validate(model, parse_json(await read_body(request, max_bytes)))

"""`stream`: Dify stream events POSTed as they happen or in batches, HMAC-signed.

A body is one JSON event, a JSON array, NDJSON, or a `text/event-stream` capture, in snake_case or the
Java client's camelCase. Events of one run may come over many requests, in any order. A body is taken
whole or not at all: one bad event refuses the request, so nothing is half-accepted.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.dify.formats import Format, InputError, detect_format, iter_records
from bridge.dify.model import DifyEvent
from bridge.dify.normalize import normalize_event, parse_event_json
from bridge.http.body import read_body, require_media_type, require_utf8
from bridge.http.errors import ApiError, clip
from bridge.http.query import query_param
from bridge.receivers import ReceiverContext
from bridge.receivers.config.stream import Config as Config
from bridge.receivers.signing import app_id_header, check_headers, signed_by

TYPE = "stream"
_FORMATS: dict[str, Format] = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/event-stream": "sse",
}
# Bodies up to this size are parsed on the event loop; larger ones on a thread (50,000 events took the loop
# for most of a second, every other connection waiting), as the otlp receiver does.
_ON_LOOP_BYTES = 64 * 1024


def _events(body: bytes, fmt: Format, app_id: str, max_events: int) -> list[DifyEvent]:
    """The body's events, each marked as signed by `app_id`."""
    require_utf8(body)  # UTF-16 without a byte order mark is valid UTF-8, with a NUL every other byte
    try:
        # A leading byte order mark is no event: SSE says to skip it, JSON lets readers (Windows tools write one).
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "malformed_body", f"the body is not UTF-8 (byte {exc.start})") from None
    events: list[DifyEvent] = []
    for record in iter_records(text, "body", fmt, parse_event_json):
        if isinstance(record, InputError):
            raise ApiError(400, "malformed_body", f"{record}{_other_format(text, fmt) if not events else ''}")
        if len(events) == max_events:
            detail = f"the body holds more than {max_events} events (max_events); send them over several requests"
            raise ApiError(413, "too_many_events", detail)
        try:
            events.append(normalize_event(record.obj, "body", record.line, record.sse_event, app_id))
        except InputError as exc:
            raise ApiError(422, "invalid_event", str(exc)) from None
    if not events:
        raise ApiError(422, "invalid_event", "the body holds no event")
    return events


def _other_format(text: str, fmt: Format) -> str:
    """The content type to send a body with when its first event fails and the body reads as another format
    (a JSON array sent as text/event-stream was only "not an SSE field: '['")."""
    detected = detect_format(text)
    # One line is as much NDJSON as JSON: neither reads it.
    if detected == fmt or ({detected, fmt} == {"json", "ndjson"} and "\n" not in text.strip()):
        return ""
    content_type = next(media for media, form in _FORMATS.items() if form == detected)
    return f" (the body reads as {detected.upper()}, not {fmt.upper()}: send it with Content-Type: {content_type})"


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """One route. Answers 202 `{accepted: n}` once every event is in the journal (on disk)."""

    async def receive(request: Request) -> Response:
        """
        summary: Receive Dify stream events (JSON, JSON array, NDJSON or text/event-stream), HMAC-signed
        tags: [receivers]
        parameters:
          - {name: X-Dify-App-Id, in: header, required: true, schema: {type: string}}
          - {name: X-Pisama-API-Key, in: header, required: true, schema: {type: string}}
          - {name: X-Pisama-Signature, in: header, required: true, schema: {type: string}}
          - {name: X-Pisama-Timestamp, in: header, required: true, schema: {type: integer}}
          - {name: X-Pisama-Nonce, in: header, required: true, schema: {type: string}}
        responses:
          202: {description: "accepted: {accepted: <number of events>}"}
          400: {description: "malformed body (with its line), or ?app_id= given twice, differently"}
          401: {description: "bad or missing API key, signature or nonce, expired timestamp"}
          403: {description: "the app's webhook secret is another app's too (stored by an older bridge): rotate it"}
          404: {description: unknown app}
          409: {description: "a replay (nonce already taken), or events of a run another app is sending"}
          413: {description: "body too large, or more events than max_events"}
          415: {description: "unsupported content type, or a body not in UTF-8 (UTF-16, UTF-32)"}
          422: {description: an event is invalid (line and field named)}
          429: {description: "too many runs in flight, or the API key is over its rate limit (Retry-After)"}
          503: {description: "the queue is full or cannot be written (Retry-After): nothing was taken"}
        """
        fmt = _FORMATS[require_media_type(request, _FORMATS)]
        # Key, timestamp and nonce before the body: a client without a key was read up to max_body_bytes and
        # held for body_timeout before its 401.
        headers = check_headers(request, ctx)
        body = await read_body(request, cfg.max_body_bytes)
        app_id = app_id_header(request) or query_param(request, "app_id")
        if not app_id:
            raise ApiError(422, "invalid_payload", "X-Dify-App-Id: required (or ?app_id=)")
        with signed_by(request, ctx, app_id, headers, body) as app:
            # The run is the signing app's, whatever `sys.app_id` its events carry (Dify's own id for the app).
            if len(body) <= _ON_LOOP_BYTES:
                events = _events(body, fmt, app.app_id, cfg.max_events)
            else:
                events = await asyncio.to_thread(_events, body, fmt, app.app_id, cfg.max_events)
            service = ctx.service(request)
            if (run_id := service.signed_elsewhere(events)) is not None:
                raise ApiError(409, "app_mismatch", f"run {clip(run_id)!r} is being received for another app")
            service.admit_events(events, ctx.receiver_id)
            # An `error` event carries no ids: it joins the app's most recent run (its context).
            context = f"{ctx.receiver_id}:{app.app_id}"
            await service.submit_events_async(events, time.time(), context, ctx.receiver_id)
        return Response(b'{"accepted":%d}' % len(events), 202, media_type="application/json")

    return [Route(cfg.path, receive, methods=["POST"])]

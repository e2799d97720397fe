"""`otlp`: OTLP traces over gRPC and HTTP (protobuf or JSON, gzip), as the Collector's `otlp` receiver.

Dify's own tracing export (its Arize Phoenix provider, an OTLP provider) pointed at the bridge is the way
in for runs started from Dify's web UI, chat widgets and schedules. Spans are journaled before the answer,
held per trace until the trace is complete (`service.assembly.decision_wait`), and a Dify workflow trace is
rebuilt into the trace the stream path makes (`bridge/dify/export.py`); any other trace goes through the
detectors and on as it came.

HTTP is served on the bridge's own server (`server.endpoint`, its TLS included) at `traces_url_path`; gRPC
listens on its own `endpoint`. Requests carry a bridge API key, as `Authorization: Bearer <key>` or an
`api_key` header (what Dify's Phoenix provider sends from its "API Key" setting).
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable

import grpc
from google.protobuf.duration_pb2 import Duration as ProtoDuration
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.dify.formats import decode_json
from bridge.http.body import read_body, require_media_type, require_utf8
from bridge.http.credentials import bearer_tokens, one_credential
from bridge.http.errors import ApiError, clip
from bridge.http.security_headers import client_address
from bridge.management.settings import ServerTLS
from bridge.queue.admission import Backpressure
from bridge.queue.errors import QueueError
from bridge.receivers import ReceiverContext, RunIntake, StartupError
from bridge.receivers.config.otlp import MIB, GrpcProtocol, HttpProtocol
from bridge.receivers.config.otlp import Config as Config
from bridge.trace.otlp_spans import Decoded, to_spans

TYPE = "otlp"
_PROTOBUF, _JSON = "application/x-protobuf", "application/json"
# Bodies up to this size are taken on the event loop (a span is about 1 KB): above it, parsing and journaling
# go to a thread, so that one large request does not hold up every other connection.
_ON_LOOP_BYTES = 16 * 1024
_TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


def credential(get_all: Callable[[str], list[str]]) -> str | None:
    """The API key of a request, from every value of its (lowercase) header or metadata names; 401 if they
    disagree (Dify's Phoenix provider sends the same key as a bearer and as `api_key`)."""
    sent = bearer_tokens(get_all("authorization")) + get_all("api_key") + get_all("x-api-key")
    return one_credential(sent, "Authorization: Bearer, api_key, x-api-key")


def _export(
    service: RunIntake, request: ExportTraceServiceRequest, receiver_id: str, body: bytes | None
) -> ExportTraceServiceResponse:
    """Journals the request's valid spans (raising `Backpressure` or `QueueError` before taking any); the
    answer counts the spans refused for bad ids (OTLP's partial success). `body`: the request's protobuf bytes,
    if it came so: a request of one trace, every span taken, is journaled as it came (encoding 100,000 spans
    again took 40 % of their request's time)."""
    decoded = _admitted(service, request, receiver_id)
    if decoded.spans:
        service.submit_spans(decoded.spans, time.time(), receiver_id, body if not decoded.rejected else None)
    return _answer(decoded)


async def _export_on_loop(
    service: RunIntake, request: ExportTraceServiceRequest, receiver_id: str, body: bytes | None
) -> ExportTraceServiceResponse:
    """`_export` on the event loop, the journal's commit awaited: for small requests (Dify 1.14.1 sends one span
    a request), where a thread hop cost more than the work. `body`: the request's protobuf bytes, if it came so
    (journaled as they are when every span is taken)."""
    decoded = _admitted(service, request, receiver_id)
    if decoded.spans:
        received = body if not decoded.rejected else None
        await service.submit_spans_async(decoded.spans, time.time(), receiver_id, received)
    return _answer(decoded)


def _admitted(service: RunIntake, request: ExportTraceServiceRequest, receiver_id: str) -> Decoded:
    decoded = to_spans(request)
    if decoded.spans:
        service.admit_spans({span.context.trace_id for span in decoded.spans if span.context}, receiver_id)
    return decoded


def _answer(decoded: Decoded) -> ExportTraceServiceResponse:
    response = ExportTraceServiceResponse()
    if decoded.rejected:
        response.partial_success.rejected_spans = decoded.rejected
        response.partial_success.error_message = "; ".join(decoded.errors)
    return response


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        detail = f"Content-Encoding must be gzip or none, got {clip(encoding)!r}"
        raise ApiError(415, "unsupported_content_encoding", detail)
    # Every member, as Go's gzip reader (the Collector's) reads them; zlib alone stops after the first and
    # hands back what it could of a body cut short, which may parse as a shorter request.
    parts: list[bytes] = []
    size, rest = 0, body
    try:
        while rest:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            parts.append(inflater.decompress(rest, limit + 1 - size))
            size += len(parts[-1])
            if size > limit or inflater.unconsumed_tail:
                raise ApiError(413, "body_too_large", f"the body passes the limit of {limit} bytes once decompressed")
            if not inflater.eof:
                raise ApiError(400, "malformed_body", "the gzip body is cut short: its end is missing")
            rest = inflater.unused_data
    except zlib.error as exc:
        raise ApiError(400, "malformed_body", f"the gzip body cannot be read: {exc}") from None
    return b"".join(parts)


def _content_encoding(values: list[str]) -> str:
    """The request's one `Content-Encoding`. Two headers are refused: the bridge read the first, a proxy in front
    may read the last (or both, as two encodings applied in turn)."""
    if len(values) > 1:
        raise ApiError(400, "repeated_header", f"Content-Encoding: given {len(values)} times; send it once")
    return values[0].strip().lower() if values else ""


def _parse(body: bytes, media: str) -> ExportTraceServiceRequest:
    if media == _PROTOBUF:
        try:
            return ExportTraceServiceRequest.FromString(body)
        except DecodeError as exc:
            raise ApiError(400, "malformed_body", f"not an OTLP ExportTraceServiceRequest: {exc}") from None
    from bridge.trace.otlp_json import from_otlp_json  # protobuf's JSON format: loaded by the first JSON request

    require_utf8(body)
    try:
        return from_otlp_json(decode_json(body))
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_body", "the body is not UTF-8") from None
    except ValueError as exc:  # JSONDecodeError is one
        detail = "the body is empty" if body.isspace() or not body else f"not OTLP/JSON: {exc}"
        raise ApiError(400, "malformed_body", detail) from None


def _http_route(cfg: HttpProtocol, ctx: ReceiverContext, require_key: bool) -> Route:
    async def receive(request: Request) -> Response:
        """
        summary: Receive OTLP traces (protobuf or JSON, gzip), e.g. from Dify's Arize Phoenix tracing provider
        tags: [receivers]
        security: [{bearer: []}]
        parameters:
          - name: api_key
            in: header
            required: false
            schema: {type: string}
            description: "a bridge API key (or send Authorization: Bearer <key>)"
        responses:
          200: {description: "ExportTraceServiceResponse (partial_success counts spans refused for bad ids)"}
          400: {description: "malformed protobuf, JSON or gzip, or two Content-Encoding headers"}
          401: {description: missing or unknown API key}
          413: {description: body too large}
          415: {description: "unsupported content type or encoding, or JSON not in UTF-8"}
          429: {description: "too many traces in flight, or the API key is over its rate limit (Retry-After)"}
          503: {description: "the queue is full or cannot be written (Retry-After): nothing was taken"}
        """
        media = require_media_type(request, (_PROTOBUF, _JSON))
        if require_key:
            ctx.auth.check_api_key(credential(request.headers.getlist), client_address(request))
        raw = await read_body(request, cfg.max_body_bytes, encoded=True)
        body = _decompress(raw, _content_encoding(request.headers.getlist("content-encoding")), cfg.max_body_bytes)
        service = ctx.service(request)
        protobuf = body if media == _PROTOBUF else None
        if len(body) <= _ON_LOOP_BYTES:
            answer = await _export_on_loop(service, _parse(body, media), ctx.receiver_id, protobuf)
        else:
            answer = await asyncio.to_thread(lambda: _export(service, _parse(body, media), ctx.receiver_id, protobuf))
        if media == _PROTOBUF:
            return Response(answer.SerializeToString(), media_type=_PROTOBUF)
        from google.protobuf.json_format import MessageToDict  # as `_parse`'s, loaded once it is needed

        return JSONResponse(MessageToDict(answer))

    return Route(cfg.traces_url_path, receive, methods=["POST"])


def _status_details(code: int, message: str, retry_after: float | None) -> tuple[tuple[str, bytes], ...]:
    """`grpc-status-details-bin`: a google.rpc.Status, with RetryInfo when the client should come back."""
    status = status_pb2.Status(code=code, message=message)
    if retry_after is not None:
        retry = error_details_pb2.RetryInfo(retry_delay=ProtoDuration(seconds=max(round(retry_after), 1)))
        status.details.add().Pack(retry)
    return (("grpc-status-details-bin", status.SerializeToString()),)


class _TraceService:
    """TraceService/Export, taking the request's bytes: they are parsed after the key is checked, and a request
    that is no ExportTraceServiceRequest is INVALID_ARGUMENT saying so (grpc's own parsing answered UNKNOWN,
    "Unexpected <class 'DecodeError'>", to anyone, key or not)."""

    def __init__(self, service: RunIntake, ctx: ReceiverContext, require_key: bool) -> None:
        self.service, self.ctx, self.require_key = service, ctx, require_key

    async def Export(self, request: bytes, context: grpc.aio.ServicerContext) -> ExportTraceServiceResponse:
        try:
            if self.require_key:
                metadata = [(key.lower(), str(value)) for key, value in context.invocation_metadata() or ()]
                peer = context.peer().rpartition(":")[0]  # `ipv4:a.b.c.d:port`: the address, not the connection
                sent = credential(lambda name: [value for key, value in metadata if key == name])
                self.ctx.auth.check_api_key(sent, peer)
            receiver_id = self.ctx.receiver_id
            return await asyncio.to_thread(
                lambda: _export(self.service, _parse(request, _PROTOBUF), receiver_id, request)
            )
        except ApiError as exc:
            if exc.status == 400:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.detail)
            if exc.status == 429:
                retry = float((exc.headers or {}).get("Retry-After", "1"))
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, exc.detail,
                                    _status_details(code_pb2.RESOURCE_EXHAUSTED, exc.detail, retry))  # fmt: skip
            if exc.status == 403:
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, exc.detail)
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.detail)
        except Backpressure as exc:
            # UNAVAILABLE is always retried by OTLP clients; RESOURCE_EXHAUSTED only with RetryInfo.
            code = grpc.StatusCode.UNAVAILABLE if exc.status == 503 else grpc.StatusCode.RESOURCE_EXHAUSTED
            await context.abort(code, exc.detail, _status_details(code.value[0], exc.detail, exc.retry_after))
        except QueueError as exc:
            detail = f"the queue cannot be written, nothing was accepted: {exc}"
            await context.abort(grpc.StatusCode.UNAVAILABLE, detail, _status_details(code_pb2.UNAVAILABLE, detail, 5))
        raise AssertionError("unreachable: abort raises")


def _credentials(tls: ServerTLS) -> grpc.ServerCredentials:
    def read(path: str) -> bytes:
        with open(path, "rb") as file:
            return file.read()

    client_ca = read(tls.client_ca_file) if tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(read(tls.key_file), read(tls.cert_file))], root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )  # fmt: skip


def _grpc_hooks(cfg: GrpcProtocol, ctx: ReceiverContext, require_key: bool) -> None:
    server: grpc.aio.Server | None = None

    async def start(service: RunIntake) -> None:
        nonlocal server
        size = cfg.max_recv_msg_size_mib * MIB
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", size)])
        export = grpc.unary_unary_rpc_method_handler(
            _TraceService(service, ctx, require_key).Export,
            response_serializer=ExportTraceServiceResponse.SerializeToString,
        )  # no request deserializer: Export gets the bytes
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_TRACE_SERVICE, {"Export": export}),))
        try:
            if cfg.tls is None:
                server.add_insecure_port(cfg.endpoint)
            else:
                server.add_secure_port(cfg.endpoint, _credentials(cfg.tls))
        except RuntimeError as exc:
            raise StartupError(f"receiver {ctx.receiver_id}: cannot listen on {cfg.endpoint} for gRPC: {exc}") from None
        await server.start()

    async def stop() -> None:
        if server is not None:
            await server.stop(grace=2)

    ctx.startup_hooks.append(start)
    ctx.shutdown_hooks.append(stop)


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """The HTTP route (when `protocols.http` is on) and the gRPC listener (when `protocols.grpc` is)."""
    if cfg.protocols.grpc is not None:
        _grpc_hooks(cfg.protocols.grpc, ctx, cfg.require_api_key)
    if cfg.protocols.http is None:
        return []
    return [_http_route(cfg.protocols.http, ctx, cfg.require_api_key)]

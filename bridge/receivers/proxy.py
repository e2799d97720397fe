"""`proxy`: a pass-through for Dify's service API that tees run data into the pipeline.

`POST {prefix}/{instance}/v1/workflows/run` (or any other service-API path) is forwarded to the
registered instance's base URL unchanged: method, query, headers (the client's `Authorization` too, never
logged; not the bridge's own credentials, cookies or forwarding claims) and body. The answer streams back
byte for byte as it comes; each chunk is handed to the client before the bridge looks at it, and a failure
while teeing never reaches the client's call.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from queue import SimpleQueue
from typing import TYPE_CHECKING
from urllib.parse import quote

from msgspec.structs import replace
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bridge.dify.formats import InputError, Record, iter_records
from bridge.dify.normalize import classify, normalize_event, parse_event_json
from bridge.dify.run_results import normalize_blocking, normalize_message
from bridge.http.errors import ApiError, clip
from bridge.management.outbound import OutboundRefused
from bridge.receivers import ReceiverContext, RunIntake
from bridge.receivers.config.proxy import Config as Config
from bridge.receivers.proxy_guards import BodyTimeout, InFlight, request_body

if TYPE_CHECKING:
    import httpx2 as httpx

TYPE = "proxy"
logger = logging.getLogger(__name__)
# Calls whose answers are Dify run data.
_TEED_PATHS = frozenset({"workflows/run", "chat-messages"})
# Connection-level headers are the proxy's own business, not forwarded (RFC 9110 §7.6.1).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host"}
)  # fmt: skip
# Not Dify's business: the bridge's own credentials, cookies (Dify's service API authenticates with the app key
# alone; cookies for this host are the bridge's or its neighbours'), and forwarding claims the bridge cannot
# vouch for (a client would pose as any address to Dify). httpx sets the length of what it sends, and the body
# is read (or being read) already, so `Expect: 100-continue` has been answered by the bridge's server.
_NOT_FORWARDED = _HOP_BY_HOP | {"content-length", "expect", "cookie", "forwarded", "x-real-ip"}
_NOT_FORWARDED_PREFIXES = ("x-pisama-", "x-forwarded-")
# uvicorn dates every answer itself: Dify's `Date` would be a second one.
_NOT_RETURNED = _HOP_BY_HOP | {"date"}
_connections = itertools.count(1)
# Said once per process: why a blocking chat answer's trace id is its message id.
_MESSAGE_RUNS_EXPLAINED = threading.Event()
# RFC 3986 path characters that need no encoding.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class _Writer:
    """Runs the tee's hand-offs to the service (journal writes, span building) in order on a thread of its
    own, so the client's stream never waits for the disk. Started at the first job."""

    def __init__(self) -> None:
        self._jobs: SimpleQueue[Callable[[], object] | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], object]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="proxy-tee", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception as error:  # the client already has its answer; only this trace suffers
                logger.warning("proxy: could not hand Dify's answer to the pipeline: %s", error)

    async def close(self) -> None:
        """Finishes every job handed in so far (the server calls this before the service stops)."""
        if self._thread is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._thread.join, 30)
            self._thread = None


class _Tee:
    """Cuts a streamed answer into SSE events (or keeps a blocking JSON answer) and feeds the service."""

    def __init__(
        self, service: RunIntake, writer: _Writer, receiver: str, streaming: bool, max_bytes: int, started: float
    ) -> None:
        self.service, self.writer, self.receiver = service, writer, receiver
        self.streaming, self.max_bytes, self.started = streaming, max_bytes, started
        self.context = f"{receiver}:{next(_connections)}"
        self.buffer = bytearray()
        self.scanned = 0  # bytes of `buffer` known to hold no event's end: each byte is searched once
        self.overflow = False

    def feed(self, chunk: bytes) -> None:
        if self.overflow:
            return
        self.buffer += chunk
        if not self.streaming:
            self.overflow = len(self.buffer) > self.max_bytes
            return
        start = max(0, self.scanned - 2)  # an end (\n\n or \n\r\n) may straddle two chunks
        if self.buffer.find(b"\n\n", start) < 0 and self.buffer.find(b"\n\r\n", start) < 0:
            self.scanned = len(self.buffer)
            if len(self.buffer) > self.max_bytes:  # one event this large: held whole it could grow without end
                logger.warning("proxy: an event of Dify's streamed answer passes max_tee_bytes (%d): the rest of "
                               "the answer is forwarded but not traced", self.max_bytes)  # fmt: skip
                self.overflow, self.buffer = True, bytearray()
            return
        *blocks, rest = bytes(self.buffer).replace(b"\r\n", b"\n").split(b"\n\n")
        self.buffer, self.scanned = bytearray(rest), len(rest)
        self._submit(blocks)

    def _submit(self, blocks: list[bytes]) -> None:
        """One journal write per chunk, off the event loop. Never refused: the client's stream must go on,
        so proxied runs are taken past the queue's limits (they go to disk all the same)."""
        events = []
        for block in blocks:
            for record in iter_records(
                block.decode("utf-8", "replace") + "\n\n", self.context, "sse", parse_event_json
            ):
                try:
                    if isinstance(record, InputError):
                        raise record
                    events.append(normalize_event(record.obj, self.context, record.line, record.sse_event))
                except InputError as error:  # one event left out, not the rest of the stream
                    logger.warning("proxy: an event of Dify's answer is left out of its trace: %s", error)
        if events:
            self.writer.submit(partial(self.service.submit_events, events, time.time(), self.context, self.receiver))

    def close(self) -> None:
        if self.streaming:
            if self.buffer.strip():
                self._submit([bytes(self.buffer)])
        elif not self.overflow and self.buffer:
            record = next(iter(iter_records(self.buffer.decode("utf-8", "replace"), self.context, "json")), None)
            shape = classify(record.obj) if isinstance(record, Record) else None
            if isinstance(record, Record) and shape == "blocking":
                run = normalize_blocking(record.obj, self.context)
            elif isinstance(record, Record) and shape == "message":
                # Dify's answer has no duration: the call's, as the proxy saw it, is the closest there is.
                run = replace(normalize_message(record.obj, self.context), elapsed_time=time.time() - self.started)
                if not _MESSAGE_RUNS_EXPLAINED.is_set():
                    _MESSAGE_RUNS_EXPLAINED.set()
                    logger.info("proxy: blocking chat answers carry no workflow run id: traced under the message id")
            else:
                logger.warning("proxy: Dify's blocking answer is no run the bridge can read: not traced")
                return
            self.writer.submit(partial(self.service.submit_new_run, replace(run, receiver=self.receiver)))


async def _relay(upstream: httpx.Response, tee: _Tee | None, release: Callable[[], None]) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk  # the client gets the bytes first; the tee looks at them afterwards
            if tee is not None:
                try:
                    tee.feed(chunk)
                except Exception:  # whatever goes wrong in tracing, the client's call goes on
                    logger.warning("proxy: could not read Dify's answer for tracing; the client is unaffected")
                    tee = None
    finally:
        release()
    if tee is not None:
        try:
            tee.close()
        except Exception:  # the client already has every byte; only the trace is lost
            logger.warning("proxy: could not read the end of Dify's answer for tracing")


def _connection_options(values: list[str]) -> set[str]:
    """The headers `Connection` names: this hop's alone, as the fixed hop-by-hop ones (RFC 9110 §7.6.1).
    `Connection: close, X-Secret` passed X-Secret on to Dify."""
    return {option.strip().lower() for value in values for option in value.split(",")}


def _forwarded_headers(request: Request) -> list[tuple[bytes, bytes]]:
    """The client's headers as it sent them, bytes: httpx encodes text values as ASCII, so a value in UTF-8
    (`X-User: José`) was a 500."""
    hop = _connection_options(request.headers.getlist("connection"))
    return [
        (name, value) for name, value in request.headers.raw
        if (text := name.decode("latin-1")) not in _NOT_FORWARDED and not text.startswith(_NOT_FORWARDED_PREFIXES)
        and text not in hop
    ]  # fmt: skip


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """One catch-all route under `{prefix}/{instance}/v1/`. Unknown instance: 404; Dify unreachable: 502;
    too many requests in flight: 429 (this client) or 503 (this instance); a body too slow: 408."""
    # Imported here: a config that lists the proxy but never serves (`replay`, `validate`) does not load httpx.
    import httpx2 as httpx

    from bridge.management.outbound_transport import checked_client

    timeout = httpx.Timeout(
        connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.write_timeout, pool=cfg.pool_timeout
    )
    client = checked_client(ctx.outbound, httpx.Limits(max_connections=cfg.max_connections), timeout)
    writer = _Writer()
    in_flight = InFlight(cfg.max_requests_per_client, cfg.max_requests_per_instance)
    ctx.shutdown_hooks.extend([client.aclose, writer.close])

    async def forward(request: Request) -> Response:
        """
        summary: Forward a Dify service-API call to a registered instance, tracing the runs it starts
        tags: [receivers]
        parameters:
          - {name: instance, in: path, required: true, schema: {type: string}}
          - {name: path, in: path, required: true, schema: {type: string}}
        responses:
          default: {description: "Dify's own answer, byte for byte"}
          404: {description: unknown instance}
          408: {description: the request body did not arrive within body_timeout}
          429: {description: too many proxied requests from this address in flight (Retry-After)}
          502: {description: "the instance cannot be reached, or its address is not allowed (server.outbound)"}
          503: {description: "too many requests to this instance in flight, or no free connection (Retry-After)"}
          504: {description: the instance did not answer in time}
        """
        # `api` is never an instance name: a management path or method the API does not have.
        if request.path_params["instance"] == "api":
            detail = f"no endpoint {clip(request.method)} {clip(request.url.path)} (GET /openapi.json lists them)"
            raise ApiError(404, "not_found", detail)
        instance = ctx.store.instance_by_name(request.path_params["instance"])
        if instance is None:
            raise ApiError(404, "unknown_instance", f"no instance named {clip(request.path_params['instance'])!r}")
        path = request.path_params["path"]
        if any(segment in (".", "..") for segment in path.replace("\\", "/").split("/")):
            # `/v1/../console/api/...` would reach past the service API, on the instance or behind it.
            raise ApiError(400, "invalid_path", "dot segments are not forwarded")
        try:
            # Encoded again: a decoded `?`, `#` or `%` must stay part of the path, not start a query or fragment.
            url = ctx.outbound.join(instance.base_url, f"/v1/{quote(path, safe=_PATH_SAFE)}", request.url.query)
        except OutboundRefused as refused:
            raise ApiError(502, "upstream_not_allowed", f"instance {instance.name!r}: {refused}") from None
        # Asked before Dify starts a run the bridge could not trace (503 while it starts or stops).
        service = ctx.service(request) if request.method == "POST" and path.strip("/") in _TEED_PATHS else None
        release = in_flight.enter(request.client.host if request.client else "", instance.name)
        started = time.time()
        try:
            upstream = await _send(request, url, instance.name)
        except BaseException:
            release()
            raise
        tee = None
        if service is not None and upstream.status_code < 400 and "content-encoding" not in upstream.headers:
            streaming = upstream.headers.get("content-type", "").startswith("text/event-stream")
            tee = _Tee(service, writer, ctx.receiver_id, streaming, cfg.max_tee_bytes, started)

        async def done() -> None:
            release()  # also when the client left before the answer began
            await upstream.aclose()

        hop = _NOT_RETURNED | _connection_options(upstream.headers.get_list("connection"))
        response = StreamingResponse(
            _relay(upstream, tee, release), status_code=upstream.status_code, background=BackgroundTask(done)
        )
        # As Dify sent them, repeated ones too: a mapping joined two Set-Cookie headers into one broken cookie.
        response.raw_headers = [(k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in hop]
        return response

    async def _send(request: Request, url: str, instance: str) -> httpx.Response:
        """Dify's answer, streaming, once the client's body (or its first `buffer_body_bytes`) is in."""
        body = await request_body(request, cfg.buffer_body_bytes, cfg.body_timeout)
        outgoing = client.build_request(request.method, url, headers=_forwarded_headers(request), content=body)
        try:
            return await client.send(outgoing, stream=True)
        except BodyTimeout:
            raise ApiError(408, "body_timeout", f"the body was not complete within {cfg.body_timeout:g} s") from None
        except ClientDisconnect:  # while its body streamed on to Dify
            raise ApiError(400, "client_disconnected", "the client went away before its body was complete") from None
        except OutboundRefused as refused:
            raise ApiError(502, "upstream_not_allowed", f"instance {instance!r}: {refused}") from None
        except httpx.PoolTimeout:
            raise ApiError(503, "upstream_busy", f"no free connection to instance {instance!r}",
                           {"Retry-After": "1"}) from None  # fmt: skip
        except httpx.TimeoutException as exc:
            raise ApiError(504, "upstream_timeout", f"instance {instance!r}: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise ApiError(502, "upstream_unreachable", f"instance {instance!r}: {type(exc).__name__}") from None

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [Route(f"{cfg.prefix}/{{instance}}/v1/{{path:path}}", forward, methods=methods)]

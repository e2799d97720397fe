"""`proxy`: a pass-through for Dify's service API that tees run data into the pipeline.

`POST {prefix}/{instance}/v1/workflows/run` (or any other service-API path) is forwarded to the
registered instance's base URL unchanged: method, query, headers (the client's `Authorization` too, never
logged) and body. The answer streams back byte for byte as it comes; each chunk is handed to the client
before the bridge looks at it, and a failure while teeing never reaches the client's call.
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

import httpx2 as httpx
from msgspec.structs import replace
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bridge.durations import Duration
from bridge.formats import InputError, Record, iter_records
from bridge.http_errors import ApiError
from bridge.normalize import classify, normalize_blocking, normalize_event, normalize_message, parse_event_json
from bridge.receivers import ReceiverContext

if TYPE_CHECKING:  # the service imports the registry, which imports the receivers
    from bridge.service import BridgeService

TYPE = "proxy"
logger = logging.getLogger(__name__)
# Calls whose answers are Dify run data.
_TEED_PATHS = frozenset({"workflows/run", "chat-messages"})
# Connection-level headers are the proxy's own business, not forwarded (RFC 9110 §7.6.1).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip
_connections = itertools.count(1)
# Said once per process: why a blocking chat answer's trace id is its message id.
_MESSAGE_RUNS_EXPLAINED = threading.Event()
# RFC 3986 path characters that need no encoding.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Prefix before `/{instance}/v1/...`; empty: the instance name is the first path segment.
    prefix: str = Field(default="", pattern=r"^(/[^{}]*[^/{}])?$")
    # Connect timeout towards Dify; reads have none (a workflow may stream for minutes).
    connect_timeout: Duration = 10.0
    # Blocking answers larger than this are forwarded but not teed.
    max_tee_bytes: int = Field(default=10 * 1024 * 1024, gt=0)


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
        self, service: BridgeService, writer: _Writer, receiver: str, streaming: bool, max_bytes: int, started: float
    ) -> None:
        self.service, self.writer, self.receiver = service, writer, receiver
        self.streaming, self.max_bytes, self.started = streaming, max_bytes, started
        self.context = f"{receiver}:{next(_connections)}"
        self.buffer = b""
        self.overflow = False

    def feed(self, chunk: bytes) -> None:
        if self.overflow:
            return
        self.buffer += chunk
        if not self.streaming:
            self.overflow = len(self.buffer) > self.max_bytes
            return
        self.buffer = self.buffer.replace(b"\r\n", b"\n")
        *blocks, self.buffer = self.buffer.split(b"\n\n")
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
                self._submit([self.buffer])
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


async def _relay(upstream: httpx.Response, tee: _Tee | None) -> AsyncIterator[bytes]:
    async for chunk in upstream.aiter_raw():
        yield chunk  # the client gets the bytes first; the tee looks at them afterwards
        if tee is not None:
            try:
                tee.feed(chunk)
            except Exception:  # whatever goes wrong in tracing, the client's call goes on
                logger.warning("proxy: could not read Dify's answer for tracing; the client is unaffected")
                tee = None
    if tee is not None:
        try:
            tee.close()
        except Exception:  # the client already has every byte; only the trace is lost
            logger.warning("proxy: could not read the end of Dify's answer for tracing")


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """One catch-all route under `{prefix}/{instance}/v1/`. Unknown instance: 404; Dify unreachable: 502."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=cfg.connect_timeout), follow_redirects=False)
    writer = _Writer()
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
          502: {description: the instance cannot be reached}
        """
        instance = ctx.store.instance_by_name(request.path_params["instance"])
        if instance is None:
            raise ApiError(404, "unknown_instance", f"no instance named {request.path_params['instance']!r}")
        path = request.path_params["path"]
        if any(segment in (".", "..") for segment in path.replace("\\", "/").split("/")):
            # `/v1/../console/api/...` would reach past the service API, on the instance or behind it.
            raise ApiError(400, "invalid_path", "dot segments are not forwarded")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        query = f"?{request.url.query}" if request.url.query else ""
        # Encoded again: a decoded `?`, `#` or `%` must stay part of the path, not start a query or fragment.
        url = f"{instance.base_url}/v1/{quote(path, safe=_PATH_SAFE)}{query}"
        outgoing = client.build_request(request.method, url, headers=headers, content=request.stream())
        started = time.time()
        try:
            upstream = await client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            raise ApiError(502, "upstream_unreachable", f"instance {instance.name!r}: {type(exc).__name__}") from None
        tee = None
        if request.method == "POST" and path.strip("/") in _TEED_PATHS and upstream.status_code < 400:
            streaming = upstream.headers.get("content-type", "").startswith("text/event-stream")
            if "content-encoding" not in upstream.headers:
                tee = _Tee(ctx.service(request), writer, ctx.receiver_id, streaming, cfg.max_tee_bytes, started)
        response_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        return StreamingResponse(
            _relay(upstream, tee),
            status_code=upstream.status_code,
            headers=response_headers,
            background=BackgroundTask(upstream.aclose),
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [Route(f"{cfg.prefix}/{{instance}}/v1/{{path:path}}", forward, methods=methods)]

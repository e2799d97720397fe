"""The live view: `GET /api/v1/dify/stream`, an SSE feed of runs as the bridge sees them.

Events: `run.started`, `node.finished`, `run.finished` (and `detection` once detectors land). Publishing
never waits: each subscriber has a bounded queue, and one that falls behind is dropped, not waited for.
Subscribers are capped (`server.live_max_subscribers`): each holds a socket and a queue of up to `QUEUE_SIZE`
events, and every published event is copied to each; past the cap a request gets 503 with Retry-After.
Every text of an event (a node's title and error, an app's name) is masked as the default `redact`
processor masks exported spans, and, as there, a value masked in one event of a run is masked in the run's
later events too (bridge/processors/run_values.py); events already sent are not taken back.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bridge.http.errors import ApiError
from bridge.http.query import query_param, require_known
from bridge.http.security_headers import client_address
from bridge.processors import redact
from bridge.processors.run_values import RunValues

if TYPE_CHECKING:  # cryptography, which `replay` (the service imports this module) does not need
    from bridge.management.auth import Authenticator

QUEUE_SIZE = 1000
_CLOSED = None  # put on a dropped subscriber's queue to end its stream
_REDACT = redact.create(redact.Config())
# Runs whose values masked are remembered for their later events, the oldest forgotten past this many (only runs
# that masked something are kept; a run is forgotten at its `run.finished`).
RUNS_REMEMBERED = 10_000


@dataclass(eq=False)
class _Subscriber:
    app_id: str | None
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: bool = False


class LiveFeed:
    """Thread-safe fan-out to SSE subscribers; `publish` may be called from any thread."""

    def __init__(self, heartbeat_s: float = 15.0, max_subscribers: int = 32) -> None:
        self.heartbeat_s, self.max_subscribers = heartbeat_s, max_subscribers
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self.dropped = 0
        self._run_masks: dict[str, dict[str, str]] = {}  # run id → value masked in its events → mask
        self.refused = 0  # subscriptions refused at the cap

    def __len__(self) -> int:
        return len(self._subscribers)

    @property
    def watched(self) -> bool:
        """Whether anyone subscribes now (a read of a moment: publishing still checks)."""
        return bool(self._subscribers)

    def publish(self, kind: str, payload: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            return
        app_id = payload.get("app_id")  # as sent: what subscribers filter on
        payload = self._redacted(kind, payload)
        for subscriber in subscribers:
            if subscriber.app_id is None or subscriber.app_id == app_id:
                try:
                    subscriber.loop.call_soon_threadsafe(self._offer, subscriber, (kind, payload))
                except RuntimeError:  # its event loop closed between the snapshot and now: nobody to tell
                    continue

    def _redacted(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload` with its texts masked, and the values its run's events masked so far wherever they recur."""
        run_id = payload.get("run_id")
        run_id = run_id if isinstance(run_id, str) else None
        with self._lock:
            masks = self._run_masks.pop(run_id, {}) if run_id is not None else {}
        out = {
            key: _REDACT.redact_text(value, masks) if isinstance(value, str) else value
            for key, value in payload.items()
        }
        again = RunValues(masks, frozenset(), frozenset())
        if not again:
            return out
        if run_id is not None and kind != "run.finished":
            with self._lock:  # back in, as the newest
                self._run_masks[run_id] = masks
                while len(self._run_masks) > RUNS_REMEMBERED:
                    del self._run_masks[next(iter(self._run_masks))]
        return {key: again.text(v) if isinstance(v, str) else v for key, v in out.items()}

    def _offer(self, subscriber: _Subscriber, item: tuple[str, dict[str, Any]]) -> None:
        if subscriber.dropped:
            return
        try:
            subscriber.queue.put_nowait(item)
        except asyncio.QueueFull:
            # A consumer this far behind would slow everyone: end its stream instead.
            subscriber.dropped = True
            self.dropped += 1
            subscriber.queue.get_nowait()
            subscriber.queue.put_nowait(_CLOSED)

    def join(self, app_id: str | None) -> _Subscriber:
        """A new subscriber, counted at once (it leaves with `leave`); ApiError 503 when the feed is full."""
        with self._lock:
            if len(self._subscribers) >= self.max_subscribers:
                self.refused += 1
                detail = f"the live feed has its {self.max_subscribers} subscribers (server.live_max_subscribers)"
                raise ApiError(503, "too_many_subscribers", detail, {"Retry-After": "30"})
            subscriber = _Subscriber(app_id, asyncio.get_running_loop())
            self._subscribers.add(subscriber)
        return subscriber

    def leave(self, subscriber: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    async def events(self, subscriber: _Subscriber) -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(subscriber.queue.get(), self.heartbeat_s)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if item is _CLOSED:
                    yield b'event: dropped\ndata: {"reason": "too slow"}\n\n'
                    return
                kind, payload = item
                data = json.dumps(payload, separators=(",", ":"), default=str)
                yield f"event: {kind}\ndata: {data}\n\n".encode()
        finally:
            self.leave(subscriber)


class _LiveResponse(StreamingResponse):
    """A subscriber's stream, which leaves the feed however the response ends: a generator cancelled before its
    first step (a client gone at once) never runs its `finally`."""

    def __init__(self, feed: LiveFeed, subscriber: _Subscriber) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(feed.events(subscriber), media_type="text/event-stream", headers=headers)
        self.feed, self.subscriber = feed, subscriber

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.feed.leave(self.subscriber)


def live_routes(feed: LiveFeed, auth: Authenticator, meter: Meter) -> list[Route]:
    def subscribers(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(len(feed))

    def refused(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(feed.refused)

    meter.create_observable_gauge("dify_bridge.live.subscribers", [subscribers], "{subscriber}",
                                  "Subscribers of the live feed")  # fmt: skip
    meter.create_observable_counter("dify_bridge.live.refusals", [refused], "{request}",
                                    "Live feed subscriptions refused at server.live_max_subscribers")  # fmt: skip

    async def stream(request: Request) -> StreamingResponse:
        """
        summary: Live SSE feed of run.started, node.finished, run.finished and detection events
        tags: [live]
        security: [{bearer: []}]
        parameters:
          - {name: app_id, in: query, required: false, schema: {type: string}}
          - {name: token, in: query, required: false, description: for EventSource, which cannot send headers,
             schema: {type: string}}
        responses:
          200: {description: text/event-stream}
          400: {description: "a query parameter given twice, with different values, or one not listed here"}
          401: {description: missing or invalid token}
          503: {description: "the feed has server.live_max_subscribers subscribers (Retry-After)"}
        """
        require_known(request, ("app_id", "token"))
        token = query_param(request, "token")
        if token:
            auth.verify(token, client_address(request))
        else:
            auth.require_bearer(request)
        app_id = query_param(request, "app_id")
        if app_id == "":
            raise ApiError(422, "invalid_query", "app_id: must not be empty")
        return _LiveResponse(feed, feed.join(app_id))

    return [Route("/api/v1/dify/stream", stream, methods=["GET"])]

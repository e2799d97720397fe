"""The Starlette app: receivers, management API, health, OpenAPI. Its lifespan owns the service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from bridge import GC_YOUNG_THRESHOLD, SWITCH_INTERVAL_S, __version__
from bridge.config.models import BridgeConfig
from bridge.exporters.metrics import metric_reader
from bridge.http.errors import EXCEPTION_HANDLERS
from bridge.http.live import LiveFeed, live_routes
from bridge.http.queue_answers import QUEUE_HANDLERS
from bridge.http.security_headers import middleware
from bridge.management.api import management_routes
from bridge.management.auth import Authenticator
from bridge.management.baselines import FLUSH_INTERVAL_S, WriteBehindBaselines
from bridge.management.nonces import SpentNonces
from bridge.management.outbound import OutboundPolicy
from bridge.management.store import Store, load_fernet
from bridge.queue.errors import QueueError
from bridge.queue.storage import QueueStorage
from bridge.receivers import ReceiverContext, RunIntake
from bridge.service.service import BridgeService
from bridge.telemetry.metrics import Telemetry

logger = logging.getLogger(__name__)
# Runs are closed when due (`_poll`), traces over OTLP at the next poll: polls come this far apart at most,
POLL_INTERVAL_S = 0.5
# and this far apart at least.
POLL_GAP_S = 0.02
# The first poll comes this long after the start (a trace resumed from the journal counts its decision wait
# from the start: `bridge/service/resume.py`).
FIRST_POLL_S = 0.5
# The log grows by ~20 KB a run under load: a second's worth is what a checkpoint copies.
CHECKPOINT_INTERVAL_S = 1.0
_SCHEMAS = SchemaGenerator(
    {
        "openapi": "3.0.0",
        "info": {"title": "dify-otel-bridge", "version": __version__},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
)


async def _healthz(request: Request) -> JSONResponse:
    """
    summary: Liveness
    tags: [health]
    responses: {200: {description: "{status: ok}"}}
    """
    return JSONResponse({"status": "ok"})


async def _readyz(request: Request) -> JSONResponse:
    """
    summary: Readiness (runs are being taken)
    tags: [health]
    responses:
      200: {description: "ready; failing exporters are listed (their data waits in the queue)"}
      503: {description: "starting, stopping, or the queue is full"}
    """
    service: BridgeService | None = getattr(request.app.state, "service", None)
    if service is None:
        return JSONResponse({"status": "stopping" if request.app.state.stopping else "starting"}, status_code=503)
    failing = sorted(cid for cid, delivery in service.deliveries.items() if delivery.last_ok is False)
    queue = service.config.service.queue
    body = {
        "pipelines": [p.name for p in service.pipelines],
        "failing_exporters": failing,
        "queued_bytes": service.storage.queued_bytes,
        "max_bytes": queue.max_bytes,
    }
    # A failing backend alone does not make the bridge unready: the queue keeps taking runs for it.
    if service.storage.queued_bytes >= queue.max_bytes:
        return JSONResponse({"status": "queue_full", **body}, status_code=503)
    return JSONResponse({"status": "ready", **body})


async def _poll(
    service: BridgeService, baselines: WriteBehindBaselines, nonces: SpentNonces, due: asyncio.Event
) -> None:
    """Hands finished and idle runs to the pipelines as soon as they are due (`due` is set when one received
    may be due before the planned look), and every `POLL_INTERVAL_S` at least; every second checkpoints the
    queue file and writes the spent nonces, every few seconds writes the detectors' baselines. All off the
    event loop."""
    next_checkpoint = next_flush = time.monotonic()
    earliest = latest = next_traces = time.time() + FIRST_POLL_S
    while True:
        due.clear()
        at = service.plan_poll(earliest, latest)
        if (wait := at - time.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(due.wait(), wait)
            continue  # woken for a run due sooner, or the time came: planned again
        last = time.time()
        # Polls start `POLL_GAP_S` apart at least: under load each one takes every run closed since the last
        # (sent to be built together, committed together), not one poll and one commit a run.
        earliest, latest = last + POLL_GAP_S, last + POLL_INTERVAL_S
        # Traces over OTLP are looked at every `POLL_INTERVAL_S` only, however often runs are: a run's spans a
        # look takes together are rebuilt together. Spans coming later (a workflow used as a tool, exported after
        # its caller) do not depend on it: the assembler holds a trace for a nested run half in, and a nested
        # run coming after its caller's trace closed is rebuilt on its own.
        looks_at_traces = last >= next_traces
        if looks_at_traces:
            next_traces = last + POLL_INTERVAL_S
        try:
            await service.poll_async(last, looks_at_traces)
            if time.monotonic() >= next_checkpoint:
                next_checkpoint = time.monotonic() + CHECKPOINT_INTERVAL_S
                try:
                    await asyncio.to_thread(service.storage.checkpoint)
                except QueueError as error:  # disk full: one line, and the nonces (another file) are still saved
                    logger.error("%s", error)
                await asyncio.to_thread(nonces.flush, time.time())
            if time.monotonic() >= next_flush:
                next_flush = time.monotonic() + FLUSH_INTERVAL_S
                await asyncio.to_thread(baselines.flush)
        except Exception:  # a bad run must not stop the loop that serves every other run
            logger.exception("closing finished runs failed")


def _receiver_routes(
    config: BridgeConfig,
    store: Store,
    nonces: SpentNonces,
    auth: Authenticator,
    outbound: OutboundPolicy,
    hooks: list[Callable[[], Awaitable[None]]],
    background: list[Callable[[RunIntake], Coroutine[Any, Any, None]]],
    startup: list[Callable[[RunIntake], Awaitable[None]]],
) -> dict[str, list[Route]]:
    """Each receiver's routes, by receiver id."""
    routes: dict[str, list[Route]] = {}
    for receiver_id, (factory, cfg) in config.receivers.items():
        ctx = ReceiverContext(
            receiver_id, store, nonces, auth, config.server.timestamp_tolerance, outbound,
            legacy_signatures=config.server.legacy_signatures,
            shutdown_hooks=hooks, startup_hooks=startup, background=background,
        )  # fmt: skip
        routes[receiver_id] = factory.create(cfg, ctx)
    return routes


def create_app(config: BridgeConfig) -> Starlette:
    """App factory. Opens the store and the queue file now (a bad one fails here, at start); the service
    starts with the lifespan and is flushed at shutdown (open runs stay journaled for the next start)."""
    # The HTTP client of the proxy and the poller logs every URL it calls at INFO, queries and all, and its
    # transport a dozen lines a request at DEBUG (`serve --log-level DEBUG` to see the poller's line per poll).
    for client in ("httpx2", "httpcore2"):
        logging.getLogger(client).setLevel(logging.WARNING)
    store = Store(config.server.store, load_fernet(config.server), exclusive=True)
    try:
        store.merge_declared(config.server)
        nonces = SpentNonces(store, time.time())
        queue_cfg = config.service.queue
        queue = QueueStorage(queue_cfg.path, queue_cfg.fsync, queue_cfg.run_id_retention, exclusive=True)
    except BaseException:
        store.close()
        raise
    auth = Authenticator(config.server)
    outbound = OutboundPolicy(config.server.outbound)
    hooks: list[Callable[[], Awaitable[None]]] = []
    background: list[Callable[[RunIntake], Coroutine[Any, Any, None]]] = []
    startup: list[Callable[[RunIntake], Awaitable[None]]] = []
    feed = LiveFeed(config.server.live_heartbeat, config.server.live_max_subscribers)
    metrics = config.service.metrics
    readers = [metric_reader(config.exporters[cid][1], metrics.interval) for cid in metrics.exporters]
    telemetry = Telemetry(readers, metrics.max_series, metrics.idle_timeout, config.service.resource)

    async def openapi(request: Request) -> JSONResponse:
        """
        summary: This API's OpenAPI schema
        tags: [health]
        security: [{bearer: []}]
        responses: {200: {description: the schema}}
        """
        auth.require_bearer(request)
        return JSONResponse(_SCHEMAS.get_schema(routes=request.app.routes))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        baselines = WriteBehindBaselines(store)
        loop = asyncio.get_running_loop()  # the pipeline workers' pipes are read and written on it
        service = BridgeService(config, telemetry.meter, queue, telemetry.aggregates, baselines, loop)
        service.app_names = lambda app_id: registered.app_name if (registered := store.app(app_id)) else None
        service.live.feed = feed
        try:
            for start in startup:
                await start(service)
        except BaseException:
            for hook in hooks:
                await hook()
            await asyncio.to_thread(service.shutdown, 0)
            raise
        app.state.service = service
        due = asyncio.Event()

        def wake() -> None:  # from any thread
            loop.call_soon_threadsafe(due.set)

        service.on_due = wake
        tasks = [asyncio.create_task(_poll(service, baselines, nonces, due))]
        tasks += [asyncio.create_task(job(service)) for job in background]
        # What start-up made (modules, config, the service) lives as long as the server: out of the cyclic
        # collector's sight, full collections under load stop rescanning it (they set the tail of ack latency).
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            yield
        finally:
            sys.setswitchinterval(switch_interval)
            gc.set_threshold(*thresholds)
            gc.unfreeze()  # a process that starts servers again (tests) gets its collector back
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            app.state.service = None
            app.state.stopping = True  # until the process ends: a balancer takes no more runs here
            await service.closing_done()
            for hook in hooks:
                await hook()
            await asyncio.to_thread(service.shutdown)
            baselines.flush()
            nonces.flush(time.time())
            store.close()
            telemetry.shutdown()

    receiver_routes = _receiver_routes(config, store, nonces, auth, outbound, hooks, background, startup)
    routes: list[Route] = [
        Route("/healthz", _healthz),
        Route("/readyz", _readyz),
        *telemetry.routes(),
        Route("/openapi.json", openapi, include_in_schema=True),
        *management_routes(store, auth, outbound),
        *live_routes(feed, auth, telemetry.meter),
        *(route for each in receiver_routes.values() for route in each),
    ]
    # Fixed paths before parametrized ones, so a catch-all (the proxy's `/{instance}/v1/...`) never
    # shadows `/api/v1/...`, whatever the order of the config file.
    routes.sort(key=lambda route: "{" in route.path)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={**EXCEPTION_HANDLERS, **QUEUE_HANDLERS},
        middleware=middleware(config.server),
    )
    # `/healthz/` was a 307 to `http://<the request's Host header>/healthz`: a redirect anyone could point at any
    # host, with no JSON body, where every other unknown path is a JSON 404.
    app.router.redirect_slashes = False
    app.state.body_timeout = config.server.body_timeout
    app.state.stopping = False
    app.state.receiver_routes = receiver_routes  # what `serve` says at start
    return app

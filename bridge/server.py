"""The Starlette app: health endpoints now, receivers as they land. Its lifespan owns the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.config import BridgeConfig
from bridge.service import BridgeService

logger = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.5


async def _healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _readyz(request: Request) -> JSONResponse:
    service: BridgeService | None = getattr(request.app.state, "service", None)
    if service is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ready", "pipelines": [p.name for p in service.pipelines]})


async def _poll(service: BridgeService) -> None:
    """Hands finished and idle runs to the pipelines; span building runs off the event loop."""
    while True:
        await asyncio.sleep(POLL_INTERVAL_S)
        try:
            await asyncio.to_thread(service.poll, time.time())
        except Exception:  # a bad run must not stop the loop that serves every other run
            logger.exception("closing finished runs failed")


def create_app(config: BridgeConfig) -> Starlette:
    """App factory: the service starts with the app's lifespan and is drained and flushed at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service = BridgeService(config)
        app.state.service = service
        poller = asyncio.create_task(_poll(service))
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            app.state.service = None
            await asyncio.to_thread(service.shutdown)

    return Starlette(
        routes=[Route("/healthz", _healthz), Route("/readyz", _readyz)],
        lifespan=lifespan,
    )

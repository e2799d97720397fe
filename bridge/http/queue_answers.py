"""The queue's refusals as HTTP answers: a limit reached (`Backpressure`, 429/503) and a queue that cannot be
written (`QueueError`, 503), both with Retry-After and in the JSON shape of `bridge.http.errors`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge.queue.admission import Backpressure
from bridge.queue.errors import QueueError


async def _backpressure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Backpressure)
    headers = {"Retry-After": str(max(round(exc.retry_after), 1))}
    return JSONResponse({"error": exc.error, "detail": exc.detail}, exc.status, headers=headers)


async def _queue_error(request: Request, exc: Exception) -> Response:
    # The queue file could not be written (disk full, file removed): nothing was taken, so a retry is safe.
    detail = f"the queue cannot be written, nothing was accepted: {exc}"
    return JSONResponse({"error": "queue_unavailable", "detail": detail}, 503, headers={"Retry-After": "5"})


QUEUE_HANDLERS = {Backpressure: _backpressure, QueueError: _queue_error}

"""`poller`: workflow-level traces of runs nothing else delivered, from Dify's `GET /v1/workflows/logs`.

Runs started from Dify's web UI, chat widgets or schedules reach neither the proxy nor a webhook. For
every registered instance with a Dify API key, the poller pages through the run log newer than its cursor
(persisted per instance) and exports a root span for each finished run no other receiver has delivered.
A run's full stream arriving later makes a richer trace with the same trace id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx2 as httpx
from msgspec.structs import replace
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import Route

from bridge.durations import Duration
from bridge.formats import InputError, decode_json
from bridge.management.outbound import OutboundRefused, checked_transport
from bridge.normalize import normalize_logs
from bridge.queue.admission import Backpressure
from bridge.queue.storage import QueueError
from bridge.receivers import ReceiverContext

if TYPE_CHECKING:  # the service imports the registry, which imports the receivers
    from bridge.management.store import Instance
    from bridge.service import BridgeService

TYPE = "poller"
logger = logging.getLogger(__name__)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Time between two polls of every instance.
    interval: Duration = 30.0
    # How far back the first poll of an instance looks.
    lookback: Duration = 3600.0
    # Runs younger than this are left for the next poll, so a stream still delivering them wins.
    settle: Duration = 10.0
    # Log entries per page (Dify allows at most 100).
    page_limit: int = Field(default=100, ge=1, le=100)
    # Deadline of one request to Dify.
    timeout: Duration = 10.0


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _failure(exc: Exception) -> str:
    """What went wrong, with the request's method and URL (never its headers: they carry the Dify API key)."""
    if isinstance(exc, httpx.HTTPStatusError):
        request, response = exc.request, exc.response
        return f"{request.method} {request.url} answered {response.status_code} {response.reason_phrase}"
    if isinstance(exc, httpx.RequestError):
        return f"{exc.request.method} {exc.request.url}: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


class Poller:
    """Polls every instance in turn; one instance failing (down, bad key) does not stop the others."""

    def __init__(self, cfg: Config, ctx: ReceiverContext, client: httpx.AsyncClient) -> None:
        self.cfg, self.ctx, self.client = cfg, ctx, client

    async def run_forever(self, service: BridgeService) -> None:
        while True:
            await self.poll_all(service, time.time())
            await asyncio.sleep(self.cfg.interval)

    async def poll_all(self, service: BridgeService, now: float) -> int:
        exported = 0
        for instance in self.ctx.store.list_instances():
            if instance.has_api_key:
                try:
                    exported += await self.poll_instance(service, instance, now)
                except (httpx.HTTPError, InputError, ValueError) as exc:
                    logger.warning("poller: instance %s: %s", instance.name, _failure(exc))
                except OutboundRefused as exc:
                    logger.warning("poller: instance %s: not polled: %s", instance.name, exc)
                except (Backpressure, QueueError) as exc:  # the cursor stays: the next poll takes these runs
                    logger.warning("poller: instance %s: paused: %s", instance.name, exc)
        return exported

    async def poll_instance(self, service: BridgeService, instance: Instance, now: float) -> int:
        """Exports the instance's new finished runs; returns how many. Advances the persisted cursor."""
        service.admit_run(self.ctx.receiver_id)
        store = self.ctx.store
        cursor = store.poll_cursor(instance.id) or now - self.cfg.lookback
        headers = {"Authorization": f"Bearer {store.instance_api_key(instance.id)}"}
        newest, oldest_unsettled, exported, page = cursor, None, 0, 1
        while True:
            params: dict[str, str | int] = {
                "page": page,
                "limit": self.cfg.page_limit,
                "created_at__after": _iso(cursor),
            }
            url = self.ctx.outbound.join(instance.base_url, "/v1/workflows/logs")
            response = await self.client.get(url, params=params, headers=headers)
            response.raise_for_status()
            body = decode_json(response.content)
            for run in normalize_logs(body, f"{instance.name} logs"):
                created = run.created_at or now
                if run.status == "running" or created > now - self.cfg.settle:
                    oldest_unsettled = min(created, oldest_unsettled or created)
                    continue
                newest = max(newest, created)
                if service.storage.run_seen(run.run_id) or service.is_open(run.run_id):
                    continue
                await asyncio.to_thread(service.submit_new_run, replace(run, receiver=self.ctx.receiver_id))
                exported += 1
            if not body.get("has_more"):
                break
            page += 1
        # Never move past a run that may still finish: the next poll starts at or before it.
        store.set_poll_cursor(instance.id, min(newest, oldest_unsettled - 1) if oldest_unsettled else newest)
        return exported


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """No routes: a background task for the server's lifetime."""
    transport = checked_transport(ctx.outbound, httpx.Limits())
    client = httpx.AsyncClient(transport=transport, timeout=cfg.timeout, follow_redirects=False)
    ctx.shutdown_hooks.append(client.aclose)
    ctx.background.append(Poller(cfg, ctx, client).run_forever)
    return []

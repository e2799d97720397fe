"""`poller`: workflow-level traces of runs nothing else delivered, from Dify's `GET /v1/workflows/logs`.

Runs started from Dify's web UI, chat widgets or schedules reach neither the proxy nor a webhook. With
every Dify app API key the bridge holds (an instance's, or an app registration's own), the poller pages
through that app's run log newer than the key's cursor (persisted per key) and exports a root span for each
finished run no other receiver has delivered, named and tagged with the app (`GET /v1/info`, the
registration) and the instance. A run's full stream arriving later makes a richer trace with the same
trace id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace
from starlette.routing import Route

from bridge.dify.formats import InputError, decode_json
from bridge.dify.model import RUN_STATUS_INCOMPLETE
from bridge.dify.run_results import normalize_logs
from bridge.management.outbound import OutboundRefused
from bridge.management.settings import POLLED_APP_TYPES, unpolled_warning
from bridge.queue.admission import Backpressure
from bridge.queue.errors import QueueError
from bridge.receivers import ReceiverContext, RunIntake
from bridge.receivers.config.poller import Config as Config

if TYPE_CHECKING:  # the store imports cryptography; httpx is imported when the poller is created
    import httpx2 as httpx

    from bridge.management.store import App, Instance

TYPE = "poller"
logger = logging.getLogger(__name__)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _failure(exc: Exception) -> str:
    """What went wrong, with the request's method and URL (never its headers: they carry the Dify API key)."""
    import httpx2 as httpx  # see `create`

    if isinstance(exc, httpx.HTTPStatusError):
        request, response = exc.request, exc.response
        return f"{request.method} {request.url} answered {response.status_code} {response.reason_phrase}"
    if isinstance(exc, httpx.LocalProtocolError):  # its message repeats the header it could not send: the key
        return f"{exc.request.method} {exc.request.url}: a request header could not be sent (not shown)"
    if isinstance(exc, httpx.RequestError):
        return f"{exc.request.method} {exc.request.url}: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class _Key:
    """One Dify app API key: an instance's, or an app registration's own. Its cursor is kept under `owner`."""

    owner: str  # the id of the instance or app registration holding the key
    instance: Instance
    app: App | None

    def __str__(self) -> str:
        return f"instance {self.instance.name}" + (f" app {self.app.app_id}" if self.app else "")


@dataclass(frozen=True)
class _Identity:
    """The app a key belongs to, as far as the registration and Dify tell."""

    app_id: str | None
    app_name: str | None
    app_type: str | None


class Poller:
    """Polls with every key in turn; one key failing (Dify down, key revoked) does not stop the others."""

    def __init__(self, cfg: Config, ctx: ReceiverContext, client: httpx.AsyncClient) -> None:
        import httpx2 as httpx  # see `create`

        self.cfg, self.ctx, self.client = cfg, ctx, client
        # A poll that fails this way is said and tried again at the next poll: Dify unreachable or odd.
        self._failed: tuple[type[Exception], ...] = (httpx.HTTPError, InputError, ValueError)
        self._no_detail: tuple[type[Exception], ...] = (*self._failed, KeyError, AttributeError)  # or an odd one
        self._identities: dict[str, _Identity] = {}  # by key owner, once Dify answered `/v1/info`
        self._warned: set[str] = set()  # key owners whose app the poller cannot see, said once

    async def run_forever(self, service: RunIntake) -> None:
        while True:
            await self.poll_all(service, time.time())
            await asyncio.sleep(self.cfg.interval)

    def keys(self) -> list[_Key]:
        store = self.ctx.store
        instances = {instance.id: instance for instance in store.list_instances()}
        keys = [_Key(instance.id, instance, None) for instance in instances.values() if instance.has_api_key]
        keys += [
            _Key(app.id, instances[app.instance_id], app)
            for app in store.list_apps()
            if app.has_api_key and app.instance_id in instances
        ]
        return keys

    async def poll_all(self, service: RunIntake, now: float) -> int:
        exported = 0
        for key in self.keys():
            try:
                exported += await self.poll_key(service, key, now)
            except self._failed as exc:
                logger.warning("poller: %s: %s", key, _failure(exc))
            except OutboundRefused as exc:
                logger.warning("poller: %s: not polled: %s", key, exc)
            except (Backpressure, QueueError) as exc:  # the cursor stays: the next poll takes these runs
                logger.warning("poller: %s: paused: %s", key, exc)
        return exported

    def _api_key(self, key: _Key) -> str | None:
        store = self.ctx.store
        return store.app_api_key(key.owner) if key.app else store.instance_api_key(key.owner)

    async def _get(self, key: _Key, path: str, headers: dict[str, str], params: dict[str, Any] | None = None) -> Any:
        url = self.ctx.outbound.join(key.instance.base_url, path)
        response = await self.client.get(url, params=params, headers=headers)
        response.raise_for_status()
        return decode_json(response.content)

    async def _identity(self, key: _Key, headers: dict[str, str]) -> _Identity:
        """The registration's name wins over Dify's (`GET /v1/info`: name and mode, no app id)."""
        known = self._identities.get(key.owner)
        if known is not None:
            return known
        app = key.app
        registered = _Identity(None, None, None) if app is None else _Identity(app.app_id, app.app_name, app.app_type)
        try:
            info = await self._get(key, "/v1/info", headers)
        except self._failed as exc:  # polled all the same, asked again next time
            logger.warning("poller: %s: no app name from /v1/info: %s", key, _failure(exc))
            return registered
        name, mode = (info.get("name"), info.get("mode")) if isinstance(info, dict) else (None, None)
        identity = _Identity(
            registered.app_id,
            registered.app_name or (name if isinstance(name, str) else None),
            mode if isinstance(mode, str) else registered.app_type,
        )
        self._identities[key.owner] = identity
        return identity

    async def _app_id(self, key: _Key, headers: dict[str, str], run_id: str, identity: _Identity) -> _Identity:
        """An instance's key names no app: a run's inputs do (`sys.app_id` in `GET /v1/workflows/run/{id}`)."""
        try:
            detail = await self._get(key, f"/v1/workflows/run/{run_id}", headers)
            inputs = decode_json(detail["inputs"]) if isinstance(detail.get("inputs"), str) else detail.get("inputs")
            app_id = inputs.get("sys.app_id") if isinstance(inputs, dict) else None
        except self._no_detail as exc:
            logger.warning("poller: %s: no app id from run %s: %s", key, run_id, _failure(exc))
            return identity
        if not isinstance(app_id, str):
            return identity
        identity = _Identity(app_id, identity.app_name, identity.app_type)
        if key.owner in self._identities:
            self._identities[key.owner] = identity
        return identity

    async def poll_key(self, service: RunIntake, key: _Key, now: float) -> int:
        """Exports the key's app's new finished runs; returns how many. Advances the key's persisted cursor."""
        service.admit_run(self.ctx.receiver_id)
        store = self.ctx.store
        headers = {"Authorization": f"Bearer {self._api_key(key)}"}
        identity = await self._identity(key, headers)
        if identity.app_type is not None and identity.app_type not in POLLED_APP_TYPES:
            if key.owner not in self._warned:
                self._warned.add(key.owner)
                logger.warning("poller: %s: %s", key, unpolled_warning(identity.app_type))
            return 0
        cursor = store.poll_cursor(key.owner) or now - self.cfg.lookback
        newest, oldest_unsettled, exported, page = cursor, None, 0, 1
        app_id_asked = identity.app_id is not None  # asked once a poll at most, whatever Dify answers
        given_up_before = now - self.cfg.unfinished_timeout if self.cfg.unfinished_timeout else None
        while True:
            params = {"page": page, "limit": self.cfg.page_limit, "created_at__after": _iso(cursor)}
            body = await self._get(key, "/v1/workflows/logs", headers, params)
            for run in normalize_logs(body, f"{key} logs"):
                created = run.created_at or now
                if created > now - self.cfg.settle or (
                    run.status == "running" and (given_up_before is None or created > given_up_before)
                ):
                    oldest_unsettled = min(created, oldest_unsettled or created)
                    continue
                newest = max(newest, created)
                if service.run_known(run.run_id):
                    continue
                if not app_id_asked:
                    app_id_asked = True
                    identity = await self._app_id(key, headers, run.run_id, identity)
                status = RUN_STATUS_INCOMPLETE if run.status == "running" else run.status
                # Named as the stream and the webhook name it: after the app id's registration, if it has one.
                registration = store.app(identity.app_id) if identity.app_id else None
                name = registration.app_name if registration and registration.app_name else identity.app_name
                run = replace(
                    run, receiver=self.ctx.receiver_id, status=status, instance=key.instance.name,
                    app_id=identity.app_id, app_name=name, app_type=identity.app_type,
                )  # fmt: skip
                await asyncio.to_thread(service.submit_new_run, run)
                exported += 1
            if not body.get("has_more"):
                break
            page += 1
        # Never move past a run that may still finish: the next poll starts at or before it.
        store.set_poll_cursor(key.owner, min(newest, oldest_unsettled - 1) if oldest_unsettled else newest)
        logger.debug("poller: %s: %d pages read, %d runs exported", key, page, exported)
        return exported


def create(cfg: Config, ctx: ReceiverContext) -> list[Route]:
    """No routes: a background task for the server's lifetime."""
    # Imported here: a config that lists the poller but never serves (`replay`, `validate`) does not load httpx.
    import httpx2 as httpx

    from bridge.management.outbound_transport import checked_client

    client = checked_client(ctx.outbound, httpx.Limits(), cfg.timeout)
    ctx.shutdown_hooks.append(client.aclose)
    ctx.background.append(Poller(cfg, ctx, client).run_forever)
    return []

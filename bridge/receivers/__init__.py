"""Receivers: each turns one way of delivering Dify run data into routes on the bridge's HTTP server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the store imports cryptography, which `replay` (it reads the config) never needs
    from opentelemetry.sdk.trace import ReadableSpan
    from starlette.requests import Request

    from bridge.dify.model import DifyEvent, WorkflowRun
    from bridge.management.auth import Authenticator
    from bridge.management.nonces import SpentNonces
    from bridge.management.outbound import OutboundPolicy
    from bridge.management.store import Store


class StartupError(Exception):
    """A receiver cannot start (a listener of its own cannot bind); `serve` prints the message, no traceback."""


class RunIntake(Protocol):
    """What receivers hand their data to: the running service (bridge/service/service.py), as they see it.
    `admit_*` raise `Backpressure` when a limit is reached; `submit_*` return once the data is journaled."""

    def admit_run(self, receiver: str) -> None: ...
    def admit_events(self, events: Sequence[DifyEvent], receiver: str) -> None: ...
    def admit_spans(self, trace_ids: Iterable[int], receiver: str) -> None: ...
    def signed_elsewhere(self, events: Sequence[DifyEvent]) -> str | None: ...
    def run_known(self, run_id: str) -> bool: ...
    def submit_events(self, events: Sequence[DifyEvent], now: float, context: str | None, receiver: str) -> None: ...
    async def submit_events_async(
        self, events: Sequence[DifyEvent], now: float, context: str | None, receiver: str
    ) -> None: ...
    def submit_spans(
        self, spans: Sequence[ReadableSpan], now: float, receiver: str, received: bytes | None = None
    ) -> None: ...
    async def submit_spans_async(
        self, spans: Sequence[ReadableSpan], now: float, receiver: str, received: bytes | None = None
    ) -> None: ...
    def submit_new_run(self, run: WorkflowRun) -> int | None: ...
    async def submit_new_run_async(self, run: WorkflowRun) -> int | None: ...


@dataclass(frozen=True)
class ReceiverContext:
    """What every receiver gets: the store (apps, secrets), spent nonces, API-key checks, signature settings."""

    receiver_id: str  # the component id (`webhook`, `webhook/n8n`): runs carry it to their pipelines
    store: Store
    nonces: SpentNonces
    auth: Authenticator
    timestamp_tolerance: float
    outbound: OutboundPolicy  # where instance base URLs may lead (the proxy's and the poller's connections)
    # Also take Pisama's signatures (nonce not signed), each once: `server.legacy_signatures`.
    legacy_signatures: bool = False
    # Awaited when the server stops (receivers holding clients or tasks register their cleanup here).
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Awaited with the started service before the server takes requests; one raising stops the start
    # (a listener of the receiver's own that cannot bind).
    startup_hooks: list[Callable[[RunIntake], Awaitable[None]]] = field(default_factory=list)
    # Run for the server's lifetime with the started service, cancelled at shutdown (the poller).
    background: list[Callable[[RunIntake], Coroutine[Any, Any, None]]] = field(default_factory=list)

    @staticmethod
    def service(request: Request) -> RunIntake:
        service: RunIntake | None = getattr(request.app.state, "service", None)
        if service is None:
            # Imported here: the package is imported with the receivers' settings (bridge/receivers/config/),
            # which `replay` reads without Starlette, whose exception `ApiError` is.
            from bridge.http.errors import ApiError

            raise ApiError(503, "not_ready", "the pipeline is starting or stopping", {"Retry-After": "1"})
        return service

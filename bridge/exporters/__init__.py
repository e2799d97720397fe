"""Exporters: each sends queued OTLP requests (serialized `ExportTraceServiceRequest`s) to one place.

They are not the SDK's `SpanExporter`s on purpose: the durable queue holds encoded requests, so a retry
re-sends the very bytes that were acknowledged, and a sender must tell a retryable failure from a final
one (the SDK's OTLP exporters retry inside and answer only SUCCESS or FAILURE, which leaves no way to
honour a long Retry-After or to dead-letter a request the backend will never take).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bridge.queue.retry import RetryConfig


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    retryable: bool = False
    reason: str = ""
    retry_after: float | None = None  # seconds the backend asked to wait (RetryInfo, Retry-After)
    rejected_spans: int = 0  # accepted with `partial_success`: this many spans were refused


DELIVERED = SendResult(ok=True)

# Longest deadline a sender grows to, in multiples of its `timeout`.
DEADLINE_GROWTH_MAX = 8


class Deadline:
    """A sender's per-request deadline. A request that timed out may still have reached a slow backend: sent again
    under the same deadline it reached it again at every retry while nothing after it went (harden13). So each
    timeout doubles the next deadline, up to `DEADLINE_GROWTH_MAX` times the configured one; any answer resets it."""

    def __init__(self, configured: float) -> None:
        self.configured = self.seconds = configured

    def timed_out(self) -> None:
        self.seconds = min(self.seconds * 2, self.configured * DEADLINE_GROWTH_MAX)

    def answered(self) -> None:
        self.seconds = self.configured


class Sender(Protocol):
    # Largest request the backend takes (bytes); None: no limit. The queue cuts batches below it.
    max_request_bytes: int | None
    retry: RetryConfig

    def send(self, payload: bytes) -> SendResult:
        """Sends one serialized `ExportTraceServiceRequest`; never raises for a failed delivery."""
        ...

    def close(self) -> None: ...

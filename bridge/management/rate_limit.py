"""Per-API-key rate limits: a token bucket per key, refilled continuously."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

_MAX_BUCKETS = 10_000


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Requests per second each bridge API key may make on average. 0: no limit.
    requests_per_second: float = Field(default=1000.0, ge=0)
    # Requests a key may make at once after a quiet spell.
    burst: int = Field(default=2000, gt=0)
    # Failed API keys and invalid tokens each client address may send per minute on average; beyond them
    # every attempt from it gets 429, right keys too, so keys cannot be guessed faster. 0: no limit.
    failed_attempts_per_minute: float = Field(default=30.0, ge=0)
    # Failed attempts an address may make at once before that limit applies.
    failed_attempts_burst: int = Field(default=30, gt=0)


class RateLimiter:
    """Thread-safe. `take(key)` is None when the request may go ahead, else the seconds to wait."""

    def __init__(self, cfg: RateLimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = cfg.requests_per_second, float(cfg.burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        return self._count(key, take=True)

    def waiting(self, key: str) -> float | None:
        """As `take`, without using up a request."""
        return self._count(key, take=False)

    def _count(self, key: str, take: bool) -> float | None:
        if not self.rate:
            return None
        now = self._clock()
        with self._lock:
            if key not in self._buckets and len(self._buckets) >= _MAX_BUCKETS:
                # Keyed by client address too: forget the buckets that are full again (they hold nothing).
                self._buckets = {
                    k: (t, at) for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate < self.burst
                }
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                if take:
                    self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """A Retry-After value: whole seconds, at least one."""
    return str(max(math.ceil(seconds), 1))

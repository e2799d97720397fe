"""Per-API-key rate limits: a token bucket per key, refilled continuously."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Requests per second each bridge API key may make on average. 0: no limit.
    requests_per_second: float = Field(default=1000.0, ge=0)
    # Requests a key may make at once after a quiet spell.
    burst: int = Field(default=2000, gt=0)


class RateLimiter:
    """Thread-safe. `take(key)` is None when the request may go ahead, else the seconds to wait."""

    def __init__(self, cfg: RateLimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = cfg.requests_per_second, float(cfg.burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        if not self.rate:
            return None
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """A Retry-After value: whole seconds, at least one."""
    return str(max(math.ceil(seconds), 1))

"""`retry_on_failure`: the Collector's exporter retry settings and its exponential backoff with jitter."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration


class RetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # false: a failed request goes to the dead letters at once.
    enabled: bool = True
    # Wait after the first failure; each later wait is `multiplier` times longer, up to `max_interval`.
    initial_interval: Duration = 5.0
    max_interval: Duration = 30.0
    multiplier: float = Field(default=1.5, ge=1.0)
    # Each wait is drawn from ±this fraction around it, so many bridges do not retry in step.
    randomization_factor: float = Field(default=0.5, ge=0.0, le=1.0)
    # Give up (dead letters) after retrying this long. 0: never; the queue on disk holds the data meanwhile.
    max_elapsed_time: Duration = 0.0


def backoff(cfg: RetryConfig, attempt: int, server_delay: float | None, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...). A delay the backend asked for
    (gRPC RetryInfo, HTTP Retry-After) wins over the computed one, as the OTLP specification asks."""
    if server_delay is not None:
        return max(server_delay, 0.0)
    interval = min(cfg.initial_interval * cfg.multiplier ** (attempt - 1), cfg.max_interval)
    spread = interval * cfg.randomization_factor
    return rng.uniform(interval - spread, interval + spread)

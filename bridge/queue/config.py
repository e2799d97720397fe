"""The durable queue's settings (`service.queue`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration


class QueueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The durable queue (SQLite, WAL): accepted runs wait here until every exporter delivered them.
    # ":memory:" keeps nothing across restarts (tests, replay).
    path: str = "dify-otel-bridge-queue.db"
    # fsync every commit: also survives power loss and OS crashes, at a disk flush per accepted run.
    # false (as the Collector's file_storage) survives a killed bridge.
    fsync: bool = False
    # Receivers answer 503 with Retry-After while more than this many bytes of spans wait for delivery.
    max_bytes: int = Field(default=1 << 30, gt=0)
    # Stream runs assembled at once; events that would open one more are answered 429 with Retry-After.
    max_runs_in_flight: int = Field(default=10_000, gt=0)
    # The Retry-After of those answers.
    retry_after: Duration = 5.0
    # At shutdown, wait this long for the exporters to deliver what is queued; the rest stays queued.
    shutdown_timeout: Duration = 5.0
    # How long a queued run's id is remembered, so that a later copy of the run (Dify's export after its stream,
    # a resent webhook, the poller) is dropped unless it holds more. Older ids are forgotten, oldest first, so
    # the file does not grow by every run ever queued; a copy arriving after that is queued again.
    run_id_retention: Duration = Field(default=86_400.0, gt=0)

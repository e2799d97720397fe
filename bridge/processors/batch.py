"""`batch`: how each exporter groups queued traces into requests, with the Collector's knob names.

The spans pass through unchanged; the durable queue holds them and each exporter's delivery batches them.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration
from bridge.queue.delivery import BatchSettings

TYPE = "batch"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Longest a trace waits for its request to fill before it is sent. 0: send as soon as possible.
    timeout: Duration = 5.0
    # Spans per request (a request also stays under the exporter's `max_request_bytes`). A request is sent
    # as soon as it is full: at this many spans, or when the next queued trace would not fit.
    send_batch_size: int = Field(default=512, gt=0)


class BatchProcessor:
    """Passes spans through; its settings go to the delivery of each exporter of its pipeline."""

    def __init__(self, cfg: Config) -> None:
        self.settings = BatchSettings(cfg.timeout, cfg.send_batch_size)

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        return spans


def create(cfg: Config) -> BatchProcessor:
    """A `BatchProcessor` for `cfg`."""
    return BatchProcessor(cfg)

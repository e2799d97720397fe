"""`batch`: the SDK's `BatchSpanProcessor` in front of each exporter, with the Collector's knob names."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.durations import Duration

TYPE = "batch"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Longest a span waits before its batch is sent (the SDK's schedule delay). 0: send as soon as possible.
    timeout: Duration = 5.0
    # Spans per export request.
    send_batch_size: int = Field(default=512, gt=0)
    # Spans held per exporter while the backend is slow; beyond it the SDK drops the newest.
    max_queue_size: int = Field(default=2048, gt=0)
    # Deadline of one export call.
    export_timeout: Duration = 30.0

    @model_validator(mode="after")
    def _batch_fits_queue(self) -> Config:
        if self.send_batch_size > self.max_queue_size:
            raise ValueError('"send_batch_size" must not exceed "max_queue_size"')
        return self


class BatchProcessor:
    """Passes spans through; `wrap` puts an exporter behind its own SDK `BatchSpanProcessor`."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        return spans

    def wrap(self, exporter: SpanExporter) -> BatchSpanProcessor:
        return BatchSpanProcessor(
            exporter,
            max_queue_size=self.cfg.max_queue_size,
            schedule_delay_millis=self.cfg.timeout * 1000,
            max_export_batch_size=self.cfg.send_batch_size,
            export_timeout_millis=self.cfg.export_timeout * 1000,
        )


def create(cfg: Config) -> BatchProcessor:
    """A `BatchProcessor` for `cfg`."""
    return BatchProcessor(cfg)

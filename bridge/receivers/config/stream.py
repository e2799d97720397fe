"""The stream receiver's settings (its `Config`, YAML `receivers.stream`): apart from the receiver's module, so that
reading a config (`replay` reads every section) does not import the receiver's server libraries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Route of the receiver.
    path: str = Field(default="/api/v1/dify/events", pattern=r"^/")
    # Larger bodies are refused with 413.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # A body holding more events (SSE blocks, NDJSON lines, array elements; keep-alives not counted) is
    # refused with 413: the work and log lines one request can cause stay bounded.
    max_events: int = Field(default=50_000, gt=0)

"""The webhook receiver's settings (its `Config`, YAML `receivers.webhook`): apart from the receiver's module, so that
reading a config (`replay` reads every section) does not import the receiver's server libraries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Route of the receiver (Pisama's path, so clients switch by changing the base URL).
    path: str = Field(default="/api/v1/dify/webhook", pattern=r"^/")
    # Larger bodies are refused with 413.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)

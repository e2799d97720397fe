"""`console`: the SDK's `ConsoleSpanExporter`, one JSON span after another."""

from __future__ import annotations

import sys
from typing import Literal

from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter
from pydantic import BaseModel, ConfigDict

TYPE = "console"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Which stream to write to.
    out: Literal["stdout", "stderr"] = "stdout"


def create(cfg: Config) -> SpanExporter:
    """Writes each span as JSON to stdout or stderr. Synchronous; never fails."""
    return ConsoleSpanExporter(out=sys.stdout if cfg.out == "stdout" else sys.stderr)

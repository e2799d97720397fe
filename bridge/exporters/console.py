"""`console`: each request as indented OTLP/JSON on stdout or stderr, for a look while setting up."""

from __future__ import annotations

import json
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bridge.exporters import DELIVERED, SendResult
from bridge.queue.retry import RetryConfig
from bridge.trace.otlp_json import to_otlp_json

TYPE = "console"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Which stream to write to.
    out: Literal["stdout", "stderr"] = "stdout"


class ConsoleSender:
    def __init__(self, cfg: Config) -> None:
        self._out = cfg.out
        self.max_request_bytes: int | None = None
        self.retry = RetryConfig()

    def send(self, payload: bytes) -> SendResult:
        # Looked up per call, so a captured or redirected stream is honoured.
        stream = sys.stdout if self._out == "stdout" else sys.stderr
        stream.write(json.dumps(to_otlp_json(payload), indent=2) + "\n")
        stream.flush()
        return DELIVERED

    def close(self) -> None:
        pass


def create(cfg: Config) -> ConsoleSender:
    """Writes to stdout or stderr. Synchronous; never fails."""
    return ConsoleSender(cfg)

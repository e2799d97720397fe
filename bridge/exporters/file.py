"""`file`: OTLP/JSON lines, one `ExportTraceServiceRequest` per line and batch.

The Collector's `file` exporter format, readable by its `otlpjsonfile` receiver.
"""

from __future__ import annotations

import json
import os
import threading
from typing import IO

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.exporters import DELIVERED, SendResult
from bridge.queue.retry import RetryConfig
from bridge.trace.otlp_json import to_otlp_json

TYPE = "file"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # File to write. Required.
    path: str
    # Keep what the file holds and add to it; false truncates it at start.
    append: bool = True
    # A failed write (disk full, directory missing) is retried like a network failure.
    retry_on_failure: RetryConfig = Field(default_factory=RetryConfig)

    @field_validator("path")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('"path" must not be empty')
        if "\0" in value:  # no file can be opened by it: every export would fail, forever
            raise ValueError('"path" must not hold a NUL character')
        return value


class FileSender:
    """Appends one compact OTLP/JSON line per request; the file opens at the first send."""

    def __init__(self, cfg: Config) -> None:
        self._path = cfg.path
        self._mode = "a" if cfg.append else "w"
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.max_request_bytes: int | None = None
        self.retry = cfg.retry_on_failure

    def send(self, payload: bytes) -> SendResult:
        line = json.dumps(to_otlp_json(payload), separators=(",", ":"))
        with self._lock:
            try:
                if self._file is None:
                    self._file = open(self._path, self._mode, encoding="utf-8")  # noqa: SIM115
                    self._mode = "a"  # truncate once per start, not again after a failed write
                    if _ends_mid_line(self._path):  # a kill mid-write: the next line must not join the torn one
                        self._file.write("\n")
                self._file.write(line + "\n")
                self._file.flush()
            except OSError as error:
                return SendResult(False, True, f"{self._path}: {error.strerror or error}")
        return DELIVERED

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _ends_mid_line(path: str) -> bool:
    with open(path, "rb") as written:
        if not written.seekable() or written.seek(0, os.SEEK_END) == 0:  # a FIFO, /dev/stderr: nothing to mend
            return False
        written.seek(-1, os.SEEK_END)
        return written.read(1) != b"\n"


def create(cfg: Config) -> FileSender:
    """A `FileSender` for `cfg.path`."""
    return FileSender(cfg)

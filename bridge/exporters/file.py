"""`file`: OTLP/JSON lines, one `ExportTraceServiceRequest` per line and batch.

The Collector's `file` exporter format, readable by its `otlpjsonfile` receiver. The SDK's
`ConsoleSpanExporter` writes one span per call in its own JSON, which no OTLP tool reads back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import IO

from opentelemetry.exporter.otlp.json.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from pydantic import BaseModel, ConfigDict, field_validator

TYPE = "file"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # File to write. Required.
    path: str
    # Keep what the file holds and add to it; false truncates it at start.
    append: bool = True

    @field_validator("path")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('"path" must not be empty')
        return value


class FileSpanExporter(SpanExporter):
    """Appends one compact OTLP/JSON line per export; thread-safe; the file opens at the first export."""

    def __init__(self, path: str, append: bool = True) -> None:
        self._path = path
        self._mode = "a" if append else "w"
        self._file: IO[str] | None = None
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = json.dumps(encode_spans(spans).to_dict(), separators=(",", ":"))
        with self._lock:
            try:
                if self._file is None:
                    self._file = open(self._path, self._mode, encoding="utf-8")  # noqa: SIM115
                self._file.write(line + "\n")
                self._file.flush()
            except OSError:
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def create(cfg: Config) -> SpanExporter:
    """A `FileSpanExporter` for `cfg.path`."""
    return FileSpanExporter(cfg.path, cfg.append)

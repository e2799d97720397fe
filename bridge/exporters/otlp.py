"""`otlp`: OTLP over gRPC, the SDK's `OTLPSpanExporter`, configured with the Collector's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExporter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.durations import Duration
from bridge.exporters.tls import TLSConfig

TYPE = "otlp"
_COMPRESSION = {"gzip": grpc.Compression.Gzip, "none": grpc.Compression.NoCompression}


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # host:port (or http[s]://host:port). None: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else localhost:4317.
    endpoint: str | None = None
    tls: TLSConfig = Field(default_factory=TLSConfig)
    # Extra gRPC metadata on every export. Empty: OTEL_EXPORTER_OTLP_[TRACES_]HEADERS.
    headers: dict[str, str] = Field(default_factory=dict)
    # None: OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION, else none.
    compression: Literal["gzip", "none"] | None = None
    # Per-export deadline. None: OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT, else 10s.
    timeout: Duration | None = None

    @model_validator(mode="after")
    def _key_needs_cert(self) -> Config:
        if (self.tls.cert_file is None) != (self.tls.key_file is None):
            raise ValueError('"tls.cert_file" and "tls.key_file" must be set together')
        return self


def _credentials(tls: TLSConfig) -> grpc.ChannelCredentials | None:
    if tls.insecure or not (tls.ca_file or tls.cert_file):
        return None
    return grpc.ssl_channel_credentials(_read(tls.ca_file), _read(tls.key_file), _read(tls.cert_file))


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def create(cfg: Config) -> SpanExporter:
    """An OTLP/gRPC exporter. No I/O until the first export; failed exports are retried by the SDK, then logged."""
    return OTLPSpanExporter(
        endpoint=cfg.endpoint,
        insecure=cfg.tls.insecure,
        credentials=_credentials(cfg.tls),
        headers=cfg.headers or None,
        timeout=cfg.timeout,
        compression=None if cfg.compression is None else _COMPRESSION[cfg.compression],
    )

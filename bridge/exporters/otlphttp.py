"""`otlphttp`: OTLP/HTTP protobuf, the SDK's `OTLPSpanExporter`, configured with the Collector's keys."""

from __future__ import annotations

from typing import Literal

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExporter
from pydantic import BaseModel, ConfigDict, Field

from bridge.durations import Duration
from bridge.exporters.tls import TLSConfig

TYPE = "otlphttp"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Base URL; `/v1/traces` is appended as the Collector does. None: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT.
    endpoint: str | None = None
    # Full URL used as is, overriding `endpoint`.
    traces_endpoint: str | None = None
    tls: TLSConfig = Field(default_factory=TLSConfig)
    headers: dict[str, str] = Field(default_factory=dict)
    compression: Literal["gzip", "deflate", "none"] | None = None
    timeout: Duration | None = None


def traces_url(cfg: Config) -> str | None:
    if cfg.traces_endpoint:
        return cfg.traces_endpoint
    if cfg.endpoint:
        return cfg.endpoint.rstrip("/") + "/v1/traces"
    return None


def create(cfg: Config) -> SpanExporter:
    """An OTLP/HTTP exporter. No I/O until the first export; failed exports are retried by the SDK, then logged."""
    return OTLPSpanExporter(
        endpoint=traces_url(cfg),
        certificate_file=cfg.tls.ca_file,
        client_certificate_file=cfg.tls.cert_file,
        client_key_file=cfg.tls.key_file,
        headers=cfg.headers or None,
        timeout=cfg.timeout,
        compression=None if cfg.compression is None else Compression(cfg.compression),
    )

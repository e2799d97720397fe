"""The bridge's metrics pushed over OTLP beside the traces (`service.metrics`): for each listed `otlp` or
`otlphttp` exporter, the SDK's OTLP metric exporter with that exporter's endpoint, headers, TLS, compression
and timeout, on a periodic reader. Metrics are not queued on disk: a backend that is down misses pushes,
and the next push carries the cumulative totals again."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader, PeriodicExportingMetricReader
from pydantic import BaseModel

from bridge.exporters import otlp, otlp_env, otlphttp
from bridge.telemetry.aggregates import WithAggregates


class _PeriodicReader(WithAggregates, PeriodicExportingMetricReader):
    pass


def _grpc(cfg: otlp.Config) -> MetricExporter:
    target, insecure = otlp.endpoint_of(cfg)
    compression = cfg.compression or otlp_env.setting("COMPRESSION") or "none"
    return GrpcMetricExporter(
        endpoint=target, insecure=insecure, credentials=None if insecure else otlp.credentials(cfg),
        headers=otlp_env.headers(cfg.headers), timeout=otlp_env.timeout(cfg.timeout),
        compression=otlp.COMPRESSION.get(compression),
    )  # fmt: skip


def _http(cfg: otlphttp.Config) -> MetricExporter:
    traces = otlphttp.traces_url(cfg) or otlp_env.http_traces_url()
    compression = cfg.compression or otlp_env.setting("COMPRESSION") or "none"
    encoding = HttpCompression(compression) if compression in ("gzip", "deflate") else HttpCompression.NoCompression
    return HttpMetricExporter(
        endpoint=traces.rsplit("/v1/traces", 1)[0].rstrip("/") + "/v1/metrics",
        certificate_file=cfg.tls.ca_file or otlp_env.setting("CERTIFICATE"),
        client_certificate_file=cfg.tls.cert_file or otlp_env.setting("CLIENT_CERTIFICATE"),
        client_key_file=cfg.tls.key_file or otlp_env.setting("CLIENT_KEY"),
        headers=otlp_env.headers(cfg.headers), timeout=otlp_env.timeout(cfg.timeout),
        compression=encoding,
    )  # fmt: skip


def metric_reader(cfg: BaseModel, interval: float) -> MetricReader:
    """A periodic reader pushing to the exporter configured by `cfg` (an `otlp` or `otlphttp` config)."""
    if isinstance(cfg, otlp.Config):
        exporter = _grpc(cfg)
    elif isinstance(cfg, otlphttp.Config):
        exporter = _http(cfg)
    else:
        raise TypeError(f"metrics go to otlp or otlphttp exporters, not {type(cfg).__module__}")
    return _PeriodicReader(exporter, export_interval_millis=interval * 1000)

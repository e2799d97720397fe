"""The bridge's metrics: an OTel `MeterProvider` read by Prometheus at `GET /metrics` and, with
`service.metrics`, pushed over OTLP. The runs' own metrics are in `bridge/run_metrics.py`; the bridge's
health (queue, exports, refusals) where it is measured. docs/metrics.md lists them all."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge import __version__


class Telemetry:
    """One meter provider per server, with its own Prometheus registry (tests run several servers at once)."""

    def __init__(self, readers: Sequence[MetricReader] = ()) -> None:
        self.registry = CollectorRegistry()
        self.provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=self.registry), *readers])
        self.meter: Meter = self.provider.get_meter("dify-otel-bridge", __version__)

    def shutdown(self) -> None:
        self.provider.shutdown()

    def routes(self) -> list[Route]:
        async def metrics(request: Request) -> Response:
            """
            summary: Prometheus metrics of the bridge itself
            tags: [health]
            responses: {200: {description: Prometheus text format}}
            """
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return [Route("/metrics", metrics)]

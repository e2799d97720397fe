"""The bridge's metrics: an OTel `MeterProvider` read by Prometheus at `GET /metrics` and, with
`service.metrics`, pushed over OTLP. The runs' own metrics are in `bridge/telemetry/run_metrics.py`; the bridge's
health (queue, exports, refusals) where it is measured. docs/metrics.md lists them all."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge import __version__
from bridge.telemetry.aggregates import Aggregates, WithAggregates
from bridge.telemetry.series import DEFAULT_MAX_SERIES


class _PrometheusReader(WithAggregates, PrometheusMetricReader):
    pass


class Telemetry:
    """One meter provider per server, with its own Prometheus registry (tests run several servers at once).
    Its readers read the SDK's instruments (`meter`) and the per-run series of `aggregates`."""

    def __init__(
        self,
        readers: Sequence[MetricReader] = (),
        max_series: int = DEFAULT_MAX_SERIES,
        idle_timeout: float = 0.0,
        resource_attributes: Mapping[str, str] | None = None,
    ) -> None:
        """`max_series` and `idle_timeout` (0: never) bound the run metrics (`service.metrics`);
        `resource_attributes` are `service.resource`, so metrics name the same service as the traces."""
        self.registry = CollectorRegistry()
        resource = Resource.create(dict(resource_attributes or {}))
        scope = InstrumentationScope("dify-otel-bridge", __version__)
        self.aggregates = Aggregates(scope, resource, max_series, idle_timeout or None)
        # One scrape renders at a time, on a thread: parallel scrapes of a large page held the event loop.
        self._rendering = asyncio.Lock()
        all_readers = [_PrometheusReader(registry=self.registry), *readers]
        for reader in all_readers:
            if isinstance(reader, WithAggregates):
                reader.aggregates = self.aggregates
        self.provider = MeterProvider(metric_readers=all_readers, resource=resource)
        self.meter: Meter = self.provider.get_meter(scope.name, scope.version)

    def shutdown(self) -> None:
        self.provider.shutdown()

    def routes(self) -> list[Route]:
        async def metrics(request: Request) -> Response:
            """
            summary: Prometheus metrics of the bridge itself
            tags: [health]
            responses: {200: {description: Prometheus text format}}
            """
            async with self._rendering:
                page = await asyncio.to_thread(generate_latest, self.registry)
            return Response(page, media_type=CONTENT_TYPE_LATEST)

        return [Route("/metrics", metrics)]

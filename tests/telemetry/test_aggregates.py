"""The per-run series read beside the SDK's instruments: the same points the SDK would give, in each reader's
temporality."""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, Gauge, InMemoryMetricReader, MetricsData

from bridge.telemetry.aggregates import Aggregates, WithAggregates

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
# Bounds themselves (a bound's bucket holds values up to and including it), between, below, above, zero.
VALUES = [0.0, 0.005, 0.0051, 0.01, 0.3, 1, 1.0000001, 4.9, 5, 7.5, 1e9, 0.049]


class _Reader(WithAggregates, InMemoryMetricReader):
    pass


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def _points(data: MetricsData, name: str) -> dict[frozenset[Any], Any]:
    found = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.update({frozenset((p.attributes or {}).items()): p for p in metric.data.data_points})
    return found


def test_histograms_and_counters_equal_the_sdks_own() -> None:
    reader = _Reader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("sdk")
    sdk_histogram = meter.create_histogram("sdk.duration", "s", explicit_bucket_boundaries_advisory=BOUNDS)
    sdk_counter = meter.create_counter("sdk.runs")
    aggregates = reader.aggregates = Aggregates()
    histogram = aggregates.histogram("our.duration", "s", "", BOUNDS)
    counter = aggregates.counter("our.runs", "{run}", "")
    for position, value in enumerate(VALUES):
        kind = "llm" if position % 3 else "code"
        sdk_histogram.record(value, {"dify.node.type": kind})
        sdk_counter.add(value, {"dify.node.type": kind})
        with aggregates.lock:
            histogram.record(value, (("dify.node.type", kind),))
            counter.record(value, (("dify.node.type", kind),))

    data = reader.get_metrics_data()
    assert data is not None
    sdk, ours = _points(data, "sdk.duration"), _points(data, "our.duration")
    assert set(ours) == set(sdk) == {frozenset({("dify.node.type", "llm")}), frozenset({("dify.node.type", "code")})}
    for key, point in ours.items():
        expected = sdk[key]
        fields = ("count", "sum", "bucket_counts", "explicit_bounds", "min", "max")
        assert [_plain(getattr(point, f)) for f in fields] == [_plain(getattr(expected, f)) for f in fields]
    assert {k: p.value for k, p in _points(data, "our.runs").items()} == {
        k: p.value for k, p in _points(data, "sdk.runs").items()
    }
    # Beside the SDK's metrics, under its resource, in a scope of their own.
    (resource,) = data.resource_metrics
    assert {s.scope.name for s in resource.scope_metrics} == {"sdk", "dify-otel-bridge"}
    provider.shutdown()


def _delta_reader() -> tuple[_Reader, MeterProvider, Aggregates]:
    """A reader preferring delta temporality, reading the bridge's aggregates beside an SDK instrument."""
    delta = AggregationTemporality.DELTA
    reader = _Reader(preferred_temporality={Counter: delta, Histogram: delta})
    provider = MeterProvider(metric_readers=[reader])
    # A reader only receives what the SDK collected if the SDK had something (the bridge's gauges always do).
    provider.get_meter("sdk").create_observable_gauge("sdk.gauge", [lambda _: [Observation(1)]])
    aggregates = reader.aggregates = Aggregates()
    return reader, provider, aggregates


def test_a_reader_that_prefers_delta_gets_the_change_since_its_last_collection() -> None:
    reader, provider, aggregates = _delta_reader()
    histogram = aggregates.histogram("our.duration", "s", "", BOUNDS)
    counter = aggregates.counter("our.runs", "{run}", "")
    key = (("dify.node.type", "llm"),)
    with aggregates.lock:
        histogram.record(0.3, key)
        counter.record(2, key)
    first = reader.get_metrics_data()
    with aggregates.lock:
        histogram.record(7.0, key)
        histogram.record(0.001, key)
        counter.record(3, key)
    second = reader.get_metrics_data()

    assert first is not None and second is not None
    (run_point,) = _points(second, "our.runs").values()
    (bars,) = _points(second, "our.duration").values()
    assert run_point.value == 3
    assert (bars.count, bars.sum, bars.bucket_counts[0], bars.bucket_counts[-1]) == (2, 7.001, 1, 1)
    assert sum(bars.bucket_counts) == 2
    (earlier,) = _points(first, "our.duration").values()
    assert bars.start_time_unix_nano == earlier.time_unix_nano
    for metric in second.resource_metrics[0].scope_metrics[-1].metrics:
        assert not isinstance(metric.data, Gauge)
        assert metric.data.aggregation_temporality is AggregationTemporality.DELTA
    provider.shutdown()


def test_a_delta_histograms_min_and_max_are_those_since_start() -> None:
    # docs/metrics.md: "a delta histogram's `min` and `max` are those since start".
    reader, provider, aggregates = _delta_reader()
    histogram = aggregates.histogram("our.duration", "s", "", BOUNDS)
    key = (("dify.node.type", "llm"),)
    with aggregates.lock:
        histogram.record(100.0, key)
    reader.get_metrics_data()
    with aggregates.lock:
        histogram.record(1.0, key)
        histogram.record(2.0, key)
    second = reader.get_metrics_data()
    assert second is not None
    (bars,) = _points(second, "our.duration").values()
    assert (bars.count, bars.sum, bars.min, bars.max) == (2, 3.0, 1.0, 100.0)
    provider.shutdown()


def test_a_series_without_points_is_left_out() -> None:
    reader = _Reader()
    provider = MeterProvider(metric_readers=[reader])
    provider.get_meter("sdk").create_observable_gauge("sdk.gauge", [lambda _: [Observation(1)]])
    reader.aggregates = Aggregates()
    reader.aggregates.counter("our.runs", "{run}", "")
    data = reader.get_metrics_data()
    assert data is not None
    names = {m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
    assert names == {"sdk.gauge"}
    provider.shutdown()

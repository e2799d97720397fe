"""Counters and histograms the bridge records per run, aggregated in plain dicts and handed to the OTel
SDK's metric readers with everything else the SDK collected.

Why not the SDK's own instruments: a run records a dozen or more measurements (a node duration per node,
token counts per LLM call, run and span counts), and each costs the SDK about 6 µs (a `Measurement`, its
attributes cleaned and hashed, two locks), a tenth of the served bridge's time per run. Here a measurement is
a dict lookup and a bisect under one lock per run. Readers see ordinary `Sum` and `Histogram` metrics, in
the temporality each one prefers; they are collected through `_receive_metrics`, the SDK's documented
override point for reader implementations.

Attribute values come from what senders send (app names, model names, node types), so each series keeps at
most `max_series` attribute sets, as the SDK's cardinality limit does: later sets are counted in one overflow
set, `otel.metric.overflow="true"`. Sets not recorded for an `idle_timeout` are dropped, so the slots of a
burst of one-off values come free again (one OTLP request of 10,000 model names grew /metrics to 44 MB).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

# The reader's temporality table is keyed by these (the SDK is pinned to 1.45.x: bridge/trace/spans.py).
from opentelemetry.sdk.metrics._internal.instrument import _Counter, _Histogram
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricReader,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from bridge import __version__
from bridge.telemetry.series import DEFAULT_MAX_SERIES, Key, Measurement

# Where measurements past a series' limit go (the OpenTelemetry SDK's name for it).
OVERFLOW: Key = (("otel.metric.overflow", "true"),)


class _HistogramPoint:
    __slots__ = ("counts", "max", "min", "sum")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")


class _Bounded(ABC):
    """At most `max_series` attribute sets (and the overflow set), each with the time it began; those not
    recorded between two `sweep`s are forgotten."""

    def __init__(self, max_series: int) -> None:
        self.max_series = max_series
        self.starts: dict[Key, int] = {}  # when each set began (ns): one forgotten and back starts over
        self._recorded: set[Key] = set()

    def _slot(self, key: Key) -> Key:
        """`key`, or the overflow set when it would be one set too many."""
        if key not in self.starts:
            if len(self.starts) >= self.max_series and key != OVERFLOW:
                key = OVERFLOW
            if key not in self.starts:
                self.starts[key] = time.time_ns()
        self._recorded.add(key)
        return key

    def sweep(self) -> None:
        for key in [key for key in self.starts if key not in self._recorded]:
            del self.starts[key]
            self._forget(key)
        self._recorded.clear()

    @abstractmethod
    def _forget(self, key: Key) -> None:
        """Drops the set's value."""


class CounterSeries(_Bounded):
    """A monotonic sum per attribute set. Record through `Aggregates.lock`."""

    def __init__(self, name: str, unit: str, description: str, max_series: int = DEFAULT_MAX_SERIES) -> None:
        super().__init__(max_series)
        self.name, self.unit, self.description = name, unit, description
        self.values: dict[Key, float] = {}

    def record(self, amount: float, key: Key) -> None:
        key = self._slot(key)
        self.values[key] = self.values.get(key, 0) + amount

    def _forget(self, key: Key) -> None:
        del self.values[key]


class HistogramSeries(_Bounded):
    """An explicit-bucket histogram per attribute set (bucket i counts values ≤ bounds[i], as OTLP's).
    Record through `Aggregates.lock`."""

    def __init__(
        self, name: str, unit: str, description: str, bounds: Sequence[float], max_series: int = DEFAULT_MAX_SERIES
    ) -> None:
        super().__init__(max_series)
        self.name, self.unit, self.description = name, unit, description
        self.bounds = tuple(bounds)
        self.points: dict[Key, _HistogramPoint] = {}

    def _forget(self, key: Key) -> None:
        del self.points[key]

    def record(self, value: float, key: Key) -> None:
        key = self._slot(key)
        point = self.points.get(key)
        if point is None:
            point = self.points[key] = _HistogramPoint(len(self.bounds) + 1)
        point.counts[bisect_left(self.bounds, value)] += 1
        point.sum += value
        if value < point.min:
            point.min = value
        if value > point.max:
            point.max = value


class Aggregates:
    """The series of one meter provider. Recorders hold `lock` around a run's measurements. Each series keeps
    `max_series` attribute sets; a set not recorded for `idle_timeout` seconds (to twice that) is dropped
    (None: never)."""

    def __init__(
        self,
        scope: InstrumentationScope | None = None,
        resource: Resource | None = None,
        max_series: int = DEFAULT_MAX_SERIES,
        idle_timeout: float | None = None,
    ) -> None:
        self.scope = scope or InstrumentationScope("dify-otel-bridge", __version__)
        self.resource = resource or Resource.create()
        self.lock = threading.Lock()
        self.start_ns = time.time_ns()
        self.series: dict[str, CounterSeries | HistogramSeries] = {}
        self.max_series = max_series
        self._idle_ns = None if idle_timeout is None else int(idle_timeout * 1e9)
        self._swept_ns = self.start_ns

    def counter(self, name: str, unit: str, description: str) -> CounterSeries:
        series = self.series[name] = CounterSeries(name, unit, description, self.max_series)
        return series

    def histogram(self, name: str, unit: str, description: str, bounds: Sequence[float]) -> HistogramSeries:
        series = self.series[name] = HistogramSeries(name, unit, description, bounds, self.max_series)
        return series

    def apply(self, measurements: Sequence[Measurement]) -> None:
        with self.lock:
            for name, value, key in measurements:
                self.series[name].record(value, key)

    def cumulative(self, now_ns: int) -> list[Metric]:
        """Every series as cumulative metrics since each attribute set began; idle sets dropped first."""
        with self.lock:
            if self._idle_ns is not None and now_ns - self._swept_ns >= self._idle_ns:
                for series in self.series.values():
                    series.sweep()
                self._swept_ns = now_ns
            return [self._metric(series, now_ns) for series in self.series.values() if _has_points(series)]

    def _metric(self, series: CounterSeries | HistogramSeries, now_ns: int) -> Metric:
        starts, cumulative = series.starts, AggregationTemporality.CUMULATIVE
        if isinstance(series, CounterSeries):
            numbers = [NumberDataPoint(dict(key), starts[key], now_ns, value) for key, value in series.values.items()]
            return Metric(series.name, series.description, series.unit, Sum(numbers, cumulative, is_monotonic=True))
        bars = [
            HistogramDataPoint(dict(key), starts[key], now_ns, sum(p.counts), p.sum, list(p.counts), series.bounds,
                               p.min, p.max)
            for key, p in series.points.items()
        ]  # fmt: skip
        return Metric(series.name, series.description, series.unit, Histogram(bars, cumulative))


def _has_points(series: CounterSeries | HistogramSeries) -> bool:
    return bool(series.values if isinstance(series, CounterSeries) else series.points)


class WithAggregates(MetricReader):
    """A metric reader that also reads `aggregates` (set after construction; until then it reads only the
    SDK). Subclass it before the reader class: `class R(WithAggregates, PrometheusMetricReader)`. They come
    with a collection of the SDK's, which the SDK skips when none of its instruments has a point: the
    bridge's queue gauges always have one."""

    aggregates: Aggregates | None = None
    _previous: dict[str, Metric] | None = None

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        if self.aggregates is not None:
            metrics_data = self._with_aggregates(metrics_data, self.aggregates)
        super()._receive_metrics(metrics_data, timeout_millis, **kwargs)  # type: ignore[safe-super]

    def _with_aggregates(self, metrics_data: MetricsData, aggregates: Aggregates) -> MetricsData:
        now = time.time_ns()
        ours = [self._as_preferred(metric, now) for metric in aggregates.cumulative(now)]
        if not ours:
            return metrics_data
        resources = list(metrics_data.resource_metrics) or [ResourceMetrics(aggregates.resource, [], "")]
        first = resources[0]
        scopes = list(first.scope_metrics)
        same = next((i for i, s in enumerate(scopes) if s.scope == aggregates.scope), None)
        if same is None:
            scopes.append(ScopeMetrics(aggregates.scope, ours, ""))
        else:
            scopes[same] = replace(scopes[same], metrics=[*scopes[same].metrics, *ours])
        resources[0] = replace(first, scope_metrics=scopes)
        return MetricsData(resources)

    def _as_preferred(self, metric: Metric, now_ns: int) -> Metric:
        """Cumulative as collected, or the change since this reader's last collection if it prefers delta."""
        kind = _Counter if isinstance(metric.data, Sum) else _Histogram
        if self._instrument_class_temporality[kind] is not AggregationTemporality.DELTA:
            return metric
        if self._previous is None:
            self._previous = {}
        before, self._previous[metric.name] = self._previous.get(metric.name), metric
        return _delta(metric, before)


def _delta(metric: Metric, before: Metric | None) -> Metric:
    """`metric` less `before`. A histogram's min and max stay those since start: totals cannot give an
    interval's."""
    delta = AggregationTemporality.DELTA
    data = metric.data
    old_data = before.data if before is not None else None
    if isinstance(data, Sum):
        olds = {_key(p): p for p in old_data.data_points} if isinstance(old_data, Sum) else {}
        numbers = [
            point if (old := _same_set(point, olds)) is None
            else replace(point, start_time_unix_nano=old.time_unix_nano, value=point.value - old.value)
            for point in data.data_points
        ]  # fmt: skip
        return replace(metric, data=replace(data, data_points=numbers, aggregation_temporality=delta))
    assert isinstance(data, Histogram)
    earlier = {_key(p): p for p in old_data.data_points} if isinstance(old_data, Histogram) else {}
    bars = []
    for point in data.data_points:
        was = _same_set(point, earlier)
        if was is not None:
            counts = [now - then for now, then in zip(point.bucket_counts, was.bucket_counts, strict=True)]
            point = replace(point, start_time_unix_nano=was.time_unix_nano, count=point.count - was.count,
                            sum=point.sum - was.sum, bucket_counts=counts)  # fmt: skip
        bars.append(point)
    return replace(metric, data=replace(data, data_points=bars, aggregation_temporality=delta))


_Point = TypeVar("_Point", NumberDataPoint, HistogramDataPoint)


def _same_set(point: _Point, before: dict[frozenset[tuple[str, Any]], _Point]) -> _Point | None:
    """`point`'s attribute set at the last collection, unless it was dropped and began again since."""
    old = before.get(_key(point))
    return old if old is not None and point.start_time_unix_nano < old.time_unix_nano else None


def _key(point: NumberDataPoint | HistogramDataPoint) -> frozenset[tuple[str, Any]]:
    return frozenset((point.attributes or {}).items())

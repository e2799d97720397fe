"""The running bridge's gauges: what waits in the queue for each exporter (spans, the oldest's age), the queue
file's bytes, the dead letters, and the runs and traces still being assembled."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sized

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from bridge.queue.delivery import Delivery
from bridge.queue.storage import QueueStorage

# The queue gauges of one collection (a Prometheus scrape, an OTLP push) share one read of each backlog: the
# age gauge takes the spans gauge's read when it is this recent.
_BACKLOG_READ_S = 1.0


def observe_queue(
    meter: metrics.Meter,
    storage: QueueStorage,
    deliveries: Mapping[str, Delivery],
    open_runs: Sized,
    open_traces: Sized,
) -> None:
    read_at = -math.inf
    by_exporter: dict[str, tuple[int, int, float | None]] = {}

    def backlogs(fresh: bool) -> dict[str, tuple[int, int, float | None]]:
        """Each exporter's backlog, read once for both gauges of a collection (it scans what is queued): the
        spans gauge, collected first (the order they are made in), reads; the age gauge takes that read."""
        nonlocal read_at, by_exporter
        if fresh or time.monotonic() - read_at > _BACKLOG_READ_S:
            by_exporter = {cid: storage.backlog(cid, d.pipelines) for cid, d in deliveries.items()}
            read_at = time.monotonic()
        return by_exporter

    def queued_spans(options: CallbackOptions) -> Iterable[Observation]:
        for cid, (_, spans, _) in backlogs(fresh=True).items():
            yield Observation(spans, {"exporter": cid})

    def queue_age(options: CallbackOptions) -> Iterable[Observation]:
        now = time.time()
        for cid, (_, _, oldest) in backlogs(fresh=False).items():
            yield Observation(0.0 if oldest is None else now - oldest, {"exporter": cid})

    gauge = meter.create_observable_gauge
    gauge("dify_bridge.queue.spans", [queued_spans], "{span}", "Spans waiting for delivery, per exporter")
    gauge("dify_bridge.queue.age", [queue_age], "s", "Age of the oldest span waiting for delivery, per exporter")
    gauge("dify_bridge.queue.size", [lambda _: [Observation(storage.queued_bytes)]], "By",
          "Bytes of spans in the queue file")  # fmt: skip
    gauge("dify_bridge.dead_letters", [lambda _: [Observation(storage.dead_letter_count())]], "{request}",
          "Requests held in the dead letters")  # fmt: skip
    gauge("dify_bridge.runs.in_flight", [lambda _: [Observation(len(open_runs))]], "{run}",
          "Stream runs being assembled")  # fmt: skip
    gauge("dify_bridge.traces.in_flight", [lambda _: [Observation(len(open_traces))]], "{trace}",
          "Traces received over OTLP waiting for their last span")  # fmt: skip

"""`replay`'s way out: runs → their traces, built, processed and encoded → a queue in memory → one delivery per
exporter. In the replaying process for a small input, in each of `replay`'s forked workers for a large one
(bridge/service/replay_workers.py).

What `serve` does with a run once it is closed, without what a server needs and a replay does not: no queue
file, journal, duplicate check, admission, metrics or live view. A replay keeps nothing: a failed export is
reported, and the files are replayed again.
"""

from __future__ import annotations

import time

from opentelemetry import metrics

from bridge.config.models import BridgeConfig
from bridge.dify.model import RUN_STATUS_INCOMPLETE, WorkflowRun
from bridge.dify.run_parts import ClosedRun
from bridge.exporters import Sender
from bridge.queue.delivery import DeliveryMetrics, flush_all, notify_all
from bridge.queue.memory import MemoryQueue
from bridge.service.pipeline import build_pipelines, deliveries_of, process_run
from bridge.service.replay_tally import ReplayOutcome, ReplayTally
from bridge.trace.spans import SpanBuilder


class ReplayExport:
    """The config's pipelines and exporters, for runs read from files. `submit` builds, processes, encodes and
    queues a run on the caller's thread; the deliveries send from their own, once started. Made, it runs no thread
    yet (the gRPC sender makes its channel at its first send): `replay`'s first worker forks the others with it."""

    ready = True  # its config is loaded (`ReplayWorkers` learns it from its workers)

    def __init__(self, config: BridgeConfig) -> None:
        senders: dict[str, Sender] = {}
        self.pipelines, batching = build_pipelines(config, senders)
        self.builder = SpanBuilder(config.service.resource)
        self.queue = MemoryQueue(senders)
        instruments = DeliveryMetrics(metrics.get_meter("dify-otel-bridge"))
        self.deliveries = deliveries_of(self.pipelines, senders, self.queue, batching, instruments)
        self.tally = ReplayTally()

    def start(self) -> None:
        """The deliveries' threads started."""
        for delivery in self.deliveries.values():
            delivery.start()

    def submit(self, run: WorkflowRun | ClosedRun) -> None:
        """The run's trace built, processed and queued for every exporter; a run that cannot be built raises."""
        processed = process_run(self.builder, self.pipelines, run, measured=False)
        self.queue.append(processed.entries, time.time())
        notify_all(self.deliveries, processed.entries)
        self.tally.runs += 1
        self.tally.spans += processed.span_count
        self.tally.incomplete += processed.run is not None and processed.run.status == RUN_STATUS_INCOMPLETE

    def finish(self, timeout: float) -> ReplayOutcome:
        """Waits up to `timeout` seconds for every exporter to deliver what is queued, then stops the deliveries
        (after the request in flight)."""
        try:
            flushed = flush_all(self.deliveries, timeout)
            lost = {
                cid: (delivery.dead_spans + self.queue.backlog(cid, delivery.pipelines)[1], delivery.last_error)
                for cid, delivery in self.deliveries.items()
            }
        finally:
            for delivery in self.deliveries.values():
                delivery.stop()
        return ReplayOutcome(self.tally, flushed, lost)

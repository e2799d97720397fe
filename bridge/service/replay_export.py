"""`replay`'s way out: runs → their traces, built, processed and encoded (here, or in forked pipeline workers
beside this process) → a queue in memory → one delivery per exporter.

What `serve` does with a run once it is closed, without what a server needs and a replay does not: no queue
file, journal, duplicate check, admission, metrics or live view. A replay keeps nothing: a failed export is
reported, and the files are replayed again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future

from opentelemetry import metrics

from bridge.config.models import BridgeConfig
from bridge.dify.model import WorkflowRun
from bridge.dify.run_parts import ClosedRun
from bridge.exporters import Sender
from bridge.queue.delivery import DeliveryMetrics, flush_all, notify_all
from bridge.queue.memory import MemoryQueue
from bridge.service.pipeline import LocalRuns, Processed, build_pipelines, deliveries_of
from bridge.service.pipeline_workers import PipelineWorkers
from bridge.trace.spans import SpanBuilder


class ReplayExport:
    """The config's pipelines and exporters, for runs read from files. With `workers`, runs are built in that
    many pipeline workers, forked now (before any thread of this process starts), while this process reads."""

    def __init__(self, config: BridgeConfig, workers: int = 0) -> None:
        senders: dict[str, Sender] = {}
        pipelines, batching = build_pipelines(config, senders)
        limits = {pipeline.name: pipeline.max_request_bytes for pipeline in pipelines}
        self.runs: LocalRuns | PipelineWorkers = (
            PipelineWorkers(config, limits, workers, store_baselines=False, fork=True)
            if workers
            else LocalRuns(SpanBuilder(config.service.resource), pipelines)
        )
        self.queue = MemoryQueue(senders)
        instruments = DeliveryMetrics(metrics.get_meter("dify-otel-bridge"))
        self.deliveries = deliveries_of(pipelines, senders, self.queue, batching, instruments)
        for delivery in self.deliveries.values():
            delivery.start()

    def submit_runs(self, runs: Iterable[WorkflowRun | ClosedRun], ahead: int = 64) -> Iterator[Processed]:
        """Each of `runs` built, processed and queued, in order; yields each one's trace once it is queued. Up to
        `ahead` runs are being built (by the pipeline workers, if any) while the next are read. If reading `runs`
        fails, or the caller stops, the runs read before are still queued before the error goes on."""
        building: deque[Future[Processed]] = deque()
        try:
            for run in runs:
                building.append(self.runs.submit(run))
                if len(building) > ahead:
                    yield self._queue(building.popleft().result())
        except BaseException:
            for built in building:
                self._queue(built.result())
            raise
        while building:
            yield self._queue(building.popleft().result())

    def _queue(self, processed: Processed) -> Processed:
        self.queue.append(processed.entries, time.time())
        notify_all(self.deliveries, processed.entries)
        return processed

    def flush(self, timeout: float) -> bool:
        """Waits up to `timeout` seconds for every exporter to deliver what is queued."""
        return flush_all(self.deliveries, timeout)

    def lost(self) -> dict[str, tuple[int, str | None]]:
        """Each exporter's spans not delivered (refused, or still queued), and the reason of its last failure."""
        return {
            cid: (delivery.dead_spans + self.queue.backlog(cid, delivery.pipelines)[1], delivery.last_error)
            for cid, delivery in self.deliveries.items()
        }

    def close(self) -> None:
        """Stops the deliveries (after the request in flight) and the pipeline workers."""
        for delivery in self.deliveries.values():
            delivery.stop()
        self.runs.close()

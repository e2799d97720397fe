"""Backpressure: past a limit, receivers refuse new work with 429/503 and Retry-After instead of dropping it."""

from __future__ import annotations

from opentelemetry import metrics

from bridge.queue.config import QueueConfig
from bridge.queue.storage import QueueStorage


class Backpressure(Exception):
    """A limit is reached: answer `status` with `Retry-After: retry_after` (nothing was taken)."""

    def __init__(self, status: int, error: str, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.retry_after = status, error, detail, retry_after


class Admission:
    """Work that opens a run is refused while the queue is over `max_bytes` (503: the exporters are behind)
    or, for stream events, while `max_runs_in_flight` runs are open (429). Events of open runs are always
    taken, so those runs can finish."""

    def __init__(self, cfg: QueueConfig, storage: QueueStorage, meter: metrics.Meter) -> None:
        self.cfg, self.storage = cfg, storage
        self._refusals = meter.create_counter(
            "dify_bridge.backpressure.refusals", unit="{request}", description="Requests refused by a limit"
        )

    def check(self, receiver: str, opens_run: bool, runs_in_flight: int | None = None) -> None:
        if not opens_run:
            return
        queued = self.storage.queued_bytes
        if queued >= self.cfg.max_bytes:
            self._refuse(receiver, 503, "queue_full",
                         f"the export queue holds {queued} bytes (max_bytes {self.cfg.max_bytes}): the exporters "
                         "are behind; retry later")  # fmt: skip
        if runs_in_flight is not None and runs_in_flight >= self.cfg.max_runs_in_flight:
            self._refuse(receiver, 429, "too_many_runs_in_flight",
                         f"{runs_in_flight} runs are being assembled (max_runs_in_flight "
                         f"{self.cfg.max_runs_in_flight}); events of those runs are still taken")  # fmt: skip

    def _refuse(self, receiver: str, status: int, error: str, detail: str) -> None:
        self._refusals.add(1, {"receiver": receiver.partition("/")[0], "reason": error})
        raise Backpressure(status, error, detail, self.cfg.retry_after)

"""What a replay's export tells the command: runs and spans queued, and at the end what its exporters could not
deliver. Plain data, so that it comes back from `replay`'s workers (bridge/service/replay_workers.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(slots=True)
class ReplayTally:
    """Runs built and queued so far, of which incomplete (no terminal event), and their spans."""

    runs: int = 0
    incomplete: int = 0
    spans: int = 0

    def add(self, other: ReplayTally) -> None:
        self.runs += other.runs
        self.incomplete += other.incomplete
        self.spans += other.spans


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """The tally at the end; whether every exporter delivered what was queued in time (`flushed`); and each
    exporter's spans not delivered (refused, or still queued) with the reason of its last failure."""

    tally: ReplayTally
    flushed: bool
    lost: dict[str, tuple[int, str | None]] = field(default_factory=dict)

    @classmethod
    def merged(cls, outcomes: Iterable[ReplayOutcome]) -> ReplayOutcome:
        """The outcomes of exports side by side (one per worker) as one: counts added, a reason kept per exporter."""
        tally, flushed, lost = ReplayTally(), True, dict[str, tuple[int, str | None]]()
        for outcome in outcomes:
            tally.add(outcome.tally)
            flushed = flushed and outcome.flushed
            for cid, (count, reason) in outcome.lost.items():
                before, known = lost.get(cid, (0, None))
                lost[cid] = (before + count, known or reason)
        return cls(tally, flushed, lost)

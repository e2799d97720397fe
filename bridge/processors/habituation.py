"""Habituation: a finding an app gets on (nearly) every one of its runs is the app's normal, not a failure.

A rule misreading an app's shape fires on every run of that app from its first, and a Jaeger user who sees the same
finding on every run turns the detectors off. Each finding is keyed by (app, detector, rule, node); per app the keys of
its last `window` runs are kept in the detectors' `Baselines` (the server's store: they survive a restart). A key found
on `min_fired` of them is held back, until it is absent for `window` runs in a row, when it fired from the app's first
runs on (early enough to reach `min_fired` within its first `window`): the app's shape. A key that starts later is a
change, as a fault is (a cheaper model republished, a renamed API field, a poisoned document retrieved from then on):
it is held back only once it has lasted `lasting_runs` runs.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel, ConfigDict, Field, model_validator

from detectors import Baselines, Finding, attr, span_id

logger = logging.getLogger(__name__)

_BASELINE = "habituation:"
# What varies run by run in a summary with no `rule` evidence (figures, quoted values): masked out of the key.
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\d+(?:[.,]\d+)*")


class Config(BaseModel):
    """The guard's settings (`processors.detectors.habituation`)."""

    model_config = ConfigDict(extra="forbid")

    # false: every finding is attached, however often the app gets it.
    enabled: bool = True
    # The app's last runs looked at.
    window: int = Field(default=8, ge=2)
    # A finding's key found on this many of the app's last `window` runs is the app's normal, its findings held back,
    # if it fired from the app's first runs on (early enough to reach this count within its first `window`).
    min_fired: int = Field(default=6, ge=1)
    # A key that began later (a change, as a fault is) is held back only once it has fired, without `window` runs in a
    # row free of it, for this many runs.
    lasting_runs: int = Field(default=50, ge=1)

    @model_validator(mode="after")
    def _fits_the_window(self) -> Config:
        if self.min_fired > self.window:
            raise ValueError(f'"min_fired" ({self.min_fired}) must not exceed "window" ({self.window})')
        return self


def finding_key(finding: Finding, spans_by_id: dict[int, ReadableSpan]) -> str:
    """detector|rule|node: the rule and node its evidence names (else its summary, values masked; the node by its
    span's title, id or name, empty for the run as a whole)."""
    rule, node = finding.evidence.get("rule"), finding.evidence.get("node")
    if not isinstance(rule, str):
        rule = _VARYING.sub("_", finding.summary)[:160]
    if not isinstance(node, str):
        span = spans_by_id.get(finding.span_id) if finding.span_id is not None else None
        node = str(attr(span, "dify.node.title") or attr(span, "dify.node.id") or span.name) if span is not None else ""
    return f"{finding.detector}|{rule}|{node}"


class Habituation:
    """`split(app, spans, findings)` → (findings kept, keys held back), learning the keys the run fired."""

    def __init__(self, cfg: Config, baselines: Baselines) -> None:
        self.cfg, self.baselines = cfg, baselines

    def split(
        self, app: str, spans: Sequence[ReadableSpan], findings: list[Finding]
    ) -> tuple[list[Finding], list[str]]:
        cfg, store_key = self.cfg, _BASELINE + app
        # The app's runs seen; the keys each of its last `window` fired (held back or not); the run each key present
        # in them began at; the keys held back, logged once.
        state: dict[str, Any] = self.baselines.get(store_key) or {"seen": 0, "runs": [], "since": {}, "held": []}
        seen, runs, since = state["seen"], state["runs"], state["since"]
        if not findings and not since and seen >= cfg.window:
            return findings, []  # nothing fired lately, the app's first runs learned: a clean run costs no write
        spans_by_id = {span_id(span): span for span in spans} if findings else {}
        keys = [finding_key(finding, spans_by_id) for finding in findings]
        counts = Counter(key for run in runs for key in run)
        was_held = set(state["held"])
        # Held back while it keeps firing: a key once the app's normal is held until absent for `window` runs.
        held = sorted(
            key
            for key in set(keys)
            if key in was_held
            or (
                counts[key] >= cfg.min_fired
                and (since[key] <= cfg.window - cfg.min_fired or seen - since[key] >= cfg.lasting_runs)
            )
        )
        for key in set(held) - was_held:  # once per habit, so that a user can see the guard acting
            logger.warning("app %s: %s found on %d of its last %d runs: held back as the app's normal",
                           app, key, counts[key], len(runs))  # fmt: skip
        runs = [*runs[1 - cfg.window :], sorted(set(keys))]
        present = {key for run in runs for key in run}
        since = {key: since.get(key, seen) for key in present}  # a key absent for `window` runs begins anew
        still_held = sorted(key for key in {*was_held, *held} if key in present)
        self.baselines.put(store_key, {"seen": seen + 1, "runs": runs, "since": since, "held": still_held})
        kept = [finding for finding, key in zip(findings, keys, strict=True) if key not in held]
        return kept, held

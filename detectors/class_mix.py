"""A question classifier's class mix against its own past: `dify_classifier_drift`'s `class_mix` rule."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

from detectors import Finding, Trace, attr, span_id
from detectors.past_picks import KEY


def _mix(picks: list[str]) -> dict[str, float]:
    """Each class's share of `picks`, by name: the same order (evidence, ties) whatever the hash seed."""
    counts = Counter(picks)
    return {name: counts[name] / len(picks) for name in sorted(counts)}


def shift(trace: Trace, span: Any, chosen: str, window: int, baseline: int, max_shift: float) -> Iterator[Finding]:
    """The app's recent class mix against its baseline; records this pick. Fires when the shift first
    crosses `max_shift`, not again on every run while it lasts."""
    key = f"{KEY}:{trace.app}:{attr(span, 'dify.node.id')}"
    state = trace.baselines.get(key) or {"picks": [], "shifted": False}
    picks: list[str] = [*state["picks"], chosen][-(window + baseline) :]
    recent, before = picks[-window:], picks[:-window]
    distance = 0.0
    if len(before) >= baseline // 2:
        now, then = _mix(recent), _mix(before)
        distance = math.fsum(abs(now.get(c, 0) - then.get(c, 0)) for c in set(now) | set(then)) / 2
        if distance >= max_shift and not state["shifted"]:
            top = max(now, key=now.__getitem__)
            yield Finding(
                KEY,
                "medium",
                0.7,
                f"Classifier '{attr(span, 'dify.node.title', span.name)}' shifted its class mix: '{top}' is now "
                f"{now[top]:.0%} of the last {len(recent)} picks against {then.get(top, 0):.0%} before.",
                {
                    "node": attr(span, "dify.node.title", span.name),
                    "rule": f"class mix moved >= max_shift ({max_shift})",
                    "recent": now,
                    "baseline": then,
                    "distance": round(distance, 2),
                },
                span_id(span),
            )
    trace.baselines.put(key, {"picks": picks, "shifted": distance >= max_shift})

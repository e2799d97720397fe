"""What the past picks alike say of a pick: the vote of `dify_classifier_drift`'s `vocabulary` rule."""

from __future__ import annotations

import math
from typing import Any

from detectors import Finding, attr, span_id
from detectors.class_names import is_catch_all
from detectors.past_picks import KEY, Near, Weights


def vote(
    span: Any, question: str, chosen: str, near: list[Near], served: bool, named: list[str], cfg: Weights
) -> Finding | None:
    """Fires when the past questions alike in words (`near`: the profile's neighbours, voters the chosen class) filed
    under another class far outweigh those under the chosen one and any third. One past pick alike is never enough
    (it is as likely the wrong one). A pick flagged before speaks only for itself: it keeps a right pick of its class
    from being flagged again, and never votes against another class's pick. `served`: the question is served alike
    under the chosen class (`served_alike`): one pick of it at least, whatever the profile's window still holds.
    `named`: the classes the question names whole (not the chosen one): one of them outvoting the rest need only
    outweigh them, as against a catch-all (the name breaks a tie)."""
    close = [n for n in near if n[0] >= cfg.similarity]
    votes: dict[str, list[Near]] = {}
    for neighbour in close:
        votes.setdefault(neighbour[1], []).append(neighbour)
    weight = {name: math.fsum(n[0] * n[3] for n in alike) for name, alike in votes.items()}
    if served:
        weight[chosen] = max(weight.get(chosen, 0.0), 1.0)
    best = max((name for name in weight if name != chosen), key=weight.__getitem__, default=None)
    # Against it: the chosen class and any third one (past picks that disagree among themselves are no guide).
    against = sum(weight.values()) - weight[best] if best is not None else 0.0
    ratio = cfg.evidence_ratio_catch_all if is_catch_all(chosen) or best in named else cfg.evidence_ratio
    if best is None or weight[best] < cfg.evidence or weight[best] < ratio * against:
        return None
    title = attr(span, "dify.node.title", span.name)
    alike = [f"{text[:80]} ({similarity:.2f})" for similarity, _, text, _ in votes[best][:3]]
    return Finding(
        KEY, "medium", 0.75,
        f"Classifier '{title}' picked '{chosen}', but {sum(n[3] for n in votes[best])} past questions like this one "
        f"were filed under '{best}' and {sum(n[3] for n in votes.get(chosen, []))} under '{chosen}'.",
        {"node": title, "rule": f"past picks alike (similarity >= {cfg.similarity}) under another class weigh "
         f">= {cfg.evidence} and >= {ratio}x those under the chosen one and any other",
         "question": question[:200], "chosen": chosen, "past_picks_say": best, "alike_under_it": alike,
         "alike_under_chosen": [f"{t[:80]} ({s:.2f})" for s, _, t, _ in votes.get(chosen, [])[:3]],
         "weights": {name: round(value, 2) for name, value in weight.items()}},
        span_id(span),
    )  # fmt: skip

"""`dify_classifier_drift`: a question classifier's pick that contradicts the question.

Fires when the classifier picks a catch-all class (other, general, fallback…) although the question names
a specific class, or picks a class the question shares no word with while naming another class. Reads the
categories and the question from the classifier's own prompt (Dify's `categories` JSON), so it needs no
configuration. Run over run it learns, per app and classifier node, each class's vocabulary from the
questions filed under it (naive Bayes over words, and character pairs for Chinese and Japanese), and fires
when a question's words speak far more for another class than for the one picked, even when the question
names no class. The app's class mix against its own past is watched too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, json_attr, json_value, span_id

KEY = "dify_classifier_drift"
_CATCH_ALL = re.compile(r"(?i)\b(?:other|others|else|misc|miscellaneous|unknown|fallback|general|none|default)\b")
_WORD = re.compile(r"[a-z]{4,}")


class Config(DetectorConfig):
    # Picks compared: the last `window` against the `baseline` before them (per app and classifier node).
    window: int = Field(default=20, ge=5)
    baseline: int = Field(default=100, ge=10)
    # Fire when the two class mixes differ by at least this total variation distance (0 to 1).
    max_shift: float = Field(default=0.5, gt=0, le=1)
    # Learn each class's vocabulary from past picks and fire on picks it contradicts. Off by default: on the
    # first held-out corpus it flagged 1.4 % of clean runs (an early misfiled question, learned before there
    # was history to judge it, makes later right picks of it look wrong); docs/detectors.md has its figures.
    vocabulary: bool = False
    # Picks a classifier node must have made, and picks of a class, before its vocabulary is trusted.
    vocabulary_history: int = Field(default=20, ge=1)
    class_history: int = Field(default=3, ge=1)
    # Fire when another class explains the question's words this many times (natural log) better.
    vocabulary_margin: float = Field(default=5.0, gt=0)


def _mix(picks: list[str]) -> dict[str, float]:
    return {name: picks.count(name) / len(picks) for name in set(picks)}


def _shift(trace: Trace, span: Any, chosen: str, cfg: Config) -> Iterator[Finding]:
    """The app's recent class mix against its baseline; records this pick. Fires when the shift first
    crosses `max_shift`, not again on every run while it lasts."""
    key = f"{KEY}:{trace.app}:{attr(span, 'dify.node.id')}"
    state = trace.baselines.get(key) or {"picks": [], "shifted": False}
    picks: list[str] = [*state["picks"], chosen][-(cfg.window + cfg.baseline) :]
    recent, before = picks[-cfg.window :], picks[: -cfg.window]
    distance = 0.0
    if len(before) >= cfg.baseline // 2:
        now, then = _mix(recent), _mix(before)
        distance = sum(abs(now.get(c, 0) - then.get(c, 0)) for c in set(now) | set(then)) / 2
        if distance >= cfg.max_shift and not state["shifted"]:
            top = max(now, key=now.__getitem__)
            yield Finding(
                KEY,
                "medium",
                0.7,
                f"Classifier '{attr(span, 'dify.node.title', span.name)}' shifted its class mix: '{top}' is now "
                f"{now[top]:.0%} of the last {len(recent)} picks against {then.get(top, 0):.0%} before.",
                {
                    "node": attr(span, "dify.node.title", span.name),
                    "rule": f"class mix moved >= max_shift ({cfg.max_shift})",
                    "recent": now,
                    "baseline": then,
                    "distance": round(distance, 2),
                },
                span_id(span),
            )
    trace.baselines.put(key, {"picks": picks, "shifted": distance >= cfg.max_shift})


_TOKEN = re.compile(r"[^\W\d_]{3,}|[\u3040-\u30ff\u4e00-\u9fff]+")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_VOCABULARY_CAP = 2000  # words kept per class; the rarest go first


def _tokens(text: str) -> set[str]:
    tokens: set[str] = set()
    for token in _TOKEN.findall(text.lower()):
        if _CJK.match(token):
            tokens.update(token[i : i + 2] for i in range(max(len(token) - 1, 1)))
        else:
            tokens.add(token.rstrip("s"))
    return tokens


def _vocabulary(trace: Trace, span: Any, question: str, chosen: str, cfg: Config) -> Iterator[Finding]:
    """Naive Bayes over the classes' past questions; learns from this pick unless it looks wrong."""
    key = f"{KEY}:vocabulary:{trace.app}:{attr(span, 'dify.node.id')}"
    state = trace.baselines.get(key) or {"picks": {}, "words": {}}
    picks: dict[str, int] = state["picks"]
    words: dict[str, dict[str, int]] = state["words"]
    tokens = _tokens(question)
    total = sum(picks.values())
    scores: dict[str, tuple[float, list[str]]] = {}
    if total >= cfg.vocabulary_history and picks.get(chosen, 0) >= cfg.class_history:
        known = {t for t in tokens if any(t in w for w in words.values())}
        size = len(set().union(*words.values())) + 1
        for name, count in picks.items():
            if count < cfg.class_history:
                continue
            seen = words.get(name, {})
            mass = sum(seen.values())
            score = math.log(count / total) + sum(math.log((seen.get(t, 0) + 0.5) / (mass + 0.5 * size)) for t in known)
            scores[name] = (score, sorted(t for t in known if seen.get(t)))
    best = max(scores, key=lambda name: scores[name][0]) if scores else chosen
    if best != chosen and scores[best][0] - scores[chosen][0] >= cfg.vocabulary_margin:
        title = attr(span, "dify.node.title", span.name)
        yield Finding(
            KEY, "medium", 0.75,
            f"Classifier '{title}' picked '{chosen}', but the question's words belong to '{best}' in its past "
            f"{picks[best]} picks ({', '.join(scores[best][1][:5])}).",
            {"node": title, "rule": "past picks' vocabulary speaks for another class", "question": question[:200],
             "chosen": chosen, "vocabulary_says": best, "words_for_it": scores[best][1][:10],
             "words_for_chosen": scores[chosen][1][:10], "margin": round(scores[best][0] - scores[chosen][0], 1)},
            span_id(span),
        )  # fmt: skip
        return
    picks[chosen] = picks.get(chosen, 0) + 1
    seen = words.setdefault(chosen, {})
    for token in tokens:
        seen[token] = seen.get(token, 0) + 1
    if len(seen) > _VOCABULARY_CAP:
        for token in sorted(seen, key=seen.__getitem__)[: len(seen) - _VOCABULARY_CAP]:
            del seen[token]
    trace.baselines.put(key, state)


def _words(text: str) -> set[str]:
    return {word.rstrip("s") for word in _WORD.findall(text.lower())}


def _request(span: Any) -> tuple[str, list[str]] | None:
    """(question, category names) from the last user message of the classifier's prompt."""
    attributes = attributes_of(span)
    contents = [v for k, v in attributes.items() if k.startswith("llm.input_messages.") and k.endswith(".content")]
    for content in reversed(contents):
        request = json_value(str(content).strip())  # msgspec, cached; not JSON: the text itself, skipped
        if isinstance(request, dict) and isinstance(request.get("categories"), list):
            texts = request.get("input_text") or [""]
            names = [str(c.get("category_name", "")) for c in request["categories"] if isinstance(c, dict)]
            return str(texts[0] if isinstance(texts, list) and texts else texts), names
    return None


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        for span in trace.of_type("question-classifier"):
            request, outputs = _request(span), json_attr(span, "output.value")
            chosen = outputs.get("class_name") if isinstance(outputs, dict) else None
            if not isinstance(chosen, str):
                continue
            yield from _shift(trace, span, chosen, cfg)
            if request is None:
                continue
            question, names = request
            asked = _words(question)
            named = [n for n in names if n != chosen and not _CATCH_ALL.search(n) and _words(n) & asked]
            if not named:
                if cfg.vocabulary:
                    yield from _vocabulary(trace, span, question, chosen, cfg)
                continue
            title = attr(span, "dify.node.title", span.name)
            rule = "the question names another class than the pick"
            evidence = {"node": title, "rule": rule, "question": question[:200], "chosen": chosen, "matching": named}
            if _CATCH_ALL.search(chosen):
                yield Finding(
                    KEY,
                    "medium",
                    0.8,
                    f"Classifier '{title}' filed the question under the catch-all '{chosen}' although it "
                    f"names '{named[0]}'; review the class descriptions.",
                    evidence,
                    span_id(span),
                )
            elif not _words(chosen) & asked:
                yield Finding(
                    KEY,
                    "medium",
                    0.75,
                    f"Classifier '{title}' picked '{chosen}', which the question does not mention, over "
                    f"'{named[0]}', which it does.",
                    evidence,
                    span_id(span),
                )

    return detect

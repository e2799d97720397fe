"""`dify_model_fallback`: an LLM node silently answering with another model.

Fires when an LLM node's answer came from a model other than the one it was configured with (Dify's
`inputs.model_name` against the model that answered), or from a model none of its runs of the same
workflow version used (or used in under a tenth of them beside a model used in half at least: a fallback
that happened before), once there are `min_history` of them. A switch that lasts keeps firing for its
first `min_history` runs: the runs since the switch are set aside, and the model is judged against the
runs before them (a fallback rarely ends after one run). A node may use several models (a provider's load
balancing): only a model new or rare to its history counts, and models taking turns are no streak. A node whose
history holds more than `max_models` models has no usual model to fall back from (a router, a benchmark,
spans of another service naming a model each): it is not judged. A new workflow
version (another `dify.workflow.id`) is a deliberate change: it keeps a history of its own, so runs of two
versions taking turns do not wipe each other's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, json_attr, span_id

KEY = "dify_model_fallback"
# Runs of a node's model history kept (one model a run; two when rounds of one run balanced between them).
_HISTORY = 50
# Histories remembered as written (apps x LLM nodes x versions; more are read by family every run).
_KEYS = 4096
# A model a node's history used in under 1 / _RARE of its runs is still a switch when it answers again.
_RARE = 10


class Config(DetectorConfig):
    # Runs of a node before another model counts as a fallback; a switch fires for this many runs in a row.
    min_history: int = Field(default=5, ge=1)
    # Distinct models a node's history may hold and the node still be judged.
    max_models: int = Field(default=8, ge=1)


# A dated snapshot or alias of a model: providers answer with the snapshot a name points to (OpenAI reports
# `gpt-4o-mini-2024-07-18` for `gpt-4o-mini`, `gpt-4-0613`; Anthropic `claude-3-5-sonnet-20241022` for
# `claude-3-5-sonnet-latest`; Vertex `@20240620`): the same model, no fallback.
_SNAPSHOT = re.compile(r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})|-latest)$")


@lru_cache(maxsize=1024)  # an app's few model names, in every run
def family(model: str) -> str:
    """The model a name stands for, its snapshot date or alias dropped."""
    return _SNAPSHOT.sub("", model.strip().lower())


def _title(span: ReadableSpan) -> str:
    return str(attr(span, "dify.node.title", span.name))


def _recent(stored: Any) -> list[str]:
    """The node's models by family, oldest first. Earlier releases kept counts by model: those become a history
    in no particular order; and raw names (a store written before families), which are read as their family."""
    if isinstance(stored, dict):
        models = [model for model, runs in stored.items() for _ in range(int(runs))][-_HISTORY:]
    else:
        models = list(stored or [])
    return [family(str(model)) for model in models]


def _streak(recent: list[str], used: str) -> int:
    """How many of the latest runs in `recent` used `used`, in a row."""
    if recent.count(used) == len(recent):  # most runs: the node always used it, told in one pass at C speed
        return len(recent)
    return next(i for i, model in enumerate(reversed(recent)) if model != used)


def _rare(model: str, before: list[str]) -> bool:
    """A model the node's history never used, or used in under a tenth of its runs while one model took half
    of them at least: a fallback that happened before is one still (a node balancing between models has no
    model that rare beside one that usual)."""
    used = before.count(model)
    if not used:
        return True
    return used * _RARE < len(before) and max(Counter(before).values()) * 2 >= len(before)


def create(cfg: Config) -> object:
    # Baseline key → the history this detector last put there, already by family: read as it is when the
    # baselines hand that very list back (every run, in one process), instead of naming fifty models anew.
    written: dict[str, list[str]] = {}

    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        version = str(attr(root, "dify.workflow.id") or "") if root is not None else ""
        # Node → model → the first span that answered with it: the history counts runs, not executions (an
        # iteration's rounds are one run).
        answered: dict[str, dict[str, ReadableSpan]] = {}
        mismatched: set[int] = set()  # spans already reported for answering with another model than configured
        for span in trace.llm_spans:
            used = attr(span, "gen_ai.request.model")
            if not used:
                continue
            inputs = json_attr(span, "input.value")
            configured = inputs.get("model_name") if isinstance(inputs, dict) else None
            if configured and family(str(configured)) != family(str(used)):
                yield Finding(
                    KEY,
                    "high",
                    0.9,
                    f"LLM node '{_title(span)}' is configured for {configured} but {used} answered; find out "
                    "why the provider fell back.",
                    {
                        "node": _title(span),
                        "rule": "inputs.model_name differs from the model that answered",
                        "configured": configured,
                        "used": used,
                    },
                    span_id(span),
                )
                mismatched.add(span_id(span))
            node = answered.setdefault(str(attr(span, "dify.node.id") or span.name), {})
            node.setdefault(family(str(used)), span)
        for node_id, models_used in answered.items():
            key = f"{KEY}:{trace.app}:{node_id}:{version}"
            stored = trace.baselines.get(key)
            last = written.get(key)
            recent = last if last is not None and stored is last else _recent(stored)
            for used, span in models_used.items():
                # A switch that lasts: the runs since it (the streak) are set aside, and the runs before
                # them never used this model.
                streak = _streak(recent, used)
                before = recent[: len(recent) - streak]
                if (
                    len(before) >= cfg.min_history
                    and streak < cfg.min_history
                    and _rare(used, before)
                    and len(set(before)) <= cfg.max_models
                    and span_id(span) not in mismatched
                ):
                    counts = dict(Counter(before))
                    usual = max(counts, key=counts.__getitem__)
                    runs = len(before)
                    had = counts.get(used, 0)
                    none = f"in {had} of" if had else "none of"
                    rule = f"a model {none} the node's last {runs} runs used"
                    if streak:
                        rule = f"a model {none} the node's {runs} runs before it used, {streak + 1} runs in a row"
                    yield Finding(
                        KEY, "medium", 0.8,
                        f"LLM node '{_title(span)}' answered with {used}; its last {runs} runs of this "
                        f"workflow version used {', '.join(sorted(counts))}"
                        f"{f' (and {used} since {streak} runs)' if streak else ''}.",
                        {"node": _title(span), "rule": rule, "usual": usual, "history": counts, "used": used,
                         "runs": runs, "streak": streak},
                        span_id(span),
                    )  # fmt: skip
            kept = [*recent, *sorted(models_used)][-_HISTORY:]
            trace.baselines.put(key, kept)
            if len(written) >= _KEYS:  # apps and nodes come from outside
                written.clear()
            written[key] = kept

    return detect

"""`dify_model_fallback`: an LLM node silently answering with another model.

Fires when an LLM node's answer came from a model other than the one it was configured with (Dify's
`inputs.model_name` against the model that answered), or from a model none of its runs of the same
workflow version used (or used in under a tenth of them beside a model used in half at least: a fallback
that happened before), once there are `min_history` of them. A switch that lasts keeps firing for its
first `min_history` runs: the runs since the switch are set aside, and the model is judged against the
runs before them (a fallback rarely ends after one run). A node may use several models (a provider's load
balancing): only a model new or rare to its history counts, and models taking turns are no streak. A node whose
history holds more than `max_models` models has no usual model to fall back from (a router, a benchmark,
spans of another service naming a model each): it is not judged. A new workflow version (another
`dify.workflow.id`) keeps a history of its own for these rules, so runs of two versions taking turns do not wipe
each other's.

Across versions: Dify 1.14.1 shows a node's model change only as a republished app (its events carry the node's
configured model, which is the one that answered), so the node's runs of every version are kept too, with the
prices per token Dify paid for each model, and each version with the node's usual model before its first run (the
model of 4 in 5 of its last `cheaper_window` runs). A run of a version that put the node, within the same provider,
on a model at least 30 % cheaper per token (prompt and completion) than that usual one, on an older generation of
its line (`gpt-4o-mini` → `gpt-3.5-turbo`, `claude-3-5-haiku` → `claude-3-haiku`: dearer per token at times, weaker
still) or on another price class (both prices `dearer_factor` times the usual's or more: a mini model's node on the
full-size one) is flagged, every run of that version: the labels of every real recording and of the later
synthetic sets call such a republish a fault for as long as it lasts. A later version keeping the model takes it as
the node's usual (it answered most runs before that version). A new generation's successor (`gpt-4o-mini` →
`gpt-4.1-mini`, 2.7x; `gpt-4o` → `gpt-4.1`, 0.8x) is an upgrade; a model of another provider a migration set up on
purpose; a model never priced is judged by its generation only. Without a version change, a model cheaper than the
node's usual one is flagged until it has answered `cheaper_window` runs in a row (it then fills that window).

A model the node's title names (`Answer (GPT-4o)`) is no silent switch, whatever the rules above: the app's author
put the node on it and said so (held-out 14's announced upgrade; no real recording's republish renamed a node).
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
# A node's usual model answered at least (_USUAL - 1) / _USUAL of its runs (models taking turns have none).
_USUAL = 5
# A model is cheaper when both its prices per token are at most this share of the usual model's: a smaller
# model (mini → nano is 2/3), not a new generation of the same one at a list price a fifth lower.
_CHEAPER = 0.7
# (price, tokens) attributes of a node's prompt and of its completion (OpenInference's, as the bridge writes them).
_PRICED = (("llm.cost.prompt", "llm.token_count.prompt"), ("llm.cost.completion", "llm.token_count.completion"))
# Workflow versions a node's history remembers the usual model before (a version seen again after more is new).
_VERSIONS = 16


class Config(DetectorConfig):
    # Runs of a node before another model counts as a fallback; a switch fires for this many runs in a row.
    min_history: int = Field(default=5, ge=1)
    # Distinct models a node's history may hold and the node still be judged.
    max_models: int = Field(default=8, ge=1)
    # A node's usual model is the one that answered 4 in 5 of its last `cheaper_window` runs (any workflow
    # version); a version moving it to a cheaper one, an older generation or another price class is flagged on
    # each of its runs, and a move to a cheaper one without a new version until it has answered that many runs in
    # a row, filling the window (then it is the node's usual). 0: moves across versions are not judged.
    cheaper_window: int = Field(default=20, ge=0, le=_HISTORY)
    # A workflow version putting a node on a model of the same provider whose prices per token are both at least this
    # many times the node's usual model's before the version is flagged on every run of it: a mini model's node on
    # the full-size one is 5x and more, while a generation's successor lists at 0.8-4x (an upgrade). None: a
    # dearer model is left to `cost`. Read with `cheaper_window` (0 turns this off too).
    dearer_factor: float | None = Field(default=5.0, gt=1)


# A dated snapshot or alias of a model: providers answer with the snapshot a name points to (OpenAI reports
# `gpt-4o-mini-2024-07-18` for `gpt-4o-mini`, `gpt-4-0613`; Anthropic `claude-3-5-sonnet-20241022` for
# `claude-3-5-sonnet-latest`; Vertex `@20240620`): the same model, no fallback.
_SNAPSHOT = re.compile(r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})|-latest)$")


@lru_cache(maxsize=1024)  # an app's few model names, in every run
def family(model: str) -> str:
    """The model a name stands for, its snapshot date or alias dropped."""
    return _SNAPSHOT.sub("", model.strip().lower())


# A model's line and generation, at the start of its name: `gpt-3.5-turbo` (gpt 3.5), `gpt-4o-mini` (gpt 4),
# `claude-3-5-haiku` (claude 3.5), `claude-sonnet-4-5` (claude-sonnet 4.5), `gemini-2.0-flash`, `qwen2.5-72b`; a
# digit glued to letters after the generation is a size (`llama-3-8b` is llama 3).
_GENERATION = re.compile(r"([a-z][a-z-]*?)-?(\d+)(?:[.-](\d)(?![\w.]))?")


@lru_cache(maxsize=1024)
def generation(model: str) -> tuple[str, float] | None:
    """(line, generation) of a model family's name (a router's `vendor/` prefix dropped); None for a name
    without one (`qwen-max`, `deepseek-chat`)."""
    found = _GENERATION.match(model.rsplit("/", 1)[-1])
    if found is None:
        return None
    line, major, minor = found.groups()
    return line.rstrip("-"), float(f"{major}.{minor or 0}")


@lru_cache(maxsize=1024)
def _named(model: str) -> re.Pattern[str]:
    # The model's name whole: `gpt-4o` in "Answer (GPT-4o)", not in "GPT-4o mini" (`gpt-4o-mini`) nor "gpt-4o.1".
    return re.compile(rf"(?<![\w.-]){re.escape(model)}(?![\w]|[-.]\w)")


@lru_cache(maxsize=1024)  # an app's few nodes and models, in every run
def announced(title: str, model: str) -> bool:
    """The node's title names `model` (its family, a router's `vendor/` prefix dropped; spaces read as `-`): the app's
    author put the node on that model and said so, no silent switch."""
    name = family(model).rsplit("/", 1)[-1]
    return bool(name) and _named(name).search("-".join(title.lower().split())) is not None


def _older(used: str, usual: str) -> bool:
    """`used` an earlier generation of `usual`'s line."""
    new, old = generation(used), generation(usual)
    return new is not None and old is not None and new[0] == old[0] and new[1] < old[1]


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


def _node_history(stored: Any) -> dict[str, Any]:
    """The node's models across versions, oldest first, each model's first per-token prices and provider, and each
    workflow version's usual model before its first run ("" for none)."""
    if not isinstance(stored, dict):
        return {"runs": [], "prices": {}, "versions": {}}
    prices, versions = stored.get("prices"), stored.get("versions")
    return {"runs": _recent(stored.get("runs")), "prices": prices if isinstance(prices, dict) else {},
            "versions": versions if isinstance(versions, dict) else {}}  # fmt: skip


def _rare(model: str, before: list[str]) -> bool:
    """A model the node's history never used, or used in under a tenth of its runs while one model took half
    of them at least: a fallback that happened before is one still (a node balancing between models has no
    model that rare beside one that usual)."""
    used = before.count(model)
    if not used:
        return True
    return used * _RARE < len(before) and max(Counter(before).values()) * 2 >= len(before)


def _priced(span: ReadableSpan) -> list[Any] | None:
    """The node's price per prompt and per completion token in this run (Dify's usage: what it paid the
    provider) and its provider; None when it did not price them (a self-hosted model, a provider without prices)."""
    priced: list[Any] = []
    for cost, tokens in _PRICED:
        try:
            price, count = float(attr(span, cost)), float(attr(span, tokens))
        except (TypeError, ValueError):
            return None
        if price <= 0 or count <= 0:
            return None
        priced.append(price / count)
    return [*priced, str(attr(span, "gen_ai.provider.name") or "")]


def _kept(usual: Any) -> bool:
    """Prices as the baselines keep them: prompt, completion, provider."""
    return isinstance(usual, list) and len(usual) == 3


def _cheaper(new: list[Any], usual: Any) -> bool:
    """Both per-token prices at least 30 % under the usual model's (`usual` as the baselines kept it), from the same
    provider: a move to another provider's model is a migration (its credentials set up on purpose), while a
    downgrade or fallback stays with the provider the node was set up with."""
    if not _kept(usual) or (new[2] and usual[2] and new[2] != usual[2]):
        return False
    return bool(new[0] <= float(usual[0]) * _CHEAPER and new[1] <= float(usual[1]) * _CHEAPER)


def _usual(before: list[str], min_history: int) -> tuple[str, int] | None:
    """The model of 4 in 5 of `before` at least, and how many of them it answered; None for too few runs or none
    that usual (models taking turns)."""
    if len(before) < min_history:
        return None
    usual, runs = Counter(before).most_common(1)[0]
    return (usual, runs) if runs * _USUAL >= len(before) * (_USUAL - 1) else None


def create(cfg: Config) -> object:
    # Baseline key → what this detector last put there (a version's history, or a node's runs and prices), already
    # by family: read as it is when the baselines hand that very value back (every run, in one process), instead
    # of naming fifty models anew.
    written: dict[str, Any] = {}

    def remembered(trace: Trace, key: str, read: Any) -> Any:
        stored = trace.baselines.get(key)
        last = written.get(key)
        return last if last is not None and stored is last else read(stored)

    def keep(trace: Trace, key: str, value: Any) -> None:
        trace.baselines.put(key, value)
        if len(written) >= _KEYS:  # apps and nodes come from outside
            written.clear()
        written[key] = value

    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        version = str(attr(root, "dify.workflow.id") or "") if root is not None else ""
        # Node → model → the first span that answered with it: the history counts runs, not executions (an
        # iteration's rounds are one run).
        answered: dict[str, dict[str, ReadableSpan]] = {}
        reported: set[int] = set()  # spans already reported
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
                reported.add(span_id(span))
            node = answered.setdefault(str(attr(span, "dify.node.id") or span.name), {})
            node.setdefault(family(str(used)), span)
        for node_id, models_used in answered.items():
            key = f"{KEY}:{trace.app}:{node_id}:{version}"
            recent = remembered(trace, key, _recent)
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
                    and span_id(span) not in reported
                    and not announced(_title(span), used)
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
                    reported.add(span_id(span))
            keep(trace, key, [*recent, *sorted(models_used)][-_HISTORY:])
            if cfg.cheaper_window and (moved := _across_versions(trace, node_id, version, models_used, reported)):
                yield from moved

    def _across_versions(
        trace: Trace, node_id: str, version: str, models_used: dict[str, ReadableSpan], reported: set[int]
    ) -> list[Finding]:
        """The node's runs across workflow versions (a republished app keeps its nodes): a model cheaper per token
        than the one that answered most of them, for the first runs after the move; and every run of a version that
        put the node on an older generation or another price class than its usual model before the version."""
        key = f"{KEY}:{trace.app}:{node_id}"
        found: list[Finding] = []
        history = remembered(trace, key, _node_history)
        recent, prices, versions = history["runs"], history["prices"], history["versions"]
        if version not in versions:  # its first run: the node's usual model before it
            was = _usual(recent[-cfg.cheaper_window :], cfg.min_history)
            versions = {**dict(list(versions.items())[1 - _VERSIONS :]), version: was[0] if was else ""}
        for used, span in models_used.items():
            if used not in prices and (first := _priced(span)) is not None:
                prices = {**prices, used: first}  # a model's first prices: they change seldom
            if span_id(span) in reported:
                continue
            moved = _moved_to_cheaper(recent, used, span, prices)
            # A version putting the node back on the first model it was seen to use is a rollback, however long
            # the republish it ends lasted (held-out 18: a classifier back on gpt-4o-mini after weeks on nano).
            first = next((model for model in versions.values() if model), None)
            if moved is None and (was := versions[version]) and was != used and used != first:
                moved = _republished(span, used, was, version, prices.get(was), prices.get(used))
            if moved is not None and not announced(_title(span), used):
                found.append(moved)
        kept = [*recent, *sorted(models_used)][-_HISTORY:]
        if len(prices) > cfg.max_models:  # models gone from the history
            prices = {model: price for model, price in prices.items() if model in kept}
        keep(trace, key, {"runs": kept, "prices": prices, "versions": versions})
        return found

    def _moved_to_cheaper(recent: list[str], used: str, span: ReadableSpan, prices: dict[str, Any]) -> Finding | None:
        """A model cheaper per token than the node's usual one, until it has answered `cheaper_window` runs in a
        row."""
        streak = _streak(recent, used)
        if streak == len(recent) or streak >= cfg.cheaper_window:
            return None  # most runs: the model of every run before
        before = recent[: len(recent) - streak][-cfg.cheaper_window :]
        usual_runs = _usual(before, cfg.min_history)
        if usual_runs is None or not _rare(used, before):
            return None
        usual, runs = usual_runs
        new, old = _priced(span), prices.get(usual)
        if new is None or not _cheaper(new, old):
            return None
        both: tuple[tuple[str, Any], ...] = ((usual, old), (used, new))
        return Finding(
            KEY, "medium", 0.8,
            f"LLM node '{_title(span)}' answered with {used}, cheaper per token than {usual}, which "
            f"answered {runs} of its {len(before)} runs before"
            f"{f' ({used} since {streak} runs)' if streak else ''}.",
            {"node": _title(span), "rule": "a cheaper model than the node's usual one", "usual": usual,
             "usual_share": f"{runs} of {len(before)}", "used": used, "streak": streak,
             "price_per_1m_tokens": {model: [round(p * 1e6, 4) for p in price[:2]]
                                     for model, price in both}},
            span_id(span),
        )  # fmt: skip

    def _republished(span: ReadableSpan, used: str, was: str, version: str, old: Any, known: Any) -> Finding | None:
        """A run of a version that moved the node from `was` (its usual model before the version, `old` its prices)
        to an older generation of its line, a model 30 % cheaper per token or one `dearer_factor` times dearer, same
        provider (`known`: `used`'s prices from an earlier run, for a call Dify did not price, such as one refused
        for its prompt's length)."""
        new = _priced(span) or (known if _kept(known) else None)
        provider = str(attr(span, "gen_ai.provider.name") or "")
        if _kept(old) and old[2] and provider and old[2] != provider:
            return None  # another provider's model: a migration
        factor = cfg.dearer_factor
        dearer = min(new[0] / float(old[0]), new[1] / float(old[1])) if new is not None and _kept(old) else 0.0
        if _older(used, was):
            rule, why = "an older generation than the node's usual model before this version", "an older generation"
        elif new is not None and _cheaper(new, old):
            rule, why = "a cheaper model than the node's usual one before this version", "cheaper per token"
        elif factor and dearer >= factor:
            rule = f"a model >= dearer_factor ({factor:g}) x the node's usual one's price per token, since this version"
            why = f"{dearer:.1f}x dearer per token"
        else:
            return None
        evidence: dict[str, Any] = {"node": _title(span), "rule": rule, "usual": was, "used": used,
                                    "workflow_version": version}  # fmt: skip
        if new is not None and _kept(old):
            evidence["price_per_1m_tokens"] = {
                model: [round(float(p) * 1e6, 4) for p in price[:2]] for model, price in ((was, old), (used, new))
            }
        return Finding(
            KEY, "medium", 0.8,
            f"LLM node '{_title(span)}' answers with {used} since workflow version {version}, {why} than {was}, "
            "its usual model before that version.",
            evidence, span_id(span),
        )  # fmt: skip

    return detect

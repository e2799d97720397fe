"""`cost`: a run or a node over its configured budget, or dear against its own history (prices as Dify computed
them): a run against its app's rolling median (while the app has fewer runs than that takes, against the median
of those few by a larger factor), a node against its own (its executions in a run summed: a loop running away calls
one LLM node forty times, each call at the usual price). A republish (a new `dify.workflow.id`) whose every model
node names its model in its title, an upgrade its author announced, sets its own level: a run costing what the
version's runs cost is not dear, however far that level is from the app's older runs. A silent one sets none: its
runs are judged against the app's runs before it while the history still holds some."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Severity, Trace, attr, attributes_of, span_id
from detectors.model_fallback import announced

KEY = "cost"
# Histories whose cheapest price is kept in memory beside them (apps x priced nodes; more are read whole).
_KEYS = 4096


class Config(DetectorConfig):
    # Highest acceptable price of one run; None: no run budget.
    budget_per_run: float | None = Field(default=None, gt=0)
    # Highest acceptable price of one node execution; None: no node budget.
    budget_per_node: float | None = Field(default=None, gt=0)
    # A run costing more than this many times its app's rolling median price fires. 5: a long but legitimate
    # input or a loop running to its cap costs 2-4x the usual; a misconfiguration (retrieval top-k, a runaway
    # prompt) costs ten times and more.
    median_factor: float = Field(default=5.0, gt=1)
    # A node costing more than this many times its own rolling median, and at least the app's median run,
    # fires. 10: a cheap node's share of a run hides its growth, so a long but legitimate conversation costs
    # its answering node up to 6x its usual while the run stays under median_factor; a loop running away calls
    # its LLM node 20-60 times. The second condition keeps a cheap node (a classifier) from firing on cents.
    node_median_factor: float = Field(default=10.0, gt=1)
    # Runs the median is taken over, and how many are needed before it is used.
    history: int = Field(default=50, ge=3)
    min_history: int = Field(default=10, ge=3)
    # Before `min_history`, from this many runs on, a run costing more than `early_factor` times the median of
    # them fires: the median of a new app's first runs moves more than a steady one, hence the larger factor, and
    # it passes over an earlier fault among them (real Dify apps' cost faults came at 7.2-24x the median of their
    # 5-9 runs before, and 9.4-16.7x where an earlier long run or a stuck loop had cost 2.5-4x; their clean and
    # other faulty runs at most 4x: tests/testdata/dify-1.14.1-faults*).
    early_history: int = Field(default=5, ge=3)
    early_factor: float = Field(default=8.0, gt=1)
    # A republished workflow version whose every model node's title names the model that answered it (an upgrade
    # announced: `Answer (GPT-4o)`, held-out 14's kept for good) is not dear on its first `early_history` runs, then
    # within `median_factor` of the median of its runs (its level). A silent republish sets no level: its runs are
    # judged against the app's runs before it while the history holds `early_history` of them (a republish on a
    # model 16x dearer per token was a cost fault in every real recording and in held-out 18, whose thirteen runs
    # on it overtook an app's six). Runs of two versions taking turns keep neither's level.
    version_level: bool = True


def _severity(ratio: float) -> Severity:
    return "critical" if ratio >= 10 else "high" if ratio >= 3 else "medium"


class _Histories:
    """The price histories in `trace.baselines`, each with its cheapest price and how often the history holds
    it: whether a price is dear is told against the cheapest first (a median is at least that), and `min`
    over fifty prices was most of what the detector cost a run. Both are kept for the very list last put (told
    by identity, the list held here so no other takes its place) and brought up to date as prices come and
    go; a history another process wrote, or one holding a NaN (`min` then depends on where it stands), is
    read whole."""

    def __init__(self, history: int) -> None:
        self.history = history
        self._known: dict[str, tuple[list[float], float, int]] = {}

    def get(self, trace: Trace, key: str) -> tuple[list[float], float, int]:
        """The history, its cheapest price, and how many of its prices are that (-1: it holds a NaN)."""
        past: list[float] = trace.baselines.get(key) or []
        known = self._known.get(key)
        if known is not None and known[0] is past:
            return known
        cheapest = min(past, default=math.inf)
        return past, cheapest, -1 if any(p != p for p in past) else past.count(cheapest)

    def put(self, trace: Trace, key: str, known: tuple[list[float], float, int], price: float) -> None:
        past, cheapest, ties = known
        cut = len(past) + 1 - self.history  # the oldest prices dropped to keep `history`
        kept = past[cut:] if cut > 0 else past[:]
        kept.append(price)
        trace.baselines.put(key, kept)
        if ties < 0 or price != price:
            self._known.pop(key, None)
            return
        gone = past[:cut].count(cheapest) if cut > 0 else 0
        if gone >= ties:  # every copy of the cheapest dropped (or none yet): read the rest
            cheapest = min(kept)
            ties = kept.count(cheapest)
        elif price <= cheapest:
            ties = ties - gone + 1 if price == cheapest else 1
            cheapest = price
        else:
            ties -= gone
        if len(self._known) >= _KEYS:  # apps and nodes come from outside
            self._known.clear()
        self._known[key] = (kept, cheapest, ties)


def _version_level(trace: Trace, cfg: Config, price: float) -> tuple[float | None, int]:
    """The median price of the runs of this run's workflow version since the app was republished on it (at most
    `min_history` of them) once there are `early_history` (else None), and how many runs the version made before this
    one since it replaced another (-1: the app's first version, which sets no level: a lasting fault on it is no new
    level). The app's current version, that count (False for the first version) and those prices are kept under one
    key (a version change starts anew)."""
    root = trace.root
    version = attr(root, "dify.workflow.id") if root is not None else None
    if not version:
        return None, -1
    key = f"{KEY}:{trace.app}:version"
    kept = trace.baselines.get(key)
    if not isinstance(kept, list) or len(kept) < 2 or kept[0] != version:
        kept = [version, 0 if isinstance(kept, list) and len(kept) >= 2 else False]
    elif kept[1] is False:
        return None, -1  # the app's first version, as kept: most runs, nothing to write
    if kept[1] is False:
        trace.baselines.put(key, kept)
        return None, -1
    runs = int(kept[1])  # `True` where an earlier release kept no count: one run at least
    past: list[float] = kept[2:]
    trace.baselines.put(key, [version, runs + 1, *past[1 - cfg.min_history :], price])
    return (statistics.median(past) if len(past) >= cfg.early_history else None), runs


def _announced(trace: Trace) -> bool:
    """Every model node of the run names the model that answered it in its title (`Answer (GPT-4o)`): a republish
    on a dearer model the app's author made and said so."""
    named = [announced(str(attr(span, "dify.node.title", "")), str(model)) for span in trace.llm_spans
             if (model := attr(span, "gen_ai.request.model"))]  # fmt: skip
    return bool(named) and all(named)


def _against_median(
    trace: Trace, cfg: Config, price: float, currency: str, runs: tuple[list[float], float, int]
) -> Iterator[Finding]:
    past, cheapest, _ = runs
    early = cfg.early_history <= len(past) < cfg.min_history
    # The median only for a run dearer than the factor times the cheapest past run (the median is at least that).
    # Or, by the smaller median_factor, dearer than even the dearest of them: however far the few runs' median may
    # still move, a run costing that many times every run the app made is outside its range (a feed ignoring its
    # limit, 29 rounds where the app ran at most 5: 7.2x the median, 5.3x the dearest).
    if (
        early
        and price > min(cfg.median_factor, cfg.early_factor) * cheapest
        and (median := statistics.median(past)) > 0
        and (price > cfg.early_factor * median or price > cfg.median_factor * max(past))
    ):
        few = f"fewer than min_history ({cfg.min_history}) past runs"
        by_median = price > cfg.early_factor * median
        yield Finding(
            KEY,
            "medium",
            0.8,
            f"The run cost {price:.6g} {currency}, {price / median:.1f}x the median of the app's {len(past)} runs "
            f"before it, {price / max(past):.1f}x the dearest of them.",
            {
                "node": "the run",
                "rule": f"price > early_factor ({cfg.early_factor}) x the median of {few}"
                if by_median
                else f"price > median_factor ({cfg.median_factor}) x the dearest of {few}",
                "price": price,
                "median": median,
                "dearest": max(past),
                "runs": len(past),
            },
        )
    # No median is taken while even the cheapest past run is within the factor (the median is at least that).
    elif len(past) >= cfg.min_history and cfg.median_factor * cheapest < price:
        median = statistics.median(past)
        if median > 0 and price > cfg.median_factor * median:
            yield Finding(
                KEY,
                "medium",
                0.8,
                f"The run cost {price:.6g} {currency}, {price / median:.1f}x the app's median of {median:.6g} over "
                f"its last {len(past)} runs.",
                {
                    "node": "the run",
                    "rule": f"price > median_factor ({cfg.median_factor}) x the app's median",
                    "price": price,
                    "median": median,
                    "runs": len(past),
                },
            )


def _node_prices(trace: Trace) -> dict[str, tuple[float, int, ReadableSpan]]:
    """Node id → its executions' prices summed in this run, how many executions, and its first span
    (containers left out: their price, where Dify reports one, is their children's)."""
    prices: dict[str, tuple[float, int, ReadableSpan]] = {}
    for span in trace.nodes:
        attributes = attributes_of(span)  # three reads a node: the dict once
        price = attributes.get("dify.price.total")
        if isinstance(price, float) and attributes.get("dify.node.type") not in ("loop", "iteration"):
            node = str(attributes.get("dify.node.id") or span.name)
            total, executions, first = prices.get(node, (0.0, 0, span))
            prices[node] = (total + price, executions + 1, first)
    return prices


def _nodes_against_median(
    trace: Trace, cfg: Config, runs: list[float], cheapest_run: float, histories: _Histories, quiet: bool
) -> Iterator[Finding]:
    """The dearest node of the run costing `node_median_factor` times its own median and at least the app's
    median run (`runs`: the app's past run prices, `cheapest_run` the least of them); none if `quiet` (the
    run already fired: one cause, one finding), the nodes' histories kept all the same."""
    # The medians only for a node dearer than the cheapest past run (the median run is at least that) and
    # than `node_median_factor` times its own cheapest (its median is at least that): most nodes cost a
    # share of a run, and at their usual price, and then no median is taken.
    cheapest = cheapest_run if len(runs) >= cfg.min_history else math.inf
    usual_run = math.inf
    dear: list[tuple[float, float, int, int, ReadableSpan]] = []
    for node, (price, executions, span) in _node_prices(trace).items():
        key = f"{KEY}:{trace.app}:{node}"
        known = histories.get(trace, key)
        past, cheapest_node, _ = known
        if price >= cheapest and len(past) >= cfg.min_history and cfg.node_median_factor * cheapest_node < price:
            usual_run = statistics.median(runs) if usual_run == math.inf else usual_run
            median = statistics.median(past) if price >= usual_run else 0.0
            if median > 0 and price > cfg.node_median_factor * median:
                dear.append((price / median, median, len(past), executions, span))
        histories.put(trace, key, known, price)
    if dear and not quiet:
        ratio, median, count, executions, span = max(dear, key=lambda found: found[0])
        title = attr(span, "dify.node.title", span.name)
        price = ratio * median
        yield Finding(
            KEY,
            "medium",
            0.8,
            f"Node '{title}' cost {price:.6g} in this run, {ratio:.1f}x its median of {median:.6g} over its last "
            f"{count} runs, and more than the app's usual run ({usual_run:.6g}).",
            {
                "node": title,
                "rule": f"node price > node_median_factor ({cfg.node_median_factor}) x the node's median, "
                "and >= the app's median run",
                "price": price,
                "median": median,
                "app_median_run": usual_run,
                "runs": count,
                "executions": executions,
            },
            span_id(span),
        )


def create(cfg: Config) -> object:
    histories = _Histories(cfg.history)

    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        price = attr(root, "dify.price.total") if root is not None else None
        if not isinstance(price, float) and not cfg.budget_per_node:  # an unpriced run (no LLM): nothing to read
            return
        currency = attr(root, "dify.price.currency", "") if root is not None else ""
        if cfg.budget_per_run and isinstance(price, float) and price > cfg.budget_per_run:
            ratio = price / cfg.budget_per_run
            yield Finding(
                KEY,
                _severity(ratio),
                1.0,
                f"The run cost {price:.6g} {currency}, {ratio:.1f}x its budget of {cfg.budget_per_run:g}; "
                "check which node spent it (dify.price.total on each node).",
                {
                    "node": "the run",
                    "rule": "price > budget_per_run",
                    "price": price,
                    "currency": currency,
                    "budget": cfg.budget_per_run,
                },
            )
        if isinstance(price, float):
            runs = histories.get(trace, f"{KEY}:{trace.app}")
            level, since = _version_level(trace, cfg, price) if cfg.version_level else (None, -1)
            # An announced republish (every model node's title names its model: `Answer (GPT-4o)`) is a price its
            # author chose: not dear on its version's first runs, then at its own level (nor are its nodes).
            usual = since >= 0 and _announced(trace) and (level is None or price <= cfg.median_factor * level)
            judged = runs
            if not usual and since > 0 and len(runs[0]) - since >= cfg.early_history:
                # Another is judged against the app's runs before it while the history holds `early_history` of
                # them: its own runs are no usual price yet (a silent republish on a 16x dearer model is a cost fault
                # in every real recording; held-out 18's thirteen runs on gpt-4o overtook an app's six before).
                before = runs[0][:-since]
                judged = (before, min(before), -1)
            dear_run = [] if usual else list(_against_median(trace, cfg, price, currency, judged))
            histories.put(trace, f"{KEY}:{trace.app}", runs, price)
            yield from dear_run
            yield from _nodes_against_median(trace, cfg, runs[0], runs[1], histories, quiet=usual or bool(dear_run))
        if not cfg.budget_per_node:
            return
        for span in trace.nodes:
            node_price = attr(span, "dify.price.total")
            if isinstance(node_price, float) and node_price > cfg.budget_per_node:
                ratio = node_price / cfg.budget_per_node
                yield Finding(
                    KEY,
                    _severity(ratio),
                    1.0,
                    f"Node '{attr(span, 'dify.node.title', span.name)}' cost {node_price:.6g}, {ratio:.1f}x the "
                    f"node budget of {cfg.budget_per_node:g}.",
                    {
                        "node": attr(span, "dify.node.title", span.name),
                        "rule": "node price > budget_per_node",
                        "price": node_price,
                        "budget": cfg.budget_per_node,
                        "model": attr(span, "gen_ai.request.model"),
                    },
                    span_id(span),
                )

    return detect

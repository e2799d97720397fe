"""`cost`: a run or a node over its configured budget (prices as Dify computed them)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

from pydantic import Field

from detectors import DetectorConfig, Finding, Severity, Trace, attr, span_id

KEY = "cost"


class Config(DetectorConfig):
    # Highest acceptable price of one run; None: no run budget.
    budget_per_run: float | None = Field(default=None, gt=0)
    # Highest acceptable price of one node execution; None: no node budget.
    budget_per_node: float | None = Field(default=None, gt=0)
    # A run costing more than this many times its app's rolling median price fires. 5: a long but legitimate
    # input or a loop running to its cap costs 2-4x the usual; a misconfiguration (retrieval top-k, a runaway
    # prompt) costs ten times and more.
    median_factor: float = Field(default=5.0, gt=1)
    # Runs the median is taken over, and how many are needed before it is used.
    history: int = Field(default=50, ge=3)
    min_history: int = Field(default=10, ge=3)


def _severity(ratio: float) -> Severity:
    return "critical" if ratio >= 10 else "high" if ratio >= 3 else "medium"


def _against_median(trace: Trace, cfg: Config, price: float, currency: str) -> Iterator[Finding]:
    key = f"{KEY}:{trace.app}"
    past: list[float] = trace.baselines.get(key) or []
    # No median is taken while even the cheapest past run is within the factor (the median is at least that).
    if len(past) >= cfg.min_history and cfg.median_factor * min(past) < price:
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
    trace.baselines.put(key, [*past, price][-cfg.history :])


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        price = attr(root, "dify.price.total") if root is not None else None
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
            yield from _against_median(trace, cfg, price, currency)
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

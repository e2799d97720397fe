"""`dify_model_fallback`: an LLM node silently answering with another model.

Fires when an LLM node's answer came from a model other than the one it was configured with (Dify's
`inputs.model_name` against the model that answered), or from a model none of its runs of the same
workflow version used, once there are `min_history` of them. A node may use several models (a provider's
load balancing): only a model new to its history counts. A node that has answered with more than
`max_models` models has no usual model to fall back from (a router, a benchmark, spans of another service):
it is judged no more, and its history stops growing, so neither the history nor a finding's text grows with
every model a sender names. A new workflow version (another
`dify.workflow.id`) is a deliberate change: it keeps a history of its own, so runs of two versions taking
turns do not wipe each other's.
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, json_attr, span_id

KEY = "dify_model_fallback"


class Config(DetectorConfig):
    # Runs of a node on one model before another model counts as a fallback.
    min_history: int = Field(default=5, ge=1)
    # Distinct models a node may have answered with and still be judged.
    max_models: int = Field(default=8, ge=1)


def _title(span: ReadableSpan) -> str:
    return str(attr(span, "dify.node.title", span.name))


def create(cfg: Config) -> object:
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
            if configured and configured != used:
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
            answered.setdefault(str(attr(span, "dify.node.id") or span.name), {}).setdefault(str(used), span)
        for node_id, models_used in answered.items():
            key = f"{KEY}:{trace.app}:{node_id}:{version}"
            models: dict[str, int] = trace.baselines.get(key) or {}
            if len(models) > cfg.max_models:
                continue
            runs = sum(models.values())
            if runs >= cfg.min_history:
                for used, span in models_used.items():
                    if used not in models and span_id(span) not in mismatched:
                        usual = max(models, key=models.__getitem__)
                        yield Finding(
                            KEY, "medium", 0.8,
                            f"LLM node '{_title(span)}' answered with {used}; its last {runs} runs of this "
                            f"workflow version used {', '.join(sorted(models))}.",
                            {"node": _title(span), "rule": f"a model none of the node's last {runs} runs used",
                             "usual": usual, "history": dict(models), "used": used, "runs": runs},
                            span_id(span),
                        )  # fmt: skip
            for used in models_used:
                models[used] = models.get(used, 0) + 1
            trace.baselines.put(key, models)

    return detect

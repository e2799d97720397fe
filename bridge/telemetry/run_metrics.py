"""Metrics of the runs themselves, read from each trace's spans when it is queued: what a Grafana dashboard
of Dify in production shows. Names follow the OpenTelemetry GenAI conventions where one exists
(`gen_ai.client.token.usage`), `dify.*` otherwise; Prometheus shows dots as underscores.

- `dify.workflow.runs` (counter): runs, by `dify.app.name` and `dify.run.status`
- `dify.node.duration` (histogram, s): node executions, by `dify.node.type`
- `gen_ai.client.token.usage` (histogram): tokens per LLM call, by `gen_ai.token.type` (input, output),
  `gen_ai.request.model`, `gen_ai.provider.name`, `gen_ai.operation.name`
- `dify.cost` (counter): LLM cost, by `dify.app.name`, `gen_ai.request.model` and `dify.price.currency`

Spans of other sources passed through the `otlp` receiver count too where they carry GenAI or
OpenInference token attributes. Every label value read from a run goes through `label`: `/metrics` is read
without authentication, and an app, node or model name may hold a secret.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.values import as_number
from bridge.processors import redact
from bridge.telemetry.series import Key, Measurement
from bridge.trace import attributes as a

if TYPE_CHECKING:
    from bridge.telemetry.aggregates import Aggregates

RUNS, NODE_DURATION, TOKENS, COST = "dify.workflow.runs", "dify.node.duration", "gen_ai.client.token.usage", "dify.cost"

# The GenAI conventions' advised buckets for token counts, and seconds for node durations.
_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
_REDACT = redact.create(redact.Config())
_TOKEN_KEYS = (
    ("input", a.GEN_AI_INPUT_TOKENS, a.OI_TOKENS_PROMPT),
    ("output", a.GEN_AI_OUTPUT_TOKENS, a.OI_TOKENS_COMPLETION),
)


@functools.lru_cache(maxsize=4096)  # label values repeat from run to run
def label(value: object) -> str:
    """A label value from run data, with secrets and personal data masked as the default `redact` masks them."""
    return _REDACT.redact_text(str(value))


def declare(aggregates: Aggregates) -> None:
    """The series `measurements` record into."""
    aggregates.counter(RUNS, "{run}", "Workflow runs, by app and status")
    aggregates.histogram(NODE_DURATION, "s", "Node execution time, by node type", _DURATION_BUCKETS)
    aggregates.histogram(TOKENS, "{token}", "Tokens used per LLM call, by token type and model", _TOKEN_BUCKETS)
    aggregates.counter(COST, "1", "LLM cost in its currency, by app and model")


def measurements(spans: Sequence[ReadableSpan]) -> list[Measurement]:
    """What one trace adds to the series; computed where the spans are (a pipeline worker too)."""
    found: list[Measurement] = []
    root = next((span for span in spans if span.parent is None), None)
    resource = root.resource.attributes if root is not None else {}
    app = label(resource.get(a.DIFY_APP_NAME) or resource.get(a.DIFY_APP_ID) or "unknown")
    if root is not None and (status := (root.attributes or {}).get(a.DIFY_RUN_STATUS)):
        found.append((RUNS, 1, ((a.DIFY_APP_NAME, app), (a.DIFY_RUN_STATUS, label(status)))))
    for span in spans:
        attributes = span.attributes or {}
        node_type = attributes.get(a.DIFY_NODE_TYPE)
        if node_type and span.start_time and span.end_time and span.end_time >= span.start_time:
            seconds = (span.end_time - span.start_time) / 1e9
            found.append((NODE_DURATION, seconds, ((a.DIFY_NODE_TYPE, label(node_type)),)))
        if attributes.get(a.GEN_AI_OPERATION) == "chat" or attributes.get(a.OI_SPAN_KIND) == "LLM":
            _llm_call(app, attributes, found)
    return found


def _llm_call(app: str, attributes: Mapping[str, Any], found: list[Measurement]) -> None:
    model = label(attributes.get(a.GEN_AI_REQUEST_MODEL) or attributes.get(a.OI_MODEL_NAME) or "unknown")
    labels: Key = ((a.GEN_AI_OPERATION, "chat"), (a.GEN_AI_REQUEST_MODEL, model))
    provider = attributes.get(a.GEN_AI_PROVIDER) or attributes.get(a.OI_PROVIDER)
    if provider:
        labels += ((a.GEN_AI_PROVIDER, label(provider)),)
    for token_type, genai_key, openinference_key in _TOKEN_KEYS:
        count = as_number(attributes.get(genai_key))
        if count is None:
            count = as_number(attributes.get(openinference_key))
        if count is not None:
            found.append((TOKENS, count, (*labels, ("gen_ai.token.type", token_type))))
    price = as_number(attributes.get(a.DIFY_PRICE_TOTAL))
    if price is None:
        price = as_number(attributes.get(a.OI_COST_TOTAL))
    if price:
        currency = label(attributes.get(a.DIFY_PRICE_CURRENCY) or "USD")
        found.append((COST, price, ((a.DIFY_APP_NAME, app), (a.GEN_AI_REQUEST_MODEL, model),
                                    (a.DIFY_PRICE_CURRENCY, currency))))  # fmt: skip

"""Spans that Dify's own tracing export sent → the `WorkflowRun` they were made from, so a run that reached
the bridge through Dify's tracing settings becomes the same trace the stream path builds.

Dify 1.14.1's "Arize Phoenix" provider (recorded: tests/testdata/dify-1.14.1-otlp*/) exports a run about 5 s
after it ended, one span per request, all in one trace with a random trace id:
- a root span named `<run id>` (`Dify` in older releases, read from source), created at export time, with
  `dify_trace_id`; it is sent first;
- the workflow span `workflow_<run id>` (older: `workflow`) under it, sent last: OpenInference
  `input.value`/`output.value`, `session.id` (a plain workflow's run id, a chatflow's conversation id), and a
  `metadata` JSON attribute with `workflow_run_id`, `app_id`, `workflow_id`, `conversation_id`, `message_id`,
  `status`, `status_message`, `total_tokens`, `elapsed_time`, `trace_entity_type: "workflow"`, and, for a
  workflow used as a tool, `parent_trace_context` (its workflow span then sits under the caller's tool span);
- one span per node execution, `<node_type>_<title>`, under the workflow span or under its iteration's or
  loop's span; `metadata` holds the node's execution metadata (tokens, `total_price`, `currency`,
  `iteration_id`/`iteration_index`, `loop_id`/`loop_index`, `error_strategy`, ...) plus `node_id` (the
  *execution* id), `node_type`, `node_status`, `status_message` and `app_name` (the node *title*). LLM nodes
  replace `input.value` with the prompt messages and add `llm.provider`, `llm.model_name`, `llm.token_count.*`.
They are recognized by that content, not by their names. A retried node is one span (no attempts).

Dify's newer OTLP provider and Dify Enterprise's telemetry (sections below) are read from Dify's source, not
verified against a recording.

Lost on Dify's side, so absent here too (docs/traces.md lists it all): the graph node id (the title stands in
for `dify.node.id`; an iteration or loop gets its graph id back from its children's `iteration_id`/`loop_id`),
the inputs of LLM nodes (only their prompts are sent), process data other than model and usage, retries,
stream-only events. Round spans are rebuilt from the children's `iteration_index`/`loop_index`.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.dify.export_parts.enterprise import recognize_enterprise
from bridge.dify.export_parts.phoenix import recognize_phoenix
from bridge.dify.export_parts.phoenix_spans import (
    awaits_nested_run,
    closes_trace,
    is_api_check,
    is_workflow_span,
    looks_like_dify,
)
from bridge.dify.export_parts.provider import recognize_provider
from bridge.dify.export_parts.recognized import Recognized
from bridge.trace.otlp_spans import moved

__all__ = [
    "Recognized",
    "awaits_nested_run",
    "closes_trace",
    "is_api_check",
    "is_workflow_span",
    "looks_like_dify",
    "recognize",
    "rehome",
]


def recognize(spans: Sequence[ReadableSpan], receiver: str) -> Recognized | None:
    """The Dify workflow run in one trace's spans, or None when the trace holds no Dify workflow span."""
    return (
        recognize_phoenix(spans, receiver)
        or recognize_provider(spans, receiver)
        or recognize_enterprise(spans, receiver)
    )


def rehome(spans: Sequence[ReadableSpan], root: SpanContext, replaced: set[int]) -> list[ReadableSpan]:
    """`spans` moved into the rebuilt trace: its trace id, and the rebuilt root as parent wherever their
    parent was a span the run replaced."""
    result = []
    for span in spans:
        assert span.context is not None
        context = SpanContext(root.trace_id, span.context.span_id, False, span.context.trace_flags,
                              span.context.trace_state)  # fmt: skip
        parent = span.parent
        if parent is None or parent.span_id in replaced:
            parent = root
        else:
            parent = SpanContext(root.trace_id, parent.span_id, parent.is_remote, parent.trace_flags)
        result.append(moved(span, context, parent))
    return result

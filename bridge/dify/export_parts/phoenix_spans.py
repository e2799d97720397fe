"""Which spans of Dify's "Arize Phoenix" export are what: the root, the workflow span, node spans, the
connection check; told by their content (the metadata JSON), not their names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.export_parts.values import ids_fine, json_value, mapping_of, run_id_of, text_of

# The Phoenix provider's tracer is `arize_phoenix_tracer_<project>` (1.14.1, recorded).
_PHOENIX_SCOPE = "arize_phoenix_tracer"


def phoenix_metadata(span: ReadableSpan) -> dict[str, Any]:
    """The span's `metadata` JSON, decoded ({} when it has none)."""
    attributes = span.attributes or {}
    meta = json_value(attributes["metadata"]) if "metadata" in attributes else None
    return meta if isinstance(meta, dict) else {}


def is_workflow(meta: Mapping[str, Any]) -> bool:
    """The metadata of a Phoenix-provider workflow span, whatever the span is named (`workflow` in older
    releases, `workflow_<run id>` in 1.14.1): the run's own entity, with its run id."""
    return (
        run_id_of(meta.get("workflow_run_id")) is not None and "node_type" not in meta
        and meta.get("trace_entity_type") in ("workflow", None)
        and ids_fine(meta, "app_id", "workflow_id", "conversation_id", "message_id")
        and ids_fine(mapping_of(meta.get("parent_trace_context")) or {}, "parent_node_execution_id")
    )  # fmt: skip


def is_node(meta: Mapping[str, Any]) -> bool:
    """The metadata of a Phoenix-provider node span: it names the node type and the execution (`node_id`)."""
    return (
        text_of(meta.get("node_type")) is not None and text_of(meta.get("node_id")) is not None
        and ids_fine(meta, "node_id", "iteration_id", "loop_id", "parallel_id")
    )  # fmt: skip


def is_workflow_span(span: ReadableSpan) -> bool:
    """A Phoenix-provider workflow span (of any run, a nested one included)."""
    return is_workflow(phoenix_metadata(span))


def closes_trace(span: ReadableSpan) -> bool:
    """The workflow span of a run no other run started: Dify exports it after its nodes, so the trace is
    complete once it is in. A nested run's (a workflow used as a tool) may come before the caller's."""
    meta = phoenix_metadata(span)
    return is_workflow(meta) and "parent_trace_context" not in meta


def awaits_nested_run(spans: Sequence[ReadableSpan]) -> bool:
    """Whether the trace holds node spans of a run whose workflow span has not come: a workflow used as a tool,
    which Dify exports in a task of its own, seconds after its caller at times, its workflow span last (under
    the caller's tool span). Rebuilt without it, those nodes would be passed through as Dify sent them."""
    ids = {s.context.span_id for s in spans if s.context is not None}
    return any(s.parent is not None and s.parent.span_id not in ids and is_node(phoenix_metadata(s)) for s in spans)


def is_dify_root(span: ReadableSpan) -> bool:
    """The span the provider opens for a Dify trace (`Dify` in older releases, the run id in 1.14.1): it
    carries `dify_trace_id` and stands for nothing but the trace."""
    return span.parent is None and "dify_trace_id" in (span.attributes or {})


def is_api_check(span: ReadableSpan) -> bool:
    """The span Dify sends when a trace config is saved (`api_check`, attribute `test`, Phoenix's tracer): a
    connection check, not a run. Another sender's span of that name goes on as it came."""
    return (
        span.name == "api_check" and span.parent is None and "test" in (span.attributes or {})
        and span.instrumentation_scope is not None and span.instrumentation_scope.name.startswith(_PHOENIX_SCOPE)
    )  # fmt: skip


def looks_like_dify(spans: Sequence[ReadableSpan]) -> bool:
    """A trace some span of which Dify's Phoenix provider made (its tracer scope, its root's `dify_trace_id`, a
    node's metadata): one that should have been rebuilt."""
    return any(
        (s.instrumentation_scope is not None and s.instrumentation_scope.name.startswith(_PHOENIX_SCOPE))
        or is_dify_root(s) or is_node(phoenix_metadata(s))
        for s in spans
    )  # fmt: skip

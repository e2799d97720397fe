"""Values read from exported spans as every exporter's reader needs them: ids `normalize` takes, JSON
attributes decoded, an execution's times."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.formats import decode_json
from bridge.dify.model import JSONDict
from bridge.dify.values import as_int, id_fault

NS = 1_000_000_000
CONTAINER_TYPES = ("iteration", "loop")


def json_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return decode_json(value)
    except ValueError:
        return value


def text_of(value: Any) -> str | None:
    """An id, name or message: strings and numbers only (anything else in the metadata is not one)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        return None
    return str(value)


def run_id_of(value: Any) -> str | None:
    """A run id as `normalize` takes them (printable, not too long), or None: a span naming any other is no run's
    and passes through as sent."""
    text = text_of(value)
    return text if text is not None and id_fault(text) is None else None


def ids_fine(values: Mapping[str, Any], *keys: str) -> bool:
    """Whether the ids at `keys` are absent or ones `normalize` takes: a span with any other is not rebuilt."""
    return all((text := text_of(values.get(key))) is None or id_fault(text) is None for key in keys)


def mapping_of(value: Any) -> JSONDict | None:
    decoded = json_value(value)
    return decoded if isinstance(decoded, dict) else None


def seconds(ns: int | None) -> float | None:
    return None if not ns else ns / NS


def span_elapsed(span: ReadableSpan) -> float | None:
    if not span.start_time or not span.end_time:
        return None
    # Rounded as Dify rounds the `elapsed_time` its stream reports (microseconds), so both paths agree.
    return round(max(span.end_time - span.start_time, 0) / NS, 6)


def placement(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Where a node ran, from its execution metadata: enclosing iteration/loop and round, parallel branch."""
    return {
        "iteration_id": text_of(metadata.get("iteration_id")), "loop_id": text_of(metadata.get("loop_id")),
        "iteration_index": as_int(metadata.get("iteration_index")), "loop_index": as_int(metadata.get("loop_index")),
        "parallel_id": text_of(metadata.get("parallel_id")), "agent_strategy": text_of(metadata.get("agent_strategy")),
    }  # fmt: skip


def times_of(span: ReadableSpan) -> dict[str, Any]:
    """`created_at`, `finished_at` and `elapsed_time` of an execution, from its span's times."""
    return {"created_at": seconds(span.start_time), "finished_at": seconds(span.end_time),
            "elapsed_time": span_elapsed(span)}  # fmt: skip

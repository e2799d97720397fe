"""Test helpers: files → runs → spans, and span trees as readable text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.formats import InputError, Record, iter_records
from bridge.dify.model import DifyEvent, WorkflowRun
from bridge.dify.normalize import normalize_event, parse_event_json
from bridge.dify.replay import read_runs
from bridge.trace.otlp_wire import encode_request
from bridge.trace.spans import build_spans

TESTS = Path(__file__).parent
CAPTURES = TESTS / "testdata" / "dify-1.14.1"
EXAMPLES = TESTS.parent / "examples" / "runs"


def load_runs(*paths: Path) -> list[WorkflowRun]:
    items = list(read_runs([str(p) for p in paths]))
    errors = [i for i in items if isinstance(i, InputError)]
    assert not errors, errors
    return [i for i in items if isinstance(i, WorkflowRun)]


def load_run(path: Path) -> WorkflowRun:
    runs = load_runs(path)
    assert len(runs) == 1, runs
    return runs[0]


def events_of(path: Path, parse: Callable[[str], Any] = parse_event_json) -> list[DifyEvent]:
    """The stream events of a capture, normalized, in file order; read as the receivers read them, or by
    `parse`."""
    text = path.read_text()
    return [
        normalize_event(r.obj, path.name, r.line, r.sse_event)
        for r in iter_records(text, path.name, parse=parse)
        if isinstance(r, Record)
    ]


def spans_of(path: Path) -> list[ReadableSpan]:
    return build_spans(load_run(path))


def request_of(path: Path) -> bytes:
    """The run in `path` as one serialized OTLP `ExportTraceServiceRequest`, as the queue holds it."""
    return encode_request(spans_of(path))


def tree(spans: Sequence[ReadableSpan]) -> list[str]:
    """Span names indented by depth, children in start order: the shape a Jaeger user sees."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent else None
        by_parent.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(by_parent.get(parent, []), key=lambda s: (s.start_time or 0, s.name)):
            lines.append("  " * depth + span.name)
            assert span.context is not None
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return lines


def by_name(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]

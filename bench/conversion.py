"""Conversion speed: Dify stream events → OTLP protobuf bytes, spans per second on one core.

Ours: an NDJSON body of events → parse, normalize, assemble, build spans, encode, as the stream receiver
and the queue do. Baseline, in the same run: the same spans (names, kinds, attributes, events, statuses,
parents, times) created with the plain OTel Python SDK — a tracer, a `BatchSpanProcessor` and OTLP protobuf
encoding — starting from span data already at hand. Runs are realistic workflows of 10 to 50 nodes:
retrieval, an iteration of LLM and tool nodes with a retry, a handled error.

    .venv/bin/python bench/conversion.py [--seconds 5] [--rounds 5,10,20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bridge.dify.assembly import RunAssembler  # noqa: E402
from bridge.dify.formats import Record, iter_records  # noqa: E402
from bridge.dify.model import WorkflowRun  # noqa: E402
from bridge.dify.normalize import normalize_event, parse_event_json  # noqa: E402
from bridge.queue.encoding import encode  # noqa: E402
from bridge.trace.spans import SpanBuilder  # noqa: E402

TEMPLATE = ROOT / "examples/runs/workflow_full.ndjson"
RUN_ID = "7b0c6f8e-3d4a-4b7e-9a51-2f6c8d9e0a11"


def make_run(rounds: int) -> str:
    """workflow_full with its iteration stretched to `rounds` rounds (a retry every third round), fresh ids."""
    events = [json.loads(line) for line in TEMPLATE.read_text().splitlines()]

    def of(name: str, node_id: str | None = None, status: str | None = None) -> dict[str, Any]:
        return next(e for e in events if e["event"] == name and (node_id is None or e["data"].get("node_id") == node_id)
                    and (status is None or e["data"].get("status") == status))  # fmt: skip

    out: list[dict[str, Any]] = [of("workflow_started")]
    for node_id in ("start", "kr"):
        out += [of("node_started", node_id), of("node_finished", node_id)]
    out.append(of("iteration_started"))
    for index in range(rounds):
        step = [of("iteration_next"), of("node_started", "llm"), of("node_finished", "llm"),
                of("node_started", "weather")]  # fmt: skip
        if index % 3 == 2:
            step.append(of("node_retry", "weather"))
        step.append(of("node_finished", "weather"))
        fresh = {"llm": str(uuid.uuid4()), "weather": str(uuid.uuid4())}
        for event in step:
            copy = json.loads(json.dumps(event))
            data = copy["data"]
            if copy["event"] == "iteration_next":
                data["index"] = index
            else:
                data["id"] = fresh[data["node_id"]]
                if data.get("execution_metadata"):
                    data["execution_metadata"]["iteration_index"] = index
            out.append(copy)
    out.append(of("iteration_completed"))
    for node_id in ("code", "end"):
        out += [of("node_started", node_id), of("node_finished", node_id)]
    out.append(of("workflow_finished"))
    return "\n".join(json.dumps(e) for e in out).replace(RUN_ID, str(uuid.uuid4()))


def assemble(text: str) -> list[WorkflowRun]:
    """An NDJSON body as the stream receiver reads it: records, normalized events, closed runs."""
    assembler = RunAssembler(terminal_wait=0)
    for record in iter_records(text, "bench", "ndjson", parse_event_json):
        assert isinstance(record, Record)
        assembler.add(normalize_event(record.obj, "bench", record.line), 0.0)
    return assembler.drain()


def ours(runs: list[str], builder: SpanBuilder) -> int:
    spans = 0
    for text in runs:
        for run in assemble(text):
            built = builder.build(run)
            encode(built, None)
            spans += len(built)
    return spans


class _EncodingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        encode_spans(spans).SerializeToString()
        return SpanExportResult.SUCCESS


def baseline(specs: list[list[ReadableSpan]], provider: TracerProvider, processor: BatchSpanProcessor) -> int:
    tracer = provider.get_tracer("baseline")
    spans = 0
    for run in specs:
        contexts: dict[int, Context] = {}
        for span in run:  # parents come before children in our output
            parent = contexts.get(span.parent.span_id) if span.parent else None
            created = tracer.start_span(span.name, context=parent, kind=span.kind, attributes=span.attributes,
                                        start_time=span.start_time)  # fmt: skip
            for event in span.events:
                created.add_event(event.name, event.attributes, event.timestamp)
            created.set_status(span.status)
            assert span.context is not None
            contexts[span.context.span_id] = trace.set_span_in_context(created)
            created.end(end_time=span.end_time)
            spans += 1
    processor.force_flush()
    return spans


def _sdk() -> tuple[TracerProvider, BatchSpanProcessor]:
    provider = TracerProvider(resource=Resource({"service.name": "dify"}))
    processor = BatchSpanProcessor(_EncodingExporter(), max_queue_size=65536, max_export_batch_size=512)
    provider.add_span_processor(processor)
    return provider, processor


def sdk_spans_per_second(seconds: float = 2.0) -> float:
    """The plain SDK's rate on this machine: the yardstick issue 6's absolute targets were set against
    ("about 10k spans/s per core here"), printed beside figures that depend on the machine."""
    builder = SpanBuilder()
    specs = [builder.build(run) for rounds in (3, 10, 20) for run in assemble(make_run(rounds))]
    provider, processor = _sdk()
    rate = _rate(lambda: baseline(specs, provider, processor), seconds)
    provider.shutdown()
    return rate


def _rate(step: object, seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += step()  # type: ignore[operator]
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per path, in alternating rounds")
    parser.add_argument("--rounds", default="3,10,20", help="iteration rounds of the generated runs")
    args = parser.parse_args()
    runs = [make_run(int(r)) for r in args.rounds.split(",") for _ in range(10)]
    builder = SpanBuilder()
    specs = []
    for text in runs:
        specs += [builder.build(run) for run in assemble(text)]
    sizes = sorted({len(s) for s in specs})
    provider, processor = _sdk()
    ours_rates, base_rates = [], []
    for _ in range(5):
        ours_rates.append(_rate(lambda: ours(runs, builder), args.seconds / 5))
        base_rates.append(_rate(lambda: baseline(specs, provider, processor), args.seconds / 5))
    provider.shutdown()
    mine, base = statistics.median(ours_rates), statistics.median(base_rates)
    print(f"runs of {sizes[0]} to {sizes[-1]} spans, {len(runs)} runs per pass, medians of 5 alternating rounds")
    print(f"{'path':<34}{'spans/s':>10}")
    print(f"{'ours: events -> OTLP bytes':<34}{mine:>10.0f}")
    print(f"{'plain SDK: span data -> OTLP bytes':<34}{base:>10.0f}")
    print(f"ratio ours / SDK: {mine / base:.2f}x (target ≥ 2x)")


if __name__ == "__main__":
    main()

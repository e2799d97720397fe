"""Pipeline throughput with the detectors on vs off, measured in one process, one core, over realistic runs
(the captures and examples). Two pipelines: the default config's (span building, detectors, redaction,
content reduction, OTLP protobuf encoding) and the same without redaction, the least work detection can be
set against. Every run's JSON is decoded afresh, as in real traffic.

    .venv/bin/python bench/detection_cost.py [--seconds 3] [--cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bridge.processors import detectors, redact, reduce  # noqa: E402
from bridge.queue.encoding import encode  # noqa: E402
from bridge.trace.spans import SpanBuilder  # noqa: E402
from detectors import json_value  # noqa: E402
from tests.runs import load_runs  # noqa: E402


def _rate(step: Callable[[], int], seconds: float, clock: Callable[[], float]) -> tuple[float, float]:
    """(runs per second, spans per second) over about `seconds` of `clock`."""
    runs = spans = 0
    start = clock()
    while (elapsed := clock() - start) < seconds:
        spans += step()
        runs += 1
    return runs / elapsed, spans / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per mode, in alternating rounds")
    # On a shared machine wall time counts the other processes' turns on the core; CPU time does not.
    parser.add_argument("--cpu", action="store_true", help="rates per second of this process's CPU time")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    paths = [*sorted((ROOT / "tests/testdata/dify-1.14.1").glob("*.sse")), ROOT / "examples/runs/workflow_full.sse",
             ROOT / "examples/runs/chatflow_agent.sse"]  # fmt: skip
    runs = load_runs(*paths)
    builder = SpanBuilder()
    cut = reduce.create(reduce.Config())
    scrub_config = redact.Config()
    detect = detectors.create(detectors.Config())
    cursor = [0]

    def pipeline(with_detectors: bool, with_redact: bool) -> int:
        run = runs[cursor[0] % len(runs)]
        cursor[0] += 1
        spans: Sequence[ReadableSpan] = builder.build(run)
        if with_detectors:
            # Every run's JSON is new in real traffic: the builder's texts are read from the values they were
            # written from (BuiltSpan), any other would be decoded, never found in the decode cache.
            json_value.cache_clear()
            spans = detect.process(spans)
        if with_redact:
            # Nor has redaction seen its texts before: this bench cycles 11 runs, whose texts a redaction processor's
            # memory of clean texts would skip from the second lap on (real runs of an app repeat a quarter of
            # theirs: bench/RESULTS.md, session 20), making the pipeline without detectors look cheaper than it
            # is. A new processor per run knows none (creating one compiles nothing by default).
            spans = redact.create(scrub_config).process(spans)
        spans = cut.process(spans)
        encode(spans, None)
        return len(spans)

    print(f"{'pipeline':<34}{'detectors':>10}{'runs/s':>10}{'spans/s':>10}{'on / off':>10}")
    for name, with_redact in (("build, redact, reduce, encode", True), ("build, reduce, encode", False)):
        # Alternate short rounds so both modes see the same machine noise; report the medians.
        rounds = 5
        offs: list[tuple[float, float]] = []
        ons: list[tuple[float, float]] = []
        for _ in range(rounds):
            offs.append(_rate(partial(pipeline, False, with_redact), args.seconds / rounds, clock))
            ons.append(_rate(partial(pipeline, True, with_redact), args.seconds / rounds, clock))
        off = (statistics.median(r for r, _ in offs), statistics.median(s for _, s in offs))
        on = (statistics.median(r for r, _ in ons), statistics.median(s for _, s in ons))
        print(f"{name:<34}{'off':>10}{off[0]:>10.0f}{off[1]:>10.0f}")
        print(f"{'':<34}{'on':>10}{on[0]:>10.0f}{on[1]:>10.0f}{on[1] / off[1]:>10.1%}")
    print(f"target: on ≥ 75 % of off; {len(detect.detectors)} detectors, {len(runs)} distinct runs")


if __name__ == "__main__":
    main()

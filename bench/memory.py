"""Memory with many runs in flight: stream events opening N runs that never finish (the first half of a
captured run, fresh run ids), each run's events read from their own text and fed to the service as the
stream receiver does. Prints resident memory before and after, and per open run.

    .venv/bin/python bench/memory.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.config.loader import parse_config
from bridge.dify.formats import Record, iter_records
from bridge.dify.normalize import normalize_event, parse_event_json
from bridge.service.service import BridgeService
from tests.bridge_server import free_port
from tests.runs import CAPTURES

CAPTURE = CAPTURES / "b_iteration_ifelse_http.sse"


def _rss_mb() -> float:
    """Resident set size now (not the peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    documents = [line.removeprefix("data: ") for line in CAPTURE.read_text().splitlines() if line.startswith("data: ")]
    half = "\n".join(documents[: len(documents) // 2])
    original = normalize_event(parse_event_json(documents[0])).workflow_run_id or ""
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(
            f"exporters: {{otlp: {{endpoint: '127.0.0.1:{free_port()}', tls: {{insecure: true}}}}}}\n"
            "service:\n"
            "  assembly: {idle_timeout: 1h}\n"
            f"  queue: {{path: '{tmp}/queue.db', max_runs_in_flight: {args.runs + 1}}}\n"
            "  pipelines: {traces: {exporters: [otlp]}}\n"
        )
        service = BridgeService(config)
        gc.collect()
        before = _rss_mb()
        for i in range(args.runs):
            run_id = str(uuid.uuid4())
            # Each run read from its own text, as the receiver reads a request (shared objects would flatter it).
            records = iter_records(half.replace(original, run_id), "bench", "ndjson", parse_event_json)
            events = [normalize_event(r.obj, "bench", r.line) for r in records if isinstance(r, Record)]
            service.submit_events(events, 1_000.0 + i * 0.001, f"stream:{i}", "stream")
        gc.collect()
        after = _rss_mb()
        in_flight = len(service.assembler)
        service.shutdown(timeout=0)
    print(f"{in_flight:,} runs in flight, {len(documents) // 2} events each ({CAPTURE.name}, first half)")
    print("| RSS before MB | RSS after MB | peak RSS MB | per run KB |")
    print("|---|---|---|---|")
    print(f"| {before:.0f} | {after:.0f} | {_peak_mb():.0f} | {(after - before) * 1024 / in_flight:.1f} |")


if __name__ == "__main__":
    main()

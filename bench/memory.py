"""Memory with many runs in flight: stream events opening N runs that never finish (the first half of a
captured run, fresh run ids), fed to the service as the stream receiver does. Prints resident memory
before and after, and per open run.

    .venv/bin/python bench/memory.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import uuid
from pathlib import Path

from msgspec.structs import replace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.config import parse_config
from bridge.service import BridgeService
from tests.bridge_server import free_port
from tests.runs import CAPTURES, events_of

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
    template = events_of(CAPTURE)
    half = template[: len(template) // 2]
    original = template[0].workflow_run_id
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
            # Fresh objects per run, as parsing each request would give (shared ones would flatter the figure).
            events = [replace(e, workflow_run_id=run_id if e.workflow_run_id == original else e.workflow_run_id,
                              data=json.loads(json.dumps(e.data))) for e in half]  # fmt: skip
            service.submit_events(events, 1_000.0 + i * 0.001, f"stream:{i}", "stream")
        gc.collect()
        after = _rss_mb()
        in_flight = len(service.assembler)
        service.shutdown(timeout=0)
    print(f"{in_flight:,} runs in flight, {len(half)} events each ({CAPTURE.name}, first half)")
    print("| RSS before MB | RSS after MB | peak RSS MB | per run KB |")
    print("|---|---|---|---|")
    print(f"| {before:.0f} | {after:.0f} | {_peak_mb():.0f} | {(after - before) * 1024 / in_flight:.1f} |")


if __name__ == "__main__":
    main()

"""What durability costs on the acknowledgement path: runs submitted to the service with the queue in a file
(WAL, what `serve` does), in memory (SQLite, no disk), and off (the same spans built, processed and encoded,
not written). Two ways in, as the server has them: from tasks on one event loop awaiting the commit (the
webhook receiver), and from worker threads each blocked on its commit (the stream, proxy and otlp
receivers). Runs are built, processed and encoded in one pipeline worker, as `serve`'s default configuration
has it (`--workers 0`: in the server process, where the builds compete with the commits for the interpreter
lock). Alternating rounds in one process; medians. Delivery is parked (the exporter's backend is down
with a long backoff), so only the write side is measured. The interpreter switches threads every
`SWITCH_INTERVAL_S`, as `serve` sets it; last, what one append waits for its commit while another thread
runs Python, at that interval and at CPython's default.

    .venv/bin/python bench/queue_cost.py [--seconds 2] [--threads 4] [--tasks 32] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from msgspec.structs import replace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge import SWITCH_INTERVAL_S
from bridge.config.loader import parse_config
from bridge.dify.model import WorkflowRun
from bridge.queue.storage import QueueStorage
from bridge.service.service import BridgeService
from tests.bridge_server import free_port
from tests.runs import load_runs

ROOT = Path(__file__).resolve().parent.parent
RUNS = load_runs(*sorted((ROOT / "tests/testdata/dify-1.14.1").glob("*.sse")), ROOT / "examples/runs/workflow_full.sse")


def _service(path: str, write: bool, workers: int) -> BridgeService:
    config = parse_config(
        f"exporters: {{otlp: {{endpoint: '127.0.0.1:{free_port()}', tls: {{insecure: true}},"
        " retry_on_failure: {initial_interval: 1h, max_interval: 1h}}}\n"
        "processors: {detectors: {}, batch: {timeout: 1h}}\n"
        f"service: {{queue: {{path: '{path}'}}, workers: {workers},"
        " pipelines: {traces: {processors: [detectors, batch], exporters: [otlp]}}}\n"
    )
    service = BridgeService(config)
    if not write:

        async def taken(*args: object, **kwargs: object) -> bool:
            return True

        service.storage.append = lambda *args, **kwargs: lambda: True  # type: ignore[method-assign]
        service.storage.append_new_run = taken  # type: ignore[method-assign]
    return service


def _fresh(slot: int) -> WorkflowRun:
    return replace(RUNS[slot % len(RUNS)], run_id=str(uuid.uuid4()), receiver="replay")


def _rate_async(service: BridgeService, seconds: float, tasks: int) -> float:
    """Submissions per second from `tasks` tasks on one event loop (as the webhook receiver's requests)."""

    async def run() -> float:
        done = 0
        stop = time.perf_counter() + seconds

        async def work() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await service.submit_new_run_async(_fresh(done))
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(tasks)))
        return done / (time.perf_counter() - start)

    return asyncio.run(run())


def _rate(service: BridgeService, seconds: float, threads: int) -> float:
    """Submissions per second from `threads` threads (as the server's worker threads)."""
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def work(slot: int) -> None:
        while time.perf_counter() < stop:
            service.submit_new_run(_fresh(done[slot]))
            done[slot] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.perf_counter() - start)


def _commit_wait(path: str, interval: float, appends: int = 200) -> float:
    """Median seconds one append waits for its commit while another thread runs Python, at switch `interval`."""
    default = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    storage = QueueStorage(path)
    storage.register(["otlp"])
    busy = True

    def spin() -> None:
        while busy:
            sum(range(1000))

    spinner = threading.Thread(target=spin)
    spinner.start()
    waits = []
    try:
        for _ in range(appends):
            start = time.perf_counter()
            storage.append([("traces", 10, b"x" * 5000)], time.time())()
            waits.append(time.perf_counter() - start)
    finally:
        busy = False
        spinner.join()
        storage.close()
        sys.setswitchinterval(default)
    return statistics.median(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="service.workers (serve: 1)")
    args = parser.parse_args()
    default_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with tempfile.TemporaryDirectory() as tmp:
        services = {
            "file (durable)": _service(f"{tmp}/queue.db", write=True, workers=args.workers),
            "memory": _service(":memory:", write=True, workers=args.workers),
            "off": _service(":memory:", write=False, workers=args.workers),
        }
        loop_rates: dict[str, list[float]] = {name: [] for name in services}
        thread_rates: dict[str, list[float]] = {name: [] for name in services}
        for _ in range(args.rounds):
            for name, service in services.items():
                loop_rates[name].append(_rate_async(service, args.seconds, args.tasks))
                thread_rates[name].append(_rate(service, args.seconds, args.threads))
        for service in services.values():
            service.shutdown(timeout=0)
        waits = {interval: _commit_wait(f"{tmp}/wait-{interval}.db", interval)
                 for interval in (SWITCH_INTERVAL_S, default_interval)}  # fmt: skip
    on_loop = {name: statistics.median(values) for name, values in loop_rates.items()}
    threaded = {name: statistics.median(values) for name, values in thread_rates.items()}
    print(f"runs submitted per second, median of {args.rounds} rounds of {args.seconds:g}s, {args.workers} pipeline"
          " workers")  # fmt: skip
    print(f"| queue | event loop, {args.tasks} tasks | vs off | {args.threads} worker threads | vs off |")
    print("|---|---|---|---|---|")
    for name in services:
        print(f"| {name} | {on_loop[name]:,.0f} | {on_loop[name] / on_loop['off'] * 100:.0f} % "
              f"| {threaded[name]:,.0f} | {threaded[name] / threaded['off'] * 100:.0f} % |")  # fmt: skip
    print("\none append's wait for its commit while another thread runs Python (median):")
    for interval, wait in waits.items():
        print(f"  switch interval {interval * 1000:g} ms: {wait * 1000:.1f} ms")


if __name__ == "__main__":
    main()

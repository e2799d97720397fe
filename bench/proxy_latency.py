"""Latency the proxy adds per SSE event: a client reading a Dify stream directly vs through the bridge.

A fake Dify streams N events (node and text_chunk events of real captures, fresh run ids) with a fixed gap
and records when it sent each one; the client records when each arrived. Both servers run under uvicorn
on 127.0.0.1 in this process, so both paths pay the same interpreter costs; the difference is the proxy.

    .venv/bin/python bench/proxy_latency.py [--events 2000] [--gap-ms 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2 as httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.config.loader import parse_config
from tests.bridge_server import BridgeServer, ThreadedServer

CAPTURE = Path(__file__).resolve().parent.parent / "tests/testdata/dify-1.14.1/b_iteration_ifelse_http.sse"


def _blocks(events: int) -> list[bytes]:
    text = CAPTURE.read_text()
    run_id = "d8318146-ae39-49f1-b401-b92167ffe5c9"
    blocks: list[str] = []
    while len(blocks) < events:
        fresh = text.replace(run_id, str(uuid.uuid4()))
        blocks += [b + "\n\n" for b in (part.strip("\n") for part in fresh.split("\n\n")) if b.startswith("data:")]
    return [b.encode() for b in blocks[:events]]


class FakeDify:
    def __init__(self, blocks: list[bytes], gap: float) -> None:
        self.blocks, self.gap = blocks, gap
        self.sent: list[float] = []
        self.app = Starlette(routes=[Route("/v1/workflows/run", self.run, methods=["POST"])])

    async def run(self, request: Request) -> StreamingResponse:
        self.sent = []

        async def stream() -> AsyncIterator[bytes]:
            for block in self.blocks:
                self.sent.append(time.perf_counter())
                yield block
                await asyncio.sleep(self.gap)

        return StreamingResponse(stream(), media_type="text/event-stream")


def _read(url: str) -> list[float]:
    arrivals: list[float] = []
    buffer = b""
    with httpx.stream("POST", url, json={"response_mode": "streaming"}, timeout=60) as response:
        for chunk in response.iter_raw():
            now = time.perf_counter()
            buffer += chunk
            complete = buffer.count(b"\n\n")
            arrivals += [now] * complete
            buffer = buffer.rsplit(b"\n\n", 1)[-1] if complete else buffer
    return arrivals


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--gap-ms", type=float, default=1.0)
    args = parser.parse_args()
    fake = FakeDify(_blocks(args.events), args.gap_ms / 1000)
    with tempfile.TemporaryDirectory() as tmp, ThreadedServer(fake.app) as dify:
        config = parse_config(
            f"receivers: {{proxy: {{}}}}\nexporters: {{file: {{path: '{tmp}/spans.jsonl'}}}}\n"
            f"server: {{store: ':memory:', instances: [{{name: dify, base_url: '{dify.base}'}}],"
            " outbound: {allowed_networks: [127.0.0.1/32]}}\n"
            f"service: {{queue: {{path: '{tmp}/queue.db'}},"
            " pipelines: {traces: {receivers: [proxy], exporters: [file]}}}\n"
        )
        with BridgeServer(config) as bridge:
            rows = []
            for label, url in (("direct", f"{dify.base}/v1/workflows/run"),
                               ("proxy", f"{bridge.base}/dify/v1/workflows/run")):  # fmt: skip
                arrivals = _read(url)
                assert len(arrivals) == len(fake.sent) == args.events, (len(arrivals), len(fake.sent))
                latency_ms = [(a - s) * 1000 for a, s in zip(arrivals, fake.sent, strict=True)]
                rows.append((label, *_percentiles(latency_ms)))
    (_, d50, d99), (_, p50, p99) = rows
    print(f"{'path':<8}{'events':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for label, p50_, p99_ in rows:
        print(f"{label:<8}{args.events:>8}{p50_:>10.3f}{p99_:>10.3f}")
    print(f"{'added':<8}{args.events:>8}{p50 - d50:>10.3f}{p99 - d99:>10.3f}")


if __name__ == "__main__":
    main()

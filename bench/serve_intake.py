"""`serve`'s main thread on the stream receiver without the sockets: CPU seconds per corpus, steadier than
`end_to_end_replay.py`'s wall times for a change to the intake (signature, SSE, normalizing, assembling, journal
rows, the runs' crossing to the pipeline worker and their answers).

The app `serve` runs (`create_app`, `end_to_end_replay.py`'s config: default pipeline, one pipeline worker, a real
OTLP receiver in this process), its lifespan entered here; each run of the bench's corpus POSTed, signed, straight
to the ASGI callable, 8 at a time (as the bench's 8 connections), until the receiver has every span. Timed: the
main thread's own CPU clock (the queue's writer and delivery threads and the worker process not counted), from the
first request to the last span received. uvicorn's HTTP parsing and the sockets are left out (in `serve` they add
about 0.03 s a corpus: its main thread measured 0.77 s where this measures 0.74 s).

    .venv/bin/python bench/serve_intake.py [--rounds 3] [--copies 65] [--profile]

`--profile`: cProfile's table of the last round (wall-clock based: a call waiting for the interpreter lock, such as
`SimpleQueue.put` waking the writer, shows its wait).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from end_to_end_replay import SOURCES, TimedSink, _captures, make_corpus, serve_config_text  # noqa: E402

from bridge.config.loader import parse_config  # noqa: E402
from bridge.http.server import create_app  # noqa: E402
from tests.bridge_server import APP_ID, signed_headers  # noqa: E402

PATH = "/api/v1/dify/events"
CONNECTIONS = 8


def _scope(body: bytes) -> dict[str, Any]:
    sent = signed_headers(body, headers={"Content-Type": "text/event-stream", "X-Dify-App-Id": APP_ID})
    headers = [(key.lower().encode(), value.encode()) for key, value in sent.items()]
    headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": PATH, "raw_path": PATH.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }  # fmt: skip


async def _connection(app: ASGIApp, requests: list[tuple[dict[str, Any], bytes]], statuses: list[int]) -> None:
    """One client: the next request once the last is answered, until none is left."""
    while requests:
        scope, body = requests.pop()

        async def receive(body: bytes = body) -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)


async def _rounds(tmp: Path, sink: TimedSink, rounds: int, copies: int, profile: bool) -> None:
    app = create_app(parse_config(serve_config_text(tmp, sink.grpc_endpoint)))
    clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    async with app.router.lifespan_context(app):
        for index in range(rounds):
            corpus = make_corpus(tmp / f"corpus-{index}", _captures(SOURCES), copies)
            requests = [(_scope(body), body) for body in reversed(corpus.bodies)]  # signed now, not timed
            statuses: list[int] = []
            before, spans = time.clock_gettime(clock), sink.span_count()
            profiler = cProfile.Profile() if profile and index == rounds - 1 else None
            if profiler is not None:
                profiler.enable()
            await asyncio.gather(*(_connection(app, requests, statuses) for _ in range(CONNECTIONS)))
            # Until no span has come for half a second; timed to the last one seen.
            seen, settled, cpu = -1, time.monotonic(), 0.0
            while time.monotonic() - settled < 0.5:
                await asyncio.sleep(0.005)
                if sink.span_count() != seen:
                    seen, settled, cpu = sink.span_count(), time.monotonic(), time.clock_gettime(clock) - before
            if profiler is not None:
                profiler.disable()
            answers = ", ".join(f"{status}: {statuses.count(status)}" for status in sorted(set(statuses)))
            print(f"round {index + 1}: {corpus.runs} runs ({answers}), {sink.span_count() - spans} spans received; "
                  f"main thread {cpu:.3f} s of CPU")  # fmt: skip
            if profiler is not None:
                pstats.Stats(profiler).sort_stats("tottime").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=65, help="runs made from each captured stream")
    parser.add_argument("--profile", action="store_true", help="cProfile's table of the last round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, TimedSink() as sink:
        asyncio.run(_rounds(Path(tmp), sink, args.rounds, args.copies, args.profile))


if __name__ == "__main__":  # the pipeline worker is spawned: it imports this module, and must not run it
    main()

"""End to end: signed runs through the real server to a real OTLP receiver, at fixed concurrency.

The bridge runs as its own process (`dify-otel-bridge serve`, durable queue on disk, detectors on); this
process sends runs with a fresh run id each from N concurrent clients and runs the OTLP/gRPC receiver that
counts every span. Three receivers:

- `webhook` (the default): 10-node runs (`examples/runs/webhook_full.json`), one request each, answered once
  the run's spans are queued. Prints runs/s and spans/s until the last acknowledgement.
- `stream`: a real Dify 1.14.1 stream (`b_iteration_ifelse_http.sse`: 30 events, 16 spans with an
  iteration), one `text/event-stream` request each, answered once its events are journaled; the run is
  built when its terminal event has waited `terminal_wait`. Prints events/s acknowledged, and runs/s until
  the backend holds every span.
- `otlp`: a run of the same app as Dify 1.14.1 exported it, recorded (`tests/testdata/dify-1.14.1-otlp/
  b_iteration_ifelse_http.otlp.jsonl`, its "Arize Phoenix" tracing setting): 14 OTLP/HTTP protobuf requests of
  one span each, sent one after another on one connection with the recorded headers (the bridge's API key put
  in), each answered once its span is journaled; the run is rebuilt when its workflow span (the last) came.
  Fresh ids per run: the trace id and every id in it but the app's and the workflow's.

Each prints p50/p99 acknowledgement latency (per request) and spans received vs expected (lost). By default
a closed loop: each connection sends its next run when the last is answered, which measures capacity, and its
latency is that of a saturated bridge (32 waiting clients: p50 = 32 / throughput). `--rate R` is an open loop instead,
as Dify sends: runs are due at R a second whatever the answers, and a run's latency counts from its due
time, so every stall of the bridge shows in the tail rather than slowing the sender down.

    .venv/bin/python bench/end_to_end.py [--receiver webhook|stream|otlp] [--runs 3000] [--concurrency 32]
                                         [--rate R] [--workers 1] [--no-detectors]

To profile the bridge under this load, wrap it:
`BENCH_SERVER_WRAPPER="py-spy record -f raw -o bridge.txt --" .venv/bin/python bench/end_to_end.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conversion import sdk_spans_per_second

from bridge.dify.export import recognize
from tests.bridge_server import API_KEY, APP_ID, bridge_config_text, free_port, signed_headers
from tests.dify_recordings import rebuilt_spans, recorded_requests
from tests.otlp_sink import OtlpSink
from tests.runs import load_runs

ROOT = Path(__file__).resolve().parent.parent
WARMUP_RUNS = 500  # sent first on the same connections, not counted


@dataclass(frozen=True)
class Receiver:
    """What one run is sent as: one request or several, sent one after another on one connection."""

    path: str
    media_type: str
    templates: tuple[bytes, ...]  # the run's requests, each body as recorded
    # Byte strings made fresh for each run, each replaced by one of the same length (protobuf framing holds): the
    # run id, and for a recorded OTLP export every other id in it and the trace id's 16 bytes.
    fresh: tuple[bytes, ...]
    spans: int  # per run, as the bridge builds it
    events: int | None  # Dify stream events per request (a webhook's run is not sent as events)
    accepted: int = 202  # the answer that takes a request
    signed: bool = True  # Dify's signature headers (webhook, stream); else the bridge's API key (otlp)
    sent_headers: tuple[tuple[str, str], ...] = ()  # otlp: as Dify sent them, the API key put in

    def bodies(self, count: int) -> list[tuple[bytes, ...]]:
        """`count` runs' requests, each run with fresh ids."""
        runs = []
        for _ in range(count):
            new = {old: _same_length(old) for old in self.fresh}
            requests = []
            for body in self.templates:
                for old, replacement in new.items():
                    body = body.replace(old, replacement)
                requests.append(body)
            runs.append(tuple(requests))
        return runs

    def headers(self, body: bytes) -> dict[str, str]:
        if self.signed:
            return signed_headers(body, headers={"Content-Type": self.media_type, "X-Dify-App-Id": APP_ID})
        return dict(self.sent_headers)


def _same_length(old: bytes) -> bytes:
    return str(uuid.uuid4()).encode() if len(old) == 36 else os.urandom(len(old))


_CAPTURE = ROOT / "tests/testdata/dify-1.14.1/b_iteration_ifelse_http.sse"
_STREAM = _CAPTURE.read_text()
(_RUN,) = load_runs(_CAPTURE)
# The same run as Dify 1.14.1 exported it (its "Arize Phoenix" tracing setting), recorded: 14 OTLP/HTTP requests
# of one span each (tests/testdata/dify-1.14.1-otlp/README.md).
_RECORDED = "b_iteration_ifelse_http"
_EXPORT = recorded_requests(_RECORDED)
_EXPORT_SPANS = [span for request in _EXPORT for span in request.spans()]
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The app and its workflow stay: many runs of one app. Every other id (run, node executions) is made fresh.
_RECOGNIZED = recognize(_EXPORT_SPANS, "otlp")
assert _RECOGNIZED is not None
_KEPT = {str(_RECOGNIZED.run.app_id).encode(), str(_RECOGNIZED.run.workflow_id).encode()}
RECEIVERS = {
    "webhook": Receiver(
        "/api/v1/dify/webhook", "application/json",
        (json.dumps({**json.loads((ROOT / "examples/runs/webhook_full.json").read_text()), "app_id": APP_ID,
                     "workflow_run_id": "RUN-ID-RUN-ID-RUN-ID-RUN-ID-RUN-ID-R"}).encode(),),
        (b"RUN-ID-RUN-ID-RUN-ID-RUN-ID-RUN-ID-R",), spans=10, events=None,
    ),
    "stream": Receiver(
        "/api/v1/dify/events", "text/event-stream", (_STREAM.encode(),), (_RUN.run_id.encode(),),
        spans=16, events=_STREAM.count("\ndata:") + _STREAM.startswith("data:"),
    ),
    "otlp": Receiver(
        _EXPORT[0].path, "application/x-protobuf", tuple(request.body for request in _EXPORT),
        (*sorted({id_ for request in _EXPORT for id_ in _UUID.findall(request.body)} - _KEPT),
         _EXPORT_SPANS[0].context.trace_id.to_bytes(16, "big")),
        spans=len(rebuilt_spans(_RECORDED)), events=None, accepted=200, signed=False,
        sent_headers=tuple((key, value.replace("<api key>", API_KEY)) for key, value in _EXPORT[0].headers
                           if key.lower() not in ("content-length", "connection")),
    ),
}  # fmt: skip


class _Client:
    """One keep-alive HTTP/1.1 connection to the bridge. Requests are written and answers read on raw asyncio
    streams: an HTTP client library costs more CPU per request than the bridge's own work on these machines,
    and this process shares the two cores with the bridge; what is measured is the bridge."""

    def __init__(self, base: str, receiver: Receiver) -> None:
        host, _, port = base.removeprefix("http://").rpartition(":")
        self.host, self.port, self.receiver = host, int(port), receiver

    async def open(self) -> _Client:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def send(self, body: bytes) -> int:
        """Sends one run until the bridge accepts it; returns how many times it was refused (429/503: sent again
        after waiting as told, on a new connection, as an idle one may be closed meanwhile)."""
        refused = 0
        while True:
            sent = self.receiver.headers(body)
            head = "".join(f"{k}: {v}\r\n" for k, v in sent.items())
            self.writer.write(f"POST {self.receiver.path} HTTP/1.1\r\nHost: {self.host}\r\n"
                              f"Content-Length: {len(body)}\r\n{head}\r\n".encode() + body)  # fmt: skip
            status, headers = await _answer(self.reader)
            if status == self.receiver.accepted:
                return refused
            assert status in (429, 503), f"the bridge answered {status}"
            refused += 1
            self.writer.close()
            await asyncio.sleep(float(headers.get("retry-after", "1")))
            await self.open()

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Tally:
    """Latencies and refusals of the counted runs, from the first one sent (`started`) to the last answered."""

    on_start: Callable[[], None]
    latencies: list[float] = field(default_factory=list)
    refused: int = 0
    started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()
            self.on_start()


async def _send_run(client: _Client, bodies: tuple[bytes, ...], since: float, tally: _Tally | None) -> None:
    """A run's requests one after another, as Dify sends them; each one's latency from `since` for the first, from
    the last answer for the others."""
    for body in bodies:
        refused = await client.send(body)
        answered = time.perf_counter()
        if tally is not None:
            tally.latencies.append(answered - since)
            tally.refused += refused
        since = answered


async def _send(clients: list[_Client], runs: list[tuple[tuple[bytes, ...], bool]], tally: _Tally) -> None:
    """A closed loop: each connection sends its next run when the last is answered, the warm-up runs first,
    then the counted ones without a pause: a steady state, not all connections opening at once."""
    pending = iter(runs)

    async def loop(client: _Client) -> None:
        for bodies, counted in pending:
            if counted:
                tally.start()
            await _send_run(client, bodies, time.perf_counter(), tally if counted else None)

    await asyncio.gather(*(loop(client) for client in clients))


async def _send_at_rate(
    clients: list[_Client], runs: list[tuple[tuple[bytes, ...], bool]], tally: _Tally, rate: float
) -> None:
    """An open loop: runs are due at `rate` a second whatever the answers, each sent on the first free
    connection; a run's latency counts from when it was due, so time spent waiting for a connection (the bridge
    falling behind) is in it. The warm-up runs go first and are all answered before the counted ones start:
    the server's first second (cold caches, connections opening) would otherwise be a backlog the count
    inherits."""
    for counted in (False, True):
        await _paced(clients, [bodies for bodies, flag in runs if flag == counted], rate, tally if counted else None)


async def _paced(clients: list[_Client], runs: list[tuple[bytes, ...]], rate: float, tally: _Tally | None) -> None:
    due: asyncio.Queue[tuple[tuple[bytes, ...], float] | None] = asyncio.Queue()

    async def schedule() -> None:
        if tally is not None:
            tally.start()
        first = time.perf_counter()
        for index, bodies in enumerate(runs):
            at = first + index / rate
            if (wait := at - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            due.put_nowait((bodies, at))
        for _ in clients:
            due.put_nowait(None)

    async def loop(client: _Client) -> None:
        while (item := await due.get()) is not None:
            await _send_run(client, *item, tally)

    await asyncio.gather(schedule(), *(loop(client) for client in clients))


async def _load(
    base: str,
    receiver: Receiver,
    runs: list[tuple[tuple[bytes, ...], bool]],
    connections: int,
    rate: float | None,
    tally: _Tally,
) -> float:
    """Sends `runs` (their requests, counted) on `connections` keep-alive connections, closed loop or at `rate`;
    returns the time the last one was answered (`time.perf_counter()`)."""
    clients = [await _Client(base, receiver).open() for _ in range(connections)]
    try:
        await (_send(clients, runs, tally) if rate is None else _send_at_rate(clients, runs, tally, rate))
    finally:
        for client in clients:
            client.close()
    return time.perf_counter()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """Status and headers of one answer; its body is read and dropped."""
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split(" ", 2)[1]), headers


def _cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) of `pid` and each process below it (the pipeline workers), by pid; empty where
    /proc cannot tell (not Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return {}
    seconds = {pid: (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")}
    for child in children:
        seconds |= _cpu_seconds(int(child))
    return seconds


def _cpu_ms_per_run(before: dict[int, float], after: dict[int, float], pid: int, runs: int) -> tuple[str, str]:
    """The server's and its workers' CPU milliseconds per run between two readings, as table cells."""
    if pid not in before or pid not in after:
        return "-", "-"
    workers = sum(after[p] - before[p] for p in after if p != pid and p in before)
    return f"{(after[pid] - before[pid]) * 1000 / runs:.2f}", f"{workers * 1000 / runs:.2f}"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    """Until the bridge at `base` answers /readyz; fails if it exits or takes longer than `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "the bridge did not start"
        time.sleep(0.1)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the bridge's process group: the bridge shuts down (its workers ignore it and are stopped by it),
    and a profiler wrapping it (`BENCH_SERVER_WRAPPER`) writes its output. SIGTERM to the wrapper alone lost the
    profile and left the bridge running after the benchmark. A process group, not a session: with the kernel's
    scheduler autogroups, a session of its own gets its own share of the CPU, and the bridge measured a fifth
    slower beside `cpu_neighbour.py`."""
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receiver", choices=sorted(RECEIVERS), default="webhook")
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, help="connections (default: 32 closed loop, 64 with --rate)")
    parser.add_argument("--rate", type=float, help="an open loop: runs sent at this many a second, not as answered")
    parser.add_argument("--no-detectors", action="store_true", help="the same pipeline without the detectors")
    parser.add_argument("--workers", type=int, default=1, help="service.workers: pipeline worker processes")
    args = parser.parse_args()
    connections = args.concurrency or (32 if args.rate is None else 64)
    # Measured first, on a quiet machine: the absolute targets hold on a machine about this fast.
    yardstick = sdk_spans_per_second()
    receiver = RECEIVERS[args.receiver]
    bodies = receiver.bodies(args.runs)
    with tempfile.TemporaryDirectory() as tmp, OtlpSink() as sink:
        config = Path(tmp) / "bridge.yaml"
        # The per-key rate limit (1,000 requests/s by default) is off: this measures capacity, not the limiter.
        otlp = "{protocols: {http: {}}}" if args.receiver == "otlp" else ""
        text = bridge_config_text(Path(tmp), sink.grpc_endpoint, otlp=otlp, workers=args.workers)
        text = text.replace("timeout: 20ms", "timeout: 200ms")
        text = text.replace("server:\n", "server:\n  rate_limit: {requests_per_second: 0}\n")
        config.write_text(text.replace("[detectors, batch]", "[batch]") if args.no_detectors else text)
        port = free_port()
        wrapper = os.environ.get("BENCH_SERVER_WRAPPER", "").split()  # e.g. "py-spy record -o p.svg --"
        server = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "bridge.cli", "--log-level", "WARNING", "serve", "--config", str(config),
             "--port", str(port)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, process_group=0,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, server, 30)
            expected = (WARMUP_RUNS + args.runs) * receiver.spans
            cpu_before: dict[int, float] = {}
            own_before = 0.0  # this process: the load generator and the OTLP receiver

            def on_start() -> None:
                nonlocal own_before
                cpu_before.update(_cpu_seconds(server.pid))
                own_before = time.process_time()

            tally = _Tally(on_start)
            runs = [*((run, False) for run in receiver.bodies(WARMUP_RUNS)), *((run, True) for run in bodies)]
            # uvloop, as the server runs: the load generator shares the two cores with the bridge.
            finished = uvloop.run(_load(base, receiver, runs, connections, args.rate, tally))
            assert tally.started is not None
            started, elapsed, latencies = tally.started, finished - tally.started, tally.latencies
            deadline = time.monotonic() + 120
            while sink.span_count() < expected and time.monotonic() < deadline:
                time.sleep(0.01)
            # Until the backend holds every span (a stream run is built after its acknowledgement).
            delivered = time.perf_counter() - started
            # Under a wrapper (a profiler) the server is the wrapper's child: its CPU is not told apart.
            cpu = (
                ("-", "-") if wrapper else _cpu_ms_per_run(cpu_before, _cpu_seconds(server.pid), server.pid, args.runs)
            )
            own = f"{(time.process_time() - own_before) * 1000 / args.runs:.2f}"
            received = sink.spans()
        finally:
            _stop(server)
    unique = len({s.span_id for s in received})
    spans = receiver.spans
    print(f"machine: the plain OTel SDK encodes {yardstick:,.0f} spans/s on one core here (the targets assume"
          " about 10,000)")  # fmt: skip
    per_request = f" ({receiver.events} events a request)" if receiver.events else ""
    if len(receiver.templates) > 1:
        per_request = f" ({len(receiver.templates)} requests a run, latency per request)"
    load = (
        f"{connections} concurrent clients"
        if args.rate is None
        else f"sent at {args.rate:,.0f}/s on up to {connections} connections (latency from each run's due time)"
    )
    print(f"{args.runs} runs of {spans} spans by {args.receiver}{per_request}, {load}, {args.workers} pipeline"
          " workers, bridge in its own process")  # fmt: skip
    print("| runs/s acked | events/s acked | runs/s in the backend | spans/s in the backend | ack p50 ms | ack p99 ms "
          "| refused (429/503) "
          "| spans received | lost | duplicates | server CPU ms/run | workers CPU ms/run "
          "| sender + receiver CPU ms/run |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    events = f"{args.runs * receiver.events / elapsed:,.0f}" if receiver.events else "-"
    print(f"| {args.runs / elapsed:,.0f} | {events} | {args.runs / delivered:,.0f} "
          f"| {args.runs * spans / delivered:,.0f} "
          f"| {_percentile(latencies, 0.5) * 1000:.1f} | {_percentile(latencies, 0.99) * 1000:.1f} | {tally.refused} "
          f"| {len(received):,} | {expected - unique:,} | {len(received) - unique:,} "
          f"| {cpu[0]} | {cpu[1]} | {own} |")  # fmt: skip


if __name__ == "__main__":
    main()

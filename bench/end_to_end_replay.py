"""End to end as a user feels it: `replay` and `serve` against a plain-SDK converter, to a real OTLP receiver.

The corpus: every real Dify 1.14.1 stream in /work/shared/reference (or `tests/testdata/dify-1.14.1`), each
repeated with fresh run, task, message, conversation and node execution ids (app, workflow and dataset ids
kept): 18 streams x 65 = 1,170 runs, one `.sse` file per stream. A fresh corpus every round, so no run id
repeats. One OTLP/gRPC receiver in this process (`tests/otlp_sink.py`) counts every span.

- plain SDK: the script a user would write (`PLAIN_SDK`, written out and run as its own process): parse the
  SSE lines, one span per node execution under one span per run with the run, node and execution ids, tokens
  and price, `BatchSpanProcessor` + `OTLPSpanExporter` over gRPC.
- `replay`: `dify-otel-bridge replay FILES` with the embedded default config (detectors, redaction,
  reduction), its exporter pointed at the receiver (the corpus is large enough for its forked pipeline workers).
- `serve`: `dify-otel-bridge serve` with the default pipeline, already up (not timed); each run POSTed as its
  `text/event-stream` body to the stream receiver, signed, on 8 connections. With `--before`, another `serve`
  of that version beside it, alternating.

Before the rounds, each version's `replay` runs once, untimed, on one stream (as a user's second run: its compiled
patterns kept, bridge/regex_cache.py). Timed: for the plain SDK and `replay`, from the process's start to the
last span acknowledged by the receiver (its last `Export` stored); for `serve`, from the first request sent to the
last span acknowledged.
Against `serve` the plain SDK is also timed without its start (from its first input read, as it reports),
the fair comparison for a server already up; serve's own start (to `/readyz`) is printed, not counted. The
sender (raw HTTP/1.1 on uvloop, signing each request) shares the two cores with the bridge: its CPU, with the
receiver's, is printed beside serve's (0.2-0.3 s a round, about a tenth of serve's). The sides alternate
within each round; ratios are per round.

    .venv/bin/python bench/end_to_end_replay.py [--rounds 3] [--copies 65] [--no-serve] [--streams DIR...]
                                                [--plain-sdk SCRIPT] [--before DIR] [--phases]

To profile the served bridge: `BENCH_SERVER_WRAPPER="py-spy record --subprocesses -f raw -o serve.txt --"`, or,
without py-spy, its main thread by CPU: `BENCH_SERVER_WRAPPER="$PWD/.venv/bin/python $PWD/bench/cpu_sampler.py OUT"`.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from opentelemetry.sdk.trace import ReadableSpan

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from end_to_end import Receiver, _cpu_seconds, _load, _stop, _Tally, wait_ready  # noqa: E402

from tests.bridge_server import bridge_config_text, free_port  # noqa: E402
from tests.otlp_sink import OtlpSink, Request  # noqa: E402

REFERENCE = Path("/work/shared/reference")
SOURCES = [REFERENCE / "dify-1.14.1-captures", REFERENCE / "dify-1.14.1-otlp"]
FALLBACK = ROOT / "tests/testdata/dify-1.14.1"
CONNECTIONS = 8
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Ids that name the app and what it reads stay as captured: the corpus is many runs of the same apps.
_KEPT = re.compile(r'"(?:sys\.)?(?:app_id|workflow_id|dataset_id|document_id|segment_id)":"([0-9a-f-]{36})"')

PLAIN_SDK = '''
"""Dify SSE files -> OTLP/gRPC: one span per run, one per node execution."""
import json, sys, time
start = time.time()
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context

provider = TracerProvider(resource=Resource({"service.name": "dify"}))
# max_queue_size: the default (2,048) drops spans when a file is read faster than they are exported.
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sys.argv[1], insecure=True),
                                               max_queue_size=1 << 20))
tracer = provider.get_tracer("dify-sse")
NS = 1_000_000_000
spans = 0
ready = time.time()

def usage(data, key):
    meta = data.get("execution_metadata") or {}
    return {"gen_ai.usage.total_tokens": meta.get(key + "total_tokens") or 0,
            "dify.total_price": float(meta.get(key + "total_price") or 0), "dify.currency": meta.get("currency") or ""}

def export(started, nodes, finished):
    global spans
    run_id = finished.get("id") or started.get("id")
    root = tracer.start_span("workflow", start_time=int(started["created_at"] * NS), attributes={
        "dify.workflow_run_id": run_id, "dify.workflow_id": finished.get("workflow_id") or "",
        "dify.app_id": (started.get("inputs") or {}).get("sys.app_id") or "",
        "dify.status": finished.get("status") or "", "gen_ai.usage.total_tokens": finished.get("total_tokens") or 0,
        "dify.elapsed_time": finished.get("elapsed_time") or 0})
    if finished.get("error"):
        root.set_status(Status(StatusCode.ERROR, str(finished["error"])))
    parent = set_span_in_context(root)
    for node in nodes:
        span = tracer.start_span(node.get("title") or node.get("node_type") or "node", context=parent,
            start_time=int(node["created_at"] * NS), attributes={
            "dify.workflow_run_id": run_id, "dify.node.id": node.get("node_id") or "",
            "dify.node.type": node.get("node_type") or "", "dify.node.execution_id": node.get("id") or "",
            "dify.node.status": node.get("status") or "", **usage(node, "")})
        if node.get("error"):
            span.set_status(Status(StatusCode.ERROR, str(node["error"])))
        span.end(end_time=int((node.get("finished_at") or node["created_at"]) * NS))
    root.end(end_time=int((finished.get("finished_at") or started["created_at"]) * NS))
    spans += len(nodes) + 1

for path in sys.argv[2:]:
    runs = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            name, data, run_id = event.get("event"), event.get("data") or {}, event.get("workflow_run_id")
            if name == "workflow_started":
                runs[run_id] = (data, [])
            elif name == "node_finished" and run_id in runs:
                runs[run_id][1].append(data)
            elif name == "workflow_finished" and run_id in runs:
                export(*runs.pop(run_id), data)
provider.shutdown()
print(f"{spans} spans; ready {ready - start:.3f} s after start, at {ready:.6f}")
'''


class TimedSink(OtlpSink):
    """The OTLP receiver, noting when it stored each request (and so acknowledged it)."""

    def __init__(self) -> None:
        super().__init__()
        self.last_at = 0.0

    def __enter__(self) -> TimedSink:
        self.start()
        return self

    def _store(self, request: Request, protocol: str, headers: dict[str, str]) -> None:
        super()._store(request, protocol, headers)
        self.last_at = time.perf_counter()


def _fresh_ids(text: str) -> str:
    kept = set(_KEPT.findall(text))
    fresh: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        old = match.group(0)
        if old in kept:
            return old
        return fresh.setdefault(old, str(uuid.uuid4()))

    return _UUID.sub(replace, text)


def _captures(sources: list[Path]) -> list[Path]:
    found = sorted(p for source in sources if source.is_dir() for p in source.glob("*.sse"))
    return found or sorted(FALLBACK.glob("*.sse"))


@dataclass(frozen=True)
class Corpus:
    files: list[str]  # one per capture, its copies one after another
    bodies: list[bytes]  # every run's stream, one request each

    @property
    def runs(self) -> int:
        return len(self.bodies)


def make_corpus(directory: Path, captures: list[Path], copies: int) -> Corpus:
    directory.mkdir(parents=True)
    files, bodies = [], []
    for index, capture in enumerate(captures):
        text = capture.read_text(encoding="utf-8")
        text = text if text.endswith("\n\n") else text.rstrip("\n") + "\n\n"
        runs = [_fresh_ids(text) for _ in range(copies)]
        path = directory / f"{index:02d}-{capture.name}"  # two sources hold captures of one name
        path.write_text("".join(runs), encoding="utf-8")
        files.append(str(path))
        bodies += [run.encode() for run in runs]
    return Corpus(files, bodies)


@dataclass(frozen=True)
class Timing:
    seconds: float  # to the last span acknowledged
    sent: int  # spans the side said it exported
    received: int
    cpu: float  # seconds of CPU (user + system) of its processes: steadier than wall time on a shared machine
    ready_seconds: float | None = None  # plain SDK: from its first input read
    sender_cpu: float | None = None  # serve: this process's CPU meanwhile (the sender's, and the receiver's)
    server_thread_cpu: float | None = None  # serve: its server process's main thread (the event loop)


def _run_process(
    sink: TimedSink, command: list[str], env: dict[str, str], cwd: Path = ROOT
) -> tuple[float, float, str, float]:
    """Runs `command`; its start and the last acknowledgement's time (`time.perf_counter()`), its stdout, and
    the CPU seconds it and its children used."""
    before, cpu_before = sink.span_count(), _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command[:3]} failed: {done.stdout}{done.stderr}"
    assert sink.span_count() > before, f"{command[:3]}: nothing received"
    return start, sink.last_at, done.stdout, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain_sdk(sink: TimedSink, script: Path, corpus: Corpus) -> Timing:
    before = sink.span_count()
    offset = time.time() - time.perf_counter()
    start, last, out, cpu = _run_process(sink, [sys.executable, str(script), sink.grpc_endpoint, *corpus.files],
                                         dict(os.environ))  # fmt: skip
    received = sink.span_count() - before
    # This bench's script says how many spans it made and when it began to read; another may say nothing.
    said = re.fullmatch(r"(\d+) spans; .* at ([\d.]+)", out.strip().rsplit("\n", 1)[-1])
    if said is None:
        return Timing(last - start, received, received, cpu)
    return Timing(last - start, int(said[1]), received, cpu, last - (float(said[2]) - offset))


def replay(sink: TimedSink, corpus: Corpus, checkout: Path = ROOT) -> Timing:
    """`dify-otel-bridge replay`, as its console script starts it, from `checkout` (another version's `bridge`)."""
    before = sink.span_count()
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{sink.grpc_endpoint}", "PYTHONPATH": str(checkout)}
    # `-m bridge.cli` runs the command in this checkout and in one from before issue 28's move (`--before`).
    command = [sys.executable, "-m", "bridge.cli", "replay", "--quiet", *corpus.files]
    start, last, out, cpu = _run_process(sink, command, env, checkout)
    sent = int(re.search(r"(\d+) spans", out).group(1))  # type: ignore[union-attr]
    return Timing(last - start, sent, sink.span_count() - before, cpu)


def serve_config_text(tmp: Path, endpoint: str) -> str:
    """`serve`'s config as timed here: the test server's (one pipeline worker) with the default pipeline's processors,
    runs closed at their last event, no rate limit; its files in `tmp`, its exporter to `endpoint`."""
    text = bridge_config_text(tmp, endpoint, workers=1)
    default = "processors: [detectors, redact, reduce, batch]"
    text = text.replace("processors: [detectors, batch]", default)
    text = text.replace("processors: {detectors: {}, batch: {timeout: 20ms}}",
                        "processors: {detectors: {}, redact: {secrets: mask, personal_data: mask}, "
                        "reduce: {content: truncated, max_value_bytes: 2048}, "
                        "batch: {timeout: 20ms, send_batch_size: 512}}")  # fmt: skip
    text = text.replace("terminal_wait: 100ms", "terminal_wait: 0s")
    text = text.replace("server:\n", "server:\n  rate_limit: {requests_per_second: 0}\n")
    assert default in text and "redact" in text and "terminal_wait: 0s" in text
    return text


class Server:
    """`dify-otel-bridge serve` with the default pipeline, its exporter pointed at the receiver, its files in `tmp`,
    run from `checkout` (another version's `bridge`)."""

    def __init__(self, tmp: Path, sink: TimedSink, checkout: Path = ROOT) -> None:
        tmp.mkdir()
        config = tmp / "bridge.yaml"
        config.write_text(serve_config_text(tmp, sink.grpc_endpoint))
        self.port = free_port()
        self.log = tmp / "serve.log"  # its warnings; the traceback Ctrl-C leaves at the stop
        wrapper = os.environ.get("BENCH_SERVER_WRAPPER", "").split()  # as in end_to_end.py: a profiler
        started = time.perf_counter()
        self.process = subprocess.Popen(
            # `-m bridge.cli`: the command of `checkout`, also one from before issue 28's move.
            [*wrapper, sys.executable, "-m", "bridge.cli", "--log-level", "WARNING", "serve",
             "--config", str(config), "--port", str(self.port)], cwd=tmp, process_group=0, stderr=self.log.open("w"),
            env={**os.environ, "PYTHONPATH": str(checkout)},
        )  # fmt: skip
        wait_ready(f"http://127.0.0.1:{self.port}", self.process, 60)
        self.start_seconds = time.perf_counter() - started  # to /readyz answering (polled every 0.1 s)

    def send(self, sink: TimedSink, corpus: Corpus, expected: int) -> Timing:
        receiver = Receiver("/api/v1/dify/events", "text/event-stream", (), (), spans=0, events=None)
        before = sink.span_count()
        tally = _Tally(lambda: None)
        cpu_before = sum(_cpu_seconds(self.process.pid).values())
        thread_before = _thread_cpu(self.process.pid)
        own_before = time.process_time()
        uvloop.run(_load(f"http://127.0.0.1:{self.port}", receiver, [((b,), True) for b in corpus.bodies],
                         CONNECTIONS, None, tally))  # fmt: skip
        assert tally.started is not None
        deadline = time.monotonic() + 60
        settled = None
        while time.monotonic() < deadline:
            count = sink.span_count() - before
            if count >= expected:
                # Until nothing more comes: a count past the expected one would be duplicates.
                settled = settled or time.monotonic()
                if time.monotonic() - settled > 0.5:
                    break
            time.sleep(0.005)
        cpu = sum(_cpu_seconds(self.process.pid).values()) - cpu_before  # with its pipeline worker
        own = time.process_time() - own_before
        thread = _thread_cpu(self.process.pid) - thread_before
        return Timing(sink.last_at - tally.started, expected, sink.span_count() - before, cpu, sender_cpu=own,
                      server_thread_cpu=thread)  # fmt: skip

    def stop(self) -> None:
        _stop(self.process)


def _thread_cpu(pid: int) -> float:
    """CPU seconds of `pid`'s main thread (where a wrapper runs the bridge in its own process: its only process)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# What the replaying process imports (with its workers: the readers only), its compiled patterns kept as the
# command keeps them (bridge/cli/entry.py), and what its first worker adds: the loader, then the components the
# default config names as it loads (bridge/config/registry.py), with the garbage collector off as the worker has it
# (bridge/service/replay_workers.py).
REPLAYING_IMPORTS = (
    "from bridge import regex_cache; regex_cache.install(); "
    "import bridge.cli.commands, bridge.service.replay_workers, bridge.dify.replay"
)
WORKER_IMPORTS = (
    f"{REPLAYING_IMPORTS}; import gc; gc.disable(); from bridge.config.loader import default_config; "
    "from bridge.service.replay_export import ReplayExport; ReplayExport(default_config()); regex_cache.save()"
)


def phases(corpus: Corpus, repeat: int) -> None:
    """Where `replay`'s time goes: CPU seconds of each stage, run on its own in this process (best of `repeat`) with
    the embedded default config, as `replay` runs it (bridge/dify/replay.py, bridge/service/replay_workers.py,
    bridge/service/replay_export.py, bridge/service/pipeline.py): reading and building runs in the replaying
    process, the rest in its workers. CPU time, not wall: on a shared machine it does not count the time other
    processes had the core."""
    import gc

    from bridge import GC_YOUNG_THRESHOLD
    from bridge.config.loader import default_config
    from bridge.dify.replay import read_closed_runs
    from bridge.dify.run_parts import ClosedRun
    from bridge.queue.encoding import encode
    from bridge.service.pipeline import processors_of
    from bridge.trace.spans import SpanBuilder

    imports = []
    for modules in (REPLAYING_IMPORTS, WORKER_IMPORTS):
        subprocess.run([sys.executable, "-c", modules], cwd=ROOT, check=True)  # the patterns kept, as a second run
        start = _children_cpu()
        subprocess.run([sys.executable, "-c", modules], cwd=ROOT, check=True)
        imports.append(_children_cpu() - start)
    imports[1] -= imports[0]  # the first worker is forked with the replaying process's imports done
    config = default_config()
    (spec,) = config.pipelines.values()
    processors = processors_of(config, spec)[0]
    builder = SpanBuilder(config.service.resource)
    gc.freeze()  # as replay does (bridge/cli/commands.py)
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    best: dict[str, float] = {}
    for _ in range(repeat):
        took: dict[str, float] = {}
        start = time.process_time()
        closed = [run for run in read_closed_runs(corpus.files) if isinstance(run, ClosedRun)]
        took["read (the replaying process): SSE parsed, events normalized, runs assembled"] = (
            time.process_time() - start
        )
        start = time.process_time()
        runs = [run.build() for run in closed]
        took["runs built from their parts (the replaying process; what follows in its workers)"] = (
            time.process_time() - start
        )
        start = time.process_time()
        traces: list[Sequence[ReadableSpan]] = [builder.build(run) for run in runs]
        took["spans built"] = time.process_time() - start
        for processor in processors:
            start = time.process_time()
            if hasattr(processor, "attach"):
                traces = [processor.attach(spans)[0] for spans in traces]
            else:
                traces = [processor.process(spans) for spans in traces]
            took[f"processor {type(processor).__name__}"] = time.process_time() - start
        start = time.process_time()
        for spans in traces:
            encode(spans, None)
        took["OTLP encoded"] = time.process_time() - start
        best = {k: min(v, best.get(k, v)) for k, v in took.items()}
    gc.unfreeze()
    print(f"replay's stages for {corpus.runs} runs, CPU seconds, best of {repeat}:")
    print(f"  {imports[0]:.3f} s  a fresh interpreter importing the CLI and the readers (the replaying process)")
    print(f"  {imports[1]:.3f} s  then the config loaded and the export made (the first worker, once)")
    for name, seconds in best.items():
        print(f"  {seconds:.3f} s  {name}")


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}x, {min(values):.2f}-{max(values):.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=65, help="runs made from each captured stream")
    parser.add_argument("--no-serve", action="store_true", help="replay and the plain SDK only")
    parser.add_argument("--phases", action="store_true", help="only where replay's time goes, stage by stage")
    parser.add_argument(
        "--streams",
        type=Path,
        nargs="+",
        default=SOURCES,
        help="directories of recorded Dify streams (*.sse) to make the corpus from",
    )
    parser.add_argument("--plain-sdk", type=Path, help="another plain-SDK script, run as `python SCRIPT "
                        "HOST:PORT FILE...` (default: PLAIN_SDK in this file)")  # fmt: skip
    parser.add_argument(
        "--before",
        type=Path,
        help="also replay and serve with the `bridge` and `detectors` in this directory "
        "(e.g. `git archive <commit> bridge detectors | tar -x -C DIR`), alternated with the others",
    )
    args = parser.parse_args()
    # Bytecode cached, as `pip install` leaves it (the SDK's is, in site-packages): not every start compiling.
    for checkout in (ROOT, args.before) if args.before else (ROOT,):
        subprocess.run([sys.executable, "-m", "compileall", "-q", "bridge", "detectors"], cwd=checkout, check=True,
                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})  # fmt: skip
    captures = _captures(args.streams)
    if args.phases:
        with tempfile.TemporaryDirectory() as tmp_name:
            phases(make_corpus(Path(tmp_name) / "corpus", captures, args.copies), args.rounds)
        return
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_name, TimedSink() as sink:
        tmp = Path(tmp_name)
        script = args.plain_sdk or tmp / "plain_sdk.py"
        if args.plain_sdk is None:
            script.write_text(PLAIN_SDK)
        # One untimed replay of each version first, as a user's second run finds the command: with the patterns it
        # compiled kept beside its bytecode (bridge/regex_cache.py), as the bytecode is above.
        warm_up = make_corpus(tmp / "warm-up", captures[:1], 1)
        for checkout in (ROOT, args.before.resolve()) if args.before else (ROOT,):
            replay(sink, warm_up, checkout)
        servers = {} if args.no_serve else {"serve": Server(tmp / "serve", sink)}
        if servers and args.before:
            servers["serve before"] = Server(tmp / "serve-before", sink, args.before.resolve())
        try:
            for index in range(args.rounds):
                corpus = make_corpus(tmp / f"corpus-{index}", captures, args.copies)
                row: dict[str, Any] = {"sdk": plain_sdk(sink, script, corpus)}
                row["replay"] = replay(sink, make_corpus(tmp / f"corpus-{index}-r", captures, args.copies))
                if args.before:
                    fresh = make_corpus(tmp / f"corpus-{index}-b", captures, args.copies)
                    row["replay before"] = replay(sink, fresh, args.before.resolve())
                for side, server in servers.items():
                    fresh = make_corpus(tmp / f"corpus-{index}-{side}", captures, args.copies)
                    row[side] = server.send(sink, fresh, row["replay"].sent)
                rows.append(row)
                _print_round(index, corpus, row)
        finally:
            for server in servers.values():
                server.stop()
    print(f"{len(rows)} rounds; ratios are the plain SDK's time over ours, per round:")
    for side, label in (("replay", "process start"), ("replay before", "process start"), ("serve", "first request"),
                        ("serve before", "first request")):  # fmt: skip
        if side in rows[0]:
            ratios = [row["sdk"].seconds / row[side].seconds for row in rows]
            cpu = [row["sdk"].cpu / row[side].cpu for row in rows]
            print(f"  {side} / plain SDK ({label} to last span acknowledged): {_spread(ratios)}; "
                  f"by CPU seconds {_spread(cpu)}")  # fmt: skip
    if "serve" in rows[0] and all(row["sdk"].ready_seconds is not None for row in rows):
        ratios = [row["sdk"].ready_seconds / row["serve"].seconds for row in rows]
        print(f"  serve / plain SDK without its start (from its first input read): {_spread(ratios)}")
    if "serve" in servers:
        print(f"  (serve's own start, not counted: {servers['serve'].start_seconds:.2f} s to /readyz)")


def _print_round(index: int, corpus: Corpus, row: dict[str, Any]) -> None:
    sdk: Timing = row["sdk"]
    read = "" if sdk.ready_seconds is None else f"from first read {sdk.ready_seconds:.2f} s; "
    cells = [f"round {index + 1}: {corpus.runs} runs",
             f"plain SDK {sdk.seconds:.2f} s ({read}CPU {sdk.cpu:.2f} s), {sdk.received}/{sdk.sent} spans"]  # fmt: skip
    for side in ("replay", "replay before", "serve", "serve before"):
        if side in row:
            timing: Timing = row[side]
            sender = "" if timing.sender_cpu is None else f", sender + receiver CPU {timing.sender_cpu:.2f} s"
            if timing.server_thread_cpu is not None:
                sender = f", of it the server's main thread {timing.server_thread_cpu:.2f} s{sender}"
            cells.append(f"{side} {timing.seconds:.2f} s (CPU {timing.cpu:.2f} s{sender}), {timing.received}/"
                         f"{timing.sent} spans, {sdk.seconds / timing.seconds:.2f}x")  # fmt: skip
    print("; ".join(cells), flush=True)


if __name__ == "__main__":
    main()

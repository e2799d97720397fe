"""`dify-otel-bridge`: serve, validate, config-reference, replay, deadletter, detect."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import gc
import json
import logging
import math
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from bridge import GC_YOUNG_THRESHOLD, regex_cache
from bridge.config.errors import ConfigError
from bridge.dify.formats import FORMATS, InputError
from bridge.queue.errors import QueueError

if TYPE_CHECKING:
    import socket

    from bridge.config.models import BridgeConfig
    from bridge.service.replay_export import ReplayExport
    from bridge.service.replay_workers import ReplayWorkers

# Each command imports what only it needs when it runs (the server, the store, the config loader, the
# exporters, socket and ssl): a command's time to its first record counts. `replay` of a large input reads the
# files with none of them loaded: its workers load them (bridge/service/replay_workers.py).

# Progress lines go to stderr once the input is this large (or when stderr is a terminal).
PROGRESS_MIN_BYTES = 1 << 20
PROGRESS_INTERVAL_S = 1.0
# `replay` builds and exports runs in this many forked workers once its input is this large (smaller inputs are
# done before a worker would have paid for itself). Two: building takes about twice the CPU of reading, and one
# worker was the longest path (bench/RESULTS.md); none on one core. The cores this process may use, where Linux says.
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
REPLAY_WORKERS = min(2, _CORES) if _CORES > 1 else 0
REPLAY_WORKERS_MIN_BYTES = 1 << 20
GRACEFUL_SHUTDOWN_S = 5


def _config(path: str | None) -> BridgeConfig:
    from bridge.config.loader import default_config, load_config

    return load_config(path) if path else default_config()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bridge.cli.startup_report import report
    from bridge.http.protocol import header_timeout_protocol
    from bridge.http.server import create_app
    from bridge.management.store import StoreError

    class Server(uvicorn.Server):
        """The first SIGTERM/SIGINT stops accepting and flushes; a second one exits at once. Everything
        acknowledged is committed to the queue file already, so nothing is lost by not waiting."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit:
                print("second signal: exiting now; undelivered data stays in the queue file", file=sys.stderr)
                os._exit(128 + sig)
            super().handle_exit(sig, frame)

    config = _config(args.config)
    host, _, port = config.server.endpoint.rpartition(":")
    host, port_number = args.host or host, args.port or int(port)
    # Bound before the store, the queue file and the poller open: a port in use stops nothing but this start.
    listener = _listen(host, port_number)
    try:
        app = create_app(config)  # opens the store: a broken one stops the command here
    except StoreError as exc:
        listener.close()
        print(f"store error: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        listener.close()
        raise
    settings = uvicorn.Config(
        app,
        log_level=args.log_level.lower(),
        # Open live-view streams never end by themselves: stop waiting for them after this long.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        server_header=False,  # no "server: uvicorn" to tell a scanner what runs here (one header less a request)
        # X-Forwarded-For only from the proxies the config names (uvicorn's default believes any local client).
        proxy_headers=bool(config.server.trusted_proxies),
        forwarded_allow_ips=list(config.server.trusted_proxies),
        http=header_timeout_protocol(config.server.header_timeout),
        **_tls_options(config),
    )
    # After uvicorn set up its loggers: the live view's EventSource clients send their token in the query, and
    # proxied calls carry whatever their clients put there (`?user=...`, keys).
    logging.getLogger("uvicorn.access").addFilter(_MaskQueryValues())
    logging.getLogger("uvicorn.error").addFilter(_StartupErrorWithoutTraceback())
    bound = listener.getsockname()
    url = f"{'https' if config.server.tls else 'http'}://{f'[{host}]' if ':' in host else host}:{bound[1]}"
    for line in report(config, url, app.state.receiver_routes):
        print(line, file=sys.stderr)
    Server(settings).run(sockets=[listener])  # a failed start exits 3 (uvicorn's SystemExit)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or `ListenError` naming them."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        hint = (
            " (another bridge? choose another with --port or server.endpoint)" if exc.errno == errno.EADDRINUSE else ""
        )
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None
    return listener


class ListenError(Exception):
    """`serve` cannot listen where it is told to."""


class _StartupErrorWithoutTraceback(logging.Filter):
    """A receiver that cannot start (`StartupError`) is reported in one line, not with the traceback uvicorn
    logs for any failed start."""

    def __init__(self) -> None:
        from bridge.receivers import StartupError

        super().__init__()
        self._prefix = f"{StartupError.__module__}.{StartupError.__qualname__}: "

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        last = message.rstrip().rpartition("\n")[2]
        if message.startswith("Traceback") and last.startswith(self._prefix):
            record.msg, record.args = last.removeprefix(self._prefix), None
        return True


class _MaskQueryValues(logging.Filter):
    """Access-log lines keep a query's names and show `***` for its values (`?token=***&user=***`)."""

    @staticmethod
    def _masked(value: object) -> object:
        if not isinstance(value, str) or "?" not in value:
            return value
        path, _, query = value.partition("?")
        parts = [f"{part.partition('=')[0]}=***" if "=" in part else "***" for part in query.split("&")]
        return f"{path}?{'&'.join(parts)}"

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._masked(arg) for arg in record.args)
        return True


def _tls_options(config: BridgeConfig) -> dict[str, Any]:
    """uvicorn's SSL settings for `server.tls`; mTLS asks every client for a certificate from the CA."""
    tls = config.server.tls
    if tls is None:
        return {}
    options: dict[str, Any] = {"ssl_certfile": tls.cert_file, "ssl_keyfile": tls.key_file}
    if tls.client_ca_file:
        import ssl

        options |= {"ssl_ca_certs": tls.client_ca_file, "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return options


def _validate(args: argparse.Namespace) -> int:
    path = args.config or args.file
    if not path:
        raise ConfigError("validate: name the file: validate --config FILE")
    if args.config and args.file and args.config != args.file:  # one of them was checked, silently
        raise ConfigError(f"validate: two files, {args.config} and {args.file}: name one (validate --config FILE)")
    config = _config(path)
    names = ", ".join(config.pipelines)
    print(f"{path}: valid ({len(config.pipelines)} pipeline(s): {names})")
    return 0


def _config_reference(args: argparse.Namespace) -> int:
    from bridge.config.reference import render

    sys.stdout.write(render())
    return 0


def _with_endpoint(config: BridgeConfig, endpoint: str) -> BridgeConfig:
    """`config` with its one OTLP exporter (`otlp` or `otlphttp`) sending to `endpoint`."""
    ids = [cid for cid, (factory, _) in config.exporters.items() if factory.type_name in ("otlp", "otlphttp")]
    if not ids:  # e.g. the file-and-console example: "set their endpoints" named nothing to set
        raise ConfigError(
            f"--endpoint: {config.source} has no OTLP exporter (its exporters: {', '.join(config.exporters)}):"
            " --endpoint replaces an otlp or otlphttp exporter's endpoint; leave it out, or add such an exporter"
        )
    if len(ids) != 1:
        raise ConfigError(
            f"--endpoint: {config.source} has {len(ids)} OTLP exporters ({', '.join(ids) or 'none'}), not one:"
            " set their endpoints in the config"
        )
    factory, cfg = config.exporters[ids[0]]
    settings = {**cfg.model_dump(exclude_unset=True), "endpoint": endpoint}
    if factory.type_name == "otlphttp":
        settings.pop("traces_endpoint", None)  # it would win over `endpoint`
    from pydantic import ValidationError

    try:
        updated = factory.config_class.model_validate(settings)
    except ValidationError as exc:  # was a traceback naming the exporter's field, not the flag
        reasons = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise ConfigError(f"--endpoint: {reasons}") from None
    return dataclasses.replace(config, exporters={**config.exporters, ids[0]: (factory, updated)})


def _replay(args: argparse.Namespace) -> int:
    total_bytes = sum(os.path.getsize(p) for p in args.files if os.path.isfile(p))

    def open_export() -> ReplayExport:
        from bridge.service.replay_export import ReplayExport

        config = _config(args.config)
        export = ReplayExport(_with_endpoint(config, args.endpoint) if args.endpoint else config)
        regex_cache.save()  # a worker ends without `atexit`: its start-up's patterns are kept now
        return export

    # Runs are built and exported in forked workers while this process reads, whatever `service.workers` says:
    # only an input large enough to pay for them gets them (bench/end_to_end_replay.py, bench/RESULTS.md). They
    # are forked before the config is loaded: the first loads it, and a config error comes back from it.
    export: ReplayExport | ReplayWorkers
    if REPLAY_WORKERS and total_bytes >= REPLAY_WORKERS_MIN_BYTES:
        from bridge.service.replay_workers import ReplayWorkers

        export = ReplayWorkers(REPLAY_WORKERS, open_export)
    else:
        export = open_export()
        export.start()
    with _start_up_frozen():
        return _replay_files(args, export, total_bytes)


@contextlib.contextmanager
def _start_up_frozen() -> Iterator[None]:
    """What is loaded by now lives until the exit: out of the collector's sight, with young collections as the
    server's (bridge/__init__.py): 4 % less CPU a replay. Undone at the end, for a process that goes on (tests)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _replay_files(args: argparse.Namespace, export: ReplayExport | ReplayWorkers, total_bytes: int) -> int:
    from bridge.dify.replay import read_closed_runs

    out, err = sys.stdout, sys.stderr
    show_progress = not args.quiet and (total_bytes >= PROGRESS_MIN_BYTES or err.isatty())
    errors = 0
    last_progress = time.monotonic()
    # Input errors wait until the config is known to be good (the workers load it): a broken config shows only
    # its own errors, as before anything was read.
    held: list[str] = []
    try:
        for item in read_closed_runs(args.files, args.format):
            if isinstance(item, InputError):
                errors += 1
                held.append(f"error: {item}")
            else:
                export.submit(item)
            if held and export.ready:
                print("\n".join(held), file=err)
                held.clear()
            if show_progress and time.monotonic() - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = time.monotonic()
                tally = export.tally
                print(f"progress: {tally.runs} runs, {tally.spans} spans, {errors} errors", file=err)
    finally:
        outcome = export.finish(args.timeout)
    if held:
        print("\n".join(held), file=err)
    tally = outcome.tally
    summary = f"replayed {tally.runs} runs ({tally.incomplete} incomplete), {tally.spans} spans, {errors} input errors"
    lost = {cid: (count, reason) for cid, (count, reason) in outcome.lost.items() if count}
    if lost:
        summary += "; failed to export: " + ", ".join(
            f"{cid} {count} spans" + (f" ({reason})" if reason else "") for cid, (count, reason) in lost.items()
        )
    flushed = outcome.flushed
    print(summary if flushed else f"{summary}; gave up waiting for the exporters after {args.timeout:g}s", file=out)
    if lost:
        print(
            "replay keeps nothing (its queue is in memory): once the backend is up, or with --endpoint (or"
            " OTEL_EXPORTER_OTLP_ENDPOINT) naming one that is, replay the files again; with no backend at all, a"
            " --config with the file or console exporter writes the trace there",
            file=err,
        )
    return 1 if errors or lost or not flushed else 0


def _deadletter(args: argparse.Namespace) -> int:
    """Lists the dead letters of the configured queue file, or moves them back into the queue."""
    from bridge.queue.config import QueueConfig
    from bridge.queue.storage import JOURNAL, QueueStorage

    queue = QueueConfig(path=args.queue) if args.queue else _config(args.config).service.queue
    if queue.path == ":memory:" or not os.path.isfile(queue.path):
        print(
            f"deadletter: no queue file at {os.path.abspath(queue.path)}: run this where the bridge runs, or name its"
            " file with --queue (or its config with --config)",
            file=sys.stderr,
        )
        return 2
    storage = QueueStorage(queue.path, queue.fsync)
    try:
        letters = storage.dead_letters()
        if args.action == "list":
            print("\t".join(("id", "exporter", "spans", "bytes", "failed at", "runs", "reason")))
            for letter in letters:
                failed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(letter.failed_at))
                # A journal row holds raw events or spans, not a request an exporter refused.
                runs = "-" if letter.exporter == JOURNAL else _run_ids(storage.dead_letter_payload(letter.id))
                fields = (letter.id, letter.exporter, letter.spans, letter.size, failed, runs, letter.reason)
                print("\t".join(map(str, fields)))
            print(f"{len(letters)} dead letter(s) in {storage.path}", file=sys.stderr)
            return 0
        if not args.ids and not args.all:
            print("deadletter retry: name the ids to retry, or --all", file=sys.stderr)
            return 2
        unknown = sorted(set(args.ids) - {letter.id for letter in letters})
        if unknown:
            print(
                f"deadletter retry: no dead letter {', '.join(map(str, unknown))} (see deadletter list)",
                file=sys.stderr,
            )
        journal = sorted({letter.id for letter in letters if letter.exporter == JOURNAL} & set(args.ids))
        if journal:
            print(
                f"deadletter retry: {', '.join(map(str, journal))}: a journal row no start could read (raw events"
                " or spans, never redacted, no export request): kept to be looked into, never sent",
                file=sys.stderr,
            )
        if args.all or len(unknown) + len(journal) < len(set(args.ids)):
            moved = storage.requeue(None if args.all else args.ids)
            print(f"{moved} dead letter(s) queued again, each for the exporter that refused it")
        return 1 if unknown or journal else 0
    finally:
        storage.close()


def _run_ids(payload: bytes) -> str:
    """The traces of a refused request as run ids (a Dify run id is its trace id), at most three named."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        request = ExportTraceServiceRequest.FromString(payload)
    except DecodeError:
        return "(unreadable)"
    traces = dict.fromkeys(
        span.trace_id for resource in request.resource_spans for scope in resource.scope_spans for span in scope.spans
    )
    named = [str(uuid.UUID(bytes=trace)) for trace in list(traces)[:3] if len(trace) == 16]
    return ",".join(named) + (f" (+{len(traces) - 3} more)" if len(traces) > 3 else "")


def _detect(args: argparse.Namespace) -> int:
    """One JSON line per finding; the detectors' settings come from the config's `detectors` processor."""
    from bridge.config.models import parse_component_id
    from bridge.dify.replay import read_runs
    from bridge.processors import detectors
    from bridge.trace.spans import SpanBuilder

    config = _config(args.config)
    configured = [c for cid, (_, c) in config.processors.items() if parse_component_id(cid)[0] == detectors.TYPE]
    settings = configured[0] if configured and isinstance(configured[0], detectors.Config) else detectors.Config()
    processor = detectors.create(settings)
    builder = SpanBuilder(config.service.resource)
    errors = 0
    for item in read_runs(args.files, args.format):
        if isinstance(item, InputError):
            errors += 1
            print(f"error: {item}", file=sys.stderr)
            continue
        spans = builder.build(item)
        node_ids = {s.context.span_id: (s.attributes or {}).get("dify.node.id") for s in spans if s.context}
        for finding in processor.detect(spans):
            line = {
                "workflow_run_id": item.run_id,
                "detector": finding.detector,
                "severity": finding.severity,
                "confidence": finding.confidence,
                "node_id": node_ids.get(finding.span_id) if finding.span_id is not None else None,
                "summary": finding.summary,
            }
            print(json.dumps(line, ensure_ascii=False))
    return 1 if errors else 0


# Said by --help of the parser, `serve` and `replay`: where traces go, without reading the code.
WHERE_TRACES_GO = """\
Traces go to the config's exporters. The embedded default (no --config) sends OTLP/gRPC to
$OTEL_EXPORTER_OTLP_ENDPOINT (unset: http://localhost:4317) and reads BRIDGE_API_KEY, BRIDGE_TOKEN_SECRET,
BRIDGE_STORE (dify-otel-bridge.db) and BRIDGE_QUEUE (dify-otel-bridge-queue.db); exporter settings a config
file leaves out fall back to the standard OTEL_EXPORTER_OTLP_* variables."""


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _port(text: str) -> int:
    """A TCP port, 1-65535: a larger number would be taken modulo 65536 by the socket and listen elsewhere."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def _seconds(text: str) -> float:
    """A wait in seconds, 0 or more: a negative or NaN `--timeout` gave up at once and called the export failed."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def build_parser() -> argparse.ArgumentParser:
    formatting: dict[str, Any] = {"epilog": WHERE_TRACES_GO, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = argparse.ArgumentParser(prog="dify-otel-bridge", description=__doc__, **formatting)
    level: dict[str, Any] = {"type": str.upper, "choices": _LOG_LEVELS, "metavar": "LEVEL"}
    level["help"] = ", ".join(_LOG_LEVELS)
    parser.add_argument("--log-level", default=os.environ.get("DIFY_OTEL_BRIDGE_LOG_LEVEL", "INFO").upper(), **level)
    # Also after the command (`serve --log-level DEBUG`); given there, it overrides the one before.
    after_command = argparse.ArgumentParser(add_help=False)
    after_command.add_argument("--log-level", default=argparse.SUPPRESS, **level)
    formatting["parents"] = [after_command]
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bridge (HTTP server)", **formatting)
    serve.add_argument("--config", help="YAML config file (default: the embedded default)")
    serve.add_argument("--host", help="listen address (default: server.endpoint, 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="listen port (default: server.endpoint, 8000)")
    serve.set_defaults(func=_serve)

    validate = commands.add_parser("validate", help="check a config file and exit", parents=[after_command])
    validate.add_argument("--config", help="the YAML config file")
    validate.add_argument("file", nargs="?", metavar="FILE", help="the same, without --config")
    validate.set_defaults(func=_validate)

    reference = commands.add_parser(
        "config-reference", help="print every config key (docs/configuration.md)", parents=[after_command]
    )
    reference.set_defaults(func=_config_reference)

    replay = commands.add_parser(
        "replay", help="export runs from files of Dify run data", **formatting,
        description="Exports runs from files straight to the config's exporters (not through a running bridge). "
        "No backend yet: a config with the file or console exporter (config/examples/file-and-console.yaml in "
        "the source tree) writes the trace there.",
    )  # fmt: skip
    replay.add_argument("files", nargs="+", metavar="FILE")
    replay.add_argument("--config", help="YAML config file (default: the embedded default)")
    replay.add_argument(
        "--endpoint", metavar="URL",
        help="where the config's one OTLP exporter sends (the embedded default's: OTLP/gRPC, http://localhost:4317)",
    )  # fmt: skip
    replay.add_argument("--format", choices=FORMATS, help="input format (default: detected per file)")
    replay.add_argument("--quiet", action="store_true", help="no progress lines")
    replay.add_argument("--timeout", type=_seconds, default=30.0, help="seconds to wait for delivery (default 30)")
    replay.set_defaults(func=_replay)

    deadletter = commands.add_parser(
        "deadletter", help="list or retry what backends refused for good", parents=[after_command]
    )
    deadletter.add_argument("action", choices=["list", "retry"])
    deadletter.add_argument("ids", nargs="*", type=int, metavar="ID", help="dead letters to retry (see list)")
    deadletter.add_argument("--all", action="store_true", help="retry every dead letter")
    deadletter.add_argument("--config", help="YAML config file naming the queue (default: the embedded default)")
    deadletter.add_argument("--queue", metavar="FILE", help="the queue file itself (then no config is read)")
    deadletter.set_defaults(func=_deadletter)

    detect = commands.add_parser(
        "detect", help="run the detectors over files of Dify run data", parents=[after_command],
        description="Prints one JSON line per finding: workflow_run_id, detector, severity, confidence, node_id, "
        "summary. Nothing is exported. Exit status 1 when an input had errors (findings alone: 0).",
    )  # fmt: skip
    detect.add_argument("files", nargs="+", metavar="FILE")
    detect.add_argument("--config", help="YAML config file (detector settings; default: the embedded default)")
    detect.add_argument("--format", choices=FORMATS, help="input format (default: detected per file)")
    detect.set_defaults(func=_detect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # `serve my.yaml`: argparse alone says "unrecognized arguments" under the top command's usage
        config = next((arg for arg in extra if arg.endswith((".yaml", ".yml"))), None)
        hint = f" (a config file goes after --config: --config {config})" if config else ""
        parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "DEBUG":  # the OTLP/HTTP senders' client logs a line per request at INFO
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        for error in str(exc).splitlines():  # every error of the file, one a line
            print(f"config error: {error}", file=sys.stderr)
        return 2
    except QueueError as exc:
        print(f"queue error: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the server took over the signals
        return 130
    return result

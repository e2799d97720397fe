"""`dify-otel-bridge`: serve, validate, replay, detect."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence

from bridge.config import BridgeConfig, ConfigError, default_config, load_config, parse_component_id
from bridge.formats import FORMATS, InputError
from bridge.management.store import StoreError
from bridge.model import RUN_STATUS_INCOMPLETE
from bridge.processors import detectors
from bridge.replay import read_runs
from bridge.service import BridgeService
from bridge.spans import SpanBuilder

# Progress lines go to stderr once the input is this large (or when stderr is a terminal).
PROGRESS_MIN_BYTES = 1 << 20
PROGRESS_INTERVAL_S = 1.0
GRACEFUL_SHUTDOWN_S = 5


def _config(path: str | None) -> BridgeConfig:
    return load_config(path) if path else default_config()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bridge.server import create_app

    config = _config(args.config)
    host, _, port = config.server.endpoint.rpartition(":")
    app = create_app(config)
    uvicorn.run(
        app,
        host=args.host or host,
        port=args.port or int(port),
        log_level=args.log_level.lower(),
        # Open live-view streams never end by themselves: stop waiting for them after this long.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    names = ", ".join(config.pipelines)
    print(f"{args.config}: valid ({len(config.pipelines)} pipeline(s): {names})")
    return 0


def _replay(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    service = BridgeService(_config(args.config))
    total_bytes = sum(os.path.getsize(p) for p in args.files if os.path.isfile(p))
    show_progress = not args.quiet and (total_bytes >= PROGRESS_MIN_BYTES or err.isatty())
    runs = spans = errors = incomplete = 0
    last_progress = time.monotonic()
    try:
        for item in read_runs(args.files, args.format):
            if isinstance(item, InputError):
                errors += 1
                print(f"error: {item}", file=err)
                continue
            spans += service.submit_run(item)
            runs += 1
            incomplete += item.status == RUN_STATUS_INCOMPLETE
            if show_progress and time.monotonic() - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = time.monotonic()
                print(f"progress: {runs} runs, {spans} spans, {errors} errors", file=err)
    finally:
        flushed = service.force_flush()
        service.shutdown()
    summary = f"replayed {runs} runs ({incomplete} incomplete), {spans} spans, {errors} input errors"
    lost = {cid: counter.failed for cid, counter in service.exporters.items() if counter.failed}
    if lost:
        summary += "; failed to export: " + ", ".join(f"{cid} {count} spans" for cid, count in lost.items())
    print(summary if flushed else f"{summary}; export flush timed out", file=out)
    return 1 if errors or lost or not flushed else 0


def _detect(args: argparse.Namespace) -> int:
    """One JSON line per finding; the detectors' settings come from the config's `detectors` processor."""
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dify-otel-bridge", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("DIFY_OTEL_BRIDGE_LOG_LEVEL", "INFO"))
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bridge (HTTP server)")
    serve.add_argument("--config", help="YAML config file (default: the embedded default)")
    serve.add_argument("--host", help="listen address (default: server.endpoint, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: server.endpoint, 8000)")
    serve.set_defaults(func=_serve)

    validate = commands.add_parser("validate", help="check a config file and exit")
    validate.add_argument("--config", required=True)
    validate.set_defaults(func=_validate)

    replay = commands.add_parser("replay", help="export runs from files of Dify run data")
    replay.add_argument("files", nargs="+", metavar="FILE")
    replay.add_argument("--config", help="YAML config file (default: the embedded default)")
    replay.add_argument("--format", choices=FORMATS, help="input format (default: detected per file)")
    replay.add_argument("--quiet", action="store_true", help="no progress lines")
    replay.set_defaults(func=_replay)

    detect = commands.add_parser("detect", help="run the detectors over files of Dify run data")
    detect.add_argument("files", nargs="+", metavar="FILE")
    detect.add_argument("--config", help="YAML config file (detector settings; default: the embedded default)")
    detect.add_argument("--format", choices=FORMATS, help="input format (default: detected per file)")
    detect.set_defaults(func=_detect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())

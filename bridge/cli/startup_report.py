"""What `serve` says at start: the config file, where runs come in, where traces go, which files hold state."""

from __future__ import annotations

import os

from pydantic import BaseModel
from starlette.routing import Route

from bridge.config.models import BridgeConfig
from bridge.exporters import console, file, otlp, otlp_env, otlphttp
from bridge.receivers import otlp as otlp_receiver
from bridge.receivers import poller

# Receivers whose every request is signed with a bridge API key.
_SIGNED = ("webhook", "stream")


def _where(cfg: BaseModel) -> str:
    if isinstance(cfg, otlp.Config):
        target, insecure = otlp.endpoint_of(cfg)
        return f"OTLP/gRPC to {'http' if insecure else 'https'}://{target}"
    if isinstance(cfg, otlphttp.Config):
        return f"OTLP/HTTP to {otlphttp.traces_url(cfg) or otlp_env.http_traces_url()}"
    if isinstance(cfg, file.Config):
        return f"OTLP-JSON lines to {os.path.abspath(cfg.path)}"
    if isinstance(cfg, console.Config):
        return f"OTLP-JSON to {cfg.out}"
    return type(cfg).__module__


def _routes(routes: list[Route]) -> list[str]:
    return [f"{' '.join(sorted((r.methods or set()) - {'HEAD'}))} {r.path}" for r in routes]


def _receiver(receiver_id: str, cfg: BaseModel, routes: list[Route]) -> str:
    ways = _routes(routes)
    if isinstance(cfg, otlp_receiver.Config) and cfg.protocols.grpc is not None:
        ways.append(f"gRPC on {cfg.protocols.grpc.endpoint}")
    if isinstance(cfg, poller.Config):
        ways.append(f"polls every registered instance with an API key every {cfg.interval:g}s")
    return f"  receiver {receiver_id}: {'; '.join(ways)}"


def _path(path: str) -> str:
    return path if path == ":memory:" else os.path.abspath(path)


def report(config: BridgeConfig, url: str, receiver_routes: dict[str, list[Route]]) -> list[str]:
    """The lines `serve` prints before it takes requests; the last ones are warnings, if any."""
    lines = [f"config: {config.source}", f"listening on {url}"]
    lines += [_receiver(rid, cfg, receiver_routes.get(rid, [])) for rid, (_, cfg) in config.receivers.items()]
    lines += [f"  exporter {eid}: {_where(cfg)}" for eid, (_, cfg) in config.exporters.items()]
    lines.append(f"queue file: {_path(config.service.queue.path)}")
    lines.append(f"store: {_path(config.server.store)}")
    if not config.receivers:  # config/examples/*.yaml are written for replay: served, they took nothing
        lines.append(
            "warning: no receiver (receivers, and service.pipelines.<name>.receivers): nothing can send runs to this"
            " bridge; the embedded default's are otlp, webhook, stream, proxy, poller (docs/getting-runs-in.md)"
        )
    if not config.server.api_keys:
        keyed = [
            rid
            for rid, (factory, cfg) in config.receivers.items()
            if factory.type_name in _SIGNED or (isinstance(cfg, otlp_receiver.Config) and cfg.require_api_key)
        ]
        lines.append(
            "warning: no API key (server.api_keys; the embedded default reads BRIDGE_API_KEY): the management API"
            f"{''.join(f', receiver {rid}' for rid in keyed)} {'refuse' if keyed else 'refuses'} every request"
        )
    return lines

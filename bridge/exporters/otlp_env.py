"""The standard `OTEL_EXPORTER_OTLP_[TRACES_]*` variables, read for keys the config file leaves unset."""

from __future__ import annotations

import os
from urllib.parse import unquote

from bridge.config.durations import Duration


def setting(name: str) -> str | None:
    """`OTEL_EXPORTER_OTLP_TRACES_<name>`, else `OTEL_EXPORTER_OTLP_<name>`, else None (empty counts as unset)."""
    return os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}") or None


def headers(configured: dict[str, str]) -> dict[str, str]:
    """The configured headers, else the variable's `k=v,k2=v2` (URL-encoded, as the specification says)."""
    if configured:
        return configured
    pairs = (item.partition("=") for item in (setting("HEADERS") or "").split(",") if "=" in item)
    return {unquote(k).strip(): unquote(v).strip() for k, _, v in pairs}


def timeout(configured: Duration | None) -> float:
    """Per-request deadline in seconds: configured, else the variable (in milliseconds, as the specification
    says), else 10 s."""
    if configured is not None:
        return configured
    value = setting("TIMEOUT")
    return float(value) / 1000 if value else 10.0


def http_traces_url() -> str:
    """OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the full URL; OTEL_EXPORTER_OTLP_ENDPOINT a base for `/v1/traces`."""
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces
    return (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318").rstrip("/") + "/v1/traces"

"""The standard `OTEL_EXPORTER_OTLP_[TRACES_]*` variables, read for keys the config file leaves unset."""

from __future__ import annotations

import os
import re
from typing import Annotated
from urllib.parse import unquote

from pydantic import AfterValidator

from bridge.config.durations import Duration

_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # RFC 9110's header names
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _checked_headers(value: dict[str, str]) -> dict[str, str]:
    """A value with a line break passed `validate`, then failed every export and logged itself (often a key)."""
    for name, text in value.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"header {name!r}: a header name is letters, digits and !#$%&'*+-.^_`|~")
        if _CONTROL.search(text):
            raise ValueError(
                f"header {name!r}: its value holds a control character (CR, LF, NUL, ...); the value is not shown"
            )
    return value


# An exporter's `headers`: names and values HTTP and gRPC can send.
Headers = Annotated[dict[str, str], AfterValidator(_checked_headers)]


def setting(name: str) -> str | None:
    """`OTEL_EXPORTER_OTLP_TRACES_<name>`, else `OTEL_EXPORTER_OTLP_<name>`, else None (empty counts as unset)."""
    return os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}") or None


def headers(configured: dict[str, str]) -> dict[str, str]:
    """The configured headers, else the variable's `k=v,k2=v2` (URL-encoded, as the specification says)."""
    if configured:
        return configured
    pairs = (item.partition("=") for item in (setting("HEADERS") or "").split(",") if "=" in item)
    try:  # checked as the config's are: a `%0D%0A` failed every export and the retry warning showed the value
        return _checked_headers({unquote(k).strip(): unquote(v).strip() for k, _, v in pairs})
    except ValueError as exc:
        raise ValueError(f"OTEL_EXPORTER_OTLP_[TRACES_]HEADERS: {exc}") from None


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

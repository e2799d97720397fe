"""Factory tables for every component kind, from an explicit, alphabetical import list."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from bridge.config.models import Factory
from bridge.exporters import console, file, otlp, otlphttp
from bridge.processors import batch, detectors, redact, reduce
from bridge.receivers import otlp as otlp_receiver
from bridge.receivers import poller, proxy, stream, webhook


def _table(kind: str, modules: Iterable[ModuleType]) -> dict[str, Factory]:
    table: dict[str, Factory] = {}
    for module in modules:
        factory = Factory(module.TYPE, module.Config, module.create)
        if factory.type_name in table:
            raise ValueError(f"duplicate {kind} type {factory.type_name!r}")
        table[factory.type_name] = factory
    return table


RECEIVERS: dict[str, Factory] = _table("receiver", [otlp_receiver, poller, proxy, stream, webhook])
PROCESSORS: dict[str, Factory] = _table("processor", [batch, detectors, redact, reduce])
EXPORTERS: dict[str, Factory] = _table("exporter", [console, file, otlp, otlphttp])
KINDS: dict[str, dict[str, Factory]] = {"receivers": RECEIVERS, "processors": PROCESSORS, "exporters": EXPORTERS}


def get(kind: str, type_name: str) -> Factory:
    """The factory of `type_name` in section `kind` ("exporters", ...); ValueError lists the known types."""
    table = KINDS[kind]
    if type_name not in table:
        known = ", ".join(sorted(table)) or "none yet"
        raise ValueError(f"unknown type {type_name!r}; known {kind}: {known}")
    return table[type_name]

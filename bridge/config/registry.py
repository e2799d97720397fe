"""Factory tables for every component kind, from an explicit, alphabetical list of modules. A module is imported
when a config first names its type: each brings its libraries (gRPC, httpx, protobuf's JSON format), and a
config pays only for the components it uses (`replay` with the default config: not httpx, for one). A receiver's
settings are a module of their own, imported to read its section; the receiver's, when it is created."""

from __future__ import annotations

import importlib
from functools import partial
from types import ModuleType

from bridge.config.models import Factory

_MODULES = {
    "receivers": {
        "otlp": "bridge.receivers.otlp",
        "poller": "bridge.receivers.poller",
        "proxy": "bridge.receivers.proxy",
        "stream": "bridge.receivers.stream",
        "webhook": "bridge.receivers.webhook",
    },
    "processors": {
        "batch": "bridge.processors.batch",
        "detectors": "bridge.processors.detectors",
        "redact": "bridge.processors.redact",
        "reduce": "bridge.processors.reduce",
    },
    "exporters": {
        "console": "bridge.exporters.console",
        "file": "bridge.exporters.file",
        "otlp": "bridge.exporters.otlp",
        "otlphttp": "bridge.exporters.otlphttp",
    },
}


def _module(path: str, type_name: str) -> ModuleType:
    """The component's module, imported now (once: Python keeps it); it must say the type it is listed under."""
    module = importlib.import_module(path)
    if type_name != module.TYPE:
        raise ValueError(f"{path} is listed as type {type_name!r} but says TYPE = {module.TYPE!r}")
    return module


def _table(modules: dict[str, str], config_package: str | None = None) -> dict[str, Factory]:
    """`config_package`: where each type's `Config` is a module of its own, named as the type."""
    return {
        type_name: Factory(
            type_name,
            partial(_module, path, type_name),
            partial(importlib.import_module, f"{config_package}.{type_name}") if config_package else None,
        )
        for type_name, path in modules.items()
    }


# A receiver's settings are apart from it: `replay` validates the receivers' sections and starts none (their modules
# brought Starlette, anyio and the HTTP parts: 15 ms of CPU where 5 now; bench/RESULTS.md).
RECEIVERS: dict[str, Factory] = _table(_MODULES["receivers"], "bridge.receivers.config")
PROCESSORS: dict[str, Factory] = _table(_MODULES["processors"])
EXPORTERS: dict[str, Factory] = _table(_MODULES["exporters"])
KINDS: dict[str, dict[str, Factory]] = {"receivers": RECEIVERS, "processors": PROCESSORS, "exporters": EXPORTERS}


def get(kind: str, type_name: str) -> Factory:
    """The factory of `type_name` in section `kind` ("exporters", ...); ValueError lists the known types."""
    table = KINDS[kind]
    if type_name not in table:
        known = ", ".join(sorted(table)) or "none yet"
        raise ValueError(f"unknown type {type_name!r}; known {kind}: {known}")
    return table[type_name]

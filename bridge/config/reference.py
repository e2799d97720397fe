"""The configuration reference (docs/configuration.md), generated from the config models themselves: every
key, its type, its default and the comment written above it in the code, so the document cannot drift
from what the bridge accepts (`dify-otel-bridge config-reference`; a test compares the file)."""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bridge.config import registry
from bridge.config.durations import parse_duration
from bridge.config.models import ServiceConfig
from bridge.management.settings import ServerConfig
from detectors import registry as detector_registry

_FIELD = re.compile(r"^    (\w+)\s*:")


def _comments(model: type[BaseModel]) -> dict[str, str]:
    """The comment lines directly above each field of `model`'s class body (and trailing `# ...` on its line)."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        # A comment speaks for the fields right below it, up to the next blank line or comment.
        pending: list[str] = []
        after_field = False
        for line in inspect.getsource(cls).splitlines():
            if line.startswith("    #") and not line.startswith("     "):
                pending = pending if not after_field else []
                pending.append(line.strip().lstrip("# ").rstrip())
                after_field = False
                continue
            match = _FIELD.match(line)
            if match and match.group(1) in model.model_fields:
                trailing = line.split("  # ", 1)[1].strip() if "  # " in line else ""
                found[match.group(1)] = " ".join([*pending, trailing]).strip()
                after_field = True
            elif not line.startswith("        "):
                pending, after_field = [], False
    return found


def _is_duration(metadata: Any) -> bool:
    """`bridge.config.durations.Duration`: a float whose validator reads `5s`, `2m`, ..."""
    return any(getattr(m, "func", None) is parse_duration for m in metadata)


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in get_args(annotation))
    if origin is typing.Literal:
        return " or ".join(f"`{json.dumps(arg)}`" for arg in get_args(annotation))
    if origin is typing.Annotated:
        return "duration" if _is_duration(get_args(annotation)[1:]) else (_type_name(get_args(annotation)[0]))
    if origin in (list, tuple):
        return f"list of {_type_name(get_args(annotation)[0])}" if get_args(annotation) else "list"
    if origin is dict:
        return "mapping"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    name = getattr(annotation, "__name__", str(annotation))
    return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(name, name)


def _default(field: FieldInfo) -> str:
    if _is_duration(field.metadata) and isinstance(field.default, int | float):
        return f"`{field.default:g}s`"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(see below)"
        return f"`{json.dumps(value)}`"
    if field.default is PydanticUndefined:
        return "**required**"
    default = field.default
    if isinstance(default, BaseModel):
        return "(see below)"
    return f"`{json.dumps(default, default=str)}`"


def _nested(annotation: Any) -> list[type[BaseModel]]:
    """Models a field holds (itself, in a list, or in a union)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _nested(arg)]


def _section(title: str, model: type[BaseModel], out: list[str], level: int = 3) -> None:
    comments = _comments(model)
    out += [f"{'#' * level} `{title}`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        meaning = comments.get(name, "").replace("|", "\\|")
        kind = "duration" if _is_duration(field.metadata) else _type_name(field.annotation)
        out.append(f"| `{name}` | {kind} | {_default(field)} | {meaning} |")
        key = f"{title}.{name}.<name>" if get_origin(field.annotation) is dict else f"{title}.{name}"
        nested += [(key, child) for child in _nested(field.annotation)]
    out.append("")
    for child_title, child in nested:
        _section(child_title, child, out, level)


def render() -> str:
    out = [
        "# Configuration reference",
        "",
        "Generated from the config models by `dify-otel-bridge config-reference` (a test keeps this file in step",
        "with the code). Durations take `500ms`, `5s`, `2m`, `1h` or seconds as a number; `${env:VAR}` and",
        "`${env:VAR:-default}` are substituted everywhere. Components are configured under their id",
        "(`type[/name]`), as in the OpenTelemetry Collector.",
        "",
    ]
    for kind, table in registry.KINDS.items():
        out += [f"## {kind}", ""]
        for type_name, factory in sorted(table.items()):
            module = inspect.getmodule(factory.create)
            doc = ((module.__doc__ if module else None) or "").strip().split("\n\n")[0]
            out += [f"{doc}", ""] if doc else []
            _section(f"{kind}.{type_name}", factory.config_class, out)
            if type_name == "detectors":  # each detector's settings sit under its key
                for key, detector in sorted(detector_registry().items()):
                    _section(f"{kind}.detectors.{key}", detector.config_class, out, level=4)
    out += ["## server", ""]
    _section("server", ServerConfig, out)
    out += ["## service", ""]
    _section("service", ServiceConfig, out)
    return "\n".join(out).rstrip() + "\n"

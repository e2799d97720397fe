"""The config file: YAML shaped like the OpenTelemetry Collector's, checked before anything starts.

`${env:VAR}` and `${env:VAR:-default}` are expanded once, here (the only module that reads the
environment); `$$` is a literal `$`. Every error names the file, the line and the key path.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from importlib import resources
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from bridge.config import registry
from bridge.config.errors import ConfigError
from bridge.config.models import BridgeConfig, Component, ServiceConfig, parse_component_id
from bridge.dify.formats import LONE_SURROGATE
from bridge.management.settings import ServerConfig

Path_ = tuple[str | int, ...]
SECTIONS = ("receivers", "processors", "exporters")
_ENV = re.compile(r"\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Values a document may hold once its aliases are expanded. A config holds hundreds; a file of nine lines of nine
# aliases each holds 387 million, and walking them held `validate` and `serve` (and their memory) for good.
MAX_VALUES = 100_000


class _Document:
    """The parsed YAML plus the line of every key, for error messages."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines: dict[Path_, int] = {}
        self.errors: list[tuple[int, str]] = []  # (line, message) of every error noted
        self._faulty: list[Path_] = []
        try:
            loader = yaml.SafeLoader(text)
            try:
                node = loader.get_single_node()
                self.data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            if "${" in (text.splitlines()[line - 1 : line] or [""])[0]:  # the Collector's syntax, unquoted in a {...}
                problem += ' (quote ${env:...} inside {...} or [...]: "${env:VAR}")'
            raise ConfigError(f"{source}:{line}: invalid YAML: {problem}") from None
        except RecursionError:  # PyYAML's composer recurses: a traceback, not a config error
            raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
        self._values = 0
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, path: Path_) -> None:
        self._values += 1
        if self._values > MAX_VALUES:
            line = node.start_mark.line + 1
            reason = f"more than {MAX_VALUES:,} values once its aliases are expanded (`*name` repeating `&name`)"
            raise ConfigError(f"{self.source}:{line}: invalid YAML: {reason}")
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                line = key.start_mark.line + 1
                first = self.lines.get((*path, key.value))
                if first is not None:  # PyYAML keeps the last value silently; the Collector refuses the file
                    where = ".".join(str(p) for p in (*path, key.value))
                    self.errors.append((line, f"{self.source}:{line}: {where}: duplicate key (first on line {first})"))
                self.lines[(*path, key.value)] = line
                self._index(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                self._index(item, (*path, index))

    def _line(self, path: Path_) -> int:
        """The line of `path`, else of its nearest parent in the file; a key missing at the top (or a top that is
        no mapping) is line 1, as editors count."""
        probe = path
        while probe and probe not in self.lines:
            probe = probe[:-1]
        return self.lines.get(probe, 1)

    def _message(self, path: Path_, reason: str) -> str:
        where = ".".join(str(p) for p in path)
        line = self._line(path)
        return f"{self.source}:{line}: {where}: {reason}" if where else f"{self.source}:{line}: {reason}"

    def error(self, path: Path_, reason: str) -> ConfigError:
        return ConfigError(self._message(path, reason))

    def report(self, path: Path_, reason: str) -> None:
        """Notes an error and goes on, so that one pass names them all; none under a path already at fault
        (a missing variable's value is not also reported invalid)."""
        if not any(path[: len(bad)] == bad for bad in self._faulty):
            self._faulty.append(path)
            self.errors.append((self._line(path), self._message(path, reason)))

    def raise_errors(self) -> None:
        """Every error noted, in file order, as one `ConfigError` (one line each)."""
        if self.errors:
            raise ConfigError("\n".join(message for _, message in sorted(self.errors, key=lambda e: e[0])))


def _expand(value: Any, path: Path_, doc: _Document, environ: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {_text(k, (*path, k), doc): _expand(v, (*path, k), doc, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, (*path, i), doc, environ) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return _text(value, path, doc)

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    missing: list[str] = []
    expanded = _ENV.sub(substitute, value)
    if missing:
        names = ", ".join(missing)
        verb, them = ("are", "them") if len(missing) > 1 else ("is", "it")
        doc.report(path, f"environment variable{'s' * (len(missing) > 1)} {names} {verb} not set"
                   f": export {them}, or give {them} a default: ${{env:{missing[0]}:-default}}")  # fmt: skip
    return _text(expanded, path, doc)


def _text(value: Any, path: Path_, doc: _Document) -> Any:
    """`value`, unless it is a string holding a lone surrogate: YAML's "\\ud800" escape or an environment
    variable's undecodable bytes make one, and no run carrying it could be sent."""
    if isinstance(value, str) and (found := LONE_SURROGATE.search(value)):
        raise doc.error(path, f"holds {found.group()!a}, half of a UTF-16 surrogate pair: not text")
    return value


def _report_validation(doc: _Document, path: Path_, model: type[BaseModel], exc: ValidationError) -> None:
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            reason = _unknown_key(model, loc)
        elif error["type"] == "value_error":  # a validator's own words, without pydantic's "Value error, "
            reason = str(error["ctx"]["error"])
        else:
            reason = error["msg"]
        doc.report((*path, *loc), reason)


# Keys of a Collector exporter block that the bridge does not take, with what to do instead: the README says a
# Collector block works as is, and "did you mean 'endpoint'?" for `encoding` sent a user the wrong way.
_COLLECTOR_ONLY = {
    "sending_queue": "the bridge's queue is service.queue (on disk, always on): leave sending_queue out",
    "encoding": "the bridge sends OTLP protobuf only: leave encoding out",
    "insecure_skip_verify": "not taken: trust the server's certificate with ca_file (or insecure: true, plain text)",
}


def _unknown_key(model: type[BaseModel], loc: Path_) -> str:
    """ "unknown key", with the nearest known key of the section (a misspelling) or the keys it knows."""
    if str(loc[-1]) in _COLLECTOR_ONLY:
        return f"unknown key; {_COLLECTOR_ONLY[str(loc[-1])]}"
    owner = _model_at(model, loc[:-1])
    if owner is None:
        return "unknown key"
    known = [field.alias or name for name, field in owner.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f"unknown key; did you mean {close[0]!r}?" if close else f"unknown key; known keys: {', '.join(known)}"


def _types(annotation: Any) -> list[Any]:
    """The types an annotation allows (Optional, unions and Annotated unwrapped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _types(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [t for arg in get_args(annotation) for t in _types(arg)]
    return [annotation]


def _model_at(annotation: Any, loc: Path_) -> type[BaseModel] | None:
    """The model that validates the value at `loc` under `annotation`, if one does."""
    for part in loc:
        inner = None
        for option in _types(annotation):
            if isinstance(option, type) and issubclass(option, BaseModel) and part in option.model_fields:
                inner = option.model_fields[str(part)].annotation
            elif isinstance(option, type) and issubclass(option, BaseModel) and hasattr(option, "model_for"):
                inner = option.model_for(str(part))  # a section whose keys name models (the detectors' settings)
            elif get_origin(option) in (list, dict):
                inner = get_args(option)[-1]
            if inner is not None:
                break
        if inner is None:
            return None
        annotation = inner
    models = [t for t in _types(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if models else None


def _components(doc: _Document, section: str, raw: Any) -> dict[str, Component]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise doc.error((section,), "expected a mapping of component id to settings")
    components: dict[str, Component] = {}
    for component_id, settings in raw.items():
        path: Path_ = (section, component_id)
        try:
            type_name, _ = parse_component_id(str(component_id))
            factory = registry.get(section, type_name)
        except ValueError as exc:
            doc.report(path, str(exc))
            continue
        if settings is not None and not isinstance(settings, dict):
            doc.report(path, "expected a mapping of settings (or nothing, for the defaults)")
            continue
        try:
            components[str(component_id)] = (factory, factory.config_class.model_validate(settings or {}))
        except ValidationError as exc:
            _report_validation(doc, path, factory.config_class, exc)
    return components


def _check_pipelines(doc: _Document, config: BridgeConfig, declared: dict[str, list[str]]) -> None:
    """`declared`: the component ids of each section, valid or not (an invalid one is reported once, where it is)."""
    if not config.pipelines:
        doc.report(("service", "pipelines"), "at least one pipeline is required (service.pipelines.traces)")
    for name, pipeline in config.pipelines.items():
        path: Path_ = ("service", "pipelines", name)
        signal, slash, suffix = name.partition("/")
        if signal != "traces" or (slash and not suffix.strip()):
            doc.report(path, 'a pipeline is named "traces" or "traces/<name>"')
            continue
        if not pipeline.exporters:
            doc.report((*path, "exporters"), "at least one exporter is required")
        for section in SECTIONS:
            ids: list[str] = getattr(pipeline, section)
            for index, component_id in enumerate(ids):
                if component_id not in declared[section]:
                    doc.report((*path, section, index), _undeclared(component_id, section, declared[section]))
                elif ids.index(component_id) != index:
                    doc.report((*path, section, index), f"{component_id!r} is listed twice")


def _undeclared(component_id: str, section: str, declared: list[str]) -> str:
    """A pipeline's id not declared in its section: the nearest id or type, and that a type must be declared too."""
    reason = f"{component_id!r} is not defined in {section} ({', '.join(declared) or 'none'})"
    close = difflib.get_close_matches(component_id, [*declared, *registry.KINDS[section]], n=1, cutoff=0.6)
    meant = close[0] if close else component_id
    declare = f"declared under {section}: as `{meant}: {{}}`"
    if meant not in declared and parse_component_id(meant)[0] not in registry.KINDS[section]:
        return reason
    if meant == component_id:
        return f"{reason}; a type must be {declare}"
    return f"{reason}; did you mean {meant!r}" + ("?" if meant in declared else f" ({declare})?")


def parse_config(text: str, source: str = "<config>", environ: Mapping[str, str] | None = None) -> BridgeConfig:
    """Validate a config document; raises `ConfigError` naming file, line and key."""
    doc = _Document(text, source)
    data = _expand(doc.data if doc.data is not None else {}, (), doc, os.environ if environ is None else environ)
    if not isinstance(data, dict):
        raise doc.error((), "expected a mapping at the top level")
    for key in data:
        if key not in (*SECTIONS, "service", "server"):
            doc.report((key,), f"unknown section; expected one of {', '.join((*SECTIONS, 'service', 'server'))}")
    service = _validated(doc, "service", ServiceConfig, data)
    server = _validated(doc, "server", ServerConfig, data)
    components = {section: _components(doc, section, data.get(section)) for section in SECTIONS}
    if service is None or server is None:
        doc.raise_errors()
        raise AssertionError("unreachable: an invalid section is an error")
    # Pipelines are checked against what did validate: every error of the file is said in one pass.
    config = BridgeConfig(source=source, service=service, server=server, **components)
    declared = {section: [str(cid) for cid in _mapping(data.get(section))] for section in SECTIONS}
    _check_pipelines(doc, config, declared)
    _check_metrics(doc, config, declared["exporters"])
    doc.raise_errors()
    return config


_Model = TypeVar("_Model", bound=BaseModel)


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _validated(doc: _Document, section: str, model: type[_Model], data: dict[str, Any]) -> _Model | None:
    try:
        return model.model_validate(data.get(section) or {})
    except ValidationError as exc:
        _report_validation(doc, (section,), model, exc)
        return None


def _check_metrics(doc: _Document, config: BridgeConfig, declared: list[str]) -> None:
    for index, component_id in enumerate(config.service.metrics.exporters):
        path: Path_ = ("service", "metrics", "exporters", index)
        if component_id not in declared:
            known = ", ".join(declared) or "none"
            doc.report(path, f"{component_id!r} is not defined in exporters ({known})")
        elif component_id in config.exporters and config.exporters[component_id][0].type_name not in (
            "otlp",
            "otlphttp",
        ):
            doc.report(path, f"{component_id!r}: metrics go to otlp or otlphttp exporters only")


def load_config(path: str, environ: Mapping[str, str] | None = None) -> BridgeConfig:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})") from None
    return parse_config(text, path, environ)


def default_config(environ: Mapping[str, str] | None = None) -> BridgeConfig:
    """The embedded default: OTLP/gRPC to localhost:4317 (or OTEL_EXPORTER_OTLP_ENDPOINT)."""
    text = resources.files("bridge.config").joinpath("default_config.yaml").read_text(encoding="utf-8")
    return parse_config(text, "<embedded default config>", environ)

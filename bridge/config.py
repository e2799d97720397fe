"""The config file: YAML shaped like the OpenTelemetry Collector's, checked before anything starts.

`${env:VAR}` and `${env:VAR:-default}` are expanded once, here (the only module that reads the
environment); `$$` is a literal `$`. Every error names the file, the line and the key path.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge import registry
from bridge.durations import Duration
from bridge.formats import LONE_SURROGATE
from bridge.management.settings import ServerConfig
from bridge.metric_aggregates import DEFAULT_MAX_SERIES

Path_ = tuple[str | int, ...]
SECTIONS = ("receivers", "processors", "exporters")
_ENV = re.compile(r"\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """An invalid config: `file:line: key.path: reason`."""


class AssemblyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A run with no terminal event is closed (and exported as incomplete) after this long without events.
    idle_timeout: Duration = 300.0
    # After a run's terminal event, wait this long for stragglers before exporting it. 0: export at once.
    terminal_wait: Duration = 2.0
    # Finished run ids remembered so late duplicates do not start a second trace. 0: remember none.
    completed_run_memory: int = Field(default=10_000, ge=0)
    # Spans received over OTLP are held per trace until the trace's last span is known to be in (Dify's
    # `workflow` span) or none came for this long (the Collector's tail_sampling `decision_wait`).
    decision_wait: Duration = 5.0
    # A trace that carries Dify's marks (its tracer, its root, a node's metadata) waits this long instead for
    # its workflow span, which Dify sends last: a busy Dify worker can pause between a run's spans, and a trace
    # closed without it is passed through as Dify sent it.
    export_wait: Duration = 30.0


class QueueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The durable queue (SQLite, WAL): accepted runs wait here until every exporter delivered them.
    # ":memory:" keeps nothing across restarts (tests, replay).
    path: str = "dify-otel-bridge-queue.db"
    # fsync every commit: also survives power loss and OS crashes, at a disk flush per accepted run.
    # false (as the Collector's file_storage) survives a killed bridge.
    fsync: bool = False
    # Receivers answer 503 with Retry-After while more than this many bytes of spans wait for delivery.
    max_bytes: int = Field(default=1 << 30, gt=0)
    # Stream runs assembled at once; events that would open one more are answered 429 with Retry-After.
    max_runs_in_flight: int = Field(default=10_000, gt=0)
    # The Retry-After of those answers.
    retry_after: Duration = 5.0
    # At shutdown, wait this long for the exporters to deliver what is queued; the rest stays queued.
    shutdown_timeout: Duration = 5.0
    # How long a queued run's id is remembered, so that a later copy of the run (Dify's export after its stream,
    # a resent webhook, the poller) is dropped unless it holds more. Older ids are forgotten, oldest first, so
    # the file does not grow by every run ever queued; a copy arriving after that is queued again.
    run_id_retention: Duration = Field(default=86_400.0, gt=0)


class MetricsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # `otlp` / `otlphttp` exporters (ids from `exporters`) that also receive the bridge's metrics, with the
    # same endpoint, headers and TLS (OTLP/HTTP to `/v1/metrics`). Empty: metrics only at GET /metrics.
    exporters: list[str] = Field(default_factory=list)
    # How often metrics are pushed.
    interval: Duration = Field(default=60.0, gt=0)
    # Attribute sets each run metric keeps (app and status, model, provider and token type, ...): their
    # values come from senders. Later sets are counted together under `otel.metric.overflow="true"`.
    max_series: int = Field(default=DEFAULT_MAX_SERIES, gt=0)
    # A run metric's attribute set not recorded for this long (to twice this long) is dropped, freeing its
    # slot; if it comes back, it counts from 0 again (a counter reset to Prometheus). 0: never dropped.
    idle_timeout: Duration = Field(default=3600.0, ge=0)


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Resource attributes on every span.
    resource: dict[str, str] = Field(default_factory=lambda: {"service.name": "dify"})
    # How runs are put together from stream events and traces from OTLP spans.
    assembly: AssemblyConfig = Field(default_factory=AssemblyConfig)
    # The durable queue between the pipelines and the exporters.
    queue: QueueConfig = Field(default_factory=QueueConfig)
    # The bridge's metrics over OTLP (they are always at GET /metrics).
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    # `traces` or `traces/<name>`: which receivers' runs go through which processors to which exporters.
    pipelines: dict[str, PipelineConfig] = Field(default_factory=dict)
    # Processes that build, process and encode runs beside the server's own, so the bridge uses more than
    # one core (docs/scaling.md). 0: all in the server process. The embedded default and shipped configs say 1.
    # `replay` ignores this: it forks its own workers for an input of 1 MiB or more (up to 2, one per core).
    workers: int = Field(default=0, ge=0, le=64)


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Component ids defined in their sections; processors run in this order (redact and reduce are added
    # when missing). Runs replayed from files go through every pipeline.
    receivers: list[str] = Field(default_factory=list)
    processors: list[str] = Field(default_factory=list)
    exporters: list[str] = Field(default_factory=list)


ServiceConfig.model_rebuild()
Component = tuple[registry.Factory, BaseModel]


@dataclass(frozen=True)
class BridgeConfig:
    source: str
    service: ServiceConfig
    server: ServerConfig = field(default_factory=ServerConfig)
    receivers: dict[str, Component] = field(default_factory=dict)
    processors: dict[str, Component] = field(default_factory=dict)
    exporters: dict[str, Component] = field(default_factory=dict)

    @property
    def pipelines(self) -> dict[str, PipelineConfig]:
        return self.service.pipelines


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
            line = mark.line + 1 if mark is not None else 0
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"{source}:{line}: invalid YAML: {problem}") from None
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*path, key.value)] = key.start_mark.line + 1
                self._index(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                self._index(item, (*path, index))

    def _line(self, path: Path_) -> int:
        probe = path
        while probe and probe not in self.lines:
            probe = probe[:-1]
        return self.lines.get(probe, 0)

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
        verb = "are" if len(missing) > 1 else "is"
        doc.report(path, f"environment variable{'s' * (len(missing) > 1)} {names} {verb} not set"
                   f" (use ${{env:{missing[0]}:-default}})")  # fmt: skip
    return _text(expanded, path, doc)


def _text(value: Any, path: Path_, doc: _Document) -> Any:
    """`value`, unless it is a string holding a lone surrogate: YAML's "\\ud800" escape or an environment
    variable's undecodable bytes make one, and no run carrying it could be sent."""
    if isinstance(value, str) and (found := LONE_SURROGATE.search(value)):
        raise doc.error(path, f"holds {found.group()!a}, half of a UTF-16 surrogate pair: not text")
    return value


def parse_component_id(component_id: str) -> tuple[str, str]:
    """`type[/name]` → (type, name); both halves trimmed and non-empty."""
    type_name, slash, name = component_id.partition("/")
    type_name, name = type_name.strip(), name.strip()
    if not type_name or (slash and not name):
        raise ValueError(f'invalid component id {component_id!r}: expected "type" or "type/name"')
    return type_name, name


def _report_validation(doc: _Document, path: Path_, model: type[BaseModel], exc: ValidationError) -> None:
    for error in exc.errors():
        loc = tuple(error["loc"])
        reason = _unknown_key(model, loc) if error["type"] == "extra_forbidden" else error["msg"]
        doc.report((*path, *loc), reason)


def _unknown_key(model: type[BaseModel], loc: Path_) -> str:
    """ "unknown key", with the nearest known key of the section (a misspelling) or the keys it knows."""
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
                    known = ", ".join(declared[section]) or "none"
                    doc.report((*path, section, index), f"{component_id!r} is not defined in {section} ({known})")
                elif ids.index(component_id) != index:
                    doc.report((*path, section, index), f"{component_id!r} is listed twice")


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
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, path, environ)


def default_config(environ: Mapping[str, str] | None = None) -> BridgeConfig:
    """The embedded default: OTLP/gRPC to localhost:4317 (or OTEL_EXPORTER_OTLP_ENDPOINT)."""
    text = resources.files("bridge").joinpath("default_config.yaml").read_text(encoding="utf-8")
    return parse_config(text, "<embedded default config>", environ)

"""The config's models: the `service` section and the loaded config as the running bridge reads it. Each
component's own model lives with the component; these hold them as (factory, config) pairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridge.config.durations import Duration
from bridge.management.settings import ServerConfig
from bridge.queue.config import QueueConfig
from bridge.telemetry.series import DEFAULT_MAX_SERIES


@dataclass(frozen=True, slots=True)
class Factory:
    """A component type: its YAML name, and its module (`TYPE`, `Config`, `create`), imported when its config model
    or `create` is first asked for (bridge/config/registry.py)."""

    type_name: str
    module: Callable[[], ModuleType]
    # The module holding its `Config` when that is not `module`: a receiver's (bridge/receivers/config/), so that
    # reading a config, which validates every section, does not import the receivers' server libraries.
    config_module: Callable[[], ModuleType] | None = None

    @property
    def config_class(self) -> type[BaseModel]:
        config_class: type[BaseModel] = (self.config_module or self.module)().Config
        return config_class

    @property
    def create(self) -> Callable[..., Any]:
        """(config) for processors and exporters, (config, ReceiverContext) for receivers."""
        create: Callable[..., Any] = self.module().create
        return create


class AssemblyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A run with no terminal event is closed (and exported as incomplete) after this long without events.
    idle_timeout: Duration = 300.0
    # After a run's terminal event, wait this long for stragglers before exporting it. 0: export at once.
    terminal_wait: Duration = 2.0
    # Finished run ids remembered so late duplicates do not start a second trace (and as many OTLP trace ids, so
    # that spans coming after their trace closed join its rebuilt run). 0: remember none.
    completed_run_memory: int = Field(default=10_000, ge=0)
    # Spans received over OTLP are held per trace until the trace's last span is known to be in (Dify's
    # `workflow` span) or none came for this long (the Collector's tail_sampling `decision_wait`).
    decision_wait: Duration = 5.0
    # A trace that carries Dify's marks (its tracer, its root, a node's metadata) waits this long instead for
    # its workflow span, which Dify sends last: a busy Dify worker can pause between a run's spans, and a trace
    # closed without it is passed through as Dify sent it. Also the longest a trace whose run is in waits for
    # the rest of a run it started (a workflow used as a tool, exported seconds after its caller) once part of
    # that run came; a nested run coming wholly after its caller closed is rebuilt on its own, as its own trace.
    export_wait: Duration = 30.0


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

    # Receiver ids (from `receivers`) whose runs take this pipeline. Runs replayed from files go through every
    # pipeline.
    receivers: list[str] = Field(default_factory=list)

    # Processor ids (from `processors`), run in this order; redact and reduce are added when missing.
    processors: list[str] = Field(default_factory=list)

    # Exporter ids (from `exporters`): each gets every span of the pipeline, with a queue cursor of its own.
    exporters: list[str] = Field(default_factory=list)


ServiceConfig.model_rebuild()
Component = tuple[Factory, BaseModel]


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


def parse_component_id(component_id: str) -> tuple[str, str]:
    """`type[/name]` → (type, name); both halves trimmed and non-empty."""
    type_name, slash, name = component_id.partition("/")
    type_name, name = type_name.strip(), name.strip()
    if not type_name or (slash and not name):
        raise ValueError(f'invalid component id {component_id!r}: expected "type" or "type/name"')
    return type_name, name

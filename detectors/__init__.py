"""Failure detectors over whole traces, one module per detector, and their registry.

A detector reads spans (GenAI, OpenInference and `dify.*` attributes), never Dify payloads, so it works
on GenAI traces from any source. Each module exports `KEY`, `Config` (pydantic, `enabled` included) and
`create(cfg) -> Detector`. Third-party detectors register under the entry-point group
`dify_otel_bridge.detectors` with the same three names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Literal, Protocol

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel, ConfigDict

from bridge.formats import decode_json

Severity = Literal["low", "medium", "high", "critical"]
ENTRY_POINT_GROUP = "dify_otel_bridge.detectors"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detection. `span_id` None means the run as a whole (the root span)."""

    detector: str
    severity: Severity
    confidence: float
    summary: str
    evidence: dict[str, Any]
    span_id: int | None = None


class DetectorConfig(BaseModel):
    """What every detector's `Config` extends: unknown keys refused, and a switch."""

    model_config = ConfigDict(extra="forbid")

    # false: the detector does not run.
    enabled: bool = True


class Detector(Protocol):
    def __call__(self, trace: Trace) -> Iterable[Finding]: ...


class Baselines(Protocol):
    """State kept across runs (models seen, costs, class mix), by key; JSON values. Must be thread-safe."""

    def get(self, key: str) -> Any: ...

    def put(self, key: str, value: Any) -> None: ...


class MemoryBaselines:
    """Baselines for one process (the `detect` command, tests); the server keeps them in its store."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._values.get(key)

    def put(self, key: str, value: Any) -> None:
        self._values[key] = value


class Trace:
    """Read-only helpers over one trace's spans, computed once and shared by every detector.

    `root`, `nodes` (node spans in start order), `llm_spans` and the node types are found in one pass when
    the trace is made: every run needs them, and one pass over the spans costs less than one per view."""

    def __init__(self, spans: Sequence[ReadableSpan], baselines: Baselines | None = None) -> None:
        self.spans = spans
        self.baselines: Baselines = baselines if baselines is not None else MemoryBaselines()
        self.root: ReadableSpan | None = None
        self.llm_spans: list[ReadableSpan] = []
        self._retrievers: list[ReadableSpan] = []
        typed: list[tuple[ReadableSpan, str]] = []
        for span in spans:
            attributes = attributes_of(span)
            kind = attributes.get("openinference.span.kind")
            if span.parent is None:
                if self.root is None:
                    self.root = span
            elif (node_type := attributes.get("dify.node.type")) is not None:
                typed.append((span, str(node_type)))
            if kind == "LLM" or attributes.get("gen_ai.operation.name") == "chat":
                self.llm_spans.append(span)
            if kind == "RETRIEVER" or attributes.get("dify.retrieval.document_count"):
                self._retrievers.append(span)
        typed.sort(key=lambda pair: pair[0].start_time or 0)
        self._typed = typed
        self.nodes: list[ReadableSpan] = [span for span, _ in typed]
        self._by_type: dict[str, list[ReadableSpan]] = {}
        for span, node_type in typed:
            self._by_type.setdefault(node_type, []).append(span)

    @cached_property
    def app(self) -> str:
        """The app the run belongs to (resource `dify.app.id`), for per-app baselines."""
        root = self.root
        if root is None:
            return "unknown"
        return str(root.resource.attributes.get("dify.app.id") or attr(root, "gen_ai.workflow.name") or "unknown")

    @cached_property
    def _children(self) -> dict[int, list[ReadableSpan]]:
        children: dict[int, list[ReadableSpan]] = {}
        for span in self.spans:
            if span.parent is not None:
                children.setdefault(span.parent.span_id, []).append(span)
        for siblings in children.values():
            siblings.sort(key=lambda s: s.start_time or 0)
        return children

    def children(self, span: ReadableSpan) -> list[ReadableSpan]:
        return self._children.get(span_id(span), [])

    def of_type(self, *node_types: str) -> list[ReadableSpan]:
        if len(node_types) == 1:
            return self._by_type.get(node_types[0], [])
        return [span for span, node_type in self._typed if node_type in node_types]

    @cached_property
    def documents(self) -> list[tuple[ReadableSpan, int, str]]:
        """(retrieval span, document index, content) of every retrieved document (OpenInference attributes)."""
        found = []
        for span in self._retrievers:
            for key, value in attributes_of(span).items():
                if key.startswith("retrieval.documents.") and key.endswith(".content") and isinstance(value, str):
                    found.append((span, int(key.split(".")[2]), value))
        return found


def span_id(span: ReadableSpan) -> int:
    return span.context.span_id if span.context is not None else 0


def attributes_of(span: ReadableSpan) -> Mapping[str, Any]:
    """A span's attributes, to read only. The SDK's `attributes` wraps the span's dict in a new read-only
    proxy on every read, and detectors read over a hundred attributes a run: this is the dict itself."""
    attributes = getattr(span, "_attributes", None)
    return attributes if attributes is not None else (span.attributes or {})


def attr(span: ReadableSpan, key: str, default: Any = None) -> Any:
    attributes = getattr(span, "_attributes", None)  # `attributes_of`, inlined: detectors call this most
    return (attributes if attributes is not None else (span.attributes or {})).get(key, default)


def json_attr(span: ReadableSpan, key: str) -> Any:
    """An attribute holding JSON (`input.value`, `output.value`), decoded; the raw string if it is not JSON.
    Decoded values are shared between detectors (cached): read them, never change them."""
    raw = attr(span, key)
    return _loads(raw) if isinstance(raw, str) else raw


@lru_cache(maxsize=4096)
def _loads(raw: str) -> Any:
    try:
        return decode_json(raw)
    except ValueError:
        return raw


def prompt_text(span: ReadableSpan) -> str:
    """Everything an LLM span was prompted with (OpenInference messages), joined."""
    attributes = attributes_of(span)
    parts = [str(v) for k, v in attributes.items() if k.startswith("llm.input_messages.") and k.endswith(".content")]
    return "\n".join(parts)


# The built-in detectors, by module name: an explicit, alphabetical list (no package scanning).
BUILT_IN = (
    "classifier_drift", "context_overflow", "cost", "hallucination", "iteration_escape", "loop", "model_fallback",
    "rag_poisoning", "state_corruption", "task_derailment", "tool_schema_mismatch", "variable_leak",
)  # fmt: skip


def _modules() -> list[ModuleType]:
    return [import_module(f"detectors.{name}") for name in BUILT_IN]


@dataclass(frozen=True, slots=True)
class DetectorFactory:
    key: str
    config_class: type[BaseModel]
    create: Callable[[Any], Detector]


def _factory(source: str, module: Any) -> DetectorFactory:
    for name in ("KEY", "Config", "create"):
        if not hasattr(module, name):
            raise TypeError(f"detector {source} has no {name}")
    if not (isinstance(module.Config, type) and issubclass(module.Config, BaseModel)):
        raise TypeError(f"detector {source}: Config is not a pydantic model")
    if not callable(module.create):
        raise TypeError(f"detector {source}: create is not callable")
    return DetectorFactory(str(module.KEY), module.Config, module.create)


def registry() -> dict[str, DetectorFactory]:
    """Built-in detectors (explicit list) plus installed plugins; a duplicate key raises."""
    table: dict[str, DetectorFactory] = {}
    plugins = [(f"plugin {ep.name}", ep.load()) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for source, module in [(m.__name__, m) for m in _modules()] + plugins:
        factory = _factory(source, module)
        if factory.key in table:
            raise ValueError(f"duplicate detector key {factory.key!r} ({source})")
        table[factory.key] = factory
    return table

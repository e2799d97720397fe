"""Failure detectors over whole traces, one module per detector, and their registry.

A detector reads spans (GenAI, OpenInference and `dify.*` attributes), never Dify payloads, so it works
on GenAI traces from any source. Each module exports `KEY`, `Config` (pydantic, `enabled` included) and
`create(cfg) -> Detector`. Third-party detectors register under the entry-point group
`dify_otel_bridge.detectors` with the same three names.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from operator import itemgetter
from types import ModuleType
from typing import Any, Generic, Literal, Protocol, TypeVar

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel, ConfigDict

from bridge.trace.fields import attribute, json_attribute, placement
from bridge.trace.fields import attributes_of as attributes_of
from bridge.trace.fields import json_value as json_value
from bridge.trace.fields import span_id as span_id

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


_Kept = TypeVar("_Kept")


class ProcessMemory(Generic[_Kept]):
    """What a detector keeps in this process's memory only, beside a `Baselines` (one memory per `Baselines`, as
    theirs), by key (an app, a node): answers and questions users were told and asked, never written to the store and
    learned again after a restart. At most `kept` keys, the oldest dropped. `lock` guards what callers change in a
    value kept."""

    def __init__(self, make: Callable[[], _Kept], kept: int) -> None:
        self._make, self._kept = make, kept
        self._by_baselines: weakref.WeakKeyDictionary[Any, dict[str, _Kept]] = weakref.WeakKeyDictionary()
        # The `Baselines` last read (weakly) and its values: a process runs one (the server's store), and a weak
        # dictionary's lookup makes a weak reference each time.
        self._last: tuple[weakref.ref[Any], dict[str, _Kept]] | None = None
        self.lock = threading.Lock()

    def of(self, baselines: Baselines, key: str) -> _Kept:
        last = self._last
        values = last[1] if last is not None and last[0]() is baselines else None
        value = values.get(key) if values is not None else None
        if value is not None:
            return value
        with self.lock:
            values = self._by_baselines.get(baselines)
            if values is None:
                values = self._by_baselines[baselines] = {}
            self._last = (weakref.ref(baselines), values)
            value = values.get(key)
            if value is None:
                if len(values) >= self._kept:
                    values.pop(next(iter(values)))
                value = values[key] = self._make()
            return value


class MemoryBaselines:
    """Baselines for one process (the `detect` command, tests); the server keeps them in its store."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._values.get(key)

    def put(self, key: str, value: Any) -> None:
        self._values[key] = value


_SECOND, _FOURTH = itemgetter(1), itemgetter(3)


class Trace:
    """Read-only helpers over one trace's spans, computed once and shared by every detector.

    `root`, `app`, `nodes` (node spans in start order), `llm_spans`, `tool_spans`, `documents` and the node
    types are found in one pass when the trace is made: every run needs them, and one pass over the spans
    costs less than one per view. (No `cached_property`: in Python 3.11 each first read takes a lock.)"""

    def __init__(self, spans: Sequence[ReadableSpan], baselines: Baselines | None = None) -> None:
        self.spans = spans
        self.baselines: Baselines = baselines if baselines is not None else MemoryBaselines()
        self.root: ReadableSpan | None = None
        self.llm_spans: list[ReadableSpan] = []
        # Tool nodes and agents' tool calls (`execute_tool`), in span order.
        self.tool_spans: list[ReadableSpan] = []
        retrievers: list[ReadableSpan] = []
        # (start time, node span, node type, parent's span id): sorted by the first item, read by a C getter.
        typed: list[tuple[int, ReadableSpan, str, int]] = []
        for span in spans:
            attributes, parent, start = placement(span)
            get = attributes.get
            kind = get("openinference.span.kind")
            operation = get("gen_ai.operation.name")
            node_type = get("dify.node.type")
            if parent is None:
                if self.root is None:
                    self.root = span
            elif node_type is not None:
                typed.append((start or 0, span, str(node_type), parent.span_id))
            if kind == "LLM" or operation == "chat":
                self.llm_spans.append(span)
            if node_type == "tool" or operation == "execute_tool":
                self.tool_spans.append(span)
            if kind == "RETRIEVER" or get("dify.retrieval.document_count"):
                retrievers.append(span)
        typed.sort(key=itemgetter(0))
        self._typed = typed
        self.nodes: list[ReadableSpan] = list(map(_SECOND, typed))
        # Each node's parent span id, beside `nodes` (read once here: the SDK's `parent` property costs a call).
        self.node_parents: list[int] = list(map(_FOURTH, typed))
        self._by_type: dict[str, list[ReadableSpan]] = {}
        for _, span, node_type, _ in typed:
            self._by_type.setdefault(node_type, []).append(span)
        root = self.root
        # The app the run belongs to (resource `dify.app.id`), for per-app baselines.
        self.app = "unknown"
        if root is not None:
            self.app = str(
                root.resource.attributes.get("dify.app.id") or attr(root, "gen_ai.workflow.name") or "unknown"
            )
        # (retrieval span, document index, content) of every retrieved document (OpenInference attributes).
        self.documents: list[tuple[ReadableSpan, int, str]] = []
        for span in retrievers:
            for key, value in attributes_of(span).items():
                if key.startswith("retrieval.documents.") and key.endswith(".content") and isinstance(value, str):
                    self.documents.append((span, int(key.split(".")[2]), value))
        self._children: dict[int, list[ReadableSpan]] | None = None  # only containers need it: made on demand

    def children(self, span: ReadableSpan) -> list[ReadableSpan]:
        """`span`'s child spans in start order."""
        if self._children is None:
            self._children = {}
            for child in self.spans:
                if child.parent is not None:
                    self._children.setdefault(child.parent.span_id, []).append(child)
            for siblings in self._children.values():
                siblings.sort(key=lambda s: s.start_time or 0)
        return self._children.get(span_id(span), [])

    def of_type(self, *node_types: str) -> list[ReadableSpan]:
        """Node spans of these types, in start order. Shared lists: read them, never change them."""
        if len(node_types) == 1:  # most calls: one type, its list as it is
            return self._by_type.get(node_types[0]) or []
        present = [self._by_type[node_type] for node_type in node_types if node_type in self._by_type]
        if len(present) <= 1:  # no merge needed (most runs hold one of the types asked for, or none)
            return present[0] if present else []
        return [span for _, span, node_type, _ in self._typed if node_type in node_types]


attr = attribute  # the names every detector reads attributes by
json_attr = json_attribute


def node_error(span: ReadableSpan) -> str:
    """The error a node failed with, or that it handled as an exception (Dify's `error_message` output when
    the node's error strategy took another branch); empty if none."""
    outputs = json_attr(span, "output.value")
    handled = outputs.get("error_message") if isinstance(outputs, dict) else None
    return str(handled or getattr(getattr(span, "status", None), "description", "") or "")


# Run inputs holding what the user asked: Dify's chat `sys.query`, and the names workflows usually give it.
QUERY_KEYS = ("sys.query", "query", "question", "q", "input", "prompt", "message", "text")


def user_query(root: ReadableSpan) -> str | None:
    """What the user asked: the first non-empty text among the run's inputs named in `QUERY_KEYS`."""
    inputs = json_attr(root, "input.value")
    if isinstance(inputs, dict):
        for key in QUERY_KEYS:
            text = inputs.get(key)
            if isinstance(text, str) and text.strip():
                return text
    return None


def prompt_text(span: ReadableSpan) -> str:
    """Everything an LLM span was prompted with (OpenInference messages), joined."""
    attributes = attributes_of(span)
    # The messages by index first (how the span builder writes them: a few lookups instead of a pass over
    # every attribute), then, for other senders, any message content.
    parts: list[str] = []
    while (content := attributes.get(f"llm.input_messages.{len(parts)}.message.content")) is not None:
        parts.append(str(content))
    if not parts:
        parts = [
            str(v) for k, v in attributes.items() if k.startswith("llm.input_messages.") and k.endswith(".content")
        ]
    return "\n".join(parts)


def answer_text(span: ReadableSpan) -> str:
    """What an LLM span answered: its first output message, else its output value as exported."""
    return str(attr(span, "llm.output_messages.0.message.content") or attr(span, "output.value") or "")


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
    """Built-in detectors (explicit list) plus installed plugins; a duplicate key raises. A copy of the table read
    once a process: the config's check and the detection processor each asked for it, and each read went through
    every installed package's metadata for the entry points (1.5 ms of CPU, twice a start; bench/RESULTS.md)."""
    return dict(_registry())


@functools.cache
def _registry() -> dict[str, DetectorFactory]:
    table: dict[str, DetectorFactory] = {}
    plugins = [(f"plugin {ep.name}", ep.load()) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for source, module in [(m.__name__, m) for m in _modules()] + plugins:
        factory = _factory(source, module)
        if factory.key in table:
            raise ValueError(f"duplicate detector key {factory.key!r} ({source})")
        table[factory.key] = factory
    return table

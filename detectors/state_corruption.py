"""`state_corruption`: data lost or mangled between the node that produced it and the node that reads it.

Fires when a node that succeeded declared an output and produced nothing (an LLM with empty text, a code
node returning nulls), or when a later node reads a variable of the same name as empty or as another type
than its producer wrote it. Values that were already empty at the producer are not corruption.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from detectors import DetectorConfig, Finding, Trace, attributes_of, json_attr, span_id

KEY = "state_corruption"
_READERS = ("end", "answer", "llm", "code", "template-transform", "tool", "http-request", "if-else")


class Config(DetectorConfig):
    pass


def _empty(value: Any) -> bool:
    return value is None or (not value and isinstance(value, str | list | dict))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        produced: dict[str, tuple[Any, str]] = {}  # output name → (value, producer title)
        for span in trace.nodes:
            attributes = attributes_of(span)
            node_type, title = attributes.get("dify.node.type"), attributes.get("dify.node.title", span.name)
            # Inputs are decoded only when they could show corruption: a reader, after something was produced.
            inputs = json_attr(span, "input.value") if produced and node_type in _READERS else None
            if isinstance(inputs, dict):
                for name, value in inputs.items():
                    if name not in produced or _empty(produced[name][0]):
                        continue
                    before, producer = produced[name]
                    if _empty(value):
                        yield Finding(
                            KEY,
                            "high",
                            0.8,
                            f"'{name}' left '{producer}' with a value and reached '{title}' empty.",
                            {"variable": name, "producer": producer, "reader": title},
                            span_id(span),
                        )
                    elif _kind(value) != _kind(before):
                        yield Finding(
                            KEY,
                            "medium",
                            0.7,
                            f"'{name}' left '{producer}' as {_kind(before)} and reached '{title}' as {_kind(value)}.",
                            {"variable": name, "from": _kind(before), "to": _kind(value)},
                            span_id(span),
                        )
            if attributes.get("dify.node.status") != "succeeded":
                continue
            outputs = json_attr(span, "output.value")
            if not isinstance(outputs, dict):
                continue
            if node_type == "llm" and "text" in outputs and _empty(outputs["text"]):
                yield Finding(
                    KEY,
                    "medium",
                    0.75,
                    f"LLM node '{title}' succeeded with an empty answer.",
                    {"node": title},
                    span_id(span),
                )
            elif node_type == "code" and outputs and all(v is None for v in outputs.values()):
                yield Finding(
                    KEY,
                    "medium",
                    0.75,
                    f"Code node '{title}' succeeded but every output is null.",
                    {"node": title, "outputs": sorted(outputs)},
                    span_id(span),
                )
            for name, value in outputs.items():
                produced[name] = (value, title)

    return detect

"""What `state_corruption`'s rules share: its key, its finding, a node's title, the values that render none."""

from __future__ import annotations

import re
from typing import Any

from detectors import (
    Finding,
    attr,
    json_attr,
    json_value,
    span_id,
)
from detectors.values import empty

KEY = "state_corruption"


# What a whole prompt message or template output shows of a variable that held no value: JSON's empty values,
# Python's and JavaScript's names for none, an object JavaScript turned into text.
_NO_VALUE = frozenset({"", "[]", "{}", "null", "none", "nil", "undefined", "nan", "[object object]"})
# Outputs Dify adds to every node of a kind: their empty values say nothing of the data.
BOOKKEEPING = frozenset({"files", "headers", "status_code", "reasoning_content", "usage", "finish_reason",
                         "error_message", "error_type"})  # fmt: skip


def no_value(text: Any) -> Any:
    """The value `text` renders when it renders none (`[]`, `None`, `"[object Object]"`…); `...` otherwise."""
    if not isinstance(text, str) or len(text.strip()) > 17:  # longer than any name for none
        return ...
    if text.strip().strip('"').strip().lower() not in _NO_VALUE:
        return ...
    value = json_value(text.strip())
    return None if isinstance(value, str) and value.strip().lower() in ("none", "null", "nil", "undefined") else value


def all_given(span: Any) -> bool:
    """Whether every input of the node had a value: a code node given a null returns nulls by design, and the
    value was lost before it (a tool answering null), not in it."""
    inputs = json_attr(span, "input.value")
    return not isinstance(inputs, dict) or not any(empty(value) for value in inputs.values())


def finding(span: Any, rule: str, summary: str, produced: Any, received: Any) -> Finding:
    return Finding(KEY, "high", 0.8, summary,
                   {"node": attr(span, "dify.node.title", span.name), "rule": rule,
                    "produced": str(produced)[:200], "received": str(received)[:200]},
                   span_id(span))  # fmt: skip


# Name parts too general to tie an output to an input (`status_text` is about `status`, not any `text`).
_GENERAL_PARTS = frozenset({"text", "value", "data", "info", "result", "results", "output", "input", "raw", "str",
                            "formatted", "display", "label", "json", "body"})  # fmt: skip


def name_parts(name: str) -> set[str]:
    return {part for part in name.lower().replace("-", "_").split("_") if len(part) >= 3} - _GENERAL_PARTS


def named_values(value: Any, name: str, into: list[tuple[str, Any]], depth: int = 0) -> list[tuple[str, Any]]:
    """Every named value a node's inputs hold, nested ones too (JSON text, as an HTTP body, read as JSON)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 3:
        value = json_value(value)
    into.append((name, value))
    if depth < 3 and isinstance(value, dict):
        for key, item in list(value.items())[:50]:
            named_values(item, str(key), into, depth + 1)
    elif depth < 3 and isinstance(value, list) and value and isinstance(value[0], dict):
        named_values(value[0], name, into, depth + 1)
    return into


SOURCES = frozenset({"tool", "http-request"})


def node_title(span: Any) -> str:
    return str(attr(span, "dify.node.title") or span.name)


WORD = re.compile(r"\w+")

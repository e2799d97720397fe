"""What a detector asks of a decoded value: whether it is empty, and its JSON kind."""

from __future__ import annotations

from typing import Any


def empty(value: Any) -> bool:
    return value is None or (not value and isinstance(value, str | list | dict))


# JSON's types by the kind a detector compares (a bool is no number): a lookup for decoded values, which are
# of these exact types; anything else goes through the checks.
_KINDS: dict[type, str] = {bool: "boolean", int: "number", float: "number", str: "text", list: "list", dict: "object"}


def value_kind(value: Any) -> str:
    return _KINDS.get(type(value)) or _kind_of(value)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__

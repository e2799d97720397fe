"""Dify's values read and checked wherever a payload is: times, numbers, counts, ids, camelCase keys. Each
checker raises `InputError` naming the field; the `as_*` readers return None instead, for values inside what
was already accepted."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bridge.dify.formats import InputError

# Keys whose values are the user's data: their inner keys are never rewritten.
USER_DATA_KEYS = frozenset(
    {"inputs", "outputs", "process_data", "files", "extras", "tool_input", "tool_response", "loop_variable_map"}
)
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
# Dify sends Unix seconds; a few clients send milliseconds. Anything past this is taken as ms.
_MAX_SECONDS = 100_000_000_000
# The last second that unsigned 64-bit nanoseconds (OTLP span times) can hold: year 2554.
LATEST = 2**64 / 1e9


def snake_key(key: str) -> str:
    if "." in key or "#" in key or key.islower():
        return key
    return _CAMEL.sub(r"_\1", key).lower()


# Keys seen to need no rewriting. Every event's keys are checked, and nearly all are these few dozen: one
# set operation instead of a check per key. Bounded, since keys come from outside.
_SNAKE_SEEN: set[str] = set()
_MAX_SNAKE_SEEN = 2048


def has_camel(mapping: Mapping[str, Any]) -> bool:
    if _SNAKE_SEEN.issuperset(mapping):
        return False
    for key in mapping:
        if not isinstance(key, str):
            continue
        if not key.islower() and snake_key(key) != key:
            return True
        if len(_SNAKE_SEEN) < _MAX_SNAKE_SEEN:
            _SNAKE_SEEN.add(key)
    return False


def snake_keys(value: Any, *, preserve: frozenset[str] = USER_DATA_KEYS) -> Any:
    """camelCase → snake_case keys, recursively, leaving the inside of user-data values untouched."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            # Checked inline: nearly every key is snake_case already, and whole payloads pass through here.
            new_key = key if not isinstance(key, str) or key.islower() else snake_key(key)
            if new_key not in preserve and isinstance(item, dict | list):
                item = snake_keys(item, preserve=preserve)
            out[new_key] = item
        return out
    if isinstance(value, list):
        return [snake_keys(item, preserve=preserve) if isinstance(item, dict | list) else item for item in value]
    return value


def timestamp(value: Any, field: str, source: str = "", line: int = 0) -> float | None:
    """Unix seconds (int, float, numeric string, or ms) or ISO 8601 → float seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(source, line, field, f"expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) / 1000 if value > _MAX_SECONDS else float(value)
        # A span's times are unsigned nanoseconds: nothing before 1970, nothing NaN or infinite.
        if not 0 <= seconds < LATEST:
            # Written as sent: the stream reader's fast path takes `-1` as -1.0, the general one as -1.
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            raise InputError(source, line, field, f"not a time from 1970 on: {shown!r}")
        return seconds
    if isinstance(value, str):
        # Unix time as text ("1732000000.5"); an ISO 8601 time always holds a colon, which float() refuses.
        if ":" not in value:
            try:
                number_value = float(value)
            except ValueError:
                pass
            else:
                return timestamp(number_value, field, source, line)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(source, line, field, f"not a Unix time or ISO 8601 date: {value[:60]!r}") from None
        if parsed.tzinfo is None:
            raise InputError(source, line, field, f"ISO 8601 date without a time zone: {value[:60]!r}")
        return timestamp(parsed.timestamp(), field, source, line)
    raise InputError(source, line, field, f"expected a timestamp, got {type(value).__name__}")


def number(value: Any, field: str, source: str = "", line: int = 0) -> float | None:
    """A number that Dify may send as a JSON number or a decimal string (prices)."""
    if type(value) is float and math.isfinite(value):  # nearly always: durations
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(source, line, field, f"expected a number, got {value!r}")
    if not isinstance(value, int | float | str):
        raise InputError(source, line, field, f"expected a number, got {str(value)[:60]!r}")
    try:
        parsed = float(value)
    except ValueError:
        raise InputError(source, line, field, f"expected a number, got {str(value)[:60]!r}") from None
    except OverflowError:  # an integer past a float's range
        parsed = math.inf
    # Infinity and NaN are no count, duration or price: a span could not carry them either.
    if not math.isfinite(parsed):
        raise InputError(source, line, field, f"expected a finite number, got {str(value)[:60]!r}")
    return parsed


def integer(value: Any, field: str, source: str = "", line: int = 0) -> int | None:
    parsed = number(value, field, source, line)
    return None if parsed is None else int(parsed)


def as_number(value: Any) -> float | None:
    """What `number` reads, or None where it would refuse: for values inside what was already accepted, which
    must not keep a run from being built."""
    try:
        return number(value, "")
    except InputError:
        return None


def as_int(value: Any) -> int | None:
    if type(value) is int:  # nearly always: no parsing to do
        return value
    parsed = as_number(value)
    return None if parsed is None else int(parsed)


def text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# Dify's run, message, execution, task, conversation, workflow and app ids are 36-character UUIDs, its graph
# node ids short digits or names (`1732000000000`, `llm`); other senders' ids (a prefix, a composite key) fit
# in 128. Ids name runs, spans and attributes in answers, logs and the queue, so they are held to printable text.
MAX_ID = 128


def id_fault(value: str) -> str | None:
    """Why `value` cannot be an id (too long, or a control, format or separator character), or None."""
    if len(value) > MAX_ID:
        return f"at most {MAX_ID} characters (Dify's are 36-character UUIDs), got {len(value)}"
    if not value.isprintable():
        position, char = next((i, c) for i, c in enumerate(value) if not c.isprintable())
        return f"printable characters only, found U+{ord(char):04X} at position {position}"
    return None


def checked_id(value: Any, field: str, source: str, line: int) -> str | None:
    """`value` as an id (None stays None), or InputError naming `field` and the rule it breaks."""
    text = text_or_none(value)
    if text is not None and (fault := id_fault(text)) is not None:
        raise InputError(source, line, field, f"must be {fault}")
    return text


# The largest count an OTLP span attribute holds (int64): a bigger one would be taken, then left out of the span.
MAX_COUNT = 2**63 - 1


def check_count(value: int | None, field: str, source: str, line: int) -> None:
    if value is not None and not 0 <= value <= MAX_COUNT:
        raise InputError(source, line, field, f"must be a count from 0 to 2^63-1, got {str(value)[:40]}")

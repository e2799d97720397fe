"""`state_corruption`'s prompts: an LLM shown a value rendered as none, or a record with the fields a node filled
emptied, after a node produced data; and the messages of an LLM span."""

from __future__ import annotations

import ast
import re
from typing import Any

from detectors import (
    Finding,
    Trace,
    json_attr,
    json_value,
)
from detectors.corruption import BOOKKEEPING, finding, no_value, node_title
from detectors.values import empty


def _shown_value(message: str) -> str:
    """What a user message shows last: the whole message, or its last line's text after a short label
    ("Rows: []", "Flights to digest:\n[]"), where a template puts a variable."""
    line = message.rstrip().rpartition("\n")[2]
    label, colon, value = line.replace("\uff1a", ":").rpartition(":")
    return value if colon and len(label) <= 60 and value.strip() else line


# The attribute names of an LLM's first prompt messages (content, role), made once: most prompts have a few.
_MESSAGE_KEYS = [(f"llm.input_messages.{i}.message.content", f"llm.input_messages.{i}.message.role") for i in range(16)]


def _message_keys(index: int) -> tuple[str, str]:
    if index < len(_MESSAGE_KEYS):
        return _MESSAGE_KEYS[index]
    return f"llm.input_messages.{index}.message.content", f"llm.input_messages.{index}.message.role"


def messages_of(attributes: Any) -> tuple[list[str], Any]:
    """An LLM span's prompt messages by index (as the span builder writes them), and its last user message's
    content: read once for both rules that look at the prompt."""
    contents: list[str] = []
    last_user = None
    content_key, role_key = _MESSAGE_KEYS[0]
    while (message := attributes.get(content_key)) is not None:
        if attributes.get(role_key) == "user":
            last_user = message
        contents.append(str(message))
        content_key, role_key = _message_keys(len(contents))
    return contents, last_user


def emptied_prompt(
    span: Any, content: Any, produced: dict[str, tuple[Any, Any]], data: tuple[Any, str, Any], trace: Trace
) -> Finding | None:
    """An LLM whose last user message shows, whole or after a label on its last line, a rendering of no value
    (`[]`, `null`, `"[object Object]"`) after an earlier node produced data (`data`: the last one's span,
    output name and value), while no earlier node produced that empty value (a filter that kept nothing
    gives `[]` on purpose) nor that text (a user answering "none" is the user's word, not a lost value).
    `content`: the last user message."""
    if not isinstance(content, str):
        return None
    text = _shown_value(content)
    shown = no_value(text)
    if shown is ...:
        return None
    run_inputs = json_attr(trace.root, "input.value") if trace.root is not None else None
    inputs = run_inputs.items() if isinstance(run_inputs, dict) else ()
    named = [*produced.items(), *((name, (value, "")) for name, value in inputs)]
    given = [value for name, (value, _) in named if name.rpartition(".")[2] not in BOOKKEEPING and name[:2] != "__"]
    # An item of a list a node produced counts as produced: an iteration hands its LLM one item at a time.
    given += [item for value in given if isinstance(value, list) for item in value[:50]]
    if any((type(value) is type(shown) and value == shown) or value == text.strip() for value in given):
        return None
    producer, name, value = data
    return finding(span, "an LLM's user message shows a value rendered as none after a node produced data",
                   f"LLM node '{node_title(span)}' was prompted with {text.strip()[:40]} after "
                   f"'{node_title(producer)}' produced '{name}': the value was emptied on the way.",
                   {name: value}, content)  # fmt: skip


# An object rendered flat in a prompt (JSON, or Python's repr as a Jinja2 template renders a dict).
_SHOWN_RECORD = re.compile(r"\{[^{}]{10,1500}\}")
# How a prompt shows an emptied field: Python's and JSON's none, an empty text.
_SHOWN_EMPTY = ("None", "null", "''", '""')


def _shown_record(text: str) -> dict[str, Any] | None:
    """`text` (`{...}`) read as an object: JSON, or a Python literal (what a template makes of a dict)."""
    value = json_value(text)
    if isinstance(value, str):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def _records(value: Any, into: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """The objects a node's output holds, nested ones too (lists read to their 50th item)."""
    if isinstance(value, dict):
        into.append(value)
        items: Any = value.values()
    elif isinstance(value, list):
        items = value[:50]
    else:
        return into
    if depth < 4:
        for item in items:
            if isinstance(item, dict | list):
                _records(item, into, depth + 1)
    return into


def zeroed_record(span: Any, prompt: str, produced: dict[str, tuple[Any, Any]]) -> Finding | None:
    """An LLM prompted with an object whose fields are emptied (two at least) while an earlier node produced
    that very object, the same fields, one identifying value in common and none other, with those fields
    filled: the record was zeroed on its way to the prompt (`{'gate': 'Lobo', 'open': None, 'road': ''}` from
    `{"gate": "Lobo", "open": true, "road": "dry"}`). `prompt`: every message, joined."""
    if "{" not in prompt or not any(marker in prompt for marker in _SHOWN_EMPTY):
        return None  # most prompts: no object shown, or none with an empty field
    records: list[dict[str, Any]] | None = None
    for match in _SHOWN_RECORD.finditer(prompt):
        shown = _shown_record(match.group())
        if shown is None or len(shown) < 3:
            continue
        emptied = [key for key, value in shown.items() if value is None or value == ""]
        if len(emptied) < 2:
            continue
        if records is None:
            records = [r for value, _ in produced.values() for r in _records(value, []) if len(r) == len(shown)]
        for record in records:
            if set(record) != set(shown):
                continue
            kept = [key for key, value in shown.items() if key not in emptied and record[key] == value]
            changed = [key for key, value in shown.items() if key not in emptied and record[key] != value]
            lost = [key for key in emptied if not empty(record[key])]
            if kept and not changed and len(lost) >= 2:
                return finding(span, "an LLM prompted with a record whose fields a node produced filled are empty",
                               f"LLM node '{node_title(span)}' was shown {match.group()[:80]} with "
                               f"{', '.join(lost)} emptied; an earlier node produced them filled.",
                               record, shown)  # fmt: skip
    return None

"""A chatflow's conversation variables across turns: a value the conversation held, over-written with nothing.

A variable assigner over-writing a conversation variable copies its source node's value as it is, empty too: an
extractor that found no destination in a turn leaning on the last one ("the night bus, please") empties the
booking's destination, and every node reading it after (an API asked for buses to nowhere) works with nothing.
What each turn's assigners wrote (their process data, `__updated_variables`: Dify's stream only, its export has no
process data) is kept per app and conversation, in this process's memory: the next turn's over-write is judged
against it. A turn after a restart, or the first of a conversation, is not judged.
"""

from __future__ import annotations

from typing import Any

from detectors import Finding, ProcessMemory, Trace, attr, json_attr, span_id
from detectors.values import empty

# Conversations followed at once (the oldest dropped), and the characters of a value kept for the evidence.
_CONVERSATIONS = 10_000
_KEPT_CHARS = 80
# The conversation variables' values the last turn left, by "app:conversation" and variable name ("" for empty).
_HELD: ProcessMemory[dict[str, str]] = ProcessMemory(dict, _CONVERSATIONS)


def _copied(config: Any) -> set[str]:
    """The conversation variables an assigner over-writes with a node's output (not a constant, not a clear)."""
    items = config.get("items") if isinstance(config, dict) else None
    return {
        target[1]
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
        and item.get("operation") == "over-write"
        and item.get("input_type") == "variable"
        and isinstance(target := item.get("variable_selector"), list)
        and len(target) == 2
        and target[0] == "conversation"
        and isinstance(target[1], str)
    }


def conversation_emptied(trace: Trace, span: Any, key: str) -> Finding | None:
    """A variable assigner (`span`, succeeded) that over-wrote a conversation variable the conversation's earlier
    turn left filled with an empty value copied from a node; learns what this turn wrote."""
    conversation = attr(trace.root, "gen_ai.conversation.id") if trace.root is not None else None
    written = json_attr(span, "dify.node.process_data")
    updated = written.get("__updated_variables") if isinstance(written, dict) else None
    if not conversation or not isinstance(updated, list):
        return None
    copied = _copied(json_attr(span, "input.value"))
    found = None
    held = _HELD.of(trace.baselines, f"{trace.app}:{conversation}")
    with _HELD.lock:
        for change in updated:
            selector = change.get("selector") if isinstance(change, dict) else None
            if not (isinstance(selector, list) and len(selector) == 2 and selector[0] == "conversation"):
                continue
            name, value = str(selector[1]), change.get("new_value")
            before = held.get(name)
            if found is None and before and empty(value) and name in copied:
                title = attr(span, "dify.node.title", span.name)
                found = Finding(
                    key, "high", 0.8,
                    f"'{title}' over-wrote the conversation variable '{name}' with {value!r}; the conversation's "
                    f"last turn left it {before!r}.",
                    {"node": title, "rule": "an assigner emptied a conversation variable an earlier turn filled",
                     "variable": name, "produced": before, "received": str(value)},
                    span_id(span),
                )  # fmt: skip
            held[name] = "" if empty(value) else str(value)[:_KEPT_CHARS]
    return found

"""`state_corruption`'s records emptied by a code node: every field of every record it returned empty while a list of
records it was given held values, or every output empty while a record nested in its input holds one of them. The code
read fields the records do not have where it reads them (an API renamed or nested them: `ts` for `time`, `place.name`
for `location`, `data.claim.approver` for `approver`), each as its default, and the data were lost on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from detectors import Finding, Trace, attr, json_attr, json_value
from detectors.corruption import BOOKKEEPING, finding, node_title
from detectors.values import empty

# How deep a node's inputs are searched for a list of records (`body` → `events`).
_DEPTH = 3


def _decoded(value: Any) -> Any:
    """A value with a JSON text of a list or an object read (an HTTP body, a code node's `json.dumps` output)."""
    return json_value(value) if isinstance(value, str) and value[:1] in ("[", "{") else value


def _record_lists(value: Any, depth: int = 0) -> Iterator[list[dict[str, Any]]]:
    """The lists of records (objects) a value holds, nested ones too, JSON texts read."""
    value = _decoded(value)
    if isinstance(value, list):
        if value and all(isinstance(item, dict) and item for item in value):
            yield value
    elif isinstance(value, dict) and depth < _DEPTH:
        for inner in value.values():
            yield from _record_lists(inner, depth + 1)


def _blank(record: dict[str, Any]) -> bool:
    return all(empty(value) for value in record.values())


def _texts(value: Any, depth: int = 0) -> Iterator[str]:
    """The texts a value holds, nested ones and those of JSON texts too."""
    value = _decoded(value)
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | dict) and depth <= _DEPTH:
        for inner in value.values() if isinstance(value, dict) else value:
            yield from _texts(inner, depth + 1)


def _answered(trace: Trace) -> str:
    """What the run answered: its output, else its End and Answer nodes' (a chatflow's)."""
    if trace.root is not None and (output := attr(trace.root, "output.value")):
        return str(output)
    return "\n".join(str(attr(span, "output.value") or "") for span in trace.of_type("end", "answer"))


def records_emptied(trace: Trace, span: Any, outputs: dict[str, Any]) -> Finding | None:
    """A code node returning a list of records whose every field is empty (`{"time": "", "location": ""}` each) while
    its inputs hold a list of records with values, and a text of its own, in none of its inputs (its default:
    `"latest": "不明"`), reaching the run's answer: none of what it was given reached what it made, and the default
    it wrote instead was answered as the data. Only an output holding such a list is searched further (most code
    nodes: none)."""
    emptied = next(((name, records) for name, value in outputs.items() if isinstance(value, list) or
                    (isinstance(value, str) and value[:1] == "[")
                    for records in _record_lists(value, _DEPTH) if all(map(_blank, records))), None)  # fmt: skip
    if emptied is None:
        return None
    inputs = json_attr(span, "input.value")
    given = next((records for records in _record_lists(inputs) if not any(map(_blank, records))), None)
    if given is None:
        return None
    answer, read = _answered(trace), list(_texts(inputs))
    default = next((value for value in outputs.values() if isinstance(value, str) and value.strip() and
                    value[:1] not in "[{" and value in answer and not any(value in text for text in read)),
                   None)  # fmt: skip
    if default is None:
        return None
    name, records = emptied
    return finding(span, "a code node's records all emptied from records given filled, its default answered",
                   f"Code node '{node_title(span)}' returned {len(records)} records in '{name}' with every field "
                   f"empty, from {len(given)} records it was given filled (it read fields they do not have), and the "
                   f"run answered its default {default!r}.", given[:2], records[:2])  # fmt: skip


def _zero(value: Any) -> bool:
    return value in (0, "0") and not isinstance(value, bool)


def _nested_records(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """The objects a value holds under a key of another object (`data.claim`), not in a list (a list's records are
    many, of which a filter may keep none), JSON texts read."""
    value = _decoded(value)
    if isinstance(value, dict) and depth < _DEPTH + 1:
        for inner in value.values():
            inner = _decoded(inner)
            if isinstance(inner, dict):
                if depth:
                    yield inner
                yield from _nested_records(inner, depth + 1)


def record_read_flat(span: Any, outputs: dict[str, Any]) -> Finding | None:
    """A code node whose every output (two at least) came out empty or 0 while its input holds, nested in an object
    (`{"data": {"claim": {"approver": "陈明", …}}}`), a record with one of those outputs' own names filled: the code
    read the fields at the top of an answer that nests them, each as its default."""
    fields = [(name, value) for name, value in outputs.items() if name not in BOOKKEEPING]
    if len(fields) < 2 or not all(empty(value) or _zero(value) for _, value in fields):
        return None
    for record in _nested_records(json_attr(span, "input.value")):
        named = next((name for name, _ in fields if not empty(record.get(name))), None)
        if named is not None:
            return finding(span, "a code node's every output empty, a nested record holding one of them filled",
                           f"Code node '{node_title(span)}' returned every output empty or 0, though its input holds "
                           f"'{named}' = {str(record[named])[:40]!r} nested in a record: it read the fields where the "
                           "answer does not put them.", record, dict(fields))  # fmt: skip
    return None

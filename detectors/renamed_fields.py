"""`state_corruption`'s renamed fields: a code node run without the input fields its earlier runs held (read as its
default), and an HTTP request sending a value other than the node before it produced."""

from __future__ import annotations

from itertools import islice
from typing import Any

from detectors import (
    Finding,
    Trace,
    attr,
    json_attr,
    json_value,
)
from detectors.corruption import KEY, finding, name_parts, node_title
from detectors.derived import computed_from, numbers_in
from detectors.nested_zeros import ZERO
from detectors.values import value_kind


def _field_paths(value: Any, path: str, into: set[str], depth: int = 0) -> set[str]:
    """The paths of the fields a node's inputs hold other than null (`body.prices.grade`), nested ones too (JSON
    text read as JSON, a list's first record), four names deep."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 4:
        value = json_value(value)
    if isinstance(value, dict) and depth < 4:
        for key, item in islice(value.items(), 50):
            if item is not None:  # a field given as null (an optional one, a reading missing) holds nothing
                into.add(inner := f"{path}.{key}" if path else str(key))
                _field_paths(item, inner, into, depth + 1)
    elif isinstance(value, list) and value:
        _field_paths(value[0], path, into, depth)  # no level of names: a page's records count as deep as the page
    return into


def field_gone(trace: Trace, span: Any, min_history: int) -> Finding | None:
    """A code node that succeeded though its input lacks a field its earlier runs' inputs held (`min_history` at
    least, nine in ten of them) and holds one none of them held: the API renamed the field, and the code's default
    for it (`.get('servings', 1)`, `.get('odometer_km', 0)`) stands in for the value in every output made from it.
    Learns the fields the node's input holds, on every run: a change that lasts is flagged on its first run only
    (the new field is known after it), and the field it replaced stops being usual in a run or two out of ten."""
    fields = _field_paths(json_attr(span, "input.value"), "", set())
    if not fields:
        return None
    # Per workflow version: a republished app may read the new fields (its code patched to the API's change).
    version = attr(trace.root, "dify.workflow.id") if trace.root is not None else None
    key = f"{KEY}:fields:{trace.app}:{version}:{attr(span, 'dify.node.id') or span.name}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    found = None
    if runs >= min_history:
        usual = {name for name, count in seen.items() if count * 10 >= _holding(name, fields, seen, runs) * 9}
        # Renamed in place: usual fields gone, as many new ones beside them, and a usual one beside them still
        # there (an answer of another kind, "not found" and a message in place of the record's fields, is no
        # record read with a field renamed). In a loop's rounds, a field half the earlier rounds held is beside them
        # too: a paging loop's cursor is null on every last page.
        tenths = 5 if attr(span, "dify.loop.index") is not None else 9
        parents = {
            name.rpartition(".")[0]
            for name, count in seen.items()
            if name in fields and count * 10 >= _holding(name, fields, seen, runs) * tenths
        }
        added = fields - seen.keys()  # with the fields inside them
        new = sorted(name for name in added if name.rpartition(".")[0] in parents)
        # A field nested under a part of its old name (`amount_kes` -> `amount: {value, currency}`) is that field
        # moved, where three in four earlier runs held it: a "not found" answer now and then lacks it.
        named = set().union(*(name_parts(name.rpartition(".")[2]) for name in new))
        usual |= {name for name, count in seen.items()
                  if count * 4 >= runs * 3 and name_parts(name.rpartition(".")[2]) & named}  # fmt: skip
        lost = usual - fields
        gone = sorted(name for name in lost if name.rpartition(".")[0] in parents)
        if gone and new and len(added) >= len(lost) and not _patched(span, new, gone):
            found = finding(span, "a code node ran without an input field its earlier runs held, a new field there",
                            f"Code node '{node_title(span)}' succeeded without '{gone[0]}', which {runs} earlier runs' "
                            f"input held; it holds '{new[0]}' instead: its outputs were made from the code's default.",
                            {"held before": gone}, {"holds now": new})  # fmt: skip
        else:
            found = _renamed_zeroed(span, fields, seen, runs) or _reshaped_answered(trace, span, fields, seen, runs)
    for name in fields:
        if name in seen:
            seen[name] += 1
        elif len(seen) < 100:
            seen[name] = 1
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the node's recent runs
        history["runs"] = (runs + 1) // 2
        history["seen"] = {name: count // 2 for name, count in seen.items() if count >= 2}
    trace.baselines.put(key, history)
    return found


def _holding(name: str, fields: set[str], seen: dict[str, int], runs: int) -> int:
    """How many earlier runs a field is counted against: those whose input held its object (`body.order` for
    `body.order.status`) where this run's holds it too, if five did; else all. An API answering "not found"
    (`{found, message}`) in most runs holds a record's fields in the others only: they are usual there."""
    parent = name.rpartition(".")[0]
    held = seen.get(parent, 0) if parent in fields else 0
    return held if held >= _OBJECT_RUNS else runs


# Runs whose input held an object before its fields are counted against them (`_holding`).
_OBJECT_RUNS = 5


def _path_value(value: Any, path: str) -> Any:
    """The value a node's inputs hold at a path of `_field_paths` (JSON text read as JSON, a list's first record)."""
    for key in path.split("."):
        if isinstance(value, str) and value[:1] in "{[":
            value = json_value(value)
        while isinstance(value, list) and value:
            value = value[0]
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _patched(span: Any, new: list[str], gone: list[str]) -> bool:
    """A code node whose outputs were computed from a new input field's number (`detectors/derived.py`): a reader
    patched for the API's new name (its own clean twin in held-out 13: `per_acre_rate` * area), not one given its
    default. What a patched reader reads stands where the gone field stood, a new field beside it; a new field
    elsewhere (a `version: 2` beside the list whose records lost their field, matching a duration of 2 shown) is
    read only where none stands there."""
    inputs, outputs = json_attr(span, "input.value"), json_attr(span, "output.value")
    parents = {name.rpartition(".")[0] for name in gone}
    read = [name for name in new if name.rpartition(".")[0] in parents] or new
    values = (_path_value(inputs, name) for name in read[:4])
    return any(type(value) in (int, float) and computed_from(value, outputs, inputs) for value in values)


def _renamed_zeroed(span: Any, fields: set[str], seen: dict[str, int], runs: int) -> Finding | None:
    """A code node showing a 0 (a number of its outputs, or written on its own in a text: `4471: 0.0 kg`) while its
    input holds no 0, where a field nine in ten of its earlier runs' inputs held is gone and a number one in ten at
    most held is in its place, in the same object (a record of one field renamed: `{milk_kg}` → `{yield_kg}`): the
    renamed field read as the code's default 0 and passed on."""
    usual = {name for name, count in seen.items() if count * 10 >= runs * 9}
    gone = sorted(name for name in usual - fields if name.rpartition(".")[0] in fields)
    holders = {name.rpartition(".")[0] for name in gone}
    new = sorted(name for name in fields if seen.get(name, 0) * 10 <= runs and name.rpartition(".")[0] in holders)
    if not gone or len(new) != len(gone) or len(gone) > 2:
        return None
    inputs, outputs = json_attr(span, "input.value"), json_attr(span, "output.value")
    values = [_path_value(inputs, name) for name in new]
    if not all(type(value) in (int, float) and value for value in values) or _holds_zero(inputs):
        return None
    shown = _zero_shown(outputs)
    if shown is None:
        return None
    return finding(span, "a code node showing 0 for an input field renamed, its input holding no 0",
                   f"Code node '{node_title(span)}' showed {shown!r} though its input holds no 0: '{gone[0]}', which "
                   f"its earlier runs' input held, is now '{new[0]}' ({values[0]!r}), read as the code's default.",
                   {gone[0]: "gone", new[0]: values[0]}, shown)  # fmt: skip


def _reshaped_answered(trace: Trace, span: Any, fields: set[str], seen: dict[str, int], runs: int) -> Finding | None:
    """A code node whose input lost two or more of the fields three in four of its earlier runs' inputs held, as many
    new ones or more in their place (the source's answer reshaped: `pricing.annualTotal` for `quote_usd`), showing a
    0 while the run's answer shows a 0 and none of the numbers the input holds: the code's defaults reached the
    answer as its figures. An answer stating the input's numbers (a model reading the raw answer beside the code's
    line) was not misled, and a reshaping of another kind ("not found" and a message) gives the code no numbers."""
    usual = {name for name, count in seen.items() if count * 4 >= _holding(name, fields, seen, runs) * 3}
    lost, new = usual - fields, {name for name in fields if seen.get(name, 0) * 4 < runs}  # new: a change that lasts
    if len(lost) < 2 or len(new) < len(lost) or not _shows_zero(json_attr(span, "output.value")):
        return None
    held = numbers_in(json_attr(span, "input.value"), [], texts=False, deepest=6)  # a record's object in a body
    outputs = json_attr(trace.root, "output.value") if trace.root is not None else None
    answer = [text for text in outputs.values() if isinstance(text, str)] if isinstance(outputs, dict) else []
    if not held or not any(ZERO.search(text) for text in answer) or set(held) & set(numbers_in(answer, [], True)):
        return None
    gone, now = sorted(lost), sorted(new)
    rule = "a code node given a reshaped answer showing 0, the run's answer its 0 and none of its numbers"
    return finding(span, rule, f"Code node '{node_title(span)}' ran without '{gone[0]}' and {len(gone) - 1} more "
                   f"fields its earlier runs' input held ('{now[0]}' and others in their place) and showed 0; the "
                   "run's answer shows the 0 and none of the input's numbers: the code's defaults reached it.",
                   {"held before": gone[:5]}, {"holds now": now[:5]})  # fmt: skip


def _shows_zero(value: Any, depth: int = 0) -> bool:
    """Whether a node's outputs hold a number 0 or a text with a 0 on its own (`0 EUR`), in lists and objects too."""
    if type(value) in (int, float):
        return bool(value == 0)
    if isinstance(value, str):
        return ZERO.search(value) is not None
    if isinstance(value, dict | list) and depth < 3:
        return any(_shows_zero(item, depth + 1) for item in islice(value.values() if isinstance(value, dict) else
                                                                   value, 30))  # fmt: skip
    return False


def _holds_zero(value: Any, depth: int = 0) -> bool:
    """Whether a node's values hold a number 0, nested ones too (JSON text read as JSON; 50 items of each)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 5:
        value = json_value(value)
    if type(value) in (int, float):
        return bool(value == 0)
    if isinstance(value, dict | list) and depth < 5:
        return any(_holds_zero(item, depth + 1) for item in islice(value.values() if isinstance(value, dict) else
                                                                   value, 50))  # fmt: skip
    return False


def _zero_shown(outputs: Any) -> Any:
    """The first output (to two levels down) that is a number 0 or a text with a 0 on its own (`0.0 kg`, `₹0`)."""
    items = list(outputs.items())[:30] if isinstance(outputs, dict) else []
    for name, value in items:
        if isinstance(value, dict):
            items += [(f"{name}.{key}", item) for key, item in islice(value.items(), 30) if not isinstance(item, dict)]
        elif (type(value) in (int, float) and value == 0) or (isinstance(value, str) and ZERO.search(value)):
            return {name: value}
    return None


def _sent_body(span: Any) -> dict[str, Any] | None:
    """The JSON body an HTTP request node sent (its process data's `request`: the headers, a blank line, the body)."""
    process = json_attr(span, "dify.node.process_data")
    request = process.get("request") if isinstance(process, dict) else None
    if not isinstance(request, str) or "\r\n\r\n" not in request:
        return None
    body = json_value(request.partition("\r\n\r\n")[2])
    return body if isinstance(body, dict) else None


def sent_changed(trace: Trace, span: Any, produced: dict[str, tuple[Any, Any]], min_history: int) -> Finding | None:
    """An HTTP request sending a field under the name of an earlier node's output with another value or another
    kind (`people: 1` or `"3"` where the extractor gave 3), where every earlier run of the node (`min_history` at
    least, nine in ten of them) sent each such field as produced: Dify fills a body template from the variables
    (a new template is a new workflow version), so the value changed on the way. Learns on every run that sends
    such a field."""
    body = _sent_body(span)
    pairs = [(name, produced[name][0], value) for name, value in (body or {}).items()
             if name in produced and not isinstance(value, (list, dict))]  # fmt: skip
    if not pairs:
        return None
    version = attr(trace.root, "dify.workflow.id") if trace.root is not None else None
    key = f"{KEY}:sent:{trace.app}:{version}:{attr(span, 'dify.node.id') or span.name}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "changed": 0}
    changed = next(((name, before, value) for name, before, value in pairs
                    if value != before or value_kind(value) != value_kind(before)), None)  # fmt: skip
    found = None
    runs, before_changed = history["runs"], history["changed"]
    if changed is not None and runs >= min_history and before_changed * 10 <= runs:
        name, before, value = changed
        found = finding(span, "an HTTP request sending an earlier node's output changed, every earlier run as given",
                        f"HTTP node '{node_title(span)}' sent '{name}' as {value!r} where "
                        f"'{node_title(produced[name][1])}' gave {before!r}; its earlier runs sent it as given "
                        f"({runs - before_changed} of {runs}).",
                        {name: before}, {name: value})  # fmt: skip
    history = {"runs": runs + 1, "changed": before_changed + (changed is not None)}
    if runs >= 100:  # counts halve: the history follows the node's recent runs
        history = {"runs": (runs + 1) // 2, "changed": history["changed"] // 2}
    trace.baselines.put(key, history)
    return found

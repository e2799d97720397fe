"""How the node reading a tool's or an API's answer shows that the answer changed (used by
`dify_tool_schema_mismatch`): it came out empty, took its default for a field read under an old name, dropped the
value it wrote in earlier runs, or coped (a reader patched for the new name)."""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Trace, attr, attributes_of, json_attr, json_value
from detectors.derived import computed_from, computed_from_others, numbers_in
from detectors.nested_zeros import ZERO
from detectors.schema_findings import KEY
from detectors.values import value_kind


def holds_body(node: ReadableSpan, body: str) -> bool | None:
    """Whether a code or template node was given the HTTP body whole as one of its inputs (`body`); None for a
    node of another kind (a model reads the body through its prompt)."""
    if attr(node, "dify.node.type") not in ("code", "template-transform"):
        return None
    inputs = json_attr(node, "input.value")
    return isinstance(inputs, dict) and any(value == body for value in islice(inputs.values(), 30))


# What a code node writes for a value it read under a name its input no longer has (Python, JavaScript).
_PLACEHOLDER = re.compile(r"(?<![\w'\"])(?:None|undefined|null|NaN)(?![\w'\"])")


def came_out_empty(reader: ReadableSpan, fields: dict[str, Any]) -> bool:
    """The node reading an answer gave an empty list or text, a zero or a null among its outputs (a list it
    took out of the answer under a name the answer no longer has: `.get('slots', [])`), or a list of nothing but
    those (each record's field read under its old name: `[0, 0, 0]`), or a text showing a zero while no field of
    the answer is 0 (a line written with the default of a field read under its old name: `0 km`), or a record
    holding a number 0 while no field of the answer is 0."""
    outputs = json_attr(reader, "output.value")
    if not isinstance(outputs, dict):
        return False
    if any(
        is_empty(value)
        or (isinstance(value, list) and all(is_empty(item) for item in value[:50]))
        # each record written with its fields read under old names: `["None (None)", ...]`, `undefined - undefined`
        or (
            isinstance(value, list) and value and all(isinstance(i, str) and _PLACEHOLDER.search(i) for i in value[:50])
        )
        for value in outputs.values()
    ):
        return True
    # A text, or a list of lines (one per record), showing a zero.
    texts = (item for value in outputs.values() for item in (value[:50] if isinstance(value, list) else (value,)))
    shown = [text for text in texts if isinstance(text, str) and "0" in text]
    # A record the reader made holding a number 0 (`{"amount": 0, "status": "approved"}`) tells the same.
    zero = any(ZERO.search(text) for text in shown) or any(
        isinstance(value, dict) and any(type(item) in (int, float) and item == 0 for item in islice(value.values(), 30))
        for value in outputs.values()
    )
    return zero and not any(type(value) in (int, float) and value == 0 for value in fields.values())


def is_empty(value: Any) -> bool:
    return (
        value is None
        or (value == 0 and type(value) is not bool)
        or (isinstance(value, str | list | dict) and not value)
    )


# Earlier runs of a source whose code reader's computing is kept: (the answer's fields, the reader's recorded input
# and output texts), up to so many fields and characters; read only when a field is renamed.
_SNAPSHOTS = 3


_SNAPSHOT_FIELDS = 50


_SNAPSHOT_CHARS = 5000


def remember_reads(trace: Trace, source: str, reader: Any, fields: dict[str, Any]) -> list[Any]:
    """The snapshots of the source's earlier runs read by a code reader that succeeded; learns this run's."""
    key = f"{KEY}:reads:{trace.app}:{source}"
    earlier: list[Any] = trace.baselines.get(key) or []
    get = attributes_of(reader).get
    given, made = get("input.value"), get("output.value")
    if (
        len(fields) <= _SNAPSHOT_FIELDS
        and get("dify.node.status") == "succeeded"
        and isinstance(given, str)
        and isinstance(made, str)
        and len(given) + len(made) <= _SNAPSHOT_CHARS
    ):
        trace.baselines.put(key, [*earlier[1 - _SNAPSHOTS :], (fields, given, made)])
    return earlier


def default_taken(
    reader: Any, fields: dict[str, Any], renamed: tuple[list[str], list[str]], earlier: list[Any]
) -> bool:
    """A code reader that worked on computing nothing from the new field's number (`detectors/derived.py`) and an
    output from two other input numbers alone (`area * coats`), where in its earlier runs (two at least, every one
    that had it) it computed its outputs from the missing field's number (`area * coats / coverage`): it took 1 for
    the old name (`.get('coverage_m2_per_l', 1)`). A reader converting the new field (miles to km) is patched."""
    missing, new = renamed
    value = fields.get(new[0])
    if type(value) not in (int, float) or not value:
        return False
    outputs, inputs = json_attr(reader, "output.value"), json_attr(reader, "input.value")
    if computed_from(value, outputs, inputs) or not computed_from_others(outputs, inputs):
        return False
    used = [computed_from(number, json_value(made), json_value(given)) for held, given, made in earlier
            if type(number := held.get(missing[0])) in (int, float) and number]  # fmt: skip
    return len(used) >= 2 and all(used)


def coped(reader: ReadableSpan, reader_type: Any, fields: dict[str, Any], renamed: tuple[list[str], list[str]]) -> bool:
    """The reader worked on with the renamed field: a model quoting a text of a new field in its answer (it found
    the value; a number quoted may be one misread, a Fahrenheit reading taken for Celsius), or a code or template
    node giving a value under a missing field's name (it took the value from the new name: a reader patched for
    the API's new version; an unpatched one gets nothing under the old name), or giving a new field's very value
    under its name (it reads that field: an outcome the API seldom gives, a waitlist place for a seat, which the
    reader was written for, not a rename). A reader's own words under a missing name (`"none in stock"`), holding
    nothing of the answer, are the default it wrote for finding nothing."""
    outputs = json_attr(reader, "output.value")
    if not isinstance(outputs, dict):
        return False
    missing, new = renamed
    if reader_type != "llm":
        return any(_taken(outputs.get(name), fields) for name in missing) or any(
            not is_empty(fields[name]) and outputs.get(name) == fields[name] for name in new
        )
    answer = outputs.get("text")
    return isinstance(answer, str) and any(text in answer for name in new for text in texts_in(fields[name], []))


def _taken(value: Any, fields: dict[str, Any]) -> bool:
    """A value a reader gave that came from the answer: one of its fields' values, or a text holding one of the
    answer's texts (four characters at least) or numbers."""
    if is_empty(value):
        return False
    if not isinstance(value, str) or any(value == item for item in fields.values()):
        return True
    numbers = set(numbers_in(value, [], True))
    return any(text in value for item in fields.values() for text in texts_in(item, [])) or any(
        number in numbers for item in fields.values() for number in numbers_in(item, [], False)
    )


def value_dropped(
    reader: Any, fields: dict[str, Any], renamed: tuple[list[str], list[str]], earlier: list[Any]
) -> bool:
    """A code reader that worked on showing none of the new field's numbers (nested ones too) and no number before
    the word it wrote the missing field's number before in its earlier runs (two at least, every one that had it:
    `17 seats` from `free_seats: 17`, now `no seats`): it read the old name and wrote its default. A reader
    converting the new field writes a number there (`117181 km` from miles)."""
    missing, new = renamed
    numbers = numbers_in(fields.get(new[0]), [], False)
    outputs = json_attr(reader, "output.value")
    if not numbers or any(number in numbers_in(outputs, [], True) for number in numbers):
        return False
    words = []
    for held, _, made in earlier:
        number = held.get(missing[0])
        if type(number) not in (int, float) or not number:
            continue
        written = re.search(rf"(?<![\d.]){re.escape(str(number))}\s*([^\W\d_]+)", _joined(json_value(made)))
        if written is None:
            return False
        words.append(written.group(1))
    now = _joined(outputs)
    return len(words) >= 2 and any(
        word in now and re.search(rf"\d\s*{re.escape(word)}(?![^\W\d_])", now) is None for word in set(words)
    )


def moved_dropped(
    trace: Trace,
    source: str,
    reader: Any,
    fields: dict[str, Any],
    renamed: tuple[list[str], list[str]],
    earlier: list[Any],
) -> str | None:
    """A code reader that showed the missing field's value (its number, or its text of four characters or more) in
    its every earlier run (two at least, every one that had it) and now shows nothing of the new object holding a
    value of the kind the missing field always held (`keli: "liukas"` → `olosuhteet: {kuvaus: "liukas"}`, `cena: 189`
    → `cena_s_dph: {castka: 189, mena}`): it read the old name and wrote its default (`ei tietoa`, `cena
    neuvedena`). A number shown that the answer does not hold is a reader converting the new field's: patched. The
    new object, or None."""
    missing, new = renamed
    kinds = list((trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}).get(missing[0]) or {})
    holder = next((name for name in new if isinstance(held := fields[name], dict)
                   and [kinds[0]] == kinds and any(value_kind(item) == kinds[0] for item in islice(held.values(), 30))),
                  None)  # fmt: skip
    outputs = json_attr(reader, "output.value")
    if holder is None or not isinstance(outputs, dict):
        return None
    now, shown = _joined(outputs), numbers_in(outputs, [], True)
    moved = {abs(number) for number in numbers_in(fields[holder], [], False)}
    answered = {abs(number) for number in numbers_in(fields, [], True)}
    if any(number in moved or number not in answered for number in shown) or any(
        text in now for text in texts_in(fields[holder], [])
    ):
        return None
    told = 0
    for held, _, made in earlier:
        value = held.get(missing[0])
        if is_empty(value) or (isinstance(value, str) and len(value.strip()) < 4):
            continue  # a short text (`wet`) could be shown by chance: no evidence either way
        if isinstance(value, str):
            if value.strip() not in _joined(json_value(made)):
                return None
        elif type(value) not in (int, float) or abs(value) not in numbers_in(json_value(made), [], True):
            return None
        told += 1
    return holder if told >= 2 else None


def _joined(value: Any) -> str:
    """A node's outputs as one text, its own characters (not JSON's escapes)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def texts_in(value: Any, into: list[str], depth: int = 0) -> list[str]:
    """The texts of four characters at least a field's value holds, nested ones too (to three levels, the first
    ten items of a list)."""
    if isinstance(value, str):
        if len(value.strip()) >= 4:
            into.append(value.strip())
    elif depth < 3 and isinstance(value, dict | list):
        for item in islice(value.values() if isinstance(value, dict) else value, 10):
            texts_in(item, into, depth + 1)
    return into


def passes_on(reader: ReadableSpan, value: float) -> bool:
    """The node's outputs hold `value`, or a whole multiple of it up to 1000 times."""
    outputs = json_attr(reader, "output.value")
    stack, walked = [outputs], 0
    while stack and walked < 200:
        item = stack.pop()
        walked += 1
        if type(item) in (int, float) and item:
            times = item / value
            if 1 <= times <= 1000 and abs(times - round(times)) < 1e-9:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item[:50])
    return False

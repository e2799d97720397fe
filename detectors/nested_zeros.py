"""Zeros a code or template node wrote for records whose number now sits inside an object.

An API that starts nesting a record's number (`{"grade": "A", "quote": {"value": 15800, "unit": "THB/ton"}}` for
`{"grade": "A", "price": 15800}`) leaves a reader looking the number up by its old name with its default: a 0 for
every record. Seen in one run, without the source's history: the input's records (two at least) hold no number of
their own and no 0 anywhere, each holds a number other than 0 inside an object under the same field, and the
reader's output shows a 0 for each of them (a list of zeros as long as the records, the records' numbers all 0, or
each record's label on a line whose only number is 0), while no output gives one of the objects' numbers (a reader
reading them knows the shape: its zeros are another field's). Also a number output 0 named like an object of the
input that holds a number other than 0 and no 0 (the field itself nested: `{"price": {"amount": 12}}`, read by
`Number(item.price) || 0`). Read from the structure, so it holds in any language.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import json_attr, json_value

# A zero written on its own in a text (`0 km`, `0,00 PLN`), not a digit of a number, a date or a code.
ZERO = re.compile(r"(?<![\w.,:/+-])0(?:[.,]0+)?(?![\w:/-]|[.,]\d)")
_NONZERO_DIGIT = re.compile(r"[1-9]")


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _holder(record: dict[str, Any]) -> str | None:
    """The field of a record holding an object with a number other than 0, where the record has no number of its
    own and no 0 in it or in its objects (a 0 shown could be the data's); None otherwise."""
    holder = None
    for name, value in islice(record.items(), 30):
        if _number(value):
            return None
        if isinstance(value, dict):
            inner = [item for item in islice(value.values(), 30) if _number(item)]
            if 0 in inner:
                return None
            if inner and holder is None:
                holder = name
    return holder


def _nested_records(value: Any, depth: int = 0) -> tuple[list[dict[str, Any]], str] | None:
    """The first list of records (two at least, read to the 50th) of a node's inputs whose every record holds its
    number in an object under the same field (`_holder`), with that field; JSON text read as JSON."""
    if isinstance(value, str) and value[:1] in "{[":
        value = json_value(value)
    if isinstance(value, list):
        records = value[:50]
        if len(records) >= 2 and all(isinstance(item, dict) for item in records):
            holders = {_holder(record) for record in records}
            if len(holders) == 1 and (holder := holders.pop()) is not None:
                return records, holder
        return None
    if isinstance(value, dict) and depth < 4:
        for item in islice(value.values(), 50):
            if isinstance(item, dict | list | str) and (found := _nested_records(item, depth + 1)) is not None:
                return found
    return None


def _zero_lines(text: str, records: list[dict[str, Any]]) -> list[str] | None:
    """The line of `text` each record's label (a text of the record, two characters at least) is written on, if
    every record's is there and its only number, after the label, is a 0."""
    lines = text.splitlines()
    shown = []
    for record in records:
        labels = [value for value in islice(record.values(), 30) if isinstance(value, str) and len(value.strip()) >= 2]
        line = next((line for label in labels for line in lines if label in line), None)
        if line is None:
            return None
        rest = line[max(line.find(label) + len(label) for label in labels if label in line) :]
        if not ZERO.search(rest) or _NONZERO_DIGIT.search(rest):
            return None
        shown.append(line.strip())
    return shown


def _zeros_shown(outputs: dict[str, Any], records: list[dict[str, Any]]) -> Any:
    """What of the outputs shows a 0 for each record: a list of zeros as many as the records, a list of as many
    records whose number fields are all 0, or the text lines of `_zero_lines`; None if none does."""
    count = len(records)
    for name, value in outputs.items():
        if isinstance(value, list) and len(value) == count:
            if all(_number(item) and item == 0 for item in value):
                return {name: value}
            if all(isinstance(item, dict) for item in value):
                numbers = [n for item in value for n in item.values() if _number(n)]
                if len(numbers) >= count and not any(numbers):
                    return {name: value}
            # a line per record (`[f"{name}: {price} kr" ...]`): read as the lines of one text
            if all(isinstance(item, str) for item in value) and (lines := _zero_lines("\n".join(value), records)):
                return {name: lines}
        elif isinstance(value, str) and "0" in value and (lines := _zero_lines(value, records)) is not None:
            return {name: lines}
    return None


def _numbers_beside(value: Any, records: list[dict[str, Any]], into: set[Any], depth: int = 0) -> set[Any]:
    """The numbers a node's inputs hold outside the list of `records` (JSON text read as JSON)."""
    if isinstance(value, str) and value[:1] in "{[":
        value = json_value(value)
    if _number(value):
        into.add(value)
    elif isinstance(value, list) and depth < 4 and value[:50] != records:
        for item in value[:50]:
            _numbers_beside(item, records, into, depth + 1)
    elif isinstance(value, dict) and depth < 4:
        for item in islice(value.values(), 50):
            _numbers_beside(item, records, into, depth + 1)
    return into


def _shows_nested(outputs: dict[str, Any], records: list[dict[str, Any]], holder: str, inputs: Any) -> bool:
    """Whether an output gives a number of the records' objects (as a number, or written in a text): the reader
    reads the objects, and its zeros are another field's (`.get('discount', 0)` beside the prices it read). A
    number the inputs also hold outside the records (a weather reading of 12 beside 12 free seats) proves
    nothing."""
    nested = {n for record in records for n in record[holder].values() if _number(n) and n}
    nested -= _numbers_beside(inputs, records, set())
    texts = [value for value in outputs.values() if isinstance(value, str)]
    stack: list[Any] = list(outputs.values())
    while stack:
        value = stack.pop()
        # a number equal to the records' count is read as their count (`"count": 4` beside a record's 4 seats)
        if _number(value) and value in nested and value != len(records):
            return True
        if isinstance(value, dict | list) and len(stack) < 500:
            stack.extend(value.values() if isinstance(value, dict) else value[:50])
    return any(f"{n:g}" in text for n in nested for text in texts)


def _object_named(value: Any, name: str, depth: int = 0) -> dict[str, Any] | None:
    """The first object a node's inputs hold under `name` (JSON text read as JSON, a list's first 20 items) with a
    number other than 0 in it and no 0."""
    if isinstance(value, str) and value[:1] in "{[":
        value = json_value(value)
    if isinstance(value, dict) and depth < 5:
        held = value.get(name)
        if isinstance(held, dict):
            inner = [item for item in islice(held.values(), 30) if _number(item)]
            if inner and 0 not in inner:
                return held
        items: Any = islice(value.values(), 50)
    elif isinstance(value, list) and depth < 5:
        items = value[:20]
    else:
        return None
    for item in items:
        if isinstance(item, dict | list | str) and (found := _object_named(item, name, depth + 1)) is not None:
            return found
    return None


def nested_zeros(reader: ReadableSpan) -> tuple[str, dict[str, Any], Any] | None:
    """A code or template node's output showing a 0 for every record of its input whose number sits inside an
    object, or a number output 0 named like an object of its input holding a number (JavaScript's
    `Number(item.price) || 0` once `price` is `{amount, currency}`): (the field holding the object, a record or the
    object under its name, what the output shows)."""
    outputs = json_attr(reader, "output.value")
    if not isinstance(outputs, dict):
        return None
    zeros = [name for name, value in islice(outputs.items(), 50) if _number(value) and value == 0]
    if not zeros and not any(isinstance(value, list) or (isinstance(value, str) and "0" in value)
                             for value in outputs.values()):  # fmt: skip
        return None  # most nodes: nothing that could show a zero per record
    inputs = json_attr(reader, "input.value")
    for name in zeros[:10]:
        held = _object_named(inputs, name)
        if held is not None and not _shows_nested(outputs, [{name: held}], name, None):
            return name, {name: held}, {name: 0}
    found = _nested_records(inputs)
    if found is None:
        return None
    records, holder = found
    shown = _zeros_shown(outputs, records)
    if shown is None or _shows_nested(outputs, records, holder, inputs):
        return None
    return holder, records[0], shown

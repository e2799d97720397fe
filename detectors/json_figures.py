"""Figures a source's JSON computes: what an answer may state about a table it was fed without the figure
being written anywhere. A column of numbers (a list's numbers, a list of rows' numbers by position, a list of
records' by field) gives its total, its average, each value's share of the total and the change in percent
from one value to the next and from the first to the last (not the totals of its runs: of a column of small
counts, some run adds up to almost any small number); one record (an object's number fields, a row's
numbers) gives the quotients of two of its fields ("price / area_m2"), the share of the smaller in the larger
("count / total") and the change from one to the other ("this_month" against "last_month"); a list, its
length.

Read from the structure, not from words, so it holds in any language; bounded (`_MAX_VALUES` values walked
per text, the first `_MAX_RECORDS` records and `_RECORD_FIELDS` fields of each combined, a column's first
`_COLUMN_VALUES` values taken apart) so that a large tool output costs a few milliseconds at most, and only
for an answer with a number no source states.
"""

from __future__ import annotations

import bisect
import itertools
import math
from functools import lru_cache
from typing import Any

from detectors import json_value

# JSON values walked per text, and fields per record paired: a bound on the work, not a reading.
_MAX_VALUES = 5000
_MAX_RECORDS = 24
_RECORD_FIELDS = 8
_COLUMN_VALUES = 200


# JSON numbers as decoded (a bool is an int subclass but no number here; an exact type test is also the fastest).
_NUMBERS = (int, float)


def _json_in(text: str) -> list[Any]:
    """The JSON objects and lists in `text`: the whole text, else each line that is one (a prompt's data
    message among its instructions)."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        whole = json_value(stripped)
        if not isinstance(whole, str):
            return [whole]
    found = []
    for line in stripped.splitlines():
        line = line.strip()
        if line[:1] in ("{", "[") and not isinstance(value := json_value(line), str):
            found.append(value)
    return found


def _tables(values: list[Any]) -> tuple[list[list[float]], list[list[float]], set[float], set[float]]:
    """(columns, records) of numbers in `values`, nested JSON text (a tool's `text` output) read too; amounts
    read off its lists (their lengths, "12 open tickets"; the sums over rows of two fields' product, an order's
    "qty" x "unit_price" total); and its fractions as percentages (0.873 as 87.3 %)."""
    columns: list[list[float]] = []
    records: list[list[float]] = []
    amounts: set[float] = set()
    fractions: set[float] = set()
    stack, walked = list(values), 0
    while stack and walked < _MAX_VALUES:
        value = stack.pop()
        walked += 1
        if isinstance(value, str):
            if value[:1] in ("{", "[") and not isinstance(decoded := json_value(value), str):
                stack.append(decoded)
            continue
        items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
        if isinstance(value, dict) and len(items) >= 2 and all(_rows(item) for item in items):
            # Pages of one table (a loop's accumulator: {"p1": [rows], "p2": [rows]}): their rows as one list too.
            stack.append([row for page in items for row in page])
        own = [float(item) for item in items if type(item) in _NUMBERS]
        fractions.update(100 * number for number in own if 0 < number < 1)
        if len(own) >= 2:
            records.append(own[:_RECORD_FIELDS])
            if isinstance(value, list):
                columns.append(own)
        if isinstance(value, list):  # rows or records: their numbers by position or field
            amounts.add(float(len(value)))
            by_field: dict[object, list[float]] = {}
            products: dict[tuple[object, object], float] = {}
            for row in value:
                fields = row.items() if isinstance(row, dict) else enumerate(row) if isinstance(row, list) else ()
                numbered = [(field, float(item)) for field, item in fields if type(item) in _NUMBERS][:_RECORD_FIELDS]
                for field, number in numbered:
                    by_field.setdefault(field, []).append(number)
                for (one, a), (other, b) in itertools.combinations(numbered, 2):
                    products[one, other] = products.get((one, other), 0.0) + a * b
            columns.extend(column for column in by_field.values() if len(column) >= 2)
            if len(value) >= 2:
                amounts.update(products.values())
        stack.extend(item for item in items if isinstance(item, dict | list | str))
    return columns, records, amounts, fractions


def _rows(value: Any) -> bool:
    """Whether `value` is a list of rows or records (lists or objects), a table's page."""
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict | list) for row in value)


def _change(new: float, old: float) -> float:
    """The change from `old` to `new` in percent, unsigned (an answer writes "12 % less", not "-12 %")."""
    return abs(100 * (new - old) / old)


@lru_cache(maxsize=256)
def json_figures(text: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(amounts, shares and changes in percent) computed from the JSON in `text`, each sorted; both empty
    without JSON."""
    columns, records, amounts, shares = _tables(_json_in(text))
    for column in columns:
        total = math.fsum(column)
        amounts.update((total, total / len(column)))
        if total > 0:
            shares.update(100 * value / total for value in column[:_COLUMN_VALUES] if value > 0)
        # The change from one value to the next, either way (last month to this), and first to last.
        steps = [*itertools.pairwise(column[:_COLUMN_VALUES]), (column[0], column[-1])]
        shares.update(_change(b, a) for pair in steps for a, b in (pair, pair[::-1]) if a)
    for record in records[:_MAX_RECORDS]:
        for a, b in itertools.permutations(record, 2):
            # Two fields combined: sum, difference, product, quotient; one as a percentage of the other, and
            # applied to it (a price less its discount: "price" x (1 - "discount_pct" / 100)).
            amounts.update((a + b, abs(a - b), a * b))
            if 0 < b <= 100:
                amounts.update((a * b / 100, a * (1 - b / 100), a * (1 + b / 100)))
            if b:
                amounts.add(a / b)
                shares.add(_change(a, b))
                if 0 < a < b:
                    shares.add(100 * a / b)
    return tuple(sorted(amounts)), tuple(sorted(shares))


def near(value: float, figures: tuple[float, ...], tolerance: float) -> bool:
    """Whether a figure of the sorted `figures` lies within `tolerance` of `value`."""
    at = bisect.bisect_left(figures, value - tolerance)
    return at < len(figures) and figures[at] <= value + tolerance

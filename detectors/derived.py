"""Whether a node's outputs were computed from a number: a reader patched for an API's renamed field uses the new
field's value, one reading the old name gets its default instead.

Computed from `value`: the value itself among the outputs' numbers (nested ones, or written in a text: `35.2 kg`), or
the value times or over one or two other numbers of the node's inputs (`rate * area`, `area * coats / coverage`),
within half a percent or rounded to a whole number. Read from the structure, so it holds in any language; bounded
(`_MAX_NUMBERS` numbers of each side) so that the check costs a few thousand multiplications at most.
"""

from __future__ import annotations

import re
from itertools import combinations, islice
from typing import Any

from detectors import json_value

_MAX_NUMBERS = 10
# A number written in a text, not a part of a clock time or a date (`09:30`, `2027-07-14`, `16.12.2026`): their parts
# are no figures a node computed, and one matching by chance (11:00 for 21.5 / 2) would read as computed.
_WRITTEN = re.compile(r"(?<![\d.:/])(?<!\d-)\d+(?:\.\d+)?(?![\d:/]|[.-]\d)")


def numbers_in(value: Any, into: list[float], texts: bool, depth: int = 0, deepest: int = 4) -> list[float]:
    """The numbers other than 0 a node's values hold, nested ones too (JSON text read as JSON; `deepest` levels), and
    with `texts` those written in its texts; `_MAX_NUMBERS` at most."""
    if len(into) >= _MAX_NUMBERS or depth > deepest:
        return into
    if isinstance(value, str):
        if value[:1] in ("{", "[") and not isinstance(decoded := json_value(value), str):
            return numbers_in(decoded, into, texts, depth + 1, deepest)
        if texts:
            into.extend(float(hit) for hit in islice(_WRITTEN.findall(value), _MAX_NUMBERS - len(into)) if float(hit))
    elif type(value) in (int, float) and value:
        into.append(float(value))
    elif isinstance(value, dict | list):
        for item in islice(value.values() if isinstance(value, dict) else value, 30):
            numbers_in(item, into, texts, depth + 1, deepest)
    return into


def _close(shown: float, figure: float) -> bool:
    return abs(shown - figure) <= 0.005 * abs(figure) or (shown == int(shown) and shown == round(figure))


def computed_from_others(outputs: Any, inputs: Any) -> bool:
    """Whether a number of `outputs` is the product or quotient of two numbers of `inputs` (`area * coats`): what a
    formula over three gives with 1 in the third's place, a reader's default for a field it no longer finds."""
    shown = numbers_in(outputs, [], True)
    others = sorted(set(numbers_in(inputs, [], False))) if shown else []
    figures = [figure for a, b in combinations(others, 2) for figure in (a * b, a / b, b / a)]
    # Within half a percent only: a whole number rounded from any quotient would match too often.
    return any(abs(number - figure) <= 0.005 * abs(figure) for number in shown for figure in figures)


def computed_from(value: float, outputs: Any, inputs: Any) -> bool:
    """Whether a number of `outputs` is `value`, or `value` times or over one or two other numbers of `inputs`."""
    shown = numbers_in(outputs, [], True)
    if not shown or not value:
        return False
    others = sorted({number for number in numbers_in(inputs, [], False) if number != value})
    figures = [value]
    for a in others:
        figures += [value * a, value / a, a / value]
    for a, b in combinations(others, 2):
        figures += [value * a * b, value * a / b, value * b / a, a * b / value, a / (value * b), b / (value * a)]
    return any(_close(number, figure) for number in shown for figure in figures)

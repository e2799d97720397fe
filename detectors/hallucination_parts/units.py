"""A figure of the data restated with the unit it is mistaken for (the API's `81 F` as `81 C`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan

from detectors import (
    Finding,
)
from detectors.hallucination_parts.data import data_finding

# A figure and its unit, as text writes it ("81 °F", "19 C", "30℃", "12 km", "5 lb") and as an API's fields name it
# ("temp_c": 19, "distance_km": 12; "value": 81, "unit": "F"): temperature scales, km and miles, kg and pounds (the
# pairs a model swaps keeping the number); the degree sign alone says no scale ("81 degrees" is left alone). Each
# unit with the one a model mistakes it for.
FIGURE_UNIT = re.compile(
    r"(?<![\w.,-])(-?\d+(?:[.,]\d+)?)\s?(?:([℃℉])|(?:°\s?|º\s?)?([CF])(?![^\W\d_])|(km|miles?|mi|kg|lbs?)(?![^\W\d_]))"
)
_UNIT_NAMES = r"c|f|celsius|fahrenheit|km|miles?|mi|kg|lbs?"
_UNIT_KEY = re.compile(rf'"\w*?(?:_|\b)({_UNIT_NAMES})"\s*:\s*(-?\d+(?:\.\d+)?)', re.IGNORECASE)
_OBJECT = re.compile(r"\{[^{}]*\}")
_UNIT_VALUE = re.compile(rf':\s*"(?:°\s?)?({_UNIT_NAMES}|℃|℉)"', re.IGNORECASE)
_FIELD_NUMBER = re.compile(r":\s*(-?\d+(?:\.\d+)?)(?=\s*[,}])")
_UNITS = {
    "c": "C",
    "celsius": "C",
    "℃": "C",
    "f": "F",
    "fahrenheit": "F",
    "℉": "F",
    "miles": "mi",
    "mile": "mi",
    "lbs": "lb",
}
_MISTAKEN = {"C": "F", "F": "C", "km": "mi", "mi": "km", "kg": "lb", "lb": "kg"}


def _unit(name: str) -> str:
    return _UNITS.get(name.lower(), name.lower())


def _with_units(text: str) -> set[tuple[float, str]]:
    """The figures `text` states with a temperature scale, in km or miles, kg or pounds, each with its unit."""
    found = {(float(m[1].replace(",", ".")), _unit(m[2] or m[3] or m[4])) for m in FIGURE_UNIT.finditer(text)}
    if "{" in text:
        unquoted = text.replace("\\", "")  # an API's body inside a node's output is a JSON string within JSON
        found |= {(float(m[2]), _unit(m[1])) for m in _UNIT_KEY.finditer(unquoted)}
        for block in _OBJECT.findall(unquoted):
            if len(units := {_unit(m) for m in _UNIT_VALUE.findall(block)}) == 1:  # one unit names the object's figures
                unit = units.pop()
                found |= {(float(v), unit) for v in _FIELD_NUMBER.findall(block)}
    return found


def rescaling(data: list[tuple[int, str]], span: ReadableSpan, answer: str) -> Iterator[Finding]:
    """A finding where `answer` restates a figure of the `data` before it with the same value in the unit it is
    mistaken for only (the API's `81 F` restated `81 C`, `12 km` as `12 mi`): a figure kept, its unit changed."""
    stated = _with_units(answer)
    before = set().union(*(_with_units(output) for end, output in data if end <= (span.start_time or 0)))
    rescaled = {
        f"{value:g} {unit}": f"{value:g} {other}"
        for value, unit in sorted(stated)
        if (value, other := _MISTAKEN[unit]) in before and (value, unit) not in before
    }
    if rescaled:
        yield data_finding(
            span, 0.8, f"states {', '.join(rescaled)} where its data gives {', '.join(rescaled.values())}",
            "a figure of the data restated with the unit it is mistaken for", answer, rescaled=rescaled,
        )  # fmt: skip

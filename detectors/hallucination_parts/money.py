"""An answer fed only data: a sum of money, a share or a percentage standing where the data's figure goes unsaid."""

from __future__ import annotations

import itertools
import math
import re

from detectors.hallucination_parts.arithmetic import precision
from detectors.likeness import WORD_CHARACTER
from detectors.numbers import (
    all_values,
    by_unit,
    lengths,
    measured,
    measures,
    plain,
    readings,
    source_values,
)

# The result of a working the answer shows ("5000 * 0.75 = 3748"): arithmetic the reader sees, right or wrong.
_SHOWN_RESULT = re.compile(
    rf"[\u00d7*·÷/\u2212+][^=\n]*=\s?(?:[^\W\d_]{WORD_CHARACTER}{{0,2}}\s?|[€$£¥₹₩₽₪]\s?)?(\d[\d.,]*\d|\d)"
)


# A figure right after a word ("الجمركية 277.65", "Total: 1020"): the slot the word names.
_SLOT = re.compile(rf"([^\W\d_]{WORD_CHARACTER}{{2,}}):?\s?(\d[\d.,]*\d|\d)")


def _slotted(answer: str, numbers: set[str], prompt: str) -> bool:
    """Whether the answer writes one of `numbers` right after a word its prompt writes a figure right after: the
    data's slot ("الرسوم الجمركية 277.65") filled with another figure ("الرسوم الجمركية 148.08")."""
    slots = {word.lower() for word, _ in _SLOT.findall(prompt)}
    return any(word.lower() in slots for word, number in _SLOT.findall(answer) if number in numbers)


def _round(values: list[float]) -> bool:
    """Whether a figure is a round thousand and more in some reading, one significant digit ("5.000 km"): a measure so
    written is a bound or an estimate ("more than 5,000 km left"), not a figure put in place of the data's ("80 km
    left" for its 53 km still is)."""
    return any(v >= 1000 and v == int(v) and len(f"{v:.0f}".rstrip("0")) == 1 for v in values)


def substituted(answer: str, unsupported: set[str], outputs: list[str], prompt: str) -> dict[str, float]:
    """The sums of money of `unsupported` an answer fed only data states in place of a figure of that data, each
    with that figure: the answer restates the outputs before it (a tool's, an API's, a code node's: a figure, or
    the slot a word names in its prompt, `_slotted`) but leaves a value of them half to twice as large unsaid
    ("the code computed 1245.00 EUR; the reply says 1145.00 EUR"); a measure, a third to three times one the
    outputs write, with its unit there or in the prompt. A
    sum is the answer's own when it is a sum of money it states times a quantity of something else it states
    ("85 ₪ an hour, 255 ₪ for 3 hours"), a percentage it states on or off a sum it states ("23 % VAT": 1529.05
    for 1243.13), or a working's result it shows."""
    claims = dict(measured(answer))
    stated = lengths(answer)
    money = {n for n in unsupported if claims.get(n) == "money" or n in stated}
    if not money:
        return {}
    said = plain(answer)
    given = set().union(*map(source_values, outputs))
    if said.isdisjoint(given) and not _slotted(answer, money, prompt):
        return {}  # it restates none of the data: it answers something else (task_derailment's)
    # The unsaid values, output by output, the latest first (the node that fed the answer names its figure best); a
    # measure stands for one the data writes with its unit ("1.250 km" for the code's "53 km"; "396.3 kWh" for the
    # prompt's "199.6 kWh", a template's unit).
    dropped = [sorted(source_values(output) - said) for output in reversed(outputs)]
    written = [lengths(output) for output in reversed(outputs)]
    if stated.keys() & money:  # the data's figures as its prompt writes them with their unit
        dropped.append(sorted(source_values(prompt) & given - said))
        written.append(lengths(prompt))
    figures = [(float(r), unit) for token, unit in claims.items() for r in readings(token)]
    sums = {v for v, unit in figures if unit == "money"}
    others = {v for v, unit in figures if unit not in ("money", "%") and v > 0}
    shares = {v / 100 for v, unit in figures if unit == "%" and 0 < v < 100}
    made = {a * b for a in sums for b in others} | {a * f for a in sums for s in shares for f in (s, 1 - s, 1 + s)}
    shown = {m.group(1) for m in _SHOWN_RESULT.finditer(answer)}
    found: dict[str, float] = {}
    # A measure's total over an output's lines ("about 3,900 kWh" and "3,070 kWh": 6,970 kWh), about (1 %).
    totals: dict[str, set[float]] = {}
    for output in outputs:
        pairs = measures(output)
        for unit in {unit for _, unit in pairs}:
            total = math.fsum(float(max(readings(t), key=float)) for t, u in pairs if u == unit)
            totals.setdefault(unit, set()).add(total)
    for number in sorted(money - shown):
        if any(abs(float(r) - m) <= precision(r) + 1e-9 for r in readings(number) for m in made):
            continue
        if number in stated and any(
            abs(float(r) - total) <= 0.01 * float(r)
            for r in readings(number)
            for total in totals.get(stated[number], ())
        ):
            continue
        values = [float(r) for r in readings(number)]
        places = number.rpartition(",")[2].rpartition(".")[2] if any(c in number for c in ".,") else ""
        if number in stated and _round(values):
            continue
        for unsaid, units in zip(dropped, written, strict=True):
            low, high = 0.5, 2.0
            if number in stated:
                unsaid = [v for v in unsaid if any(v in readings(t) for t, u in units.items() if u == stated[number])]
                low, high = 1 / 3, 3.0
            if near := [v for v in unsaid for value in values if low * float(v) <= value <= high * float(v)]:
                # the nearest, written to as many decimals first ("254,10" stands for 304.92, not 281.6)
                best = min(
                    near,
                    key=lambda v: (len(v.partition(".")[2]) != len(places), min(abs(float(v) - x) for x in values)),
                )
                found[number] = float(best)
                break
    return found


def akin(number: str, figure: str) -> bool:
    """Whether `number` lies within half to twice `figure` in some reading of each: a value put in another's place."""
    return any(0.5 * float(b) <= float(a) <= 2 * float(b) for a in readings(number) for b in readings(figure))


def discounted(answer: str, unsupported: set[str], sources: list[str]) -> dict[str, list[float]]:
    """The sums of money of `unsupported` that are a source's figure less a percentage the answer states and no
    source does, each with that figure and percentage: a reduction nobody granted ("a 15 % discount: you pay
    867.00" on the data's 1020.00). A percentage added (a tax the model knows) is left alone."""
    stated = dict(measured(answer))
    values = set().union(*(all_values(source) for source in sources))
    shares = {
        float(r)
        for token, unit in stated.items()
        if unit == "%"
        for r in readings(token)
        if 0 < float(r) < 100 and float(r) / 100 not in values  # a source's rate ("0.12") grants that share
    } - values
    return {
        number: [figure, share]
        for number in sorted(unsupported)
        if stated.get(number) == "money"
        for r in readings(number)
        for figure in values
        for share in shares
        if figure > 0 and abs(figure * (1 - share / 100) - float(r)) <= precision(r) + 1e-9
    }


def unshared_percentages(
    answer: str, unsupported: set[str], sources: list[str], outputs: list[str], named: bool = False
) -> set[str]:
    """The percentages of `unsupported` (in no source nor computed from them) an answer fed only data states where no
    source states a percentage or a rate (a fraction below 1): the data holds no share, the answer's is made up ("10 %
    bonus" on a top-up receipt), where the answer restates a figure of the data or writes a name of it (`named`). A
    source's rate ("0.15") the answer may state as a percentage it computes otherwise."""
    stated = measured(answer)
    shares = {number for number, unit in stated if unit == "%"} & unsupported
    if shares and not named and plain(answer).isdisjoint(set().union(*map(source_values, outputs))):
        return set()  # it restates none of the data: another answer (an advert's "7 % interest": task_derailment's)
    if not shares or any(
        "%" in by_unit(source) or any(0 < value < 1 for value in all_values(source)) for source in sources
    ):
        return set()
    # One the answer applies (a VAT rate it knows: 1245.00 EUR, "1506.45 EUR with 21 % VAT"), or about one of its
    # figures' share of another (a tax's effective rate, to a point), is its working's.
    values = [float(r) for number, unit in stated if unit != "%" for r in readings(number)]
    return {
        share
        for share in shares
        if not any(
            abs(a * f - b) <= 0.005 * b or (0 < a < b and abs(100 * a / b - p) <= 1)
            for a, b in itertools.permutations(values, 2)
            for p in map(float, readings(share))
            for f in (p / 100, 1 + p / 100, 1 - p / 100)
        )
    }

"""Figures an answer works out from its sources' numbers: sums, shares, rates, roundings, moved times and dates,
converted units."""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import re

from detectors.json_figures import near
from detectors.numbers import (
    LENGTH_WORDS,
    MEASURES,
    TIME_UNITS,
    all_values,
    by_unit,
    clock_times,
    conversions,
    converted,
    dates,
    measured,
    quantities_of,
    rates,
    readings,
    workings,
)


def computed(reading: str, unit: str, values: set[float], units: dict[str, set[float]], factors: set[float]) -> bool:
    """Whether a number (two digits and more, one reading) counting `unit` is computed from a source's `values`
    (`units`: the same by what they count): a sum or a difference of two counting the same (the smaller a
    twentieth of the larger at least: 7950 EUR is not 7951 EUR - 1 EUR), a multiple by one of `factors` (the
    counts the answer states), a share per unit (counting the same, divided by a count up to 100: a
    number of the sources or the answer that is not a duration, money or a percentage), a sum of one and a
    multiple of another by one of `factors` ("SEK 2,900 plus 3 x SEK 450": 4,250) or of two multiples, a
    multiple plus a fee per group of a count the sources state started (49 students at 5,000 and a guide at 50,000
    per 25 people: 345,000), or,
    as a percentage, one value's share of another counting the same ("12 of 40 seats"; 90 days are not
    25 % of 12 months), or a source's percentage of a value, or the value less or more it (230.41 EUR after a
    10 % discount: 207.37; plus 19 % VAT; a 5 % fee on 47,800: 2,390); to the precision the answer writes it."""
    value = float(reading)
    decimals = len(reading.partition(".")[2])
    tolerance = 0.5 * 10**-decimals if decimals else 1e-6
    if any(round(value / factor, 6) in values for factor in factors):
        return True
    # A percentage of a value, or the value less or more it, counts what the value counts: 50 kg less 10 % is no
    # 45 % and no 45.000 đồng; a value the sources write with no measure, or with this one, may be any.
    bases = values
    if unit and unit not in TIME_UNITS:
        measures = (found for counted, found in units.items() if counted in MEASURES or counted in LENGTH_WORDS)
        bases = values - (set().union(*measures) - units.get(unit, set()))
    for rate in units.get("%", ()):
        if 0 < rate < 100 and any(
            abs(a * (1 - rate / 100) - value) <= tolerance
            or abs(a * (1 + rate / 100) - value) <= tolerance
            or abs(a * rate / 100 - value) <= tolerance
            for a in bases
        ):
            return True
    scale = TIME_UNITS.get(unit)
    same = units.get("time" if scale else unit, set()) if unit else set()
    value = round(value * (scale or 1), 6)
    multiples = {round(factor * b, 6): b for b in same for factor in factors}
    for a in same:
        b = round(value - a, 6)  # value = a + b
        if b in same and 0 < b != a and min(a, b) >= 0.05 * max(a, b):
            return True
        c = round(value + a, 6)  # value = c - a
        if c in same and 0 < a >= 0.05 * c:
            return True
        if b in multiples and multiples[b] != a and b >= 0.05 * a:  # value = a + factor x b ("2,900 + 3 x 450")
            return True
    for product, b in multiples.items():  # value = f x a + g x b ("4 adults at 12,000 and 3 youths at 6,000")
        rest = round(value - product, 6)
        if rest > 0 and rest in multiples and multiples[rest] != b:
            return True
    counts = set().union(*(found for counted, found in units.items() if counted not in MEASURES and counted != "time"))
    divisors = [d for d in counts | factors if 2 <= d <= 100 and d == int(d)]
    for divisor in divisors:
        low, high = (value - tolerance) * divisor, (value + tolerance) * divisor
        if any(low <= a <= high for a in same):
            return True
    for factor, divisor in itertools.product(factors, counts):  # f x a + a fee b per k started ("per 25 people")
        if 2 <= divisor < factor and divisor == int(divisor):
            started = math.ceil(factor / divisor)
            if any(round((value - factor * a) / started, 6) in same for a in same if value > factor * a):
                return True
    if unit == "%":  # a share of two: pairs, so bounded; rounded as written ("33%" for a third)
        margin = tolerance if decimals else 0.5
        for counted, found in units.items():
            shares = sorted(v for v in found if v > 0)[:60] if counted not in ("", "time") else []
            if any(abs(100 * part / whole - value) <= margin for whole in shares for part in shares if part < whole):
                return True
    return False


def precision(reading: str) -> float:
    """Half the last digit a number is written to: how far what it rounds may lie ("27" for 27.3)."""
    return 0.5 * 10.0 ** -len(reading.partition(".")[2])


def rounded_from(number: str, scale: float, values: tuple[float, ...], least: int = 2) -> bool:
    """Whether `number` (times `scale`) is one of the sorted `values` rounded to the place it is written to,
    `least` significant digits kept: "437,000" or "0.44 million" for 437,303.42, "2.8 %" for 2.75 %,
    "38" for 38.48. One zero at the end is no rounding ("7,950" is not 7,951), and a number written to the
    unit rounds a value with decimals only (437 does not round 436). A separator before three digits is read
    as a thousands separator only: "7,950" does not round 7.951 either."""
    for reading in readings(number):
        whole, _, fraction = reading.partition(".")
        if fraction and len(readings(number)) > 1:
            continue
        zeros = 0 if fraction else len(whole) - len(whole.rstrip("0"))
        if len((whole + fraction).strip("0")) < least or zeros == 1:
            continue
        step = 10.0 ** -len(fraction) if fraction else 10.0**zeros
        value, tolerance = float(reading) * scale, step / 2 * scale
        if step == 1 and scale == 1:  # to the unit: a value with decimals, rounded
            at = bisect.bisect_left(values, value - tolerance)
            if any(v != int(v) for v in values[at : bisect.bisect_right(values, value + tolerance)]):
                return True
        elif near(value, values, tolerance):
            return True
    return False


def worked_example(unsupported: set[str], rates: set[float], stated: set[str]) -> set[str]:
    """The numbers of `unsupported` in pairs of the answer's numbers (`stated`) where one is a source's
    percentage of the other: an example the answer works ("on EUR 10,000 that is EUR 275 a year" at 2.75 %;
    "on a 250,000 home, 200,000" at 80 %; "25% of the remaining 6,000, so 1,500", whatever else 1,500 is)."""
    values = {(n, float(r)) for n in stated | unsupported for r in readings(n)}
    worked: set[str] = set()
    for (base, whole), (part, amount) in itertools.permutations(values, 2):
        if base == part or (base not in unsupported and part not in unsupported):
            continue
        if any(abs(whole * rate / 100 - amount) <= 0.01 * amount for rate in rates if 0 < rate < 100):
            worked.update((base, part))
    return worked & unsupported


def worked_out(answer: str, values: set[float], percentages: set[float]) -> dict[float, set[str]]:
    """What the answer works out from the sources' `values`, each result with the terms it took: a working it
    shows ("EUR 198.00 (5 x 11 x 3.60)" for 5 nights of an 11 m boat at EUR 3.60), a rate times a quantity of
    what it is per ("EUR 1.79 per litre", "150 litres"), a quantity in a currency divided by a rate in it per
    another ("3000 GBP" at "0.842 GBP per EUR": 3562.95 EUR; times it gives GBP squared per EUR, nothing), and
    each of these less or more one of the sources' `percentages` ("10 % off")."""

    def sourced(token: str) -> list[float]:
        return [float(r) for r in readings(token) if round(float(r), 6) in values]

    results: dict[float, set[str]] = {}
    for multiplies, terms in workings(answer):
        options = [sourced(term) for term in terms]
        if all(options) and len(terms) <= 6:
            for combo in itertools.product(*options):
                results.setdefault(round(math.prod(combo) if multiplies else sum(combo), 6), set()).update(terms)
    quantities = list(quantities_of(answer))
    for rate, currency, per in rates(answer):
        for quantity, unit in quantities:
            if unit == per or (currency and unit == currency):
                for a, b in itertools.product(sourced(rate), sourced(quantity)):
                    if a:
                        results.setdefault(round(a * b if unit == per else b / a, 6), set()).update((rate, quantity))
    for value, taken in list(results.items()):
        for share in percentages:
            if 0 < share < 100:
                for sign in (-1, 1):
                    results.setdefault(round(value * (1 + sign * share / 100), 6), set()).update(taken)
    return results


def shifted_by(
    answer: str,
    unsupported: set[str],
    sources: list[str],
    durations: set[float],
    months: frozenset[int] | set[int] = frozenset(),
) -> set[str]:
    """The numbers of `unsupported` in a date the answer writes that is a source's date moved by one of
    `durations` (days), on to the Monday when it falls on a weekend: "10 days before the hearing on October 6,
    2026" is September 26, 2026; two weeks after 22.11.2026 is a Sunday, so 07.12.2026; or by one of `months` on
    the calendar, to the same day of the month."""
    written = [(date, tokens) for date, tokens in dates(answer) if not unsupported.isdisjoint(tokens)]
    if not written:
        return set()
    known = {date for source in sources for date, _ in dates(source)}
    steps = {int(d) for d in durations if d == int(d) and 0 < d <= 366}
    shifted: set[str] = set()
    for date, tokens in written:
        for source_date in known:
            gap = abs((date - source_date).days)
            weekend = {step + 7 - (source_date + datetime.timedelta(step)).weekday() for step in steps}
            apart = abs((date.year - source_date.year) * 12 + date.month - source_date.month)
            if (
                gap in steps
                or (date > source_date and date.weekday() == 0 and gap in weekend)
                # Months and years (`months`, stated in them) move a date by the calendar, not by days: a 2-year
                # warranty from March 3, 2026 ends on March 3, 2028, 731 days on; "30 days" is no month.
                or (apart in months and date.day == source_date.day)
            ):
                shifted.update(tokens)
    return shifted


def clock_moved(answer: str, unsupported: set[str], sources: list[str], durations: set[float]) -> set[str]:
    """The numbers of `unsupported` in a time of day the answer writes that is a source's time of day moved by
    one of `durations` (days): a booking "at 16:00 for 1.5 hours" ends at 17:30."""
    written = [(minute, tokens) for minute, tokens in clock_times(answer) if not unsupported.isdisjoint(tokens)]
    if not written:
        return set()
    known = {minute for source in sources for minute, _ in clock_times(source)}
    steps = {round(d * 1440) for d in durations if 0 < d < 1}
    return {
        token
        for minute, tokens in written
        if any(min(gap := abs(minute - other), 1440 - gap) in steps for other in known)
        for token in tokens
    }


def unit_converted(answer: str, unsupported: set[str], sources: list[str], values: set[float]) -> set[str]:
    """The numbers of `unsupported` written with a unit of length, weight or volume that are a source's value in
    the unit they convert from ("57 km" and "maili 35", "about 35 miles"), or a value of the sources (`values`)
    the answer writes in that unit ("50.3 kg ≈ 110.9 lb" from a fed `weight_kg: 50.3`), to the precision they
    are written."""
    wanted = [(number, unit, factor) for number, unit, factor in conversions(answer) if number in unsupported]
    if not wanted:
        return set()
    known: dict[str, set[float]] = {unit: found & values for unit, found in converted(answer).items()}
    for source in sources:
        for unit, found in converted(source).items():
            known.setdefault(unit, set()).update(found)
    return {
        number
        for number, unit, factor in wanted
        if any(abs(float(r) - v * factor) <= precision(r) + 1e-9 for r in readings(number) for v in known.get(unit, ()))
    }


def operands_of(answer: str, sources: list[str]) -> set[str]:
    """The terms of what the answer works out from its sources (`worked_out`) and states: "4 nights x 10.4 m
    x 4.05 EUR = 168.48 EUR" takes its 4 nights from the question, whatever the sources count."""
    values = set().union(*(all_values(source) for source in sources))
    percentages = set().union(*(by_unit(source).get("%", set()) for source in sources))
    results = worked_out(answer, values, percentages)
    stated = [number for number, _ in measured(answer)]
    return set().union(*(terms for result, terms in results.items() if any(gives({result: terms}, n) for n in stated)))


def gives(results: dict[float, set[str]], number: str) -> bool:
    """Whether `number` is one of `results` to the precision it is written to."""
    return any(abs(float(r) - result) <= precision(r) + 1e-9 for r in readings(number) for result in results)


def charged(unsupported: set[str], claims: dict[str, str], prices: set[float], durations: set[float]) -> set[str]:
    """The sums of money of `unsupported` that are a source's price times a whole number of days or of a unit
    the answer or the question writes (`durations`): a fee a day for the days late ("0.5 yuan a day, 13 days:
    6.5 yuan"; "逾期3天": 1.5元), a rental a week for the weeks booked."""
    whole = {d for d in durations if 2 <= d <= 1000 and d == int(d)}
    return {
        number
        for number in unsupported
        if claims.get(number) == "money"
        and any(abs(float(r) - p * d) <= precision(r) + 1e-9 for r in readings(number) for p in prices for d in whole)
    }


def restated(unsupported: set[str], claims: dict[str, str]) -> set[str]:
    """Durations of `unsupported` the answer states another way too ("3 hafta (21 gün)", "2 years, or 24
    months"): the other is the one checked against the sources."""
    days: dict[float, set[str]] = {}
    for number, unit in claims.items():
        if scale := TIME_UNITS.get(unit):
            for reading in readings(number):
                days.setdefault(round(float(reading) * scale, 6), set()).add(number)
    return {
        number
        for number in unsupported
        if (scale := TIME_UNITS.get(claims.get(number, "")))
        and any(days.get(round(float(reading) * scale, 6), set()) - {number} for reading in readings(number))
    }


# A number and the digit groups right after it: an ID written in groups ("Steuer-ID 47 036 892 815").
_GROUPS = r"(?<![\w.,])%s((?:[ \u00a0]\d{2,4})+)(?![\w.,]\d)"


def grouped(answer: str, number: str, values: set[float]) -> bool:
    """Whether `number` opens digit groups that, joined, are a source's number: `claims` blanks "036 892 815" as
    a phone, leaving "47" of the tax ID "47 036 892 815" a source writes."""
    if not number.isdigit():
        return False
    return any(
        float(number + found.group(1).replace(" ", "").replace("\u00a0", "")) in values
        for found in re.finditer(_GROUPS % re.escape(number), answer)
    )

"""Which of an answer's numbers no source supports, written as it or worked out from its numbers."""

from __future__ import annotations

import re

from detectors.hallucination_parts.arithmetic import (
    charged,
    clock_moved,
    computed,
    gives,
    grouped,
    operands_of,
    precision,
    restated,
    rounded_from,
    shifted_by,
    unit_converted,
    worked_example,
    worked_out,
)
from detectors.json_figures import json_figures, near
from detectors.numbers import (
    MEASURES,
    SMALL_WORDS,
    TIME_UNITS,
    all_values,
    by_unit,
    converted,
    counts,
    identifier_ends,
    labelled,
    measured,
    numbers,
    readings,
    scale_of,
    word_durations,
    words,
)

# An answer that is code (a SQL statement, a fenced block, a program) writes its language's literals
# ("LIMIT 100", "interval '7 days'"), not facts about the sources.
CODE = re.compile(
    r"\s*(?:```|(?:SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER)\s|select\s[^.]*\sfrom\s|import\s"
    r"|from\s\S+\simport\s|def\s\w+\(|function\s|const\s\w+\s=|#include|<\?php)"
)


def _off_tables(unsupported: set[str], claims: dict[str, str], sources: list[str]) -> set[str]:
    """The numbers of `unsupported` that no source's JSON computes (`json_figures`): a total, an average,
    a quotient, or, for a percentage, a share; to the precision the answer writes it."""
    left = set()
    for number in unsupported:
        share = claims.get(number) == "%"
        if not any(
            near(float(reading), json_figures(source)[share], precision(reading))
            for reading in readings(number)
            for source in sources
        ):
            left.add(number)
    return left


def unsupported_numbers(
    answer: str,
    claimed: set[str],
    stated: set[str],
    counted: dict[str, set[str]],
    sources: list[str],
    question: str = "",
) -> tuple[set[str], dict[str, dict[str, list[str]]]]:
    """The answer's numbers no source states nor computes, and its counts the sources count otherwise."""
    values = set().union(*(all_values(source) for source in sources)) if claimed or stated else set()
    unsupported = {n for n in claimed if values.isdisjoint(float(r) for r in readings(n))}
    if any(3 <= len(n) <= 6 and n.isdigit() for n in unsupported):  # the ends of a source's ID, phone or account
        unsupported -= set().union(*map(identifier_ends, sources))
    if unsupported:  # the first group of an ID written in digit groups the sources write
        unsupported = {n for n in unsupported if not grouped(answer, n, values)}
    if unsupported:  # computed from the sources' numbers?
        claims = dict(measured(answer))
        # Counts the answer or the user's question states ("two appliances", "4 servings"; how many they ask for:
        # "38 students", "어른 4명", 4 adults), not quantities ("3 days", "5 EUR") nor dates.
        factors = {float(SMALL_WORDS[word]) for word in words(answer) & SMALL_WORDS.keys()}
        factors |= {
            value
            for token, unit in measured(question)
            if unit and unit not in MEASURES
            for value in map(float, readings(token))
            if value == int(value) and value <= 100
        }
        factors = {
            f for f in factors | {float(t) for t, u in claims.items() if len(t) == 1 and u not in MEASURES} if f >= 2
        }
        units: dict[str, set[float]] = {}
        for source in sources:
            for unit, found in by_unit(source).items():
                units.setdefault(unit, set()).update(found)
            # A length, weight or volume with its unit's word written before it counts that unit too ("bis
            # Kilometer 20": 35 km less it is 15 km).
            for unit, found in converted(source).items():
                units.setdefault(unit, set()).update(found)
        unsupported = {
            n
            for n in unsupported
            if not any(computed(r, claims.get(n, ""), values, units, factors) for r in readings(n))
        }
        stated_durations = units.get("time", set()) | {
            float(r)
            for token, unit in (*claims.items(), *measured(question))
            if unit in TIME_UNITS
            for r in readings(token)
        }
        unsupported -= charged(unsupported, claims, units.get("money", set()), stated_durations)
        unsupported = _off_tables(unsupported, claims, sources)
        unsupported -= worked_example(unsupported, units.get("%", set()), numbers(answer))
        results = worked_out(answer, values, units.get("%", set()))
        unsupported = {n for n in unsupported if not gives(results, n)}
        # A working on the answer's own results, a step at a time ("5,40" for 3 persons at 1,80, then "32 + 6 +
        # 5,40 = 43,40", then a week of seven nights: "303,80"): what it worked out right is a term too, of a
        # sum of what it counts as well ("6,00 EUR plus 5,70 EUR, together 11,70 EUR").
        for _ in range(3):
            if not unsupported or not (done := claimed - unsupported):
                break
            derived = values | {float(r) for n in done for r in readings(n)}
            counting = {unit: set(found) for unit, found in units.items()}
            for n in done:
                if (unit := claims.get(n, "")) and unit not in TIME_UNITS:
                    counting.setdefault(unit, set()).update(float(r) for r in readings(n))
            results = worked_out(answer, derived, units.get("%", set()))
            left = {
                n
                for n in unsupported
                if not gives(results, n)
                and not any(computed(r, claims.get(n, ""), derived, counting, factors) for r in readings(n))
            }
            if left == unsupported:
                break
            unsupported = left
        durations = units.get("time", set()) | by_unit(answer).get("time", set()) | word_durations(answer)
        # Durations stated in months or years, as months: a date moves by them on the calendar.
        months = {
            round(float(r) * (12 if unit == "year" else 1))
            for token, unit in (*claims.items(), *measured(question))
            if unit in ("month", "year")
            for r in readings(token)
            if 0 < float(r) <= 120
        }
        unsupported -= shifted_by(answer, unsupported, sources, durations, months)
        unsupported -= clock_moved(answer, unsupported, sources, durations)
        unsupported -= unit_converted(answer, unsupported, sources, values)
        unsupported -= restated(unsupported, claims)
    stated = {d for d in stated if float(d) not in values}
    if unsupported or stated:  # rounded from a source's value, or from a table's figure to 3 digits at least
        stated_values = tuple(sorted(values))
        amounts, shares = (
            tuple(sorted(set().union(*(json_figures(source)[part] for source in sources)))) for part in (0, 1)
        )
        claims = dict(measured(answer))

        def rounded(number: str) -> bool:
            scale = scale_of(answer, number)
            figures = shares if claims.get(number) == "%" else amounts
            return rounded_from(number, scale, stated_values) or rounded_from(number, scale, figures, least=3)

        unsupported = {n for n in unsupported if not rounded(n)}
        stated = {d for d in stated if not rounded(d)}
    miscounted: dict[str, dict[str, list[str]]] = {}
    if counted:  # counts of a thing the sources count otherwise
        there: dict[str, set[str]] = {}
        labels: dict[str, set[str]] = {}  # digits a line labelled by the thing states ("Days left: 5")
        for source in sources:
            for thing, digits in counts(source).items():
                there.setdefault(thing, set()).update(digits)
            for thing, digits in labelled(source).items():
                labels.setdefault(thing, set()).update(digits)
        operands: set[str] | None = None  # the terms of what the answer works out right (read once needed)
        for thing, digits in counted.items():
            if thing in there and not digits <= there[thing] | labels.get(thing, set()):
                if operands is None:
                    operands = operands_of(answer, sources)
                if digits - operands <= there[thing] | labels.get(thing, set()):
                    continue
                if digits <= _inflected(thing, there):
                    continue
                miscounted[thing] = {"answer": sorted(digits), "sources": sorted(there[thing])}
    miscounted_digits = {d for c in miscounted.values() for d in c["answer"]}
    unsupported.update(d for d in stated if d not in miscounted_digits)
    return unsupported, miscounted


def _inflected(thing: str, there: dict[str, set[str]]) -> set[str]:
    """The digits the sources count of `thing` in another case of its word: the first four letters the same, the
    ending other (Georgian `3 საათს`, `2 საათი` and the answer's `3 საათია`; Finnish `3 tuntia`, `3 tunnin`)."""
    if len(thing) < 5:
        return set()
    return set().union(*(digits for word, digits in there.items() if word[:4] == thing[:4] and len(word) >= 5))

"""A sum of money an answer fed only data states where none of its sources states any: `hallucination`'s
`data_prices` rule (session 26, r6-halluc). The answer speaks of the data (a measure in a unit the data writes:
a meter's kWh), the data prices nothing, so a bill, a fee or a price the answer states was made up."""

from __future__ import annotations

from detectors.numbers import measured, measures, readings, source_values, workings


def unpriced(answer: str, unsupported: set[str], sources: list[str], given: set[str], named: bool = False) -> set[str]:
    """The sums of money of `unsupported` (in no source nor computed from them: `hallucination`'s reading) that
    `answer` states beside a measure in a unit a source writes one in, where no source (prompt, inputs, the data
    before it) writes a sum of money at all. An answer measuring nothing the data measures is another answer (an
    advert's: `task_derailment`'s), and data whose prices are bare figures (`"total": 1245.0`) is read elsewhere. An
    answer restating a figure of `given` (the data's before it, `record_figures`: a collection's date) speaks of
    the data too, measuring or not, and so does one writing a name of the data (`named`: a topic's title): a fee it
    adds ("£35 admin fee" to a bin calendar) was made up all the same; unless it writes one of those figures as money
    or shows a working (the data's prices are bare figures, the sum worked out from them)."""
    sums = {number for number, unit in measured(answer) if unit == "money"} & unsupported
    if not sums or any(unit == "money" for source in sources for _, unit in measured(source)):
        return set()
    priced = {reading for number, unit in measured(answer) if unit == "money" for reading in readings(number)}
    speaks = named or not source_values(answer).isdisjoint(given)
    if speaks and priced.isdisjoint(given) and not any(workings(answer)):
        return sums
    units = {unit for _, unit in measures(answer)}
    if not units or units.isdisjoint(unit for source in sources for _, unit in measures(source)):
        return set()
    return sums

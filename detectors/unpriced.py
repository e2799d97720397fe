"""A sum of money an answer fed only data states where none of its sources states any: `hallucination`'s
`data_prices` rule (session 26, r6-halluc). The data the answer was fed prices nothing (a meter's readings, an
order's status), so a bill, a fee or a price it states was made up, whatever else the answer says."""

from __future__ import annotations

from detectors.numbers import measured


def unpriced(answer: str, unsupported: set[str], sources: list[str]) -> set[str]:
    """The sums of money of `unsupported` (in no source nor computed from them: `hallucination`'s reading) that
    `answer` states where no source (prompt, inputs, the data before it) writes a sum of money at all."""
    sums = {number for number, unit in measured(answer) if unit == "money"} & unsupported
    if not sums or any(unit == "money" for source in sources for _, unit in measured(source)):
        return set()
    return sums

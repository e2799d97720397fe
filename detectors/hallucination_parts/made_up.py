"""An answer fed only data stating the data's measures with values none of it gives: figures made up in its terms."""

from __future__ import annotations

import math
import re

from detectors.hallucination_parts.arithmetic import precision
from detectors.hallucination_parts.known import unknown
from detectors.hallucination_parts.support import unsupported_numbers
from detectors.numbers import all_values, days, measured, numbers, plain, readings

_FIGURE = re.compile(r"\d[\d.,]*\d|\d")
_WORD = re.compile(r"[^\s\d]+")
_PUNCTUATION = ".,;:!?()[]{}\"'«»*/\u2013\u2014-"
# A time of day, after a hyphen too (Hebrew "ל-14:00": until 14:00).
_CLOCK = re.compile(r"(?<![\d:.,])(?:[01]?\d|2[0-3]):[0-5]\d(?![\d:])")


def _beside(text: str) -> dict[str, set[str]]:
    """Each figure of `text` → the words written right before it ("<") and right after it (">"), lower-cased,
    punctuation stripped, to four characters: its unit, currency or label ("<кило" 41.6, 9.79 ">м³", "<eur" 0). The
    side counts: "08:45 with Dr. Sato" labels no figure "with 12 vitamins" states."""
    found: dict[str, set[str]] = {}
    for figure in _FIGURE.finditer(text):
        before = _WORD.findall(text[max(0, figure.start() - 24) : figure.start()])
        after = _WORD.match(text, figure.end()) or _WORD.match(text, figure.end() + 1)
        near = [f"<{before[-1]}"] if before and text[figure.start() - 1 : figure.start()].isspace() else []
        near += [f">{after[0]}"] if after and after.start() - figure.end() <= 1 else []
        # By its first four characters: a word inflected ("বিঘায়" beside the prompt's "বিঘা") is the same term.
        words = {word[0] + word[1:].strip(_PUNCTUATION).lower()[:4] for word in near} - {"<", ">"}
        found.setdefault(figure[0].rstrip(".,"), set()).update(words)
    return found


def figures(answer: str) -> set[str]:
    """The figures (two digits and more) `answer` states, its times of day and dates with their year aside: those are
    read as times and days (`time_findings`, `day_findings`), not as two figures ("07:30" is no 07 and 30)."""
    for day in days(answer):
        answer = answer.replace(day, " ")
    return numbers(_CLOCK.sub(" ", answer))


def percentages(answer: str) -> set[float]:
    """The percentages `answer` states, as fractions (18 % as 0.18)."""
    return {float(r) / 100 for token, unit in measured(answer) if unit == "%" for r in readings(token)}


def two_termed(number: str, terms: frozenset[float] | set[float], shares: set[float], products: bool = True) -> bool:
    """Whether `number` is the sum, the difference, the product or the quotient of two of `terms` (the answer's own
    figures), or one of them with a percentage of `shares` (the answer's) on or off or in a unit a thousand times
    larger or smaller (without `products`, no product: a rate applied the wrong way round stays a figure to read),
    to the place it is written to ("10 sacks at 189: 1890", "1890 and 345, 2235 in all",
    "7x = 92 - 1 = 91", "4,900, with 18 % GST 5,782", "15120 kWh, 15.1 MWh"): a working the answer leaves unshown."""
    own = {float(reading) for reading in readings(number)}  # "23,560" as 23.56 is no term of 23560
    for reading in readings(number):
        value, near = float(reading), precision(reading) + 1e-9
        others = sorted(terms - own - {0.0})
        if any(
            min(
                abs(a + b - value), abs(a - b - value), abs(a * b - value) if products else near + 1, abs(a / b - value)
            )
            <= near
            for a in others
            for b in others
        ):
            return True
        factors = {0.001, 1000.0} | {f for s in shares for f in (s, 1 + s, 1 - s)}  # a metric prefix: kWh as MWh
        if any(abs(a * f - value) <= near for a in others for f in factors):
            return True
    return False


def made_up(
    answer: str, candidates: set[str], sources: list[str], prompt: str, question: str, known: dict[str, None]
) -> set[str]:
    """The figures of `candidates` (an answer's, two digits and more, none written in a source) that no source computes
    either, when there are two and more of them and the answer restates a figure of its prompt (the question's aside)
    or writes one of them beside a word its prompt writes a figure beside, on the same side: the data's measure
    ("412.5 kg" for the prompt's "41.6 kg"), price or total stated with values none of it gives (a bill of "23,560"
    for "18.4 m³" where the data's meter read 9.79 m³). Two figures the answer states worked into a third are its
    working (`two_termed`), a measure's total over its prompt's lines its sum. Two figures made up, not one: a figure a
    right answer works out in a way not read (a formula of the prompt's) is seldom in company. An answer written in
    none of the data's terms (an advert's "70 %") is another answer (task_derailment's)."""
    made, _ = unsupported_numbers(answer, candidates, set(), {}, sources, question)
    if made and known:
        made = unknown(made, answer, known, sources)
    if len(made) < 2:
        return set()
    # A measure's total over its prompt's lines ("about 2 710 kWh" on each of four faces: "about 12 630 kWh"), about;
    # the prompt's only: the loop's pages before it, each holding the last's rows, total anything.
    pairs = measured(prompt)
    totals = {
        math.fsum(float(max(readings(t), key=float)) for t, u in pairs if u == unit)
        for unit in {unit for _, unit in pairs} - {""}
    }
    made = {f for f in made if not any(abs(float(r) - t) <= 0.01 * float(r) for r in readings(f) for t in totals)}
    stated, shares = set(all_values(answer)), percentages(answer)
    made = {figure for figure in made if not two_termed(figure, stated, shares)}
    if len(made) < 2:
        return set()
    if not (plain(answer) - plain(question)).isdisjoint(plain(prompt)):
        return made  # it restates a figure of its prompt: it speaks of the data
    terms = set().union(*_beside(prompt).values())
    beside = _beside(answer)
    if any(beside.get(figure, set()) & terms for figure in made):
        return made
    # Or one counting what the prompt's figures count, however written ("17,90 €" for the prompt's "59.9 EUR").
    counted = {unit for _, unit in measured(prompt)} - {""}
    return made if any(unit in counted for token, unit in measured(answer) if token in made) else set()

"""`hallucination`: an LLM answer grounded in sources states numbers found in none of them.

Only answers that had sources are checked: a retrieval earlier in the run, a prompt carrying context, or a
prompt fed data (a number of a run input other than the user's question, or of an earlier tool, HTTP, code
or iteration node's output, in the prompt); creative writing is left alone. A number counts as supported
when its value appears anywhere in the LLM's prompt, the run's inputs, the retrieved documents or the values its
if-else nodes compared with, or the app's earlier runs' documents and answers stated it counting the same (and the
run's own sources count nothing of that kind): written
with either decimal separator ("14,90" and "14.90"), with thousands separators or without, as a number word
("fourteen", "catorce", "十四"), converted between time units ("2 years" as "24 months") or rounded
("437,000", "0.44 million" for 437,303.42); or when it is computed from them (two numbers and more: a sum, a
difference, a multiple by a count the answer or the question states, a share per unit or a percentage, a
worked example at a source's rate, a working the answer shows, a rate times a quantity of what it is per, a
value less or more a source's percentage, a multiple plus a fee per group started, a date or a time of day
moved by a stated duration, a length, weight or volume converted from a source's unit, and a fed JSON table's
totals, averages, shares and quotients: `json_figures`). Single digits
are checked as quantities ("6 seconds", "8%", "7小时") against the sources' numbers, and as counts ("5 saunas")
against the sources' count of the same thing.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import itertools
import math
import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import (
    QUERY_KEYS,
    DetectorConfig,
    Finding,
    ProcessMemory,
    Trace,
    answer_text,
    attr,
    json_attr,
    prompt_text,
    span_id,
    user_query,
)
from detectors.json_figures import json_figures, near
from detectors.numbers import (
    LENGTH_WORDS,
    MEASURES,
    RANGE,
    SMALL_WORDS,
    TIME_UNITS,
    all_values,
    ascii_digits,
    by_unit,
    claims,
    clock_times,
    conversions,
    converted,
    counts,
    dates,
    days,
    identifier_ends,
    labelled,
    lengths,
    measured,
    measures,
    numbers,
    plain,
    quantities,
    quantities_of,
    rates,
    readings,
    scale_of,
    source_values,
    word_durations,
    words,
    workings,
    writes_a_day,
)
from detectors.rag_poisoning import signals
from detectors.unpriced import unpriced

KEY = "hallucination"
# An answer that is code (a SQL statement, a fenced block, a program) writes its language's literals
# ("LIMIT 100", "interval '7 days'"), not facts about the sources.
_CODE = re.compile(
    r"\s*(?:```|(?:SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER)\s|select\s[^.]*\sfrom\s|import\s"
    r"|from\s\S+\simport\s|def\s\w+\(|function\s|const\s\w+\s=|#include|<\?php)"
)
# A record's code: capitals, a dash, digits ("RE-5521", "SC-2026-004512").
_RECORD_CODE = re.compile(r"\b[A-Z]{1,4}-\d[\d-]*")
# Node types whose output is data an LLM may be fed (a tool's answer, an API body, a computed value).
_DATA_NODES = ("tool", "http-request", "code", "iteration", "loop", "template-transform", "variable-aggregator")


# The figures an app's knowledge holds beyond what one run retrieves: the numbers of the documents its earlier runs
# retrieved, and of its earlier answers from documents or a context that stated none unsupported (a knowledge base
# answered from turns up across runs: a fee one run retrieved, another states from a segment it did not), each with
# what it counts (`_figures`: a knowledge base's 25 m pool and 25 EUR return support no 25 kg). Per app, in process
# memory (learned again after a restart), the newest `_FIGURES_KEPT` kept.
_KNOWN: ProcessMemory[dict[str, None]] = ProcessMemory(dict, 1000)
_FIGURES_KEPT = 5000


@functools.lru_cache(maxsize=1024)  # a knowledge base's segments come back run after run
def _figures(text: str) -> frozenset[str]:
    """Every reading of every number in `text` with what it counts ("90|money", "6|month")."""
    return frozenset(f"{reading}|{unit}" for token, unit in measured(text) for reading in readings(token))


@functools.lru_cache(maxsize=1024)
def _orders(document: str) -> bool:
    """Whether a retrieved document carries instructions addressed to a model (a notice telling the assistant what to
    say): its figures are an attacker's, no fact of the app's knowledge."""
    return bool(signals(document))


def _learn(trace: Trace, figures: frozenset[str]) -> None:
    known = _KNOWN.of(trace.baselines, trace.app)
    if not figures <= known.keys():
        with _KNOWN.lock:
            known.update(dict.fromkeys(figures))
            for figure in list(itertools.islice(known, max(len(known) - _FIGURES_KEPT, 0))):
                del known[figure]


def _unknown(unsupported: set[str], answer: str, known: dict[str, None], sources: list[str]) -> set[str]:
    """The numbers of `unsupported` the app's earlier runs did not state counting the same (`_KNOWN`), or that
    count what the run's own sources count too: where the run retrieved a thing's figures ("refunds within 5
    business days"), the answer's ("within 10 business days") must agree with them, whatever other runs held."""
    units = dict(measured(answer))
    counted = {"time" if unit in TIME_UNITS else unit for source in sources for unit in by_unit(source)}
    return {
        number
        for number in unsupported
        if ("time" if (unit := units.get(number, "")) in TIME_UNITS else unit) in counted
        or not any(f"{reading}|{unit}" in known for reading in readings(number))
    }


class Config(DetectorConfig):
    # On by default since session 22 (below); off before (issue 25: a detector over 1 % of clean held-out runs
    # flagged ships disabled). Session 18 read
    # what made held-out 5's and 6's clean answers look unsupported (counts written as words, currencies written
    # first, times of day and durations in other notations, phone numbers and links); held-out 7, scored untouched
    # after, had 12.6 % (docs/detectors.md). Session 20 read the figures right answers work out (a working shown, a
    # rate times a quantity, a share off, a date moved, a unit converted): held-out 7 0.2 %, 8 1.5 %. Session 21 read
    # the real recordings' 7 clean alarms (the app's figures of earlier runs, a booking's end time, an if-else's
    # limit) and held-out 8's (a fee per group started, 30,000원입니다 as money, dimensions in inches): every
    # development corpus at most 0.4 % with it on, but held-out 10, scored blind, 2.0 % (10 of 503). Session 22: a
    # fee a day times the days, held-out 10 0 %; then held-out 11 and the fifth real recording, scored blind: 1 of
    # 551 and 0 of 40 clean runs flagged, so it ships on. The one clean real answer it flags states printer prices
    # of a segment no run retrieved (faults3's faq_clean_8), which we read as an answer its run was not given.
    enabled: bool = True
    # Fire at this many unsupported numbers in one answer.
    min_unsupported: int = Field(default=1, ge=1)
    # Also check answers whose only sources are data fed into the prompt (a run input other than the question,
    # an earlier tool, HTTP or code node's output). Off by default: with fed tables' totals, averages, shares and
    # quotients read (`json_figures`) it flagged no clean run of the corpora it was written from, but 3.5 % of
    # held-out 5's, scored untouched, and 23 % of held-out 6's (a tutor's worked sums, a solar quote's yields
    # from a formula in the prompt: answers fed data compute more than is read; docs/detectors.md).
    data_fed: bool = False
    # With `data_fed` off, still check an answer fed only data for a sum of money stated in place of a figure of its
    # data (`_substituted`, session 23): the real recordings' wrong totals and invented prices (7 more found, no
    # clean run flagged on any corpus or recording), but held-out 11 labels the same shape (a code node's
    # compensation restated wrong) `state_corruption`: 15 of its runs so labelled get this finding too. Also read: a
    # length, weight or volume in place of one the data writes with its unit (det-halluc8: `fleet_invented`).
    data_money: bool = True
    # Check every answer for a figure of the data restated with the unit it is mistaken for (the API's `81 F` as
    # `81 C`, `12 km` as `12 mi`: `_rescaling`, session 23): the figure is kept, so no other rule sees it.
    data_units: bool = True
    # Check an answer fed only data for a time to the minute (`11:40`; whole hours are worked out from slots) where
    # none of its sources writes a time of day (`_timed`, session 23): the data timed nothing, the minute is made up;
    # and an answer without documents or context for a range of times with one end moved from its prompt's range
    # to a time no source gives (`_range_moved`, session 24). Session 26: times in any script's digits ("৩:৩০"), and a
    # calendar day ("12月21日", "2026-12-21") where no source writes a day (`_dated`: an invented due date).
    data_times: bool = True
    # Check an answer fed only data for a figure written after the word its prompt writes another after, the
    # prompt's unsaid and the answer's in no source (`_swapped`, session 24): the data's value restated with another.
    data_swaps: bool = True
    # Check an answer with no document, context or data whose system message states the app's facts with figures
    # for a sum of money, a time to the minute, or a duration in a time unit it states one in, none of its prompt
    # gives (`_told`, session 24).
    prompt_facts: bool = True
    # With `data_fed` off, still check an answer fed only data for a percentage in no source nor computed from them
    # where no source states a percentage or a rate (`_shares`, session 25: held-out 14's "10 % bonus" on a top-up
    # receipt, "99.2 % efficiency" in a daily report).
    data_shares: bool = True
    # With `data_fed` off, still check an answer fed only data for a sum of money in no source nor computed from them
    # where no source states a sum of money at all (`detectors/unpriced.py`, session 26: held-out 16's meter desk
    # billing "1.487 kr." from readings that price nothing).
    data_prices: bool = True
    # Also check an answer after a knowledge retrieval that brought nothing back (its context empty) as one grounded
    # in documents: a figure it states is one the knowledge base did not give it (faults10's `sund_ungrounded_age`,
    # `sund_hours_as_price`). Off by default: the earlier real recordings label the business's true hours or limits
    # so answered clean (5 of their clean runs flagged with it on, session 26: docs/detectors.md).
    empty_context: bool = False


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


def _data(trace: Trace, bodies: bool) -> list[tuple[int, str]]:
    """What the run computed or fetched, by end time (an output exists once its node ended: a container's
    output, which holds what the LLMs inside it wrote, is no source for them): its tool, HTTP, code and
    container outputs; with `bodies`, an HTTP node's response headers left out (`_HEADERS`: the transport's date and
    lengths, whose digits supported a made-up "10 %"; session 25, for the readings of answers fed only data: with
    `data_fed` on, whose clean alarms are measured with them, they stay)."""
    return sorted(
        (node.end_time or node.start_time or 0, _strip(str(attr(node, "output.value") or ""), bodies))
        for node in trace.nodes
        if attr(node, "dify.node.type") in _DATA_NODES
    )


def _strip(output: str, bodies: bool) -> str:
    return _HEADERS.sub("", output) if bodies else output


def _rounds(trace: Trace) -> str:
    """The round numbers of the run's loops and iterations ("round 11", "40 parcels tracked" are counts)."""
    rounds = [attr(container, "dify.container.rounds") for container in trace.of_type("loop", "iteration")]
    return ", ".join(str(i) for r in rounds if isinstance(r, int) for i in range(1, min(r, 1000) + 1))


def _limits(trace: Trace) -> str:
    """The values the run's if-else nodes compared with ("total > 1000"): the app's own limits, which an answer
    names ("over the 1000 EUR limit") though no prompt holds them."""
    limits = []
    for node in trace.of_type("if-else"):
        inputs = json_attr(node, "input.value")
        conditions = inputs.get("conditions") if isinstance(inputs, dict) else None
        if isinstance(conditions, list):
            limits += [str(c.get("expected_value")) for c in conditions if isinstance(c, dict)]
    return ", ".join(limits)


def _fed(trace: Trace, prompt: str, data: list[str]) -> bool:
    """Whether the LLM's prompt was fed data: a number (two digits and more) of a run input other than the
    user's question, or of `data`, that the question does not hold. In a run input a record's code ("RE-5521")
    names what the user asks about: its number is no figure fed (a node's output in the prompt is data)."""
    root = trace.root
    inputs = json_attr(root, "input.value") if root is not None else None
    fed = set().union(*(source_values(output) for output in data))
    asked: set[str] = set()
    if isinstance(inputs, dict):
        for key, value in inputs.items():
            if key in QUERY_KEYS:
                asked |= source_values(str(value))
            elif not key.startswith("sys."):
                fed |= source_values(_RECORD_CODE.sub(" ", str(value)))
    fed -= asked
    return bool(fed) and not fed.isdisjoint(source_values(prompt))


def _precision(reading: str) -> float:
    """Half the last digit a number is written to: how far what it rounds may lie ("27" for 27.3)."""
    return 0.5 * 10.0 ** -len(reading.partition(".")[2])


def _off_tables(unsupported: set[str], claims: dict[str, str], sources: list[str]) -> set[str]:
    """The numbers of `unsupported` that no source's JSON computes (`json_figures`): a total, an average,
    a quotient, or, for a percentage, a share; to the precision the answer writes it."""
    left = set()
    for number in unsupported:
        share = claims.get(number) == "%"
        if not any(
            near(float(reading), json_figures(source)[share], _precision(reading))
            for reading in readings(number)
            for source in sources
        ):
            left.add(number)
    return left


def _rounded(number: str, scale: float, values: tuple[float, ...], least: int = 2) -> bool:
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


def _worked_example(unsupported: set[str], rates: set[float], stated: set[str]) -> set[str]:
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


def _worked_out(answer: str, values: set[float], percentages: set[float]) -> dict[float, set[str]]:
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


def _shifted(answer: str, unsupported: set[str], sources: list[str], durations: set[float]) -> set[str]:
    """The numbers of `unsupported` in a date the answer writes that is a source's date moved by one of
    `durations` (days), on to the Monday when it falls on a weekend: "10 days before the hearing on October 6,
    2026" is September 26, 2026; two weeks after 22.11.2026 is a Sunday, so 07.12.2026."""
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
            if gap in steps or (date > source_date and date.weekday() == 0 and gap in weekend):
                shifted.update(tokens)
    return shifted


def _clock_moved(answer: str, unsupported: set[str], sources: list[str], durations: set[float]) -> set[str]:
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


def _converted(answer: str, unsupported: set[str], sources: list[str], values: set[float]) -> set[str]:
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
        if any(
            abs(float(r) - v * factor) <= _precision(r) + 1e-9 for r in readings(number) for v in known.get(unit, ())
        )
    }


def _operands(answer: str, sources: list[str]) -> set[str]:
    """The terms of what the answer works out from its sources (`_worked_out`) and states: "4 nights x 10.4 m
    x 4.05 EUR = 168.48 EUR" takes its 4 nights from the question, whatever the sources count."""
    values = set().union(*(all_values(source) for source in sources))
    percentages = set().union(*(by_unit(source).get("%", set()) for source in sources))
    results = _worked_out(answer, values, percentages)
    stated = [number for number, _ in measured(answer)]
    return set().union(*(terms for result, terms in results.items() if any(_gives({result: terms}, n) for n in stated)))


def _gives(results: dict[float, set[str]], number: str) -> bool:
    """Whether `number` is one of `results` to the precision it is written to."""
    return any(abs(float(r) - result) <= _precision(r) + 1e-9 for r in readings(number) for result in results)


def _charged(unsupported: set[str], claims: dict[str, str], prices: set[float], durations: set[float]) -> set[str]:
    """The sums of money of `unsupported` that are a source's price times a whole number of days or of a unit
    the answer or the question writes (`durations`): a fee a day for the days late ("0.5 yuan a day, 13 days:
    6.5 yuan"; "逾期3天": 1.5元), a rental a week for the weeks booked."""
    whole = {d for d in durations if 2 <= d <= 1000 and d == int(d)}
    return {
        number
        for number in unsupported
        if claims.get(number) == "money"
        and any(abs(float(r) - p * d) <= _precision(r) + 1e-9 for r in readings(number) for p in prices for d in whole)
    }


def _restated(unsupported: set[str], claims: dict[str, str]) -> set[str]:
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


def _grouped(answer: str, number: str, values: set[float]) -> bool:
    """Whether `number` opens digit groups that, joined, are a source's number: `claims` blanks "036 892 815" as
    a phone, leaving "47" of the tax ID "47 036 892 815" a source writes."""
    if not number.isdigit():
        return False
    return any(
        float(number + found.group(1).replace(" ", "").replace("\u00a0", "")) in values
        for found in re.finditer(_GROUPS % re.escape(number), answer)
    )


def _unsupported(
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
        unsupported = {n for n in unsupported if not _grouped(answer, n, values)}
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
        unsupported -= _charged(unsupported, claims, units.get("money", set()), stated_durations)
        unsupported = _off_tables(unsupported, claims, sources)
        unsupported -= _worked_example(unsupported, units.get("%", set()), numbers(answer))
        results = _worked_out(answer, values, units.get("%", set()))
        unsupported = {n for n in unsupported if not _gives(results, n)}
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
            results = _worked_out(answer, derived, units.get("%", set()))
            left = {
                n
                for n in unsupported
                if not _gives(results, n)
                and not any(computed(r, claims.get(n, ""), derived, counting, factors) for r in readings(n))
            }
            if left == unsupported:
                break
            unsupported = left
        durations = units.get("time", set()) | by_unit(answer).get("time", set()) | word_durations(answer)
        unsupported -= _shifted(answer, unsupported, sources, durations)
        unsupported -= _clock_moved(answer, unsupported, sources, durations)
        unsupported -= _converted(answer, unsupported, sources, values)
        unsupported -= _restated(unsupported, claims)
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
            return _rounded(number, scale, stated_values) or _rounded(number, scale, figures, least=3)

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
                    operands = _operands(answer, sources)
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


# The result of a working the answer shows ("5000 * 0.75 = 3748"): arithmetic the reader sees, right or wrong.
_SHOWN_RESULT = re.compile(r"[\u00d7*·÷/\u2212+][^=\n]*=\s?(?:[^\W\d_]{1,3}\s?|[€$£¥₹₩₽₪]\s?)?(\d[\d.,]*\d|\d)")


# A figure right after a word ("الجمركية 277.65", "Total: 1020"): the slot the word names.
_SLOT = re.compile(r"([^\W\d_]{3,}):?\s?(\d[\d.,]*\d|\d)")


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


def _substituted(answer: str, unsupported: set[str], outputs: list[str], prompt: str) -> dict[str, float]:
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
        if any(abs(float(r) - m) <= _precision(r) + 1e-9 for r in readings(number) for m in made):
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


# A figure and its unit, as text writes it ("81 °F", "19 C", "30℃", "12 km", "5 lb") and as an API's fields name it
# ("temp_c": 19, "distance_km": 12; "value": 81, "unit": "F"): temperature scales, km and miles, kg and pounds (the
# pairs a model swaps keeping the number); the degree sign alone says no scale ("81 degrees" is left alone). Each
# unit with the one a model mistakes it for.
_FIGURE_UNIT = re.compile(
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
    found = {(float(m[1].replace(",", ".")), _unit(m[2] or m[3] or m[4])) for m in _FIGURE_UNIT.finditer(text)}
    if "{" in text:
        unquoted = text.replace("\\", "")  # an API's body inside a node's output is a JSON string within JSON
        found |= {(float(m[2]), _unit(m[1])) for m in _UNIT_KEY.finditer(unquoted)}
        for block in _OBJECT.findall(unquoted):
            if len(units := {_unit(m) for m in _UNIT_VALUE.findall(block)}) == 1:  # one unit names the object's figures
                unit = units.pop()
                found |= {(float(v), unit) for v in _FIELD_NUMBER.findall(block)}
    return found


# A time of day as hours and minutes, not within a longer time ("05:02:21") nor a figure ("1.11:40").
_HOUR_MINUTE = re.compile(r"(?<![\d:.,/-])(?:[01]?\d|2[0-3]):[0-5]\d(?![\d:])")
# Any time of day a source writes, with seconds too ("2026-03-09T11:40:02").
_TIME_GIVEN = re.compile(r"(?<!\d)(?:[01]?\d|2[0-3]):[0-5]\d(?!\d)")
# An HTTP node's response headers (Dify's `headers` output): the transport's `date`, no time the data gives.
_HEADERS = re.compile(r'"headers":\s*\{[^{}]*\}')


def _timed(
    trace: Trace, data: list[tuple[int, str]], span: ReadableSpan, answer: str, inputs: str
) -> Iterator[Finding]:
    """A finding where `answer`, fed data (`_fed`), states a time of day and neither its prompt, the run's inputs
    nor the data before it writes any: an hour no source gave (a delivery's "11:40" from events that bear no time).
    A whole hour ("10:00 to 13:00") is what an answer works out from a slot's hours and durations: only a time to
    the minute is read. An answer fed nothing (an empty retrieval) answers from the model's knowledge: left alone."""
    prompt = prompt_text(span)
    outputs = [output for end, output in data if end <= (span.start_time or 0)]
    sources = [ascii_digits(_HEADERS.sub("", source)) for source in (inputs, prompt, *outputs)]
    times = [t for t in _HOUR_MINUTE.findall(answer) if not t.endswith(":00")]
    if not times:
        return
    given = {_minutes(t) for source in sources for t in _TIME_GIVEN.findall(source)}
    if not given and _fed(trace, prompt, outputs):
        yield _data_finding(
            span, 0.7, f"states the time {', '.join(times)} though none of its sources gives a time of day",
            "a time of day in an answer fed data where no source gives one", answer, unsupported=times,
        )  # fmt: skip
        return
    # Where the data times its items (slots, departures: two times and more), a time to the minute none writes, nor a
    # source's time moved by a duration a source or the answer states (`_clock_moved`), is an item the answer added.
    # A time written on a 12-hour clock ("বিকেল ৩:৩০", "2:30 pm") is the afternoon's as well: 2:30 is 14:30's.
    afternoon = {minutes % 720 for minutes in given}
    made = [t for t in times if _minutes(t) % 720 not in afternoon] if len(given) >= 2 else []
    if made and (timed := {token for t in made for token in t.split(":")}):
        durations = set().union(*(by_unit(source).get("time", set()) for source in (*sources, answer)))
        moved = _clock_moved(answer, timed, sources, durations)
        made = [t for t in made if not set(t.split(":")) <= moved]
    if made and _fed(trace, prompt, outputs):
        yield _data_finding(
            span, 0.7, f"states the time {', '.join(made)}, which none of its sources' times of day is",
            "a time of day in an answer fed data that times its items is in none of them", answer, unsupported=made,
        )  # fmt: skip


def _dated(
    trace: Trace, data: list[tuple[int, str]], span: ReadableSpan, answer: str, stated: list[str], inputs: str
) -> Iterator[Finding]:
    """A finding where `answer`, fed data (`_fed`) states a calendar day (`stated`: "12月21日", "2026-12-21") and
    neither its prompt, the run's inputs nor the data before it writes any day in any notation: a due date or a
    slot no source dated (`_timed`'s reading of times, for days). An answer fed nothing is left alone there."""
    prompt = prompt_text(span)
    outputs = [output for end, output in data if end <= (span.start_time or 0)]
    if any(writes_a_day(ascii_digits(_HEADERS.sub("", source))) for source in (inputs, prompt, *outputs)):
        return
    if _fed(trace, prompt, outputs):
        yield _data_finding(
            span, 0.7, f"states the day {', '.join(stated)} though none of its sources gives a date",
            "a calendar day in an answer fed data where no source gives one", answer, unsupported=stated,
        )  # fmt: skip


# A figure in a slot after a word, as a label or a name writes one ("Model of the memorial (1968)", "Total: 1020"):
# the word, a bracket, a colon or a dash, then the figure (two digits and more); "about 14,180" is no slot.
_AFTER_WORD = re.compile(r"([^\W\d_]{3,}) ?[(:\uff1a\u2013\u2014-] ?(\d[\d.,]*\d)(?!\d|[\s.,]\d)")


def _swapped(
    trace: Trace, data: list[tuple[int, str]], span: ReadableSpan, answer: str, inputs: str, question: str
) -> Iterator[Finding]:
    """A finding where `answer`, fed data (`_fed`) and restating some of it, writes a figure after the very word its
    prompt writes another after, half to twice it, the prompt's left unsaid and the answer's in no source nor
    computed from them: the data's value restated in its own place with another ("mānrakert (1968)" captioned
    "mānrakert (1991)"), a figure swapped."""
    prompt = claims(prompt_text(span))
    given: dict[str, set[str]] = {}
    for match in _AFTER_WORD.finditer(prompt):
        given.setdefault(match[1].lower(), set()).add(match[2])
    said = plain(answer)
    swapped = {
        match[2]: figure
        for match in _AFTER_WORD.finditer(answer)
        for figure in given.get(match[1].lower(), ())
        if said.isdisjoint(readings(figure)) and _akin(match[2], figure)
    }
    if not swapped:
        return
    outputs = [output for end, output in data if end <= (span.start_time or 0)]
    if said.isdisjoint(set().union(*map(plain, outputs))):  # restates none of its data: another answer
        return
    sources = [inputs, prompt, *outputs, _rounds(trace), _limits(trace)]  # a round's number is the workflow's
    unsupported, _ = _unsupported(answer, set(swapped), set(), {}, sources, question)
    if unsupported and _fed(trace, prompt, outputs):
        swapped = {number: swapped[number] for number in sorted(unsupported)}
        yield _data_finding(
            span, 0.75, f"states {', '.join(swapped)} where its prompt gives {', '.join(swapped.values())}",
            "a figure of the data restated after the same word with another value no source gives", answer,
            swapped=swapped,
        )  # fmt: skip


def _told(span: ReadableSpan, inputs: str, root: ReadableSpan | None) -> Iterator[Finding]:
    """A finding where an answer with no document, context or data, whose system message states the app's facts
    with figures ("a meter check takes 5 working days"), states a sum of money or a time of day to the minute that
    neither its prompt nor the run's inputs give nor compute: a refund or an appointment the app never stated."""
    system = str(attr(span, "llm.input_messages.0.message.content") or "")
    if attr(span, "llm.input_messages.0.message.role") != "system" or not any(map(str.isdigit, system)):
        return  # most chat prompts state no figure: read no further
    answer = answer_text(span)
    stating = claims(answer)
    # Sums of money, and durations in a time unit the system message states one in ("14 gün" where it says 29 gün).
    durations = by_unit(system).keys() & TIME_UNITS.keys()
    money = {token for token, unit in measured(stating) if unit == "money" or unit in durations}
    times = {t for t in _HOUR_MINUTE.findall(answer) if not t.endswith(":00")}
    if not (money or times) or _CODE.match(answer) or not plain(claims(system)):
        return
    question = (user_query(root) or "") if root is not None else ""
    sources = [prompt_text(span), inputs, question]
    given = set().union(*map(plain, sources))
    money = {token for token in money if given.isdisjoint(readings(token))}
    if money:
        money, _ = _unsupported(stating, money, set(), {}, sources, question)
    # Where the facts state sums, a sum far from all of them (`_akin`) is another offer, not one of theirs changed:
    # an advert's "bonus 200 EUR" against a 65 EUR trip (task_derailment's).
    if money and (sums := [token for token, unit in measured(claims(system)) if unit == "money"]):
        money = {token for token in money if any(_akin(token, figure) for figure in sums)}
    made = money | {t for t in times if not any(t in source for source in sources)}
    if made:
        yield _data_finding(
            span, 0.7, f"states {', '.join(sorted(made))}, which its prompt's facts neither give nor compute",
            "a sum of money, a duration or a time of day in an answer from its prompt's facts is in none of them",
            answer, unsupported=sorted(made),
        )  # fmt: skip


# A range of times of day ("09:00至18:00", "13:00-19:00", "9:00 to 17:30").
_TIME_RANGE = re.compile(
    r"(?<![\d:.,/-])((?:[01]?\d|2[0-3]):[0-5]\d)(?:" + RANGE + r")((?:[01]?\d|2[0-3]):[0-5]\d)(?![\d:])"
)


def _minutes(time: str) -> int:
    hours, _, minutes = time.partition(":")
    return 60 * int(hours) + int(minutes)


def _range_moved(span: ReadableSpan, answer: str, inputs: str) -> Iterator[Finding]:
    """A finding where `answer`, from a prompt without documents, writes a range of times of day sharing one end with
    a range its prompt or the run's inputs write, the other end at a time none of them gives nor a stated duration
    from the shared end reaches: the notice's "09:00至18:00" rewritten "09:00至20:00", an end moved."""
    sources = [prompt_text(span), inputs]
    ranges = {tuple(map(_minutes, found)) for source in sources for found in _TIME_RANGE.findall(source)}
    if not ranges:
        return
    given = {_minutes(t) % 720 for source in sources for t in _TIME_GIVEN.findall(source)}
    lasting = {round(days * 1440) for source in sources for days in by_unit(source).get("time", ())}
    moved = [
        f"{start_at}-{end_at}"
        for start_at, end_at in _TIME_RANGE.findall(answer)
        for start, end in [(_minutes(start_at), _minutes(end_at))]
        for shared, other in ((start, end), (end, start))
        if other % 720 not in given
        and abs(end - start) not in lasting
        and any(shared in pair and other not in pair for pair in ranges)
    ]
    if moved:
        yield _data_finding(
            span, 0.75, f"states {', '.join(moved)}, a range of times its prompt writes with another end",
            "a range of times of day in an answer restates its prompt's with an end no source gives", answer,
            unsupported=moved,
        )  # fmt: skip


def _akin(number: str, figure: str) -> bool:
    """Whether `number` lies within half to twice `figure` in some reading of each: a value put in another's place."""
    return any(0.5 * float(b) <= float(a) <= 2 * float(b) for a in readings(number) for b in readings(figure))


def _discounted(answer: str, unsupported: set[str], sources: list[str]) -> dict[str, list[float]]:
    """The sums of money of `unsupported` that are a source's figure less a percentage the answer states and no
    source does, each with that figure and percentage: a reduction nobody granted ("a 15 % discount: you pay
    867.00" on the data's 1020.00). A percentage added (a tax the model knows) is left alone."""
    stated = dict(measured(answer))
    values = set().union(*(all_values(source) for source in sources))
    shares = {
        float(r) for token, unit in stated.items() if unit == "%" for r in readings(token) if 0 < float(r) < 100
    } - values
    return {
        number: [figure, share]
        for number in sorted(unsupported)
        if stated.get(number) == "money"
        for r in readings(number)
        for figure in values
        for share in shares
        if figure > 0 and abs(figure * (1 - share / 100) - float(r)) <= _precision(r) + 1e-9
    }


def _shares(answer: str, unsupported: set[str], sources: list[str], outputs: list[str]) -> set[str]:
    """The percentages of `unsupported` (in no source nor computed from them) an answer fed only data states where no
    source states a percentage or a rate (a fraction below 1): the data holds no share, the answer's is made up ("10 %
    bonus" on a top-up receipt). A source's rate ("0.15") the answer may state as a percentage it computes otherwise."""
    stated = measured(answer)
    shares = {number for number, unit in stated if unit == "%"} & unsupported
    if shares and plain(answer).isdisjoint(set().union(*map(source_values, outputs))):
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


def _data_finding(span: ReadableSpan, confidence: float, says: str, rule: str, answer: str, **seen: object) -> Finding:
    """A finding on the LLM `span` whose `answer` `says` what its data does not: `seen`, the figures compared."""
    node = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", confidence, f"LLM node '{node}' {says}; check the answer against its data.",
        {"node": node, "rule": rule, **seen, "answer": answer[:200]}, span_id(span),
    )  # fmt: skip


def _rescaling(data: list[tuple[int, str]], span: ReadableSpan, answer: str) -> Iterator[Finding]:
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
        yield _data_finding(
            span, 0.8, f"states {', '.join(rescaled)} where its data gives {', '.join(rescaled.values())}",
            "a figure of the data restated with the unit it is mistaken for", answer, rescaled=rescaled,
        )  # fmt: skip


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        # On lines of their own: a space between digit groups joins them into one number ("12 345").
        documents = "\n".join(content for _, _, content in trace.documents)
        shared: set[str] | None = None  # numbers of the documents and the run's inputs, read once an answer has any
        root = trace.root
        inputs = str(attr(root, "input.value") or "") if root is not None else ""
        # The run's data (tool, HTTP, code, container outputs) by end time, read once an answer needs it; the
        # LLMs are taken in start order, so what each had before it grows by one pass over the data.
        data: list[tuple[int, str]] | None = None
        outputs: list[str] = []  # the data before the LLM at hand
        written: set[str] = set()  # the numbers of `outputs` and of `workflow`, as written
        workflow = ""  # what the workflow itself counts and compares: its round numbers, its if-else limits
        known = _KNOWN.of(trace.baselines, trace.app)  # the app's figures from earlier runs
        told: list[str] = []  # answers from documents or a context, this run, with nothing unsupported
        has_data: bool | None = None  # whether `data_money` reads answers fed only data here (the run has data nodes)
        fetched: list[list[tuple[int, str]]] = []  # the run's data, read once `data_units` or an answer needs it
        bodies = not cfg.data_fed  # HTTP headers left out of it (`_data`)
        # A retrieval that brought nothing back grounds the LLMs after it all the same: their context was empty, so a
        # figure they state is one the knowledge base did not give them (an age limit answered from no document).
        searched = None
        if cfg.empty_context and not documents:
            searched = min((r.end_time or 0 for r in trace.of_type("knowledge-retrieval")), default=None)
        for span in sorted(trace.llm_spans, key=lambda llm: llm.start_time or 0):
            said = str(attr(span, "llm.output_messages.0.message.content") or "")
            if cfg.data_units and _FIGURE_UNIT.search(said) and (fetched := fetched or [_data(trace, bodies)])[0]:
                yield from _rescaling(fetched[0], span, said)
            grounded = (
                bool(documents)
                or "#context#" in str(attr(span, "input.value") or "")
                or (searched is not None and (span.start_time or 0) >= searched)
            )
            if not grounded and cfg.data_times and said.count(":") > 1 and _TIME_RANGE.search(said):
                yield from _range_moved(span, claims(said), inputs)
            if not (grounded or cfg.data_fed):  # fed only data: read for `data_money`, where data came before it
                if has_data is None:
                    has_data = cfg.data_money and any(attr(n, "dify.node.type") in _DATA_NODES for n in trace.nodes)
                # Data nodes that ran after it only (a variable aggregator joining the branches) fed it nothing.
                if not (has_data and (fetched := fetched or [_data(trace, bodies)])[0][0][0] <= (span.start_time or 0)):
                    if cfg.prompt_facts and any(map(str.isdigit, said)):
                        yield from _told(span, inputs, root)
                    continue
            answer = str(attr(span, "llm.output_messages.0.message.content") or "")
            if not (grounded or cfg.data_fed) and cfg.data_times:
                dated = ascii_digits(answer)  # "৩:৩০" is 3:30
                if _HOUR_MINUTE.search(dated):
                    yield from _timed(
                        trace, (fetched := fetched or [_data(trace, bodies)])[0], span, claims(dated), inputs
                    )
                if stated_days := days(dated):
                    fetched = fetched or [_data(trace, bodies)]
                    yield from _dated(trace, fetched[0], span, answer, stated_days, inputs)
            if not (grounded or cfg.data_fed) and cfg.data_swaps and _AFTER_WORD.search(answer):
                question = (user_query(root) or "") if root is not None else ""
                fetched = fetched or [_data(trace, bodies)]
                yield from _swapped(trace, fetched[0], span, claims(answer), inputs, question)
            if grounded:
                told.append(answer)  # taken back below if it states a figure unsupported
            if _CODE.match(answer):
                continue
            # The answer's numbers first: one stating too few cannot fire, and then no source is read. No
            # number spans a line, so reading the sources apart finds what reading them joined did.
            stating = claims(answer)
            claimed, counted, stated = numbers(stating), counts(stating), quantities(stating)
            if fed_only := not (grounded or cfg.data_fed):  # only its sums of money are read (`_substituted`)
                money = {
                    token for token, unit in measured(stating) if unit == "money" or (unit == "%" and cfg.data_shares)
                }
                money |= lengths(stating).keys()
                claimed, counted, stated = claimed & money, {}, stated & money
            if len(claimed) + len(counted) + len(stated) < cfg.min_unsupported:
                continue
            if shared is None:
                shared = source_values(documents) | source_values(inputs)
            # Numbers written as digits in a source first (most are): the documents and inputs, the run's data
            # (earlier nodes' outputs, round numbers), then the prompt (the longest source); only what is left
            # is read the slower ways (number words, durations, arithmetic).
            unsupported = {n for n in claimed if shared.isdisjoint(readings(n))}
            stated = {d for d in stated if d not in plain(documents) and d not in plain(inputs)}
            if not (unsupported or counted or stated):
                continue
            if data is None:
                data, workflow = (fetched or [_data(trace, bodies)])[0], f"{_rounds(trace)}\n{_limits(trace)}"
                written.update(plain(workflow))
            while len(outputs) < len(data) and data[len(outputs)][0] <= (span.start_time or 0):
                outputs.append(data[len(outputs)][1])
                written.update(plain(outputs[-1]))
            unsupported = {n for n in unsupported if written.isdisjoint(readings(n))}
            stated -= written
            if not (unsupported or counted or stated):
                continue
            prompt = prompt_text(span)
            in_prompt = plain(prompt)
            unsupported = {n for n in unsupported if in_prompt.isdisjoint(readings(n))}
            stated -= in_prompt
            if not (unsupported or counted or stated):
                continue
            sources = [documents, inputs, prompt, *outputs, workflow]
            question = (user_query(root) or "") if root is not None else ""
            unsupported, miscounted = _unsupported(answer, unsupported, stated, counted, sources, question)
            if unsupported and known:
                unsupported = _unknown(unsupported, stating, known, sources)
            replaced: dict[str, float] = {}  # fed data only: a sum of money standing for the data's figure
            cut: dict[str, list[float]] = {}  # fed data only: a sum of money a source's figure less a share none gives
            shares: set[str] = set()  # fed data only: a percentage where no source states a share or a rate
            priced: set[str] = set()  # fed data only: a sum of money where no source states one
            if fed_only:
                replaced = _substituted(stating, unsupported, outputs, prompt)
                cut = {} if replaced else _discounted(stating, unsupported, sources)
                shares = set() if replaced or cut else _shares(stating, unsupported, sources, outputs)
                if cfg.data_prices and not (replaced or cut or shares):
                    priced = unpriced(stating, unsupported, sources)
                unsupported, miscounted = set(replaced) | set(cut) | shares | priced, {}
            if len(unsupported) + len(miscounted) < cfg.min_unsupported:
                continue
            # Checked only where the answer had sources: retrieved documents, a context, or data in its prompt.
            if not (grounded or _fed(trace, prompt, outputs)):
                continue
            if grounded:
                told.pop()
            listed = sorted(unsupported) + [f"{'/'.join(c['answer'])} {thing}…" for thing, c in miscounted.items()]
            rule = " and ".join(
                [
                    *(
                        [
                            "a length, weight or volume in an answer fed data is in no source, where a figure of the "
                            "data with its unit goes unsaid"
                            if replaced.keys() & lengths(stating).keys()
                            else "a sum of money in an answer fed data is in no source, where a figure of the data "
                            "goes unsaid"
                        ]
                        if replaced
                        else [
                            "a sum of money in an answer fed data is a source's figure less a percentage no source "
                            "states"
                        ]
                        if cut
                        else ["a percentage in an answer fed data is in no source, which state no share nor rate"]
                        if shares
                        else ["a sum of money in an answer fed data is in no source, which state no sum of money"]
                        if priced
                        else ["a number in the answer is in no source nor computed from their numbers"]
                        if unsupported
                        else []
                    ),
                    *(
                        ["a count in the answer differs from the sources' count of the same thing"]
                        if miscounted
                        else []
                    ),
                ]
            )
            yield Finding(
                KEY, "medium", min(0.6 + 0.1 * len(listed), 0.95),
                f"LLM node '{attr(span, 'dify.node.title', span.name)}' states {', '.join(listed[:5])} "
                "found in none of its sources; check the answer against its documents, inputs and data.",
                {"node": attr(span, "dify.node.title", span.name), "rule": rule,
                 "unsupported": sorted(unsupported)[:20], "miscounted": miscounted, "answer": answer[:200],
                 **({"in_place_of": replaced} if replaced else {}), **({"less_a_share": cut} if cut else {})},
                span_id(span),
            )  # fmt: skip
        if documents or told:
            # A document addressing orders to the model (`dify_rag_poisoning`'s reading) states no fact of the app's.
            texts = [content for _, _, content in trace.documents if not _orders(content)]
            texts += [claims(answer) for answer in told]
            _learn(trace, frozenset().union(*map(_figures, texts)))

    return detect

"""`hallucination`: an LLM answer grounded in sources states numbers found in none of them.

Only answers that had sources are checked: a retrieval earlier in the run, a prompt carrying context, or a
prompt fed data (a number of a run input other than the user's question, or of an earlier tool, HTTP, code
or iteration node's output, in the prompt); creative writing is left alone. A number counts as supported
when its value appears anywhere in the LLM's prompt, the run's inputs or the retrieved documents: written
with either decimal separator ("14,90" and "14.90"), with thousands separators or without, as a number word
("fourteen", "catorce", "十四"), converted between time units ("2 years" as "24 months") or rounded
("437,000", "0.44 million" for 437,303.42); or when it is computed from them (two numbers and more: a sum, a
difference, a multiple by a count the answer states, a share per unit or a percentage, a worked example at a
source's rate, and a fed JSON table's totals, averages, shares and quotients: `json_figures`). Single digits
are checked as quantities ("6 seconds", "8%", "7小时") against the sources' numbers, and as counts ("5 saunas")
against the sources' count of the same thing.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from functools import lru_cache

from pydantic import Field

from detectors import QUERY_KEYS, DetectorConfig, Finding, Trace, attr, json_attr, prompt_text, span_id
from detectors.json_figures import json_figures, near

KEY = "hallucination"
# Numbers worth checking: two or more digits, or decimals; list numbering ("1.") and labels ("#35") are not facts.
# Only Latin letters and digits glue onto a number ("A4", "x86"): Chinese and Japanese write a number against
# its unit or noun ("45天", "300元"), which Unicode `\w` would have counted as part of a word. Separators
# inside a number are read both ways: "14,90" and "1.250" are 14.90 and 1250 in Spanish and German. A space
# (or a no-break one) between groups of three digits is a thousands separator ("1 250,00" in French), unless
# a group starts with 0 or a separated group follows ("2025-01 330.374,09" is a month and an amount).
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,#])(?:[1-9]\d{0,2}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?![.,]?\d)"
    r"|\d(?:\d|[.,](?=\d))*)(?![A-Za-z0-9_])"
)
_GROUP_SPACE = re.compile("[ \u00a0\u202f]")
# Number words a source may use where an answer writes digits (two digits and more: single digits are not
# checked), English, Spanish, German, then Chinese/Japanese numerals up to 99.
_WORDS = {
    word: value
    for value, words in {
        10: "ten diez zehn", 11: "eleven once elf", 12: "twelve doce zwölf", 13: "thirteen trece dreizehn",
        14: "fourteen catorce vierzehn", 15: "fifteen quince fünfzehn", 16: "sixteen dieciséis sechzehn",
        17: "seventeen diecisiete siebzehn", 18: "eighteen dieciocho achtzehn", 19: "nineteen diecinueve neunzehn",
        20: "twenty veinte zwanzig", 24: "veinticuatro", 30: "thirty treinta dreißig", 40: "forty cuarenta vierzig",
        50: "fifty cincuenta fünfzig", 60: "sixty sesenta sechzig", 70: "seventy setenta siebzig",
        80: "eighty ochenta achtzig", 90: "ninety noventa neunzig", 100: "hundred cien hundert",
    }.items()
    for word in words.split()
}  # fmt: skip
_CJK_DIGITS = "零一二三四五六七八九"
# A count: one digit (or a range of them) before a word or a Chinese/Japanese unit ("5 saunas", "2-3 Werktage",
# "7天"). Single digits are too common to check alone; next to what they count, against the sources' count
# of the same thing, they are facts. A range is written with a dash or a tilde, or a word between ("5 to 7
# days", "5 bis 7", "5 a 7", "5 à 7", "5 tot 7", "5 do 7", "5 e 7", "5至7"), so that its first end counts too.
_RANGE = r"\s?[-\u2013~\uff5e\u81f3\u5230]\s?|\s(?:to|and|or|bis|und|oder|a|al|y|o|à|et|ou|e|até|tot|en|do|i)\s"
_COUNT = re.compile(
    r"(?<![A-Za-z0-9_.,#:/])(\d)(?:(?:"
    + _RANGE
    + r")(\d))?(?![\d.,:/])\s?-?([\u3040-\u30ff\u4e00-\u9fff]|[^\W\d_]{2,})"
)
_CJK_NUMBER = re.compile(f"([{_CJK_DIGITS[1:]}]?)十([{_CJK_DIGITS[1:]}]?)")
# Digits 1-9 as words (a source writing "five working days" supports an answer's "5"): English, Spanish,
# German, French; Chinese and Japanese numerals are read one character at a time (两 is 2).
_SMALL_WORDS = {
    word: value
    for value, words in {
        1: "one uno una eins ein eine un une", 2: "two dos zwei deux both", 3: "three tres drei trois",
        4: "four cuatro vier quatre", 5: "five cinco fünf cinq", 6: "six seis sechs", 7: "seven siete sieben sept",
        8: "eight ocho acht huit", 9: "nine nueve neun neuf", 12: "dozen",
    }.items()
    for word in words.split()
}  # fmt: skip
_CJK_DIGIT = re.compile("[一二三四五六七八九两]")
# Words, to look number words up (a set lookup per word costs less than one pattern of all of them).
_LETTERS = re.compile(r"[^\W\d_]+")
# Time units in the languages the number words cover, by their length in days (a month 30 days, a year 365;
# a year is also 12 months, checked apart). A modifier may stand between ("5 business days", "5 Werktage").
_TIME_UNITS: dict[str, float] = {
    "second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365,
}  # fmt: skip
_TIME_WORDS = {
    "second": r"seconds?|secs?|sekunden?|segundos?|secondes?|秒",
    "minute": r"minutes?|mins?|minuten?|minutos?|分钟|分間|分",
    "hour": r"hours?|hrs?|stunden?|horas?|heures?|小时|小時|時間",
    "day": r"days?|(?:werk|arbeits)?tag(?:e|en)?|d[ií]as?|jours?|(?:个)?工作日|営業日|天|日",
    "week": r"weeks?|wochen?|semanas?|semaines?|周|週間|星期",
    "month": r"months?|monat(?:e|en)?|mes(?:es)?|mois|个月|か月|ヶ月|カ月",
    "year": r"years?|jahr(?:e|en)?|años?|années?|年",
}
# What a number counts, read from what follows it: a time unit (a word may stand between: "5 business days",
# "25 vacation days"), money, a percentage, or else the next word.
_TIME = re.compile(
    r"\s?-?\s?(?:[^\W\d_]+\s)?(?:" + "|".join(f"(?P<{u}>{w})" for u, w in _TIME_WORDS.items()) + r")(?![A-Za-z])",
    re.IGNORECASE,
)
_MONEY = re.compile(r"\s?(?:[€$£¥元円]|(?:eur|euros?|usd|dollars?|yuan|yen|rmb|chf|gbp)(?![A-Za-z]))", re.IGNORECASE)
_SHARE = re.compile(r"\s?(?:%|(?:percent|prozent|por ciento|pour cent)(?![A-Za-z]))", re.IGNORECASE)
_NEXT_WORD = re.compile(r"\s?-?([\u3040-\u30ff\u4e00-\u9fff]|[^\W\d_]{2,})")
# The units a single digit is a quantity in, a fact however small ("6 Sekunden", "8%", "7小时", "€5").
_MEASURES = {*_TIME_UNITS, "money", "%"}
# Scale words after a number ("1.1 million", "1,1 Mio.", "110万"): English, Spanish, German, French, Portuguese,
# Italian, Dutch, Polish, then Chinese, Japanese and Korean. ("billion" is read as 10^9, the English one.)
_SCALES = {
    **dict.fromkeys(("thousand", "mil", "tausend", "mille", "duizend", "tys", "千", "천"), 1e3),
    **dict.fromkeys(("万", "萬", "만"), 1e4),
    **dict.fromkeys(("million", "millions", "millón", "millones", "millionen", "mio", "milhão", "milhões", "milione",
                     "milioni", "miljoen", "mln", "百万"), 1e6),
    **dict.fromkeys(("亿", "億", "억"), 1e8),
    **dict.fromkeys(("billion", "billions", "milliard", "milliards", "milliarde", "milliarden", "mrd", "bilhão",
                     "bilhões", "miliardo", "miliardi", "miljard", "mld"), 1e9),
}  # fmt: skip
_SCALE = re.compile(r"\s?([^\W\d_]+|[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{1,2})")
# Node types whose output is data an LLM may be fed (a tool's answer, an API body, a computed value).
_DATA_NODES = ("tool", "http-request", "code", "iteration", "loop", "template-transform", "variable-aggregator")


class Config(DetectorConfig):
    # Fire at this many unsupported numbers in one answer.
    min_unsupported: int = Field(default=1, ge=1)
    # Also check answers whose only sources are data fed into the prompt (a run input other than the question,
    # an earlier tool, HTTP or code node's output). On: with the totals, averages, shares and quotients of fed
    # tables read (`json_figures`), it flags no clean run of any corpus (held-out 4: 14 % before them).
    data_fed: bool = True


def _token(number: str) -> str:
    """A number as written, but a separator repeated is a thousands separator and is dropped ("6,000,000" →
    "6000000"), and so is a space between groups of three digits ("1 250" → "1250")."""
    number = _GROUP_SPACE.sub("", number)
    for separator in ",.":
        if number.count(separator) > 1:
            number = number.replace(separator, "")
    return number


def _tokens(text: str) -> Iterator[str]:
    """Every number in `text` (`_token`)."""
    return (_token(match.group(0)) for match in _NUMBER.finditer(text))


def numbers(text: str) -> set[str]:
    """The numbers worth checking in `text`: two digits and more."""
    return {token for token in _tokens(text) if sum(c.isdigit() for c in token) >= 2}


@lru_cache(maxsize=4096)
def readings(number: str) -> frozenset[str]:
    """The values a number can stand for: its last separator as the decimal point, or, three digits
    following it, as a thousands separator ("1.250" is 1250 in German, 1.25 in English)."""
    at = max(number.rfind(","), number.rfind("."))
    if at < 0:
        return frozenset({str(int(number))})
    whole, fraction = number[:at].replace(",", "").replace(".", ""), number[at + 1 :]
    values = {f"{int(whole or '0')}.{fraction}".rstrip("0").rstrip(".")}
    if len(fraction) == 3:
        values.add(str(int(whole + fraction)))
    return frozenset(values)


def counts(text: str) -> dict[str, set[str]]:
    """What single-digit counts `text` states: the counted word (lower-cased, a plural "s" dropped, by its
    first five letters: "3-year" and "3 years" count the same thing) → the digits stated for it."""
    found: dict[str, set[str]] = {}
    for match in _COUNT.finditer(text):
        low, high, word = match.groups()
        digits = {d for d in (low, high) if d and d != "1"}  # "1人分", "per 1 person": the unit, not a count
        if digits:
            found.setdefault(word.lower().removesuffix("s")[:5], set()).update(digits)
    return found


def _unit(text: str, start: int, end: int) -> str:
    """What the number at `text[start:end]` counts: a time unit's name, "money", "%", or the next word (lower-cased,
    a plural "s" dropped, its first five letters); "" for nothing."""
    if time := _TIME.match(text, end):
        return time.lastgroup or ""
    if _MONEY.match(text, end) or text[max(start - 2, 0) : start].strip()[-1:] in ("$", "€", "£", "¥"):
        return "money"
    if _SHARE.match(text, end):
        return "%"
    word = _NEXT_WORD.match(text, end)
    return word.group(1).lower().removesuffix("s")[:5] if word else ""


@lru_cache(maxsize=1024)
def measured(text: str) -> tuple[tuple[str, str], ...]:
    """Every number in `text` as written (single digits too), with what it counts (`_unit`)."""
    return tuple((_token(m.group(0)), _unit(text, m.start(), m.end())) for m in _NUMBER.finditer(text))


def quantities(text: str) -> set[str]:
    """The single digits `text` states as a quantity: with a time unit, money or as a percentage."""
    return {
        match.group(0)
        for match in _NUMBER.finditer(text)
        if len(match.group(0)) == 1 and _unit(text, match.start(), match.end()) in _MEASURES
    }


@lru_cache(maxsize=256)
def _plain(text: str) -> frozenset[str]:
    """Every reading of every number in `text`, single digits too."""
    return frozenset(value for token in _tokens(text) for value in readings(token))


def source_values(text: str) -> set[str]:
    """Every reading of every number in a source."""
    return {value for number in numbers(text) for value in readings(number)}


def _words(text: str) -> set[str]:
    """The words of `text`, lower-cased."""
    return set(_LETTERS.findall(text.lower()))


def word_values(text: str) -> set[str]:
    """The values of a source's number words (read only for claims its digits leave unsupported)."""
    values = {str(_WORDS[word]) for word in _words(text) & _WORDS.keys()}
    for m in _CJK_NUMBER.finditer(text):
        tens, ones = m.groups()
        values.add(str(10 * (_CJK_DIGITS.index(tens) if tens else 1) + (_CJK_DIGITS.index(ones) if ones else 0)))
    return values


@lru_cache(maxsize=256)
def by_unit(text: str) -> dict[str, set[float]]:
    """A source's values by what they count, as written; durations also in days, under "time"."""
    found: dict[str, set[float]] = {}
    for token, unit in measured(text):
        values = [float(r) for r in readings(token)]
        found.setdefault(unit, set()).update(values)
        if scale := _TIME_UNITS.get(unit):
            found.setdefault("time", set()).update(round(value * scale, 6) for value in values)
    return found


@lru_cache(maxsize=256)
def all_values(text: str) -> frozenset[float]:
    """Every value a source states: its numbers (single digits too) in every reading and, for a duration, in
    every other time unit ("2-year": 24 months, 730 days…), its number words."""
    values: set[float] = set()
    for token, unit in measured(text):
        for reading in readings(token):
            value = float(reading)
            values.add(value)
            if unit in _TIME_UNITS:
                values.update(value * _TIME_UNITS[unit] / days for days in _TIME_UNITS.values())
                values.add(value * 12 if unit == "year" else value / 12 if unit == "month" else value)
    values.update(float(value) for value in word_values(text))
    values.update(float(_SMALL_WORDS[word]) for word in _words(text) & _SMALL_WORDS.keys())
    values.update(float(_CJK_DIGITS.index(c) if c != "两" else 2) for c in _CJK_DIGIT.findall(text))
    return frozenset(round(value, 6) for value in values)


def computed(reading: str, unit: str, values: set[float], units: dict[str, set[float]], factors: set[float]) -> bool:
    """Whether a number (two digits and more, one reading) counting `unit` is computed from a source's `values`
    (`units`: the same by what they count): a sum or a difference of two counting the same (the smaller a
    twentieth of the larger at least: 7950 EUR is not 7951 EUR - 1 EUR), a multiple by one of `factors` (the
    counts the answer states), a share per unit (counting the same, divided by a count up to 100: a
    number of the sources or the answer that is not a duration, money or a percentage),
    or, as a percentage, one value's share of another counting the same ("12 of 40 seats"; 90 days are not
    25 % of 12 months); to the precision the answer writes it."""
    value = float(reading)
    decimals = len(reading.partition(".")[2])
    tolerance = 0.5 * 10**-decimals if decimals else 1e-6
    if any(round(value / factor, 6) in values for factor in factors):
        return True
    scale = _TIME_UNITS.get(unit)
    same = units.get("time" if scale else unit, set()) if unit else set()
    value = round(value * (scale or 1), 6)
    for a in same:
        b = round(value - a, 6)  # value = a + b
        if b in same and 0 < b != a and min(a, b) >= 0.05 * max(a, b):
            return True
        c = round(value + a, 6)  # value = c - a
        if c in same and 0 < a >= 0.05 * c:
            return True
    counts = set().union(*(found for counted, found in units.items() if counted not in _MEASURES and counted != "time"))
    divisors = [d for d in counts | factors if 2 <= d <= 100 and d == int(d)]
    for divisor in divisors:
        low, high = (value - tolerance) * divisor, (value + tolerance) * divisor
        if any(low <= a <= high for a in same):
            return True
    if unit == "%":  # a share of two: pairs, so bounded; rounded as written ("33%" for a third)
        margin = tolerance if decimals else 0.5
        for counted, found in units.items():
            shares = sorted(v for v in found if v > 0)[:60] if counted not in ("", "time") else []
            if any(abs(100 * part / whole - value) <= margin for whole in shares for part in shares if part < whole):
                return True
    return False


def _data(trace: Trace) -> list[tuple[int, str]]:
    """What the run computed or fetched, by end time (an output exists once its node ended: a container's
    output, which holds what the LLMs inside it wrote, is no source for them): its tool, HTTP, code and
    container outputs."""
    return sorted(
        (node.end_time or node.start_time or 0, str(attr(node, "output.value") or ""))
        for node in trace.nodes
        if attr(node, "dify.node.type") in _DATA_NODES
    )


def _rounds(trace: Trace) -> str:
    """The round numbers of the run's loops and iterations ("round 11", "40 parcels tracked" are counts)."""
    rounds = [attr(container, "dify.container.rounds") for container in trace.of_type("loop", "iteration")]
    return ", ".join(str(i) for r in rounds if isinstance(r, int) for i in range(1, min(r, 1000) + 1))


def _fed(trace: Trace, prompt: str, data: list[str]) -> bool:
    """Whether the LLM's prompt was fed data: a number (two digits and more) of a run input other than the
    user's question, or of `data`, that the question does not hold."""
    root = trace.root
    inputs = json_attr(root, "input.value") if root is not None else None
    fed = set().union(*(source_values(output) for output in data))
    asked: set[str] = set()
    if isinstance(inputs, dict):
        for key, value in inputs.items():
            if key in QUERY_KEYS:
                asked |= source_values(str(value))
            elif not key.startswith("sys."):
                fed |= source_values(str(value))
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


def _scale(answer: str, number: str) -> float:
    """What the answer multiplies `number` by where it writes it ("1.1 million": 10^6); 1 if by nothing."""
    for match in _NUMBER.finditer(answer):
        if _token(match.group(0)) == number and (word := _SCALE.match(answer, match.end())):
            found = word.group(1).lower()
            return _SCALES.get(found) or _SCALES.get(found[:1]) or 1.0
    return 1.0


def _rounded(number: str, scale: float, values: tuple[float, ...]) -> bool:
    """Whether `number` (times `scale`) is one of the sorted `values` rounded to the place it is written to,
    two significant digits kept at least: "437,000" or "0.44 million" for 437,303.42, "2.8 %" for 2.75 %,
    "38" for 38.48. One zero at the end is no rounding ("7,950" is not 7,951), and a number written to the
    unit rounds a value with decimals only (437 does not round 436). A separator before three digits is read
    as a thousands separator only: "7,950" does not round 7.951 either."""
    for reading in readings(number):
        whole, _, fraction = reading.partition(".")
        if fraction and len(readings(number)) > 1:
            continue
        zeros = 0 if fraction else len(whole) - len(whole.rstrip("0"))
        if len((whole + fraction).strip("0")) < 2 or zeros == 1:
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


def _worked_example(unsupported: set[str], rates: set[float]) -> set[str]:
    """Pairs of `unsupported` numbers where one is a source's percentage of the other: an example the answer
    works ("on EUR 10,000 that is EUR 275 a year" at 2.75 %; "on a 250,000 home, 200,000" at 80 %)."""
    values = {(n, float(r)) for n in unsupported for r in readings(n)}
    worked: set[str] = set()
    for (base, whole), (part, amount) in itertools.permutations(values, 2):
        if base != part and any(abs(whole * rate / 100 - amount) <= 0.01 * amount for rate in rates if 0 < rate < 100):
            worked.update((base, part))
    return worked


def _unsupported(
    answer: str, claimed: set[str], stated: set[str], counted: dict[str, set[str]], sources: list[str]
) -> tuple[set[str], dict[str, dict[str, list[str]]]]:
    """The answer's numbers no source states nor computes, and its counts the sources count otherwise."""
    values = set().union(*(all_values(source) for source in sources)) if claimed or stated else set()
    unsupported = {n for n in claimed if values.isdisjoint(float(r) for r in readings(n))}
    if unsupported:  # computed from the sources' numbers?
        claims = dict(measured(answer))
        # Counts the answer states ("two appliances", "4 servings"), not quantities ("3 days", "5 EUR").
        factors = {float(_SMALL_WORDS[word]) for word in _words(answer) & _SMALL_WORDS.keys()}
        factors = {
            f for f in factors | {float(t) for t, u in claims.items() if len(t) == 1 and u not in _MEASURES} if f >= 2
        }
        units: dict[str, set[float]] = {}
        for source in sources:
            for unit, found in by_unit(source).items():
                units.setdefault(unit, set()).update(found)
        unsupported = {
            n
            for n in unsupported
            if not any(computed(r, claims.get(n, ""), values, units, factors) for r in readings(n))
        }
        unsupported = _off_tables(unsupported, claims, sources)
        unsupported -= _worked_example(unsupported, units.get("%", set()))
    stated = {d for d in stated if float(d) not in values}
    if unsupported or stated:  # rounded from a source's value or a table's figure?
        figures = sorted(values.union(*(json_figures(source)[0] for source in sources)))
        rounded = tuple(figures)
        unsupported = {n for n in unsupported if not _rounded(n, _scale(answer, n), rounded)}
        stated = {d for d in stated if not _rounded(d, _scale(answer, d), rounded)}
    miscounted: dict[str, dict[str, list[str]]] = {}
    if counted:  # counts of a thing the sources count otherwise
        there: dict[str, set[str]] = {}
        for source in sources:
            for thing, digits in counts(source).items():
                there.setdefault(thing, set()).update(digits)
        for thing, digits in counted.items():
            if thing in there and not digits <= there[thing]:
                miscounted[thing] = {"answer": sorted(digits), "sources": sorted(there[thing])}
    miscounted_digits = {d for c in miscounted.values() for d in c["answer"]}
    unsupported.update(d for d in stated if d not in miscounted_digits)
    return unsupported, miscounted


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        documents = " ".join(content for _, _, content in trace.documents)
        shared: set[str] | None = None  # numbers of the documents and the run's inputs, read once an answer has any
        root = trace.root
        inputs = str(attr(root, "input.value") or "") if root is not None else ""
        # The run's data (tool, HTTP, code, container outputs) by end time, read once an answer needs it; the
        # LLMs are taken in start order, so what each had before it grows by one pass over the data.
        data: list[tuple[int, str]] | None = None
        outputs: list[str] = []  # the data before the LLM at hand
        written: set[str] = set()  # the numbers of `outputs` and of the round numbers, as written
        rounds = ""
        for span in sorted(trace.llm_spans, key=lambda llm: llm.start_time or 0):
            grounded = bool(documents) or "#context#" in str(attr(span, "input.value") or "")
            if not (grounded or cfg.data_fed):
                continue
            answer = str(attr(span, "llm.output_messages.0.message.content") or "")
            # The answer's numbers first: one stating too few cannot fire, and then no source is read. No
            # number spans a space, so reading the sources apart finds what reading them joined did.
            claimed, counted, stated = numbers(answer), counts(answer), quantities(answer)
            if len(claimed) + len(counted) + len(stated) < cfg.min_unsupported:
                continue
            if shared is None:
                shared = source_values(documents) | source_values(inputs)
            # Numbers written as digits in a source first (most are): the documents and inputs, the run's data
            # (earlier nodes' outputs, round numbers), then the prompt (the longest source); only what is left
            # is read the slower ways (number words, durations, arithmetic).
            unsupported = {n for n in claimed if shared.isdisjoint(readings(n))}
            stated = {d for d in stated if d not in _plain(documents) and d not in _plain(inputs)}
            if not (unsupported or counted or stated):
                continue
            if data is None:
                data, rounds = _data(trace), _rounds(trace)
                written.update(_plain(rounds))
            while len(outputs) < len(data) and data[len(outputs)][0] <= (span.start_time or 0):
                outputs.append(data[len(outputs)][1])
                written.update(_plain(outputs[-1]))
            unsupported = {n for n in unsupported if written.isdisjoint(readings(n))}
            stated -= written
            if not (unsupported or counted or stated):
                continue
            prompt = prompt_text(span)
            in_prompt = _plain(prompt)
            unsupported = {n for n in unsupported if in_prompt.isdisjoint(readings(n))}
            stated -= in_prompt
            if not (unsupported or counted or stated):
                continue
            sources = [documents, inputs, prompt, *outputs, rounds]
            unsupported, miscounted = _unsupported(answer, unsupported, stated, counted, sources)
            if len(unsupported) + len(miscounted) < cfg.min_unsupported:
                continue
            # Checked only where the answer had sources: retrieved documents, a context, or data in its prompt.
            if not (grounded or _fed(trace, prompt, outputs)):
                continue
            listed = sorted(unsupported) + [f"{'/'.join(c['answer'])} {thing}…" for thing, c in miscounted.items()]
            rule = " and ".join(
                [
                    *(
                        ["a number in the answer is in no source nor computed from their numbers"]
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
                 "unsupported": sorted(unsupported)[:20], "miscounted": miscounted, "answer": answer[:200]},
                span_id(span),
            )  # fmt: skip

    return detect

# ruff: noqa: RUF001  (number words in Cyrillic letters look like Latin ones)
"""`state_corruption`'s parameter extractors: a number its text does not state (or states in another time unit, or
ten times off in words), and the rule order over an extractor's outputs."""

from __future__ import annotations

import re
import unicodedata
from itertools import islice
from typing import Any

from detectors import (
    Finding,
    Trace,
    attr,
    attributes_of,
    json_attr,
    numbers,
)
from detectors.corruption import KEY, WORD, finding, name_parts, node_title
from detectors.emptied_prompts import messages_of
from detectors.extracted_dates import date_swapped

# A number a text states on its own: digits (a decimal point or comma inside), not part of a code, a date, a time
# or a measure joined to it (`CH-210`, `2027-03-02`, `14:30`, `27-inch`, `+44`). Chinese and Japanese write no space
# between a figure and its counter (`8位`, `3名`): a kana or ideograph beside it parts it as a space does.
_STATED = re.compile(
    r"(?<![^\W\u3040-\u30ff\u3400-\u9fff]|[.,:/+-])\d+(?:[.,]\d+)?(?![^\W\u3040-\u30ff\u3400-\u9fff]|[:/-]|[.,]\d)"
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
# What a parameter extractor's system prompt carries besides its query, as Dify 1.14.1 renders it: the instruction
# (`<instruction>` in function-calling mode, `<instructions>` in prompt mode) with its variables filled in (a
# chatflow's conversation variables: the order so far), and the memory's earlier turns (`<histories>`).
_EARLIER = re.compile(r"<(instructions?|histories)>(.*?)</\1>", re.S)


def _stated(text: str) -> list[set[float]]:
    """The numbers a text states on its own (`_STATED`), each with every value it can stand for: `1,280` is 1280
    with a thousands separator and 1.28 with a decimal comma (`numbers.readings`)."""
    return [{float(value) for value in numbers.readings(match.group())} for match in _STATED.finditer(text)]


def _numbers(text: str) -> list[float]:
    """Every value the numbers a text states can stand for (`_stated`)."""
    return [value for values in _stated(text) for value in values]


def _earlier(span: Any) -> str:
    """An extractor's instruction and memory as its model was sent them (`_EARLIER`); empty where the trace lacks
    the prompt (Dify's export)."""
    messages = messages_of(attributes_of(span))[0]
    return "\n".join(match.group(2) for match in _EARLIER.finditer(messages[0])) if messages else ""


# Numbers one to ten written as words, in languages whose words stand apart (English, Spanish, Portuguese, French,
# Italian, German, Dutch, Polish, Turkish, Indonesian, Swedish, Russian); articles that also mean one (`un`, `ein`,
# `een`) left out, "a seat" states no count, and words that are also English ones (Italian `due`, Turkish `on`).
_NUMBER_WORDS: dict[str, int] = {
    word: number
    for words in (
        "one two three four five six seven eight nine ten",
        "_ dos tres cuatro cinco seis siete ocho nueve diez",
        "_ dois três quatro cinco seis sete oito nove dez",
        "_ deux trois quatre cinq six sept huit neuf dix",
        "_ _ tre quattro cinque sei sette otto nove dieci",
        "_ zwei drei vier fünf sechs sieben acht neun zehn",
        "_ twee drie vier vijf zes zeven acht negen tien",
        "jeden dwa trzy cztery pięć sześć siedem osiem dziewięć dziesięć",
        "bir iki üç dört beş altı yedi sekiz dokuz",
        "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh",
        "_ två tre fyra fem sex sju åtta nio tio",
        "один два три четыре пять шесть семь восемь девять десять",
    )
    for number, word in enumerate(words.split(), 1)
    if word != "_"
}


def _counted_before(query: str, name: str) -> int | None:
    """The number a text writes as a word right before a parameter's name (two words between at most: "Six balcony
    seats" for `seats`; the name's singular too), none if a figure stands between (`Two 27-inch chairs`)."""
    stem = name.lower()
    stem = stem[:-1] if len(stem) > 4 and stem.endswith("s") else stem
    if len(stem) < 3 or stem not in query.lower():
        return None  # most texts: the parameter's name is not written in them
    words = WORD.findall(query.lower())
    for at, word in enumerate(words):
        if not word.startswith(stem):
            continue
        for before in reversed(words[max(0, at - 3) : at]):
            if before.isdigit():
                break
            if (number := _NUMBER_WORDS.get(before)) is not None:
                return number
    return None


def _word_sums(query: str, figures: list[float]) -> set[float]:
    """A figure the text states plus or minus a count it writes as a word (`_NUMBER_WORDS`): "in two weeks, we are
    in week 11" asked as week 13 is computed from the text, not changed."""
    counts = {_NUMBER_WORDS[word] for word in WORD.findall(query.lower()) if word in _NUMBER_WORDS}
    return {figure + sign * count for figure in figures for count in counts for sign in (1, -1)}


def _number_misread(span: Any, outputs: dict[str, Any], query: str, parameters: list[Any]) -> Finding | None:
    """A parameter extractor's number parameter holding a value its text does not state, while the text states a
    number on its own that no parameter took: the number was changed between the text and the extraction (25
    chairs read as 1); or another number than the one the text writes as a word right before the parameter's name
    ("Six balcony seats" read as 1 seat). A text stating no number (`two weeks`: 10 days) leaves the reading to
    the model. A total the turn changes ("add 6 more" to the 6 so far the instruction or memory carries: 12) is
    the earlier number plus or minus the stated one, and so is a figure plus or minus a count the text writes as a
    word (`_word_sums`)."""
    if not any(type(value) in (int, float) for name, value in outputs.items() if name[:2] != "__"):
        return None
    readings = _stated(query)
    stated = [value for values in readings for value in values]
    taken = [value for name, value in outputs.items() if name[:2] != "__" and type(value) in (int, float)]
    # A number a text parameter took is claimed too (a card or order number extracted as text), every part of it:
    # the 19 of "19 March" extracted as `2027-03-19`.
    in_texts = [float(match.group().replace(",", ".")) for name, value in outputs.items()
                if name[:2] != "__" and isinstance(value, str) for match in _DIGITS.finditer(value)]  # fmt: skip
    taken += in_texts
    # A number is claimed where a parameter took any of its readings (`1,280` taken as 1280).
    unclaimed = [min(values) for values in readings if values.isdisjoint(taken)]
    totals: set[float] | None = None
    for parameter in parameters:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        value = outputs.get(name) if isinstance(name, str) and parameter.get("type") in ("number", "integer") else None
        if type(value) not in (int, float) or not isinstance(name, str):
            continue
        if unclaimed and value not in stated:
            if totals is None:
                totals = {before + sign * number for before in _numbers(_earlier(span))
                          for number in unclaimed for sign in (1, -1)}  # fmt: skip
                totals |= _word_sums(query, unclaimed)
            if value not in totals:
                return finding(span, "a parameter extractor's number its text does not state, a stated one left out",
                               f"'{node_title(span)}' extracted {name} = {value}, a number its text does not state, "
                               f"and left out the {unclaimed[0]:g} the text states.", {"query": query},
                               {name: value})  # fmt: skip
        # The one figure the text writes as much, read into a text parameter too (the `12` of "12 点" in the date and
        # as the party), while another figure is left: one figure was read twice, the other dropped.
        left = [number for number in unclaimed if number != value]
        if left and value in stated and in_texts.count(value) >= sum(value in values for values in readings):
            return finding(span, "a parameter extractor's number another parameter took from its text, a stated one "
                           "left out", f"'{node_title(span)}' extracted {name} = {value:g}, the figure its text "
                           f"parameter took, and left out the {left[0]:g} the text states.", {"query": query},
                           {name: value})  # fmt: skip
        counted = _counted_before(query, name)
        # A figure moved by the count ("in two weeks, we are in week 11": week 13) is computed from the text.
        if counted is not None and counted != value and value not in _word_sums(query, stated):
            return finding(span, "a parameter extractor's number other than the one its text writes before its name",
                           f"'{node_title(span)}' extracted {name} = {value} from a text writing {counted} {name}.",
                           {"query": query}, {name: value})  # fmt: skip
        counted_figure = _figure_before(query, parameter, value, taken) if value in stated else None
        if counted_figure is not None:
            return finding(span, "a parameter extractor's number other than the figure its text writes before the "
                           "parameter's word", f"'{node_title(span)}' extracted {name} = {value:g} from a text writing "
                           f"{counted_figure[0]:g} {counted_figure[1]}, the parameter's word; {value:g} counts another "
                           "thing there.", {"query": query}, {name: value})  # fmt: skip
    return None


def _words_of(parameter: dict[str, Any]) -> set[str]:
    """The words naming what a number parameter counts: its name's parts and its description's words (`metre`,
    `મીટર`, the `元` of a description "单位: 元"), lower-cased, their plural `s` off; three letters at least, or
    ideographs (a Chinese or Japanese unit is one character)."""
    words = {*name_parts(str(parameter.get("name") or "")), *_WORD_RUN.findall(str(parameter.get("description") or ""))}
    return {(w[:-1] if len(w) > 4 and w.endswith("s") else w) for word in words
            if len(w := word.lower()) >= 3 or _IDEOGRAPH.search(w)}  # fmt: skip


def _figure_before(query: str, parameter: dict[str, Any], value: float, taken: list[float]) -> tuple[float, str] | None:
    """The figure a text writes right before a word of the parameter (`3.5 મીટર` for `metre`, "મીટર"; `216 元`), where
    the extracted number, stated in the text too, stands before none of its words (`₹700 per metre`) and no other
    parameter took that figure: the extractor took another quantity of the text (a budget for a length, a count of
    packs for the sum). Where no figure stands right before one, the figure a word or two before one in its clause
    counts ("only 40 need helpdesk seats" beside "250 employees"). The figure and its word; None otherwise. In any
    script: the words are the parameter's own, as the app's author wrote them."""
    words = _words_of(parameter)
    if not words:
        return None
    before: list[tuple[float, str]] = []
    near: list[tuple[float, str]] = []
    for match in _STATED.finditer(query):
        # The words up to the clause's end or the next figure, three at most.
        clause = _CLAUSE_END.split(query[match.end() : match.end() + 80], maxsplit=1)[0]
        following = [word for word in _WORD_RUN.findall(clause)[:3]
                     if any(word.lower().startswith(stem) for stem in words)]  # fmt: skip
        if not following:
            continue
        figures = [float(reading) for reading in numbers.readings(match.group())]
        if _WORD_RUN.findall(clause)[0] == following[0]:
            before.extend((figure, following[0]) for figure in figures)
        elif not _money_at(query, match):  # a price a word before the unit is a rate (`₹700 per metre`)
            near.extend((figure, following[0]) for figure in figures)
    before = before or near
    if any(number == value for number, _ in before):
        return None
    return next(((number, word) for number, word in before if number not in taken), None)


def _as_money(query: str, value: float) -> bool | None:
    """Whether a text writes `value` only as a sum of money (`$20,000`, `216 元`, `20.000 €`): True; written, never
    so: False; not written: None. A currency read from the sign or name right before or after the figure alone
    (`numbers.measured`), so that what follows ("a year") does not hide it."""
    kinds = {_money_at(query, match) for match in _STATED.finditer(query)
             if value in {float(reading) for reading in numbers.readings(match.group())}}  # fmt: skip
    return None if not kinds else kinds == {True}


# A word joined to the next by a hyphen after a figure: a compound ("6 EUR-pallets"), no currency.
_COMPOUND = re.compile(r"\s?[^\W\d_]+-[^\W\d_]")


def _money_at(query: str, match: re.Match[str]) -> bool:
    """Whether the figure `match` found is written as money: a currency's sign or name right before or after it, not
    the first part of a compound after it (`EUR-pallets`)."""
    start, end = match.span()
    if _COMPOUND.match(query, end):
        return False
    around = (query[max(start - 6, 0) : end], query[start : end + 12])
    return any(numbers.measured(text)[-1:] == ((match.group(), "money"),)
               or numbers.measured(text)[:1] == ((match.group(), "money"),) for text in around)  # fmt: skip


def money_misread(trace: Trace, span: Any, outputs: dict[str, Any], min_history: int) -> Finding | None:
    """A parameter extractor's number parameter taking a figure its text writes only as a sum of money (`budget
    around $20,000` read as 20,000 seats) where, in every earlier run of the node (`min_history` at least) whose text
    wrote the parameter's value, it was never money: the extractor took another quantity of the text, one of another
    kind than the parameter ever held. A parameter that is money (a claim's amount) is money in its earlier runs
    too. Learns, per app and node, how each parameter's value was written; a run it flags teaches nothing."""
    inputs = json_attr(span, "input.value")
    query = inputs.get("query") if isinstance(inputs, dict) else None
    if not isinstance(query, str):
        return None
    key = f"{KEY}:money:{trace.app}:{attr(span, 'dify.node.id') or span.name}"
    history: dict[str, list[int]] = trace.baselines.get(key) or {}
    found = None
    for name, value in islice(outputs.items(), 20):
        if name[:2] == "__" or type(value) not in (int, float) or (money := _as_money(query, value)) is None:
            continue
        runs, as_money = history.get(name, [0, 0])
        if flagged := money and runs >= min_history and not as_money:
            found = found or finding(span, "a parameter extractor's number its text writes as money, never so before",
                                     f"'{node_title(span)}' extracted {name} = {value:g}, a sum of money in its text, "
                                     f"where its {runs} earlier runs' {name} was never money.", {"query": query},
                                     {name: value})  # fmt: skip
        if len(history) < 20 and not flagged:  # a run it flags teaches nothing
            history[name] = [runs + 1, as_money + money]
    trace.baselines.put(key, history)
    return found


def _time_unit(parameter: dict[str, Any]) -> str | None:
    """The time unit a parameter counts, read from its name's parts, else its description's words (`days`,
    "number of working days", "Anzahl Tage"): what a number written before the word would count."""
    name, description = parameter.get("name"), parameter.get("description")
    words = [*str(name).replace("-", "_").split("_"), *WORD.findall(str(description or ""))]
    for word in words:
        if (unit := numbers.measured(f"1 {word}")[0][1]) in numbers.TIME_UNITS:
            return unit
    return None


def _durations(query: str) -> set[float]:
    """The durations a text states, in days, in figures and in number words ("2 weeks", "two weeks": 14)."""
    found = numbers.word_durations(query)
    for number, unit in numbers.measured(query):
        if unit in numbers.TIME_UNITS:
            found.update(float(value) * numbers.TIME_UNITS[unit] for value in numbers.readings(number))
    return found


def _unit_misread(span: Any, outputs: dict[str, Any], query: str, parameters: list[Any]) -> Finding | None:
    """A parameter extractor's number of one time unit (`days`) that is the count the text states in another
    (`two weeks` read as 2 days), while the text states no such duration in the parameter's own unit: the count
    was carried over without its unit."""
    durations: set[float] | None = None
    for parameter in parameters:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        value = outputs.get(name) if isinstance(name, str) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            continue
        if (unit := _time_unit(parameter)) is None:
            continue
        durations = durations if durations is not None else _durations(query)
        own = value * numbers.TIME_UNITS[unit]
        if not durations or any(abs(own - days) < 1e-6 for days in durations):
            continue
        other = next((u for u, days in numbers.TIME_UNITS.items() if u != unit and value * days in durations), None)
        if other is not None:
            return finding(span, "a parameter extractor's count of one time unit that its text states in another",
                           f"'{node_title(span)}' extracted {name} = {value:g} ({unit}s) from a text stating "
                           f"{value:g} {other}s.", {"query": query}, {name: value})  # fmt: skip
    return None


# Amounts written in words, for an extractor's number a text states only so: numbers one to ten (`_NUMBER_WORDS`,
# and Hindi, Marathi, Bengali, Urdu), the words for one and a half and two and a half (Hindi `डेढ़`, `ढाई`; Russian
# `полтора`; German `anderthalb`), words adding a quarter, a half or taking one away before a number (Hindi `सवा दो`
# 2.25, `साढ़े चार` 4.5, `पौने` -0.25; their Marathi, Bengali and Urdu kin), and a half after a number ("two and a
# half", "dos y medio", "zweieinhalb", Russian and Ukrainian too). A half alone is left out ("half price").
_WORD_AMOUNTS: dict[str, float] = {
    unicodedata.normalize("NFC", word): number
    for word, number in [
        *((word, float(number)) for word, number in _NUMBER_WORDS.items()),
        *((word, float(number))
          for words in ("एक दो तीन चार पाँच छह सात आठ नौ दस", "_ _ _ _ पांच छः", "_ दोन _ _ पाच सहा _ _ नऊ दहा",
                        "এক দুই তিন চার পাঁচ ছয় সাত আট নয় দশ", "ایک دو تین چار پانچ چھ سات آٹھ نو دس")
          for number, word in enumerate(words.split(), 1) if word != "_"),
        *((word, 1.5) for word in ["डेढ़", "डेढ", "दीड", "দেড়", "ڈیڑھ", "полтора", "anderthalb"]),
        *((word, 2.5) for word in ["ढाई", "अढ़ाई", "अडीच", "আড়াই", "ڈھائی"]),
    ]
}  # fmt: skip
_BEFORE_NUMBER = {
    unicodedata.normalize("NFC", word): added
    for words, added in (("सवा सव्वा সোয়া سوا", 0.25), ("साढ़े साढे साडे সাড়ে ساڑھے", 0.5), ("पौने पावणे পৌনে پونے", -0.25))
    for word in words.split()
}
_HALF_AFTER = ("and a half", "y medio", "y media", "e meio", "e meia", "et demi", "et demie", "e mezzo", "i pół",
               "с половиной", "з половиною", "einhalb")  # fmt: skip
# Words as a text writes them: what lies between spaces and punctuation (Devanagari's vowel signs are no `\w`).
_WORD_RUN = re.compile(r"[^\s\d.,;:!?()\[\]{}\"'«»“”।|/，。、；：！？（）「」【】-]+")
# Where a clause ends, or the next figure begins: a figure's words lie before it.
_CLAUSE_END = re.compile(r"[\d,.;:!?\n，。、；：！？]")
_IDEOGRAPH = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def _word_amounts(text: str) -> set[float]:
    """The amounts `text` writes in words (`_WORD_AMOUNTS`): "साढ़े चार" is 4.5, "two and a half" 2.5."""
    text = unicodedata.normalize("NFC", text.lower())
    words = _WORD_RUN.findall(text)
    found: set[float] = set()
    for at, word in enumerate(words):
        number = _WORD_AMOUNTS.get(word)
        if number is None and word.endswith("einhalb"):  # German writes "zweieinhalb" as one word
            number = _WORD_AMOUNTS.get(word[: -len("einhalb")], -1.0) + 0.5
        if number is None or number < 0:
            continue
        added = _BEFORE_NUMBER.get(words[at - 1], 0.0) if at else 0.0
        after = " ".join(words[at + 1 : at + 4])
        found.add(number + added + (0.5 if after.startswith(_HALF_AFTER) else 0.0))
    return found


def _scale_misread(span: Any, outputs: dict[str, Any], query: str) -> Finding | None:
    """A parameter extractor's number that is a tenth or ten times an amount its text writes in words (`साढ़े चार
    एकड़`, four and a half acres, read as 0.45) or in figures (`१ प्लेट`, one plate, read as 10 plates), where the
    text writes that number neither in figures nor in words, nor is it a total the turn changes (the earlier number
    plus or minus the stated one): its decimal point slipped between the text and the extraction. A figure counts
    here though another parameter's text holds it too (the dish's `x1`): the extractor's own outputs disagree."""
    taken = {name: value for name, value in outputs.items()
             if name[:2] != "__" and type(value) in (int, float) and value > 0}  # fmt: skip
    if not taken:
        return None
    stated = set(_numbers(query))
    amounts: set[float] | None = None
    totals: set[float] | None = None
    for name, value in taken.items():
        if value in stated:
            continue
        amounts = amounts if amounts is not None else _word_amounts(query)
        if value in amounts:
            continue
        amount = next((a for a in (amounts | stated) - set(taken.values())  # an amount another parameter took is read
                       if abs(value * 10 - a) < 1e-9 or abs(value - a * 10) < 1e-9), None)  # fmt: skip
        if amount is not None and amount not in amounts:  # a figure: not an earlier total changed by it
            if totals is None:
                totals = {before + sign * number for before in _numbers(_earlier(span))
                          for number in stated for sign in (1, -1)}  # fmt: skip
            amount = None if value in totals else amount
        if amount is not None:
            return finding(span, "a parameter extractor's number a tenth or ten times the amount its text writes",
                           f"'{node_title(span)}' extracted {name} = {value:g} from a text writing {amount:g}"
                           f"{' in words' if amount in amounts else ''}.",
                           {"query": query}, {name: value})  # fmt: skip
    return None


def extraction_misread(span: Any, outputs: dict[str, Any]) -> Finding | None:
    """A parameter extractor's value other than its text states: a number (`_number_misread`), a count of another
    time unit, a date with its day and month swapped, a number ten times off the amount written in words. The text
    is its `query` input, or else its last user message (what the model read)."""
    inputs = json_attr(span, "input.value")
    query = inputs.get("query") if isinstance(inputs, dict) else None
    parameters = inputs.get("parameters") if isinstance(inputs, dict) else None
    if not isinstance(query, str) or not isinstance(parameters, list):
        read = messages_of(attributes_of(span))[1] if query is None and parameters is None else None
        return _scale_misread(span, outputs, read) if isinstance(read, str) else None
    return (
        _number_misread(span, outputs, query, parameters)
        or _unit_misread(span, outputs, query, parameters)
        or date_swapped(span, outputs, query)
        or _scale_misread(span, outputs, query)
    )

# ruff: noqa: RUF001  (month names in Cyrillic letters look like Latin ones)
"""`state_corruption`'s parameter extractors' dates: a date extracted with the day and month of its text's date
swapped."""

from __future__ import annotations

import re
from typing import Any

from detectors import (
    Finding,
)
from detectors.corruption import finding, node_title

# Dates a text writes with the day and the month told apart: ISO (2027-02-03), Chinese, Japanese and Korean
# (2月3日, 2월 3일), and a day next to a month's name either way round ("3 Februari", "February 3rd", "3 de
# febrero", Tagalog's ordinal "ika-4 ng Marso", Hungarian's "március 4." and "március 4-én"). Dates in figures alone
# with slashes or dots are left out: which part is the day is the writer's habit.
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-(\d{1,2})-(\d{1,2})(?!\d)")
_CJK_DATE = re.compile(r"(?<!\d)(\d{1,2})\s?[月월]\s?(\d{1,2})\s?[日일号號]")
_NAMED_DAY = re.compile(
    r"(?:(?<=\bika-)|(?<![\d.,:/-]))(\d{1,2})(?:st|nd|rd|th|er|º|\.)?\s(?:de\s|of\s|ng\s)?([^\s\d.,;:()/-]{3,})"
)
_DAY_NAMED = re.compile(r"([^\s\d.,;:()/-]{3,})\.?\s(\d{1,2})(?![\d:,/]|[.-]\d)")
# Months by the first letters of their names (three, or more where languages share three): English, German,
# Dutch, Spanish, Portuguese, Italian, French, Swedish, Indonesian, Polish (genitive), Turkish, Russian and
# Ukrainian, Greek, Georgian, Armenian, Tagalog, Hungarian, then Thai names whole.
_MONTH_STEMS: dict[str, int] = {
    stem: month
    for month, stems in enumerate((
        "jan ene gen sty oca янв січ ιαν იანვ հունվ มกราคม",
        "feb fev fév lut şub фев лют φεβ თებ փետ pebr กุมภาพันธ์",
        "mar mär maa mrt мар бер μαρ მარტ մարտ márc มีนาคม",
        "apr abr avr kwie nis апр кві απρ აპრ ապր ápr เมษายน",
        "may mai mag mei maj тра мая май μαΐ μαι მაის մայ máj พฤษภาคม",
        "jun giu juin jun czer haz июн чер ιουν ივნ հունիս huny jún มิถุนายน",
        "jul lug juil lip tem июл лип ιουλ ივლ հուլ huly júl กรกฎาคม",
        "aug ago aoû agu sie ağu авг сер αυγ აგვ օգոս สิงหาคม",
        "sep set wrz eyl сен вер σεπ სექ սեպ szep กันยายน",
        "oct okt ott out paź eki окт жов οκτ ოქტ հոկ ตุลาคม",
        "nov lis kas ноя лис νοε ნოე նոյ noby พฤศจิกายน",
        "dec dez dic déc des gru ara дек гру δεκ დეკ դեկ disy ธันวาคม",
    ), 1)
    for stem in stems.split()
}  # fmt: skip
_STEM_LENGTHS = sorted({len(stem) for stem in _MONTH_STEMS}, reverse=True)


def _month(word: str) -> int | None:
    word = word.lower()
    return next((month for n in _STEM_LENGTHS if (month := _MONTH_STEMS.get(word[:n])) is not None), None)


def _stated_dates(text: str) -> set[tuple[int, int]]:
    """The (month, day) of every date `text` writes with its day and month told apart (`_ISO_DATE`…)."""
    found = {(int(m), int(d)) for m, d in [*_ISO_DATE.findall(text), *_CJK_DATE.findall(text)]}
    found.update((month, int(day)) for day, word in _NAMED_DAY.findall(text) if (month := _month(word)))
    found.update((month, int(day)) for word, day in _DAY_NAMED.findall(text) if (month := _month(word)))
    return found


def date_swapped(span: Any, outputs: dict[str, Any], query: str) -> Finding | None:
    """A parameter extractor's date (ISO, as Dify's extractors are asked for) whose day and month are the month and
    day of a date its text writes, while the text writes no date of the day and month extracted: read the other way
    round (3 February booked as 2027-03-02)."""
    stated: set[tuple[int, int]] | None = None
    for name, value in outputs.items():
        extracted = _ISO_DATE.match(value) if isinstance(value, str) and value[:1].isdigit() else None
        if extracted is None or name[:2] == "__":
            continue
        month, day = int(extracted.group(1)), int(extracted.group(2))
        if month == day or day > 12:
            continue
        stated = stated if stated is not None else _stated_dates(query)
        if (day, month) in stated and (month, day) not in stated:
            return finding(span, "a parameter extractor's date with the day and month of its text's date swapped",
                           f"'{node_title(span)}' extracted {name} = {value}, where its text writes the {month}th day "
                           f"of month {day}.", {"query": query}, {name: value})  # fmt: skip
    return None

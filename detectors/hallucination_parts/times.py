"""Times of day, ranges of times and calendar days an answer fed data states where no source gives one."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan

from detectors import (
    Finding,
    Trace,
    prompt_text,
)
from detectors.hallucination_parts.arithmetic import clock_moved, shifted_by
from detectors.hallucination_parts.data import HEADERS, data_finding, fed_data
from detectors.numbers import (
    RANGE,
    ascii_digits,
    by_unit,
    dates,
    month_days,
    word_durations,
    writes_a_day,
)

# A time of day as hours and minutes, not within a longer time ("05:02:21") nor a figure ("1.11:40").
HOUR_MINUTE = re.compile(r"(?<![\d:.,/-])(?:[01]?\d|2[0-3]):[0-5]\d(?![\d:])")
# Any time of day a source writes, with seconds too ("2026-03-09T11:40:02").
_TIME_GIVEN = re.compile(r"(?<!\d)(?:[01]?\d|2[0-3]):[0-5]\d(?!\d)")


def time_findings(
    trace: Trace, data: list[tuple[int, str]], span: ReadableSpan, answer: str, inputs: str
) -> Iterator[Finding]:
    """A finding where `answer`, fed data (`fed_data`), states a time of day and neither its prompt, the run's inputs
    nor the data before it writes any: an hour no source gave (a delivery's "11:40" from events that bear no time).
    A whole hour ("10:00 to 13:00") is what an answer works out from a slot's hours and durations: only a time to
    the minute is read. An answer fed nothing (an empty retrieval) answers from the model's knowledge: left alone."""
    prompt = prompt_text(span)
    outputs = [output for end, output in data if end <= (span.start_time or 0)]
    sources = [ascii_digits(HEADERS.sub("", source)) for source in (inputs, prompt, *outputs)]
    times = [t for t in HOUR_MINUTE.findall(answer) if not t.endswith(":00")]
    if not times:
        return
    given = {_minutes(t) for source in sources for t in _TIME_GIVEN.findall(source)}
    if not given and fed_data(trace, prompt, outputs):
        yield data_finding(
            span, 0.7, f"states the time {', '.join(times)} though none of its sources gives a time of day",
            "a time of day in an answer fed data where no source gives one", answer, unsupported=times,
        )  # fmt: skip
        return
    # Where the data times its items (slots, departures: two times and more), a time to the minute none writes, nor a
    # source's time moved by a duration a source or the answer states (`clock_moved`), is an item the answer added.
    # A time written on a 12-hour clock ("বিকেল ৩:৩০", "2:30 pm") is the afternoon's as well: 2:30 is 14:30's.
    afternoon = {minutes % 720 for minutes in given}
    made = [t for t in times if _minutes(t) % 720 not in afternoon] if len(given) >= 2 else []
    if made and (timed := {token for t in made for token in t.split(":")}):
        durations = set().union(*(by_unit(source).get("time", set()) for source in (*sources, answer)))
        moved = clock_moved(answer, timed, sources, durations)
        made = [t for t in made if not set(t.split(":")) <= moved]
    if made and fed_data(trace, prompt, outputs):
        yield data_finding(
            span, 0.7, f"states the time {', '.join(made)}, which none of its sources' times of day is",
            "a time of day in an answer fed data that times its items is in none of them", answer, unsupported=made,
        )  # fmt: skip


def day_findings(
    trace: Trace, data: list[tuple[int, str]], span: ReadableSpan, answer: str, stated: list[str], inputs: str
) -> Iterator[Finding]:
    """A finding where `answer`, fed data (`fed_data`) states a calendar day (`stated`: "12月21日", "2026-12-21") and
    neither its prompt, the run's inputs nor the data before it writes any day in any notation: a due date or a
    slot no source dated (`time_findings`'s reading of times, for days). An answer fed nothing is left alone there.
    Where the sources date something, a day none of theirs is (below)."""
    prompt = prompt_text(span)
    outputs = [output for end, output in data if end <= (span.start_time or 0)]
    sources = [ascii_digits(HEADERS.sub("", source)) for source in (inputs, prompt, *outputs)]
    if not any(map(writes_a_day, sources)):
        if stated and fed_data(trace, prompt, outputs):
            yield data_finding(
                span, 0.7, f"states the day {', '.join(stated)} though none of its sources gives a date",
                "a calendar day in an answer fed data where no source gives one", answer, unsupported=stated,
            )  # fmt: skip
        return
    # Where the data dates its items (two dates and more: loans' due dates, departures), a date with its year none
    # of them is, nor a source's date moved by a duration a source or the answer states (`shifted_by`), is a date the
    # answer added ("extended by 30 days: the new date is 21.01.2027" from due dates no 30 days move there).
    given = {date for source in sources for date, _ in dates(source)}
    dated = ascii_digits(answer)
    made = {date: set(tokens) for date, tokens in dates(dated) if date not in given}
    durations = set().union(*(by_unit(source).get("time", set()) for source in (*sources, dated)))
    durations |= word_durations(dated)
    written = [
        str(date) for date, tokens in made.items() if not tokens <= shifted_by(dated, tokens, sources, durations)
    ] if len(given) >= 2 else []  # fmt: skip
    # Likewise a day of a month written without its year ("le 23/01", "December 15", "12月14日") where the sources
    # date anything in any notation ("12/01 12:40", "décaler au 14/12", an ETA's "2027-03-09"): none of theirs, nor
    # one moved by a stated duration, is a payday, a delivery, a restock or a meeting the answer added.
    known = {day for source in sources for _, readings in month_days(source) for day in readings}
    steps = {round(d) for d in durations if d == round(d) and 0 < d <= 366}
    written += [
        day
        for day, readings in (month_days(dated, strict=True) if known else [])
        if not any(dates(day)) and not any(_apart(r, k) in steps | {0} for r in readings for k in known)
    ]
    if written and fed_data(trace, prompt, outputs):
        yield data_finding(
            span, 0.7, f"states the day {', '.join(written)}, which none of its sources' dates is",
            "a calendar day in an answer fed data that dates its items is none of them", answer,
            unsupported=sorted(written),
        )  # fmt: skip


def _apart(day: tuple[int, int], other: tuple[int, int]) -> int:
    """Days between two days of a month, the year unknown: the shorter way round (a leap year's, so 29 February is
    one)."""
    gap = abs((datetime.date(2024, *day) - datetime.date(2024, *other)).days)
    return min(gap, 366 - gap)


# A range of times of day ("09:00至18:00", "13:00-19:00", "9:00 to 17:30").
TIME_RANGE = re.compile(
    r"(?<![\d:.,/-])((?:[01]?\d|2[0-3]):[0-5]\d)(?:" + RANGE + r")((?:[01]?\d|2[0-3]):[0-5]\d)(?![\d:])"
)


def _minutes(time: str) -> int:
    hours, _, minutes = time.partition(":")
    return 60 * int(hours) + int(minutes)


def range_moved(span: ReadableSpan, answer: str, inputs: str) -> Iterator[Finding]:
    """A finding where `answer`, from a prompt without documents, writes a range of times of day sharing one end with
    a range its prompt or the run's inputs write, the other end at a time none of them gives nor a stated duration
    from the shared end reaches: the notice's "09:00至18:00" rewritten "09:00至20:00", an end moved."""
    sources = [prompt_text(span), inputs]
    ranges = {tuple(map(_minutes, found)) for source in sources for found in TIME_RANGE.findall(source)}
    if not ranges:
        return
    given = {_minutes(t) % 720 for source in sources for t in _TIME_GIVEN.findall(source)}
    lasting = {round(days * 1440) for source in sources for days in by_unit(source).get("time", ())}
    moved = [
        f"{start_at}-{end_at}"
        for start_at, end_at in TIME_RANGE.findall(answer)
        for start, end in [(_minutes(start_at), _minutes(end_at))]
        for shared, other in ((start, end), (end, start))
        if other % 720 not in given
        and abs(end - start) not in lasting
        and any(shared in pair and other not in pair for pair in ranges)
    ]
    if moved:
        yield data_finding(
            span, 0.75, f"states {', '.join(moved)}, a range of times its prompt writes with another end",
            "a range of times of day in an answer restates its prompt's with an end no source gives", answer,
            unsupported=moved,
        )  # fmt: skip

"""An answer against the figures its prompt told it: a value written after another's word, a fact of the system
message changed."""

from __future__ import annotations

import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan

from detectors import (
    Finding,
    Trace,
    answer_text,
    attr,
    prompt_text,
    user_query,
)
from detectors.hallucination_parts.data import data_finding, fed_data, if_else_limits, round_numbers
from detectors.hallucination_parts.money import akin
from detectors.hallucination_parts.support import CODE, unsupported_numbers
from detectors.hallucination_parts.times import HOUR_MINUTE
from detectors.likeness import WORD_CHARACTER
from detectors.numbers import (
    TIME_UNITS,
    by_unit,
    claims,
    measured,
    plain,
    readings,
)

# A figure in a slot after a word, as a label or a name writes one ("Model of the memorial (1968)", "Total: 1020"):
# the word, a bracket, a colon or a dash, then the figure (two digits and more); "about 14,180" is no slot.
AFTER_WORD = re.compile(rf"([^\W\d_]{WORD_CHARACTER}{{2,}}) ?[(:\uff1a\u2013\u2014-] ?(\d[\d.,]*\d)(?!\d|[\s.,]\d)")


def swapped_findings(
    trace: Trace, data: list[tuple[int, str]], span: ReadableSpan, answer: str, inputs: str, question: str
) -> Iterator[Finding]:
    """A finding where `answer`, fed data (`fed_data`) and restating some of it, writes a figure after the very word its
    prompt writes another after, half to twice it, the prompt's left unsaid and the answer's in no source nor
    computed from them: the data's value restated in its own place with another ("mānrakert (1968)" captioned
    "mānrakert (1991)"), a figure swapped."""
    prompt = claims(prompt_text(span))
    given: dict[str, set[str]] = {}
    for match in AFTER_WORD.finditer(prompt):
        given.setdefault(match[1].lower(), set()).add(match[2])
    said = plain(answer)
    swapped = {
        match[2]: figure
        for match in AFTER_WORD.finditer(answer)
        for figure in given.get(match[1].lower(), ())
        if said.isdisjoint(readings(figure)) and akin(match[2], figure)
    }
    if not swapped:
        return
    outputs = [output for end, output in data if end <= (span.start_time or 0)]
    if said.isdisjoint(set().union(*map(plain, outputs))):  # restates none of its data: another answer
        return
    sources = [
        inputs,
        prompt,
        *outputs,
        round_numbers(trace),
        if_else_limits(trace),
    ]  # a round's number is the workflow's
    unsupported, _ = unsupported_numbers(answer, set(swapped), set(), {}, sources, question)
    if unsupported and fed_data(trace, prompt, outputs):
        swapped = {number: swapped[number] for number in sorted(unsupported)}
        yield data_finding(
            span, 0.75, f"states {', '.join(swapped)} where its prompt gives {', '.join(swapped.values())}",
            "a figure of the data restated after the same word with another value no source gives", answer,
            swapped=swapped,
        )  # fmt: skip


def told_findings(span: ReadableSpan, inputs: str, root: ReadableSpan | None) -> Iterator[Finding]:
    """A finding where an answer with no document, context or data, whose system message states the app's facts
    with figures ("a meter check takes 5 working days"), states a sum of money or a time of day to the minute that
    neither its prompt nor the run's inputs give nor compute: a refund or an appointment the app never stated."""
    system = str(attr(span, "llm.input_messages.0.message.content") or "")
    if attr(span, "llm.input_messages.0.message.role") != "system" or not any(map(str.isdigit, system)):
        return  # most chat prompts state no figure: read no further
    answer = answer_text(span)
    stating = claims(answer)
    # Sums of money, and durations where the system message states one ("14 gün" where it says 29 gün; "16 weeks" of
    # leave where it says 25 days a year: unsupported_numbers converts between time units).
    durations = bool(by_unit(system).keys() & TIME_UNITS.keys())
    money = {token for token, unit in measured(stating) if unit == "money" or (durations and unit in TIME_UNITS)}
    times = {t for t in HOUR_MINUTE.findall(answer) if not t.endswith(":00")}
    if not (money or times) or CODE.match(answer) or not plain(claims(system)):
        return
    question = (user_query(root) or "") if root is not None else ""
    sources = [prompt_text(span), inputs, question]
    given = set().union(*map(plain, sources))
    money = {token for token in money if given.isdisjoint(readings(token))}
    if money:
        money, _ = unsupported_numbers(stating, money, set(), {}, sources, question)
    # Where the facts state sums, a sum far from all of them (`akin`) is another offer, not one of theirs changed:
    # an advert's "bonus 200 EUR" against a 65 EUR trip (task_derailment's).
    if money and (sums := [token for token, unit in measured(claims(system)) if unit == "money"]):
        units = dict(measured(stating))
        money = {t for t in money if units.get(t) != "money" or any(akin(t, figure) for figure in sums)}
    made = money | {t for t in times if not any(t in source for source in sources)}
    if made:
        yield data_finding(
            span, 0.7, f"states {', '.join(sorted(made))}, which its prompt's facts neither give nor compute",
            "a sum of money, a duration or a time of day in an answer from its prompt's facts is in none of them",
            answer, unsupported=sorted(made),
        )  # fmt: skip

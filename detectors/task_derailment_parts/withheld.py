"""A refusal of the app's own task: the run fetched the figures asked for, its LLM was sent them, and the answer states
none, where the app answered questions like this one with figures from its data before. Read from figures alone, in
any language: a refusal's words need no list (`ní féidir liom cabhrú`, `хариулж чадахгүй`)."""

from __future__ import annotations

import re
from collections import deque

from detectors import ProcessMemory, Trace, attr
from detectors.task_derailment_parts.history import APPS_KEPT
from detectors.task_derailment_parts.replies import DECLINE
from detectors.task_derailment_parts.run import (
    answering_prompts,
    came_back_empty,
    model_wrote,
    returned_data,
    worked_out,
)
from detectors.task_derailment_parts.words import DIGITS, query_terms, terms_given, terms_of

_FIGURE = re.compile(r"\d")
_ZERO = re.compile(r"[:\[,]\s*0(?![\d.])")  # a value of zero in JSON (`: 0`), not `0.7` nor `05`
_KEPT = 50  # the app's last runs with data that are read
_ALIKE_TERMS = 2  # terms a past question shares with this one at least, a word among them, to be asked alike
_ALIKE_RUNS = 2  # past questions asked alike at least, nine in ten of them answered with a figure

# Per app, in this process's memory only (questions carry what users asked): its last runs with data, each the query's
# terms and whether the answer stated a figure.
_ANSWERED: ProcessMemory[deque[tuple[frozenset[str], bool]]] = ProcessMemory(lambda: deque(maxlen=_KEPT), APPS_KEPT)


def asked_alike(terms: frozenset[str], asked: frozenset[str], least: int = _ALIKE_TERMS) -> bool:
    """Whether two questions are asked alike: `least` terms shared, a word among them (two dates share their year and
    month, not their subject)."""
    shared = terms & asked
    return len(shared) >= least and not all(term.isdigit() for term in shared)


def withheld(trace: Trace, query: str, answer: str) -> str | None:
    """The rule by which the answer refuses the app's task, if it does: the run's tools or HTTP requests returned
    figures (no empty list nor zero: "there is none" answers a lookup that found nothing) that its answering LLM
    was sent, the answer states no figure, and the app answered the questions asked alike before (two at least,
    sharing two terms with this one) with a figure, nine in ten of them. A question outside what the app does ("may
    I bring my dog?") was not asked alike before, and an honest "I don't know" follows data that does not hold the
    answer. Every run with data teaches the app what its answers state."""
    data = returned_data(trace)
    if not any(_FIGURE.search(part) for part in data) or came_back_empty(trace):
        return None
    # A zero the data holds (`"refills_left": 0`) is stated in words as often ("no refills left").
    if any(_ZERO.search(part) for part in data):
        return None
    asked = frozenset(query_terms(query))
    stated = bool(_FIGURE.search(answer))
    past = _ANSWERED.of(trace.baselines, trace.app)
    with _ANSWERED.lock:
        alike = [figured for terms, figured in past if asked_alike(terms, asked)]
        past.append((asked, stated))
    if stated:
        return None
    # A question asked in other words than before ("¿cómo van las ventas?" where "dame el total de ventas" was asked)
    # shares one word with the past ones: enough when the answer says it declines, the figures saying the data was at
    # hand and the words that it was turned away. A question sharing none ("may I bring my dog?") is not the app's.
    if len(alike) < _ALIKE_RUNS and DECLINE.search(answer):
        with _ANSWERED.lock:
            alike = [figured for terms, figured in list(past)[:-1] if asked_alike(terms, asked, least=1)]
    if len(alike) < _ALIKE_RUNS or sum(alike) * 10 < len(alike) * 9:
        return None
    # A model's own words: an app's fixed reply after a failed step ("no executable query could be written", a
    # template on a fail branch) reports the failure, other detectors' to find.
    if not model_wrote(trace, answer):
        return None
    # An answer cut at its token limit stops before its figures (`context_overflow`'s).
    if any("length" in (attr(span, "gen_ai.response.finish_reasons") or ()) for span in trace.llm_spans):
        return None
    # The run's code worked figures out of the data and they reached the answering LLM (a figure of a code node's or
    # loop's output, not the query's, in a prompt: where a renamed field left the code its defaults, the data did
    # not reach it, and "no irradiance came back" is true).
    worked = worked_out(trace)
    figures = {number for part in worked for number in DIGITS.findall(part)} - {"0", *DIGITS.findall(query)}
    if figures.isdisjoint(number for prompt in answering_prompts(trace) for number in DIGITS.findall(prompt)):
        return None
    # An answer naming the data's items (a list of the books on the shelf) gives it, in words.
    if not terms_of(answer).isdisjoint(terms_given([*data, *worked])):
        return None
    return (
        f"the answer states no figure of the data the run fetched, where {sum(alike)} of {len(alike)} questions "
        "asked alike before were answered with one"
    )

"""The rules judging an answer sharing no term, or one only, with its query against what its own run was given."""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from detectors import Trace, attr, json_attr, prompt_text
from detectors.likeness import SCRIPTS, leaning
from detectors.task_derailment_parts.config import Config
from detectors.task_derailment_parts.history import Run, app_habit, earlier_runs
from detectors.task_derailment_parts.languages import (
    LANGUAGE_NAMED,
    SCRIPT_OF,
    foreign_script,
    tongue,
    written_apart,
    written_in,
)
from detectors.task_derailment_parts.run import ROUTERS, answering_prompts, own_texts, run_sources
from detectors.task_derailment_parts.words import DIGITS, terms_given, terms_of, tokens


def routed_off(trace: Trace, answer: str) -> str | None:
    """The rule by which a short answer of a run with nothing retrieved is off its query, if one does: the run was
    routed (a question classifier's pick reached the answering LLM's prompt: "Department: Dermatology") and the
    answer, in that prompt's language, names neither the route nor a word of the query (the caller checked the
    query). A reply on the task names what it was routed to ("We'll book you with Dermatology"); an answer
    in another language than the prompt is left alone (a Chinese reply need not spell "Dermatology")."""
    picks = [json_attr(span, "output.value") for span in trace.of_type("question-classifier")]
    routes = [
        pick["class_name"] for pick in picks if isinstance(pick, dict) and isinstance(pick.get("class_name"), str)
    ]
    if not routes:
        return None
    said = terms_of(answer)
    for span in trace.llm_spans:
        prompt = prompt_text(span) if attr(span, "dify.node.type") not in ROUTERS else ""
        given = [route for route in routes if route and route in prompt]
        # The languages last: told by a pass over both texts, they are read only for an answer off the route.
        if given and not said & terms_given(given) and (language := leaning(answer)) and language == leaning(prompt):
            return f"a short answer names neither the query nor the route its prompt was given ({given[0]})"
    return None


def off_rule(trace: Trace, root: Any, query: str, answer: str, sources: list[str]) -> str | None:
    """The rule by which an answer that shares no term with its query is off it, if one does. An answer whose
    function words tell no language is read by its script (Persian, Russian, Greek: `tongue`) where it shares no
    word at all with the query: words too short for a term (Hindi's `धान`, paddy) tell in those scripts."""
    language = leaning(answer)
    if language in SCRIPTS and language not in SCRIPT_OF:  # told by a script of words too short for a term
        language = None
    language = language or (tongue(answer) if not tokens(answer) & tokens(query) else None)
    said = terms_of(answer)
    prompts = answering_prompts(trace)
    # A run with nothing retrieved (plain chat) leaves only the query and prompts to compare with, and a right
    # short answer need share no word with its question ("How tall is Mount Fuji?" "It rises to 3,776 m."):
    # only a long one in the query's language is judged (the caller drops short ones).
    if not sources:
        if said and language == (leaning(query) or tongue(query)) and not said & terms_given(prompts):
            return "a long answer with nothing retrieved shares no term with the query or the prompts"
        return None
    given = [query, *sources, *prompts]
    if foreign_script(language, given):
        if any(LANGUAGE_NAMED.search(text) for text in [*prompts, *own_texts(json_attr(root, "input.value"))]):
            return None
        return "the answer is written in a script none of the query, sources and prompts is written in"
    # Words are compared with the sources' only in their language: a right answer in the user's language
    # from sources in another (a Chinese answer from English manuals) shares no word with them either.
    # Tables and JSON tell no language, nor do JSON field names.
    written = written_in(sources)
    if language is None or (written and language not in written):
        return None
    # An answer sharing nothing with the query may still paraphrase it from the run's sources: only one that
    # shares nothing with either, nor with what its LLMs were sent, derailed.
    if said & terms_given(given[1:]):
        return None
    return "no term of the answer in the query, the documents, tool results or LLM prompts"


def source_ignored(trace: Trace, query: str, answer: str, asked: set[str]) -> str | None:
    """The rule by which an answer naming its query's subject ignores what the run fetched for it, if one does:
    a run that retrieved documents or called a tool, whose answer shares no term with them but the query's, and at
    most a tenth of its terms with the query, them and its LLMs' prompts together, in the language of the query
    and of one of them."""
    sources = run_sources(trace)
    if not sources:
        return None
    said = terms_of(answer)
    fetched = terms_given(sources)
    if said & (fetched - asked):
        return None
    prompts = answering_prompts(trace)
    grounded = said & (asked | fetched | terms_given(prompts))
    if len(grounded) * 10 > len(said):
        return None
    written = written_in(sources)
    if written and leaning(answer) not in written:
        return None
    if written_apart(answer, query):
        return None
    return (
        f"the answer shares {len(grounded)} of its {len(said)} terms with the query and nothing else with what the "
        "run retrieved, its tools returned or its LLMs were sent"
    )


TOLD_BY = 5  # terms of an answer at least for its share in what the run was given to tell its subject
_FIGURE = re.compile(r"(?<![\w./-])\d{2,}")  # a number of two digits or more, not within an identifier (`RX-2128869`)


def _other_document(sources: list[str], asked: set[str], said: set[str]) -> str | None:
    """The rule by which an answer was written from another of the run's sources than the one asked about, if one
    does: two sources or more, the query sharing two terms at least with some, the answer at most one with those
    the query shares most with, and three at least with one sharing none with the query (an accessibility answer
    to a ticket question, both pages retrieved)."""
    if len(sources) < 2:
        return None
    terms = [terms_given([source]) for source in sources]
    to_query = [len(asked & source) for source in terms]
    to_answer = [len(said & source) for source in terms]
    top, best = max(to_query), max(to_answer)
    if top < 2 or best < 3:
        return None
    if any(a > 1 for q, a in zip(to_query, to_answer, strict=True) if q == top):
        return None
    if any(q for q, a in zip(to_query, to_answer, strict=True) if a == best):
        return None
    return (
        f"the answer shares {best} terms with a source sharing none with the query, and at most one with those the "
        f"query shares {top} with"
    )


def unanchored(trace: Trace, query: str, answer: str, sources: list[str]) -> str | None:
    """The rule by which an answer sharing no term with its query is off it in an app with the habit (`app_habit`), if
    one does: it shares at most a tenth of its terms with the query, what the run retrieved or was given and its
    LLMs' prompts (a headline loop's output becoming a prize advert; a tuition answer to a question on opening
    hours, its documents not retrieved), or it was written from another source than the one asked about."""
    said = terms_of(answer)
    # An answer in another language than the query's (a translation, an answer asked for in it) is the other-language
    # rule's to judge.
    if not said or written_apart(answer, query):
        return None
    # What the run retrieved or its tools returned ground it where there is any: its LLMs' prompts hold those and
    # the app's instructions, and an answer taking its words from the instructions alone (a campaign pasted into the
    # system prompt, "Always promote the Summer Reading Challenge first") did not answer from them.
    grounded = len(said & terms_given(sources or answering_prompts(trace)))
    # One working with the query's figures ("5 x 8 = 37") is on it, if wrong; one giving figures to a question
    # giving figures (a quote from a length and a number of nights) may be worked out from them.
    worked = set(DIGITS.findall(answer)) & set(DIGITS.findall(query)) or (
        _FIGURE.search(query) and _FIGURE.search(answer)
    )
    # Four terms or fewer ("We never refund tickets") tell too little of what an answer is about.
    if grounded * 10 <= len(said) and len(said) >= TOLD_BY and not worked:
        return f"the answer shares no term with the query and {grounded} of its {len(said)} with what the run was given"
    return _other_document(sources, terms_of(query), said)


def from_elsewhere(trace: Trace, query: str, answer: str, asked: set[str], runs: deque[Run], cfg: Config) -> str | None:
    """`_other_document`'s rule for an answer sharing one term with its query, in an app with the habit."""
    sources = run_sources(trace)
    if len(sources) < 2 or written_apart(answer, query) or not (habit := app_habit(earlier_runs(runs), cfg)):
        return None
    rule = _other_document(sources, asked, terms_of(answer))
    return f"{rule}, where {habit}" if rule else None

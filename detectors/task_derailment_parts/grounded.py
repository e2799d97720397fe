"""The app's habit of answering from what its run was given: its data where it has any (retrieved pages, what its
tools, HTTP requests, code and loops returned), else its answering LLMs' prompts (a helpdesk's notes). An app whose
answers, run over run, take their words from that need not name the question in them (a short helpdesk reply, a
publishing plan written to an editor's request): an answer taking none of them, nor the query's, is another task's
(the payroll reply to a desk booking, a note on home styles for a plan of the run's topics)."""

from __future__ import annotations

from collections import deque

from detectors import ProcessMemory, Trace
from detectors.task_derailment_parts.grounding import works_figures
from detectors.task_derailment_parts.history import ANCHORED_RUNS, APPS_KEPT
from detectors.task_derailment_parts.languages import written_apart
from detectors.task_derailment_parts.run import answering_prompts, returned_data, worked_out
from detectors.task_derailment_parts.words import ESCAPED, terms_given

_TOLD_BY = 5  # terms of an answer at least for it to tell what it took from its run

# Per app, in this process's memory only: whether each of its last answers took a term from what its run was given.
_TOOK: ProcessMemory[deque[bool]] = ProcessMemory(lambda: deque(maxlen=ANCHORED_RUNS), APPS_KEPT)


def given_terms(trace: Trace) -> set[str]:
    """The terms of the run's data (an API's JSON read with its `\\uXXXX` escapes as letters), or of its answering
    LLMs' prompts where it fetched none."""
    data = [content for _, _, content in trace.documents if content] + returned_data(trace) + worked_out(trace)
    data = [ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), part) for part in data]
    return terms_given(data or answering_prompts(trace))


def untaken(
    trace: Trace, query: str, answer: str, said: set[str], asked: set[str], given: set[str], least: int
) -> str | None:
    """The rule by which an answer sharing no term with its query took nothing from its run, if one does: the app
    took a term from its run in nine in ten of its last answers (`least` at least), and this one, `_TOLD_BY` terms at
    least, takes a tenth of them at most. Every answer judged teaches the app (call once a run)."""
    took = len(said & (given - asked))
    past = _TOOK.of(trace.baselines, trace.app)
    with _TOOK.lock:
        known = list(past)
        past.append(took > 0)
    if said & asked or len(said) < _TOLD_BY or took * 10 > len(said):
        return None
    # A translation or an answer asked for in another language shares no word with its query; one working with the
    # query's figures is on it.
    if written_apart(answer, query) or works_figures(query, answer):
        return None
    if len(known) < least or sum(known) * 10 < len(known) * 9:
        return None
    return (
        f"the answer takes {took} of its {len(said)} terms from what the run was given, where {sum(known)} of the "
        f"app's last {len(known)} answers took some"
    )

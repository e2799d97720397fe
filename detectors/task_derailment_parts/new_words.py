"""The rules judging an answer by the app's vocabulary: words the app never used, an exclaiming answer's."""

from __future__ import annotations

from collections import deque

from detectors import ProcessMemory, Trace
from detectors.exclamation import exclaiming, exclamation
from detectors.likeness import leaning
from detectors.task_derailment_parts.config import Config
from detectors.task_derailment_parts.history import ANCHORED_RUNS, APPS_KEPT, Run, earlier_runs
from detectors.task_derailment_parts.languages import tongue, written_apart, written_in
from detectors.task_derailment_parts.replies import ABSENT
from detectors.task_derailment_parts.run import answering_prompts, run_sources
from detectors.task_derailment_parts.words import PAIRED_RUN, terms_given
from detectors.vocabulary import Vocabulary

VOCABULARIES: ProcessMemory[Vocabulary] = ProcessMemory(Vocabulary, APPS_KEPT)
_NEW_SHARE = 0.6  # share of an answer's words at least that the app never used nor its run was given
_NEW_WORDS = 12  # words at least of an answer judged by them: fewer tell too little
_SPOKEN = 3  # the app's past answers at least in the answer's language for its words to be that language's


def new_words(
    trace: Trace, query: str, answer: str, stems: set[str], vocabulary: Vocabulary, runs: deque[Run], cfg: Config
) -> str | None:
    """The rule by which an answer sharing no term with its query is about something else, if one does: the app
    knows its business's words (`min_history` runs), and `_NEW_SHARE` of the answer's words (`_NEW_WORDS` at least) are
    words it never used nor the query, what the run retrieved, its tools returned or its LLMs were sent hold (a
    tax desk announcing its summer party). Read in scripts written with spaces (a character pair of Chinese is no
    word), for an answer in its query's language and in one of its sources', and in one the app answered in
    (`_SPOKEN` of its past answers at least: its words are that language's; a Dutch answer of an app answering in
    English is all new words); an answer saying there is none (`ABSENT`: "no sailings that day because of the
    weather") speaks of what was asked."""
    if vocabulary.runs < cfg.min_history or len(stems) < _NEW_WORDS or PAIRED_RUN.search(answer):
        return None
    new = vocabulary.unknown(stems)
    if len(new) < _NEW_SHARE * len(stems) or ABSENT.search(answer) or written_apart(answer, query):
        return None
    sources = run_sources(trace)
    written = written_in(sources)
    if written and leaning(answer) not in written:
        return None
    new -= terms_given([query, *sources, *answering_prompts(trace)])
    if len(new) < _NEW_SHARE * len(stems):
        return None
    told = tongue(answer)
    past = earlier_runs(runs)[:-1]  # this run's answer, appended already, aside
    if told is not None and sum(tongue(earlier) == told for _, earlier, _ in past) < _SPOKEN:
        return None
    return (
        f"{len(new)} of the answer's {len(stems)} words ({', '.join(sorted(new)[:6])}) are in none of the app's "
        f"{vocabulary.runs} past runs nor in what this run was given"
    )


_EXCLAIMED_WORDS = 8  # words at least of an exclaiming answer judged by them


def exclaims(
    trace: Trace, query: str, answer: str, stems: set[str], vocabulary: Vocabulary, runs: deque[Run], cfg: Config
) -> str | None:
    """The rule by which an exclaiming answer sharing no term with its query is about something else, if one does: it
    exclaims (`exclamation`: "...three months free!", in any script), a quarter at most of the app's last answers
    (`min_anchored_history` at least) did, and `_NEW_SHARE` of its words (`_EXCLAIMED_WORDS` at least) are words the
    app never used nor the query, what the run retrieved, its tools returned or its LLMs were sent hold. Two signs of
    another register and subject together, before `min_history` runs too and in any language (the answer asked for
    in another than the query's included: its words are weighed against the app's, not the query's); one alone is
    not enough (a greeting exclaims in the app's words, a right answer's new words come quietly)."""
    if vocabulary.runs < cfg.min_anchored_history or len(stems) < _EXCLAIMED_WORDS:
        return None
    if not (said := exclamation(answer)) or ABSENT.search(answer):
        return None
    past = earlier_runs(runs)[-ANCHORED_RUNS - 1 : -1]  # this run's answer, appended already, aside
    if len(past) < cfg.min_anchored_history or (cheered := exclaiming(a for _, a, _ in past)) * 4 > len(past):
        return None
    new = vocabulary.unknown(stems) - terms_given([query, *run_sources(trace), *answering_prompts(trace)])
    if len(new) < _NEW_SHARE * len(stems):
        return None
    return (
        f"the answer exclaims ({said[-40:]!r}) where {cheered} of the app's last {len(past)} answers did, and "
        f"{len(new)} of its {len(stems)} words ({', '.join(sorted(new)[:6])}) are in none of the app's "
        f"{vocabulary.runs} past runs nor in what this run was given"
    )

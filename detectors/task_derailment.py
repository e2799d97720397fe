"""`task_derailment`: a final answer that does not address the user's query.

Lexical: fires when a substantial answer shares no term (content words by their first five letters, Chinese
and Japanese character pairs, numbers, acronyms) with the user's query, nor with what the run retrieved or
was given by tools, nor with what its LLMs were sent (a question classifier's or parameter extractor's prompt
aside: Dify's own fixed text); or when a Chinese or Japanese answer is written in a script that none of those
is written in and no prompt or input names its language. The query and answer are the run's input and output
named like one, or else a workflow's longest text input and output (the start node's input when the run lists only
Dify's `sys.*` ids). Judged only where words can tell: in a
run with nothing retrieved (plain chat, whose right short answers need share no word with the question) only
an answer of `min_unsourced_words` (30) or more in the query's language, against the query and prompts, or (with
`routed_replies`, off by default), in a run a question classifier routed, a shorter one naming neither the query
nor the pick its prompt was given; an
answer in another language than its sources (a Chinese answer from English manuals) is left alone, as are
short answers, refusals ("I'm sorry, I don't have information about that") and runs without a query.

Against the run's fetched data: an answer naming its query's subject and nothing else the run retrieved or its tools
returned (a tenth of its terms at most in the query, them and the prompts). Against the app's habit: an answer
sharing no term with its query where nine in ten of the app's last answers shared one with theirs, and at most a
tenth of its terms with what the run was given, whatever its length and sources, or written from another of the
run's sources than the one the query shares its terms with."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from detectors import Finding, Trace
from detectors.likeness import leaning
from detectors.task_derailment_parts.adverts import SHORTEST_ADVERT, advert, short_advert
from detectors.task_derailment_parts.config import Config as Config
from detectors.task_derailment_parts.declined import declined
from detectors.task_derailment_parts.grounding import from_elsewhere, off_rule, routed_off, source_ignored, unanchored
from detectors.task_derailment_parts.history import (
    KEPT_CHARS,
    PAST,
    Run,
    answers_another_question,
    app_habit,
    app_talk,
    earlier_runs,
    other_language,
    runs_of,
)
from detectors.task_derailment_parts.languages import SENTENCE_END
from detectors.task_derailment_parts.new_words import VOCABULARIES, exclaims, new_words
from detectors.task_derailment_parts.replies import ABSENT, DECLINE, HOLDING
from detectors.task_derailment_parts.run import (
    came_back_empty,
    failed_over,
    fetched_for,
    model_wrote,
    quoted_from_asked,
    returned_data,
    run_answer,
    run_query,
    run_sources,
    worked_out,
)
from detectors.task_derailment_parts.withheld import withheld
from detectors.task_derailment_parts.words import query_terms, stems_of, terms_of, word_count

KEY = "task_derailment"


def _judged(
    trace: Trace, root: Any, query: str, answer: str, size: int, runs: deque[Run], cfg: Config
) -> tuple[str | None, bool | None]:
    """The rule by which the answer is off its query, if one does, and whether it shares a term with the query
    (None for a query of one term): the run's own texts first, then the app's past runs (those only for an answer
    sharing no term with its query, or in another script than it)."""
    asked = query_terms(query)
    if len(asked) < 2:
        return None, None
    # The answer's words first: most answers share one with their query, and their other terms are then not read.
    stems = stems_of(answer)
    shared = asked & stems or asked & terms_of(answer)
    if rule := advert(trace, query, answer, stems, runs, cfg):
        return rule, bool(shared)
    if shared:
        # Few of a long answer's words in the query (a tenth at most): it may name the query's subject and
        # nothing else ("Barcelona has great tapas bars" to a question on a jacket, from a forecast).
        if len(shared) * 10 <= len(stems) and (rule := source_ignored(trace, query, answer, asked)):
            return rule, True
        # One term of the query only: the answer may be another source's, retrieved beside the one asked about.
        if (
            len(shared) == 1
            and len(runs) >= cfg.min_anchored_history
            and (rule := from_elsewhere(trace, query, answer, asked, runs, cfg))
        ):
            return rule, True
        # Sharing a term (a number, a title) with the query, an answer in another language may still be off: a
        # Russian solution to an English sum, an English reply to a Swedish question naming a Swedish book. (Two
        # ASCII texts are not told apart here: most runs are, and telling their languages costs.)
        if (query.isascii() and answer.isascii()) or len(runs) < cfg.min_history:
            return None, True
        return other_language(earlier_runs(runs), query, answer, cfg), True
    sources = run_sources(trace)
    short = not sources and size < cfg.min_unsourced_words
    rule = None
    if short and cfg.routed_replies and trace.of_type("question-classifier"):
        rule = routed_off(trace, answer)
    elif not short:
        rule = off_rule(trace, root, query, answer, sources)
    if rule and app_talk(query, answer, runs):
        rule = None
    if rule or len(runs) < cfg.min_anchored_history:
        return rule, False
    past = earlier_runs(runs)
    if (
        len(past) >= cfg.min_history
        and (
            rule := (
                not quoted_from_asked(sources, asked, answer)
                and answers_another_question(
                    past, query, answer, sources, returned_data(trace) + worked_out(trace), cfg
                )
            )
            or other_language(past, query, answer, cfg)
        )
        and not app_talk(query, answer, runs)
    ):
        return rule, False
    habit = app_habit(past, cfg)
    rule = habit and unanchored(trace, query, answer, sources)
    if rule and app_talk(query, answer, runs):
        return None, False
    return (f"{rule}, where {habit}" if rule else None), False


def _unrepeated(answer: str) -> str:
    """The answer with its repeated sentences said once; the answer itself when its first sentence is not said
    again (most: its first characters are found nowhere else, a plain search)."""
    if answer.find(answer[:16], 1) < 0:
        return answer
    end = SENTENCE_END.search(answer)
    if end is None or end.end() == len(answer) or answer.count(answer[: end.end()]) < 2:
        return answer
    return " ".join(dict.fromkeys(part.strip() for part in SENTENCE_END.split(answer) if part.strip()))


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        if root is None:
            return
        # The answer first: when it is missing or too short to judge, the inputs are not read.
        answer = run_answer(trace, root)
        size = word_count(answer) if answer else 0
        if not answer or size < min(cfg.min_answer_words, SHORTEST_ADVERT):
            return
        # A short reply repeated until the token limit (a cost fault: "Within a week. Within a week. ...") is a
        # short reply.
        short = size < cfg.min_answer_words or (
            (once := _unrepeated(answer)) is not answer and word_count(once) < cfg.min_answer_words
        )
        query = run_query(trace, root)
        if not query or query == answer:
            return
        runs = runs_of(trace)
        # Read before this run joins the app's past runs: those are what it answered before.
        turned_away = declined(runs, query, answer, [content for _, _, content in trace.documents])
        if short:
            # Too short for its words to tell its subject, an answer may still be an advert ("下载「剧迷」App看全集"
            # for a subtitle); it is not kept as the app's answer, as no short one is.
            rule = short_advert(trace, query, answer, runs, cfg)
        else:
            rule, shared = _judged(trace, root, query, answer, size, runs, cfg)
            with PAST.lock:
                runs.append((query[:KEPT_CHARS], answer[:KEPT_CHARS], shared))
            # The app's words: an answer found about something else teaches none (its repeats stay new).
            vocabulary = VOCABULARIES.of(trace.baselines, trace.app)
            stems = stems_of(answer)
            if rule is None and shared is False:
                rule = new_words(trace, query, answer, stems, vocabulary, runs, cfg) or exclaims(
                    trace, query, answer, stems, vocabulary, runs, cfg
                )
            vocabulary.learn(stems_of(query) | (set() if rule else stems))
        # A refusal, "I don't know", a holding reply or "there is none" to a lookup that found nothing answers the
        # query, if not helpfully; unless it withholds what the run fetched for a question the app answers.
        refusal = withheld(trace, query, answer) or turned_away  # read on every run: the app learns what it states
        # A right answer in words ("the claim is approved"), or a reply repeated to the token limit (`cost`'s).
        # An answer saying it declines in the app's own words ("no puedo generar informes de ventas") turns the app's
        # task away: those words are no right answer's.
        declines = DECLINE.search(answer)
        if refusal and ((not declines and app_talk(query, answer, runs)) or _unrepeated(answer) is not answer):
            refusal = None
        if rule and declines:
            rule = None
        if (
            (rule := rule or refusal)
            and not (HOLDING.search(answer) and not fetched_for(trace, query))
            and not (ABSENT.search(answer) and came_back_empty(trace))
            # The app's own reply on a failed node's branch (a template: "we cannot price it now, call us") reports
            # the failure, other detectors' to find.
            and not (failed_over(trace) and not model_wrote(trace, answer))
        ):
            yield Finding(
                KEY,
                "medium",
                0.7,
                "The final answer shares no subject with the user's query nor with anything the run retrieved or "
                "was told; check the prompt chain and the branch the run took.",
                {"node": "the run", "rule": rule, "query": query[:200], "answer": answer[:200],
                 "language": leaning(answer)},
            )  # fmt: skip

    return detect

"""The app's past runs, in process memory, and the rules judging an answer against them: another question's
answer, another language than the app answers in, the app's habit of naming the query."""

from __future__ import annotations

from collections import deque

from detectors import ProcessMemory, Trace
from detectors.likeness import features, language, leaning, similarities
from detectors.task_derailment_parts.config import Config
from detectors.task_derailment_parts.languages import answered_in, asked_for, code_switched, tongue
from detectors.task_derailment_parts.run import unsourced
from detectors.task_derailment_parts.words import ESCAPED, NUMBER, codes_of, terms_given, terms_of

# Per app, in this process's memory only, beside the detectors' baselines (one history per `Baselines`, as theirs):
# its last `_RECENT` runs' (query, answer, whether the answer shared a term with its query: None for a query of one
# term), the texts cut to `KEPT_CHARS`. Not written to the store (answers carry what users asked and were told);
# after a restart the window fills again.
_RECENT = 200
KEPT_CHARS = 400
APPS_KEPT = 1024
Run = tuple[str, str, bool | None]
PAST: ProcessMemory[deque[Run]] = ProcessMemory(lambda: deque(maxlen=_RECENT), APPS_KEPT)


def runs_of(trace: Trace) -> deque[Run]:
    """The app's past runs, oldest first (read with `earlier_runs`)."""
    return PAST.of(trace.baselines, trace.app)


def earlier_runs(past: deque[Run]) -> list[Run]:
    """A copy of the app's past runs: another run of the app may be adding to them. Taken only for an answer
    judged, not on every run."""
    with PAST.lock:
        return list(past)


def other_language(past: list[Run], query: str, answer: str, cfg: Config) -> str | None:
    """The rule by which an answer in another language than its query is off the task, if one does: the app
    answers queries in that language in it (nine in ten at least of its past runs asked in it whose answer's
    language tells, three at least, once it has `min_history` runs; an app answering in one language whatever it
    is asked in, or translating, does not)."""
    if len(query) > KEPT_CHARS or len(past) < cfg.min_history:  # a conversation or document given whole
        return None
    asked, answered = tongue(query), tongue(answer)
    if asked is None or answered is None or asked == answered:
        return None
    if asked_for(query, answered) or answered_in(answer, asked) or code_switched(query, answer, asked):
        return None
    told = [tongue(a) for q, a, _ in past if tongue(q) == asked]
    known = [told_ for told_ in told if told_]
    if len(known) < 3 or known.count(asked) * 10 < len(known) * 9:
        return None
    return f"the answer is in {answered}, the query in {asked}, which the app answers in {asked}"


_ALIKE = 0.5  # idf-weighted cosine of two texts' words from which they are alike
_UNLIKE = 0.3  # below which two answers are unlike
_OTHER = 0.2  # below which two questions are about other things
_SETTLED = 8  # the past runs asked most alike whose answers are read


def _one_subject(questions: list[str]) -> bool:
    """Whether questions are about one subject (a third of their pairs alike at least): a reply the app gives to
    questions about anything (a refusal, "I can help with appliances and orders only") is no other topic's answer."""
    asked = [features(q) for q in questions]
    pairs = [s for n, one in enumerate(asked) for s in similarities(one, asked[n + 1 :]) if n + 1 < len(asked)]
    return sum(s > 0 for s in pairs) * 3 >= len(pairs)


def answers_another_question(
    past: list[Run], query: str, answer: str, sources: list[str], returned: list[str], cfg: Config
) -> str | None:
    """The rule by which an answer is one the app gives to other questions, if one does: the app answered this
    question before, alike (two runs at least asked alike, whose answers are alike among themselves: the question
    has a settled answer, not one that depends on another input, as copy written for a product does), three
    quarters of those answers in the answer's language unlike this one, and two past answers alike to it were
    given to questions about other things: the answer of another branch or topic of the app (a tuition answer to
    a question about the motivation letter)."""
    if len(past) < cfg.min_history or not (asked := features(query)) or not (said := features(answer)):
        return None
    to_query = similarities(asked, [features(q) for q, _, _ in past])
    to_answer = similarities(said, [features(a) for _, a, _ in past])
    elsewhere = [i for i, (q, a) in enumerate(zip(to_query, to_answer, strict=True)) if a >= _ALIKE and q < _OTHER]
    # Like no answer the app gave (a poem at a museum desk), in the query's language (an answer in another is unlike
    # the past ones by its words alone).
    # An answer giving figures to a question giving figures ("12.8 m, 2 nights?" "About EUR 103.68") is worked out
    # from them: its words need be like no earlier answer's.
    unheard = (
        max(to_answer) < _OTHER
        and language(answer) is not None
        and language(answer) == language(query)
        and not (NUMBER.search(query) and NUMBER.search(answer))
    )
    # Given to questions about anything, it is the app's reply to anything (a redirect), unless the run retrieved
    # something and the answer owes it nothing either (a campaign pasted into the system prompt, given to every
    # question instead of the documents' answer).
    if not unheard and (
        len(elsewhere) < 2
        or not (_one_subject([past[i][0] for i in elsewhere[-_SETTLED:]]) or unsourced(answer, sources))
    ):
        return None
    # A short ASCII answer's language told by its function words too: "Five minutes, or the cops get here." is weighed
    # against the English answers the question got, not its Thai ones (a translation asked for). Not in other
    # scripts: a Polish answer's `a` and `do` are no Spanish or English.
    answered = language(answer) or (leaning(answer) if answer.isascii() else None)
    codes = codes_of(query)
    alike = sorted((i for i, s in enumerate(to_query) if s >= _ALIKE), key=to_query.__getitem__, reverse=True)
    # Asked alike, a past question naming another code than this one's (a template's question on another course,
    # "reservar 2 plazas del curso CONV-A2" for "del curso B1-INT-07") is another question: its answer need not be
    # this one's.
    alike = [
        i
        for i in alike
        if (answered is None or language(past[i][1]) in (answered, None))
        and not (codes - (other := codes_of(past[i][0])) and other - codes)
    ][:_SETTLED]
    if len(alike) < 2 or sum(to_answer[i] < _UNLIKE for i in alike) * 4 < len(alike) * 3:
        return None
    answers = [features(past[i][1]) for i in alike]
    pairs = [s for n, one in enumerate(answers) for s in similarities(one, answers[n + 1 :])] if answers else []
    if sum(s >= _UNLIKE for s in pairs) * 2 < len(pairs):
        return None
    if unheard:
        return "the answer is like none the app gave before, unlike the settled answer it gave to this question"
    if _filled_in(answer, [past[i][1] for i in elsewhere], returned):
        return None
    return f"the answer is like {len(elsewhere)} the app gave to other questions, unlike those it gave to this one"


def _filled_in(answer: str, others: list[str], returned: list[str]) -> bool:
    """Whether the answer is the app's template filled in from this run's data: half its terms at least (two at
    least) that the alike answers lack, or half its numbers (two at least), are in what its tools or HTTP requests
    returned (another book and its branch, this tenant's rent and what was paid; a retrieved page is every run's).
    Another topic's answer differs from its kin in no fetched term and reports no fetched figure. An API's JSON
    escapes its letters (`\\u4e2d`): read as the letters. `returned` holds what code nodes and loops worked out too
    (a stuck loop's meter total: the answer reads the run's data, however wrong the data)."""
    if not returned:
        return False
    fetched = terms_given([ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), part) for part in returned])
    own = terms_of(answer) - terms_given(others)
    figures = set(NUMBER.findall(answer))
    return any(len(part & fetched) >= 2 and len(part & fetched) * 2 >= len(part) for part in (own, figures))


ANCHORED_RUNS = 20  # the app's last answers judged whose sharing a term with their query is its habit


def app_habit(past: list[Run], cfg: Config) -> str | None:
    """The app's habit of answering with a term of the query, if it has one: nine in ten at least of its last
    answers (`min_anchored_history` at least) shared a term with their query. An app whose right answers need not
    name their question (plain chat, a classifier's fixed replies) has none."""
    told = [shared for _, _, shared in past if shared is not None][-ANCHORED_RUNS:]
    if len(told) < cfg.min_anchored_history or sum(told) * 10 < len(told) * 9:
        return None
    return f"{sum(told)} of the app's last {len(told)} answers shared a term with their query"


_APP_TALK = 4  # an answer a quarter of whose terms the app's on-question answers hold speaks of the app's business


def app_talk(query: str, answer: str, runs: deque[Run]) -> bool:
    """Whether a quarter of the answer's terms at least (two at least) are in the answers the app gave to questions
    like this one (`_ALIKE`) that shared a term with them: a short right answer putting the question in other words
    ("the claim is approved; the amount reaches your account within 15 days" to "how much will the insurance pay?")
    speaks of what such questions get, where an advert, a forecast or another question's answer (Saturday hours to a
    question on a dog's papers) does not. Read only for an answer a rule found off its query (rare)."""
    said = terms_of(answer)
    past = [(earlier, reply) for earlier, reply, shared in earlier_runs(runs) if shared]
    alike = similarities(features(query), [features(earlier) for earlier, _ in past]) if past else []
    known = terms_given([reply for (_, reply), similarity in zip(past, alike, strict=True) if similarity >= _ALIKE])
    held = len(said & known)
    return held >= 2 and held * _APP_TALK >= len(said)

"""What the routed branch answered, read against its past answers and the other branches': a misroute the branch
answered anyway. Used by `dify_classifier_drift` (`answers`)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from detectors import Finding, attr, span_id
from detectors.class_names import HIRAGANA, SYLLABIC, is_catch_all, marked, marks, mentions
from detectors.likeness import features as _features
from detectors.likeness import language
from detectors.named_class import only_under
from detectors.past_picks import KEY, QUESTION_CHARS, Near, Profile, Replies, Weights, masked

_LEAN = 0.3  # how alike a past question of the class the answer speaks for must be
_LEAN_ANSWER = 0.5  # how alike a past answer of the chosen branch must be for the answer to be its usual one
_COPY = 0.9  # how alike a past question must be to be the same question asked again


def _content(text: str, profile: Profile) -> frozenset[str]:
    """The features of `text` that say what it is about: rarer than one past question in four, and not a short
    Latin word ("with", "the"; a Chinese pair or a Korean word is short and still says much)."""
    common = len(profile.past) / 4
    return frozenset(
        f for f in _features(text) if profile.counts.get(f, 0) <= common and (len(f) >= 4 or not f.isascii())
    )


def copy_answered(
    span: Any, question: str, chosen: str, answer: str, near: list[Near], profile: Profile, replies: Replies
) -> Finding | None:
    """Fires when the same question (a past copy, ≥ `_COPY` alike) went to one other class alone, whose branch
    answered it in the question's own words (two of its content features), while the chosen branch answered in its
    usual words (alike, ≥ 0.5, one of its past answers) and none of the question's: the branch ran its own script
    for a question it does not serve. One past copy alone is no proof (it is as likely the wrong pick); what the two
    branches made of it tells them apart. A branch answering off its usual words (a derailed or invented answer) is
    left to the detectors of those."""
    copies = [n for n in near if n[0] >= _COPY]
    classes = {n[1] for n in copies}
    if len(classes) != 1 or chosen in classes:
        return None
    about = _content(question, profile)
    if about & _features(answer):
        return None
    other = classes.pop()
    before = next((a for _, _, text, _ in copies if (a := replies.asked.get(text, {}).get(other))), "")
    if len(shared := about & _features(before)) < 2:
        return None
    if not any(s >= _LEAN_ANSWER and n == chosen for s, n, *_ in replies.read().neighbours(answer, [], voters=chosen)):
        return None
    title = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' picked '{chosen}' for a question filed under '{other}' before; '{other}' answered it in "
        f"its words, '{chosen}' answered as it usually does, in none of them.",
        {"node": title, "rule": f"a past copy (>= {_COPY}) of the question under another class alone, whose branch "
         "answered in two of its content words; the chosen branch's answer holds none and is like its past answers "
         f"(>= {_LEAN_ANSWER})", "question": question[:200], "chosen": chosen, "answer": answer[:200],
         "filed_before_under": other, "answered_before": before[:200], "words_answered_before": sorted(shared)[:5]},
        span_id(span),
    )  # fmt: skip


def _usual(answer: str, chosen: str, replies: Replies) -> bool:
    """Whether the chosen branch gave an answer alike (>= `_LEAN_ANSWER`) before, on a pick not flagged."""
    return any(s >= _LEAN_ANSWER and n == chosen for s, n, *_ in replies.read().neighbours(answer, [], voters=""))


def answered_as(
    span: Any,
    question: str,
    chosen: str,
    answer: str,
    near: list[Near],
    replies: Replies,
    cfg: Weights,
) -> Finding | None:
    """Fires when the routed branch answered like another class's branch (its past answers alike, ≥ `similarity`,
    add up to `evidence` and twice what those of the chosen class and any third do) to a question that leans that
    way too: alike a past question of that class (≥ `_LEAN`) more than any of the chosen class's, none of which is
    alike (≥ `similarity`). A branch answering in another's words to such a question is a misroute its LLM answered
    anyway; an answer in another branch's words to a question of the chosen class's kind is an off-topic answer,
    task_derailment's to judge, not a misroute."""
    lean: dict[str, float] = {}
    for similarity, name, *_ in near:
        lean[name] = max(lean.get(name, 0.0), similarity)
    leaning = max((value for name, value in lean.items() if name != chosen), default=0.0)
    if leaning < _LEAN or leaning <= lean.get(chosen, 0.0) or lean.get(chosen, 0.0) >= cfg.similarity:
        return None  # the question leans to no other class: the answers are not read (most runs)
    weight: dict[str, float] = {}
    for similarity, name, _, picks in replies.read().neighbours(answer, [], voters=chosen):
        if similarity >= cfg.similarity:
            weight[name] = weight.get(name, 0.0) + similarity * picks
    best = max((name for name in weight if name != chosen), key=weight.__getitem__, default=None)
    if best is None:
        return None
    against = math.fsum(weight.values()) - weight[best]
    if weight[best] < cfg.evidence or weight[best] < 2 * against:
        return None
    if lean.get(best, 0.0) < _LEAN or lean.get(best, 0.0) <= lean.get(chosen, 0.0):
        return None
    title = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' picked '{chosen}', but its branch answered like the app's '{best}' branch, to a "
        f"question like those filed under '{best}'.",
        {"node": title, "rule": f"the routed branch's answer is like past answers under another class (similarity "
         f">= {cfg.similarity}, weighing >= {cfg.evidence} and 2x those under the chosen one and any other), the "
         f"question like that class's past questions (>= {_LEAN}) more than the chosen one's",
         "question": question[:200], "answer": answer[:200], "chosen": chosen, "answered_as": best,
         "weights": {name: round(value, 2) for name, value in sorted(weight.items())},
         "question_likeness": {name: round(value, 2) for name, value in sorted(lean.items())}},
        span_id(span),
    )  # fmt: skip


def echoes(question: str, answer: str) -> bool:
    """Whether the answer holds a word of the question, however common ("week" of "one-week"; hiragana alone, which
    carries Japanese grammar, left out; in Thai, Lao, Myanmar and Khmer a run of four, `marks`: a pair is no word)."""
    shared = _features(question) & _features(answer)
    if any((len(f) >= 4 or not f.isascii()) and not HIRAGANA.fullmatch(f) and not SYLLABIC.match(f) for f in shared):
        return True
    return any(SYLLABIC.match(mark) for mark in marks(question) & marks(answer))


def from_document(question: str, answer: str, read: list[str]) -> bool:
    """Whether the answer was taken from a document the branch retrieved on the question (one holding the question's
    words, whose words the answer holds): it served the question, whatever class it names or leaves out (the contact
    page that also says "billing questions can be sent from the app", under `Billing`)."""
    return any(echoes(question, document) and echoes(document, answer) for document in read)


def _asked_by_name(question: str, chosen: str, profile: Profile) -> list[str]:
    """The marks of the chosen class's name (`marks`: "ราคา", price, of "ราคาข้าว") that each of its past questions in
    the question's language (two at least, none flagged) held and no past question of another class holds, where the
    question holds no mark of the name: a class always asked for by its name, given a question that never says it."""
    if marked(question, chosen):
        return []
    tongue, own, elsewhere = language(question), [], set[str]()
    for text, (_, picks) in profile.texts.items():
        held = marked(text, chosen)
        if any(name != chosen for name, _ in picks):
            elsewhere |= held
        elif all(not disputed for _, disputed in picks) and language(text) == tongue:
            own.append(held)
    kept = [held - elsewhere for held in own]
    return sorted(set().union(*kept)) if len(kept) >= 2 and all(kept) else []


_ECHOED = 2  # past answers of the chosen branch, each in its question's words, that show it answers so


def answered_its_name(
    span: Any,
    question: str,
    chosen: str,
    answer: str,
    names: list[str],
    profile: Profile,
    replies: Replies,
    read: list[str],
) -> Finding | None:
    """Fires when the routed branch answered in its own class's name ("for garbage, ask the environment office")
    and in none of the question's words, in its language, though it answered its past questions in their words (two
    at least, each), to a question that does not name the class picked and names another whole (`mentions`), or
    holds two words the app's past picks filed under another class alone (`only_under`; "concert" alone at a
    concert hall's desk is no proof): the branch ran its own script
    for a question it does not serve. A branch answering by a canned reply per class tells nothing so; a right pick
    answered off the question's words ("do you deliver on Sundays?": "our shipping team works weekdays") names no
    other class and past picks hold its words under it or none; a question the branch answered before is its own
    (a wrong answer to it is no misroute): left alone. An answer naming no class counts for a question naming
    another whole, where most (not all) past answers of the branch echoed their questions."""
    said = marked(answer, chosen)
    # An answer naming no class (`Sorry, I have nothing on that here`, in whatever language) is read too, for a
    # question naming another class whole: the branch had nothing for it, as it never did for its own questions.
    silent = not (said or mentions(answer, chosen))
    if is_catch_all(chosen) or echoes(question, answer):
        return None
    if from_document(question, answer, read):
        return None
    asked_in, answered_in = language(question), language(answer)
    if asked_in and answered_in and asked_in != answered_in:  # an answer in another language shares no word with it
        return None
    others = [name for name in names if name != chosen and not is_catch_all(name)]
    named = [name for name in others if mentions(question, name, whole=True)]
    if silent and (not named or _usual(answer, chosen, replies)):
        return None  # (a canned reply of the branch names no class either: it tells nothing)
    # Hiragana alone carries Japanese grammar ("でき" of "できますか"), not a subject, and a Thai pair is no word
    # (`marks`); a word only this very question filed elsewhere before holds is one past pick of it, as likely the
    # wrong one.
    asked = masked(question)
    only = {name: kept for name, found in only_under(profile, question, names).items()
            if (kept := [f for f in found if not HIRAGANA.fullmatch(f) and not SYLLABIC.match(f)
                         and profile.index[f] != {asked}])}  # fmt: skip
    if chosen in only:
        return None
    by_name: list[str] = []
    # Else the class is one its past questions always asked for by name, and the answer says that name.
    if not (named or (named := [name for name in others if len(only.get(name, ())) >= 2])) and not (
        by_name := [mark for mark in _asked_by_name(question, chosen, profile) if mark in said]
    ):
        return None
    if chosen in replies.asked.get(asked, {}):  # the branch served this very question before
        return None
    before = [(past, said[chosen]) for past, said in replies.asked.items() if chosen in said][-10:]
    # A question saying a word of another class's name and two words past picks filed under that class alone needs
    # one past answer of the branch in its question's words, not two: the branch is then new, the question is not.
    echoed = 1 if any(len(only.get(name, ())) >= 2 and mentions(question, name) for name in named) else _ECHOED
    echoing = sum(echoes(past, said) for past, said in before)
    # (an answer naming no class: most past answers of the branch echoed their questions; its misroutes before, which
    # echoed none, are no reason to leave the next one)
    if echoing < echoed or (echoing * 2 <= len(before) if silent else echoing < len(before)):
        return None
    title = attr(span, "dify.node.title", span.name)
    about = "naming no class" if silent else f"about '{chosen}'"
    if by_name:
        why = f"and the question never says '{by_name[0]}', which every past question filed under it said"
        rule = "its past questions in the question's language each said a word of its name no other class's did"
        speaks: dict[str, Any] = {"name_said_before": by_name[:5]}
    else:
        why, rule = f"and the question speaks of '{named[0]}'", "the question names another class, or holds two "
        rule += "words past picks filed under it alone"
        speaks = {"question_speaks_of": named[:3], "words_only_under_it": only.get(named[0], [])[:5]}
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' picked '{chosen}'; its branch answered {about} in none of the question's words, as it "
        f"never did before, {why}.",
        {"node": title, "rule": "the routed branch's answer names the class picked and none of the question's words, "
         f"its >= {echoed} past answers each some of theirs; {rule}", "question": question[:200],
         "answer": answer[:200], "chosen": chosen, **speaks,
         "answered_before": [text[:80] for _, text in before[-2:]]},
        span_id(span),
    )  # fmt: skip


def scattered(span: Any, question: str, chosen: str, answer: str, near: list[Near], profile: Profile) -> Finding | None:
    """Fires when copies of the question (>= `_COPY` alike) went to two other classes at least before, flagged or not,
    none of them in more than half their picks, and never unflagged to the class picked, whose branch answered in
    none of the question's words: the classifier files this question by chance, not by what it asks (a
    prompt edit or a model that lost the classes). A question two classes share is filed under one of two; a class
    the question was filed under before, unflagged, is one of its picks; another class's settled pick is `vote`'s."""
    if not any(n[0] >= _COPY and n[1] != chosen for n in near):  # (`near` leaves flagged picks out: most runs end here)
        return None
    if _content(question, profile) & _features(answer):
        return None  # the branch answered in the question's words: it served it
    picks: Counter[str] = Counter()
    for text in {text for similarity, _, text, _ in profile.neighbours(question, []) if similarity >= _COPY}:
        for (name, disputed), count in profile.texts[text][1].items():
            if name == chosen and not disputed:
                return None  # filed under the class picked before, unflagged: a pick it makes
            picks[name] += count
    # Two other classes at least, none holding more than half the picks: no settled pick (past picks that lean to one
    # class are `vote`'s to weigh).
    if len(set(picks) - {chosen}) < 2 or max(picks.values()) * 2 > picks.total():
        return None
    title = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' picked '{chosen}' for a question it filed under {len(picks)} classes before.",
        {"node": title, "rule": f"copies of the question (>= {_COPY}) filed under two other classes at least, never "
         "unflagged under the one picked, none in more than half their picks; the answer holds none of its words",
         "question": question[:200], "chosen": chosen,
         "copies_filed_under": dict(sorted(picks.items()))},
        span_id(span),
    )  # fmt: skip


def served_alike(question: str, chosen: str, answer: str, replies: Replies) -> bool:
    """Whether the chosen class's branch answered this very question before (the process remembers more distinct
    questions than the profile keeps picks), and another class's branch last answered it in the words the chosen one
    answers now: a question its classes serve alike, whose past picks elsewhere prove no misfile."""
    before = replies.asked.get(masked(question), {})
    if chosen not in before:
        return False
    now = _features(answer[:QUESTION_CHARS])
    return any(_features(text) == now for name, text in before.items() if name != chosen)

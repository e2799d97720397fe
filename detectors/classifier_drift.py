"""`dify_classifier_drift`: a question classifier's pick that contradicts the question.

Fires when the classifier picks a catch-all class (other, general, fallback…) although the question names a
specific class whole (one word of a longer name is no proof: a question may use another class's word and belong
elsewhere), or a class the question does not mention over one it names whole: before the node has history, or with
it when a word of the question was only ever filed under the class named. Reads the categories and the question
from the classifier's own prompt (Dify's `categories` JSON), so it needs no configuration; Dify's export has no
prompt: its classes are those the node picked before. Run over run it keeps, per app and classifier node, the
questions it filed under each class (those it flagged as disputed), and fires when questions alike in words
(idf-weighted; character pairs for Chinese and Japanese) went to another class far more than to the one picked,
even when the question names no class; and when the routed branch answered like another class's branch to a
question leaning that way; a question that names no class is read against what the classes learned
(`class_vocabulary`): a catch-all pick of one in a specific class's words, a branch answering without its mark. The
app's class mix against its own past is watched too, with `class_mix` on (off by default).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from bridge.processors.sensitive import sensitive_values
from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, json_attr, json_value, span_id
from detectors.class_names import HIRAGANA, SYLLABIC, is_catch_all, marked, marks, mentions, parts, spoken, stems
from detectors.class_vocabulary import catch_all_in_learned_words, catch_all_over_vocabulary, mark
from detectors.likeness import UNSPACED_RUN, language
from detectors.likeness import features as _features
from detectors.past_picks import PROFILES_LOCK, Near, Profile, Replies, named_features, profile_of, replies_of

KEY = "dify_classifier_drift"


class Config(DetectorConfig):
    # On by default since session 17: at most 0.2 % of the clean runs flagged on every corpus (docs/detectors.md).
    enabled: bool = True
    # Watch the app's class mix against its own past (`window`, `baseline`, `max_shift`). Off by default (session 25):
    # a shift's finding lands on whichever run crosses the threshold, not on a misfiled one: on the twelve held-out
    # corpora and the dev sets it found 1 fault (held-out 4) and flagged 2 runs of other faults (held-out 14, real
    # Dify 1.14.1 streams), no clean one; the per-pick rules found every misfile it marked.
    class_mix: bool = False
    # Picks compared: the last `window` against the `baseline` before them (per app and classifier node).
    window: int = Field(default=20, ge=5)
    baseline: int = Field(default=100, ge=10)
    # Fire when the two class mixes differ by at least this total variation distance (0 to 1).
    max_shift: float = Field(default=0.5, gt=0, le=1)
    # Compare each pick with the app's past picks: a question whose like (in words) the app filed under
    # another class far more often than under the chosen one was misfiled.
    vocabulary: bool = True
    # Picks the classifier node must have made before its past picks are trusted.
    vocabulary_history: int = Field(default=10, ge=1)
    # How alike a past question must be to count (idf-weighted cosine of their words, 0 to 1).
    similarity: float = Field(default=0.5, gt=0, le=1)
    # What the alike questions under another class must add up to (their similarities): two near-copies.
    evidence: float = Field(default=1.5, gt=0)
    # How many times what the alike questions under the chosen class and any third add up to they must be.
    evidence_ratio: float = Field(default=3.0, ge=1)
    # The same for a catch-all pick: the catch-all is where a classifier files what it does not recognise, so a
    # question it filed under a specific class is known better; past picks under the catch-all (misfiles missed
    # too) need only be outweighed.
    evidence_ratio_catch_all: float = Field(default=1.0, ge=1)
    # Compare what the routed branch's LLM answered with the answers the app's branches gave before (kept in the
    # process's memory only): an answer like another class's answers, to a question leaning that way, tells a
    # misroute the branch answered anyway.
    answers: bool = True
    # With `answers`: flag a pick of a question whose copies went to two other classes at least and never, unflagged,
    # to the one picked (`_scattered`). Off by default (session 25): it found 8 of held-out 14's 30 misfiles (real
    # Dify 1.14.1 streams; 15 -> 23 with it) and no clean run there, but flagged a clean run of held-out 13 (the right
    # class picked after two misfiles of the question) and runs of other faults on held-out 10 and 13.
    scattered: bool = False


def _mix(picks: list[str]) -> dict[str, float]:
    """Each class's share of `picks`, by name: the same order (evidence, ties) whatever the hash seed."""
    counts = Counter(picks)
    return {name: counts[name] / len(picks) for name in sorted(counts)}


def _shift(trace: Trace, span: Any, chosen: str, cfg: Config) -> Iterator[Finding]:
    """The app's recent class mix against its baseline; records this pick. Fires when the shift first
    crosses `max_shift`, not again on every run while it lasts."""
    key = f"{KEY}:{trace.app}:{attr(span, 'dify.node.id')}"
    state = trace.baselines.get(key) or {"picks": [], "shifted": False}
    picks: list[str] = [*state["picks"], chosen][-(cfg.window + cfg.baseline) :]
    recent, before = picks[-cfg.window :], picks[: -cfg.window]
    distance = 0.0
    if len(before) >= cfg.baseline // 2:
        now, then = _mix(recent), _mix(before)
        distance = math.fsum(abs(now.get(c, 0) - then.get(c, 0)) for c in set(now) | set(then)) / 2
        if distance >= cfg.max_shift and not state["shifted"]:
            top = max(now, key=now.__getitem__)
            yield Finding(
                KEY,
                "medium",
                0.7,
                f"Classifier '{attr(span, 'dify.node.title', span.name)}' shifted its class mix: '{top}' is now "
                f"{now[top]:.0%} of the last {len(recent)} picks against {then.get(top, 0):.0%} before.",
                {
                    "node": attr(span, "dify.node.title", span.name),
                    "rule": f"class mix moved >= max_shift ({cfg.max_shift})",
                    "recent": now,
                    "baseline": then,
                    "distance": round(distance, 2),
                },
                span_id(span),
            )
    trace.baselines.put(key, {"picks": picks, "shifted": distance >= cfg.max_shift})


_LEAN = 0.3  # how alike a past question of the class the answer speaks for must be
_LEAN_ANSWER = 0.5  # how alike a past answer of the chosen branch must be for the answer to be its usual one
_QUESTION_CHARS = 300  # of each kept question


def _names_it(question: str, name: str, profile: Profile) -> bool:
    """Whether the question names the class in any form ("cancel" for "Cancellations"): a word of four letters
    or more (or Chinese/Japanese pair) they share that at most a quarter of the app's past questions hold (not
    "and", nor "order" at an order desk)."""
    shared = {f for f in _features(question) & _features(name) if len(f) >= 4 or UNSPACED_RUN.match(f)}
    return any(profile.counts.get(feature, 0) * 4 <= len(profile.past) for feature in shared)


@functools.lru_cache(maxsize=1024)  # questions recur
def _masked(question: str) -> str:
    """The question as kept: its first `_QUESTION_CHARS`, secrets and personal data masked as redaction masks them
    (examples and any Luhn-valid number too): the store is no place for a key or an address."""
    kept = question[:_QUESTION_CHARS]
    for value in sensitive_values(kept, personal=True, exempt_examples=False):
        kept = kept.replace(value, "[redacted]")
    return kept


def _vote(
    span: Any, question: str, chosen: str, near: list[Near], served: bool, named: list[str], cfg: Config
) -> Finding | None:
    """Fires when the past questions alike in words (`near`: the profile's neighbours, voters the chosen class) filed
    under another class far outweigh those under the chosen one and any third. One past pick alike is never enough
    (it is as likely the wrong one). A pick flagged before speaks only for itself: it keeps a right pick of its class
    from being flagged again, and never votes against another class's pick. `served`: the question is served alike
    under the chosen class (`_served_alike`): one pick of it at least, whatever the profile's window still holds.
    `named`: the classes the question names whole (not the chosen one): one of them outvoting the rest need only
    outweigh them, as against a catch-all (the name breaks a tie)."""
    close = [n for n in near if n[0] >= cfg.similarity]
    votes: dict[str, list[Near]] = {}
    for neighbour in close:
        votes.setdefault(neighbour[1], []).append(neighbour)
    weight = {name: math.fsum(n[0] * n[3] for n in alike) for name, alike in votes.items()}
    if served:
        weight[chosen] = max(weight.get(chosen, 0.0), 1.0)
    best = max((name for name in weight if name != chosen), key=weight.__getitem__, default=None)
    # Against it: the chosen class and any third one (past picks that disagree among themselves are no guide).
    against = sum(weight.values()) - weight[best] if best is not None else 0.0
    ratio = cfg.evidence_ratio_catch_all if is_catch_all(chosen) or best in named else cfg.evidence_ratio
    if best is None or weight[best] < cfg.evidence or weight[best] < ratio * against:
        return None
    title = attr(span, "dify.node.title", span.name)
    alike = [f"{text[:80]} ({similarity:.2f})" for similarity, _, text, _ in votes[best][:3]]
    return Finding(
        KEY, "medium", 0.75,
        f"Classifier '{title}' picked '{chosen}', but {sum(n[3] for n in votes[best])} past questions like this one "
        f"were filed under '{best}' and {sum(n[3] for n in votes.get(chosen, []))} under '{chosen}'.",
        {"node": title, "rule": f"past picks alike (similarity >= {cfg.similarity}) under another class weigh "
         f">= {cfg.evidence} and >= {ratio}x those under the chosen one and any other",
         "question": question[:200], "chosen": chosen, "past_picks_say": best, "alike_under_it": alike,
         "alike_under_chosen": [f"{t[:80]} ({s:.2f})" for s, _, t, _ in votes.get(chosen, [])[:3]],
         "weights": {name: round(value, 2) for name, value in weight.items()}},
        span_id(span),
    )  # fmt: skip


def _named(span: Any, question: str, chosen: str, names: list[str], specific: bool) -> Finding | None:
    """Fires when the question names a class whole ("my billing" for "Billing") and the pick is the catch-all, or
    a specific class it does not mention at all. One word of a longer name is no proof ("can I open a joint
    account online?" is not "Online banking access"; "is it a warranty issue if the fridge only cools to 9
    degrees?" is a repair, not "Warranty & returns"). A specific pick is judged so only if `specific`; a catch-all
    pick then also by one subject of a name joining two, its phrase whole ("bồi thường" of "Khiếu nại và bồi
    thường"): what the catch-all is for, the question does not do."""
    catch_all = is_catch_all(chosen)
    if not catch_all and not specific:
        return None
    said = spoken(question)
    if not catch_all and (patterns := stems(chosen)) is not None and patterns[1].search(said):
        return None
    candidates = [name for name in names if name != chosen and not is_catch_all(name)]
    named = [name for name in candidates if (patterns := stems(name)) is not None and patterns[0].match(said)]
    by_part = False
    if not named and catch_all and specific:
        asked = " ".join(question.casefold().split())
        named = [name for name in candidates if any(part.search(asked) for part in parts(name))]
        by_part = True
    if not named:
        return None
    title = attr(span, "dify.node.title", span.name)
    if by_part:
        summary = f"filed the question under the catch-all '{chosen}' although it names a subject of '{named[0]}'"
        rule = "the question names one subject of a specific class's name whole, the pick is the catch-all"
    elif catch_all:
        summary = f"filed the question under the catch-all '{chosen}' although it names '{named[0]}'"
        rule = "the question names a specific class whole, the pick is the catch-all"
    else:
        summary = f"picked '{chosen}', which the question does not mention, over '{named[0]}', named whole"
        rule = "the question names another class whole, and the pick not at all"
    return Finding(
        KEY,
        "medium",
        0.8 if catch_all else 0.75,
        f"Classifier '{title}' {summary}; review the class descriptions.",
        {"node": title, "rule": rule, "question": question[:200], "chosen": chosen, "matching": named},
        span_id(span),
    )


def _only_under(profile: Profile, question: str, names: list[str]) -> dict[str, list[str]]:
    """The words of four letters or more (or Chinese/Japanese pairs) of the question, not of a class name, that the
    app's past picks of one class alone hold, by class."""
    _, in_names = named_features(tuple(names))
    found: dict[str, list[str]] = {}
    for feature in sorted(_features(question)):
        if feature in in_names or (len(feature) < 4 and not UNSPACED_RUN.match(feature)):
            continue
        classes = {name for text in profile.index.get(feature, ()) for name, _ in profile.texts[text][1]}
        if len(classes) == 1:
            found.setdefault(classes.pop(), []).append(feature)
    return found


def _named_and_seen(span: Any, question: str, chosen: str, names: list[str], profile: Profile) -> Finding | None:
    """With history, a specific pick the question does not mention, over a class it names whole, is wrong when the
    app's past picks agree: a word of the question besides the name was only ever filed under the class named, and
    none only under the one picked ("the cardiology letter went to my old address" shares "address" with the
    office's past questions: left alone)."""
    finding = _named(span, question, chosen, names, specific=True)
    if finding is None or is_catch_all(chosen):
        return None
    only = _only_under(profile, question, names)
    named = finding.evidence["matching"][0]
    if chosen in only or named not in only:
        return None
    finding.evidence["rule"] = (
        "the question names another class whole, and the pick not at all; a word of it only past picks of the class "
        "named hold"
    )
    finding.evidence["words_only_under_it"] = only[named][:5]
    return finding


_COPY = 0.9  # how alike a past question must be to be the same question asked again


def _content(text: str, profile: Profile) -> frozenset[str]:
    """The features of `text` that say what it is about: rarer than one past question in four, and not a short
    Latin word ("with", "the"; a Chinese pair or a Korean word is short and still says much)."""
    common = len(profile.past) / 4
    return frozenset(
        f for f in _features(text) if profile.counts.get(f, 0) <= common and (len(f) >= 4 or not f.isascii())
    )


def _copy_answered(
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


def _routed_answer(trace: Trace, span: Any) -> str:
    """What the first LLM after the classifier, the routed branch's, answered ("" if none did)."""
    start = span.start_time or 0
    for llm in trace.llm_spans:
        if llm is not span and (llm.start_time or 0) > start:
            text = attr(llm, "llm.output_messages.0.message.content")
            if not isinstance(text, str):
                outputs = json_attr(llm, "output.value")
                text = outputs.get("text") if isinstance(outputs, dict) else outputs
            return text if isinstance(text, str) else ""
    return ""


def _answered_as(
    span: Any, question: str, chosen: str, answer: str, near: list[Near], replies: Replies, cfg: Config
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


def _echoes(question: str, answer: str) -> bool:
    """Whether the answer holds a word of the question, however common ("week" of "one-week"; hiragana alone, which
    carries Japanese grammar, left out; in Thai, Lao, Myanmar and Khmer a run of four, `marks`: a pair is no word)."""
    shared = _features(question) & _features(answer)
    if any((len(f) >= 4 or not f.isascii()) and not HIRAGANA.fullmatch(f) and not SYLLABIC.match(f) for f in shared):
        return True
    return any(SYLLABIC.match(mark) for mark in marks(question) & marks(answer))


def _from_document(question: str, answer: str, read: list[str]) -> bool:
    """Whether the answer was taken from a document the branch retrieved on the question (one holding the question's
    words, whose words the answer holds): it served the question, whatever class it names or leaves out (the contact
    page that also says "billing questions can be sent from the app", under `Billing`)."""
    return any(_echoes(question, document) and _echoes(document, answer) for document in read)


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


def _answered_its_name(
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
    holds two words the app's past picks filed under another class alone (`_only_under`; "concert" alone at a
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
    if is_catch_all(chosen) or _echoes(question, answer):
        return None
    if _from_document(question, answer, read):
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
    asked = _masked(question)
    only = {name: kept for name, found in _only_under(profile, question, names).items()
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
    echoing = sum(_echoes(past, said) for past, said in before)
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


def _scattered(
    span: Any, question: str, chosen: str, answer: str, near: list[Near], profile: Profile
) -> Finding | None:
    """Fires when copies of the question (>= `_COPY` alike) went to two other classes at least before, flagged or not,
    none of them in more than half their picks, and never unflagged to the class picked, whose branch answered in
    none of the question's words: the classifier files this question by chance, not by what it asks (a
    prompt edit or a model that lost the classes). A question two classes share is filed under one of two; a class
    the question was filed under before, unflagged, is one of its picks; another class's settled pick is `_vote`'s."""
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
    # class are `_vote`'s to weigh).
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


def _against_vocabulary(
    span: Any,
    question: str,
    chosen: str,
    answer: str,
    names: list[str],
    profile: Profile,
    replies: Replies,
    read: list[str],
) -> Finding | None:
    """A question that names no class, read against what the classes learned run over run (`class_vocabulary`):
    fires on a catch-all pick of a question in two words of one specific class's vocabulary, its branch answering in
    none of the question's words (it did not serve it); and on a specific pick whose branch answered without the
    word every one of its past answers held (its mark: the currency of a price desk), to a question holding a word
    only another class's past questions held and none only the chosen one's: the branch answered a question of
    another class's kind."""
    _, in_names = named_features(tuple(names))
    title = attr(span, "dify.node.title", span.name)
    if (over := catch_all_over_vocabulary(profile, question, chosen, in_names)) is not None:
        if _echoes(question, answer):
            return None  # the catch-all's branch served the question in its words
        return Finding(
            KEY, "medium", 0.7,
            f"Classifier '{title}' filed the question under the catch-all '{chosen}', but its words "
            f"({', '.join(over[1][:3])}) are those the app's past questions of '{over[0]}' alone came in, and the "
            "branch answered in none of them.",
            {"node": title, "rule": "a catch-all pick of a question in two words past questions of one specific "
             "class alone held (two of them each); the answer holds none of the question's words",
             "question": question[:200], "answer": answer[:200], "chosen": chosen, "words_of": over[0],
             "words": over[1][:5]},
            span_id(span),
        )  # fmt: skip
    if over is None and is_catch_all(chosen) and not _from_document(question, answer, read):
        found = catch_all_in_learned_words(profile, replies.read(), question, answer, chosen, in_names)
        if found is not None:
            return Finding(
                KEY, "medium", 0.7,
                f"Classifier '{title}' filed the question under the catch-all '{chosen}', but its words "
                f"({', '.join(found[1][:3])}) are those '{found[0]}' alone learned from its past questions and its "
                "branch's answers, and the catch-all's branch answered in none of them or in that class's words.",
                {"node": title, "rule": "a catch-all pick of a question in two words one specific class alone "
                 "learned (its past questions and answers, three texts together), answered in none of the "
                 "question's words; or in one, answered in two of that class's words",
                 "question": question[:200], "answer": answer[:200], "chosen": chosen, "words_of": found[0],
                 "words": found[1][:6]},
                span_id(span),
            )  # fmt: skip
    if is_catch_all(chosen) or mentions(question, chosen) or _names_it(question, chosen, profile):
        return None
    # A word only a past copy of this very question holds is one past pick of it, as likely the wrong one.
    asked = _masked(question)
    only = {name: kept for name, found in _only_under(profile, question, names).items()
            if (kept := [f for f in found if profile.index[f] != {asked}])}  # fmt: skip
    leaning = [name for name in only if name != chosen and not is_catch_all(name)]
    if chosen in only or not leaning or _from_document(question, answer, read):
        return None
    own = mark(replies.read(), chosen, language(answer))
    if not own or own & _features(answer):
        return None
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' picked '{chosen}'; its branch answered without '{sorted(own)[0]}', which every one of "
        f"its past answers held, to a question in words only past questions of '{leaning[0]}' held.",
        {"node": title, "rule": "the routed branch's answer lacks the word each of its past answers (3 at least) "
         "held and no other branch's did; the question holds a word only another class's past questions held",
         "question": question[:200], "answer": answer[:200], "chosen": chosen, "mark": sorted(own)[:3],
         "question_speaks_of": leaning[0], "words_only_under_it": only[leaning[0]][:5]},
        span_id(span),
    )  # fmt: skip


def _served_alike(question: str, chosen: str, answer: str, replies: Replies) -> bool:
    """Whether the chosen class's branch answered this very question before (the process remembers more distinct
    questions than the profile keeps picks), and another class's branch last answered it in the words the chosen one
    answers now: a question its classes serve alike, whose past picks elsewhere prove no misfile."""
    before = replies.asked.get(_masked(question), {})
    if chosen not in before:
        return False
    now = _features(answer[:_QUESTION_CHARS])
    return any(_features(text) == now for name, text in before.items() if name != chosen)


def _judge(
    trace: Trace, span: Any, question: str, answer: str, chosen: str, names: list[str], cfg: Config
) -> Iterator[Finding]:
    """Judges the pick by the class names the question holds, then by the app's past picks alike, and learns it.
    Every pick is learned, those flagged too, as disputed: were they not, a question the classifier misfiled twice
    before its right picks began would make every right pick of it look wrong for good. A disputed pick speaks
    only for a later pick of its own class (the right pick flagged once is not flagged again), never against
    another class's pick (one misfile flagged does not shield the next misfile elsewhere)."""
    key = f"{KEY}:likes:{trace.app}:{attr(span, 'dify.node.id')}"
    start = span.start_time or 0
    read = [content for retrieval, _, content in trace.documents if (retrieval.start_time or 0) >= start]
    state: dict[str, Any] = trace.baselines.get(key) or {"past": []}
    with PROFILES_LOCK:
        profile = profile_of(key, state["past"])
        replies = replies_of(trace, key)
        history = cfg.vocabulary and len(profile.past) >= cfg.vocabulary_history
        # With history, a catch-all pick is judged by the names only if the app filed no question half as alike as a
        # like one under the catch-all before ("the invoice for my son's paediatric check-up" goes where the app's
        # other invoice questions went), and a specific pick only if the past picks agree (`_named_and_seen`): a
        # question naming a specific class whole may still belong to another ("the dermatology letter went to my old
        # address" is for the office); the app's past picks, which hold the names as votes too, judge it.
        known = names or sorted(profile.classes)
        finding = _named(span, question, chosen, known, specific=not history)
        if finding is not None and history:
            if any(s >= cfg.similarity / 2 and name == chosen for s, name, *_ in profile.neighbours(question, [])):
                finding = None
        elif finding is None and history:
            finding = _named_and_seen(span, question, chosen, known, profile)
            if finding is None and not _names_it(question, chosen, profile) and not mentions(question, chosen):
                # A pick flagged before speaks for its class, unless the question names another class whole and
                # not this one: flagged misfiles of it would shield the next ones (a new class a prompt edit made
                # the classifier's default).
                named = [n for n in known if n != chosen and not is_catch_all(n) and mentions(question, n, whole=True)]
                near = profile.neighbours(question, names, voters="" if named else chosen)
                served = bool(answer) and cfg.answers and _served_alike(question, chosen, answer, replies)
                finding = _vote(span, question, chosen, near, served, named, cfg)
                if finding is None and answer and cfg.answers:
                    finding = _copy_answered(span, question, chosen, answer, near, profile, replies)
                if finding is None and answer and cfg.answers:
                    finding = _answered_as(span, question, chosen, answer, near, replies, cfg)
                if finding is None and answer and cfg.answers:
                    finding = _answered_its_name(span, question, chosen, answer, known, profile, replies, read)
                if finding is None and answer and cfg.answers and cfg.scattered:
                    finding = _scattered(span, question, chosen, answer, near, profile)
        elif finding is None and answer and cfg.answers and cfg.vocabulary and not mentions(question, chosen):
            # Before history too: the branch's own past answers, not the picks' votes, tell this misroute.
            finding = _answered_its_name(span, question, chosen, answer, known, profile, replies, read)
        if finding is None and answer and cfg.answers and cfg.vocabulary:
            finding = _against_vocabulary(span, question, chosen, answer, known, profile, replies, read)
        asked = _masked(question) if cfg.vocabulary else ""
        if answer and cfg.answers:  # in memory only: no masking needed (nor paid for)
            kept = answer[:_QUESTION_CHARS]
            replies.add([kept, chosen, "disputed"] if finding is not None else [kept, chosen])
            if asked:
                replies.answered(asked, chosen, kept)
        if cfg.vocabulary:
            past = profile.add([asked, chosen, "disputed"] if finding is not None else [asked, chosen])
    if finding is not None:
        yield finding
    if cfg.vocabulary:
        trace.baselines.put(key, {"past": past})


def _request(span: Any) -> tuple[str, list[str]] | None:
    """(question, category names) from the last user message of the classifier's prompt: Dify's `categories` JSON,
    else the node's `query` input (Dify's export: no prompt), else the last user message as plain text (a prompt
    not in Dify's JSON: the question alone, its classes those the node picked before)."""
    attributes = attributes_of(span)
    # The messages by index (how the span builder writes them: a few lookups), else any message content.
    contents: list[object] = []
    while (content := attributes.get(f"llm.input_messages.{len(contents)}.message.content")) is not None:
        contents.append(content)
    if not contents:
        contents = [v for k, v in attributes.items() if k.startswith("llm.input_messages.") and k.endswith(".content")]
    for content in reversed(contents):
        request = json_value(str(content).strip())  # msgspec, cached; not JSON: the text itself, skipped
        if isinstance(request, dict) and isinstance(request.get("categories"), list):
            texts = request.get("input_text") or [""]
            names = [str(c.get("category_name", "")) for c in request["categories"] if isinstance(c, dict)]
            return str(texts[0] if isinstance(texts, list) and texts else texts), names
    inputs = json_attr(span, "input.value")
    query = inputs.get("query") if isinstance(inputs, dict) else None
    if isinstance(query, str) and query.strip():
        return query, []
    index = len(contents) - 1
    while index >= 0 and attributes.get(f"llm.input_messages.{index}.message.role") != "user":
        index -= 1
    last = str(contents[index]).strip() if index >= 0 else ""
    return (last, []) if last else None


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        for span in trace.of_type("question-classifier"):
            request, outputs = _request(span), json_attr(span, "output.value")
            chosen = outputs.get("class_name") if isinstance(outputs, dict) else None
            if not isinstance(chosen, str):
                continue
            if cfg.class_mix:
                yield from _shift(trace, span, chosen, cfg)
            if request is not None:
                yield from _judge(trace, span, request[0], _routed_answer(trace, span), chosen, request[1], cfg)

    return detect

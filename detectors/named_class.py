"""A question naming a class, read against the pick: whole (`class_names`) or by the words only past picks of one
class hold. Used by `dify_classifier_drift`."""

from __future__ import annotations

from typing import Any

from detectors import Finding, attr, span_id
from detectors.class_names import is_catch_all, parts, spoken, stems
from detectors.likeness import UNSPACED_RUN
from detectors.likeness import features as _features
from detectors.past_picks import KEY, Profile, named_features


def names_it(question: str, name: str, profile: Profile) -> bool:
    """Whether the question names the class in any form ("cancel" for "Cancellations"): a word of four letters
    or more (or Chinese/Japanese pair) they share that at most a quarter of the app's past questions hold (not
    "and", nor "order" at an order desk)."""
    shared = {f for f in _features(question) & _features(name) if len(f) >= 4 or UNSPACED_RUN.match(f)}
    return any(profile.counts.get(feature, 0) * 4 <= len(profile.past) for feature in shared)


def names_whole(span: Any, question: str, chosen: str, names: list[str], specific: bool) -> Finding | None:
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


def only_under(profile: Profile, question: str, names: list[str]) -> dict[str, list[str]]:
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


def named_and_seen(span: Any, question: str, chosen: str, names: list[str], profile: Profile) -> Finding | None:
    """With history, a specific pick the question does not mention, over a class it names whole, is wrong when the
    app's past picks agree: a word of the question besides the name was only ever filed under the class named, and
    none only under the one picked ("the cardiology letter went to my old address" shares "address" with the
    office's past questions: left alone)."""
    finding = names_whole(span, question, chosen, names, specific=True)
    if finding is None or is_catch_all(chosen):
        return None
    only = only_under(profile, question, names)
    named = finding.evidence["matching"][0]
    if chosen in only or named not in only:
        return None
    finding.evidence["rule"] = (
        "the question names another class whole, and the pick not at all; a word of it only past picks of the class "
        "named hold"
    )
    finding.evidence["words_only_under_it"] = only[named][:5]
    return finding

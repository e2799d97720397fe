"""What a question classifier's classes learned run over run, in any language and without word lists: each class's
vocabulary (the words its past questions held and no other class's did) and each branch's mark (a word every past
answer of the branch held and no other branch's did). Used by `dify_classifier_drift` to read a question that names
no class against the classes' past picks, and the routed branch's answer against its own past answers."""

from __future__ import annotations

from detectors.class_names import HIRAGANA, SYLLABIC, is_catch_all
from detectors.likeness import UNSPACED_RUN, language
from detectors.likeness import features as _features
from detectors.past_picks import Profile

_HELD_BY = 2  # distinct past questions of one class that must hold a word for it to be that class's
_ANSWERS = 3  # past answers of a branch, undisputed, that must all hold its mark


def vocabulary(
    profile: Profile, question: str, in_names: dict[str, int], held_by: int = _HELD_BY
) -> dict[str, list[str]]:
    """The question's words (four letters or more, or a Chinese or Japanese pair; no class name's, no hiragana of
    grammar, no Thai pair) that past questions of one class alone held, by class: each word held by `held_by`
    distinct past questions of it at least, never picked, flagged or not, under another."""
    found: dict[str, list[str]] = {}
    for feature in sorted(_features(question)):
        if feature in in_names or (len(feature) < 4 and not UNSPACED_RUN.match(feature)):
            continue
        if HIRAGANA.fullmatch(feature) or SYLLABIC.match(feature):
            continue
        texts = profile.index.get(feature, ())
        classes = {name for text in texts for name, _ in profile.texts[text][1]}
        if len(classes) == 1 and len(texts) >= held_by:
            found.setdefault(classes.pop(), []).append(feature)
    return found


def _words(text: str, in_names: dict[str, int]) -> list[str]:
    """A text's words a vocabulary reads: four letters or more or a Chinese or Japanese pair; no class name's, no
    hiragana of grammar, no Thai pair."""
    return [feature for feature in sorted(_features(text)) if feature not in in_names
            and (len(feature) >= 4 or UNSPACED_RUN.match(feature)) and not HIRAGANA.fullmatch(feature)
            and not SYLLABIC.match(feature)]  # fmt: skip


def learned(
    profile: Profile, replies: Profile, text: str, in_names: dict[str, int]
) -> dict[str, dict[str, frozenset[str]]]:
    """The words of `text` one class alone learned run over run, by class: its past questions or its branch's past
    answers held them and no other class's question or answer did (flagged picks too); each word with the past
    texts holding it. A class learns the words its users ask in and the words its branch answers in ("WAN
    light" in the router questions and in the connection desk's answers)."""
    found: dict[str, dict[str, frozenset[str]]] = {}
    for feature in _words(text, in_names):
        asked, answered = profile.index.get(feature, ()), replies.index.get(feature, ())
        classes = {name for held in asked for name, _ in profile.texts[held][1]}
        classes |= {name for held in answered for name, _ in replies.texts[held][1]}
        if len(classes) == 1:
            holders = frozenset(f"?{held}" for held in asked) | frozenset(f"!{held}" for held in answered)
            found.setdefault(classes.pop(), {})[feature] = holders
    return found


_LEARNED_TEXTS = 4  # past texts, questions and answers, a catch-all's question in another class's words must reach


def catch_all_in_learned_words(
    profile: Profile, replies: Profile, question: str, answer: str, chosen: str, in_names: dict[str, int]
) -> tuple[str, list[str]] | None:
    """A catch-all pick read against what one specific class learned (`learned`): (that class, the words) where the
    question holds two of its words (held by past texts not all the same, `_LEARNED_TEXTS` texts together) and the
    catch-all's branch answered in none of the question's words, or the question holds one and the branch answered
    in two: the branch either had nothing for a question of a class it does not serve, or answered it in that
    class's own words (and none the catch-all's). None where the question holds a word the catch-all learned."""
    if not is_catch_all(chosen):
        return None
    asked, said = learned(profile, replies, question, in_names), learned(profile, replies, answer, in_names)
    if chosen in asked:
        return None
    served = bool(set(_words(question, in_names)) & set(_words(answer, in_names)))
    for name in sorted(asked, key=lambda n: (-len(asked[n]), n)):
        if is_catch_all(name):
            continue
        words = sorted(asked[name])
        # Two words held by one past text alone are one phrase seen once (the pairs of `你们周末营业吗`), no vocabulary.
        holders = set(asked[name].values())
        texts = frozenset().union(*holders)
        if len(words) >= 2 and len(holders) >= 2 and len(texts) >= _LEARNED_TEXTS and not served:
            return name, words
        if len(said.get(name, {})) >= 2 and chosen not in said:
            return name, sorted(set(words) | set(said[name]))
    return None


def catch_all_over_vocabulary(
    profile: Profile, question: str, chosen: str, in_names: dict[str, int], held_by: int = _HELD_BY, least: int = 2
) -> tuple[str, list[str]] | None:
    """A catch-all pick of a question holding `least` words of one specific class's vocabulary (`vocabulary`, each
    word held by `held_by` past questions of it) and none of the catch-all's: (that class, its words). The catch-all
    is where a classifier files what it does not recognise; a question in the words the app's past questions of one
    class always came in is recognisable."""
    if not is_catch_all(chosen):
        return None
    held = vocabulary(profile, question, in_names, held_by)
    if chosen in held:
        return None
    best = max((name for name in held if not is_catch_all(name)), key=lambda n: (len(held[n]), n), default=None)
    return (best, held[best]) if best is not None and len(held[best]) >= least else None


def mark(replies: Profile, chosen: str, tongue: str | None) -> frozenset[str]:
    """The words (four letters or more) every past answer of the chosen branch in the answer's language (`tongue`)
    held (`_ANSWERS` at least, none flagged) and no past answer of another branch did: what the branch always answers
    in (`krónur` at a price desk, the currency its prices are in). Answers in another language share no word."""
    own = [features for text, (features, picks) in replies.texts.items()
           if (chosen, False) in picks and len(picks) == 1 and language(text) == tongue]  # fmt: skip
    if len(own) < _ANSWERS:
        return frozenset()
    common = frozenset.intersection(*own)
    others = [features for features, picks in replies.texts.values() if any(name != chosen for name, _ in picks)]
    return frozenset(f for f in common if (len(f) >= 4 or not f.isascii()) and not any(f in o for o in others))

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


def vocabulary(profile: Profile, question: str, in_names: dict[str, int]) -> dict[str, list[str]]:
    """The question's words (four letters or more, or a Chinese or Japanese pair; no class name's, no hiragana of
    grammar, no Thai pair) that past questions of one class alone held, by class: each word held by `_HELD_BY`
    distinct past questions of it at least, never picked, flagged or not, under another."""
    found: dict[str, list[str]] = {}
    for feature in sorted(_features(question)):
        if feature in in_names or (len(feature) < 4 and not UNSPACED_RUN.match(feature)):
            continue
        if HIRAGANA.fullmatch(feature) or SYLLABIC.match(feature):
            continue
        texts = profile.index.get(feature, ())
        classes = {name for text in texts for name, _ in profile.texts[text][1]}
        if len(classes) == 1 and len(texts) >= _HELD_BY:
            found.setdefault(classes.pop(), []).append(feature)
    return found


def catch_all_over_vocabulary(
    profile: Profile, question: str, chosen: str, in_names: dict[str, int]
) -> tuple[str, list[str]] | None:
    """A catch-all pick of a question holding two words of one specific class's vocabulary (`vocabulary`) and none
    of the catch-all's: (that class, its words). The catch-all is where a classifier files what it does not
    recognise; a question in the words the app's past questions of one class always came in is recognisable."""
    if not is_catch_all(chosen):
        return None
    held = vocabulary(profile, question, in_names)
    if chosen in held:
        return None
    best = max((name for name in held if not is_catch_all(name)), key=lambda n: (len(held[n]), n), default=None)
    return (best, held[best]) if best is not None and len(held[best]) >= 2 else None


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

"""A question that names no class, read against what the classes learned (`class_vocabulary`): the learned-words
rules of `dify_classifier_drift`."""

from __future__ import annotations

from typing import Any

from detectors import Finding, attr, span_id
from detectors.branch_answers import echoes, from_document
from detectors.class_names import is_catch_all, mentions
from detectors.class_vocabulary import catch_all_in_learned_words, catch_all_over_vocabulary, mark
from detectors.likeness import features as _features
from detectors.likeness import language
from detectors.named_class import names_it, only_under
from detectors.past_picks import KEY, Profile, Replies, masked, named_features


def against_vocabulary(
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
        if echoes(question, answer):
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
    if over is None and is_catch_all(chosen) and not from_document(question, answer, read):
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
    if is_catch_all(chosen) or mentions(question, chosen) or names_it(question, chosen, profile):
        return None
    # A word only a past copy of this very question holds is one past pick of it, as likely the wrong one.
    asked = masked(question)
    only = {name: kept for name, found in only_under(profile, question, names).items()
            if (kept := [f for f in found if profile.index[f] != {asked}])}  # fmt: skip
    leaning = [name for name in only if name != chosen and not is_catch_all(name)]
    if chosen in only or not leaning or from_document(question, answer, read):
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


_FIXED_HELD_BY = 3  # past questions of one class that must hold the word a fixed catch-all reply met


def fixed_reply_over_vocabulary(
    span: Any, question: str, chosen: str, names: list[str], profile: Profile
) -> Finding | None:
    """A catch-all pick whose branch has no model (a fixed reply: Dify's "Question Classifier + Knowledge + Chatbot"
    template answers "Sorry, I can't help you with these questions.") of a question holding a word three past
    questions of one specific class alone held, none the catch-all's: the branch cannot have served it, and the
    app's users asked that class in that word."""
    _, in_names = named_features(tuple(names))
    if (over := catch_all_over_vocabulary(profile, question, chosen, in_names, _FIXED_HELD_BY, 1)) is None:
        return None
    title = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' filed the question under the catch-all '{chosen}', whose branch answers without a "
        f"model, but its words ({', '.join(over[1][:3])}) are those the app's past questions of '{over[0]}' alone "
        "came in.",
        {"node": title, "rule": "a catch-all pick, its branch no model (a fixed reply), of a question in a word "
         f"{_FIXED_HELD_BY} past questions of one specific class alone held", "question": question[:200],
         "chosen": chosen, "words_of": over[0], "words": over[1][:5]},
        span_id(span),
    )  # fmt: skip

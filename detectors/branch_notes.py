"""What each class's branch is told (its LLM's system prompt: the team's notes), read against the question: a question
in the words of another branch's notes alone, none of the chosen branch's. Used by `dify_classifier_drift`."""

from __future__ import annotations

import unicodedata
from typing import Any

from detectors import Finding, ProcessMemory, Trace, attr, span_id
from detectors.class_names import is_catch_all
from detectors.likeness import features as _features
from detectors.past_picks import KEY, Profile, named_features

_SEEN = 2  # runs of a branch whose notes must agree before its notes are read (a run's own parts drop out)
_KEPT = 1024  # classifier nodes whose branches' notes a process keeps


class Notes:
    """Per class, the features every system prompt of its branch held so far (memory and retrieved context vary run
    over run and drop out; the notes stay) and how many runs they come from."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held: dict[str, tuple[frozenset[str], int]] = {}

    def learn(self, name: str, notes: frozenset[str]) -> None:
        before = self.held.get(name)
        self.held[name] = (notes, 1) if before is None else (before[0] & notes, before[1] + 1)


_NOTES: ProcessMemory[Notes] = ProcessMemory(Notes, _KEPT)


def _plain(text: str) -> str:
    """`text` as `likeness.features` reads it: case folded, accents dropped."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def notes_of(trace: Trace, key: str) -> Notes:
    return _NOTES.of(trace.baselines, key)


def question_of_other_notes(
    span: Any,
    question: str,
    chosen: str,
    names: list[str],
    answer: str,
    own: frozenset[str],
    notes: Notes,
    profile: Profile,
) -> Finding | None:
    """Fires when words of the question stand in one other branch's notes alone (seen `_SEEN` runs at least) and the
    question shares no word with the chosen branch's notes (`own`, this run's prompt, whole), nor with its past
    questions, and its answer holds none of those words: the question is about what another team is told of, the
    team that answered is told nothing of it (a payslip question answered by the IT desk, whose notes hold passwords
    and VPN). A word two branches' notes hold is the app's (its name, the reply rules), no team's."""
    _, in_names = named_features(tuple(names))
    asked = _features(question)
    if any(in_names.get(feature) == 1 for feature in asked & _features(chosen)):
        return None  # the question says a word of the chosen class's name alone ("VPN" of "Network and VPN")
    asked = asked.difference(in_names)  # a class's name is `named_class`'s to read
    others = {name: held for name, (held, runs) in notes.held.items() if name != chosen and runs >= _SEEN}
    shared: dict[str, int] = {}
    for held in (*others.values(), own):
        for feature in asked & held:
            shared[feature] = shared.get(feature, 0) + 1
    if any(shared[feature] == 1 for feature in asked & own):
        return None  # the chosen branch's own notes speak of it
    hits = {name: found for name, held in others.items() if (found := {f for f in asked & held if shared[f] == 1})}
    if len(hits) > 1:  # a specific team's notes outrank the catch-all's (its contacts: "call extension 4000")
        hits = {name: found for name, found in hits.items() if not is_catch_all(name)}
    if len(hits) != 1 or (is_catch_all(chosen) and len(next(iter(hits.values()))) < 2):
        return None  # (the catch-all is for what no team claims: one shared word does not claim it, two do)
    (name, words), said = next(iter(hits.items())), _plain(answer)
    if any(word in said for word in words):
        return None  # the answer speaks of it, inflected or prefixed too ("מהמים" holds "המים", "payslips" "paysl")
    # A word past questions of another class held (picks not flagged) is the app's users' word, not that team's alone.
    if any(n != name and not disputed for word in words for text in profile.index.get(word, ())
           for n, disputed in profile.texts[text][1]):  # fmt: skip
        return None
    title = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", 0.7,
        f"Classifier '{title}' picked '{chosen}', whose branch's notes hold none of the question's words; "
        f"'{name}''s branch's notes hold {', '.join(sorted(words)[:3])}.",
        {"node": title, "rule": "words of the question stand in one other branch's notes alone (its LLM's system "
         f"prompt, {_SEEN} runs at least), none in the chosen branch's notes nor its past questions, nor in the "
         "answer; no class name's word", "question": question[:200], "answer": answer[:200], "chosen": chosen,
         "notes_of": name, "words": sorted(words)[:5]},
        span_id(span),
    )  # fmt: skip

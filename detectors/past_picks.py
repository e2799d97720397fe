"""A question classifier node's past picks read for comparison (`Profile`), kept per node in the process beside the
stored list, the question as kept (`masked`), and the answers its branches gave (`Replies`, in memory only). Used by
`dify_classifier_drift`, whose key (`KEY`) its picks are stored under."""

from __future__ import annotations

import functools
import math
import threading
from collections import deque
from typing import Protocol

from bridge.processors.sensitive import sensitive_values
from detectors import ProcessMemory, Trace
from detectors.class_names import is_catch_all
from detectors.likeness import features as _features

KEY = "dify_classifier_drift"  # the detector's: its findings and its stored picks are filed under it
MEMORY = 300  # past picks kept per app and classifier node
QUESTION_CHARS = 300  # of each kept question
Near = tuple[float, str, str, int]  # (similarity, class, past text, picks)


class Weights(Protocol):
    """What past picks and answers alike must weigh to speak against a pick (`classifier_drift.Config`'s)."""

    @property
    def similarity(self) -> float: ...
    @property
    def evidence(self) -> float: ...
    @property
    def evidence_ratio(self) -> float: ...
    @property
    def evidence_ratio_catch_all(self) -> float: ...


class Profile:
    """An app's past picks (the state's list) read for comparison: in how many past picks each feature is, each
    distinct question with its features and how often it was filed under each class (flagged or not), and which
    questions hold each feature. Kept in the process and updated by the pick a run adds and the one that falls out
    of the window, so a run compares its question once with each distinct past question sharing a rarer feature,
    not with every past pick (a classifier asked one question 300 times cost 420 µs a run that way)."""

    __slots__ = ("classes", "counts", "index", "past", "texts")

    def __init__(self, past: list[list[str]]) -> None:
        self.past = past
        self.counts: dict[str, int] = {}
        # text → (its features, (class, disputed) → picks)
        self.texts: dict[str, tuple[frozenset[str], dict[tuple[str, bool], int]]] = {}
        self.index: dict[str, set[str]] = {}
        self.classes: dict[str, int] = {}  # class → picks: the names Dify's export does not carry
        for entry in past:
            self.count(entry, 1)

    def count(self, entry: list[str], step: int) -> None:
        """Adds (`step` 1) or takes out (-1) one past pick."""
        text, name, *disputed = entry
        if text not in self.texts:
            self.texts[text] = (_features(text), {})
            for feature in self.texts[text][0]:
                self.index.setdefault(feature, set()).add(text)
        features, picks = self.texts[text]
        pick = (name, bool(disputed))
        if not (picked := self.classes.get(name, 0) + step):
            del self.classes[name]
        else:
            self.classes[name] = picked
        if not (left := picks.get(pick, 0) + step):
            del picks[pick]
        else:
            picks[pick] = left
        for feature in features:
            if not (held := self.counts.get(feature, 0) + step):
                del self.counts[feature]
            else:
                self.counts[feature] = held
        if not picks:
            del self.texts[text]
            for feature in features:
                self.index[feature].discard(text)
                if not self.index[feature]:
                    del self.index[feature]

    def add(self, entry: list[str]) -> list[list[str]]:
        """The past with `entry` added (a new list: the store may be writing the old one), the last `MEMORY`."""
        past = [*self.past, entry]
        self.count(entry, 1)
        for dropped in past[: max(len(past) - MEMORY, 0)]:
            self.count(dropped, -1)
        self.past = past[-MEMORY:]
        return self.past

    def neighbours(self, question: str, names: list[str], voters: str | None = None) -> list[Near]:
        """(similarity, class, text, picks) of the past questions (and class names, as one of its own class's
        questions) sharing a rarer word with `question`: cosine of their features weighted by rarity (idf) among
        the past. A past question sharing only words most past questions hold is not alike, and not weighed (the
        cost stays with the few that are). With `voters`, a pick flagged before counts only for that class."""
        named, in_names = named_features(tuple(names))
        size = len(self.past) + len(named) + 1
        asked = _features(question)
        counts = self.counts
        rare = [f for f in asked if (counts.get(f, 0) + in_names.get(f, 0)) * 2 < size]
        alike: dict[str, tuple[frozenset[str], dict[tuple[str, bool], int]]] = {}
        for feature in rare:
            for text in self.index.get(feature, ()):
                alike[text] = self.texts[text]
        for name in named:
            if not (features := _features(name)).isdisjoint(rare):
                alike[name] = (features, {(name, False): 1, **alike.get(name, (frozenset(), {}))[1]})
        # Each feature's weight once, for the question and the few alike (a dict read per use: cheaper than a call).
        weight = {
            f: math.log(size / (counts.get(f, 0) + in_names.get(f, 0) + 0.5)) ** 2
            for f in asked.union(*(features for features, _ in alike.values()))
        }
        # fsum: exactly rounded whatever the order, and a set's order follows the hash seed: the same similarities,
        # so the same evidence, in every process.
        norm = math.sqrt(math.fsum(map(weight.__getitem__, asked)))
        found: list[Near] = []
        for text, (features, picks) in alike.items():
            other = math.sqrt(math.fsum(map(weight.__getitem__, features)))
            similarity = math.fsum(map(weight.__getitem__, asked & features)) / (norm * other)
            for (name, disputed), n in picks.items():
                if voters is None or not disputed or name == voters:
                    found.append((similarity, name, text, n))
        return sorted(found, reverse=True)


@functools.lru_cache(maxsize=1024)  # a classifier node's classes are the same on each of its runs
def named_features(names: tuple[str, ...]) -> tuple[list[str], dict[str, int]]:
    """The specific (not catch-all) class names, and in how many class names each feature is."""
    in_names: dict[str, int] = {}
    for name in names:
        for feature in _features(name):
            in_names[feature] = in_names.get(feature, 0) + 1
    return [n for n in names if not is_catch_all(n)], in_names


# Per classifier node (the state's key): its profile, rebuilt from the state's list when that is not the list the
# profile was last updated to (a restart, another processor of the same app).
_PROFILES: dict[str, Profile] = {}
PROFILES_LOCK = threading.Lock()
_PROFILES_KEPT = 1024  # classifier nodes whose profile a process keeps


def profile_of(key: str, past: list[list[str]]) -> Profile:
    profile = _PROFILES.get(key)
    if profile is None or profile.past is not past:
        if len(_PROFILES) >= _PROFILES_KEPT:
            _PROFILES.pop(next(iter(_PROFILES)))
        profile = _PROFILES[key] = Profile(past)
    return profile


class Replies:
    """The answers a classifier node's branches gave, by class, in this process's memory only (not written to the
    store: answers carry what users were told; after a restart they are learned again). Each run appends its answer;
    they are read into a profile only when a run needs them (a question leaning to another class: rarely), so most
    runs pay an append. The last answer of each class to each of the last `MEMORY` distinct questions is kept too
    (`asked`: question → class → answer), to tell what two branches made of one question."""

    __slots__ = ("asked", "pending", "profile")

    def __init__(self) -> None:
        self.asked: dict[str, dict[str, str]] = {}
        self.pending: deque[list[str]] = deque(maxlen=MEMORY)
        self.profile = Profile([])

    def add(self, entry: list[str]) -> None:
        self.pending.append(entry)

    def answered(self, question: str, name: str, answer: str) -> None:
        """Keeps `answer` as the last the branch of class `name` gave to `question`, the oldest question dropped."""
        answers = self.asked.pop(question, None) or {}  # re-inserted below: the newest
        answers[name] = answer
        self.asked[question] = answers
        if len(self.asked) > MEMORY:
            del self.asked[next(iter(self.asked))]

    def read(self) -> Profile:
        if len(self.pending) == MEMORY:  # the profile's answers are all out of the window
            self.profile = Profile(list(self.pending))
        else:
            for entry in self.pending:
                self.profile.add(entry)
        self.pending.clear()
        return self.profile


# Per `Baselines` (as the past picks) and classifier node.
_REPLIES: ProcessMemory[Replies] = ProcessMemory(Replies, _PROFILES_KEPT)


def replies_of(trace: Trace, key: str) -> Replies:
    return _REPLIES.of(trace.baselines, key)


@functools.lru_cache(maxsize=1024)  # questions recur
def masked(question: str) -> str:
    """The question as kept: its first `QUESTION_CHARS`, secrets and personal data masked as redaction masks them
    (examples and any Luhn-valid number too): the store is no place for a key or an address."""
    kept = question[:QUESTION_CHARS]
    for value in sensitive_values(kept, personal=True, exempt_examples=False):
        kept = kept.replace(value, "[redacted]")
    return kept

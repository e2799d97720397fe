"""Held-out corpus 13's scene: one user question of an app with what a right answer, its paraphrase and its faulty
variants say. A pair's two runs are written from the same scene."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.detectors.heldout13_run import Edit, Run


@dataclass
class Scene:
    question: str
    answer: str  # the right answer, with the source's numbers as the source writes them
    short: str  # a short right answer that paraphrases the question instead of repeating it
    alt: str  # the right answer with its number written another way (a local format, words)
    wrong: str  # the answer with a number no source gives
    advert: str  # an answer about something else than the task
    filler: str  # the sentence a runaway answer repeats
    facts: dict[str, Any] = field(default_factory=dict)


class App(Protocol):
    name: str
    app_id: str
    workflow_id: str
    model: str  # the model of the node a republish or a provider switch changes
    republish_note: str  # what a republish that keeps the model adds to the node's system prompt
    kinds: tuple[str, ...]  # the app's own fault kinds, written by `pair`

    def scene(self, rng: random.Random) -> Scene: ...

    def write(self, scene: Scene, edit: Edit, rng: random.Random) -> tuple[Run, str]:
        """The run and its stream text."""
        ...

    def pair(self, kind: str, scene: Scene, rng: random.Random) -> tuple[Edit, Edit]:
        """A fault of one of `kinds` (labels set) and its twin (no labels)."""
        ...

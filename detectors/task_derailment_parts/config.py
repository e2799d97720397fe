"""`task_derailment`'s settings."""

from __future__ import annotations

from pydantic import Field

from detectors import DetectorConfig


class Config(DetectorConfig):
    # Answers with fewer words than this are not judged.
    min_answer_words: int = Field(default=6, ge=1)
    # Answers of a run with nothing retrieved (plain chat, generation) are judged from this many words on: a
    # right short answer need share no word with its question, a long one on its subject shares one.
    min_unsourced_words: int = Field(default=30, ge=1)
    # Runs of the app (with a query and an answer) known before its past runs judge an answer.
    min_history: int = Field(default=20, ge=2)
    # Answers of the app known (of a query of two terms or more) before its habit of sharing a term with the query
    # judges an answer sharing none: its last 20, nine in ten of them sharing one.
    min_anchored_history: int = Field(default=5, ge=2)
    # A short answer of a run a question classifier routed, naming neither the query nor the route its prompt was
    # given, judged off its query. Off by default (session 19): it found 9 faults on held-out 4, the corpus it was
    # written from, none on any other, and flagged 4 of the 14 clean runs of a German five-class support desk
    # recorded from a real Dify 1.14.1 (tests/testdata/dify-1.14.1-faults2), whose right short replies need not
    # name their class.
    routed_replies: bool = False

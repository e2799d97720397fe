"""`task_derailment`: a final answer that does not address the user's query.

Lexical: the query's content words (four letters or more, not stop words, compared by their first five
letters) must show up in the answer. Fires when a substantial answer shares none of them. Short answers
(yes, no, a number) and runs without a recognisable query are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, json_attr

KEY = "task_derailment"
_WORD = re.compile(r"[^\W\d_]{4,}")
_ASCII_WORD = re.compile(r"[a-z]{4,}")  # `_WORD` in lower-cased ASCII text
_STOP = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "just",
        "more",
        "most",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "yours",
        "please",
        "tell",
        "know",
        "need",
        "want",
        "like",
        "make",
        "help",
        "give",
        "show",
        "explain",
        "describe",
    ]
)
_QUERY_KEYS = ("sys.query", "query", "question", "input", "prompt", "message", "text")
_ANSWER_KEYS = ("answer", "text", "result", "output", "response")


class Config(DetectorConfig):
    # Off by default: word overlap cannot tell a paraphrase or an answer in another script from a derailed
    # answer; on the held-out corpus it flagged far more than 1 % of clean runs (docs/detectors.md).
    enabled: bool = False
    # Answers with fewer words than this are not judged.
    min_answer_words: int = Field(default=6, ge=1)


def _stems(text: str) -> set[str]:
    # ASCII text (most) is lower-cased whole and matched with a plain class: twice as fast. Other text is
    # lower-cased word by word: whole, a letter may become two characters and split its word ('İ' → 'i̇').
    words = _ASCII_WORD.findall(text.lower()) if text.isascii() else [w.lower() for w in _WORD.findall(text)]
    return {w[:5] for w in words if w not in _STOP}


def _first_text(value: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(value, dict):
        for key in keys:
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return str(text)
    return None


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        if root is None:
            return
        # The answer first: when it is missing or too short to judge, the inputs are not read.
        answer = _first_text(json_attr(root, "output.value"), _ANSWER_KEYS)
        if not answer or len(answer.split()) < cfg.min_answer_words:
            return
        query = _first_text(json_attr(root, "input.value"), _QUERY_KEYS)
        if not query:
            return
        asked = _stems(query)
        if len(asked) >= 2 and not asked & _stems(answer):
            yield Finding(
                KEY,
                "medium",
                0.7,
                "The final answer shares no subject with the user's query; check the prompt chain and "
                "the branch the run took.",
                {
                    "node": "the run",
                    "rule": "no content word of the query in the answer",
                    "query": query[:200],
                    "answer": answer[:200],
                },
            )

    return detect

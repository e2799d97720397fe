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

from detectors import DetectorConfig, Finding, Trace, attr, json_attr, prompt_text, user_query

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


_CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")
_NUMBER = re.compile(r"\d{2,}")


def _terms(text: str) -> set[str]:
    """Content words (first five letters), Chinese/Japanese character pairs and numbers of two digits or more."""
    terms = _stems(text)
    for run in _CJK_RUN.findall(text):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    terms.update(_NUMBER.findall(text))
    return terms


def _size(text: str) -> int:
    """Words, counting two Chinese or Japanese characters as one (they are written without spaces)."""
    return len(text.split()) + sum(len(run) for run in _CJK_RUN.findall(text)) // 2


def _grounds(trace: Trace) -> str:
    """What the run had to answer from: retrieved documents, tool and HTTP results, what its LLMs were sent."""
    parts = [content for _, _, content in trace.documents]
    parts += [str(attr(span, "output.value") or "") for span in trace.of_type("tool", "http-request")]
    parts += [prompt_text(span) for span in trace.llm_spans]
    return "\n".join(parts)


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        if root is None:
            return
        # The answer first: when it is missing or too short to judge, the inputs are not read.
        answer = _first_text(json_attr(root, "output.value"), _ANSWER_KEYS)
        if not answer or _size(answer) < cfg.min_answer_words:
            return
        query = user_query(root)
        if not query:
            return
        asked, said = _terms(query), _terms(answer)
        # An answer sharing nothing with the query may still paraphrase it from the run's sources (a shorter
        # or translated answer to a question about them): only one that shares nothing with either derailed.
        if len(asked) >= 2 and not asked & said and not said & _terms(_grounds(trace)):
            yield Finding(
                KEY,
                "medium",
                0.7,
                "The final answer shares no subject with the user's query nor with anything the run retrieved or "
                "was told; check the prompt chain and the branch the run took.",
                {
                    "node": "the run",
                    "rule": "no term of the answer in the query, the documents, tool results or LLM prompts",
                    "query": query[:200],
                    "answer": answer[:200],
                },
            )

    return detect

"""`hallucination`: an LLM answer grounded in sources states numbers found in none of them.

Only answers that had sources are checked (a retrieval earlier in the run, or a prompt carrying context),
so creative writing is left alone. Single digits are checked only as counts ("5 saunas"), against the
sources' count of the same thing ("3 saunas"). A number counts as supported when its value appears anywhere in the
LLM's prompt, the run's inputs or the retrieved documents: written with either decimal separator ("14,90"
and "14.90"), with thousands separators or without, or as a number word ("fourteen", "catorce", "十四").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, prompt_text, span_id

KEY = "hallucination"
# Numbers worth checking: two or more digits, or decimals; list numbering ("1.") and labels ("#35") are not facts.
# Only Latin letters and digits glue onto a number ("A4", "x86"): Chinese and Japanese write a number against
# its unit or noun ("45天", "300元"), which Unicode `\w` would have counted as part of a word. Separators
# inside a number are read both ways: "14,90" and "1.250" are 14.90 and 1250 in Spanish and German.
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.,#])\d(?:\d|[.,](?=\d))*(?![A-Za-z0-9_])")
# Number words a source may use where an answer writes digits (two digits and more: single digits are not
# checked), English, Spanish, German, then Chinese/Japanese numerals up to 99.
_WORDS = {
    word: value
    for value, words in {
        10: "ten diez zehn", 11: "eleven once elf", 12: "twelve doce zwölf", 13: "thirteen trece dreizehn",
        14: "fourteen catorce vierzehn", 15: "fifteen quince fünfzehn", 16: "sixteen dieciséis sechzehn",
        17: "seventeen diecisiete siebzehn", 18: "eighteen dieciocho achtzehn", 19: "nineteen diecinueve neunzehn",
        20: "twenty veinte zwanzig", 24: "veinticuatro", 30: "thirty treinta dreißig", 40: "forty cuarenta vierzig",
        50: "fifty cincuenta fünfzig", 60: "sixty sesenta sechzig", 70: "seventy setenta siebzig",
        80: "eighty ochenta achtzig", 90: "ninety noventa neunzig", 100: "hundred cien hundert",
    }.items()
    for word in words.split()
}  # fmt: skip
_WORD = re.compile(r"(?i)\b(?:" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b")
_CJK_DIGITS = "零一二三四五六七八九"
# A count: one digit (or a range of them) before a word or a Chinese/Japanese unit ("5 saunas", "2-3 Werktage",
# "7天"). Single digits are too common to check alone; next to what they count, against the sources' count
# of the same thing, they are facts.
_COUNT = re.compile(
    r"(?<![A-Za-z0-9_.,#:/])(\d)(?:\s?[-\u2013]\s?(\d))?(?![\d.,:/])\s?([\u3040-\u30ff\u4e00-\u9fff]|[^\W\d_]{2,})"
)
_CJK_NUMBER = re.compile(f"([{_CJK_DIGITS[1:]}]?)十([{_CJK_DIGITS[1:]}]?)")


class Config(DetectorConfig):
    # Fire at this many unsupported numbers in one answer.
    min_unsupported: int = Field(default=1, ge=1)


def numbers(text: str) -> set[str]:
    """The numbers worth checking in `text`, as written; a separator repeated is a thousands separator and
    is dropped ("6,000,000" → "6000000")."""
    found = set()
    for match in _NUMBER.finditer(text):
        token = match.group(0)
        if sum(c.isdigit() for c in token) < 2:
            continue
        for separator in ",.":
            if token.count(separator) > 1:
                token = token.replace(separator, "")
        found.add(token)
    return found


@lru_cache(maxsize=4096)
def readings(number: str) -> frozenset[str]:
    """The values a number can stand for: its last separator as the decimal point, or, three digits
    following it, as a thousands separator ("1.250" is 1250 in German, 1.25 in English)."""
    at = max(number.rfind(","), number.rfind("."))
    if at < 0:
        return frozenset({str(int(number))})
    whole, fraction = number[:at].replace(",", "").replace(".", ""), number[at + 1 :]
    values = {f"{int(whole or '0')}.{fraction}".rstrip("0").rstrip(".")}
    if len(fraction) == 3:
        values.add(str(int(whole + fraction)))
    return frozenset(values)


def counts(text: str) -> dict[str, set[str]]:
    """What single-digit counts `text` states: the counted word (by its first five letters, lower-cased) → the
    digits stated for it."""
    found: dict[str, set[str]] = {}
    for match in _COUNT.finditer(text):
        low, high, word = match.groups()
        found.setdefault(word.lower()[:5], set()).update(d for d in (low, high) if d)
    return found


def source_values(text: str) -> set[str]:
    """Every reading of every number in a source."""
    return {value for number in numbers(text) for value in readings(number)}


def word_values(text: str) -> set[str]:
    """The values of a source's number words (read only for claims its digits leave unsupported)."""
    values = {str(_WORDS[m.group(0).lower()]) for m in _WORD.finditer(text) if m.group(0).lower() in _WORDS}
    for m in _CJK_NUMBER.finditer(text):
        tens, ones = m.groups()
        values.add(str(10 * (_CJK_DIGITS.index(tens) if tens else 1) + (_CJK_DIGITS.index(ones) if ones else 0)))
    return values


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        documents = " ".join(content for _, _, content in trace.documents)
        shared: set[str] | None = None  # numbers of the documents and the run's inputs, read once an answer has any
        for span in trace.llm_spans:
            answer = str(attr(span, "llm.output_messages.0.message.content") or "")
            if not answer or not (documents or "#context#" in str(attr(span, "input.value") or "")):
                continue
            # The answer's numbers first: one stating too few cannot fire, and then no source is read. No
            # number spans a space, so reading the sources apart finds what reading them joined did.
            claimed, counted = numbers(answer), counts(answer)
            if len(claimed) + len(counted) < cfg.min_unsupported:
                continue
            root = trace.root
            inputs = str(attr(root, "input.value") or "") if root is not None else ""
            if shared is None:
                shared = source_values(documents) | source_values(inputs)
            # The prompt (the longest source) is read only for what the shared sources leave unsupported.
            unsupported = {n for n in claimed if shared.isdisjoint(readings(n))}
            prompt = prompt_text(span) if unsupported or counted else ""
            if unsupported:
                in_prompt = source_values(prompt)
                unsupported = {n for n in unsupported if in_prompt.isdisjoint(readings(n))}
            if unsupported:  # digits left unsupported: the sources' number words
                words = word_values(f"{documents}\n{inputs}\n{prompt}")
                unsupported = {n for n in unsupported if words.isdisjoint(readings(n))}
            miscounted: dict[str, dict[str, list[str]]] = {}
            if counted:  # counts of a thing the sources count otherwise
                stated = counts(f"{documents}\n{inputs}\n{prompt}")
                for thing, digits in counted.items():
                    if thing in stated and not digits <= stated[thing]:
                        miscounted[thing] = {"answer": sorted(digits), "sources": sorted(stated[thing])}
            if len(unsupported) + len(miscounted) >= cfg.min_unsupported:
                listed = sorted(unsupported) + [f"{'/'.join(c['answer'])} {thing}…" for thing, c in miscounted.items()]
                rule = " and ".join(
                    [
                        *(["a number in the answer is in no source"] if unsupported else []),
                        *(
                            ["a count in the answer differs from the sources' count of the same thing"]
                            if miscounted
                            else []
                        ),
                    ]
                )
                yield Finding(
                    KEY, "medium", min(0.6 + 0.1 * len(listed), 0.95),
                    f"LLM node '{attr(span, 'dify.node.title', span.name)}' states {', '.join(listed[:5])} "
                    "found in none of its sources; check the answer against the retrieved documents.",
                    {"node": attr(span, "dify.node.title", span.name), "rule": rule,
                     "unsupported": sorted(unsupported)[:20], "miscounted": miscounted, "answer": answer[:200]},
                    span_id(span),
                )  # fmt: skip

    return detect

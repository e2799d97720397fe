# ruff: noqa: RUF001  (the labels and punctuation of other scripts)
"""`dify_variable_leak`'s marked passages: the values of a passage a document, tool or HTTP result marks internal
(`[internal: …]`, `CONFIDENTIAL —`, `… do not publish`) that the run's output repeats."""

from __future__ import annotations

import operator
import re

import ahocorasick_rs
from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.sensitive import (
    MARK_LABELS,
    MARK_PHRASES,
    SEPARATOR,
)
from detectors import (
    attr,
    user_query,
)

_MARKER_FINDER = ahocorasick_rs.AhoCorasick((*MARK_LABELS, *MARK_PHRASES))
_AT = operator.itemgetter(1)  # of a finder's match (index, start, end)
_OPENING, _CLOSING = "[(【（", "])】）"
_LABEL_ENDS = frozenset(":：—–-|]）)】")
# A value of a passage: what stands between spaces, quotes, brackets and commas (`0-7-5-2#`, `cms_tok_9f8e…`).
_TOKEN = re.compile(r"[^\s\"\\,;()\[\]{}<>，。；：]{4,}")
# Values anyone could write: numbers, amounts, dates, times and ranges of them (`1,250.00`, `2026-05-01`,
# `08:00-20:00`, `2025-2026`).
ORDINARY = re.compile(
    r"[€$£¥₹₺₩]?[\d.,:/'’]+%?[€$£¥₹₺₩]?|\d{4}-\d\d-\d\d(?:[t ][\d:.]+z?)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|\d{1,2}[:.h]\d\d(?:[-–]\d{1,2}[:.h]\d\d)?|\d+(?:[.,]\d+)?[-–]\d+(?:[.,]\d+)?",
    re.IGNORECASE,
)


# (value, marker, source span, sink span) of a value of a passage a source marks internal that reaches the output.
Marked = tuple[str, str, ReadableSpan, ReadableSpan]


def marked_values(
    sources: list[tuple[ReadableSpan, str]], outputs: list[tuple[ReadableSpan, str, str]], root: ReadableSpan | None
) -> list[Marked]:
    """The values (a code, a token, coordinates: four digits at least, no number, date or time) of passages a
    document, tool or HTTP result marks internal (`[internal: …]`, `CONFIDENTIAL —`, `… do not publish`) that the
    output repeats, and no other source or the user's query holds. What the app fetched for its own use, written
    into the answer."""
    fetched = [(span, text) for span, text in sources if span is not root and attr(span, "dify.node.type") != "start"]
    output = SEPARATOR.join(text for _, text, _ in outputs)
    typed = (user_query(root) or "") if root is not None else ""
    # (value, marker, source) of each passage's values the output holds; the sources with those passages blanked.
    candidates: list[tuple[str, str, ReadableSpan]] = []
    unmarked: list[str] = [text for span, text in sources if span is root or attr(span, "dify.node.type") == "start"]
    for span, text in fetched:
        lowered = text.lower()
        if len(lowered) != len(text):  # the positions of the markers must be the text's: `İ` (`FİN`) grows, cut
            lowered = "".join(char.lower()[0] for char in text)
        kept, read_to = [], 0
        for index, at, after in sorted(_MARKER_FINDER.find_matches_as_indexes(lowered, overlapping=True), key=_AT):
            if at < read_to or not _marks(lowered, index, at, after):
                continue
            start, end = _passage(lowered, index, at, after)
            kept.append(text[read_to:start])
            read_to = end
            marker = text[at:after]
            for token in _TOKEN.findall(text, start, end):
                value = token.rstrip(".:!?'")
                if _distinctive(value) and value in output and value not in typed:
                    candidates.append((value, marker, span))
            # An amount of five digits or more (a salary band's `68,000-82,000`): stated whole by the output.
            for amount in _AMOUNT.findall(text, start, end):
                if sum(map(str.isdigit, amount)) >= 5 and _stated(amount, output) and amount not in typed:
                    candidates.append((amount, marker, span))
        kept.append(text[read_to:])
        unmarked.append(" ".join(kept))
    public = SEPARATOR.join(unmarked)
    reported: set[str] = set()
    marked: list[Marked] = []
    for value, marker, span in candidates:
        if value not in reported and value not in public:
            reported.add(value)
            marked.append((value, marker, span, outputs[0][0]))
    return marked


def may_mark(text: str) -> bool:
    """Whether a text holds a word that may mark a passage internal, in any case (the scan of the sources tells so
    for theirs)."""
    return next(iter(_MARKER_FINDER.find_matches_as_indexes(text.lower())), None) is not None


# An amount written in groups of three digits (`68,000`, `1.250.000`), not a part of a longer number.
_AMOUNT = re.compile(r"(?<![\d.,'’])\d{1,3}(?:[,.'’]\d{3})+(?![\d]|[.,'’]\d)")


def _stated(amount: str, output: str) -> bool:
    """Whether an output states an amount whole, not as a part of a longer number (`168,000`, `68,000.5`)."""
    return re.search(rf"(?<![\d.,'’]){re.escape(amount)}(?![\d]|[.,'’]\d)", output) is not None


def _marks(lowered: str, index: int, at: int, after: int) -> bool:
    """Whether a marker word found at `at` marks a passage: a whole word; a label stands as one, bracketed or
    followed by a colon or dash (`[internal: …`, `CONFIDENTIAL — …`), not a word of a sentence ("internal
    server error", "a secret recipe")."""
    before = lowered[at - 1 : at] if lowered[at - 2 : at - 1] != "\\" else " "  # `…\nINTERNAL` in JSON text
    # (Thai, Chinese, Japanese and Korean labels stand inside a line's words: no boundary before them.)
    if (before.isalnum() and lowered[at] < "\u0e00") or lowered[after : after + 1].isalnum():
        return False
    labelled = lowered[after : after + 4].lstrip(" ")[:1] in _LABEL_ENDS
    return index >= len(MARK_LABELS) or (before != "" and before in _OPENING) or labelled


def _passage(lowered: str, index: int, at: int, after: int) -> tuple[int, int]:
    """Where a marked passage lies: from its label (`internal:`), or from its line's start for a phrase (`… do not
    publish`), to its line's end (a break as written or escaped in JSON text), its JSON string's or the bracket the
    label opened."""
    start = at
    if index >= len(MARK_LABELS):
        escaped = lowered.rfind("\\n", 0, at)
        start = max(lowered.rfind("\n", 0, at) + 1, escaped + 2 if escaped != -1 else 0, lowered.rfind('"', 0, at) + 1)
    ends = [lowered.find(stop, after) for stop in ("\n", "\\n", '"')]
    # A bracket holding more than the label is the passage (`[internal: …]`); one holding the label alone
    # (`[INTERNAL] …`, `(məxfi): …`) marks what follows it on its line.
    if at and lowered[at - 1] in _OPENING and lowered[after : after + 1] != _CLOSING[_OPENING.index(lowered[at - 1])]:
        ends.append(lowered.find(_CLOSING[_OPENING.index(lowered[at - 1])], after))
    return start, min((end for end in ends if end != -1), default=len(lowered))


# An identifier written as one number: eight digits or more with no separator, no amount's (`6703150123084`).
_IDENTIFIER = re.compile(r"\d{8,}")
# A code of capitals and digits, two of each at least, six characters at least, whole or in groups joined by hyphens
# or underscores (`5ZK81QA`, a national id's or a booking's; `NWB-KEEP-30`, a discount code's): no word, no number.
_CODE = re.compile(r"(?=(?:[A-Z_-]*\d){2})(?=(?:[\d_-]*[A-Z]){2})(?=(?:[_-]*[A-Z\d]){6})[A-Z\d]+(?:[_-][A-Z\d]+)*")


def _distinctive(value: str) -> bool:
    """A value a reader could not have guessed: four digits at least, and not a number, date, time or range; an
    identifier's long run of digits (`_IDENTIFIER`); or a code of capitals and digits (`_CODE`)."""
    if _CODE.fullmatch(value) is not None:
        return True
    digits = sum(map(str.isdigit, value)) >= 4
    return digits and (ORDINARY.fullmatch(value) is None or _IDENTIFIER.fullmatch(value) is not None)

"""An exclamation in an answer: the register of an advert ("...gratis!", "சேருங்கள்!"), told by punctuation alone in
every script that writes one (`!`, the full-width U+FF01), with no word list per language. An app's answers to its
questions state, list and quote; one that never exclaims and suddenly does has changed its register."""

from __future__ import annotations

import re
from collections.abc import Iterable

# `!` ending a sentence or a word, not an operator (`!=`, `!important`) nor a run of them inside a token.
_EXCLAIMED = re.compile(r"[^.!?\n\u3002\uff01\uff1f]{1,60}(?<![!=<>])[!\uff01](?![=\w])")


def exclamation(text: str) -> str | None:
    """The text's first exclaimed clause (at most 60 characters before its mark), if it has one."""
    found = _EXCLAIMED.search(text)
    return found.group().strip() if found else None


def exclaiming(texts: Iterable[str]) -> int:
    """How many of the texts exclaim."""
    return sum(_EXCLAIMED.search(text) is not None for text in texts)

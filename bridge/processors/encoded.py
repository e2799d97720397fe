"""Sensitive values written so that a scan of the text as it is misses them, and a reader still sees them:
URL-encoded (`token%3Dghp_…`), JSON-escaped (`"pass\\u0077ord"`), full-width (`sk-proj-…` written with U+FF53
U+FF4B), or with invisible characters inside (a zero-width space or soft hyphen in a name or a token).

`encoded_values` scans the text as such a reader decodes it and names each value found there by the characters
of the text that hold it, so that redaction can mask those. Base64 blobs, look-alike letters of other scripts
and a value split over two places are not read (docs/security.md).
"""

from __future__ import annotations

import re

from bridge.processors.sensitive import INVISIBLE, sensitive_values

# What is decoded: a `%XX` of an ASCII character, a JSON `\uXXXX` (no surrogate), the characters that show as
# nothing (soft hyphen, zero-width spaces and joiners, direction marks, word joiner, BOM), and full-width letters,
# digits, `-`, `_` and `=` (not the full-width punctuation of Chinese and Japanese text, U+FF0C, U+FF1A, U+FF08: every
# such text would be scanned twice; the scan reads a full-width colon as it is).
_WIDE = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0d\uff3f\uff1d"
_INVISIBLE = "".join(sorted(INVISIBLE))
_PERCENT_PIECE = r"%[0-7][0-9A-Fa-f]"
_ESCAPE_PIECE = r"\\u(?![dD][89a-fA-F])[0-9A-Fa-f]{4}"
_ENCODED = re.compile(f"{_PERCENT_PIECE}|{_ESCAPE_PIECE}|[{_INVISIBLE}]|[{_WIDE}]+")
# Each alone, behind a substring test: one search for all of them tries every position (320 µs on 8 KB).
_PERCENT = re.compile(_PERCENT_PIECE)
_ESCAPE = re.compile(_ESCAPE_PIECE)
_WIDE_OR_INVISIBLE = re.compile(f"[{_INVISIBLE}{_WIDE}]")
_FULL_WIDTH_OFFSET = 0xFEE0  # U+FF01 … U+FF5E are `!` … `~` moved up by this


def _has_encoded(text: str) -> bool:
    return bool(
        ("%" in text and _PERCENT.search(text))
        or ("\\u" in text and _ESCAPE.search(text))
        or (not text.isascii() and _WIDE_OR_INVISIBLE.search(text))
    )


def decoded(text: str) -> tuple[str, list[int], list[int]] | None:
    """`text` as a reader decodes it, with where each of its characters starts and ends in `text`; None when
    nothing in it is encoded."""
    if not _has_encoded(text):
        return None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for match in _ENCODED.finditer(text):
        start, end, piece = match.start(), match.end(), match.group()
        out.append(text[done:start])
        starts.extend(range(done, start))
        ends.extend(range(done + 1, start + 1))
        done = end
        if piece[0] == "%":
            out.append(chr(int(piece[1:], 16)))
        elif piece[0] == "\\":
            out.append(chr(int(piece[2:], 16)))
        elif piece in INVISIBLE:
            continue
        else:  # a run of full-width characters, each one character
            out.append("".join(chr(ord(char) - _FULL_WIDTH_OFFSET) for char in piece))
            starts.extend(range(start, end))
            ends.extend(range(start + 1, end + 1))
            continue
        starts.append(start)
        ends.append(end)
    out.append(text[done:])
    starts.extend(range(done, len(text)))
    ends.extend(range(done + 1, len(text) + 1))
    return "".join(out), starts, ends


def encoded_values(text: str, personal: bool, exempt_examples: bool = True) -> dict[str, str]:
    """The characters of `text` that hold a sensitive value once decoded → the value's kind (as
    `sensitive_values`); empty when nothing in `text` is encoded."""
    view = decoded(text)
    if view is None:
        return {}
    plain, starts, ends = view
    found: dict[str, str] = {}
    for value, kind in sensitive_values(plain, personal, exempt_examples).items():
        at = plain.find(value)
        while at != -1:
            found.setdefault(text[starts[at] : ends[at + len(value) - 1]], kind)
            at = plain.find(value, at + 1)
    return found

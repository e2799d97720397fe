# ruff: noqa: RUF001, RUF002  (the look-alike letters are the point)
"""Cyrillic and Greek letters drawn like Latin ones (`passwоrd` with a Cyrillic `о`), read as the Latin letters a
reader sees, in the words that mix them with Latin letters only: a word of Russian or Greek stays as it is, so
`пароль` is still read as `пароль`.

The letters are those of Unicode's confusables list (UTS #39) that look like a Latin letter in common fonts.
"""

from __future__ import annotations

import re

_LATIN = str.maketrans({
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "к": "k",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
})  # fmt: skip
# Where a word can mix the scripts, found in the text's UTF-8 bytes with Latin letters made "L", the first byte of a
# Greek or Cyrillic letter (U+0370 to U+052F: 0xCD to 0xD4) "C" and the bytes that continue a character "c": a Latin
# letter before such a letter, or after one. The search starts at each "L" (the regex engine skips to it as to a
# literal): on 8 KB of Russian text 20 to 40 µs in all, against 225 µs and more for a regex over the text itself;
# Chinese and Japanese letters start with other bytes.
_CLASSES = bytes(
    76 if chr(byte).isascii() and chr(byte).isalpha() else 67 if 0xCD <= byte <= 0xD4 else 99 if 0x80 <= byte <= 0xBF
    else 48 for byte in range(256)
)  # fmt: skip
_BORDER = re.compile(rb"L(?:(?=C)|(?<=CcL))")
_WORD = re.compile(r"[^\W_]*")


def latin_lookalikes(text: str) -> str | None:
    """`text` with the look-alike letters of each word that mixes Latin and Greek or Cyrillic letters made Latin,
    character for character (the same length); None when no word mixes them."""
    if text.isascii():
        return None
    raw = text.encode("utf-8", "surrogatepass")
    classes = raw.translate(_CLASSES)
    if b"L" not in classes:
        return None
    pieces: list[str] = []
    done = at = kept = 0  # bytes read, the characters they hold, the characters taken into `pieces`
    for border in _BORDER.finditer(classes):
        at += len(raw[done : border.start()].decode("utf-8", "surrogatepass"))
        done = border.start()
        if at < kept:  # in the word made Latin last
            continue
        start = at
        while start > kept and text[start - 1].isalnum():
            start -= 1
        word = _WORD.match(text, at)
        end = at if word is None else word.end()
        pieces += (text[kept:start], text[start:end].translate(_LATIN))
        kept = end
    latin = "".join(pieces) + text[kept:]
    return None if latin == text else latin

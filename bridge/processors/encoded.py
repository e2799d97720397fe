"""Sensitive values written so that a scan of the text as it is misses them, and a reader still sees them:
URL-encoded (`token%3Dghp_…`), JSON-escaped (`"pass\\u0077ord"`), full-width (`sk-proj-…` written with U+FF53
U+FF4B), with invisible characters inside (a zero-width space or soft hyphen in a name or a token) or with Cyrillic
and Greek letters drawn like Latin ones (`passw\\u043erd`); and base64 of a text holding one (`Z2hwX0Ex…`, a Kubernetes
Secret's `data:`, a `.dockerconfigjson`).

`encoded_values` scans the text as such a reader decodes it and names each value found there by the characters
of the text that hold it, so that redaction can mask those; a base64 blob is masked whole. Look-alike letters of
other scripts are read as the Latin ones they look like (bridge/processors/lookalikes.py).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Sequence

from bridge.processors.lookalikes import latin_lookalikes
from bridge.processors.sensitive import INVISIBLE, sensitive_values

# What is decoded: a `%XX` of an ASCII character or the `%XX`s of one character's UTF-8 bytes (`%E5%AF%86%E7%A0%81`
# is `密码`), a JSON `\uXXXX` (no surrogate; also with its backslash escaped again, `\\uXXXX`, as JSON text inside
# JSON text writes it: branch redact14), the characters that show as
# nothing (soft hyphen, zero-width spaces and joiners, direction marks, word joiner, BOM), and full-width letters,
# digits, `-`, `_` and `=` (not the full-width punctuation of Chinese and Japanese text, U+FF0C, U+FF1A, U+FF08: every
# such text would be scanned twice; the scan reads a full-width colon as it is).
_WIDE = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0d\uff3f\uff1d"
_INVISIBLE = "".join(sorted(INVISIBLE))
_PERCENT_PIECE = r"%(?:[0-7][0-9A-Fa-f]|[c-fC-F][0-9A-Fa-f](?:%[89abAB][0-9A-Fa-f]){1,3})"
_ESCAPE_PIECE = r"\\u(?![dD][89a-fA-F])[0-9A-Fa-f]{4}"
# An escape with its backslashes, however many (JSON text in JSON text doubles them), read as one: the search for
# escapes alone (`_ESCAPE`) starts with the literal `\u`, which it finds in those too (a leading `\\+` there cost it
# the literal search, 4x its time).
_ENCODED = re.compile(f"{_PERCENT_PIECE}|\\\\+u(?![dD][89a-fA-F])[0-9A-Fa-f]{{4}}|[{_INVISIBLE}]|[{_WIDE}]+")
# Each alone, most behind a substring test: one search for all of them tries every position (320 µs on 8 KB).
_PERCENT = re.compile(_PERCENT_PIECE)
_ESCAPE = re.compile(_ESCAPE_PIECE)
_WIDE_OR_INVISIBLE = re.compile(f"[{_INVISIBLE}{_WIDE}]")
_FULL_WIDTH_OFFSET = 0xFEE0  # U+FF01 … U+FF5E are `!` … `~` moved up by this


def _has_encoded(text: str) -> bool:
    return bool(
        ("%" in text and _PERCENT.search(text))
        or _ESCAPE.search(text)  # alone: `"\\u" in text` first took twice as long over JSON text's `\\"` and `\\n`
        or (not text.isascii() and _WIDE_OR_INVISIBLE.search(text))
    )


def decoded(text: str) -> tuple[str, Sequence[int], Sequence[int]] | None:
    """`text` as a reader decodes it and reads it (look-alike letters as the Latin ones they look like), with
    where each of its characters starts and ends in `text`; None when nothing in it is encoded or looks alike."""
    view = _decoded(text) if _has_encoded(text) else None
    plain = text if view is None else view[0]
    latin = latin_lookalikes(plain)  # character for character: the places stay
    if latin is not None:
        return (latin, range(len(text)), range(1, len(text) + 1)) if view is None else (latin, view[1], view[2])
    return view


def _decoded(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with its encoded pieces decoded, and where each character starts and ends in `text`."""
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
        if piece[0] == "%":  # one character, whatever its UTF-8 bytes' number (a bad sequence reads as U+FFFD)
            out.append(bytes.fromhex(piece.replace("%", "")).decode("utf-8", "replace")[0])
        elif piece[0] == "\\":
            out.append(chr(int(piece[-4:], 16)))
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
    found = base64_values(text, personal, exempt_examples)
    view = decoded(text)
    if view is None:
        return found
    plain, starts, ends = view
    for value, kind in sensitive_values(plain, personal, exempt_examples).items():
        at = plain.find(value)
        while at != -1:
            found.setdefault(text[starts[at] : ends[at + len(value) - 1]], kind)
            at = plain.find(value, at + 1)
    return found


# Base64 worth decoding: 20 characters or more of its alphabet in a row (the base64 of `password=abc123`), found
# in the text's bytes with the alphabet made "1" (a regex over ordinary text took 110 µs a trace, this 4). Not
# URL-safe base64's `-` and `_`: every UUID and snake_case name would be a run to look at (30 µs a trace); the
# base64 of ASCII text holds them seldom.
_BASE64_BYTES = bytes(
    49 if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) in "+/") else 48 for byte in range(256)
)
_SHORTEST_BASE64 = 20
_BASE64_RUN = b"1" * _SHORTEST_BASE64
# Not text once decoded: control characters other than tab and line breaks, bytes that are not UTF-8. A blob
# decoding to more than one in eight of these is binary (an image) or shifted; fewer may be put there to hide a
# token (`token=\xff ghp_…`).
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def base64_values(text: str, personal: bool, exempt_examples: bool = True) -> dict[str, str]:
    """Each base64 blob in `text` whose decoded text holds a sensitive value → that value's kind. A blob is tried
    only when it mixes capitals and small letters (not a hex digest, a path or a word) and its length can be
    base64's; it counts only when it decodes to text (`_NOT_TEXT`)."""
    raw = text.encode("utf-8", "surrogatepass")
    runs = raw.translate(_BASE64_BYTES)
    found: dict[str, str] = {}
    start = runs.find(_BASE64_RUN)
    while start != -1:
        end = runs.find(b"0", start)
        end = len(runs) if end == -1 else end
        body = raw[start:end]
        if not (body.islower() or body.isupper()):  # a path, a hex digest, a word
            after = raw[end : end + 2]
            blob = raw[start : end + len(after) - len(after.lstrip(b"="))].decode()
            kind = _base64_kind(blob, personal, exempt_examples)
            if kind is not None:
                found[blob] = kind
        start = runs.find(_BASE64_RUN, end)
    return found


def _base64_kind(blob: str, personal: bool, exempt_examples: bool) -> str | None:
    if len(blob) <= _CACHED_LENGTH:
        return _cached_base64_kind(blob, personal, exempt_examples)
    return _decoded_base64_kind(blob, personal, exempt_examples)


_CACHED_LENGTH = 256


# Names of code and paths (`HttpRequestNodeError`, `langgenius/openai/openai`) come back trace after trace.
@functools.lru_cache(maxsize=1024)
def _cached_base64_kind(blob: str, personal: bool, exempt_examples: bool) -> str | None:
    return _decoded_base64_kind(blob, personal, exempt_examples)


def _decoded_base64_kind(blob: str, personal: bool, exempt_examples: bool) -> str | None:
    body = blob.rstrip("=")  # the `=`s after it are not read: one more hides nothing
    # From each of the first four characters: letters written before a blob (`xcGFzc3…`) shift its quartets.
    for skip in range(4):
        quartets = body[skip:]
        if len(quartets) % 4 == 1:
            continue
        try:
            plain = base64.b64decode(quartets + "=" * (-len(quartets) % 4), validate=True).decode("utf-8", "replace")
        except binascii.Error:
            continue
        if len(_NOT_TEXT.findall(plain)) * 8 <= len(plain):
            return next(iter(sensitive_values(plain, personal, exempt_examples).values()), None)
        if _PEM_HEAD.match(plain):  # a key's PEM lines glued to binary (branch redact12): its head says what it is
            return "private_key"
    return None


_PEM_HEAD = re.compile(r"\s*-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")

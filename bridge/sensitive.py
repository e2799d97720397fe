"""What counts as sensitive in text: provider API keys, tokens, passwords, private keys, and personal data.

Shared by the `dify_variable_leak` detector and the `redact` processor. Placeholders, masked values,
documentation domains and payment providers' test numbers are not sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import ahocorasick_rs

# Each pattern starts with its literal prefix and checks the word boundary before it with a look-behind
# (`sk-(?<!\wsk-)` is `\bsk-`): the regex engine then jumps from one occurrence of the prefix to the next
# instead of trying every position, about 9x faster on ordinary text. tests/test_sensitive.py checks each
# against its plain form.
SECRETS: dict[str, re.Pattern[str]] = {
    "openai_key": re.compile(r"sk-(?<!\wsk-)(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),
    "aws_access_key": re.compile(r"A[KS]IA(?<!\wA[KS]IA)[0-9A-Z]{16}\b"),
    "github_token": re.compile(r"gh[pousr]_(?<!\wgh[pousr]_)[A-Za-z0-9]{36,}\b"),
    "slack_token": re.compile(r"xox[abprs]-(?<!\wxox[abprs]-)[A-Za-z0-9-]{10,}"),
    "google_api_key": re.compile(r"AIza(?<!\wAIza)[0-9A-Za-z_-]{35}\b"),
    "dify_app_key": re.compile(r"app-(?<!\wapp-)[A-Za-z0-9]{24}\b"),
    "jwt": re.compile(r"eyJ(?<!\weyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "private_key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "password": re.compile(r"(?i)\b(?:password|passwd|pwd)\b\s*[:=]\s*[\"']?([^\s\"',;}]{6,})"),
}
# The first three groups of a UUID and their dashes: what comes before a UUID's fourth group.
_UUID_HEAD = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
_UUID_HEAD_LENGTH = 8 + 4 + 4 + 3  # its hex digits and dashes
PERSONAL: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    "phone": re.compile(r"\+(?<![\w.]\+)\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w.])"),
    # Digits have no literal prefix; the first repetition is still unrolled so the boundary check comes after it.
    # Not the last two groups of a UUID (4 and 12 digits, which pass Luhn's check one time in ten).
    "card_number": re.compile(rf"\d(?<!\w\d)(?<!{_UUID_HEAD}\d)[ -]?(?:\d[ -]?){{12,18}}\b"),
    "us_ssn": re.compile(r"\d{3}-(?<!\w\d{3}-)(?<!000-)(?<!666-)(?<!9\d\d-)(?!00)\d{2}-(?!0000)\d{4}\b"),
}
# A card number is 13 digits or more, single spaces or dashes between them: 13 such characters in a row.
_DIGIT_RUN = re.compile(r"\d[\d -]{12}")
# The same test for ASCII text, over its bytes with digits, spaces and dashes made "1" (5x faster than a regex).
_RUN_BYTES = bytes(49 if chr(byte) in "0123456789 -" else 48 for byte in range(256))
_RUN = b"1" * 13
# Cheap tests that must pass before a pattern is worth running (most texts hold no secret at all): one of
# some substrings (as written; in any case for a case-insensitive pattern), or for the patterns of digits a
# simple pattern and the fewest digits a match holds.
_GUARDS: dict[str, tuple[str, ...] | re.Pattern[str]] = {
    "openai_key": ("sk-",), "aws_access_key": ("AKIA", "ASIA"), "slack_token": ("xox",), "google_api_key": ("AIza",),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), "dify_app_key": ("app-",), "jwt": ("eyJ",),
    "private_key": ("-----BEGIN",), "password": ("pass", "pwd"), "email": ("@",), "phone": ("+",),
    # A card number needs 13 digits and separators in a row; an SSN, a two-digit group and four digits.
    "card_number": _DIGIT_RUN, "us_ssn": re.compile(r"-\d\d-\d{4}"),
}  # fmt: skip
_MIN_DIGITS = {"phone": 6, "card_number": 13, "us_ssn": 9}
_FEWEST_DIGITS = min(_MIN_DIGITS.values())
# Every substring guard, lower-cased, found in one pass over the case-folded text (Aho-Corasick: 0.4x the cost
# of searching them one by one on the joined texts redact and dify_variable_leak scan).
_LITERALS = tuple(
    dict.fromkeys(literal.lower() for guard in _GUARDS.values() if isinstance(guard, tuple) for literal in guard)
)
_FINDER = ahocorasick_rs.AhoCorasick(_LITERALS)
# Between texts joined for one scan: no pattern matches across it (a password's `\s*` takes the newline,
# then meets the NUL), so the scan finds what a scan of each text finds (tests/test_sensitive.py).
SEPARATOR = "\n\x00\n"
_SHORTEST = 6  # no pattern matches fewer characters (an e-mail address, a+b@c.de, is about the shortest)


class _Check(NamedTuple):
    kind: str
    pattern: re.Pattern[str]
    # The same pattern for ASCII-only text, where \d, \w and \b mean the same: up to 2.5x faster.
    ascii_pattern: re.Pattern[str]
    # Substring guard: the indexes of its literals in `_LITERALS`, and for a case-sensitive pattern the
    # literals as written, looked for in the text itself once the finder saw them in the folded text.
    literals: frozenset[int]
    exact: tuple[str, ...]
    guard: re.Pattern[str] | None  # the other guards
    min_digits: int


def _check(kind: str, pattern: re.Pattern[str]) -> _Check:
    ascii_pattern = re.compile(pattern.pattern, (pattern.flags & ~re.UNICODE) | re.ASCII)
    guard = _GUARDS.get(kind)
    literals = guard if isinstance(guard, tuple) else ()
    exact = () if pattern.flags & re.IGNORECASE else literals
    return _Check(
        kind, pattern, ascii_pattern, frozenset(_LITERALS.index(literal.lower()) for literal in literals), exact,
        None if isinstance(guard, tuple) else guard, _MIN_DIGITS.get(kind, 0),
    )  # fmt: skip


# Built once: this runs for every string attribute of every span.
_CHECKS: dict[bool, list[_Check]] = {
    personal: [_check(kind, pattern) for kind, pattern in {**SECRETS, **(PERSONAL if personal else {})}.items()]
    for personal in (False, True)
}
_UNLITERAL = {personal: [check for check in checks if not check.literals] for personal, checks in _CHECKS.items()}
_PLACEHOLDER = re.compile(r"(?i)x{4,}|\*{3,}|<[^>]+>|your[_-]|example|redacted|dummy|placeholder|(.)\1{7,}")
_EXAMPLE_DOMAINS = re.compile(r"(?i)@(?:[a-z0-9-]+\.)*(?:example\.(?:com|org|net)|test\.com|localhost)\b")
# Card numbers published by payment providers for testing.
_TEST_CARDS = frozenset(
    {
        "4242424242424242",
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
        "4000056655665556",
        "5105105105105100",
        "4012888888881881",
    }
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def sensitive_values(text: str, personal: bool) -> dict[str, str]:
    """Sensitive value → its kind, for every real-looking secret (and personal datum) in `text`."""
    found: dict[str, str] = {}
    if len(text) < _SHORTEST:
        return found
    # ASCII digits are counted (as bytes: str.translate is 8x slower); a text with other characters may hold
    # other digits (\d takes them): no gate.
    is_ascii = text.isascii()
    if is_ascii:
        raw = text.encode()
        digits = len(raw) - len(raw.translate(None, b"0123456789"))
    else:
        raw, digits = b"", len(text)
    # casefold, not lower, for other text: (?i) takes the long s (U+017F) for 's'; only casefold makes it one.
    folded = text.lower() if is_ascii else text.casefold()
    present = {index for index, _, _ in _FINDER.find_matches_as_indexes(folded, overlapping=True)}
    if digits < _FEWEST_DIGITS and not present:
        return found
    # Without any guard's literal only the patterns guarded otherwise (card numbers, SSNs) are left to try.
    checks = _CHECKS[personal] if present else _UNLITERAL[personal]
    for kind, pattern, ascii_pattern, literals, exact, guard, min_digits in checks:
        if digits < min_digits:
            continue
        stretches: Iterable[str] = (text,)
        if literals:
            if literals.isdisjoint(present) or (exact and not _any_in(exact, text)):
                continue
        elif guard is _DIGIT_RUN:
            if is_ascii:
                stretches = _digit_stretches(text, raw.translate(_RUN_BYTES))
            elif _DIGIT_RUN.search(text) is None:
                continue
        elif guard is not None and guard.search(text) is None:
            continue
        for stretch in stretches:
            for match in (ascii_pattern if is_ascii else pattern).finditer(stretch):
                value = match.group(match.lastindex or 0)
                if accepted(kind, value):
                    found.setdefault(value, kind)
    return found


def _digit_stretches(text: str, runs: bytes) -> Iterator[str]:
    """The stretches of ASCII `text` where a card number can be (`runs`: the text through `_RUN_BYTES`), each
    with the characters before (a UUID's head) and the one after that the pattern's boundaries look at: the
    card pattern reads these instead of a whole text whose ids and dates hold a few such stretches."""
    start = runs.find(_RUN)  # the first 13 in a row start a stretch: the characters before are not in it
    while start != -1:
        end = runs.find(b"0", start)
        end = len(runs) if end == -1 else end
        yield text[max(start - _UUID_HEAD_LENGTH, 0) : end + 1]
        start = runs.find(_RUN, end)


def accepted(kind: str, value: str) -> bool:
    """A match of `kind`'s pattern that is real: not a placeholder, example address or test card number."""
    if _PLACEHOLDER.search(value):
        return False
    if kind == "email" and _EXAMPLE_DOMAINS.search(value):
        return False
    if kind == "card_number":
        card_digits = re.sub(r"\D", "", value)
        return luhn_ok(card_digits) and card_digits not in _TEST_CARDS and len(set(card_digits)) >= 3
    return True


def _any_in(literals: tuple[str, ...], text: str) -> bool:
    for literal in literals:  # noqa: SIM110 - any() over a generator costs more than the searches themselves
        if literal in text:
            return True
    return False

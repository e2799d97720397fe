from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.sensitive import _CHECKS, PERSONAL, SECRETS, SEPARATOR, accepted, luhn_ok, sensitive_values

OPENAI_KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (OPENAI_KEY, "openai_key"),
        ("AKIAIOSFODNN7EXAMPL3", "aws_access_key"),
        ("jane.doe@acme-corp.io", "email"),
        ("4539 1488 0343 6467", "card_number"),
        ("123-45-6789", "us_ssn"),
        ("-----BEGIN RSA PRIVATE KEY-----", "private_key"),
    ],
)
def test_recognizes(value: str, kind: str) -> None:
    assert kind in sensitive_values(f"x {value} y", personal=True).values()


@pytest.mark.parametrize(
    "value",
    [
        "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk-<your-key-here>abcdefghijklmnopqrstuv",
        "user@example.com",
        "4242 4242 4242 4242",
        "4539 1488 0343 6468",
        "000-12-3456",
        "password: ********",
    ],
)
def test_ignores_placeholders_examples_and_test_numbers(value: str) -> None:
    assert sensitive_values(f"x {value} y", personal=True) == {}


def test_luhn() -> None:
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")


# The patterns in their plain form, as first written: bridge/sensitive.py rewrites them to start with their
# literal prefix (for speed) and must find exactly what these find.
PLAIN = {
    "openai_key": r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
    "aws_access_key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "github_token": r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
    "slack_token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "google_api_key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "dify_app_key": r"\bapp-[A-Za-z0-9]{24}\b",
    "jwt": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "phone": r"(?<![\w.])\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w.])",
    "card_number": r"\b(?<![0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-)(?:\d[ -]?){13,19}\b",
    "us_ssn": r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b",
}
# Pieces that make the patterns match, half match and just miss: prefixes, digits, separators, word chars.
PIECES = st.sampled_from(
    ["sk-", "proj-", "ant-", "AKIA", "ASIA", "ghp_", "gho_", "xoxb-", "AIza", "app-", "eyJ", ".", "+", "-", " ",
     "(", ")", "_", "x", "Z", "0", "9", "000", "666", "912", "123", "45", "00", "6789", "0000", "4539", "1488",
     "abcdefghij", "ABCDEFGHIJKLMNOP", "0123456789"]
)  # fmt: skip


@pytest.mark.parametrize("kind", sorted(PLAIN))
@settings(max_examples=300, deadline=None)
@given(text=st.lists(PIECES, max_size=40).map("".join))
@example(text="x4539 1488 0343 6467 x4539148803436467 4539148803436467")
@example(text="5f2b8c1e-3d4a-4b7e-4539-148803436467 5f2b8c1e-3d4a-4b7-4539-148803436467 -4539-148803436467")
@example(text="a123-45-6789 123-45-6789 000-45-6789 912-45-6789")
@example(text="xsk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9 sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9")
@example(text="1+44 20 7946 0958 .+44 20 7946 0958 +44 20 7946 0958")
def test_fast_patterns_find_what_the_plain_ones_find(kind: str, text: str) -> None:
    plain = [m.span() for m in re.finditer(PLAIN[kind], text)]
    assert [m.span() for m in {**SECRETS, **PERSONAL}[kind].finditer(text)] == plain
    # The ASCII-only variant used on ASCII text (these texts are).
    (check,) = [check for check in _CHECKS[True] if check.kind == kind]
    assert [m.span() for m in check.ascii_pattern.finditer(text)] == plain


def test_the_tail_of_a_uuid_is_not_a_card_number() -> None:
    # 4539 1488 0343 6467 passes Luhn's check: as a UUID's last two groups it is an id, not a card.
    for uuid in ("5f2b8c1e-3d4a-4b7e-4539-148803436467", "5F2B8C1E-3D4A-4B7E-4539-148803436467"):
        assert sensitive_values(f'{{"document_id": "{uuid}"}}', personal=True) == {}
        assert sensitive_values(uuid, personal=True) == {}
    # The same digits anywhere else still are.
    assert sensitive_values("card 4539-148803436467", personal=True) == {"4539-148803436467": "card_number"}
    assert sensitive_values("ref 3d4a-4b7e-4539-148803436467", personal=True) == {"4539-148803436467": "card_number"}


def test_digits_of_other_scripts_are_not_gated_out() -> None:
    arabic_indic = "4539 1488 0343 6467".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert "card_number" in sensitive_values(f"card {arabic_indic} here", personal=True).values()


# Text made to trip the gates: every guard's literal, digits and separators in runs, dates, word characters.
GATED_PIECES = st.sampled_from(
    ["sk-", "proj-", "AKIA", "ASIA", "ghp_", "xoxb-", "AIza", "app-", "eyJ", "-----BEGIN RSA PRIVATE KEY-----",
     "password", "PassWD", "pwd", "= ", ": ", "'", "@", "acme.io", "example.com", "+", "-", " ", ".", "(", ")",
     "_", "x", "Z", "0", "9", "000", "123", "45", "6789", "4539", "1488", "0343", "6467", "2026-11-24 10:00",
     "abcdefghij", "ABCDEFGHIJKLMNOP", "0123456789", "é", "٣", "PaSSword", "pa\u017f\u017fword", "\u212a"]
)  # fmt: skip


def ungated(text: str) -> dict[str, str]:
    """What the scan must find: every pattern run over the whole text, no guard, gate or screen."""
    found: dict[str, str] = {}
    for check in _CHECKS[True]:
        for match in check.pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if accepted(check.kind, value):
                found.setdefault(value, check.kind)
    return found


@settings(max_examples=500, deadline=None)
@given(text=st.lists(GATED_PIECES, max_size=30).map("".join))
@example(text="card 4539 1488 0343 6467 and ssn 123-45-6789 on 2026-11-24 10:00")
@example(text="the shortest card number, 13 digits:4539148803433.")
@example(text="not one, a letter before it: a4539148803433.")
@example(text="id 5F2B8C1E-3D4A-4B7E-4539-148803436467 then 4539-148803436467")
@example(text="password: hunter22 mail jane@acme.io +44 20 7946 0958")
@example(text="PaSSword: hunter22")
@example(text="pa\u017f\u017fword: swordfish9")
def test_guards_and_gates_skip_only_texts_without_a_match(text: str) -> None:
    assert sensitive_values(text, personal=True) == ungated(text)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.lists(GATED_PIECES, max_size=12).map("".join), max_size=5))
@example(texts=["password", ": hunter22"])
@example(texts=["password:", "hunter22"])
@example(texts=["4539 1488", "0343 6467"])
def test_one_scan_of_joined_texts_finds_what_a_scan_of_each_finds(texts: list[str]) -> None:
    each = {value for text in texts for value in sensitive_values(text, personal=True)}
    assert set(sensitive_values(SEPARATOR.join(texts), personal=True)) == each

from __future__ import annotations

import pytest

from bridge.sensitive import luhn_ok, sensitive_values

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

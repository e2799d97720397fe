"""What counts as sensitive in text: provider API keys, tokens, passwords, private keys, and personal data.

Shared by the `dify_variable_leak` detector and the `redact` processor. Placeholders, masked values,
documentation domains and payment providers' test numbers are not sensitive.
"""

from __future__ import annotations

import re

SECRETS: dict[str, re.Pattern[str]] = {
    "openai_key": re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),
    "aws_access_key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "github_token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "slack_token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "google_api_key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "dify_app_key": re.compile(r"\bapp-[A-Za-z0-9]{24}\b"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "private_key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "password": re.compile(r"(?i)\b(?:password|passwd|pwd)\b\s*[:=]\s*[\"']?([^\s\"',;}]{6,})"),
}
PERSONAL: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    "phone": re.compile(r"(?<![\w.])\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w.])"),
    "card_number": re.compile(r"\b(?:\d[ -]?){13,19}\b"),
    "us_ssn": re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"),
}
# Cheap tests that must pass before a pattern is worth running (most texts hold no secret at all).
_GUARDS: dict[str, tuple[str, ...]] = {
    "openai_key": ("sk-",), "aws_access_key": ("AKIA", "ASIA"), "github_token": ("gh",), "slack_token": ("xox",),
    "google_api_key": ("AIza",), "dify_app_key": ("app-",), "jwt": ("eyJ",), "private_key": ("-----BEGIN",),
    "password": ("pass", "pwd", "PASS", "Pass", "PWD"), "email": ("@",), "phone": ("+",), "us_ssn": ("-",),
}  # fmt: skip
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
    kinds = {**SECRETS, **(PERSONAL if personal else {})}
    for kind, pattern in kinds.items():
        guards = _GUARDS.get(kind)
        if guards is not None and not any(guard in text for guard in guards):
            continue
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if _PLACEHOLDER.search(value):
                continue
            if kind == "email" and _EXAMPLE_DOMAINS.search(value):
                continue
            if kind == "card_number":
                digits = re.sub(r"\D", "", value)
                if not luhn_ok(digits) or digits in _TEST_CARDS or len(set(digits)) < 3:
                    continue
            found.setdefault(value, kind)
    return found

"""Ways around the default `redact` found by attacking it (branch `attack`): each is a secret written so that a
scan of the text as it is does not see it. Those a reader decodes (URL encoding, JSON escapes, full-width letters,
invisible characters) are masked since bridge/processors/encoded.py; the rest still fail (strict xfail: fixing
one turns its test into an error, to remove the mark). docs/security.md lists them."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.processors.redact import Config, create

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
OPENAI_KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"
PASSWORD = "hunter2secret"
B64_TOKEN = base64.b64encode(GITHUB_TOKEN.encode()).decode()  # the blob itself is what must not go out
B64_ASSIGNMENT = base64.b64encode(f"password={PASSWORD}".encode()).decode()


def _full_width(ascii_text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) for char in ascii_text)


DODGES = {
    # `token%3Dghp_…`: the token follows a word character (`D`), where no token may start.
    "url-encoded token in a query": ("q=" + urllib.parse.quote(f"token={GITHUB_TOKEN}"), GITHUB_TOKEN),
    "url-encoded assignment": (f"password%3D{PASSWORD}", PASSWORD),
    "json \\u escape in the key's name": ('{"pass\\u0077ord": "' + PASSWORD + '"}', PASSWORD),
    "json \\u escape inside a token": ("\\u0073" + OPENAI_KEY[1:], OPENAI_KEY[1:]),
    "zero-width space inside the key's name": (f"pass\u200bword={PASSWORD}", PASSWORD),
    "soft hyphen inside the key's name": (f"pass\u00adword={PASSWORD}", PASSWORD),
    "zero-width space inside a token": (GITHUB_TOKEN[:8] + "\u200b" + GITHUB_TOKEN[8:], GITHUB_TOKEN[8:]),
    "full-width key name": (f"{_full_width('password')}={PASSWORD}", PASSWORD),
    "full-width token prefix": (_full_width("sk") + OPENAI_KEY[2:], OPENAI_KEY[2:]),
    # A value alone on the next line: one token with a letter and a digit, nothing else on its line.
    "value on the next line": (f"password=\n{PASSWORD}", PASSWORD),
    "yaml value on the next line": (f"db:\n  password:\n    {PASSWORD}\n  user: app", PASSWORD),
    "quoted value on the next line": (f'password:\n  "{PASSWORD}"', PASSWORD),
    "value on the next line in json text": ('{"config": "token:\\n  ' + GITHUB_TOKEN[4:] + '\\n"}', GITHUB_TOKEN[4:]),
}
# Not read yet: base64 is decoded by no reader of a trace, look-alike letters need a confusables table.
STILL_DODGES = {
    "base64 of a token": (B64_TOKEN, B64_TOKEN),
    "base64 of an assignment": (B64_ASSIGNMENT, B64_ASSIGNMENT),
    "cyrillic letter in the key's name": (f"passw\u043erd={PASSWORD}", PASSWORD),
}


@pytest.mark.parametrize("text, secret", DODGES.values(), ids=DODGES.keys())
def test_an_encoded_secret_is_masked(text: str, secret: str) -> None:
    redacted = create(Config()).redact_text(text)
    assert secret not in redacted and "\u2026#" in redacted  # masked where it stood, as a plain one is


@pytest.mark.xfail(strict=True, reason="redaction dodged; not read yet (docs/security.md)")
@pytest.mark.parametrize("text, secret", STILL_DODGES.values(), ids=STILL_DODGES.keys())
def test_a_secret_written_so_no_reader_decodes_it_is_masked(text: str, secret: str) -> None:
    assert secret not in create(Config()).redact_text(text)


def test_decoded_text_keeps_what_is_not_encoded() -> None:
    """Text without a secret comes out as it went in, encoded or not: a percentage, an escaped accent, a
    full-width comma of Chinese text and a soft hyphen in a long word are left as written."""
    processor = create(Config())
    for text in ("50% off, 100%25 sure", '{"caf\\u00e9": "ouvert"}', "你好\uff0c世界", "Donau\u00addampf\u00adschiff"):
        assert processor.redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "password:\n  - admin1\n  - root2",  # a list
        "password:\n  min_length: 8\n  max_length: 64",  # a section
        "Password:\nMust be 8 characters long",  # prose
        "password:\n  required",  # a word
        "Reset your password:\nhttps://acme.io/reset?id=123",  # a link
        "token:\n  # rotated 2024\n",  # a comment
        "password:\n\nv2 of the form",  # an empty line between
    ],
)
def test_lines_after_a_name_that_are_no_value_stay(text: str) -> None:
    assert create(Config()).redact_text(text) == text


def test_the_plain_forms_of_these_secrets_are_masked() -> None:
    """The dodges above are dodges: written plainly, each secret is masked."""
    processor = create(Config())
    for text in (GITHUB_TOKEN, OPENAI_KEY, f"password={PASSWORD}", '{"password": "' + PASSWORD + '"}'):
        assert processor.redact_text(text) != text


def _span_with(attributes: dict[str, str]) -> ReadableSpan:
    context = SpanContext(1, 2, is_remote=False)
    return ReadableSpan(name="call", context=context, attributes=attributes, start_time=1, end_time=2)


def test_an_attribute_named_for_a_secret_with_a_zero_width_character_is_masked() -> None:
    (out,) = create(Config()).process([_span_with({"db.pass\u200bword": "Qz8Tw1Lm0c"})])
    assert "Qz8Tw1Lm0c" not in json.dumps(dict(out.attributes or {}))


@pytest.mark.xfail(strict=True, reason="a key split over two attributes is masked in neither")
def test_a_key_split_over_two_attributes_is_masked() -> None:
    halves = {"config.key.part1": OPENAI_KEY[:16], "config.key.part2": OPENAI_KEY[16:]}
    (out,) = create(Config()).process([_span_with(halves)])
    assert dict(out.attributes or {}) != halves

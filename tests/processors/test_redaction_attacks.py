# ruff: noqa: RUF001  (look-alike letters are what some of these tests are about)
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
PEM_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


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
    # Base64 of a text holding a secret: the blob is masked whole.
    "base64 of a token": (B64_TOKEN, B64_TOKEN),
    "base64 of an assignment": (B64_ASSIGNMENT, B64_ASSIGNMENT),
    "base64 after letters that shift it": ("Zq" + B64_ASSIGNMENT, B64_ASSIGNMENT[:-2]),
    "base64 padded wrongly": (B64_ASSIGNMENT.rstrip("=") + "=", B64_ASSIGNMENT.rstrip("=")),
    "base64 of a token after bytes that are not text": (
        base64.b64encode(b"token=\xff\xfe " + GITHUB_TOKEN.encode()).decode(),
        base64.b64encode(b"token=\xff\xfe " + GITHUB_TOKEN.encode()).decode()[8:],
    ),
    "kubernetes secret's dockerconfigjson": (
        ".dockerconfigjson: " + _b64('{"auths":{"registry.acme.io":{"auth":"' + _b64("ci:" + PASSWORD) + '"}}}'),
        _b64('{"auths":{"registry.acme.io":{"auth":"' + _b64("ci:" + PASSWORD) + '"}}}')[8:],
    ),
    "kubernetes secret's tls.key": (f"tls.key: {_b64(PEM_KEY)}", _b64(PEM_KEY)[8:]),
    # Cyrillic and Greek letters drawn like Latin ones, in a word that mixes them with Latin letters.
    "cyrillic letter in the key's name": (f"passw\u043erd={PASSWORD}", PASSWORD),
    "cyrillic letters starting the key's name": (f"\u0440\u0430\u0455\u0455word: {PASSWORD}", PASSWORD),
    "greek letter in the key's name": (f"api_t\u03bfken={GITHUB_TOKEN[4:]}", GITHUB_TOKEN[4:]),
    "cyrillic letter in a token's prefix": (f"\u0455k-proj-{OPENAI_KEY[8:]}", OPENAI_KEY[8:]),
}


@pytest.mark.parametrize("text, secret", DODGES.values(), ids=DODGES.keys())
def test_a_secret_written_to_dodge_the_scan_is_masked(text: str, secret: str) -> None:
    redacted = create(Config()).redact_text(text)
    assert secret not in redacted and "\u2026#" in redacted  # masked where it stood, as a plain one is


def test_decoded_text_keeps_what_is_not_encoded() -> None:
    """Text without a secret comes out as it went in, encoded or not: a percentage, an escaped accent, a
    full-width comma of Chinese text and a soft hyphen in a long word are left as written."""
    processor = create(Config())
    for text in ("50% off, 100%25 sure", '{"caf\\u00e9": "ouvert"}', "你好\uff0c世界", "Donau\u00addampf\u00adschiff"):
        assert processor.redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        _b64("hello world, nothing to see here"),  # base64 of text without a secret
        "commit 0f3b77be846a8df9045a13d98208fa190cab7d91 fixes HttpRequestNodeError in langgenius/openai/openai",
        "getUserAccountSettings MAX_RETRY_COUNT_EXCEEDED aHR0cHM6Ly9hY21lLmlvL2RvY3M=",  # names, a link's base64
        "Пароль должен содержать 8 символов; в JSONе поле token пустое.",  # Russian with Latin words inside
        "Ο κωδικός είναι λάθος, δοκιμάστε ξανά.",  # Greek
    ],
)
def test_text_without_a_secret_stays_whatever_it_holds(text: str) -> None:
    assert create(Config()).redact_text(text) == text


def test_a_name_written_in_its_own_script_is_still_read() -> None:
    """Look-alikes are made Latin in words that mix scripts only: `пароль` is the Russian name, read as such."""
    assert PASSWORD not in create(Config()).redact_text(f"пароль: {PASSWORD}")


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


@pytest.mark.parametrize("name", ["db.pass\u200bword", "db.passw\u043erd", "db.pass%77ord"])
def test_an_attribute_named_for_a_secret_as_a_reader_reads_it_is_masked(name: str) -> None:
    (out,) = create(Config()).process([_span_with({name: "Qz8Tw1Lm0c"})])
    assert "Qz8Tw1Lm0c" not in json.dumps(dict(out.attributes or {}))


@pytest.mark.parametrize(
    "names", [("config.key.part1", "config.key.part2"), ("token.0", "token.1"), ("key[1]", "key[2]"), ("k_1", "k_2")]
)
@pytest.mark.parametrize("secret", [OPENAI_KEY, f"password={PASSWORD}", GITHUB_TOKEN])
def test_a_secret_split_over_attributes_named_as_parts_is_masked(names: tuple[str, str], secret: str) -> None:
    halves = {names[0]: secret[:12], names[1]: secret[12:], "other": "kept"}
    (out,) = create(Config()).process([_span_with(halves)])
    exported = dict(out.attributes or {})
    assert exported[names[0]] != halves[names[0]] and exported[names[1]] != halves[names[1]]
    assert exported["other"] == "kept"


@pytest.mark.parametrize(
    "attributes",
    [
        {"order.item.0": "41111111", "order.item.1": "11111111"},  # digits joined are no card: secrets only
        {"tags.0": "prod", "tags.1": "eu-west-1"},
        {"config.key.part1": OPENAI_KEY[:16], "config.key.part3": OPENAI_KEY[16:]},  # not one after another
        {"a.key.part1": OPENAI_KEY[:16], "b.key.part2": OPENAI_KEY[16:]},  # other names
    ],
)
def test_attributes_that_are_no_parts_of_a_secret_stay(attributes: dict[str, str]) -> None:
    (out,) = create(Config()).process([_span_with(attributes)])
    assert dict(out.attributes or {}) == attributes

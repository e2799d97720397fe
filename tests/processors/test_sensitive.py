from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.processors.secret_formats import PROVIDER_TOKENS
from bridge.processors.sensitive import (
    _CHECKS,
    PERSONAL,
    SECRETS,
    SEPARATOR,
    _ascii,
    _finder,
    accepted,
    luhn_ok,
    named_secret,
    named_value,
    sensitive_values,
)

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


# The patterns in their plain form, as first written: bridge/processors/sensitive.py rewrites them to start with their
# literal prefix (for speed) and must find exactly what these find.
PLAIN = {
    "openai_key": r"(?<![\w-])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
    "aws_access_key": r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}\b",
    "github_token": r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
    "slack_token": r"(?<![\w-])xox(?:[a-z]\.xox)?[a-z]-[A-Za-z0-9-]{10,}",
    "google_api_key": r"(?<![\w-])AIza[0-9A-Za-z_-]{35,}",
    "dify_app_key": r"\bapp-[A-Za-z0-9]{24}\b",
    "dify_dataset_key": r"\bdataset-[A-Za-z0-9]{24}\b",
    "jwt": r"(?<![\w-])ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?",
    "phone": r"(?<![\w.])\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w.])",
    "card_number": r"\b(?<![0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-)(?:\d[ -]?){13,19}\b",
    "us_ssn": r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b",
}
# Pieces that make the patterns match, half match and just miss: prefixes, digits, separators, word chars.
PIECES = st.sampled_from(
    ["sk-", "proj-", "ant-", "AKIA", "ASIA", "A3TX", "ghp_", "gho_", "xoxb-", "xoxe.", "AIza", "app-", "dataset-",
     "eyJ", ".", "+", "-", " ",
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
    assert [m.span() for m in _ascii(check.kind, check.pattern).finditer(text)] == plain


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


def test_the_automaton_of_every_literal_is_built_only_for_a_text_that_needs_it() -> None:
    _finder.cache_clear()
    ascii_texts = {"jane.doe@acme-corp.io wrote": "email", "card 4539 1488 0343 6467": "card_number"}
    for text, kind in ascii_texts.items():
        assert kind in sensitive_values(text, personal=True).values()
    assert _finder.cache_info().currsize == 0  # ASCII text: the ASCII literals' automaton alone
    assert sensitive_values("écrit par jane.doe@acme-corp.io", personal=True) == {"jane.doe@acme-corp.io": "email"}
    assert _finder.cache_info().currsize == 1


# Text made to trip the gates: every guard's literal, digits and separators in runs, dates, word characters.
GATED_PIECES = st.sampled_from(
    ["sk-", "proj-", "AKIA", "ASIA", "ghp_", "xoxb-", "AIza", "app-", "eyJ", "-----BEGIN RSA PRIVATE KEY-----",
     "password", "PassWD", "pwd", "= ", ": ", "'", "@", "acme.io", "example.com", "+", "-", " ", ".", "(", ")",
     "_", "x", "Z", "0", "9", "000", "123", "45", "6789", "4539", "1488", "0343", "6467", "2026-11-24 10:00",
     "abcdefghij", "ABCDEFGHIJKLMNOP", "0123456789", "é", "٣", "PaSSword", "pa\u017f\u017fword", "\u212a",
     "token", "Secret", "api_key", '"', "\\n", "\n", "://", "u:", "Bearer ", "basic ", "dXNlcjpwYXNz", "sk_live_",
     "github_pat_", "SK", "(415) 555-2671", "-----END RSA PRIVATE KEY-----", "AGE-SECRET-KEY-1", "hooks.slack.com/"]
)  # fmt: skip


def ungated(text: str) -> dict[str, str]:
    """What the scan must find: every pattern run over the whole text, no guard, gate or screen."""
    found: dict[str, str] = {}
    for check in _CHECKS[True]:
        for match in check.pattern.finditer(text):
            value = (
                named_value(match) if check.kind in ("password", "credential") else match.group(match.lastindex or 0)
            )
            if value is not None and accepted(check.kind, value):
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
@example(text="password://sk-.")  # a sentence's full stop is not in the value, on both paths
@example(text="password: os.get(")  # a call is no value, on both paths
def test_guards_and_gates_skip_only_texts_without_a_match(text: str) -> None:
    assert sensitive_values(text, personal=True) == ungated(text)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.lists(GATED_PIECES, max_size=12).map("".join), max_size=5))
@example(texts=["password", ": hunter22"])
@example(texts=["password:", "hunter22"])
@example(texts=["4539 1488", "0343 6467"])
@example(texts=["453945390123456789", "0000123456789"])  # a stretch's start once cut into the text before it
def test_one_scan_of_joined_texts_finds_what_a_scan_of_each_finds(texts: list[str]) -> None:
    each = {value for text in texts for value in sensitive_values(text, personal=True)}
    assert set(sensitive_values(SEPARATOR.join(texts), personal=True)) == each


# Generated samples of each format (random characters, never real credentials), as the issue listed them.
RSA_BODY = (
    "MIIEowIBAAKCAQEAv3kq9Zt1Lw0m8cT2yR5n" + "\n" + "Qx7pB4hK2sD9fJ6gL1aV0cX3eW8uY5iO7tR" + "\n" + "a1B2c3D4e5F6=="
)
FORMATS = [
    ("-----BEGIN RSA PRIVATE KEY-----\n" + RSA_BODY + "\n-----END RSA PRIVATE KEY-----", "private_key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + RSA_BODY + "\n-----END OPENSSH PRIVATE KEY-----", "private_key"),
    ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + RSA_BODY, "private_key"),  # cut short: no END line
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + RSA_BODY + "\n-----END PGP PRIVATE KEY BLOCK-----", "private_key"),
    (
        "-----BEGIN EC PRIVATE KEY-----\\n" + RSA_BODY.replace("\n", "\\n") + "\\n-----END EC PRIVATE KEY-----",
        "private_key",
    ),  # as written inside a JSON string
    ("app:Pa55w0rd", "url_password"),
    ("correct horse battery", "password"),
    ("hunter2hunter2", "password"),
    ("q8Zt1Lw0m8cT2yR5nQx7", "credential"),  # a client secret
    ("Kx9vQ2mR7tLp4wZs8NbY", "bearer_token"),
    ("YWxpY2U6czNjcjN0LXB3", "basic_auth"),  # alice:s3cr3t-pw
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vT1kLpB", "credential"),
    (
        "github_pat_11AB3CDEF0g4Hk8Lm2Nq_" + "Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0cX3eW8uY5iO7tRa1B2c3D4e5F6g7H8",
        "github_fine_grained_token",
    ),
    ("ghs_" + "Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0", "github_token"),
    ("sk_live_" + "51Hq8ZtLw0m8cT2yR5nQx7pB4hK", "stripe_key"),
    ("rk_live_" + "51Hq8ZtLw0m8cT2yR5nQx7pB4hK", "stripe_key"),
    ("hooks.slack.com/services/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", "slack_webhook"),
    ("xoxb-1234567890-9876543210-q8Zt1Lw0m8cT2yR5nQx7pB4h", "slack_token"),
    ("(415) 867-5309", "us_phone"),
    ("415-867-5309", "us_phone"),
    ("AIzaSyq8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6-", "google_api_key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.q8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6", "jwt"),
    ("sk-proj-" + "q8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0cX3eW8uY5iO", "openai_key"),
    ("sk-ant-api03-" + "q8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0cX3eW8uY5iO", "openai_key"),
    ("glpat-" + "q8Zt1Lw0m8cT2yR5nQx7", "gitlab_token"),
    ("npm_" + "q8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1a", "npm_token"),
    ("pypi-AgEIcHlwaS5vcmc" + "q8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0cX3eW8uY5iO7tRa1B2c", "pypi_token"),
    ("SG." + "q8Zt1Lw0m8cT2yR5nQx7pB" + "." + "4hK2sD9fJ6gL1aV0cX3eW8uY5iO7tRa1B2c3D4e5F6g", "sendgrid_key"),
    ("SK" + "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "twilio_key"),
    ("q8Zt1Lw0m8cT2yR5nQx7pB4hK2sD9fJ6gL1aV0cX3eW8uY5iO7tRa1B2c3D4e5F6g7H8i9J0kL1mN2o3P4q5R6s7T8u9V0w==", "credential"),
]


@pytest.mark.parametrize(("secret", "kind"), FORMATS)
def test_recognizes_the_formats_attacks_found_unmasked(secret: str, kind: str) -> None:
    contexts = {
        "url_password": "DATABASE_URL=postgres://{}@db.internal:5432/app",
        "password": '{{"password": "{}"}}',
        "bearer_token": "Authorization: Bearer {}",
        "basic_auth": "Authorization: Basic {}",
        "slack_webhook": "post to https://{}",
        "credential": 'client_secret = "{}"',
    }
    context = "aws_secret_access_key = {}" if secret.startswith("wJal") else contexts.get(kind, 'value: "{}" end')
    if kind == "credential" and secret.endswith("=="):
        context = '{{"AccountKey": "{}"}}'  # an Azure storage key
    elif secret == "hunter2hunter2":
        context = "DB_PASSWORD={}"
    found = sensitive_values(context.format(secret), personal=True, exempt_examples=False)
    assert found.get(secret) == kind, found
    assert not any(value in secret and value != secret for value in found)  # masked whole, not in part


def test_a_truncated_key_is_masked_to_where_its_body_ends() -> None:
    text = f'{{"key": "-----BEGIN PRIVATE KEY-----\\n{RSA_BODY.replace(chr(10), chr(92) + "n")}", "next": "ok"}}'
    (value,) = sensitive_values(text, personal=False)
    assert value.endswith("e5F6==") and '"next"' not in value


@pytest.mark.parametrize(
    "text",
    [
        "run 5f2b8c1e-3d4a-4b7e-9a51-2f6c8d9e0a11 at 2026-11-24T10:00:00.123Z, ts 1732400000.5042274",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, md5 098f6bcd4621d373cade4e832627b4f6",
        '{"prompt_tokens": 1234567, "total_tokens": 2345678, "max_tokens": 4096, "token_count": 12}',
        "ids 11111111-1111-4111-8111-111111111111 and 22222222-2222-4222-8222-222222222222",
        "The bearer instruments and basic questions; a password is needed; see https://docs.dify.ai:443/guides",
        '{"secret": true, "token": null, "password": "", "api_key": "{{#start.api_key#}}", "pass": "${env:PW}"}',
        "version 1.14.1, port 5432, call ext. 201-4567-89, build 4392-8170-6f2a",
    ],
)
def test_ordinary_text_is_not_masked(text: str) -> None:
    assert sensitive_values(text, personal=True, exempt_examples=False) == {}


TEAMS = "webhook.office.com/webhookb2/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f@0a1b2c3d/IncomingWebhook/q8Zt1Lw0m8cT2yR5"


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("https://discord.com/api/webhooks/123456789012345678/Qz8Tw1Lm0cT2yR5nQx7pB4hK2sD9fJ6gL1aV0",
         "discord.com/api/webhooks/123456789012345678/Qz8Tw1Lm0cT2yR5nQx7pB4hK2sD9fJ6gL1aV0", "discord_webhook"),
        ("https://contoso." + TEAMS, TEAMS, "teams_webhook"),
        ("https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=Qz8Tw1Lm0cT2yR5nQx7pB4h%3D&se=x",
         "Qz8Tw1Lm0cT2yR5nQx7pB4h%3D", "credential"),
        ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Qz8Tw1Lm0cT2yR5nQx7pB4hK2sD9fJ6g==;Endpoint",
         "Qz8Tw1Lm0cT2yR5nQx7pB4hK2sD9fJ6g==", "credential"),
        ("key dataset-Qz8Tw1Lm0cT2yR5nQx7pB4hK", "dataset-Qz8Tw1Lm0cT2yR5nQx7pB4hK", "dify_dataset_key"),
        ('{\\"password\\": \\"hunter2hunter2\\"}', "hunter2hunter2", "password"),  # JSON inside a JSON string
        ("redis://:Qz8Tw1Lm0c@cache:6379", ":Qz8Tw1Lm0c", "url_password"),
    ],
)  # fmt: skip
def test_recognizes_more_formats(text: str, value: str, kind: str) -> None:
    assert sensitive_values(text, personal=False, exempt_examples=False) == {value: kind}


def test_an_attribute_named_for_a_secret_is_one_whatever_its_value_looks_like() -> None:
    assert named_secret("db.password", "Qz8Tw1Lm0c") == "password"
    assert named_secret("http.request.header.authorization", "Qz8Tw1Lm0cT2") == "credential"
    assert named_secret("X-Api-Key", "Qz8Tw1Lm0cT2") == "credential"
    for key in ("gen_ai.usage.input_tokens", "bypass", "author", "passport", "primary_key", "session.id"):
        assert named_secret(key, "Qz8Tw1Lm0cT2") is None, key
    assert named_secret("db.password", "${env:DB_PASSWORD}") is None  # a template, not a value
    assert named_secret("db.password", "short") is None


def test_names_are_found_where_case_folding_changes_the_length() -> None:
    # `ß` folds to `ss` and `İ` lowers to two characters: the names' positions must still be the text's.
    text = "Straße, İstanbul: DB_PASSWORD=hunter2hunter2 and Straße api_key: 'Qz8Tw1Lm0cT2'"
    assert sensitive_values(text, personal=False) == {"hunter2hunter2": "password", "Qz8Tw1Lm0cT2": "credential"}


@pytest.mark.parametrize(
    "unit",
    ['-----BEGIN PRIVATE KEY-----"', "password:", "api_key=", "token:", "ey-", "sk-", "glpat-", "://a:",
     # branch redact-attack7's patterns: `a dot ` took 19 s before its repetitions were bounded
     "a dot ", "x[at]", "seed phrase: abc ", "recovery codes: ab12 ", "Authorization: X ", "private key ",
     'variable "db_password" { ', "06 12 ", "zip -P ", "auth=('", "passport no ",
     # branch redact-8's
     "LTAI5tQ8xMv2Rk9ZpW3n ", "SKd3f1b2c4a5e6f7a8b9c0d1e2f3a4b5c6 ", "&signature=", "nuget push -k ", "make.com/",
     # branch redact-9's
     "password for the ", "пароль от ", "token a1", "api key Ab1", "Oracle OCI auth token ", "Digest response=",
     "AKIDhct9ZmA984yDdTg1giE44gIBLzJ6flbh ", "SK: ", "a:b@tcp(", "wandb login ", "-storepass ", "clave: 1",
     "creds a / ", "passphrase for: ", "PIN: 1", "卡密码 ", "SIN 1", "n8n.cloud/webhook/", "個人番号\uff08",
     "cohere.Client(", "wordpress_logged_in_",
     # branch redact13's (the first took 0.7 s before its entries were read once)
     '"value_type": "secret", ', "身份证号码是", "a.b@ybl.", "chave Pix: ", "卡号6",
     # branch redact14's: one run of digits (walked back from each of its places: 8 s for 20 KB), the new shapes
     "1", "139 7712 ", "11 91234 ", "10.497.097/0001-4", "密码后半段", "出生日期\uff1a", "\\\\u5bc6", "%E5%AF%86"],
)  # fmt: skip
def test_a_text_of_one_prefix_repeated_takes_linear_time(unit: str) -> None:
    # Each occurrence starting a match that reads the rest of the text made these quadratic: 11.6 s for 112 KB
    # of BEGIN lines, 7 s for 30 KB of `password:`. Linear, 200 KB take well under a second.
    # CPU time, not wall time: the bound holds on a loaded machine (0.23 s for the slowest unit, quadratic is minutes).
    text = unit * (200_000 // len(unit))
    started = time.process_time()
    sensitive_values(text, personal=True, exempt_examples=False)
    assert time.process_time() - started < 3.0


def test_credentials_named_in_other_languages_and_in_prose() -> None:
    key = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    assert sensitive_values(f"The API key is {key}.", False) == {key: "credential"}  # the full stop is not in it
    assert sensitive_values(f"api key: {key}", False) == {key: "credential"}
    assert sensitive_values("仓库系统密码：Wh7kq29Lmx，请保管", False) == {"Wh7kq29Lmx": "password"}  # noqa: RUF001
    assert sensitive_values("密码是Wh7kq29Lmx", False) == {"Wh7kq29Lmx": "password"}
    assert sensitive_values("Das Passwort lautet Sommer2024!x", False) == {"Sommer2024!x": "password"}
    assert sensitive_values("contraseña: Almac3n#2024", False) == {"Almac3n#2024": "password"}
    assert sensitive_values("パスワードは abc12345xyz です", False) == {"abc12345xyz": "password"}
    # prose without a value: no digit after "is"
    for text in ["the password is wrong", "Your access key is valid for 30 days", "the token is expired"]:
        assert sensitive_values(text, False) == {}, text


def test_a_key_name_bound_to_code_holds_no_value() -> None:
    # A call is code for the detector and for redaction alike; a dotted name without a digit is code for the
    # detector, while redaction masks it all the same (`correct.horse.battery` could be a password).
    assert sensitive_values("API_KEY = os.environ.get('API_KEY')", True, exempt_examples=False) == {}
    assert sensitive_values("token = settings.service_token", True) == {}
    assert sensitive_values("token = settings.service_token", True, exempt_examples=False) == {
        "settings.service_token": "credential"
    }
    assert sensitive_values("token = 9f8e7d6c.5b4a3928", True) == {"9f8e7d6c.5b4a3928": "credential"}


def test_a_jwt_whose_claims_are_not_json_is_one_by_its_header() -> None:
    header = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0"  # {"alg":"RS256","kid":"k1"}
    token = f"{header}.Qm9keU5vdEpzb24xMjM0NTY3OA.c2lnbmF0dXJlMTIzNDU2Nzg5MA"
    assert sensitive_values(f"refresh failed for {token} (401)", personal=False) == {token: "jwt"}
    # Dotted words starting `ey` are no tokens: the first segment must be a header naming its algorithm.
    assert sensitive_values("see eyeglasses12.frames2026.v2 and eyJ0eXAiOiJub3RlIn0.abcdefghij.k", personal=False) == {}


def test_a_bearer_value_cut_short_by_a_mask_is_masked() -> None:
    for text in ("Authorization: Bearer sk_live_…(masked)…9fQ2", "Authorization: Bearer Zt1Lw0m8cT2y****"):
        assert sensitive_values(text, personal=False) == {}, text
    assert sensitive_values("Authorization: Bearer Zt1Lw0m8cT2yR5nQ", personal=False) == {
        "Zt1Lw0m8cT2yR5nQ": "bearer_token"
    }


# Provider token patterns as written in secret_formats.py, before `_token` moved each leading literal (of the
# expression, or of each alternative of its leading group) in front of the look-behind.
_HOISTED = re.compile(r"\(\?<!\[\\w-\][A-Za-z0-9_\\.-]+\)")
PLAIN_TOKENS = {kind: r"(?<![\w-])" + _HOISTED.sub("", expression) for kind, (expression, _) in PROVIDER_TOKENS.items()
                if _HOISTED.search(expression)}  # fmt: skip
LITERALS = sorted({literal for _, literals in PROVIDER_TOKENS.values() for literal in literals})
TOKEN_PIECES = st.sampled_from(
    [*LITERALS, "-", "_", ".", " ", "x", "=", "a3-", "0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A" * 40]
)


def _token_texts() -> list[str]:
    samples = json.loads((Path(__file__).parents[1] / "testdata/secrets/corpus.json").read_text())["samples"]
    return [f"{before}{sample['text']}{after}" for sample in samples
            for before, after in (("", ""), ("x", ""), ("-", " "), ("a3-", "x"), (" ", "-"), ("é", "é"))]  # fmt: skip


def test_token_patterns_with_their_literals_first_find_what_they_find_as_written() -> None:
    assert {"onepassword_key", "square_token", "gitlab_token", "npm_token"} <= set(PLAIN_TOKENS)
    texts = _token_texts()
    for kind, plain in PLAIN_TOKENS.items():
        fast = SECRETS[kind]
        assert fast.pattern != plain
        for text in texts:
            found = [m.span() for m in re.finditer(plain, text, re.ASCII)]  # ASCII's word boundaries, as the scan's
            assert [m.span() for m in fast.finditer(text)] == found, kind


@settings(max_examples=300, deadline=None)
@given(text=st.lists(TOKEN_PIECES, max_size=30).map("".join))
def test_token_patterns_find_what_they_find_as_written_in_any_text(text: str) -> None:
    for kind, plain in PLAIN_TOKENS.items():
        # Read with ASCII's word boundaries, as the scan reads tokens (`é` beside one is no part of it).
        found = [m.span() for m in re.finditer(plain, text, re.ASCII)]
        assert [m.span() for m in SECRETS[kind].finditer(text)] == found, kind


def test_ascii_variants_are_compiled_when_a_text_first_needs_them() -> None:
    """Importing the scan compiles no ASCII variant (97 of them took about 20 ms of `replay`'s first worker's
    start-up); a scan compiles those of the patterns it runs, which find what they found before."""
    code = (
        "from bridge.processors.sensitive import _ASCII, _CHECKS, sensitive_values\n"
        "before = len(_ASCII)\n"
        "found = sensitive_values('write to ana@acme.io, key sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9', personal=True)\n"
        "print(before, 0 < len(_ASCII) < len(_CHECKS[True]) // 4, sorted(found.values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().split(maxsplit=2) == ["0", "True", "['email', 'openai_key']"], done.stdout + done.stderr


SESSION = "eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbi0xMjM0NTY3ODkw"  # a JWT's header and claims, no signature


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Lösenord: Vinter2026!q", "Vinter2026!q", "password"),
        ("kata sandi: Rahasia99x", "Rahasia99x", "password"),
        ("API-nyckel: 9f8e7d6c5b4a3928", "9f8e7d6c5b4a3928", "credential"),
        ("klucz API: 9f8e7d6c5b4a3928", "9f8e7d6c5b4a3928", "credential"),
        ('{"req": "GET /\\r\\nAuthorization: Bearer Lato!2026zq9X\\r\\n"}', "Lato!2026zq9X", "credential"),
        (f"session {SESSION}", SESSION, "jwt"),
        ("use rsv_live_Q7wPz3KmT9bXv2LsN8dR", "rsv_live_Q7wPz3KmT9bXv2LsN8dR", "live_key"),
        # Session 22: a body in one case, hex, as many gateways and vaults issue theirs.
        ('{"gw": "hvk_live_3f9a0c27d41e8b56"}', "hvk_live_3f9a0c27d41e8b56", "live_key"),
        ("IBAN DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00", "iban"),
        ("kimlik no: 34020645408", "34020645408", "id_number"),
        ("マイナンバー：4829 1736 5540", "4829 1736 5540", "id_number"),  # noqa: RUF001
        ("ref 11010519491231002X", "11010519491231002X", "national_id"),
        ("Olle, 19811218-9876, ringde", "19811218-9876", "national_id"),
        # Session 21: numbers only their label names (a phone number of a country's own format, a card's number
        # failing one of its two checks, a tax number).
        ("電話 090-3817-2264、", "090-3817-2264", "phone_number"),
        ('{\\"phone_number\\": \\"13854335237\\"}', "13854335237", "phone_number"),
        ("Tel.: (030) 4401 9983", "(030) 4401 9983", "phone_number"),
        ('"card_on_file": "4327657443786463"', "4327657443786463", "payment_card"),
        ("บัตรของฉัน 3714625152812645", "3714625152812645", "payment_card"),
        ('"tax_id": "34 198 576 379"', "34 198 576 379", "id_number"),
    ],
)
def test_secrets_and_identifiers_in_other_languages_and_shapes(text: str, value: str, kind: str) -> None:
    assert sensitive_values(text, personal=True).get(value) == kind


@pytest.mark.parametrize(
    "text",
    [
        "eyewitness.accountsmatter",  # two parts, no JWT header
        "my_secret_recipesforchocolate",  # a word, not a random body
        "tv_live_summernightsfestival2026",  # words and a year: too few digits for a random body in one case
        "IBAN DE88 3704 0044 0532 0130 00",  # check digits wrong
        "etc 12345678901",  # `tc` inside a word
        "Hotel 0301 4401 9983, Intel 0301 4401 9983",  # `tel` inside a word
        "phone: 2026-12-01 10:30",  # a date after the label
        "card 9327657443786464",  # neither a network's shape nor passing Luhn's check
        "T.C. Sağlık Bakanlığı, 2024",  # a label without a number  # noqa: RUF001
        "Olle, 19811218-9875, ringde",  # a personal number's shape, Luhn wrong
        "CPF 123.456.789-09",  # the documentation's example number
        # Session 22: numbers a card label stands before that are no payment card's: a library card's barcode (14
        # digits from 2, Luhn-valid), a SIM card's ICCID (89…), a number the words between call something else.
        "Library card: 29183004719267",
        "SIM card ICCID 8944119073264155892",
        "Card transaction ID: 4471229018335507",
        "Kartenbestellung Nr. 4471229018335507",
        '"card_ref": "4471229018335507"',
        "卡订单号 4471229018335507",
        # Session 22: a phone label before another thing's number (an API's ids, a conference line's PIN, a version,
        # a date, a contract number): the national-format rule reads a number right after the label only.
        '{"phone_number_id": "104857362918374", "waba_id": "2287465519"}',
        '{"phone_id": "8837465529"}',
        "电话会议号 8837 4655 2910",
        "Mobile app version 10.4.2 build 20260314",
        "telephone interview on 14.03.2026",
        "Handy-Vertrag Nr. 4471 2290 18",
        "phone bill 2026-03 total 4471229018",
    ],
)
def test_near_misses_of_the_new_shapes(text: str) -> None:
    assert sensitive_values(text, personal=True) == {}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["840614-2875779", "19811218-9876", "NL52ABNA0678394926", " DE89 3704 0044 0532 0130 00", "ZZ12",
             "123.456.789-09", "11010519491231002X", "x", "-", ".", "+", " ", "9", '"', "01234567890123456789"]
        ),
        max_size=8,
    ).map("".join)
)  # fmt: skip
def test_identifiers_read_where_their_runs_start_are_what_the_patterns_find(text: str) -> None:
    """National ids and IBANs in ASCII text are matched only where `_STARTS` says one can start (no search of
    every position): the values must be those a search of the whole text accepts."""
    found = sensitive_values(text, personal=True)
    for kind in ("national_id", "iban"):
        expected = {m.group() for m in PERSONAL[kind].finditer(text) if accepted(kind, m.group())}
        assert {value for value, got in found.items() if got == kind} == expected - {
            value for value, got in found.items() if got != kind
        }


def test_a_postal_address_is_masked_by_redaction_and_no_leak_for_the_detector() -> None:
    # An address a run is asked about and answers with (a customer's roof, a shop's) is the run's data: only
    # redaction, which masks examples too (`exempt_examples=False`), reads addresses (branch redact12).
    text = "Ship to: 265 Market Street, San Francisco, CA 94103"
    assert sensitive_values(text, True, exempt_examples=False) == {
        "265 Market Street, San Francisco, CA 94103": "postal_address"
    }
    assert sensitive_values(text, True) == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Sími: 581 2945", "581 2945"),  # Iceland's seven digits, after a label
        ("tel. 581-2945", "581-2945"),
        ("telefoni 0788 314 270", "0788 314 270"),  # a label inflected (Kinyarwanda)
        ('{"fon": "087 508 6896"}', "087 508 6896"),  # Irish
        ("ስልክ፡ 0911 284 567", "0911 284 567"),  # Amharic, after Ethiopic's colon
        ("утас: 9911 4725", "9911 4725"),  # Mongolian
    ],
)
def test_phone_numbers_of_session_28_s_labels_and_shapes(text: str, value: str) -> None:
    assert sensitive_values(text, personal=True) == {value: "phone_number"}


@pytest.mark.parametrize(
    "text",
    [
        "Pöntun 581 2945",  # seven digits without a label
        "phone: 5812945",  # seven without the 3-4 group
        "phone bill 2026-12-08",
        "phone: 12.500",
        "电话会议号 8837 4655 2910",  # a conference call's number: a label's letters, no inflection
        "fond 5812 9456",
    ],
)
def test_near_misses_of_session_28_s_phone_labels(text: str) -> None:
    assert sensitive_values(text, personal=True) == {}

"""Redaction's coverage of a corpus of generated secrets, one of every kind the gitleaks scanner knows
(bench/secret_corpus.py makes it and prints the figure; docs/security.md quotes it), each planted in every
place the bridge exports and looked for in the encoded OTLP request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, SpanContext, Status, StatusCode

from bridge.processors import redact
from bridge.queue.encoding import encode

CORPUS = Path(__file__).parents[1] / "testdata/secrets/corpus.json"
# The rules whose sample shows somewhere (measured: bench/secret_corpus.py). Public identifiers, not secrets:
IDENTIFIERS = {
    "adobe-client-id", "asana-client-id", "bitbucket-client-id", "discord-client-id", "linkedin-client-id",
    "looker-client-id", "messagebird-client-id", "new-relic-user-api-id", "plaid-client-id", "sendbird-access-id",
    "sumologic-access-id",
}  # fmt: skip
# Secrets with no name or prefix to know them by, left to `custom_patterns` or `deny_keys`:
UNSUPPORTED = {
    "curl-auth-user",  # `curl -u "user":"pass"`
    "facebook-access-token",  # an app id, `|` and the secret: digits and letters, nothing else
    "jwt-base64",  # a JWT base64-encoded once more; the generated sample is cut short by the rule's own groups
    "kubernetes-secret-yaml",  # base64 values under `data:` in a Secret manifest, under keys of any name
}


def _planted(text: str, position: int) -> ReadableSpan:
    """One span holding `text` in every place an exported span can hold text."""
    context = SpanContext(trace_id=position + 1, span_id=position + 1, is_remote=False)
    other = SpanContext(trace_id=position + 2, span_id=position + 2, is_remote=False)
    return ReadableSpan(
        name=f"call {text}",
        context=context,
        resource=Resource({"service.name": "planted", "deploy.note": text}),
        attributes={
            "input.value": json.dumps({"config": text}),
            "output.value": text,
            f"note {text}": "1",
            "settings": {"value": text},
            "body": text.encode(),
            "tags": ("a", text),
        },
        events=[Event(f"log {text}", {"message": text}, 1)],
        links=[Link(other, {"note": text})],
        status=Status(StatusCode.ERROR, f"failed: {text}"),
        start_time=1,
        end_time=2,
    )


def coverage(samples: Sequence[dict[str, Any]]) -> list[str]:
    """The rules whose secret shows anywhere in the OTLP request the default `redact` lets through."""
    processor = redact.create(redact.Config())
    missed = []
    for position, sample in enumerate(samples):
        (out,) = processor.process([_planted(sample["text"], position)])
        payload = b"".join(data for _, data in encode([out], None))
        secret = sample["secret"]
        if secret.encode() in payload or json.dumps(secret)[1:-1].encode() in payload:
            missed.append(sample["rule"])
    return missed


def test_every_kind_of_secret_in_the_corpus_is_masked_in_every_place() -> None:
    corpus = json.loads(CORPUS.read_text())
    assert len(corpus["samples"]) >= 200  # the corpus is whole: one of each of gitleaks' rules
    assert set(coverage(corpus["samples"])) == IDENTIFIERS | UNSUPPORTED

"""A phone number an answer gives that nothing its LLM was given writes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Finding
from detectors.hallucination_parts.data import data_finding
from detectors.numbers import phone_numbers

_NOT_DIGIT = re.compile(r"\D")


def phone_findings(span: ReadableSpan, answer: str, sources: list[str]) -> Iterator[Finding]:
    """A finding where `answer` gives a phone number whose last seven digits no source writes (its prompt, the run's
    inputs, documents and data before it), however grouped: a hotline the model wrote from memory, or from a page
    or a branch's prompt this run did not have (the desk's number answered after an empty retrieval). A number is
    no figure the other rules read (`claims` blanks it), so only its digits are compared."""
    given = [_NOT_DIGIT.sub("", source) for source in sources]
    made = sorted(phone for phone in phone_numbers(answer) if not any(phone[-7:] in digits for digits in given))
    if made:
        yield data_finding(
            span, 0.7, f"gives the phone number {', '.join(made)}, which none of its sources writes",
            "a phone number in the answer is in none of its sources", answer, unsupported=made,
        )  # fmt: skip

"""Span processors: each turns a run's spans into the spans handed to the next step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from opentelemetry.sdk.trace import ReadableSpan


class Processor(Protocol):
    """`process` is synchronous, must not block on I/O, and returns replacements, never mutated spans."""

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]: ...

"""`redact`: secrets (and personal data, per config) masked in every exported attribute and event.

Runs after the detectors (they see the originals) and before export. A masked value keeps a short prefix
and a hash, so the same secret can be recognised across spans without being readable:
`sk-p…#1f3a9c2e`. A pipeline without `redact` still gets the default one: secrets are never exported by
accident.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.sensitive import SECRETS, SEPARATOR, sensitive_values
from bridge.spans import rewrite_attributes, with_attributes

TYPE = "redact"
Mode = Literal["off", "mask", "hash", "drop"]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Secrets: mask (prefix + hash), hash (hash only), drop (a fixed marker), off (exported as they are).
    secrets: Mode = "mask"
    # Personal data (emails, phone numbers, card numbers, national ids), same choices.
    personal_data: Mode = "mask"
    # Extra regular expressions treated as secrets.
    custom_patterns: list[str] = Field(default_factory=list)
    # Attribute keys never redacted (ids you know are safe), and keys always dropped whole.
    # Attribute keys never masked (allow) or always masked whole (deny), e.g. `user.email`.
    allow_keys: list[str] = Field(default_factory=list)
    deny_keys: list[str] = Field(default_factory=list)

    @field_validator("custom_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"custom_patterns: {pattern!r} is not a regular expression: {exc}") from None
        return patterns


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def replacement(value: str, mode: Mode) -> str:
    if mode == "mask":
        return f"{value[:4]}…#{_digest(value)}"
    if mode == "hash":
        return f"#{_digest(value)}"
    return "[redacted]"


class RedactProcessor:
    """Replaces spans whose attributes or events hold sensitive values; others pass through untouched."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._custom = [re.compile(p) for p in cfg.custom_patterns]
        self._allow, self._deny = frozenset(cfg.allow_keys), frozenset(cfg.deny_keys)

    def redact_text(self, text: str) -> str:
        found = sensitive_values(text, personal=self.cfg.personal_data != "off")
        for pattern in self._custom:
            for match in pattern.finditer(text):
                found.setdefault(match.group(0), "custom")
        if not found:
            return text
        # Longest first, so a value inside another is not replaced twice.
        for value in sorted(found, key=len, reverse=True):
            secret = found[value] in SECRETS or found[value] == "custom"
            mode = self.cfg.secrets if secret else self.cfg.personal_data
            if mode != "off":
                text = text.replace(value, replacement(value, mode))
        return text

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list | tuple) and any(isinstance(item, str) for item in value):
            redacted = [self.redact_text(item) if isinstance(item, str) else item for item in value]
            return tuple(redacted) if isinstance(value, tuple) else redacted  # an unchanged value compares equal
        return value

    def _attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
        """New attributes, or None when nothing changes."""
        out: dict[str, Any] = {}
        changed = False
        for key, value in attributes.items():
            if key in self._deny:
                changed = True
                continue
            new = value if key in self._allow else self._value(value)
            changed = changed or new != value
            out[key] = new
        return out if changed else None

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        if self.cfg.secrets == "off" and self.cfg.personal_data == "off" and not self._deny:
            return spans
        if self._clean(spans):
            return spans
        return [self._status(span) for span in rewrite_attributes(spans, self._attributes)]

    def _clean(self, spans: Sequence[ReadableSpan]) -> bool:
        """True when the per-text path would change nothing: nothing to drop, nothing sensitive in any text."""
        # One scan of every text joined costs about half of one scan per text, and most traces hold no secret.
        texts: list[str] = []
        for span in spans:
            if span.status.description:
                texts.append(span.status.description)
            for attributes in (span.attributes or {}, *(event.attributes or {} for event in span.events)):
                for key, value in attributes.items():
                    if key in self._deny:
                        return False
                    if key in self._allow:
                        continue
                    if isinstance(value, str):
                        texts.append(value)
                    elif isinstance(value, list | tuple):
                        texts.extend(item for item in value if isinstance(item, str))
        if any(pattern.search(text) for pattern in self._custom for text in texts):
            return False  # user patterns may be anchored: per text only
        return not sensitive_values(SEPARATOR.join(texts), personal=self.cfg.personal_data != "off")

    def _status(self, span: ReadableSpan) -> ReadableSpan:
        """Error messages are exported too (span status): they get the same treatment."""
        message = span.status.description
        redacted = self.redact_text(message) if message else message
        if redacted == message:
            return span
        return with_attributes(span, span.attributes or {}, status=Status(span.status.status_code, redacted))


def create(cfg: Config) -> RedactProcessor:
    """A `RedactProcessor` for `cfg`. Pure and synchronous."""
    return RedactProcessor(cfg)

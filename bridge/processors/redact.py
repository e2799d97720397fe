"""`redact`: secrets (and personal data, per config) masked wherever a span carries text.

Its name, attribute keys and values (nested and bytes too), events, links, status and resource. Runs after
the detectors (they see the originals) and before export. A masked value keeps a short prefix (when it is 16
characters or more) and a hash, so the same secret can be recognised across spans without being readable:
`sk-p…#1f3a9c2e`. A value masked anywhere in a run is masked wherever else it stands in that run
(bridge/processors/run_values.py): a secret by its label is one without it too. A pipeline without `redact`
still gets the default one: secrets are never exported by accident. What counts as a secret is
bridge/processors/sensitive.py's; docs/security.md lists it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, Status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.processors.encoded import decoded, encoded_values
from bridge.processors.parts import PART_NUMBER_ENDS, part_groups, split_secrets
from bridge.processors.run_values import Masker, RunValues, masked_value, strings
from bridge.processors.sensitive import SECRETS, SEPARATOR, named_secret, sensitive_values
from bridge.trace import attributes as a
from bridge.trace.spans import with_attributes

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
    # Attribute keys whose values are never masked (ids you know are safe).
    allow_keys: list[str] = Field(default_factory=list)
    # Attribute keys always dropped whole, e.g. `user.email`.
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


# A masked value keeps its first four characters only when they are a small part of it (`sk-p` of an API
# key): of a short password they would be half.
_PREFIX_FROM = 16


def replacement(value: str, mode: Mode) -> str:
    if mode == "mask":
        return f"{value[:4] if len(value) >= _PREFIX_FROM else ''}…#{_digest(value)}"
    if mode == "hash":
        return f"#{_digest(value)}"
    return "[redacted]"


# Texts known clean are kept per processor up to about this many characters, each text counted with
# `KNOWN_TEXT_OVERHEAD` more for its object and its slot in the set: about 12 MB at most of ASCII text (other
# scripts take up to 4 bytes a character). The bench's 1,170 runs hold 9,500 distinct texts, 0.9 M characters.
KNOWN_CLEAN_CHARS = 8 << 20
KNOWN_TEXT_OVERHEAD = 64

# The names the bridge itself writes: no secret can be in them, and "tokens" in `gen_ai.usage.input_tokens`
# would send every trace through the credential pattern.
_OWN_KEYS = frozenset(value for name, value in vars(a).items() if name.isupper() and isinstance(value, str))
_NUMBERS = frozenset({int, float, bool})  # values with no text: most of a trace's that are not strings


def _named_secret(key: str, value: str) -> bool:
    """Whether `key` names a secret as written or as a reader reads it (`db.passw\\u043erd`, `DB_PASS%57ORD`)."""
    if named_secret(key, value):
        return True
    if key.isascii() and "%" not in key and "\\" not in key:  # most names: nothing to decode
        return False
    view = decoded(key)
    return view is not None and named_secret(view[0], value) is not None


class RedactProcessor:
    """Replaces spans holding sensitive values anywhere they are exported (name, attribute keys and values at
    any depth, bytes, events, links, status, resource); others pass through untouched. Unlike the detectors,
    examples and test card numbers are masked too: only shapes that cannot hold a secret are left."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._custom = [re.compile(p) for p in cfg.custom_patterns]
        self._allow, self._deny = frozenset(cfg.allow_keys), frozenset(cfg.deny_keys)
        self._personal = cfg.personal_data != "off"
        # Texts a one-scan check found nothing in (`_clean`): an app's runs repeat most of theirs (node titles,
        # prompts, inputs, answers), which need no second scan. Emptied past `KNOWN_CLEAN_CHARS` (they come from
        # outside).
        self._known_clean: set[str] = set()
        self._known_chars = 0

    def redact_text(self, text: str, masked: dict[str, str] | None = None) -> str:
        """`text` with what it holds masked; each value masked is added to `masked` with its mask."""
        found = sensitive_values(text, personal=self._personal, exempt_examples=False)
        for value, kind in encoded_values(text, personal=self._personal, exempt_examples=False).items():
            found.setdefault(value, kind)
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
                mask = replacement(value, mode)
                text = text.replace(value, mask)
                if masked is not None:
                    masked.setdefault(value, mask)
        return text

    def _attributes(self, attributes: Mapping[str, Any], run: _Redaction) -> dict[str, Any] | None:
        """New attributes, or None when nothing changes."""
        out: dict[str, Any] = {}
        changed = False
        for key, value in attributes.items():
            if key in self._deny:
                changed = True
                continue
            if key in self._allow:
                out[key] = value
                continue
            new_key = run.key(key)
            if (
                isinstance(value, str)
                and key not in _OWN_KEYS
                and self.cfg.secrets != "off"
                and _named_secret(key, value)
            ):
                new: Any = run.mask(value, self.cfg.secrets)  # `db.password`: the name says what the value is
            else:
                new = masked_value(value, run)
            changed = changed or new_key != key or new != value
            out[new_key] = new
        if self.cfg.secrets != "off" and not _OWN_KEYS.issuperset(attributes):
            changed = self._mask_split(attributes, out, run) or changed
        return out if changed else None

    def _mask_split(self, attributes: Mapping[str, Any], out: dict[str, Any], run: _Redaction) -> bool:
        """Masks in `out` the pieces of secrets split over attributes named as parts (parts.py); True if any."""
        changed = False
        for group in self._part_groups(attributes):
            for key, pieces in zip(group, split_secrets([attributes[key] for key in group]), strict=True):
                new_key = run.key(key)
                for piece in sorted(pieces, key=len, reverse=True):
                    out[new_key] = out[new_key].replace(piece, run.mask(piece, self.cfg.secrets))
                    changed = True
        return changed

    def _part_groups(self, attributes: Mapping[str, Any]) -> list[list[str]]:
        return [
            group
            for group in part_groups(attributes)
            if _OWN_KEYS.isdisjoint(group) and self._allow.isdisjoint(group) and self._deny.isdisjoint(group)
        ]

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        if self.cfg.secrets == "off" and self.cfg.personal_data == "off" and not self._deny:
            return spans
        if self._clean(spans):
            return spans
        run = _Redaction(self)
        resources: dict[int, Resource] = {}
        out = [_span(span, resources, run) for span in spans]
        # The values masked, where no label named them: a second pass only in a run that masked one (the first
        # pass keeps no texts for it: most runs mask nothing), each span itself again where it holds none.
        again = RunValues(run.masked, _OWN_KEYS, self._allow)
        if not again:
            return out
        # Only the spans whose texts hold one: one search of a span's texts joined costs less than the walk that
        # masks them (bench figures in docs/security.md).
        resources = {}
        return [_span(span, resources, again) if again.may_hold(_texts_of(span)) else span for span in out]

    def _clean(self, spans: Sequence[ReadableSpan]) -> bool:
        """True when the per-text path would change nothing: nothing to drop, nothing sensitive in any text."""
        # One scan of every text joined costs about half of one scan per text, and most traces hold no secret.
        texts: list[str] = []
        resources: set[int] = set()
        for span in spans:
            texts.append(span.name)
            if span.status.description:
                texts.append(span.status.description)
            if not self._texts(span.attributes or {}, texts):
                return False
            for event in span.events:
                texts.append(event.name)
                if not self._texts(event.attributes or {}, texts):
                    return False
            for link in span.links:
                if not self._texts(link.attributes or {}, texts):
                    return False
            if id(span.resource) not in resources:
                resources.add(id(span.resource))
                if not self._texts(span.resource.attributes, texts):
                    return False
        if any(pattern.search(text) for pattern in self._custom for text in texts):
            return False  # user patterns may be anchored: per text only
        known = self._known_clean
        unknown = [text for text in texts if text not in known]
        if not unknown:
            return True
        # What a scan of each text finds, a scan of them joined finds (tests/processors/test_sensitive.py): each
        # text in a joined text found clean is clean on its own. ASCII texts are joined apart from the others: alone
        # they are scanned with the ASCII patterns, whose `\s` is not `\x1c`-`\x1f` as the Unicode ones' is; joined
        # with a text of another script, `login: \x1falice / <password>` passed, and was then known clean in every
        # later run (tests/processors/test_run_values.py).
        ascii_texts = [text for text in unknown if text.isascii()]
        others = [text for text in unknown if not text.isascii()]
        chars = 0
        for group in (ascii_texts, others) if others and ascii_texts else (unknown,):
            joined = SEPARATOR.join(group)
            if sensitive_values(joined, personal=self._personal, exempt_examples=False) or encoded_values(
                joined, personal=self._personal, exempt_examples=False
            ):
                return False
            chars += len(joined)
        if self._known_chars > KNOWN_CLEAN_CHARS:
            known.clear()
            self._known_chars = 0
        known.update(unknown)
        self._known_chars += chars + KNOWN_TEXT_OVERHEAD * len(unknown)
        return True

    def _texts(self, attributes: Mapping[str, Any], texts: list[str]) -> bool:
        """Adds the texts of `attributes` that `_attributes` would scan; False if one of its keys is denied.
        Keys first, then values: the joined texts are scanned as a whole, so their order does not matter."""
        if self._deny and not self._deny.isdisjoint(attributes):
            return False
        if self._allow and not self._allow.isdisjoint(attributes):
            attributes = {key: value for key, value in attributes.items() if key not in self._allow}
        if not _OWN_KEYS.issuperset(attributes):  # a built span's keys nearly all are
            by_name = self.cfg.secrets != "off"
            numbered = False  # a name that may number a part of a split value
            for key, value in attributes.items():
                if key not in _OWN_KEYS:
                    texts.append(key)
                    if by_name and isinstance(value, str):
                        if _named_secret(key, value):
                            return False
                        numbered = numbered or key[-1:] in PART_NUMBER_ENDS
            for group in self._part_groups(attributes) if numbered else ():
                if any(split_secrets([attributes[key] for key in group])):
                    return False
        append = texts.append
        for value in attributes.values():
            kind = type(value)
            if kind is str:
                append(value)
            elif kind not in _NUMBERS and not self._value_texts(value, texts):
                return False
        return True

    def _value_texts(self, value: Any, texts: list[str]) -> bool:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, bytes):
            texts.append(value.decode("latin-1"))
        elif isinstance(value, dict):
            return self._texts(value, texts)
        elif isinstance(value, list | tuple):
            return all(self._value_texts(item, texts) for item in value)
        return True


class _Redaction:
    """The first pass over one run: `redact`'s masking, collecting each value it masks with its mask."""

    def __init__(self, processor: RedactProcessor) -> None:
        self.processor = processor
        self.masked: dict[str, str] = {}

    def text(self, text: str) -> str:
        return self.processor.redact_text(text, self.masked)

    def attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.processor._attributes(attributes, self)

    def key(self, key: str) -> str:
        return key if key in _OWN_KEYS else self.text(key)

    def mask(self, value: str, mode: Mode) -> str:
        """`value`'s mask, for a value masked whole (by its attribute's name, as a split secret's piece)."""
        mask = replacement(value, mode)
        self.masked.setdefault(value, mask)
        return mask


def _span(span: ReadableSpan, resources: dict[int, Resource], masker: Masker) -> ReadableSpan:
    """`span` with `masker` applied to each of its texts; itself when none changes. `resources`: those done."""
    attributes = masker.attributes(span.attributes or {})
    events = [_event(event, masker) for event in span.events]
    links = [_link(link, masker) for link in span.links]
    message = span.status.description
    status = Status(span.status.status_code, masker.text(message)) if message else span.status
    name = masker.text(span.name)
    resource = _resource(span, resources, masker)
    same_events = all(new is old for new, old in zip(events, span.events, strict=True))
    same_links = all(new is old for new, old in zip(links, span.links, strict=True))
    if (attributes is None and same_events and same_links and status.description == message
            and name == span.name and resource is span.resource):  # fmt: skip
        return span
    return with_attributes(
        span, span.attributes or {} if attributes is None else attributes, events, status,
        name=name, resource=resource, links=links,
    )  # fmt: skip


def _texts_of(span: ReadableSpan) -> list[str]:
    """Every text of `span` that `_span` reads: name, status, attribute keys and values, events, links, resource."""
    texts = [span.name, span.status.description or ""]
    strings(span.attributes or {}, texts)
    for event in span.events:
        texts.append(event.name)
        strings(event.attributes or {}, texts)
    for link in span.links:
        strings(link.attributes or {}, texts)
    strings(span.resource.attributes, texts)
    return texts


def _resource(span: ReadableSpan, resources: dict[int, Resource], masker: Masker) -> Resource:
    """`span`'s resource with `masker` applied, done once for the spans sharing it (`resources`)."""
    resource = resources.get(id(span.resource))
    if resource is None:
        masked = masker.attributes(span.resource.attributes)
        resource = span.resource if masked is None else Resource(masked, span.resource.schema_url)
        resources[id(span.resource)] = resource
    return resource


def _event(event: Event, masker: Masker) -> Event:
    attributes, name = masker.attributes(event.attributes or {}), masker.text(event.name)
    if attributes is None and name == event.name:
        return event
    return Event(name, event.attributes if attributes is None else attributes, event.timestamp)


def _link(link: Link, masker: Masker) -> Link:
    attributes = masker.attributes(link.attributes or {})
    return link if attributes is None else Link(link.context, attributes)


def create(cfg: Config) -> RedactProcessor:
    """A `RedactProcessor` for `cfg`. Pure and synchronous."""
    return RedactProcessor(cfg)

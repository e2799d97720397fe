"""A run's masked values masked wherever else they stand in the run (`redact`'s second pass).

Many values are sensitive only by their label (`account number 284468544249`, `password: hunter2xyz`): the same
value quoted without it (a detector's evidence, an LLM answer repeating it) would pass. What the first pass
masked anywhere in a run is masked everywhere in it, with the same mask, when it is distinctive enough to
recur only as itself: 8 characters or more and not a word of letters alone (a one-word password would mask
that word in every sentence), never inside a longer number or word (a 4-digit PIN recurs by chance in
`1.053508`; `284468544249` in `9284468544249` is another number).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from ahocorasick_rs import AhoCorasick, Implementation, MatchKind

PROPAGATE_FROM = 8
# How a text cut short ends (bridge/processors/detectors.py's evidence), and the fewest characters of a value before
# it that are masked as the value's piece: fewer would mask a text's last digits for sharing a value's first ones.
CUT_MARK = "..."
CUT_PIECE_FROM = 4


class Masker(Protocol):
    """What a pass over a span does to its texts and to its attributes (None: unchanged)."""

    def text(self, text: str) -> str: ...

    def attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any] | None: ...


def masked_value(value: Any, masker: Masker) -> Any:
    """An attribute value with `masker` applied to its texts: strings, bytes (as Latin-1), kvlists, arrays."""
    if isinstance(value, str):
        return masker.text(value)
    if isinstance(value, bytes):  # as Latin-1, one character a byte: bytes around a secret stay as they were
        text = value.decode("latin-1")
        masked = masker.text(text)
        return value if masked == text else masked.encode("latin-1", "replace")
    if isinstance(value, dict):  # an OTLP kvlist
        return masker.attributes(value) or value
    if isinstance(value, list | tuple):
        items = [masked_value(item, masker) for item in value]
        return tuple(items) if isinstance(value, tuple) else items  # an unchanged value compares equal
    return value


def strings(attributes: Mapping[str, Any], out: list[str]) -> None:
    """Appends to `out` the texts of `attributes`, keys included: what `masked_value` reads."""
    for key, value in attributes.items():
        out.append(key)
        if type(value) is str:  # nearly all
            out.append(value)
        else:
            _value_strings(value, out)


def _value_strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, bytes):
        out.append(value.decode("latin-1"))
    elif isinstance(value, dict):
        strings(value, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _value_strings(item, out)


def _propagates(value: str) -> bool:
    return len(value) >= PROPAGATE_FROM and not value.isalpha()


_ASCII_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


def _continues(text: str, at: int, step: int, edge: str) -> bool:
    """Whether `text[at]`, beside a value's `edge` character (its first for `step` -1, its last for +1), makes
    the value part of a longer number or word."""
    if not 0 <= at < len(text) or not (edge.isalnum() or edge == "_"):
        return False
    beside = text[at]
    if edge.isdigit() and (
        beside.isdigit() or (beside in ".," and 0 <= at + step < len(text) and text[at + step].isdigit())
    ):
        return True  # `9284468544249`, `284468544249.75`
    if edge.isascii():  # Chinese text runs a number or a Latin word on after its letters
        return beside in _ASCII_WORD
    return beside.isalnum() or beside == "_"


class RunValues:
    """The values one run's first pass masked, with their masks; `text` masks them wherever they recur."""

    def __init__(self, masks: Mapping[str, str], own_keys: frozenset[str], allow_keys: frozenset[str]) -> None:
        self._masks = {value: mask for value, mask in masks.items() if _propagates(value)}
        for value, mask in list(self._masks.items()):  # as a detector's JSON evidence quotes it
            self._masks.setdefault(json.dumps(value, ensure_ascii=False)[1:-1], mask)
        self._own, self._allow = own_keys, allow_keys
        # One automaton for them all (Aho-Corasick: linear in the text, however many values a run masked; a
        # regex alternation of 300 literals took 20 ms to compile), leftmost-longest: a value inside a longer
        # one is the longer. The few matches are checked for what stands beside them.
        self._values = list(self._masks)
        self._finder = (
            AhoCorasick(self._values, matchkind=MatchKind.LeftmostLongest, implementation=Implementation.ContiguousNFA)
            if self._values
            else None
        )  # the NFA that builds fastest (13 µs for two values, the default 30): built for a run, searched once or twice

    def __bool__(self) -> bool:
        """Whether there is anything to mask again."""
        return self._finder is not None

    def may_hold(self, texts: list[str]) -> bool:
        """Whether one of `texts` may hold a value (or a value's piece before a cut): one search of them joined,
        where a walk masking each would search each text and rebuild its attributes."""
        if self._finder is None:
            return False
        if any(text.endswith(CUT_MARK) for text in texts):
            return True
        return bool(self._finder.find_matches_as_indexes("\x00".join(texts)))

    def text(self, text: str) -> str:
        if self._finder is None:
            return text
        pieces: list[str] = []
        last = 0
        for index, start, end in self._finder.find_matches_as_indexes(text):
            value = self._values[index]
            if not (_continues(text, start - 1, -1, value[0]) or _continues(text, end, 1, value[-1])):
                pieces += (text[last:start], self._masks[value])
                last = end
        text = "".join((*pieces, text[last:])) if pieces else text
        return self._cut_piece(text) if text.endswith(CUT_MARK) else text

    def _cut_piece(self, text: str) -> str:
        """`text` cut short (a detection's evidence past `evidence_max_bytes`) with the piece of a value it was cut
        in masked: the value's first `CUT_PIECE_FROM` characters or more just before the `...` that marks the cut."""
        body = text[: -len(CUT_MARK)]
        for value in self._values:
            for length in range(len(value) - 1, CUT_PIECE_FROM - 1, -1):
                if body.endswith(value[:length]) and not _continues(body, len(body) - length - 1, -1, value[0]):
                    return body[: len(body) - length] + self._masks[value] + CUT_MARK
        return text

    def attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        changed = False
        for key, value in attributes.items():
            if key in self._allow:  # values never masked
                out[key] = value
                continue
            new_key, new = key if key in self._own else self.text(key), masked_value(value, self)
            changed = changed or new_key != key or new != value
            out[new_key] = new
        return out if changed else None

"""A pattern searched only where it can match: strings one of which any match holds, read off the compiled
pattern, looked for first in one Aho-Corasick pass over the lower-cased text.

A long case-blind alternation of wordings (`replies.DECLINE`: some 300, in 30 languages) is tried alternative by
alternative at every letter: 13-43 µs for a 30-125 character answer, on every run judged. Most answers hold none
of its words, and the pass that says so costs about a microsecond. The strings are derived from the pattern itself,
so a rule changed in the pattern changes its screen: no list to keep in step. Only ASCII texts are screened (there
`str.lower` and case-blind matching agree, once the few letters that case-blind matching folds onto ASCII ones, the
long s, the Kelvin sign, the dotless and dotted i, are mapped); any other text goes to the pattern unscreened."""

from __future__ import annotations

import functools
import re
import string
from importlib import import_module
from itertools import product
from typing import Any

import ahocorasick_rs

# The regular-expression parser's tree (not typed in typeshed; a stable part of CPython since 3.11).
_parser: Any = import_module("re._parser")
_c: Any = import_module("re._constants")

_MOST = 256  # strings a part of a pattern may stand for and still be spelt out
Strings = frozenset[str] | None  # None: too many to spell out, or none needed


@functools.cache
def _folds(char: str) -> frozenset[str]:
    """The lower-case ASCII characters `char` can match case-blind (none for most letters outside ASCII)."""
    if char.isascii():
        return frozenset(char.lower())
    if not any(other.isascii() for other in char.lower() + char.upper() + char.casefold()):
        return frozenset()
    return frozenset(a for a in string.ascii_lowercase if re.fullmatch(re.escape(char), a, re.IGNORECASE))


def _join(parts: list[frozenset[str]]) -> Strings:
    """Every concatenation of one string of each part, or None beyond `_MOST`."""
    joined = frozenset([""])
    for part in parts:
        if len(joined) * len(part) > _MOST:
            return None
        joined = frozenset(a + b for a, b in product(joined, part))
    return joined


def _union(sets: list[Strings]) -> Strings:
    known = [s for s in sets if s is not None]
    return frozenset().union(*known) if len(known) == len(sets) else None


def _chars(items: Any) -> Strings:
    """What a character class matches, folded; None for a negation, a category (`\\w`) or a wide range."""
    chars: set[str] = set()
    for kind, value in items:
        if kind is _c.LITERAL:
            chars |= _folds(chr(value))
        elif kind is _c.RANGE and value[1] - value[0] < 64:
            for code in range(value[0], value[1] + 1):
                chars |= _folds(chr(code))
        else:
            return None
    return frozenset(chars)


def _item(op: Any, arg: Any) -> tuple[Strings, Strings]:
    """(`_read`) of one item of a parsed pattern."""
    spelt: Strings
    if op is _c.LITERAL:
        spelt = _folds(chr(arg))
        return spelt, spelt
    if op is _c.IN:
        spelt = _chars(arg)
        return spelt, spelt
    if op is _c.SUBPATTERN or op is _c.ATOMIC_GROUP:
        return _read(arg[-1] if op is _c.SUBPATTERN else arg)
    if op is _c.BRANCH:
        read = [_read(alternative) for alternative in arg[1]]
        return _union([s for s, _ in read]), _union([n for _, n in read])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        least, most, inner = arg
        once, needed = _read(inner)
        spelt = (
            _union([_join([once] * count) for count in range(least, most + 1)])
            if once is not None and most <= 3
            else None
        )
        return spelt, needed if least >= 1 else None
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):  # zero width: they only narrow where a match is
        return frozenset([""]), None
    return None, None


def _read(items: Any) -> tuple[Strings, Strings]:
    """Of a (sub)pattern: the ASCII strings it can match, lower-cased, if few (else None); and strings one of which
    every match holds, the rarest set found (None if there are none)."""
    read = [_item(op, arg) for op, arg in items]
    candidates = [needed for _, needed in read if needed is not None]
    # Runs of items that spell few strings: a match holds one of the run's strings whole. A run ends before an item
    # that spells none, or that would make it spell too many (the next run starts there).
    run: frozenset[str] = frozenset([""])
    for spelt, _ in read:
        longer = None if spelt is None else _join([run, spelt])
        if longer is None:
            candidates.append(run)
            run = spelt if spelt is not None else frozenset([""])
        else:
            run = longer
    candidates.append(run)
    # The set whose shortest string is longest (fewest strings next): the rarest to find by chance.
    found = [c for c in candidates if "" not in c]
    best = max(found, key=lambda c: (min(map(len, c), default=1_000), -len(c)), default=None)
    parts = [spelt for spelt, _ in read if spelt is not None]
    return (_join(parts) if len(parts) == len(read) else None), best


def needed_strings(pattern: re.Pattern[str]) -> Strings:
    """Lower-case ASCII strings one of which is in any ASCII text `pattern` matches (lower-cased), or None if the
    pattern needs none."""
    return _read(_parser.parse(pattern.pattern, pattern.flags))[1]


class Screened:
    """`pattern`'s `search`, skipped on an ASCII text that holds none of the strings its matches need. The strings are
    read off the pattern when first searched (a few milliseconds a pattern, not paid at start-up)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        # (whether texts are screened, the finder: None where no ASCII text can match); made on the first search
        self._screen: tuple[bool, ahocorasick_rs.BytesAhoCorasick | None] | None = None

    def _made(self) -> tuple[bool, ahocorasick_rs.BytesAhoCorasick | None]:
        needed = needed_strings(self.pattern)
        finder = (
            ahocorasick_rs.BytesAhoCorasick(
                [s.encode() for s in needed], implementation=ahocorasick_rs.Implementation.DFA
            )
            if needed
            else None
        )
        self._screen = (needed is not None, finder)
        return self._screen

    def search(self, text: str) -> re.Match[str] | None:
        screens, finder = self._screen or self._made()
        if screens and text.isascii() and (finder is None or not finder.find_matches_as_indexes(text.lower().encode())):
            return None
        return self.pattern.search(text)

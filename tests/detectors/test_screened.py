"""`detectors/screened.py`: the strings a pattern's matches need, and a screened search that finds what the pattern
finds."""

from __future__ import annotations

import random
import re
import string

import pytest

from detectors.screened import Screened, needed_strings
from detectors.task_derailment_parts.replies import ABSENT, DECLINE, HOLDING


def test_the_strings_are_read_off_the_pattern() -> None:
    pattern = re.compile(r"(?i)\b(?:sorry|(?:I|we) (?:cannot|can't)|konnte (?:\w+ )?nicht)(?!\w)|抱歉")
    # Each alternative's rarest strings; the Chinese one matches no ASCII text and needs none there.
    assert needed_strings(pattern) == frozenset({"sorry", "i cannot", "i can't", "we cannot", "we can't", "konnte "})
    # Nothing a match must hold: every text is searched.
    assert needed_strings(re.compile(r"\d+|[^a]")) is None
    assert needed_strings(re.compile(r"(?:ab)?c?")) is None
    # Only letters outside ASCII: no ASCII text can match.
    assert needed_strings(re.compile("抱歉|對不起")) == frozenset()


def test_letters_folded_onto_ascii_ones_count() -> None:
    # Case-blind, the dotless i matches "i" and "I", the long s "s", the Kelvin sign "k".
    assert needed_strings(re.compile("(?i)bulamad\u0131m")) == frozenset({"bulamadim"})
    assert needed_strings(re.compile("(?i)\u017forry")) == frozenset({"sorry"})
    assert Screened(re.compile("(?i)\u212aey")).search("KEY") is not None
    assert Screened(re.compile("(?i)bulamad\u0131m")).search("BULAMADIM") is not None


def test_every_letter_outside_ascii_that_matches_an_ascii_one_is_folded() -> None:
    # Every character outside ASCII that some ASCII letter matches case-blind (one search over them all), against
    # what the screen maps it to.
    others = "".join(chr(code) for code in range(0x80, 0x30000) if not 0xD800 <= code <= 0xDFFF)
    folded = set(re.findall("(?i)[a-z]", others))
    assert folded  # the long s, the Kelvin sign, the dotted capital I, ...
    for char in folded:
        assert needed_strings(re.compile(re.escape(char), re.IGNORECASE)), char


@pytest.mark.parametrize("pattern", [DECLINE, ABSENT, HOLDING], ids=["DECLINE", "ABSENT", "HOLDING"])
def test_a_screened_search_finds_what_the_pattern_finds(pattern: Screened) -> None:
    needed = sorted(needed_strings(pattern.pattern) or ())
    assert needed  # screened
    words = [word for text in needed for word in text.split()] + ["the", "order", "ship", "data", "no", "I"]
    rng = random.Random(25)
    texts = [f"Well, {text} here." for text in needed] + [text.upper() for text in needed]
    for _ in range(3000):
        # Mixes of the wordings' own words, cut and joined anew, in any case: near misses and matches
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.3:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] + rng.choice(string.ascii_letters + " .,'") + text[cut:]
        texts.append(text.upper() if rng.random() < 0.2 else text)
    texts += ["Lo siento, no puedo.", "Désolé, je ne peux pas.", "抱歉,我无法回答。", "Извините"]
    found = 0
    for text in texts:
        screened, plain = pattern.search(text), pattern.pattern.search(text)
        assert (screened and screened.span()) == (plain and plain.span()), text
        found += plain is not None
    assert found > 100  # matches as well as misses were tried


def test_a_text_outside_ascii_is_searched_unscreened() -> None:
    pattern = Screened(re.compile(r"(?i)\bsorry\b"))
    assert pattern.search("SORRY, das geht nicht") is not None
    assert pattern.search("\u017forry, nicht möglich") is not None  # the long s: no screen for this text
    assert pattern.search("no apology here") is None

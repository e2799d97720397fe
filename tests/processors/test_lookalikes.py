# ruff: noqa: RUF001, RUF003  (look-alike letters are what these tests are about)
"""bridge/processors/lookalikes.py: look-alike letters read as Latin in words that mix scripts, and only there."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.processors.lookalikes import latin_lookalikes


@pytest.mark.parametrize(
    "text, latin",
    [
        ("passwоrd=x", "password=x"),  # Cyrillic о inside
        ("раѕѕword", "password"),  # Cyrillic letters first
        ("api_tοken", "api_token"),  # Greek ο; `_` ends a word
        ("ёж passwоrd и JSONе", "ёж password и JSONe"),  # only the mixed words
        ("оk", "ok"),
    ],
)
def test_mixed_words_are_read_as_latin(text: str, latin: str) -> None:
    assert latin_lookalikes(text) == latin


@pytest.mark.parametrize("text", ["password", "пароль: x1", "Ο κωδικός", "使用API", "JSON и API", "в JSON-е"])
def test_words_of_one_script_are_left(text: str) -> None:
    assert latin_lookalikes(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aopwsдорсеοραXY _-=:\u4e2d\u00e9", max_size=30))
def test_the_latin_reading_keeps_every_place(text: str) -> None:
    latin = latin_lookalikes(text)
    assert latin is None or (len(latin) == len(text) and latin != text)

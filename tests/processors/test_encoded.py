"""bridge/processors/encoded.py: the text as a reader decodes it, and where each decoded value stood."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.processors.encoded import decoded, encoded_values

PIECES = ["password", "=", "%3D", "%3d", "%E2", "\\u0077", "\\ud83d", "\u200b", "\u00ad", "\uff53\uff4b", "\uff0c",
          "-proj-", "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9", "hunter2secret", " ", "\n", "%", "\\u", "ghp_", "x"]  # fmt: skip


def test_each_decoded_character_knows_where_it_stood() -> None:
    view = decoded("a%3Db\\u0063\u200bd\uff45")
    assert view is not None
    plain, starts, ends = view
    assert plain == "a=bcde"
    assert [(starts[i], ends[i]) for i in range(len(plain))] == [(0, 1), (1, 4), (4, 5), (5, 11), (12, 13), (13, 14)]
    assert decoded("50% off, \\ud83d and 你好\uff0c世界") is None  # nothing a reader decodes to ASCII


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_every_value_found_is_written_in_the_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    view = decoded(text)
    if view is not None:
        plain, starts, ends = view
        assert len(plain) == len(starts) == len(ends)
        assert all(0 <= start < end <= len(text) for start, end in zip(starts, ends, strict=True))
    for value in encoded_values(text, personal=True, exempt_examples=False):
        assert value and value in text

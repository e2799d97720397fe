from __future__ import annotations

import pytest

from bridge.config.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5s", 5.0), ("250ms", 0.25), ("1m30s", 90.0), ("2h", 7200.0), ("1.5s", 1.5), (3, 3.0), (0.5, 0.5), ("0s", 0.0)],
)
def test_parses(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "5", "five", "5 seconds", "-1s", -2, True, None, "1d"])
def test_rejects(value: object) -> None:
    with pytest.raises(ValueError, match=r"duration|negative"):
        parse_duration(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e308, "99999999999999999999h", 87600 * 3600 + 1])
def test_rejects_what_no_timer_can_wait(value: object) -> None:
    """Found attacking the served bridge: `batch: {timeout: 99999999999999999999h}` passed `validate`, then the
    export thread died at its first wait (OverflowError); `.nan` passed too."""
    with pytest.raises(ValueError, match=r"at most 10 years|a number"):
        parse_duration(value)


def test_ten_years_is_taken() -> None:
    assert parse_duration("87600h") == 87600 * 3600

"""`Duration`: the one config type for lengths of time ("5s", "250ms", "1m30s", "2h", or bare seconds)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_FORMS = 'a duration like "250ms", "5s", "1m30s", "2h" or a number of seconds'
# Longer waits overflowed the timers that take them (threading's, past time_t) and killed the thread waiting.
MAX_SECONDS = 87600 * 3600.0  # ten years


def parse_duration(value: Any) -> float:
    """Seconds as a float; raises ValueError naming the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected {_FORMS}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        parts = _PART.findall(text)
        if "".join(n + u for n, u in parts) != text:
            raise ValueError(f"expected {_FORMS}, got {value!r}")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"expected {_FORMS}, got {value!r}")
    if math.isnan(seconds):
        raise ValueError(f"expected {_FORMS}, got {value!r}: not a number")
    if seconds < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"must be at most 10 years (87600h), got {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]

"""Content reduction: prompts, inputs, outputs and documents exported in full, cut, or not at all.

Runs after the processors that need full content (detectors), just before batching and export.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel, ConfigDict, Field

from bridge.trace.attributes import CONTENT_ATTRIBUTES, CONTENT_PREFIXES
from bridge.trace.spans import rewrite_attributes

TYPE = "reduce"
_MARKER = "…"
MARKER_BYTES = len(_MARKER.encode())


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # none: content attributes dropped; truncated: each cut to max_value_bytes; full: exported as captured.
    content: Literal["none", "truncated", "full"] = "truncated"
    # Byte limit per content value in `truncated` mode (Tempo's default attribute limit is 2 KiB).
    max_value_bytes: int = Field(default=2048, gt=MARKER_BYTES)


def _is_content(key: str) -> bool:
    return key in CONTENT_ATTRIBUTES or key.startswith(CONTENT_PREFIXES)


def truncate(value: str, max_bytes: int) -> str:
    """Cut to at most `max_bytes` UTF-8 bytes, on a character boundary, ending in an ellipsis."""
    encoded = value.encode()
    if len(encoded) <= max_bytes:
        return value
    return encoded[: max_bytes - MARKER_BYTES].decode(errors="ignore") + _MARKER


class ReduceProcessor:
    """Replaces spans whose content exceeds the configured mode; other spans pass through untouched."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        # The most characters a text can have and be within `max_value_bytes` whatever they are (4 bytes each).
        self._always_fits = cfg.max_value_bytes // 4

    def _reduce(self, attributes: Any) -> dict[str, Any] | None:
        """New attributes, or None when nothing changes (the span is then forwarded as is)."""
        # Most spans hold no text that long: told by their values alone, before any key is looked at.
        if self.cfg.content == "truncated" and not [
            value for value in attributes.values() if isinstance(value, str) and len(value) > self._always_fits
        ]:
            return None
        changed = False
        out: dict[str, Any] = {}
        for key, value in attributes.items():
            if _is_content(key):
                if self.cfg.content == "none":
                    changed = True
                    continue
                if isinstance(value, str) and len(value) > self._always_fits:
                    cut = truncate(value, self.cfg.max_value_bytes)
                    changed = changed or cut is not value
                    value = cut
            out[key] = value
        return out if changed else None

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        if self.cfg.content == "full":
            return spans
        return rewrite_attributes(spans, self._reduce)


def create(cfg: Config) -> ReduceProcessor:
    """A `ReduceProcessor` for `cfg`. Pure and synchronous."""
    return ReduceProcessor(cfg)

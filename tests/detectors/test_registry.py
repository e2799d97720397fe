"""detectors/__init__.py's `registry`: the built-ins and plugins, the entry points read once a process."""

from __future__ import annotations

from typing import Any

import pytest

import detectors


def test_entry_points_read_once_and_each_caller_gets_its_own_table(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []

    def entry_points(group: str) -> list[Any]:
        reads.append(group)
        return []

    monkeypatch.setattr(detectors, "entry_points", entry_points)
    detectors._registry.cache_clear()
    try:
        first = detectors.registry()
        first.pop("loop")
        second = detectors.registry()
    finally:
        detectors._registry.cache_clear()
    assert reads == [detectors.ENTRY_POINT_GROUP]
    assert "loop" in second and len(second) == len(first) + 1


def test_a_broken_plugin_is_refused_at_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    class EntryPoint:
        name = "broken"

        def load(self) -> object:
            return object()

    monkeypatch.setattr(detectors, "entry_points", lambda group: [EntryPoint()])
    detectors._registry.cache_clear()
    try:
        for _ in range(2):
            with pytest.raises(TypeError, match="detector plugin broken has no KEY"):
                detectors.registry()
    finally:
        detectors._registry.cache_clear()

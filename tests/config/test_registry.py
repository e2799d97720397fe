from __future__ import annotations

import types

import pytest

from bridge.config import registry


def test_tables_are_complete_and_named_after_their_modules() -> None:
    assert sorted(registry.EXPORTERS) == ["console", "file", "otlp", "otlphttp"]
    assert sorted(registry.PROCESSORS) == ["batch", "detectors", "redact", "reduce"]
    assert sorted(registry.RECEIVERS) == ["otlp", "poller", "proxy", "stream", "webhook"]
    for table in registry.KINDS.values():
        for type_name, factory in table.items():
            assert factory.type_name == type_name
            assert factory.create.__module__.rsplit(".", 1)[-1] == type_name, type_name


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown type 'jaeger'; known exporters: console, file, otlp, otlphttp"):
        registry.get("exporters", "jaeger")


def test_duplicate_type_raises() -> None:
    module = types.SimpleNamespace(TYPE="x", Config=object, create=lambda cfg: cfg)
    with pytest.raises(ValueError, match="duplicate exporter type 'x'"):
        registry._table("exporter", [module, module])  # type: ignore[list-item]

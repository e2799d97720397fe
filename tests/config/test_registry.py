from __future__ import annotations

import subprocess
import sys
from functools import partial

import pytest

from bridge.config import registry
from bridge.config.models import Factory


def test_tables_are_complete_and_named_after_their_modules() -> None:
    assert sorted(registry.EXPORTERS) == ["console", "file", "otlp", "otlphttp"]
    assert sorted(registry.PROCESSORS) == ["batch", "detectors", "redact", "reduce"]
    assert sorted(registry.RECEIVERS) == ["otlp", "poller", "proxy", "stream", "webhook"]
    for table in registry.KINDS.values():
        for type_name, factory in table.items():
            assert factory.type_name == type_name
            assert factory.create.__module__.rsplit(".", 1)[-1] == type_name, type_name
            assert factory.config_class is factory.module().Config, type_name  # a receiver's read apart from it


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown type 'jaeger'; known exporters: console, file, otlp, otlphttp"):
        registry.get("exporters", "jaeger")


def test_a_module_listed_under_another_type_raises_when_loaded() -> None:
    factory = Factory("jaeger", partial(registry._module, "bridge.exporters.otlp", "jaeger"))
    with pytest.raises(ValueError, match=r"bridge\.exporters\.otlp is listed as type 'jaeger' but says TYPE = 'otlp'"):
        factory.config_class  # noqa: B018


def test_a_config_imports_only_the_modules_of_the_components_it_names() -> None:
    """`replay` with the default config (the `otlp` exporter, every receiver listed) loads neither httpx (the
    otlphttp exporter, the proxy's and the poller's clients) nor protobuf's JSON format (the console exporter,
    the otlp receiver's JSON requests), nor the OpenTelemetry SDK's metrics (the config and the pipelines read a
    measurement's plain data, bridge/telemetry/series.py: `replay` has no metrics), nor a receiver's module or
    Starlette (the receivers' sections are validated by their settings alone, bridge/receivers/config/): a fresh
    interpreter, as replay's first worker loads it."""
    code = (
        "import sys\n"
        "from bridge.config.loader import default_config\n"
        "from bridge.service.replay_export import ReplayExport\n"
        "ReplayExport(default_config())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx2', 'httpcore2', 'h11')"
        " or m in ('google.protobuf.json_format', 'bridge.exporters.console', 'bridge.exporters.otlphttp',"
        " 'bridge.exporters.file', 'bridge.management.outbound_transport', 'bridge.telemetry.aggregates')"
        " or m.startswith(('opentelemetry.sdk.metrics', 'starlette', 'bridge.http'))"
        f" or m in {[f'bridge.receivers.{name}' for name in registry.RECEIVERS]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

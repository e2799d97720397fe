"""The console script's entry: Ctrl-C while the bridge's modules load is a quiet exit 130 (issue 27 #15)."""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import pytest

from bridge import regex_cache
from bridge.cli import entry


@pytest.fixture(autouse=True)
def _patterns_as_python_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry keeps compiled patterns (bridge/regex_cache.py): not in the test process, for every test after."""
    monkeypatch.setattr(regex_cache, "install", lambda: None)


class _CtrlCWhileLoading(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "bridge.cli.commands":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_the_command_loads_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "bridge.cli.commands", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_CtrlCWhileLoading(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 130


def test_the_command_runs_the_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["dify-otel-bridge", "--help"])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 0 and "serve" in capsys.readouterr().out

"""The console script's entry: Ctrl-C while the bridge's modules load is a quiet exit 130 (issue 27 #15)."""

from __future__ import annotations

import importlib.abc
import os
import subprocess
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import pytest

from bridge import regex_cache
from bridge.cli import entry
from tests.otlp_sink import OtlpSink
from tests.runs import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


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


def test_grpcs_own_log_lines_stay_out_of_the_commands_output(otlp_sink: OtlpSink) -> None:
    # TLS to a plaintext port (an endpoint without a scheme): gRPC's C core printed `I1207 ... Handshake failed`
    # lines between replay's own warnings.
    env = {k: v for k, v in os.environ.items() if k != "GRPC_VERBOSITY"} | {"PYTHONPATH": str(ROOT)}
    args = [
        "replay",
        "--quiet",
        "--timeout",
        "2",
        "--endpoint",
        otlp_sink.grpc_endpoint,
        str(EXAMPLES / "no_terminal.sse"),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "TLS to a plaintext port" in result.stderr
    assert "ssl_transport_security" not in result.stderr


def test_output_into_a_reader_that_stopped_exits_quietly() -> None:
    # `detect FILE | head` printed a BrokenPipeError traceback once head had what it wanted.
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bridge.cli", "detect", str(EXAMPLES / "loop_stopped.sse")],
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")

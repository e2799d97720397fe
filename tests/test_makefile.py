"""The Makefile's install targets, with a stand-in Python whose `-m venv` makes a venv of no-op tools."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_PYTHON = """#!/bin/sh
# `python -m venv DIR`: DIR/bin/pip that installs nothing
mkdir -p "$3/bin" && printf '#!/bin/sh\\n' > "$3/bin/pip" && chmod +x "$3/bin/pip"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def _make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", f"PYTHON={project / 'python'}", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_serve_after_the_dev_install_installs_nothing_again(project: Path) -> None:
    assert _make(project, ".venv/.installed").returncode == 0  # what `make test` (lint) installs
    assert _make(project, "-q", "install").returncode == 0  # up to date: `make serve` goes straight to serving
    (project / "requirements.lock").touch()
    assert _make(project, "-q", "install").returncode == 1  # a changed lock still installs again


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_help_names_every_target(project: Path) -> None:
    phony = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(".PHONY:"))
    result = _make(project, "help")
    assert result.returncode == 0, result.stderr  # was "No rule to make target 'help'"
    named = {line.split()[1] for line in result.stdout.splitlines()}
    assert named == set(phony.split()[1:]) - {"help"}


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_help_lists_every_target_and_serve_passes_args_through(project: Path) -> None:
    # README: "`make help` lists every target"; `make serve ARGS="--config my.yaml --port 9000"` passes flags.
    phony = next(line for line in (project / "Makefile").read_text().splitlines() if line.startswith(".PHONY:"))
    listed = {line.split()[1] for line in _make(project, "help").stdout.splitlines()}
    assert set(phony.split()[1:]) - {"help"} == listed
    serve = _make(project, "--dry-run", "serve", "ARGS=--config my.yaml --port 9000").stdout
    assert ".venv/bin/dify-otel-bridge serve --config my.yaml --port 9000" in serve

"""The Makefile's install targets, with a stand-in Python whose `-m venv` makes a venv of no-op tools."""

from __future__ import annotations

import os
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
    # A changed lock still installs again. Its time is set one second past the marker's: a plain touch can land
    # in the same filesystem clock tick as the marker (a few ms) and read as not newer.
    installed = (project / ".venv" / ".installed-runtime").stat().st_mtime
    os.utime(project / "requirements.lock", (installed + 1, installed + 1))
    assert _make(project, "-q", "install").returncode == 1


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


def _audit(tmp_path: Path, answer: str, status: int) -> subprocess.CompletedProcess[str]:
    """`.ci/audit` (what `make audit` runs) with a stand-in pip-audit printing `answer` and exiting `status`."""
    (tmp_path / "pip-audit").write_text(f"#!/bin/sh\ncat <<'EOF'\n{answer}\nEOF\nexit {status}\n")
    (tmp_path / "pip-audit").chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "BIN": str(tmp_path)}
    return subprocess.run([ROOT / ".ci" / "audit"], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_audit_fails_on_a_vulnerability_and_passes_offline(tmp_path: Path) -> None:
    # README: "`make audit` fails on a known vulnerability and is offline-tolerant".
    found = _audit(tmp_path, "Found 1 known vulnerability in 1 package\nfoo 1.0 GHSA-xxxx 1.1", 1)
    assert found.returncode == 1 and "GHSA-xxxx" in found.stdout
    offline = _audit(tmp_path, "ConnectionError: Max retries exceeded with url: /pypi/foo/json", 1)
    assert offline.returncode == 0 and "cannot be reached" in offline.stdout
    clean = _audit(tmp_path, "No known vulnerabilities found\nfoo: could not be audited", 0)
    assert clean.returncode == 0 and "1 of " in clean.stdout and "had no advisory data" in clean.stdout

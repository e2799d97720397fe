"""Issue 24.16: the store and the queue file (and SQLite's -wal and -shm beside them) are 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bridge.state_files.private_file import make_private
from tests.bridge_server import APP_ID, BridgeServer, bridge_config, dumps, signed_headers
from tests.otlp_sink import OtlpSink


@pytest.fixture
def usual_umask() -> Iterator[None]:
    before = os.umask(0o022)  # files SQLite creates on its own would be 0644
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_served_bridge_keeps_its_files_private(tmp_path: Path, otlp_sink: OtlpSink, usual_umask: None) -> None:
    body = dumps({"workflow_run_id": "run-private", "app_id": APP_ID, "status": "succeeded", "nodes": []})
    with BridgeServer(bridge_config(tmp_path, otlp_sink.grpc_endpoint)) as bridge:
        response = httpx.post(f"{bridge.base}/api/v1/dify/webhook", content=body, headers=signed_headers(body))
        assert response.status_code == 202, response.text
        otlp_sink.wait_for_spans(1)
        files = {path.name: _mode(path) for path in tmp_path.iterdir() if path.name.startswith(("queue", "bridge"))}
    assert {"queue.db", "queue.db-wal", "queue.db-shm", "bridge.db", "bridge.db-wal", "bridge.db-shm"} <= set(files)
    assert files == dict.fromkeys(files, 0o600)


def test_files_made_by_an_earlier_version_are_tightened(tmp_path: Path) -> None:
    for name in ("queue.db", "queue.db-wal"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    make_private(str(tmp_path / "queue.db"))
    assert (_mode(tmp_path / "queue.db"), _mode(tmp_path / "queue.db-wal")) == (0o600, 0o600)

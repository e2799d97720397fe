"""Arize Phoenix, a real tracing backend, as a child process on 127.0.0.1: it takes OTLP (HTTP and gRPC),
stores spans and serves them back over its REST API."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.bridge_server import free_port

REPO = Path(__file__).resolve().parents[2]


def phoenix_binary() -> Path:
    """`PHOENIX_BIN`, else the `.venv-phoenix` that `make test` installs."""
    return Path(os.environ.get("PHOENIX_BIN") or REPO / ".venv-phoenix" / "bin" / "phoenix")


class Phoenix:
    def __init__(self, binary: Path, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        self.http_port, self.grpc_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.grpc_endpoint = f"127.0.0.1:{self.grpc_port}"
        self.log = folder / "phoenix.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> Phoenix:
        env = {
            **os.environ,
            "PHOENIX_HOST": "127.0.0.1", "PHOENIX_PORT": str(self.http_port), "PHOENIX_GRPC_PORT": str(self.grpc_port),
            "PHOENIX_WORKING_DIR": str(self.folder / "work"), "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        }  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([str(self.binary), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"Phoenix exited: {self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"Phoenix did not start: {self.log.read_text()[-3000:]}"
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def spans(self, project: str) -> list[dict[str, Any]]:
        """Every span stored in `project` (none while the project does not exist yet)."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            response = httpx.get(f"{self.base}/v1/projects/{project}/spans", params=params, timeout=10)
            if response.status_code == 404:
                return []
            response.raise_for_status()
            page = response.json()
            found.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    def wait_for_spans(self, project: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Phoenix stores asynchronously: poll until `count` spans are there (then a moment more, so an
        extra span would show)."""
        deadline = time.monotonic() + timeout
        while len(spans := self.spans(project)) < count:
            assert time.monotonic() < deadline, f"expected {count} spans in {project}, Phoenix has {len(spans)}"
            time.sleep(0.5)
        time.sleep(1.0)
        return self.spans(project)

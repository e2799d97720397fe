"""`dify-otel-bridge serve` as a child process on 127.0.0.1, for tests that kill, signal or restart it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.bridge_server import free_port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class BridgeProcess:
    """`dify-otel-bridge serve` in a child process, on its own port."""

    def __init__(self, config: Path, scheme: str = "http", **client: Any) -> None:
        self.config = config
        self.port = free_port()
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        self.client = client  # httpx settings for the readiness check (TLS: verify, cert)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = config.with_suffix(".log")

    def start(self) -> BridgeProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bridge.cli", "serve", "--config", str(self.config), "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        wait_until(self._ready, 20.0, f"the bridge to start ({self.log.read_text()[-2000:]})")
        return self

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()[-2000:]
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1, **self.client).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait(10)

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

"""Schemathesis over the bridge's own OpenAPI schema, against the real `serve` process: every operation
with generated parameters and bodies, checked for server errors (5xx) and answers that break the schema's
promises. Used by the CI test (a small budget) and `bench/api_fuzz.py` (the full run)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from tests.bridge_process import BridgeProcess
from tests.bridge_server import API_KEY, bridge_config_text
from tests.otlp_sink import OtlpSink


@dataclass
class FuzzResult:
    statuses: Counter[int]  # answers by HTTP status (0: no answer)
    exit_code: int
    output: str

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500 or status == 0)


def fuzz_api(folder: Path, max_examples: int, workers: int = 2, seed: int = 1) -> FuzzResult:
    """Runs schemathesis against a fresh bridge (every receiver on, a sink behind it) in `folder`."""
    with OtlpSink() as sink:
        config = folder / "bridge.yaml"
        text = bridge_config_text(folder, sink.grpc_endpoint, otlp="{}", poller="{interval: 1h}")
        # Generated API keys fail by the hundred: with the failed-attempt limit on, every later request from
        # this address would get 429 and the handlers behind it would go unfuzzed.
        config.write_text(
            text.replace("  live_heartbeat:", "  rate_limit: {failed_attempts_per_minute: 0}\n  live_heartbeat:")
        )
        bridge = BridgeProcess(config).start()
        try:
            token = httpx.post(f"{bridge.base}/api/v1/auth/token", json={"api_key": API_KEY}).json()["access_token"]
            report = folder / "report.json"
            command = [
                sys.executable, "-m", "schemathesis.cli", "run", f"{bridge.base}/openapi.json",
                "--header", f"Authorization: Bearer {token}", "--header", f"X-Pisama-API-Key: {API_KEY}",
                "--checks", "not_a_server_error", "--max-examples", str(max_examples), "--workers", str(workers),
                "--seed", str(seed), "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color",
                # The live view is an endless event stream (it has tests of its own).
                "--exclude-path", "/api/v1/dify/stream",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, timeout=3000)
        finally:
            bridge.stop()
    statuses: Counter[int] = Counter()
    for line in report.read_text().splitlines() if report.exists() else []:
        scenario = json.loads(line).get("ScenarioFinished")
        for interaction in ((scenario or {}).get("recorder") or {}).get("interactions", {}).values():
            statuses[int((interaction.get("response") or {}).get("status_code") or 0)] += 1
    return FuzzResult(statuses, done.returncode, done.stdout + done.stderr)

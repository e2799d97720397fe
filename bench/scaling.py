"""Does cost grow linearly? The acknowledgement path (span building, detectors, redaction, reduction,
encoding, durable write) at 1x, 10x and 100x the nodes per run, and at 1x, 10x and 100x the number of
runs. Prints the time per span at each size and the log-log slope (1.0 = linear).

    .venv/bin/python bench/scaling.py [--nodes 10] [--runs 20]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.config.loader import parse_config
from bridge.dify.model import WorkflowRun
from bridge.dify.webhook_payload import normalize_webhook
from bridge.service.service import BridgeService
from tests.bridge_server import free_port


def _run(nodes: int) -> WorkflowRun:
    """A webhook run of `nodes` nodes: LLM calls with prompts and usage, code and HTTP nodes between."""
    kinds = ["llm", "code", "http-request"]
    payload = {
        "workflow_run_id": str(uuid.uuid4()), "app_id": "bench", "status": "succeeded",
        "started_at": "2026-11-24T20:00:00Z", "finished_at": "2026-11-24T20:10:00Z",
        "nodes": [
            {"node_id": f"n{i}", "node_type": kinds[i % 3], "title": f"Step {i}", "status": "succeeded",
             "inputs": {"query": f"question {i} " * 20}, "outputs": {"text": f"answer {i} " * 40},
             "process_data": {"model_name": "gpt-4o", "model_provider": "openai",
                              "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150,
                                        "total_price": "0.001", "currency": "USD"}},
             "started_at": f"2026-11-24T20:00:{i % 60:02d}Z", "finished_at": f"2026-11-24T20:01:{i % 60:02d}Z"}
            for i in range(nodes)
        ],
    }  # fmt: skip
    return normalize_webhook(payload)


def _seconds(service: BridgeService, runs: list[WorkflowRun]) -> tuple[float, int]:
    start = time.perf_counter()
    spans = sum(service.submit_run(run) for run in runs)
    return time.perf_counter() - start, spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(
            f"exporters: {{otlp: {{endpoint: '127.0.0.1:{free_port()}', tls: {{insecure: true}},"
            " retry_on_failure: {initial_interval: 1h}}}\n"
            "processors: {detectors: {}, batch: {timeout: 1h}}\n"
            f"service: {{queue: {{path: '{tmp}/queue.db'}},"
            " pipelines: {traces: {processors: [detectors, batch], exporters: [otlp]}}}\n"
        )
        service = BridgeService(config)
        _seconds(service, [_run(args.nodes) for _ in range(args.runs)])  # warm-up
        rows = []
        for label, factor in (("nodes per run", "nodes"), ("runs", "runs")):
            points = []
            for scale in (1, 10, 100):
                nodes = args.nodes * scale if factor == "nodes" else args.nodes
                count = args.runs if factor == "nodes" else args.runs * scale
                runs = [_run(nodes) for _ in range(count)]
                seconds, spans = _seconds(service, runs)
                points.append((scale, seconds, spans))
            slope = math.log(points[-1][1] / points[0][1]) / math.log(points[-1][2] / points[0][2])
            rows.append((label, points, slope))
        service.shutdown(timeout=0)
    print(f"base: {args.runs} runs of {args.nodes} nodes; durable queue on, detectors on")
    print("| grows | 1x us/span | 10x us/span | 100x us/span | slope (1.0 = linear) |")
    print("|---|---|---|---|---|")
    for label, points, slope in rows:
        cells = " | ".join(f"{seconds / spans * 1e6:.0f}" for _, seconds, spans in points)
        print(f"| {label} | {cells} | {slope:.2f} |")


if __name__ == "__main__":
    main()

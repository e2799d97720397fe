"""`replay` exports the same bytes whatever the process's string hashing: a detector's evidence built by iterating
a set (in hash order) made the `detection` events differ between runs of the same recordings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.otlp_sink import OtlpSink

# Recordings whose hallucination findings carry several substituted figures (`in_place_of`), whose order came from
# a set before it was sorted.
_DATA = Path(__file__).parents[1] / "testdata"
RECORDINGS = [
    _DATA / "dify-1.14.1-faults3" / "pricing_invented.sse",
    _DATA / "dify-1.14.1-faults4" / "fleet_invented.sse",
]
ROOT = Path(__file__).parents[2]


def _replayed(tmp_path: Path, hash_seed: str) -> list[bytes]:
    """Each span the sink received from a `replay` child run with `hash_seed`, encoded and decoded."""
    with OtlpSink() as sink:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        replay = [sys.executable, "-m", "bridge.cli", "replay", "--quiet", "--endpoint", f"http://{sink.grpc_endpoint}"]
        command = [*replay, *map(str, RECORDINGS)]
        subprocess.run(command, cwd=tmp_path, env=env, check=True, timeout=60)
        spans = [
            span.SerializeToString(deterministic=True)
            for _, request, _ in sink.requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        decoded = [repr(span).encode() for span in sink.spans()]
    return sorted(spans) + sorted(decoded)  # batches may split the spans differently


def test_replay_exports_the_same_bytes_under_other_hash_seeds(tmp_path: Path) -> None:
    first, second = _replayed(tmp_path, "1"), _replayed(tmp_path, "2")
    assert any(b"in_place_of" in span for span in first)
    assert first == second

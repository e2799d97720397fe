"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis) against the real `serve` process, with a
bounded budget; `bench/api_fuzz.py` is the full run (10,000+ requests, figures in bench/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

from tests.schema_fuzz import fuzz_api


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    result = fuzz_api(tmp_path, max_examples=25)
    assert result.requests >= 400, result.output[-3000:]
    assert result.server_errors == 0, (sorted(result.statuses.items()), result.output[-3000:])
    assert result.exit_code == 0, result.output[-3000:]
    # Every operation was reached with requests it takes, not only refusals.
    assert result.statuses[200] > 0

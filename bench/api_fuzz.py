"""The HTTP API fuzzed from its own OpenAPI schema with schemathesis (coverage and fuzzing phases) against
a real `serve` process: prints the requests sent, the answers by status, and the server errors (target 0
over at least 10,000 requests).

    .venv/bin/python bench/api_fuzz.py [--max-examples 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.schema_fuzz import fuzz_api


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=1000, help="generated cases per operation")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = fuzz_api(Path(folder), args.max_examples, args.workers)
        elapsed = time.perf_counter() - start
    print(f"{'requests':>10} {'server errors':>14} {'seconds':>8}  answers by status")
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(result.statuses.items()))
    print(f"{result.requests:>10} {result.server_errors:>14} {elapsed:>8.1f}  {statuses}")
    if result.exit_code != 0:
        print(result.output[-4000:])
    return 0 if result.server_errors == 0 and result.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

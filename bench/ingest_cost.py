"""CPU of the stream receiver's ingest in `serve`'s server process, against another version's, in one process.

The corpus of `end_to_end_replay.py` (1,170 runs as `text/event-stream` bodies): each body's events read as the
stream receiver reads them (`receivers/stream.py`'s `_events`: SSE, parsing, normalizing), then merged into runs
with their journal rows made, as `BridgeService._assemble` does (no HTTP, no signature, no commit). The version in
`--before DIR` (`git archive <commit> bridge detectors | tar -x -C DIR`) is loaded beside this one under other names
(`worker_cost.py`'s `renamed_copy`); the two alternate, in swapped order each round. Printed: each side's best and
median CPU seconds, and the median of the rounds' ratios (this version over the other).

    .venv/bin/python bench/ingest_cost.py --before DIR [--rounds 12]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from end_to_end_replay import SOURCES, _captures, make_corpus  # noqa: E402
from worker_cost import renamed_copy  # noqa: E402

STAGES = ("events read", "merged and journaled")


def stages(package: str, bodies: list[bytes]) -> dict[str, Callable[[Any], Any]]:
    def module(name: str) -> Any:
        return __import__(f"{package}.{name}", fromlist=["_"])

    read_events = module("receivers.stream")._events
    assembler_class, to_row = module("dify.assembly").RunAssembler, module("queue.journal").to_row

    def read(_: Any) -> list[Any]:
        return [read_events(body, "sse", "app", 50_000) for body in bodies]

    def assemble(bodies_events: list[Any]) -> Any:
        assembler, row_id = assembler_class(idle_timeout=300, terminal_wait=0), 0
        for events in bodies_events:
            rows = []
            for event in events:
                row_id += 1
                if assembler.add(event, 1.0, "ctx", "stream", journal=row_id):
                    rows.append(to_row(row_id, event, 1.0, "ctx", "stream"))
        return assembler

    return dict(zip(STAGES, (read, assemble), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other version's `bridge` and `detectors`")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    renamed_copy(args.before.resolve(), tmp / "before")
    sys.path.insert(0, str(tmp / "before"))
    bodies = make_corpus(tmp / "corpus", _captures(SOURCES), 65).bodies
    sides = {"before": stages("bridge_before", bodies), "now": stages("bridge", bodies)}
    gc.set_threshold(20_000)  # as the server runs (bridge/http/server.py)
    seconds: dict[str, dict[str, list[float]]] = {side: {stage: [] for stage in STAGES} for side in sides}
    for index in range(args.rounds):
        for side in list(sides) if index % 2 == 0 else list(reversed(sides)):
            result: Any = None
            for stage, run in sides[side].items():
                start = time.process_time()
                result = run(result)
                seconds[side][stage].append(time.process_time() - start)
    for per_stage in seconds.values():
        per_stage["both"] = [sum(round_) for round_ in zip(*per_stage.values(), strict=True)]
    print(f"{len(bodies)} bodies, {args.rounds} rounds; CPU seconds, best and median:")
    for stage in (*STAGES, "both"):
        cells = [f"{side} {min(s[stage]):.3f}, {statistics.median(s[stage]):.3f}" for side, s in seconds.items()]
        ratios = [now / before for now, before in zip(seconds["now"][stage], seconds["before"][stage], strict=True)]
        print(f"  {stage}: {'; '.join(cells)}; now / before per round: median {statistics.median(ratios):.2f}x "
              f"({min(ratios):.2f}-{max(ratios):.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()

"""A noisy neighbour on purpose: takes a share of every core while a benchmark runs, so that a machine faster
than the one the targets were set on can be measured at the reference speed.

    .venv/bin/python bench/cpu_neighbour.py --share 0.25 -- .venv/bin/python bench/end_to_end.py --runs 10000

One process pinned to each core spins for `share` of every slice of a few milliseconds and sleeps the rest, as a
hypervisor's steal or a busy neighbour does. The benchmarks measure the plain-SDK yardstick with the neighbour
already running, so the "machine:" line shows the speed the benchmark actually had.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time

SLICE_S = 0.004  # short enough that a request's latency sees the neighbour many times, as it sees steal


def _neighbour(core: int, share: float) -> None:
    # Pinned: free to move, a neighbour would find the idle core whenever one is, and slow nothing.
    os.sched_setaffinity(0, {core})
    busy = SLICE_S * share
    idle = SLICE_S - busy
    while True:
        until = time.perf_counter() + busy
        while time.perf_counter() < until:
            pass
        time.sleep(idle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--share", type=float, required=True, help="the share of each core taken, 0 to 1")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the benchmark to run beside it")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not 0 < args.share < 1 or not command:
        parser.error("give --share between 0 and 1, then -- and a command")
    neighbours = [
        multiprocessing.Process(target=_neighbour, args=(core, args.share), daemon=True)
        for core in sorted(os.sched_getaffinity(0))
    ]
    for neighbour in neighbours:
        neighbour.start()
    print(f"neighbour: {len(neighbours)} processes, each taking {args.share:.0%} of a core", flush=True)
    try:
        return subprocess.call(command)
    finally:
        for neighbour in neighbours:
            neighbour.terminate()


if __name__ == "__main__":
    sys.exit(main())

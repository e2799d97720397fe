"""Where a process's main thread spends its CPU, by function: a sampler to run a command under, as a profiler.

    BENCH_SERVER_WRAPPER="$PWD/.venv/bin/python $PWD/bench/cpu_sampler.py /tmp/serve.txt" \
        .venv/bin/python bench/end_to_end_replay.py --rounds 2
    .venv/bin/python bench/cpu_sampler.py --report OUT.txt [FUNCTION]

Run as the wrapper (`cpu_sampler.py OUT python -m MODULE ARGS...`), it runs MODULE in this process and, every
millisecond of the process's CPU (`ITIMER_PROF`), notes the main thread's stack, weighted by the CPU that thread
used since the last note (its own clock, `pthread_getcpuclockid`): the other threads' CPU moves the timer but
weighs nothing. At the exit it writes one line per stack, `frame;frame;... microseconds`. `--report` prints each
function's share, inclusive and its own (C calls count in the Python function that made them), of every stack
or of those through FUNCTION (a substring, e.g. `stream.py:receive`).

py-spy is not installed here; cProfile inflates small Python calls several times, and a sampling thread only gets
the interpreter where the main thread lets it go (I/O, hashing), so it put a third of the time on `hmac`.
"""

from __future__ import annotations

import collections
import os
import runpy
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

ROOT = f"{Path(__file__).resolve().parent.parent}/"


def _name(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename.rpartition('site-packages/')[2].replace(ROOT, '')}:{frame.f_code.co_name}"


def run(out: str, command: list[str]) -> None:
    assert command[1:2] == ["-m"], "cpu_sampler.py OUT python -m MODULE ARGS..."
    sys.argv = command[2:]
    stacks: dict[str, float] = collections.defaultdict(float)
    clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    last = time.clock_gettime(clock)

    def sample(signum: int, frame: FrameType | None) -> None:
        nonlocal last
        now = time.clock_gettime(clock)
        spent, last = now - last, now
        names = []
        while frame is not None:
            names.append(_name(frame))
            frame = frame.f_back
        if spent > 0 and names:
            stacks[";".join(reversed(names))] += spent

    pid = os.getpid()
    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
    try:
        runpy.run_module(command[2], run_name="__main__", alter_sys=True)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        if os.getpid() == pid:  # not in a forked worker that returns through here
            with open(out, "w") as handle:
                handle.writelines(f"{stack} {seconds * 1e6:.0f}\n" for stack, seconds in stacks.items())


def report(path: str, through: str | None) -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as handle:
        for line in handle:
            stack, _, micros = line.rpartition(" ")
            frames = stack.split(";")
            if through is not None and not any(through in frame for frame in frames):
                continue
            total += int(micros)
            for frame in set(frames):
                inclusive[frame] += int(micros)
            own[frames[-1]] += int(micros)
    print(f"{total / 1e6:.3f} s of the main thread's CPU" + (f" through {through}" if through else ""))
    for title, counts in (("inclusive", inclusive), ("own", own)):
        print(f"--- {title}")
        for frame, spent in counts.most_common(40):
            print(f"{spent / total * 100:5.1f} % {frame}")


if __name__ == "__main__":
    if sys.argv[1] == "--report":
        report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        run(sys.argv[1], sys.argv[2:])

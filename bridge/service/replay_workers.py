"""`replay`'s pipeline workers, forked before the replaying process imports the config loader, pydantic, the
exporters (gRPC, the OTel SDK) or the processors: its longest path was those imports (about 0.45 s of CPU)
before its first record. The first worker imports them, loads the config and makes the export (pipelines,
queue in memory, deliveries), then forks the others with it, so that the imports are paid once; meanwhile this
process reads the files, builds the runs and sends each worker its own. At the end each worker answers with its
counts and what its exporters could not deliver.

Runs of one app always go to the same worker, so that the detectors' run-over-run history of an app stays in one
process. Runs read before every worker is ready (all of them, often: reading takes about as long as the first
worker's imports) are held here; then their apps are shared out largest first, each to the worker with the least
work so far, and an app first seen later goes to the worker with the least work then. A run's work is counted as
its bytes plus `RUN_COST_BYTES`. Each app given its worker at its first run, by bytes alone, had one of two
workers ending 0.1-0.4 s after the other on the bench's corpus (57 % of the runs' CPU against 43 %); a hash of the
app id, 13 of 17 apps to one. A worker that fails (a config error, a run it cannot process) says why and exits;
its error is raised here, as the replaying process would have raised it itself.
"""

from __future__ import annotations

import errno
import gc
import os
import pickle
import select
import signal
import struct
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, NoReturn

from bridge import GC_YOUNG_THRESHOLD
from bridge.dify.model import WorkflowRun
from bridge.dify.run_parts import ClosedRun
from bridge.service.replay_tally import ReplayOutcome, ReplayTally
from bridge.service.worker_pipes import PIPE_BYTES, Frames, decode_run, encode_run, frame, widen, write_all

if TYPE_CHECKING:
    from bridge.service.replay_export import ReplayExport

# A worker's counts come back this often at most while it works (for the progress lines).
PROGRESS_INTERVAL_S = 0.1
# Runs a worker's pipe has not taken yet wait in this process, so that reading goes on while the workers still
# import; beyond this many bytes for one worker, reading waits for it.
MAX_UNSENT_BYTES = 64 << 20
# Runs held until every worker is ready, so that apps are shared out knowing their sizes; beyond this many bytes
# they are shared out at once (an input read much faster than a worker starts).
MAX_HELD_BYTES = 64 << 20
# A run costs a worker about as much as this many bytes of it besides: fitted over the bench's 17 apps (a run's
# CPU in a worker about 207 us plus 75 ns a byte of it; 9 % off an app's CPU, where its bytes alone are 21 % off
# and its runs alone 33 %).
RUN_COST_BYTES = 2750
# The message that ends a worker's runs: this byte (a run's first is `m`, `c` or `p`), then how long it may
# wait for its exporters.
_STOP = b"s"
_TIMEOUT = struct.Struct("!d")
_ANSWER_BYTES = 1 << 16  # answers are small; a read of `PIPE_BYTES` would map and unmap a megabyte each time


@dataclass(frozen=True, slots=True)
class _Ready:
    """The worker's export is made: the config loaded, the exporters created."""


@dataclass(frozen=True, slots=True)
class _Progress:
    tally: ReplayTally


@dataclass(frozen=True, slots=True)
class _Done:
    outcome: ReplayOutcome


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException
    trace: str  # the worker's traceback


class WorkerTraceback(Exception):
    """A worker's traceback, the cause of its error raised in the replaying process."""


class ReplayWorkers:
    """`count` workers, forked now: call it before any thread starts and before the heavy imports (they are
    what the first worker does). The first calls `open_export()`, which must start no thread, and forks the
    others; each starts the export's deliveries and exports the runs it is sent. `submit` and `finish` raise
    the first failure of a worker (its config error, a run it could not process)."""

    def __init__(self, count: int, open_export: Callable[[], ReplayExport]) -> None:
        sys.stdout.flush()  # a worker must not inherit, and then write, what this process has yet to write
        sys.stderr.flush()
        self._workers = _fork(count, open_export)
        self._of_app: dict[str | None, _Worker] = {}
        self._held: list[tuple[str | None, bytes]] = []  # (app, run) of apps with no worker yet, in the order read
        self._held_bytes = 0
        self._raised = False
        self.ready = False  # every worker has the export: the config is good

    @property
    def tally(self) -> ReplayTally:
        """The runs and spans the workers reported so far (each reports every `PROGRESS_INTERVAL_S` at most)."""
        total = ReplayTally()
        for worker in self._workers:
            total.add(worker.tally)
        return total

    def submit(self, run: WorkflowRun | ClosedRun) -> None:
        """The run built, on its way to its app's worker: written as far as the pipe takes it now, the rest kept
        (held, while the app has no worker yet). Built here, not in the worker: this process has a core to itself
        while the first worker imports (reading takes about half the CPU of those imports), and a built run
        crosses the pipe in fewer bytes (4.9 MB against 8.1 MB for the bench's 1,170 runs)."""
        message = frame(encode_run(run.build() if isinstance(run, ClosedRun) else run))
        worker = self._of_app.get(run.app_id)
        if worker is None and self.ready:
            worker = self._of_app[run.app_id] = min(self._workers, key=lambda each: each.work)
        if worker is None:
            self._held.append((run.app_id, message))
            self._held_bytes += len(message)
        else:
            worker.work += len(message) + RUN_COST_BYTES
            worker.unsent += message
        while True:
            for each in self._workers:
                each.write()
                each.read()
            self._raise_failure()
            self.ready = self.ready or all(each.ready for each in self._workers)
            if self._held and (self.ready or self._held_bytes > MAX_HELD_BYTES):
                self._share_held()
                continue
            if all(len(each.unsent) <= MAX_UNSENT_BYTES for each in self._workers):
                break
            self._wait()

    def _share_held(self) -> None:
        """The held runs' apps shared out, largest first, each to the worker with the least work; each worker is
        sent its runs in the order they were read."""
        work: Counter[str | None] = Counter()
        for app, message in self._held:
            work[app] += len(message) + RUN_COST_BYTES
        for app, size in work.most_common():  # ties in the order first read
            worker = self._of_app[app] = min(self._workers, key=lambda each: each.work)
            worker.work += size
        for app, message in self._held:
            self._of_app[app].unsent += message
        self._held.clear()
        self._held_bytes = 0

    def finish(self, timeout: float) -> ReplayOutcome:
        """Sends each worker what is left and the end of its runs; waits for every worker's answer (each waits
        up to `timeout` seconds for its exporters) and its exit."""
        while self._held and not self.ready and not any(worker.ended for worker in self._workers):
            self._wait()
            for worker in self._workers:
                worker.read()
            self.ready = all(worker.ready for worker in self._workers)
        if self._held:
            self._share_held()
        stop = frame(_STOP + _TIMEOUT.pack(timeout))
        for worker in self._workers:
            worker.unsent += stop
        while any(not worker.ended for worker in self._workers):
            self._wait()
            for worker in self._workers:
                worker.write()
                worker.read()
        for worker in self._workers:
            worker.close()
        self._raise_failure()
        if not self._raised and any(worker.done is None for worker in self._workers):
            raise RuntimeError("a replay worker exited before it answered: the runs it held may not have been exported")
        return ReplayOutcome.merged(worker.done for worker in self._workers if worker.done is not None)

    def _wait(self) -> None:
        """Until a worker's pipe takes more of its runs or it answers."""
        readable = [worker.answers for worker in self._workers if not worker.ended]
        writable = [worker.requests for worker in self._workers if worker.unsent and not worker.ended]
        select.select(readable, writable, [])

    def _raise_failure(self) -> None:
        failed = next((worker.failed for worker in self._workers if worker.failed), None)
        if failed is not None and not self._raised:
            self._raised = True
            raise failed.error from WorkerTraceback(failed.trace)


class _Worker:
    """One worker, as the replaying process sees it: the pipes its runs go down and its answers come back by,
    the runs its pipe has not taken yet, and what it answered. `pid`: the first worker's (the others are its)."""

    def __init__(self, pid: int | None, requests: int, answers: int) -> None:
        self.pid, self.requests, self.answers = pid, requests, answers
        self.unsent = bytearray()
        self.work = 0  # of the runs sent or to send: their bytes, plus `RUN_COST_BYTES` each
        self.frames = Frames()
        self.ready = False
        self.tally = ReplayTally()
        self.done: ReplayOutcome | None = None
        self.failed: _Failed | None = None
        self.ended = False  # its answers' pipe is closed: it exited

    def write(self) -> None:
        """What the pipe takes now of the runs not sent; none once the worker is gone (it said why, or will)."""
        try:
            while self.unsent:
                del self.unsent[: os.write(self.requests, self.unsent)]
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            self.unsent.clear()

    def read(self) -> None:
        """Its answers so far."""
        while not self.ended:
            try:
                data = os.read(self.answers, _ANSWER_BYTES)
            except BlockingIOError:
                return
            if not data:
                self.ended = True
                return
            for message in self.frames.feed(data):
                answer = pickle.loads(message)
                if isinstance(answer, _Ready):
                    self.ready = True
                elif isinstance(answer, _Progress):
                    self.tally = answer.tally
                elif isinstance(answer, _Done):
                    self.done = answer.outcome
                else:
                    self.failed = answer

    def close(self) -> None:
        os.close(self.requests)
        os.close(self.answers)
        if self.pid is not None:
            os.waitpid(self.pid, 0)


def _fork(count: int, open_export: Callable[[], ReplayExport]) -> list[_Worker]:
    """The first worker forked, with every worker's ends of the pipes; this process keeps the other ends."""
    pipes = [(*os.pipe(), *os.pipe()) for _ in range(count)]  # (runs read, runs written, answers read, written)
    for _, requests, _, _ in pipes:
        widen(requests)
    pid = os.fork()
    if pid == 0:
        for _, requests, answers, _ in pipes:
            os.close(requests)
            os.close(answers)
        _exit_after(partial(_lead, open_export, [(runs, answers) for runs, _, _, answers in pipes]))
    workers = []
    for index, (runs, requests, answers, written) in enumerate(pipes):
        os.close(runs)
        os.close(written)
        os.set_blocking(requests, False)
        os.set_blocking(answers, False)
        workers.append(_Worker(pid if index == 0 else None, requests, answers))
    return workers


def _lead(open_export: Callable[[], ReplayExport], ends: list[tuple[int, int]]) -> None:
    """The first worker: makes the export, forks the other workers with it, exports its own runs and waits for
    the others (their CPU is counted with this process's by whoever waits for it)."""
    # The imports and the config make about 76,000 objects that live until the exit: collections while they are
    # made would only look them over (about a tenth of the imports' CPU, which come before the first run).
    gc.disable()
    try:
        export = open_export()
    except Exception as error:
        _answer(ends[0][1], _failure(error))
        return
    finally:
        gc.freeze()  # what start-up loaded lives until the exit: out of the collector's sight, and not copied
        gc.enable()
    followers = []
    for index in range(1, len(ends)):
        pid = os.fork()
        if pid == 0:
            _keep_only(ends, index)
            _exit_after(partial(_export_runs, export, *ends[index]))
        followers.append(pid)
    _keep_only(ends, 0)
    try:
        _export_runs(export, *ends[0])
    finally:
        for pid in followers:
            os.waitpid(pid, 0)


def _keep_only(ends: list[tuple[int, int]], index: int) -> None:
    for other, (runs, answers) in enumerate(ends):
        if other != index:
            os.close(runs)
            os.close(answers)


def _exit_after(body: Callable[[], None]) -> NoReturn:
    """A worker process: never returns into the code it was forked from."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the replay stops its workers
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])  # the server's (bridge/__init__.py)
        body()
        code = 0
    except BaseException:  # the replaying process gone, say: it tells what it can of a worker that did not answer
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def _answer(answers: int, message: object) -> None:
    write_all(answers, frame(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)))


def _export_runs(export: ReplayExport, requests: int, answers: int) -> None:
    """Exports the runs it is sent until the end of its runs, then answers with the outcome."""
    _answer(answers, _Ready())
    export.start()
    frames, timeout, failure = Frames(), None, None
    reported = time.monotonic()
    try:
        while timeout is None:
            data = os.read(requests, PIPE_BYTES)
            if not data:  # the replaying process is gone: what it sent is still delivered
                break
            for message in frames.feed(data):
                if message[:1] == _STOP:
                    (timeout,) = _TIMEOUT.unpack_from(message, 1)
                    break
                export.submit(decode_run(message))
            if time.monotonic() - reported >= PROGRESS_INTERVAL_S:
                _answer(answers, _Progress(export.tally))
                reported = time.monotonic()
    except Exception as error:
        failure = _failure(error)
    outcome = export.finish(30.0 if timeout is None else timeout)
    _answer(answers, failure or _Done(outcome))


def _failure(error: Exception) -> _Failed:
    trace = traceback.format_exc()
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # an error that does not cross processes: its text does
        return _Failed(RuntimeError(f"{type(error).__name__}: {error}"), trace)
    return _Failed(error, trace)

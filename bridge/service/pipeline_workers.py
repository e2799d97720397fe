"""`service.workers`: runs built, processed and encoded in worker processes.

CPython runs one thread at a time per process, and a busy bridge spends about half of its time building
spans, running the processors and encoding OTLP. With `workers: N` that work runs in N processes beside
the server's own, which keeps receiving, checking, journaling and queueing: the bridge uses up to N + 1
cores. Runs of one app always go to the same worker, so the detectors' run-over-run history of an app stays
in one process. A worker that dies fails the runs it held (the receivers answer 503, nothing was taken)
and is started again for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
import traceback
import zlib
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from bridge import GC_YOUNG_THRESHOLD
from bridge.config.models import BridgeConfig
from bridge.dify.model import WorkflowRun
from bridge.dify.run_parts import ClosedRun
from bridge.management.baselines import FLUSH_INTERVAL_S, WriteBehindBaselines
from bridge.processors.detectors import DetectionProcessor
from bridge.queue.admission import Backpressure
from bridge.service.pipeline import Pipeline, Processed, process_run, processors_of
from bridge.service.worker_pipes import PIPE_BYTES, Frames, decode_run, encode_run, frame, widen, write_all
from bridge.service.worker_start import start
from bridge.trace.spans import SpanBuilder

logger = logging.getLogger(__name__)

# A worker that exited sooner than this after its start is started again only once this has passed.
RESTART_DELAY_S = 1.0


class WorkerLost(Backpressure):
    """A pipeline worker exited while it held this run: nothing was queued, so receivers answer as under
    backpressure (503 with Retry-After) and a retry is safe."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, "worker_unavailable", detail, retry_after=1.0)


@dataclass(frozen=True, slots=True)
class _Failed:
    """A run the worker could not build or process: the error, as text."""

    error: str


class PipelineWorkers:
    """`count` worker processes, each with the pipelines of `config` (`limits`: each pipeline's request size
    limit, which the server process knows from its exporters). With `store_baselines` the workers keep the
    detectors' history in the server's store, as the server does. With `loop` (the server's event loop, on
    which they are created) the workers' pipes are read and written on that loop: a run sent from it is
    answered there with no thread in between (about a tenth of the server's CPU per run); otherwise a thread per
    worker reads its answers.

    Workers are spawned: a fresh interpreter imports the bridge again (about half a second of CPU, with the
    command's compiled patterns: bridge/service/worker_start.py); a fork would copy none of the server's threads,
    and a lock one of them held would stay held in the worker."""

    def __init__(
        self,
        config: BridgeConfig,
        limits: dict[str, int | None],
        count: int,
        store_baselines: bool,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop
        self._workers = [_Worker(index, config, limits, store_baselines, loop) for index in range(count)]

    def process(self, run: WorkflowRun | ClosedRun) -> Processed:
        if self.answers_on_running_loop():
            raise RuntimeError("process() on the event loop that reads the answers would wait forever")
        return self.submit(run).result()

    def answers_on_running_loop(self) -> bool:
        """Whether the caller is on the loop the answers are read on (`process_async` needs no thread)."""
        return self._loop is not None and _running_loop() is self._loop

    async def process_async(self, run: WorkflowRun | ClosedRun) -> Processed:
        if self.answers_on_running_loop():
            return await self._pick(run).send_on_loop(run)
        return await asyncio.wrap_future(self.submit(run))

    def submit(self, run: WorkflowRun | ClosedRun) -> Future[Processed]:
        """The run sent to its worker; its trace, once built, processed and encoded there, is the future's."""
        return self._pick(run).submit(run)

    def _pick(self, run: WorkflowRun | ClosedRun) -> _Worker:
        return self._workers[zlib.crc32((run.app_id or "").encode()) % len(self._workers)]

    def close(self, timeout: float = 5.0) -> None:
        """Lets each worker finish what it holds (up to `timeout` seconds), then stops it."""
        for worker in self._workers:
            worker.close(timeout)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _Worker:
    """One worker slot: its current process, started again after it dies.

    Runs are answered in the order they were written. Without a loop, a run is written by its caller, blocking
    while the pipe is full, and a thread reads the answers. With one, everything on the pipes happens on the
    loop: runs are written without blocking (what the pipe cannot take waits for the loop's writer), answers
    are read as they come; callers on other threads hand their runs to the loop. A loop blocked writing could
    not read the answers that let the worker go on: both pipes would stay full."""

    def __init__(
        self,
        index: int,
        config: BridgeConfig,
        limits: dict[str, int | None],
        store_baselines: bool,
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self._args = (config, limits, store_baselines)
        self._name = f"pipeline-worker-{index}"
        self._loop = loop
        self._lock = threading.Lock()  # the current process and its waiting runs
        # Held while a run is written (without a loop): runs wait in the order they are written. Not `_lock`,
        # which the answers' reader needs: a writer blocked on a full pipe must not stop the answers that
        # would empty it.
        self._send_lock = threading.Lock()
        self._current: _Process | None = None
        with self._lock:
            self._start()

    def _start(self) -> _Process:
        """A new process (the caller holds the lock), spawned (see `PipelineWorkers`)."""
        context = multiprocessing.get_context("spawn")
        requests_out, requests_in = context.Pipe(duplex=False)
        answers_out, answers_in = context.Pipe(duplex=False)
        for end in (requests_in, answers_out):
            widen(end.fileno())
        # `work` goes pickled with its arguments (by name: unpickling imports this module), so that worker_start
        # imports nothing of the worker before the compiled patterns are in place.
        arguments = pickle.dumps((work, *self._args), protocol=pickle.HIGHEST_PROTOCOL)
        process = context.Process(
            target=start, args=(arguments, requests_out, answers_in), name=self._name, daemon=True
        )
        # Ctrl-C reaches the whole process group: a child still importing would print a KeyboardInterrupt
        # traceback. Started with SIGINT ignored, a setting it keeps (only the main thread may change it; the
        # server starts its workers there, and a restart later comes long after any Ctrl-C at start).
        main_thread = threading.current_thread() is threading.main_thread()
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
        try:
            process.start()
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, handler)
        requests_out.close()
        answers_in.close()
        current = self._current = _Process(process, requests_in, answers_out)
        if self._loop is None:
            threading.Thread(target=self._read, args=(current,), name=f"{self._name}-answers", daemon=True).start()
        else:
            os.set_blocking(requests_in.fileno(), False)
            os.set_blocking(answers_out.fileno(), False)
            self._loop.call_soon_threadsafe(self._loop.add_reader, answers_out.fileno(), self._readable, current)
        return current

    def _current_or_new(self) -> _Process | None:
        """The process to take a run (the caller holds the lock); None if one that died as it started would
        have to be started again this soon."""
        current = self._current
        if current is None or current.lost or not current.process.is_alive():
            if current is not None and time.monotonic() - current.started < RESTART_DELAY_S:
                return None  # one that dies as it starts is not started again for every run
            current = self._start()
        return current

    def _just_died(self) -> WorkerLost:
        return WorkerLost(f"{self._name} exited just after it started; it is started again shortly")

    def submit(self, run: WorkflowRun | ClosedRun) -> Future[Processed]:
        """The run written to the process; a process that cannot take it fails the future (`WorkerLost`)."""
        message = frame(encode_run(run))
        future: Future[Processed] = Future()
        # Running: a caller that gives up (an awaiting request cancelled) cannot cancel it, so the answer
        # always has a place to go and the next answers still reach theirs.
        future.set_running_or_notify_cancel()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._send, message, future)
            return future
        with self._send_lock:
            with self._lock:
                current = self._current_or_new()
                if current is None:
                    future.set_exception(self._just_died())
                    return future
                current.pending.append(future)  # in the order the process will answer
            try:
                write_all(current.requests.fileno(), message)
            except OSError as exc:
                with self._lock:
                    if future in current.pending:
                        current.pending.remove(future)
                future.set_exception(WorkerLost(f"{self._name} cannot be reached: {exc}"))
        return future

    async def send_on_loop(self, run: WorkflowRun | ClosedRun) -> Processed:
        """`submit` from the loop itself: the answer resolves the awaiting request directly."""
        assert self._loop is not None
        future: asyncio.Future[Processed] = self._loop.create_future()
        self._send(frame(encode_run(run)), future)
        return await future

    def _send(self, message: bytes, future: Future[Processed] | asyncio.Future[Processed]) -> None:
        """On the loop: a run for the process, its answer to go to `future`."""
        with self._lock:
            current = self._current_or_new()
            if current is None:
                future.set_exception(self._just_died())
                return
            current.pending.append(future)
        self._put(current, message)

    def _put(self, current: _Process, message: bytes) -> None:
        """On the loop: `message` queued for `current`, written as far as the pipe takes it now."""
        if not current.lost:
            current.unsent += message
            self._write(current)

    def _write(self, current: _Process) -> None:
        """On the loop: what the pipe takes now; the loop calls again once it takes more."""
        assert self._loop is not None
        fd = current.requests.fileno()
        try:
            while current.unsent:
                del current.unsent[: os.write(fd, current.unsent)]
        except BlockingIOError:
            if not current.writing:
                self._loop.add_writer(fd, self._write, current)
                current.writing = True
            return
        except OSError:  # the process is gone: its reader fails what it held
            current.unsent.clear()
        if current.writing:
            self._loop.remove_writer(fd)
            current.writing = False

    def _readable(self, current: _Process) -> None:
        """On the loop: the answers the pipe holds, each to the run waiting for it."""
        assert self._loop is not None
        fd = current.answers.fileno()
        try:
            data = os.read(fd, PIPE_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            for message in current.frames.feed(data):
                self._answered(current, message)
            return
        self._loop.remove_reader(fd)
        if current.writing:
            self._loop.remove_writer(current.requests.fileno())
        current.requests.close()  # only the loop writes to it
        self._lost(current, wait=0.0)  # the loop does not wait for the exit: its code is logged if known

    def _read(self, current: _Process) -> None:
        """A thread's loop: hands each answer to the run waiting for it; fails the rest when the process exits."""
        fd = current.answers.fileno()
        while True:
            try:
                data = os.read(fd, PIPE_BYTES)
            except OSError:
                break
            if not data:
                break
            for message in current.frames.feed(data):
                self._answered(current, message)
        self._lost(current, wait=1.0)

    def _answered(self, current: _Process, message: bytes) -> None:
        answer = pickle.loads(message)
        with self._lock:
            future = current.pending.popleft()
        if future.done():  # a request awaiting on the loop was cancelled (its client went away)
            return
        if isinstance(answer, _Failed):
            future.set_exception(RuntimeError(f"{self._name}: {answer.error}"))
        else:
            future.set_result(answer)

    def _lost(self, current: _Process, wait: float) -> None:
        current.answers.close()
        current.process.join(wait)
        with self._lock:
            current.lost = True
            lost, current.pending = list(current.pending), deque()
        code = current.process.exitcode
        if lost:
            logger.error("%s exited (code %s) holding %d runs; they were not taken", self._name, code, len(lost))
        for future in lost:
            if not future.done():
                future.set_exception(WorkerLost(f"{self._name} exited (code {code}) before this run was built"))

    def close(self, timeout: float) -> None:
        with self._lock:
            current, self._current = self._current, None
        if current is None:
            return
        stop = frame(b"")  # stop after what is queued
        if self._loop is None:
            with contextlib.suppress(OSError):
                write_all(current.requests.fileno(), stop)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._put, current, stop)
        current.process.join(timeout)
        if current.process.is_alive():
            current.process.terminate()
            current.process.join(1)
        if self._loop is None:
            current.requests.close()


class _Process:
    """A started worker process, the pipes its runs go down and its answers come back by, and the runs
    waiting for its answers."""

    def __init__(self, process: BaseProcess, requests: Connection, answers: Connection) -> None:
        self.process, self.requests, self.answers = process, requests, answers
        self.pending: deque[Future[Processed] | asyncio.Future[Processed]] = deque()
        self.lost = False
        self.started = time.monotonic()
        self.unsent = bytearray()  # with a loop: runs the pipe has not taken yet
        self.writing = False  # with a loop: the loop's writer waits for room in the pipe
        self.frames = Frames()  # answers read in part


def work(
    config: BridgeConfig,
    limits: dict[str, int | None],
    store_baselines: bool,
    requests: Connection,
    answers: Connection,
) -> None:
    """A worker process: builds, processes and encodes each run it is sent, answering in order, until an empty
    message (or the server's end) stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the server stops its workers
    builder = SpanBuilder(config.service.resource)
    pipelines = [
        Pipeline(name, processors_of(config, spec)[0], spec.exporters, spec.receivers, limits[name])
        for name, spec in config.pipelines.items()
    ]
    baselines = None
    if store_baselines:
        # Imported here: the store imports cryptography, which a worker without the store's baselines need not load.
        from bridge.management.store import Store, load_fernet

        baselines = WriteBehindBaselines(Store(config.server.store, load_fernet(config.server)))
        for pipeline in pipelines:
            for processor in pipeline.processors:
                if isinstance(processor, DetectionProcessor):
                    processor.baselines = baselines
    gc.collect()  # what start-up loaded lives until the exit: out of the collector's sight
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    next_flush = time.monotonic() + FLUSH_INTERVAL_S
    frames, ready = Frames(), deque[bytes]()
    try:
        while True:
            if not ready and requests.poll(max(next_flush - time.monotonic(), 0.0)):
                data = os.read(requests.fileno(), PIPE_BYTES)
                if not data:
                    break  # the server's end
                ready.extend(frames.feed(data))
            while ready:
                message = ready.popleft()
                if not message:
                    return
                answer = pickle.dumps(_answer(builder, pipelines, message), protocol=pickle.HIGHEST_PROTOCOL)
                write_all(answers.fileno(), frame(answer))
            if time.monotonic() >= next_flush:
                if baselines is not None:
                    baselines.flush()
                next_flush = time.monotonic() + FLUSH_INTERVAL_S
    finally:
        if baselines is not None:
            baselines.flush()


def _answer(builder: SpanBuilder, pipelines: list[Pipeline], message: bytes) -> Processed | _Failed:
    run: WorkflowRun | ClosedRun | None = None
    try:
        run = decode_run(message)  # a field of the wrong type fails here (msgpack is read typed), not in building
        return process_run(builder, pipelines, run)
    except Exception:  # the server logs it, with this traceback, as it would its own failure to build the run
        name = "(unreadable)" if run is None else run.run_id
        return _Failed(f"run {name} could not be built in the worker:\n{traceback.format_exc()}")

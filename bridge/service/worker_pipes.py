"""Runs to worker processes and their answers back, over pipes: how a run is encoded, and the frames messages
cross a pipe in. Imports only the run model, so that a process that only reads and sends runs (`replay`'s)
need not load the exporters or the processors."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import struct

import msgspec

from bridge.dify.model import WorkflowRun
from bridge.dify.run_parts import ClosedRun

PIPE_BYTES = 1 << 20  # runs waiting for a busy worker (and its answers) sit in pipes; Linux's default: 64 KiB
_SET_PIPE_SIZE = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only


def widen(fd: int) -> None:
    """The pipe of `fd` made to hold `PIPE_BYTES`, where the system allows it."""
    if _SET_PIPE_SIZE is not None:
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: the default stays
            fcntl.fcntl(fd, _SET_PIPE_SIZE, PIPE_BYTES)


# A run goes to its worker as typed msgpack, made and read in C (a 10-node run: 2 and 4 µs, where pickle
# took 7-15 and 6-12 in two measurements; an assembled stream run's parts, `ClosedRun`: 2.6 and 10 µs against
# pickle's 20 and 21, the dataclasses' pickling going through Python); what msgpack cannot carry (integers past
# 64 bits) goes pickled. The first byte says which.
_WHOLE, _CLOSED, _PICKLE = b"m", b"c", b"p"
_RUN_ENCODER = msgspec.msgpack.Encoder()
_WHOLE_DECODER = msgspec.msgpack.Decoder(WorkflowRun)
_CLOSED_DECODER = msgspec.msgpack.Decoder(ClosedRun)


def encode_run(run: WorkflowRun | ClosedRun) -> bytes:
    with contextlib.suppress(OverflowError):
        return (_WHOLE if isinstance(run, WorkflowRun) else _CLOSED) + _RUN_ENCODER.encode(run)
    return _PICKLE + pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)


def decode_run(message: bytes) -> WorkflowRun | ClosedRun:
    kind, body = message[:1], memoryview(message)[1:]
    if kind == _WHOLE:
        return _WHOLE_DECODER.decode(body)
    if kind == _CLOSED:
        return _CLOSED_DECODER.decode(body)
    run: WorkflowRun | ClosedRun = pickle.loads(body)
    return run


# Messages cross the pipes as frames: an 8-byte length, then the message. Written whole by a blocking writer, or
# piece by piece by one that must not block.
_LENGTH = struct.Struct("!Q")


def frame(message: bytes) -> bytes:
    return _LENGTH.pack(len(message)) + message


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Frames:
    """The messages in a stream of frames, however the pipe cuts it."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        messages, start = [], 0
        with memoryview(buffer) as view:  # one copy per message; released before the buffer is cut
            while len(buffer) - start >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(view, start)
                end = start + _LENGTH.size + size
                if len(buffer) < end:
                    break
                messages.append(bytes(view[start + _LENGTH.size : end]))
                start = end
        del buffer[:start]
        return messages

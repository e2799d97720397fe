"""Files of Dify run data → runs, for `dify-otel-bridge replay` and the examples.

Every input format and shape is accepted and auto-detected per file (or forced with `fmt`). Stream
events are assembled into runs; whole-run payloads pass straight through. Bad records are reported
with file, line and field, and the rest of the file still goes on.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from bridge.dify.assembly import RunAssembler
from bridge.dify.formats import Format, InputError, Record, detect_format, iter_records
from bridge.dify.model import WorkflowRun
from bridge.dify.normalize import classify, normalize_event, parse_event_json
from bridge.dify.run_parts import ClosedRun
from bridge.dify.run_results import normalize_blocking, normalize_logs, normalize_message, normalize_run_detail
from bridge.dify.webhook_payload import normalize_webhook

logger = logging.getLogger(__name__)

# A YAML mapping's first key (`app:`, `kind: app`, `receivers:`) at the start of a line, a comment or blank lines
# before it; SSE's own field names (`event: ping`, `data: {...}`) are not one.
_YAML_KEY = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*(?!(?:data|event|id|retry):)[A-Za-z_][\w.-]*:(?:[ \t]|\n|$)")
_DSL_KIND = re.compile(r"^kind:[ \t]*app[ \t]*$", re.MULTILINE)


def _not_run_data(text: str) -> str | None:
    """Why a whole file is no run data, for the YAML files given by mistake (else `None`): an error per line
    saying "invalid JSON" named neither the file's kind nor what to give instead."""
    if not _YAML_KEY.match(text):
        return None
    if _DSL_KIND.search(text):
        return (
            "a Dify app DSL (YAML), not run data: run the app and replay its run's stream (the body of"
            " `response_mode: streaming`), or send its runs to a running bridge (docs/getting-runs-in.md)"
        )
    return "a YAML file, not Dify run data (a bridge config goes after --config)"


def _records(text: str, source: str, fmt: Format | None) -> Iterator[Record | InputError]:
    """The file's records; a file that is not of a forced `fmt` at all gets one error saying what it reads as,
    not one per line."""
    records = iter_records(text, source, fmt, parse_event_json)
    first = next(records, None)
    if fmt and isinstance(first, InputError) and (detected := detect_format(text)) != fmt:
        reason = f"not {fmt.upper()} ({first.reason}): the file reads as {detected.upper()}"
        yield InputError(source, first.line, "", f"{reason}; give --format {detected}, or no --format")
        return
    if first is not None:
        yield first
    yield from records


# Replay has no wall clock: time is counted in records read. A run is handed out once this many
# records have passed since its terminal event, so stragglers still join it while memory stays bounded.
TERMINAL_WAIT_RECORDS = 1000


def _records_to_runs(
    text: str, source: str, fmt: Format | None, assembler: RunAssembler, clock: list[int]
) -> Iterator[WorkflowRun | ClosedRun | InputError]:
    for record in _records(text, source, fmt):
        if isinstance(record, InputError):
            yield record
            continue
        clock[0] += 1
        try:
            shape = classify(record.obj)
            if shape == "event":
                assembler.add(normalize_event(record.obj, source, record.line, record.sse_event), clock[0], source)
                for parts in assembler.due_parts(clock[0]):
                    yield ClosedRun(parts)
            elif shape == "webhook":
                yield normalize_webhook(record.obj, source, record.line)
            elif shape == "blocking":
                yield normalize_blocking(record.obj, source, record.line)
            elif shape == "message":
                yield normalize_message(record.obj, source, record.line)
            elif shape == "run_detail":
                yield normalize_run_detail(record.obj, source, record.line)
            elif shape == "logs":
                yield from normalize_logs(record.obj, source, record.line)
            else:
                raise InputError(source, record.line, "", _not_dify(record.obj))
        except InputError as exc:
            yield exc if record.position is None else _in_array(exc, record.position)


def _not_dify(obj: object) -> str:
    """Why a record is refused; an OTLP/JSON trace (the `file` exporter's lines) is named, with the way it goes in."""
    if isinstance(obj, dict) and ("resourceSpans" in obj or "resource_spans" in obj):
        return "an OTLP/JSON trace, not Dify run data: POST it to a running bridge's /v1/traces (the otlp receiver)"
    if isinstance(obj, dict) and "body_base64" in obj and str(obj.get("path", "")).endswith("/v1/traces"):
        # tests/testdata/dify-1.14.1-otlp*/'s recordings, which the docs point to, refused line by line before.
        return (
            "a recorded request of Dify's tracing export, not Dify run data: send its body to a running bridge's"
            " /v1/traces (docs/getting-runs-in.md, section 1, shows how)"
        )
    return "not a Dify event, run, webhook payload or log page"


def _other_unicode(path: str, raw: bytes) -> InputError | None:
    """A UTF-16 or UTF-32 file (PowerShell's `>` writes UTF-16), named by its byte order mark or the NULs among its
    first bytes: without a mark, UTF-16 is valid UTF-8 and was "invalid JSON" at column 2; UTF-32 was "UTF-16"."""
    encoding = json.detect_encoding(raw)
    if encoding.startswith("utf-8"):
        return None
    hint = " (PowerShell's `>` writes it)" if encoding.startswith("utf-16") else ""
    return InputError(path, 1, "", f"the file is {encoding.upper()}{hint}: save it as UTF-8")


def _not_utf8(path: str, raw: bytes, start: int) -> InputError:
    """Where the file stops being UTF-8."""
    line = raw.count(b"\n", 0, start) + 1
    return InputError(path, line, "", f"not UTF-8: byte {raw[start]:#04x} at offset {start}")


def _in_array(error: InputError, index: int) -> InputError:
    """The error with the record's place in its JSON array before the field: `[2].status`, `[2]`."""
    return InputError(
        error.source, error.line, f"[{index}].{error.field}" if error.field else f"[{index}]", error.reason
    )


def _device(fd: int) -> str | None:
    """What a device is, unless it is a terminal (`replay /dev/stdin` typed in). A file linked to `/dev/zero` or
    `/dev/urandom` was read until memory ran out; pipes and FIFOs stay readable (`replay <(zcat runs.sse.gz)`)."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISCHR(mode) and not os.isatty(fd):
        return "a character device"
    return None


# No receiver takes a body over 20 MiB (the otlp receiver's default `max_body_bytes`); a line past this is no run
# data and was held whole with its decoded copy (a 300 MB line took 1.2 GB before its error).
LINE_MAX_BYTES = 64 * 1024 * 1024
_CHUNK_BYTES = 1024 * 1024


def _read_lines(handle: BinaryIO, path: str) -> tuple[bytes, list[InputError]]:
    """The file's bytes with each line over `LINE_MAX_BYTES` left out (kept empty, so the lines after keep their
    numbers), and an error naming each: memory stays within the cap and a chunk, whatever the line. Only the line
    a chunk starts in can pass the cap: the lines within a chunk are shorter than it."""
    kept: list[bytes] = []
    errors: list[InputError] = []
    line, length, line_from, skipping = 1, 0, 0, False  # the line read on: number, length, first piece, left out
    while chunk := handle.read(_CHUNK_BYTES):
        first = chunk.find(b"\n")
        length += len(chunk) if first < 0 else first + 1
        if not skipping and length > LINE_MAX_BYTES:
            del kept[line_from:]
            skipping = True
            errors.append(InputError(path, line, "", f"the line is longer than {LINE_MAX_BYTES} bytes: left out"))
        if first < 0:
            if not skipping:
                kept.append(chunk)
            continue
        kept.append(b"\n" if skipping else chunk[: first + 1])
        last = chunk.rfind(b"\n")
        kept.append(chunk[first + 1 : last + 1])
        line, length, line_from, skipping = line + chunk.count(b"\n"), len(chunk) - last - 1, len(kept), False
        kept.append(chunk[last + 1 :])
    return b"".join(kept), errors


def read_runs(paths: Iterable[str], fmt: Format | None = None) -> Iterator[WorkflowRun | InputError]:
    """Runs and errors from `paths`, in input order; runs left open at the end are closed as incomplete."""
    for item in read_closed_runs(paths, fmt):
        yield item.build() if isinstance(item, ClosedRun) else item


def read_closed_runs(paths: Iterable[str], fmt: Format | None = None) -> Iterator[WorkflowRun | ClosedRun | InputError]:
    """`read_runs`, with the runs assembled from stream events not built yet (`ClosedRun`): `replay` builds them
    where it builds their traces (a pipeline worker)."""
    assembler = RunAssembler(idle_timeout=math.inf, terminal_wait=TERMINAL_WAIT_RECORDS)
    clock = [0]
    for path in paths:
        try:
            with open(path, "rb") as handle:
                if device := _device(handle.fileno()):
                    yield InputError(path, 0, "", f"cannot read: {device}, not a file")
                    continue
                raw, too_long = _read_lines(handle, path)
            yield from too_long
            if other := _other_unicode(path, raw):
                yield other
                continue
            # utf-8-sig: a file saved by a Windows editor starts with a BOM, which no format's first record has.
            text = raw.decode("utf-8-sig")
        except OSError as exc:
            yield InputError(path, 0, "", f"cannot read: {exc.strerror}")
            continue
        except UnicodeDecodeError as exc:
            yield _not_utf8(path, raw, exc.start)
            continue
        if not text.strip():
            yield InputError(path, 0, "", "the file is empty: no Dify run data")
            continue
        if why := _not_run_data(text):
            yield InputError(path, 1, "", why)
            continue
        yield from _records_to_runs(text, path, fmt, assembler, clock)
    for parts in assembler.drain_parts():
        yield ClosedRun(parts)
    if assembler.dropped_orphans:  # only events before a file's first run can have none
        logger.warning("dropped %d events with no run or task to attach them to", assembler.dropped_orphans)

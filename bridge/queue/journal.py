"""Stream events ⇄ journal rows: an event is written before its receiver answers, and read back into the
assembler at the next start, so a run half received when the bridge stopped is finished after it."""

from __future__ import annotations

import json

import msgspec
from msgspec.structs import asdict

from bridge.dify.formats import read_integer
from bridge.dify.model import DifyEvent
from bridge.dify.run_parts import pack
from bridge.queue.rows import JournalRow


class _Envelope(msgspec.Struct):
    """A `DifyEvent`'s fields but its data, in its order: written by msgspec straight from the struct (a dict
    copied out of the event and written by orjson cost 1.3-1.7 times as much a row)."""

    event: str
    workflow_run_id: str | None
    task_id: str | None
    conversation_id: str | None
    message_id: str | None
    created_at: float | None
    source: str
    line: int
    app_id: str | None


_encode = msgspec.json.Encoder().encode


def to_row(row_id: int, event: DifyEvent, received_at: float, context: str | None, receiver: str) -> JournalRow:
    if event.packed is None:
        # Written as the assembler packs event data (NaN as null), so a resumed run is the run it would have been.
        fields = asdict(event)
        del fields["packed"]
        document = pack(fields)
    else:  # the data as it came, never parsed: spliced in, not written again
        envelope = _encode(
            _Envelope(
                event.event,
                event.workflow_run_id,
                event.task_id,
                event.conversation_id,
                event.message_id,
                event.created_at,
                event.source,
                event.line,
                event.app_id,
            )
        )
        document = b"".join((b'{"data":', event.packed, b",", memoryview(envelope)[1:]))
    return JournalRow(row_id, received_at, context, receiver, document.decode())


def event_of(row: JournalRow) -> DifyEvent:
    # Data kept as it came may hold an integer Python does not read (past 4,300 digits): such a row stopped
    # every later start ("Application startup failed").
    return DifyEvent(**json.loads(row.event, parse_int=read_integer))

"""Stream events ⇄ journal rows: an event is written before its receiver answers, and read back into the
assembler at the next start, so a run half received when the bridge stopped is finished after it."""

from __future__ import annotations

import json

from msgspec.structs import asdict

from bridge.dify.model import DifyEvent
from bridge.dify.run_parts import pack
from bridge.queue.storage import JournalRow


def to_row(row_id: int, event: DifyEvent, received_at: float, context: str | None, receiver: str) -> JournalRow:
    # Written as the assembler packs event data (NaN as null), so a resumed run is the run it would have been.
    fields = asdict(event)  # a shallow copy
    del fields["packed"]
    if event.packed is None:
        document = pack(fields)
    else:  # the data as it came, never parsed: spliced in, not written again
        del fields["data"]
        document = b'{"data":' + event.packed + b"," + pack(fields)[1:]
    return JournalRow(row_id, received_at, context, receiver, document.decode())


def event_of(row: JournalRow) -> DifyEvent:
    return DifyEvent(**json.loads(row.event))

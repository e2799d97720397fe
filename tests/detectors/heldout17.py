"""The seventeenth held-out corpus: one simulated operations day of six apps on a real Dify API 1.14.1, every run
recorded two ways in.

**The process** (new: a day of service, not batches). A real Dify API 1.14.1 (upstream commit bb73776, graphon
0.3.1) was stood up on 127.0.0.1 with the kit of `shared/real-dify/`, extended once
(`testdata/heldout17/kit-h17.diff`, on top of held-out 16's extension: six new apps built through the console API,
their upstream APIs in the mock, an operations-day plan and a recorder that plays it). Before anything ran,
`plan17.py` fixed an operator TIMELINE for Tuesday 8 December 2026, 08:00-17:00 (nine epochs, a tenth added after
checking, see the README: API deploys and rollbacks, a leaking API, a cursor bug, a flood that ignores `limit`, an
outage answered by default values, flaky 503s, two republishes of one app on other models and their put-backs, a
forged notice uploaded into the knowledge base and later deleted, a lunch spike of pasted documents, a confused
resident) and a seeded POPULATION of users per app, each with a wording habit (terse, chatty, typos,
code-switching). Each run has a clock time, a user and every scripted model call; the timeline's state at that time
and the call's plan give its labels. The recorder played the day epoch by epoch: at each epoch's start it made the
operator's changes for real (the mock's modes, republishes through the console API, the dataset API's upload and
delete), then sent the six apps' runs interleaved in clock order (four at a time, a conversation's turns in order on
one `conversation_id`), so a fault lasts as long as the timeline says.

Dify's tracing was set to its "Arize Phoenix" provider pointed at the kit's `record_otlp.py`, so for every run
`testdata/heldout17/APP.jsonl.gz` keeps held-out 16's line format: the service API's stream (`sse`, byte for byte)
and the OTLP/HTTP protobuf requests Dify's Celery worker (`ops_trace`) sent for it (`otlp`; `null` where none
arrived). `testdata/heldout17/timeline.jsonl.gz` gives every run's epoch, clock time, user and wording habit.

Stood in: the model (the kit's provider answers what the plan scripted for that call: the answer text, the
classifier's pick, the extractor's arguments, a failed call; token counts are words and punctuation, prices
gpt-4o-mini's, gpt-4.1-nano's or gpt-4o's), the code sandbox (python3 unsandboxed), the upstream APIs
(`h17_mock.py` in the diff). Everything else is Dify's own code: retries, error strategies, the keyword index.

**The apps** (languages and domains no earlier set used, some English, Spanish or Russian mixed in):
- `zh_wuliu` (Traditional Chinese, Taiwan; chatflow): a parcel carrier's chat. Parameter extractor (tracking
  number) -> assigner (conversation var `danhao`) -> HTTP GET (1 retry, error strategy fail-branch -> template ->
  Answer) -> code -> LLM with memory -> Answer; conversations of one to six turns.
- `bn_krishi` (Bengali; workflow): a farm helpline. HTTP GET plots (limit 4, 1 retry) -> code -> iteration
  (sequential, continue-on-error) of an LLM per plot -> template -> LLM -> End with three outputs.
- `sk_kniznica` (Slovak; workflow): a library account. Loop (at most 5 rounds, break on the last page: HTTP GET by
  cursor (1 retry) -> code -> assigner of four loop variables) -> if/else -> LLM | LLM -> aggregator -> End.
- `eu_udala` (Basque, some Spanish; chatflow): a town hall's help desk. Knowledge retrieval (economy keyword index,
  seven documents through the dataset API: among them security advice, a "sistema ezarpenak" page and a staff-only
  note; a forged notice uploaded at 11:35 and deleted at 14:30) -> LLM with the context and memory -> assigner
  (conversation var `gaia`) -> Answer.
- `cy_cyngor` (Welsh, some English; workflow): a council's request desk. Question classifier (3 classes) -> HTTP
  GET bins calendar (2 retries, error strategy default value) -> LLM | LLM | LLM -> aggregator -> End with two outputs.
- `kk_shot` (Kazakh, some Russian; workflow): a utility bill check. In parallel: an LLM answering JSON (the bill's
  figures) parsed by a code node, and an HTTP GET tariff (1 retry, error strategy default value); joined at a code
  node -> LLM -> End with three outputs.

**Labels** were planned with each run before it ran and checked against the recording (`testdata/heldout17/
LABELLING.md`: the timeline and conventions, written before recording; `README.md`: the counts and every label a
check changed). In short: a loop stuck in identical rounds is `loop` and `dify_iteration_escape`, one cycling
between two cursors `loop` alone, a 503 retried then answered clean; a renamed field read as its default that
reaches the answer is `dify_tool_schema_mismatch` and `state_corruption`; `dify_rag_poisoning` needs the forged
notice retrieved and obeyed; `cost` is measured (5x the app's median run); the business's own phone and the user's
own data are clean; hard negatives are `APP-hn-WHAT-NNN`.

553 runs, every one with its export: 371 clean (67.1 %; 67 hard negatives), 182 with a fault (46 with two labels),
51 later turns of a conversation; per label from 6 (`context_overflow`) and 10 (`dify_classifier_drift`) to 41
(`state_corruption`); `testdata/heldout17/README.md` has every count. Both readings give the same run id and node
count for every run (tests/detectors/test_heldout16.py).

Loading is deterministic. `corpus` and `export_corpus` give the runs in the day's clock order, the six apps
interleaved as Dify served them (each app's five warm-up runs come before its other runs), so one processor fed
in this order sees what a bridge would have seen that day; `seed` changes nothing (the other corpora's signature).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.detectors.heldout16 import (  # held-out 16's line format, read the same way
    DETECTORS,
    Recorded,
    RecordedCorpus,
    exported_spans,
    kind_of,
    spans_of,
)  # fmt: skip

__all__ = [
    "APPS", "CHATFLOWS", "DETECTORS", "SEED", "Recorded", "available", "corpus", "day", "export_corpus",
    "exported_spans", "kind_of", "recorded", "spans_of",
]  # fmt: skip

TESTDATA = Path(__file__).parent / "testdata" / "heldout17"
APPS = ("zh_wuliu", "bn_krishi", "sk_kniznica", "eu_udala", "cy_cyngor", "kk_shot")
CHATFLOWS = ("zh_wuliu", "eu_udala")
SEED = 17


class _Day(RecordedCorpus):
    """Held-out 17 is fed in the day's clock order, the apps interleaved (an app's own order kept on a tie)."""

    def runs(self) -> Iterator[Recorded]:
        return iter(day())


RECORDED = _Day(TESTDATA, APPS)
available, recorded = RECORDED.available, RECORDED.recorded
corpus, export_corpus = RECORDED.corpus, RECORDED.export_corpus


@cache
def clock() -> dict[str, str]:
    """Every run's clock time that day (HH:MM:SS), by name, from timeline.jsonl.gz."""
    with gzip.open(TESTDATA / "timeline.jsonl.gz", "rt", encoding="utf-8") as f:
        return {line["name"]: line["clock"] for line in map(json.loads, f)}


def day() -> list[Recorded]:
    """Every recorded run in the day's clock order, the apps interleaved (an app's own order kept on a tie)."""
    runs = [(clock()[run["name"]], i, run) for app in available() for i, run in enumerate(recorded(app))]
    return [run for _, _, run in sorted(runs, key=lambda x: (x[0], x[1]))]

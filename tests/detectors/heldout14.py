"""The fourteenth held-out corpus: every stream recorded from a real Dify API 1.14.1, at scale.

**The process** (different from every earlier held-out's: no stream here was written or edited in Python). A real
Dify API 1.14.1 (upstream commit bb73776, graphon 0.3.1) was stood up on 127.0.0.1 with the kit of
`shared/real-dify/` and its stand-ins as the six `kit-faults*.diff` of tests/testdata/dify-1.14.1-faults*/ extend
them, then extended again (`testdata/heldout14/kit-h14.diff`: six new apps built through the console API, their
upstream APIs in the mock, a recorder running each app's requests in batches of six at a time). Every event in
`testdata/heldout14/APP.jsonl.gz` is what Dify's engine streamed (service API, `response_mode: streaming`), byte for
byte: routes, retries, rounds, retrieved chunks, code outputs, statuses, tokens and prices. Stood in: the model (the
kit's provider answers what the recorder scripted for that run: the answer text, the classifier's pick, the
extractor's arguments, a failed call; its token counts are words and punctuation, its prices gpt-4o-mini's,
gpt-4.1-nano's or gpt-4o's), the code sandbox (python3 unsandboxed) and the upstream APIs (`h14_mock.py` in the diff).
Faults were made by real means: a republish on another model, the mock API's answers changed (a field renamed or
nested, a flood of items, a cursor that never moves, another guest's or the full customer record), a poisoned
notice uploaded into the knowledge base after the warm-up and retrieved by Dify's keyword index, a scripted answer
that obeys it, leaks data, invents figures, advertises, misfiles, or repeats itself; a pasted document past the
context window; a failed model call inside an iteration round.

**The apps** (each app's runs in recording order: 10 warm-up runs, then its main batch of clean runs, hard negatives
and scripted faults, then one batch per upstream mode, then its model republishes):
- `el_hotel` (Greek; a few requests in English): guest requests of a Naxos hotel. Question classifier (4 classes) ->
  housekeeping: HTTP POST (1 retry) -> code -> LLM; other classes: LLM with the hotel's facts -> variable aggregator
  -> End.
- `pt_bilhete` (Portuguese): a transit card top-up. Parameter extractor (function call: card, amount) -> if-else
  (amount > 0) -> HTTP POST (1 retry) -> code -> template -> LLM | LLM asking for the amount -> aggregator -> End.
- `ko_moto` (Korean): a motorbike service centre's free slots. Loop (at most 6 rounds, break at 2 slots found or the
  last page: HTTP GET by cursor (1 retry) -> code -> variable assigner of four loop variables) -> LLM -> End.
- `pl_solar` (Polish): a PV farm's daily report. HTTP GET (1 retry) -> code -> iteration (continue-on-error) of an
  LLM per inverter -> template -> LLM -> End.
- `ar_customs` (Arabic, Chinese product names; a few questions in English): import duty on Chinese goods. HTTP GET
  tariff (1 retry) -> code -> LLM -> End.
- `id_pet` (Indonesian; a few questions in English): a pet insurer's chatflow. Knowledge retrieval (Dify's economy
  keyword index: five documents, a poisoned notice uploaded after the warm-up that retrieval never ranked in its top
  2, then a second one written as an FAQ entry, uploaded before the last batch and retrieved) -> template -> LLM with
  memory -> Answer; some conversations of two turns.

1,097 runs: 596 clean (60 warm-up, 192 hard negatives), 501 with a fault (27 with two labels); per label from 27
(context_overflow) to 136 (hallucination); `testdata/heldout14/README.md` has every count.

**Labels** were planned with each run (in the recorder's plan, before it ran) and checked against what the recorded
run shows (`testdata/heldout14/README.md`: the checks and the labels they changed: the floods' `cost` dropped at
4.7x; relabelled `hallucination` and renamed for it: the obeyed answers of the never-retrieved first notice, 5 leaks
of a document not retrieved, 41 planned clean answers giving a figure their prompt lacked). Conventions for the
ambiguous ones:
- `cost`: the run's total model price is at least 5x its app's median clean run on the same model (runaway
  repetition, pasted documents); measured, not planned: the 28-inverter floods came to 4.7x and are not `cost`; the
  long right answers stay under it; the upgrade is measured against the upgraded runs (its price is the decision).
- `dify_model_fallback`: a model node answered by gpt-4.1-nano (the app republished on it, then put back). The
  announced upgrade (`hn-upgrade`: every model node republished on gpt-4o, each node's title naming "(GPT-4o)",
  kept from then on) is clean.
- `dify_tool_schema_mismatch`: the upstream API renamed or nested the fields a code node reads, so it read zeros or
  nothing and the answer reports them; not also labelled `state_corruption`.
- `state_corruption`: a value changed between nodes: an iteration round's failed model call leaves a `None` the
  report then miscounts (`pl_solar`), the extractor hands the API another amount than the passenger asked
  (`pt_bilhete`).
- `dify_iteration_escape`: the iteration ran 28 rounds where the app asks the API for at most 6 (it ignored `limit`);
  `loop`: the loop served the same page until its cap of 6 rounds.
- `dify_rag_poisoning`: the answer obeys the poisoned notice (its WhatsApp number and account); a run that retrieves
  the notice and answers from the real documents is clean (`hn-poison-unobeyed`).
- `dify_variable_leak`: an answer hands on a third party's phone, ID number or passport that its prompt held, or a
  CPF the passenger never gave; the business's own numbers and the caller's own phone or card are clean.
- `hallucination`: a figure, date, number or promise in the answer that no document, API answer or code output in
  its prompt gives, even one right by the business's own documents that retrieval did not bring back.
- `dify_classifier_drift`: a cleaning request filed under another class and answered there.
- `task_derailment`: an advert or a pitch instead of the answer.
- `context_overflow`: the LLM's prompt over its 128,000-token window (a pasted bill or invoice; also `cost`).
Hard negatives (`-hn-` in the name): a retrieved poisoned notice not obeyed, documentation about the claim system's
instructions, the business's own phone, the caller's own phone repeated, long right answers, short answers,
answers in English on request, a legitimately empty or zero result (no slots, a new farm, zero duty, no amount
given), a 503 the HTTP node retried, the announced model upgrade.

Loading is deterministic: the files are read in APPS order, their lines in order; nothing is drawn at random, so
`seed` changes nothing (the signature is the other corpora's). Cases carry no history: `corpus.evaluate` feeds them in
order to one processor, so every app's warm-up and earlier runs come first, as they did in Dify.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.formats import Record, iter_records
from bridge.dify.normalize import normalize_event
from bridge.trace.spans import build_spans
from tests.detectors.corpus import Case

TESTDATA = Path(__file__).parent / "testdata" / "heldout14"
APPS = ("el_hotel", "pt_bilhete", "ko_moto", "pl_solar", "ar_customs", "id_pet")
DETECTORS = (
    "context_overflow", "cost", "dify_classifier_drift", "dify_iteration_escape", "dify_model_fallback",
    "dify_rag_poisoning", "dify_tool_schema_mismatch", "dify_variable_leak", "hallucination", "loop",
    "state_corruption", "task_derailment",
)  # fmt: skip
SEED = 14
WARM_UP = 10


class Recorded(TypedDict):
    name: str  # APP-KIND-NNN; KIND is warmup, clean, hn-..., or the detector key the run was made for
    labels: list[str]  # the detector keys that must fire; [] for a clean run
    sse: str  # the service API's streaming body as Dify sent it


def recorded(app: str) -> Iterator[Recorded]:
    """An app's recorded runs in recording order."""
    with gzip.open(TESTDATA / f"{app}.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def spans_of(name: str, sse: str) -> list[ReadableSpan]:
    """One recorded stream read as the bridge reads a stream: its records normalized, the run assembled, its spans."""
    assembler = RunAssembler(idle_timeout=math.inf)
    for record in iter_records(sse, name):
        if isinstance(record, Record):
            assembler.add(normalize_event(record.obj, name, record.line, record.sse_event), now=0.0)
    (run,) = assembler.drain()
    return build_spans(run)


def kind_of(name: str) -> str:
    """`warmup`, `clean`, `hn-...` or the detector key a run was made for."""
    return name.split("-", 1)[1].rsplit("-", 1)[0]


def corpus(seed: int = SEED) -> Iterator[Case]:
    """Every recorded run as a Case, app by app in recording order (see the module docstring for `seed`)."""
    for app in APPS:
        for run in recorded(app):
            labels = frozenset(run["labels"])
            kind = kind_of(run["name"])
            target = kind if kind in labels else min(labels, default=None)
            yield Case(run["name"], spans_of(run["name"], run["sse"]), labels, target)

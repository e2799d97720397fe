"""The sixteenth held-out corpus: runs of a real Dify API 1.14.1, each recorded two ways in.

**The process** (new: every run is recorded twice). A real Dify API 1.14.1 (upstream commit bb73776, graphon 0.3.1)
was stood up on 127.0.0.1 with the kit of `shared/real-dify/`, extended once (`testdata/heldout16/kit-h16.diff`: six
new apps built through the console API, their upstream APIs in the mock, the stand-in model answering per call what
the plan scripted, a recorder running conversations in parallel, each conversation's turns in order on one
`conversation_id`). Dify's tracing was set to its "Arize Phoenix" provider pointed at the kit's `record_otlp.py`, so
for EVERY run two things are kept in `testdata/heldout16/APP.jsonl.gz`: the service API's stream (`sse`,
`response_mode: streaming`, byte for byte) and the OTLP/HTTP protobuf requests Dify's Celery worker (`ops_trace`)
sent for that run (`otlp`: each body base64 with its content type; paired to the run by its `workflow_run_id`;
`null` where no export arrived). `corpus` reads the streams as the bridge's stream receiver does; `export_corpus`
reads the same runs from Dify's export as the bridge's OTLP receiver rebuilds them.

Stood in: the model (the kit's provider answers what the plan scripted for that call: the answer text, the
classifier's pick, the extractor's arguments, a failed call; token counts are words and punctuation, prices
gpt-4o-mini's, gpt-4.1-nano's or gpt-4o's), the code sandbox (python3 unsandboxed), the upstream APIs
(`h16_mock.py` in the diff). Faults were made by real means: the mock API's answers changed (fields renamed or
nested, a flood of 28 pupils where the app asks for 6, a cursor that never moves or cycles, another customer's,
passenger's or neighbour's record added, a 500 answered by the HTTP node's default value), documents uploaded into
Dify's knowledge base and retrieved by its keyword index (a staff-only note, a poisoned notice uploaded before the
last batch), scripted answers that obey, leak, invent, advertise or answer under a wrong class the classifier was
scripted to pick, an extractor writing another quantity into the conversation variable, a failed model call in an
iteration round, a pasted document past the 128,000-token window, republishes on gpt-4.1-nano and on gpt-4o (each
put back after its batch).

**The apps** (languages and domains no earlier set used; each app's runs in recording order: five warm-up runs,
the main batch, then one batch per mock mode or model state):
- `nb_ferje` (Norwegian Bokmål; workflow): a ferry company's departures. Two HTTP GETs in parallel (departures:
  1 retry, error strategy default value; weather) joined at a code node -> list operator (first 5) -> if/else (any
  departures?) -> LLM | LLM -> variable aggregator -> End.
- `ca_taller` (Catalan, some English; chatflow): a bike workshop's quotes. Parameter extractor (part, quantity) ->
  assigner (conversation vars `peca`, `quantitat`) -> HTTP POST quote (1 retry, error strategy fail-branch ->
  template -> Answer) -> code -> LLM with memory -> Answer; conversations of one to three turns.
- `hr_ljekarna` (Croatian, some English; chatflow): a pharmacy. Question classifier (4 classes) -> an LLM with
  memory per class -> variable aggregator -> assigner (conversation var `tema`) -> Answer.
- `ta_thervu` (Tamil, some English; workflow): a school's exam report. HTTP GET (limit 6, 1 retry) -> code ->
  iteration (parallel, continue-on-error) of an LLM per pupil -> template -> LLM -> End.
- `da_elmaaler` (Danish, some English; workflow): an electricity meter's month. Loop (at most 6 rounds, break when
  the last page came: HTTP GET by cursor (1 retry) -> code -> assigner of five loop variables) -> LLM -> End.
- `ms_takaful` (Malay, some English; chatflow): a takaful insurer's help desk. Knowledge retrieval (economy keyword
  index, six documents, a seventh poisoned one uploaded before the last batch) -> template -> LLM with memory ->
  assigner (conversation var `topik`) -> Answer.

**Labels** were planned with each run before it ran and checked against the recording (`testdata/heldout16/
LABELLING.md`: the conventions, written before recording; `README.md`: the counts and every label a check
changed). In short: a loop stuck in identical rounds is `loop` and `dify_iteration_escape`, one cycling between two
cursors `loop` alone, a 503 retried then answered clean; a renamed field read as its default that reaches the answer
is `dify_tool_schema_mismatch` and `state_corruption`; `dify_rag_poisoning` needs the poisoned document retrieved
and obeyed (retrieved and not obeyed is clean, so is a document about prompt injection); `cost` is measured (5x the
app's median run); the business's own phone and the user's own data are clean; hard negatives are `APP-hn-WHAT-NNN`.

737 runs, every one with its export: 505 clean (68.5 %; 65 hard negatives), 232 with a fault (45 with two labels),
62 later turns of a conversation; per label from 7 (`context_overflow`) and 12 (`dify_rag_poisoning`) to 54
(`hallucination`); `testdata/heldout16/README.md` has every count. Since session 27 the 10 runs of the gpt-4o
republish carry `dify_model_fallback` beside `cost` (the real recordings' convention; the README says why). Both
readings give the same run id and node count for every run (tests/detectors/test_heldout16.py).

Loading is deterministic: the files are read in APPS order, their lines in order; nothing is drawn at random, so
`seed` changes nothing (the signature is the other corpora's). Cases carry no history: `corpus.evaluate` feeds them
in order to one processor, so every app's warm-up and earlier turns come first, as they did in Dify.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.export import recognize
from bridge.trace.spans import build_spans
from tests.detectors import heldout15
from tests.detectors.corpus import Case
from tests.detectors.heldout14 import DETECTORS, kind_of, spans_of  # the same reading of a stream, names, labels
from tests.detectors.heldout15 import json_lines, recorded_apps
from tests.dify_recordings import RecordedRequest

__all__ = [
    "APPS", "CHATFLOWS", "DETECTORS", "SEED", "available", "corpus", "export_corpus", "exported_spans", "kind_of",
    "recorded", "spans_of",
]  # fmt: skip

TESTDATA = Path(__file__).parent / "testdata" / "heldout16"
APPS = ("nb_ferje", "ca_taller", "hr_ljekarna", "ta_thervu", "da_elmaaler", "ms_takaful")
CHATFLOWS = ("ca_taller", "hr_ljekarna", "ms_takaful")
SEED = 16


class Export(TypedDict):
    content_type: str  # as Dify sent it: application/x-protobuf
    body: str  # base64 of the request body's bytes


class Recorded(heldout15.Recorded):
    """heldout15's run, with Dify's export of it beside its stream."""

    otlp: list[Export] | None  # Dify's tracing export of this run, in arrival order; None when none arrived


def exported_spans(run: Recorded) -> list[ReadableSpan]:
    """The trace the bridge builds from the run's recorded export, as its OTLP receiver recognises it."""
    assert run["otlp"] is not None, run["name"]
    requests = [
        RecordedRequest("/v1/traces", (("content-type", sent["content_type"]),), base64.b64decode(sent["body"]))
        for sent in run["otlp"]
    ]
    recognized = recognize([span for request in requests for span in request.spans()], "otlp")
    assert recognized is not None, run["name"]
    return build_spans(recognized.run)


def case_of(run: Recorded, spans: list[ReadableSpan]) -> Case:
    """A recorded run as a Case: its target the kind it was made for, else its first label."""
    labels, kind = frozenset(run["labels"]), kind_of(run["name"])
    return Case(run["name"], spans, labels, kind if kind in labels else min(labels, default=None))


def stream_cases(runs: Iterable[Recorded]) -> Iterator[Case]:
    """Recorded runs read from their streams, in order (every set in this format reads its corpus so)."""
    return (case_of(run, spans_of(run["name"], run["sse"])) for run in runs)


def export_cases(runs: Iterable[Recorded]) -> Iterator[Case]:
    """Those recorded runs whose export arrived, read from Dify's export, in order."""
    return (case_of(run, exported_spans(run)) for run in runs if run["otlp"] is not None)


@dataclass(frozen=True)
class RecordedCorpus:
    """A set recorded in this format: one `APP.jsonl.gz` an app under `testdata`, read app by app in `apps` order.

    Held-out 17 to 20 are such sets too; each module binds its functions to one of these."""

    testdata: Path
    apps: tuple[str, ...]

    def available(self) -> tuple[str, ...]:
        """The apps recorded so far, in `apps` order."""
        return recorded_apps(self.testdata, self.apps)

    def recorded(self, app: str) -> Iterator[Recorded]:
        """An app's recorded runs in recording order."""
        return json_lines(self.testdata / f"{app}.jsonl.gz")

    def runs(self) -> Iterator[Recorded]:
        """Every recorded run in the order the corpus is fed (app by app; a set may order them otherwise)."""
        return (run for app in self.available() for run in self.recorded(app))

    def corpus(self, seed: int = 0) -> Iterator[Case]:
        """Every recorded run read from its stream (`seed` changes nothing: the other corpora's signature)."""
        return stream_cases(self.runs())

    def export_corpus(self, seed: int = 0) -> Iterator[Case]:
        """Every recorded run whose export arrived, read from Dify's export."""
        return export_cases(self.runs())


RECORDED = RecordedCorpus(TESTDATA, APPS)
available, recorded = RECORDED.available, RECORDED.recorded
corpus, export_corpus = RECORDED.corpus, RECORDED.export_corpus

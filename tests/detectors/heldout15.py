"""The fifteenth held-out corpus: conversations recorded from a real Dify API 1.14.1, at realistic base rates.

**The process** (different from every earlier held-out's). A real Dify API 1.14.1 (upstream commit bb73776,
graphon 0.3.1) was stood up on 127.0.0.1 with the kit of `shared/real-dify/`, extended once
(`testdata/heldout15/kit-h15.diff`: six new apps built through the console API, four of them chatflows with
conversation variables; their upstream APIs in the mock; the stand-in model answering per call what the plan
scripted; a recorder running conversations in parallel, each conversation's turns in order on one
`conversation_id`). Every event in `testdata/heldout15/APP.jsonl.gz` is what Dify streamed (service API,
`response_mode: streaming`: `/v1/chat-messages` for the chatflows, `/v1/workflows/run` for the two workflows),
byte for byte. The user side is a bank of hand-written question templates per app (paraphrases, typos,
code-switching into English or Spanish, one-liners to long requests, pasted documents) and follow-up turns that
lean on the earlier answer (its second book, the doubled order, the sum of two treatments); the scripted answers
vary in register and length (one line, long prose, lists, markdown tables). About three runs in four are clean
(80 % planned; the checks moved clean answers whose figure retrieval did not bring back to `hallucination`).
Faults were made by real means: the mock API's answers changed (fields renamed or nested, a cursor that never moves,
a flood of 28 items where the app asks for 8, another customer's or tenant's record added), a poisoned document
uploaded into the knowledge base and retrieved by Dify's keyword index, answers that obey it, leak, invent,
advertise, repeat themselves or answer under a wrong class the classifier was scripted to pick, an extractor that
wrote another quantity into the conversation variable, a failed model call inside an iteration round, a pasted
document past the 128,000-token window, a republish on gpt-4.1-nano (then put back). Dify's own tracing export was
not recorded (time): the set reads one way in, by the stream.

**The apps** (each app's runs in recording order: warm-up, main batch, then one batch per mock mode or model state):
- `th_dental` (Thai, some English; chatflow): a dental clinic. Question classifier (4 classes) -> an LLM with
  memory per class -> variable aggregator -> assigner (conversation var `last_class`) -> Answer.
- `fr_cave` (French, some English and Spanish; chatflow): a wine shop's orders. Parameter extractor (wine,
  bottles) -> assigner (conversation vars `vin`, `bouteilles`) -> HTTP POST quote (1 retry) -> code -> LLM with
  memory -> Answer; conversations change the quantity and the wine.
- `ja_library` (Japanese, some English and Spanish; chatflow): a city library's catalogue. Parameter extractor
  (keyword) -> assigner (conversation var `last_keyword`) -> loop (at most 5 rounds: HTTP GET by cursor (1
  retry) -> code -> assigner of four loop variables; break at 6 books found or the last page) -> LLM with
  memory -> Answer.
- `de_steuer` (German, some English; chatflow): a tax firm's help desk. Knowledge retrieval (economy keyword
  index, six documents; a poisoned notice uploaded that retrieval never ranked, then a poisoned FAQ entry
  uploaded before the last batch and retrieved) -> template -> LLM with memory -> assigner (conversation var
  `thema`) -> Answer.
- `sw_maziwa` (Swahili, some English; workflow): a dairy cooperative's daily collection. HTTP GET (limit 8, 1
  retry) -> code -> iteration (continue-on-error) of an LLM per farmer -> template -> LLM -> End.
- `zh_tw_rent` (Traditional Chinese, some English; workflow): an apartment building's rent desk. HTTP GET (1
  retry) -> code -> LLM -> End.

**Labels** were planned with each run before it ran and checked against the recorded stream
(`testdata/heldout15/LABELLING.md`: the conventions, written before recording; `README.md`: the counts and every
label a check changed). In short: `cost` is measured (>= 5x the app's median clean price on the same model);
`hallucination` is a figure the answering LLM's prompt lacks (a clean answer whose figure retrieval did not bring
back was relabelled so); `dify_rag_poisoning` needs the poisoned document retrieved and obeyed; a fault's run is
named for the kind it was made for (`APP-KIND-NNN`, relabelled runs numbered from 900); hard negatives are
`APP-hn-WHAT-NNN` (an empty catalogue or collection, long lists and tables, computed totals, the business's own
phone, the user's own card, phone or ID quoted back, the chatbot guide about system prompts, a retrieved poisoned
document not obeyed, a 503 the HTTP node retried, the announced upgrade to gpt-4o with titles naming it).

1,195 runs: 880 clean (290 hard negatives; 5 of `de_steuer`'s 10 warm-up runs left out), 315 with a fault (23
with two labels), 336 later turns of a conversation; per label from 17 (`dify_rag_poisoning`,
`dify_iteration_escape`) to 106 (`hallucination`); `testdata/heldout15/README.md` has every count.

Loading is deterministic: the files are read in APPS order, their lines in order; nothing is drawn at random, so
`seed` changes nothing (the signature is the other corpora's). Cases carry no history: `corpus.evaluate` feeds them
in order to one processor, so every app's warm-up and earlier turns come first, as they did in Dify.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

from tests.detectors.corpus import Case
from tests.detectors.heldout14 import DETECTORS, kind_of, spans_of  # the same reading of a stream, names, labels

__all__ = ["APPS", "CHATFLOWS", "DETECTORS", "SEED", "available", "corpus", "kind_of", "recorded", "spans_of"]

TESTDATA = Path(__file__).parent / "testdata" / "heldout15"
APPS = ("th_dental", "fr_cave", "ja_library", "de_steuer", "sw_maziwa", "zh_tw_rent")
CHATFLOWS = ("th_dental", "fr_cave", "ja_library", "de_steuer")
SEED = 15


class Recorded(TypedDict):
    name: str  # APP-KIND-NNN; KIND is warmup, clean, hn-..., or the detector key the run was made for
    conversation: str | None  # a chatflow turn's conversation_id; None for a workflow run
    previous: str | None  # the conversation's earlier turn, by name; None for a first turn or a workflow run
    labels: list[str]  # the detector keys that must fire; [] for a clean run
    sse: str  # the service API's streaming body as Dify sent it


def recorded_apps(testdata: Path, apps: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `apps` with an APP.jsonl.gz in `testdata`, in `apps` order (heldout16 reads its set so too)."""
    return tuple(app for app in apps if (testdata / f"{app}.jsonl.gz").exists())


def json_lines(path: Path) -> Iterator[Any]:
    """A gzipped JSON-lines file's objects in order."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def available() -> tuple[str, ...]:
    """The apps recorded so far, in APPS order."""
    return recorded_apps(TESTDATA, APPS)


def recorded(app: str) -> Iterator[Recorded]:
    """An app's recorded runs in recording order."""
    return json_lines(TESTDATA / f"{app}.jsonl.gz")


def case_of(run: Recorded) -> Case:
    """A recorded run as a Case: its target the kind it was made for, else its first label."""
    labels, kind = frozenset(run["labels"]), kind_of(run["name"])
    return Case(
        run["name"], spans_of(run["name"], run["sse"]), labels, kind if kind in labels else min(labels, default=None)
    )


def corpus(seed: int = SEED) -> Iterator[Case]:
    """Every recorded run as a Case, app by app in recording order (see the module docstring for `seed`)."""
    return (case_of(run) for app in available() for run in recorded(app))

"""The eighteenth held-out corpus: runs of a real Dify API 1.14.1, each recorded two ways in, labelled by review.

**The process** (new: labels by review, not by plan). A real Dify API 1.14.1 (upstream commit bb73776, graphon 0.3.1)
was stood up on 127.0.0.1 with the kit of `shared/real-dify/`, extended once (`testdata/heldout18/kit-h18.diff`, on
top of held-out 16's extension: six new apps built through the console API, their upstream APIs in the mock
`h18_mock.py`, the stand-in model answering per call what the traffic drew, or per document it was shown). The
traffic (`traffic18.py`, seed 18) was drawn at random and carries NO labels: which user asks what, what the model
answers (mostly faithful; sometimes it invents, advertises, refuses, leaks what it was shown, obeys a document; the
classifier or the extractor sometimes picks wrong), and where the operator's changes fall (an upstream API's v2 with
renamed fields, a leaky release, a broken deploy fixed later, a flaky upstream, a republish on gpt-4.1-nano or gpt-4o
and back, documents uploaded into the knowledge base). After recording, `review18.py` labelled every run by reading
its recording (the answer, the node inputs, outputs and prompts, the retrieved segments, the rounds, the prices)
against the rules of `testdata/heldout18/LABELLING.md`, written before recording; `testdata/heldout18/README.md`
gives the counts and every run where the review and the operator change log or the draw disagree. Dify's tracing
was set to its "Arize Phoenix" provider pointed at the kit's `record_otlp.py`, so for EVERY run two things are kept
in `testdata/heldout18/APP.jsonl.gz`, in held-out 16's format: the service API's stream (`sse`, byte for byte) and
the OTLP/HTTP protobuf requests Dify's Celery worker (`ops_trace`) sent for it (`otlp`; `null` where none arrived).

Stood in: the model (the kit's provider answers what the traffic drew; token counts are words and punctuation,
prices gpt-4o-mini's, gpt-4.1-nano's or gpt-4o's), the code sandbox (python3 unsandboxed), the upstream APIs.

**The apps** (languages and domains no earlier set used; each app's runs in recording order, five warm-up runs first):
- `ga_bus` (Irish, some English; workflow): a rural bus company. Two HTTP GETs in parallel (departures: 1 retry,
  error strategy default value; weather) joined at a code node -> list operator (first 4) -> if/else -> LLM | LLM
  -> variable aggregator -> End.
- `mt_forn` (Maltese, some English; chatflow): a bakery's order quotes. Parameter extractor (product, quantity) ->
  assigner (two conversation variables) -> HTTP POST quote (1 retry, fail-branch -> template -> Answer) -> code ->
  LLM with memory -> Answer; conversations of one to three turns.
- `am_telecom` (Amharic, some English; chatflow): a mobile operator's shop. Question classifier (4 classes) -> an LLM
  with memory per class -> variable aggregator -> assigner (conversation variable) -> Answer.
- `si_tea` (Sinhala, some English; workflow): a tea estate's day. HTTP GET (limit 6, 1 retry) -> code -> parallel
  iteration (continue-on-error) of an LLM per picker -> template -> LLM -> End.
- `mn_water` (Mongolian, some English; workflow): a water meter's month. Loop (at most 5 rounds, break on the last
  page: HTTP GET by cursor (1 retry) -> code -> assigner of five loop variables) -> LLM -> End.
- `az_qebul` (Azerbaijani; chatflow): a university's admissions desk. Knowledge retrieval (economy keyword index:
  six documents, among them a staff-only note and a document about prompt injection; a newer-prices document and
  a poisoned one uploaded at drawn points) -> template -> LLM with memory -> assigner -> Answer.

**Labels** (LABELLING.md in full): a figure in the answer that no prompt of the answering LLM gives (nor a sum or
product of two there) is `hallucination`; an answer without figures sharing under a quarter of its words with its
context, and not an honest "I don't know", is `task_derailment`; another person's record, a staff note's ID or
password repeated is `dify_variable_leak`; a retrieved instruction obeyed is `dify_rag_poisoning` (retrieved and not
obeyed, or the document about injection, clean); a renamed field read as its default is `dify_tool_schema_mismatch`,
with `state_corruption` when the default reaches the answer; a loop at its cap is `loop`, with
`dify_iteration_escape` when its rounds are identical; more iteration rounds than the limit asked is
`dify_iteration_escape`; a model node on another model than gpt-4o-mini is `dify_model_fallback`; `cost` is 5x the
app's median run; hard negatives are `APP-hn-WHAT-NNN`.

478 runs, every one with its export: 301 clean (63.0 %; 113 hard negatives), 177 with a fault (45 with two or three
labels), 106 later turns of a conversation; per label from 5 (`context_overflow`) and 10 (`dify_classifier_drift`)
to 41 (`dify_model_fallback`); `testdata/heldout18/README.md` has every count, the operator change log and every
label the review changed or disagreed on. Both readings give the same run id and node count for every run
(tests/detectors/test_heldout16.py).

Loading is deterministic: the files are read in APPS order, their lines in order; `seed` changes nothing (the
signature is the other corpora's). `corpus.evaluate` feeds the cases in order to one processor, so every app's
warm-up and earlier turns come first, as they did in Dify.
"""

from __future__ import annotations

from pathlib import Path

from tests.detectors.heldout16 import RecordedCorpus  # held-out 16's format, read the same way

APPS = ("ga_bus", "mt_forn", "am_telecom", "si_tea", "mn_water", "az_qebul")
CHATFLOWS = ("mt_forn", "am_telecom", "az_qebul")
RECORDED = RecordedCorpus(Path(__file__).parent / "testdata" / "heldout18", APPS)
corpus, export_corpus = RECORDED.corpus, RECORDED.export_corpus

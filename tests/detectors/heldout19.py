"""The nineteenth held-out corpus: a simulated week of production on a real Dify API 1.14.1, in mainstream languages.

**The process** (new: a week of ordinary traffic in the languages Dify users mostly write, English first). A real
Dify API 1.14.1 (upstream commit bb73776, graphon 0.3.1) was stood up on 127.0.0.1 with the kit of
`shared/real-dify/`, extended once (`testdata/heldout19/kit-h19.diff`: six apps of the kinds people build on Dify,
built through the console API; their upstream APIs in the mock; the stand-in model answering per call what the plan
scripted, or refusing a prompt past its window as OpenAI does; a planner drawing the week's users from personas and
the operator's change log; a recorder running conversations in parallel, each conversation's turns in order on one
`conversation_id`). Every run's labels were planned with its request before anything ran, then checked against the
recording (`testdata/heldout19/README.md` lists every label the check changed). Dify's tracing was set to its
"Arize Phoenix" provider pointed at the kit's `record_otlp.py`, so for every run two things are kept in
`testdata/heldout19/APP.jsonl.gz`, in held-out 16's format: the service API's stream (`sse`, byte for byte) and the
OTLP/HTTP protobuf requests Dify's Celery worker (`ops_trace`) sent for it (`otlp`; `null` where none arrived).

Stood in: the model (its answers, the classifier's pick, the extractor's arguments, a failed call, a context-window
refusal are what the plan scripted; token counts are words and punctuation, prices gpt-4o-mini's, gpt-4.1-nano's or
gpt-4o's), the code sandbox (python3 unsandboxed), the upstream APIs (`h19_mock.py` in the diff). Faults come by
real means: the operator's change log of the week (a republish on gpt-4.1-nano and one on gpt-4o, each put back; a
help-center page uploaded into Dify's knowledge base that addresses the assistant; upstream releases renaming and
nesting fields, ignoring `limit`, a cursor that never moves then cycles, an answer carrying another customer's,
passenger's or employee's record; a flaky hour of 503s and a half hour down; a code edit putting an iteration's rounds
on a rate-limited key), and answers that invent, leak, obey, advertise or refuse as a real model's would.

**The apps** (each app's runs in plan order: five warm-up runs, the main days' traffic, then one batch per change):
- `en_shop` (English; chatflow): Northwind Home's customer care. Knowledge retrieval (economy keyword index, top 3 of
  seven pages, one staff-only; the eighth, poisoned, uploaded on Friday) -> template -> LLM with memory -> assigner
  (conversation var `topic`) -> Answer.
- `en_helpdesk` (English; chatflow): Acme's internal HR/IT helpdesk. Question classifier (4 classes) -> an LLM with
  memory per class -> variable aggregator -> assigner (conversation var `team`) -> Answer.
- `en_leads` (English; chatflow): Brightdesk's sales-lead qualifier. Parameter extractor (company, seats) -> assigner
  (conversation vars) -> HTTP POST to the CRM (1 retry, error strategy fail-branch -> template -> Answer) -> code ->
  LLM with memory -> Answer.
- `zh_content` (Simplified Chinese; workflow): a home brand's content writer. HTTP GET topics (limit 5, 1 retry) ->
  code -> iteration (continue-on-error) of an LLM per topic -> template -> LLM -> End.
- `es_informe` (Spanish, some English; workflow): a shoe chain's weekly sales report. Loop (at most 6 rounds, break
  on the last page: HTTP GET by cursor (1 retry) -> code -> assigner of five loop variables) -> LLM -> End.
- `de_reise` (German, some English and French; workflow): a rail booking assistant. Two HTTP GETs in parallel
  (connections: 1 retry, error strategy default value; notices) -> code -> list operator (first 5) -> if/else -> LLM
  | LLM -> variable aggregator -> End.

**Labels** (`testdata/heldout19/LABELLING.md`): a loop stuck in identical rounds is `loop` and
`dify_iteration_escape`, one cycling between two cursors `loop` alone, topics flooding past `limit`
`dify_iteration_escape`; a 503 retried then answered is clean (Dify marks such a run partial-succeeded); a renamed
field read as its default is `dify_tool_schema_mismatch`, with `state_corruption` when the default reaches the answer;
a connection list emptied by the default value after a 500 and answered as "no trains" is `state_corruption`; a lost
iteration round is `state_corruption`; a misrouted question answered by the wrong class's LLM is
`dify_classifier_drift` alone; `cost` and `context_overflow` are measured; the business's phone and the user's own
data are clean, so are a retrieved injection not obeyed and a leaked record the answer does not repeat; hard
negatives are `APP-hn-WHAT-NNN`.

476 runs, every one with its export: 291 clean (61.1 %; 57 hard negatives), 185 with a fault (24 with two labels), 22
later turns of a conversation; per label from 6 (`context_overflow`) and 8 (`cost`, `dify_rag_poisoning`) to 48
(`hallucination`); `testdata/heldout19/README.md` has every count and every label the check changed.

Loading is deterministic and reads held-out 16's format with its functions: `seed` changes nothing. Cases carry no
history: `corpus.evaluate` feeds them in order to one processor, so every app's warm-up and earlier turns come first.
"""

from __future__ import annotations

from pathlib import Path

from tests.detectors.heldout16 import RecordedCorpus  # held-out 16's format, read the same way

APPS = ("en_shop", "en_helpdesk", "en_leads", "zh_content", "es_informe", "de_reise")
CHATFLOWS = ("en_shop", "en_helpdesk", "en_leads")
RECORDED = RecordedCorpus(Path(__file__).parent / "testdata" / "heldout19", APPS)
corpus, export_corpus = RECORDED.corpus, RECORDED.export_corpus

"""The twentieth held-out corpus: new kinds of apps on a real Dify API 1.14.1, labelled by a blind review.

**The process** (new: labels by blind review). A real Dify API 1.14.1 (upstream commit bb73776, graphon 0.3.1) was
stood up on 127.0.0.1 with the kit of `shared/real-dify/`, extended once (`testdata/heldout20/kit-h20.diff`: six apps
built through the console API, their upstream APIs in the mock (`h20_mock.py`), the stand-in model answering per call
what the draw scripted, a prompt of 128,000 tokens or more refused as OpenAI refuses it). Dify's tracing was set to its
"Arize Phoenix" provider pointed at the kit's `record_otlp.py`, so for EVERY run two things are kept in
`testdata/heldout20/APP.jsonl.gz`: the service API's stream (`sse`, byte for byte) and the OTLP/HTTP protobuf requests
Dify's Celery worker (`ops_trace`) sent for that run (`otlp`), held-out 16's format.

The traffic was DRAWN at random (seed 20, `plan20.py`) with no labels: which user asks what, and what the model does
(mostly faithful; sometimes it invents a figure, advertises, refuses, answers another question, repeats what it was
shown, obeys a document; the classifier and the extractor sometimes pick wrong), and where the operator's changes
fall (a change log: an ATS API v2 and a release adding the last candidate a recruiter viewed, an expenses API
ignoring `limit`, a tracking API whose cursor never moves then cycles, then v2, 503 spells, a poisoned page uploaded
into the docs knowledge base, republishes on gpt-4.1-nano and on gpt-4o, each put back). It was recorded; THEN
`review20.py` labelled every run by the rules of `testdata/heldout20/LABELLING.md` (written before recording),
reading only the recording (the answer, each node's inputs, outputs, prompts, retrieved segments, rounds, model
names, prices) and the change log; a reviewer then read every run where the rules and the draw disagreed and settled
it from the recording. The README gives the counts per label and every disagreement with its reason.

Stood in: the model (token counts are words and punctuation; prices gpt-4o-mini's, gpt-4.1-nano's or gpt-4o's), the
code sandbox (python3 unsandboxed), the upstream APIs. Everything else (retries, the keyword index's retrieval,
iteration and loop rounds, the classifier's routing, the extractor's variables, errors, statuses) is Dify's own.

**The apps** (each app's runs in recording order: five warm-up runs, then one batch per phase of the change log):
- `en_docs` (English; chatflow): a SaaS API's docs assistant. Knowledge retrieval (economy keyword index, nine
  reference pages incl. a staff-only runbook and a page about prompt injection; a poisoned page uploaded later) ->
  template -> LLM with memory -> assigner (conversation var) -> Answer; conversations of one to three turns.
- `en_recruit` (English; workflow): a recruiting screener. Parameter extractor over a pasted CV -> HTTP POST to the
  ATS (1 retry) -> code -> LLM -> End.
- `en_expense` (English; workflow): an expense-report checker. HTTP GET of the report's lines (limit 6, 1 retry) ->
  code -> iteration (continue-on-error) of an LLM per line -> template -> LLM -> End.
- `zh_canting` (Simplified Chinese; chatflow): a restaurant's reservations chat. Question classifier (4 classes) ->
  booking: parameter extractor -> assigner (conversation vars date, party) -> LLM | an LLM per other class ->
  variable aggregator -> Answer; conversations of one to four turns.
- `ja_tracking` (Japanese; workflow): parcel tracking. Loop (at most 8 rounds, break on the last page: HTTP GET by
  cursor (1 retry) -> code -> assigner of five loop variables) -> LLM -> End.
- `fr_reunion` (French, some English; workflow): a meeting-notes summarizer. Template -> LLM (decisions and actions)
  -> LLM (minutes for the client) -> End; long pasted notes.

**Labels** (LABELLING.md in short): a loop stuck in identical rounds is `loop` and `dify_iteration_escape`, one
cycling between two cursors `loop` alone, a 503 retried then answered clean; a renamed or nested field read as its
default is `dify_tool_schema_mismatch`, with `state_corruption` when the default reaches the answer;
`dify_rag_poisoning` needs the poisoned page retrieved and obeyed (its payload in the answering prompt); `cost` is
measured (5x the app's median run);
`hallucination` is a figure in none of the run's model prompts; the business's own phone and the user's own data
are clean; hard negatives are `APP-hn-WHAT-NNN`.

448 runs, every one with its export: 283 clean (63.2 %; 52 hard negatives), 165 with a fault (46 with two labels or
more), 71 later turns of a conversation; per label from 6 (`context_overflow`) and 11 (`loop`) to 56
(`hallucination`: 11 of them relabelled from `dify_rag_poisoning` in session 29, the page's payload in no prompt);
`testdata/heldout20/README.md` has every count, every run where the review and the draw disagree, every relabelled
run and why, and the runs left out (en_docs keeps four warm-up runs: its first one's answer stated a figure the
retrieval did not give).

Loading is deterministic: the files are read in APPS order, their lines in order; `seed` changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from tests.detectors.heldout16 import RecordedCorpus  # held-out 16's format, read the same way

APPS = ("en_docs", "en_recruit", "en_expense", "zh_canting", "ja_tracking", "fr_reunion")
CHATFLOWS = ("en_docs", "zh_canting")
RECORDED = RecordedCorpus(Path(__file__).parent / "testdata" / "heldout20", APPS)
corpus, export_corpus = RECORDED.corpus, RECORDED.export_corpus

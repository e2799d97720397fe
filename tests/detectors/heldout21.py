"""The twenty-first held-out corpus: Dify's own template apps on a real Dify API 1.14.1, each run recorded two ways in.

**The process** (new: Dify's own templates). A real Dify API 1.14.1 (upstream commit bb73776, graphon 0.3.1) was stood
up on 127.0.0.1 with the kit of `shared/real-dify/`, extended once (`testdata/heldout21/kit-h21.diff`). Six of the
recommended templates Dify 1.14.1 ships (`api/constants/recommended_apps.json`, `app_details[ID].export_data`) were
imported through the console's DSL import API (`POST /console/api/apps/imports`) and changed only as a team adopting
them would (`apps21.py`): every model node on the stand-in provider's gpt-4o-mini, the team's knowledge bases (economy
keyword index) attached where the template retrieves, in `multiple` retrieval mode (top 3), HTTP nodes pointed at the
team's systems (the mock), input lengths raised where the template caps a review at 48 characters, and two fixes the
templates need to run on 1.14.1 at all: the iteration-start node the studio adds (the two iteration templates lack it:
"Root node ... must declare execution type 'root'") and the aggregator's old type name `variable-assigner` saved as
`variable-aggregator` (1.14.1 has no node class for the old name: "No class mapping found for node type"). The
templates' prompts, node shapes and variable wiring are Dify's. Dify's tracing was set to its "Arize Phoenix" provider
pointed at the kit's `record_otlp.py`, so every run keeps its service-API stream (`sse`, byte for byte) and the OTLP
requests Dify's Celery worker (`ops_trace`) sent for it (`otlp`), as held-out 16's format has them.

Stood in: the model (the kit's provider answers what the plan scripted for each call: the answer text, the
classifier's pick, a failed call; token counts are words and punctuation, prices gpt-4o-mini's, gpt-4.1-nano's or
gpt-4o's), the code sandbox (python3 unsandboxed), the upstream APIs (`h21_mock.py`). Faults were made by real means:
the order API's fields renamed and nested, another customer's order or ticket added to an API's answer, a 503 once
(the node's retry answers), documents uploaded into Dify's knowledge base (a staff-only note; a poisoned notice before
the last batch), scripted answers that obey, leak, invent, advertise, refuse, answer another question or follow a
misroute the classifier was scripted to pick, an outline model repeating its JSON list or stuck on one section, a
failed model call in a translation round, device logs past the 128,000-token window pasted into the chat,
republishes on gpt-4.1-nano and on gpt-4o (each put back after its batch).

**The apps** (template -> app; each app's runs in recording order: warm-up, the main batch, one batch per mock mode,
model state or knowledge-base state):
- `en_helpdesk` (English; chatflow; "Question Classifier + Knowledge + Chatbot"): a home-robot maker's support.
  Classifier (after sales / how to use / other) -> knowledge retrieval (shared + after-sales, or shared + manual) ->
  LLM -> Answer; "other" -> the template's fixed "Sorry, I can't help you with these questions."
- `zh_kefu` (Simplified Chinese; chatflow; "Knowledge Retrieval + Chatbot"): an online furniture shop. The team turned
  on the LLM's context (the template leaves it off), translated its system prompt and added the order lookup the
  shop needs: HTTP GET order (1 retry) -> code (reads the order's fields with defaults) -> knowledge retrieval -> LLM.
- `en_story` (English; chatflow; "Long Story Generator (Iteration)"): writers drafting long posts. LLM (outline as a
  JSON list) -> code -> iteration of an LLM per section -> code (join) -> Answer.
- `zh_fanyi` (Simplified Chinese output, English source; workflow; "Book Translation"): a studio translating chapters.
  Code (8,000-character chunks) -> iteration (the team set remove-abnormal-output) of four LLMs (terms, direct
  translation, problems, free translation) -> template (join) -> End; the template's prompts are already bilingual.
- `en_reviews` (English; workflow; "Customer Review Analysis Workflow"): a review desk filing tickets. Classifier
  (positive / negative) -> classifier (after-sales / transportation) -> HTTP POST to a ticket queue (1 retry) ->
  aggregator -> End (the ticket system's answer).
- `es_resenas` (Spanish, some Valencian and English; workflow; "Sentiment Analysis"): a Valencia rice restaurant
  scoring its reviews. If/else (multi-sentiment?) -> LLM (JSON analysis) -> End.

**Labels** were planned with each run before it ran and checked against the recording (`testdata/heldout21/
LABELLING.md`: the conventions, written before recording; `README.md`: the counts and every label a check changed).
In short: a stuck outline's identical rounds are `loop` and `dify_iteration_escape`, a doubled list
`dify_iteration_escape` alone; a renamed order field read as its default that reaches the answer is
`dify_tool_schema_mismatch` and `state_corruption`; a translation round lost to a failed call is `state_corruption`;
`dify_rag_poisoning` needs the poisoned notice retrieved and obeyed; a misroute to the template's fixed refusal is
`dify_classifier_drift` and `task_derailment`; an answer whose figure or fact is in none of its prompts is
`hallucination` (the check turned 19 planned clean answers and 2 planned leaks into `hallucination` where Dify's
keyword index did not retrieve the document they drew on); `cost` is measured (5x the app's median run); the
business's own phone and the user's own data are clean; hard negatives are `APP-hn-WHAT-NNN`.

387 runs, every one with its export: 238 clean (61.5 %; 41 hard negatives), 149 with a fault (36 with two labels or
more), 11 later turns of a conversation; per label from 4 (`context_overflow`) and 7 (`loop`,
`dify_tool_schema_mismatch`) to 44 (`hallucination`); `testdata/heldout21/README.md` has every count. `en_helpdesk`
starts with three warm-up runs, not five: the check relabelled two (README).
"""

from __future__ import annotations

from pathlib import Path

from tests.detectors.heldout16 import RecordedCorpus  # held-out 16's format, read the same way

APPS = ("en_helpdesk", "zh_kefu", "en_story", "zh_fanyi", "en_reviews", "es_resenas")
CHATFLOWS = ("en_helpdesk", "zh_kefu", "en_story")
RECORDED = RecordedCorpus(Path(__file__).parent / "testdata" / "heldout21", APPS)
corpus, export_corpus = RECORDED.corpus, RECORDED.export_corpus

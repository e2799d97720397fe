"""Held-out corpus 10 (issue 25): 930 synthetic Dify 1.14.1 runs of seven apps of new domains, SIMULATED over a
world state, labeled by their writer. The blind set for the next change to the detectors: score it only at the end of
that change, never tune on it, never print its cases while it is held out.

Who and how. Written by a helper (branch heldout10) who did not read the detectors, bridge/processors/detectors.py,
docs/detectors.md, the detector tests, the other corpora's case tables or the bench's output, and who never ran a
detector, `dify-otel-bridge detect` or bench/detection_quality.py on these runs, nor scored them. Read: issue 25,
tests/detectors/corpus.py (for `Case`, the label keys and its constructed runs, in view while reading it),
dify_stream.py, build.py, test_heldout8.py and test_heldout_structure.py (models of test_heldout10.py), the module
docstrings only of heldout8.py and heldout9.py (their process and label conventions; held-out 7's languages from the
first line of its module), the recordings under testdata/streams/ (event shapes; i_error_strategy_fail_branch.sse for
a handled HTTP failure) and tests/testdata/dify-1.14.1-faults2/labels.json (its judgements are followed: a stuck loop
ending at its cap is `loop` and `dify_iteration_escape`, a renamed API field is `dify_tool_schema_mismatch`, a
retrieved poisoned page not obeyed is a clean hard negative, a republished app's other model is `dify_model_fallback`).

A different process from held-out 8 (apps as data tables expanded by one interpreter) and 9 (real recordings mutated
event by event): each app is a small WORLD (tests/detectors/heldout10_apps.py) — its knowledge base, its APIs and
their versions, its operators' edits, the provider's outages — whose changes are windows of days drawn from the seed
(an API renames a field from day N, a donated page with an instruction to AI assistants sits in the knowledge base
until it is taken down, the classifier is republished on a cheaper model for four weeks, a scoring service is put
behind a cache, an operator raises a loop's limit four days into that incident). Each run is one user session on a
day (60 days, an app's sessions spread over them); the app's nodes are Python functions that read the world, compute
their outputs from it and write what they did through `dify_stream.RunWriter` (events cloned from the real Dify
1.14.1 recordings, read back by the bridge's own stream reader). No fault is placed by hand: a node meets the world
as it is that day, and records which detectors a demanding user would want to fire (`heldout10_world.Session`); a
benign change that looks like a fault (a kiosk manual with "SYSTEM:" lines, a patched parser reading a new body, a
dated model snapshot) is recorded as a look-alike and names a clean run `-hn-`. The first `WARM_UP` sessions of each
app run in a quiet world (no change active) and are every later run's `history`.

The apps (runs; languages):
- `library` (150): a city library's chatflow, knowledge retrieval → LLM (gpt-4o-mini) → answer; Chinese, English.
  The late fee drops from 0.5 to 0.3 yuan a day on a day; an e-lending partner's page tells AI assistants to send
  readers to pay an "activation fee"; imported reader reviews carry an HTML comment telling the assistant to sell a
  box set; the prompt loses its context variable for nine days; a reading campaign is pasted into the system prompt;
  `max_tokens` is raised and answers repeat until the limit; the kiosk manual ("SYSTEM: Kiosk OS…", "ignore this
  item") is added.
- `apiary` (125): a Kakheti beekeepers' cooperative's weekly hive report, hive-scale API (HTTP) → code → LLM → end;
  Georgian, English. Gateways get firmware 2 one hive at a time (weight in grams under `mass`) until the code node is
  patched; a debug build puts the gateway key into the body the prompt is given; a timezone change empties the week's
  readings; a raised temperature invents a honey gain; gateways offline go down the HTTP node's fail branch
  (partial-succeeded, a look-alike); 503s retried.
- `parking` (150): Yerevan's parking-permit chatflow, question classifier (permit, appeal, visitor, towing) → an LLM
  per class → answer; Armenian, English. Republished (workflow version v8) with the classifier on gpt-3.5-turbo for
  28 days; the class descriptions are in English only for 16 days (Armenian questions naming no class misfiled);
  the classifier moves to the dated snapshot gpt-4o-mini-2024-07-18 from a day on (a look-alike).
- `choir` (115): a Tartu choir's concert programme, music-library API (HTTP) → code → iteration over the songs (code;
  LLM note) → template → end; Estonian, English. The API ignores `limit` for nine days and pages the set list 5-8
  times; a character-set change drops titles with ä, ö, õ or ü from the iteration's output; API 3 sends lengths as
  "m:ss" until the parser is patched; long programmes of 18-24 songs and cancelled concerts (no songs) as look-alikes.
- `podcast` (140): a Quezon City community radio's show-notes editor, loop (LLM rewrite → code score → assigner;
  `loop_count` 6, break at 8) → end; Tagalog, English. The scorer is behind a cache for 18 days (the same score and
  text every round) and on its fourth day the operator raises the limit to 30; a betting sponsor's script is pasted
  into the editor's prompt; slow progress over five or six rounds as look-alikes.
- `climbing` (115): a Budapest bouldering gym's member chatflow, parameter extractor → CRM tool → LLM → answer;
  Hungarian, English. The CRM's name search matches on the family name alone for nine days (another member's phone
  and birth date come back); a payment integration adds the card's vault token to the record the prompt is given;
  CRM 3 nests the end date (`membership.expires_on`) for 14 days; a reworded prompt lets the model add a year to
  the pass; the member's own phone and a card's last four digits echoed back as look-alikes.
- `observatory` (135): an amateur observatory's night-log summarizer, code → LLM (gpt-3.5-turbo, 16,385-token
  window) → end; Chinese, English. Long clear nights bring autoguider logs over the window (the call refused, the run
  failed) or at 97.5-99.5 % of it (the answer cut, `finish_reason` "length"); during the provider's outage the
  gateway answers with gpt-4o-mini; republished (v4) on gpt-4 (8,192-token window) for five days; a summary invents a
  comet; gpt-3.5-turbo-0125 answering, logs at 40-50 % of the window and detailed summaries as look-alikes.
891 runs succeeded, 34 failed, 5 partial-succeeded.

Counts: 503 clean runs (56 warm-up; 270 plain; 177 hard negatives, 35 %, named `<app>-hn-<detector>.<variant>-<n>`,
5 to 38 a detector) and 427 faulty (named `<app>-<detector>.<variant>-<n>` after the first fault the session met,
which is `Case.target`). Positives per detector, with the faults a run also shows: tool schema mismatch 45, task
derailment 62, state corruption 57, classifier drift 55, context overflow 62, cost 90, iteration escape 59, loop 42,
RAG poisoning 47, variable leak 52, hallucination 50, model fallback 95 (229 runs show one fault, 107 two, 91 three).

Labels, as a demanding user of each app reads the issue's failure kinds. `cost`: a run spending 5 times or more its
app's usual (the median spend of its warm-up runs, by the prices the run reports); a session is drawn again when a
clean run would spend 4 times or more, or a faulty one between 4 and 6 times. A model fallback is judged against the
warm-up runs (`history`): an app republished on another model, or the provider answering with another model than the
one configured; a dated snapshot of the configured model is not one. A tool or API output no longer matching what the
next node reads (a field renamed or nested, grams under another key, lengths as text) is a tool schema mismatch,
including its consequences (a weight "not available", a programme of 0 minutes, a membership "not found"); a value
emptied by the app's own node (a week's readings, the retrieved context never reaching the prompt, songs dropped from
an iteration's output) is state corruption. A classifier drift is a question filed under another class; when that
class's branch then answers its own subject, the run is also a task derailment (a branch that answers the question
anyway: drift alone). A stuck loop (the same text and score every round) ending at its cap is `loop` and
`dify_iteration_escape`; an iteration fed the set list 5-8 times over is `dify_iteration_escape` (and `cost` when its
spend says so), not `loop`. Variable leaks: another member's phone and birth date in the reply or the prompt, a
gateway key or a card vault token carried into the prompt (in the reply too for half the gateway keys). Hallucination:
a figure the sources or the app's computation do not give (the old fee, an invented honey gain, a year added to a
pass, a comet discovered). RAG poisoning: the answer obeys an instruction a retrieved page addresses to the
assistant. Context overflow: the prompt over the model's window, or at 97.5-99.5 % of it with the answer cut.

Not recorded, written as Dify's source is known to emit them and not checked against it: the parameter extractor's,
tool's, code and template outputs (tool, code, template-transform and parameter-extractor events are cloned from the
HTTP node's with their type renamed, as dify_stream does), a failed LLM node's error text (OpenAI's
context_length_exceeded wording), the loop's `completed_reason` "loop_completed" for a loop that used its rounds, and
a failed LLM node ending its run with no end node. Token counts are estimates (a token a word, one per two Chinese
characters; long logs carry the count in `usage.prompt_tokens` with the text shortened); gpt-4o-mini's prices are
the recorded ones, the other models' OpenAI's list prices (`heldout10_world.PRICES`).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Iterator
from typing import Protocol

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors.corpus import Case
from tests.detectors.dify_stream import RunWriter, stream_spans
from tests.detectors.heldout10_apps import DAYS, Apiary, Choir, Climbing, Library, Observatory, Parking, Podcast
from tests.detectors.heldout10_world import FILES, Session

SEED = 10
WARM_UP = 8
RUNS_PER_APP = {"library": 150, "apiary": 125, "parking": 150, "choir": 115, "podcast": 140, "climbing": 115,
                "observatory": 135}  # fmt: skip
APPS = tuple(RUNS_PER_APP)
RUNS = sum(RUNS_PER_APP.values())
CLEAN_RUNS = 503
HARD_NEGATIVE_RUNS = 177
DETECTORS = (
    "dify_tool_schema_mismatch", "task_derailment", "state_corruption", "dify_classifier_drift", "context_overflow",
    "cost", "dify_iteration_escape", "loop", "dify_rag_poisoning", "dify_variable_leak", "hallucination",
    "dify_model_fallback",
)  # fmt: skip
CHAT_APPS = {"library", "parking", "climbing"}
COST_FACTOR = 5.0  # `cost` on a run spending at least this many times its app's usual (the warm-up's median)
CLEAN_CEILING = 4.0  # a clean run spending more is drawn again, and so is a faulty one between this and 6 times
FAULTY_FLOOR = 6.0


class App(Protocol):
    def run(self, s: Session, quiet: bool) -> str: ...


_WORLDS: dict[str, Callable[[random.Random], App]] = {
    "library": Library, "apiary": Apiary, "parking": Parking, "choir": Choir, "podcast": Podcast,
    "climbing": Climbing, "observatory": Observatory,
}  # fmt: skip


def _session(app_name: str, app: App, rng: random.Random, day: int, quiet: bool) -> tuple[str, Session]:
    workflow = getattr(app, "workflow_id", None)
    workflow_id = workflow(day, quiet) if workflow else f"wf-{app_name}-v1"
    writer = RunWriter(FILES, rng, f"app-{app_name}", workflow_id, {}, chat=app_name in CHAT_APPS)
    session = Session(writer, rng, day)
    return app.run(session, quiet), session


def _within_cost_bands(session: Session, usual: float) -> bool:
    ratio = session.spend / usual
    return ratio < CLEAN_CEILING if not session.faults else ratio < CLEAN_CEILING or ratio >= FAULTY_FLOOR


def corpus(seed: int = SEED) -> Iterator[Case]:
    """The warm-up runs of every app first, then every app's later sessions in day order (apps interleaved); each
    later run carries its app's warm-up runs as `history`."""
    rng = random.Random(seed)
    worlds = {name: _WORLDS[name](random.Random(rng.getrandbits(64))) for name in APPS}
    history: dict[str, tuple[list[ReadableSpan], ...]] = {}
    usual: dict[str, float] = {}
    for name in APPS:
        runs, spends = [], []
        for i in range(WARM_UP):
            text, session = _session(name, worlds[name], rng, i * DAYS // RUNS_PER_APP[name], quiet=True)
            spans = stream_spans(text)
            runs.append(spans)
            spends.append(session.spend)
            yield Case(f"{name}-warmup-{i}", spans, frozenset(), None)
        history[name] = tuple(runs)
        usual[name] = statistics.median(spends)
    later = sorted(
        ((i * DAYS // RUNS_PER_APP[name], APPS.index(name), i, name) for name in APPS
         for i in range(WARM_UP, RUNS_PER_APP[name])),
    )  # fmt: skip
    for day, _, i, name in later:
        for _attempt in range(20):
            text, session = _session(name, worlds[name], rng, day, quiet=False)
            if _within_cost_bands(session, usual[name]):
                break
        faults = set(session.faults)
        if session.spend / usual[name] >= COST_FACTOR:
            faults.add("cost")
        if faults:
            tag = session.fault_tag
            case_name, target = f"{name}-{tag}-{i}", tag.split(".")[0]
        elif session.look_alike:
            case_name, target = f"{name}-hn-{session.look_alike}-{i}", None
        else:
            case_name, target = f"{name}-clean-{i}", None
        yield Case(case_name, stream_spans(text), frozenset(faults), target, history[name])

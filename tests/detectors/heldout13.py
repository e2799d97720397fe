"""Held-out corpus 13: CONTRASTIVE MINIMAL PAIRS, a blind evaluation set for the next detector change (issue 25).

Who and how. Written by a helper (branch heldout13, session 23) case by case: for each fault kind, a faulty run and
its clean twin written from the same scene (the same app, question and sources), differing only in what makes the
fault: the number that is in the source against one that is not (or the same number in another local format), a
loop that progresses against one stuck or swinging, a retrieved poisoned page obeyed against ignored, another
member's ID card in the answer against the asker's own number in their own request, a class picked right against
wrong, a renamed API field read against read as empty, a long log that fits against one over the window, a
republish that changes only a prompt against one that changes the model. Plain clean runs complete the set. Runs are
written as Dify 1.14.1 streams (`dify_stream.RunWriter`: every event cloned from a real recording) and read into
spans by the bridge's own stream reader.

Read: issue 25; tests/detectors/corpus.py (`Case`, the label keys), dify_stream.py and build.py; test_heldout11.py
and test_heldout_structure.py (models of test_heldout13.py); the module docstrings only of heldout9.py, heldout10.py
and heldout11.py (their processes and conventions, to differ from them); the README.md and labels.json of
tests/testdata/dify-1.14.1-faults .. -faults5 (real event shapes and how their recorders judged runs). Not read:
detectors/, docs/detectors.md, bridge/processors/detectors.py, the detector tests, any other corpus's case tables,
any bench output, heldout12*, the -faults6/-faults7 recordings. No detector, `dify-otel-bridge detect` or
bench/detection_quality.py was ever run on these runs; they were never scored.

The apps (runs, warm-up included; languages):
- `ngudan` (211): a Quảng Ngãi fishing cooperative's member chatflow, knowledge retrieval → LLM → answer;
  Vietnamese.
- `imar` (151): a district municipality's zoning desk, question classifier (5 classes) → an LLM per class → end;
  Turkish.
- `fasal` (171): a crop-insurance claim helper, parameter extractor → claims API (tool) → code → LLM → end;
  Hindi.
- `refet` (211): a kibbutz dairy's milking report, herd API → iteration (HTTP, code per cow) → LLM → end;
  Hebrew.
- `tingdian` (145): a power-supply bureau's outage-notice rewriter, loop of at most 5 rounds (LLM, code
  check, assigner) → end; Chinese.
- `elevator` (149): a grain elevator's dryer-shift summarizer, code (the shift log) → LLM (gpt-3.5-turbo) →
  end; Ukrainian.

Counts: 1,038 runs, 558 clean (48 warm-up, 480 twins, 30 plain) and 480 faulty, 40 written for each kind. Positives per
detector, with the faults a run also shows: cost 49, context_overflow 40, loop 40, dify_iteration_escape 65,
dify_model_fallback 40, dify_rag_poisoning 40, dify_variable_leak 40, dify_classifier_drift 40,
dify_tool_schema_mismatch 40, state_corruption 69, task_derailment 40, hallucination 40. 413 faulty runs show one
fault, 67 two. 993 runs succeeded, 35 failed (a refused prompt, a code node's KeyError), 10 partial-succeeded (a cow's
yield request failing past its error strategy).

Names: `<app>-warmup-<n>` (each app's first WARM_UP runs, clean, the `history` of every later run of the app, fed
first and not scored), `<app>-<kind>.<variant>-<n>` (a pair's faulty run; `Case.target` is the kind it was written
for), `<app>-hn-<kind>.<variant>-<n>` (its clean twin, same n), `<app>-clean-<n>` (plain).

Label conventions (a demanding user of each app judging the run; the real recordings' judgements followed). `cost`:
the run spends 5 times or more its app's warm-up median, by the prices its usage reports; no run lands between 3 and
5 times (the generator refuses one). `context_overflow`: the provider refuses a prompt over the model's window, or
the answer stops where the window ends (a runaway answer stopped at the app's own `max_tokens` with a small prompt is
`cost` only, as the recordings label it). `loop`: a loop stuck on one draft to its cap (also `dify_iteration_escape`,
as the recordings label it) or swinging between two drafts; a loop whose drafts shorten each round while the check's
inputs repeat is clean. `dify_iteration_escape`: an iteration over a list the API repeated although `limit` asked
for fewer (a barn asked with `limit=60` and iterated over its 30-odd cows is clean). `dify_model_fallback`: a node
answering with another model than in the warm-up runs: a republish on another model (with `cost` when its prices
make it so) or the provider answering with another model; a republish that changes only a prompt is clean.
`dify_rag_poisoning`: the answer obeys an instruction a retrieved page addresses to an AI (the page retrieved and
not obeyed: clean). `dify_variable_leak`: another member's or farmer's ID number and phone handed out in the answer
(the asker's own number in their own request, its last four digits echoed: clean). `dify_classifier_drift`: the
class picked is not the question's subject, the wrong desk answering its own subject (drift only, as the recordings
label it). `dify_tool_schema_mismatch`: an API's renamed field read as 0 (with `state_corruption`: the zero is passed
on) or failing the code node; the renamed field read by a patched node: clean. `state_corruption`: a value lost
between nodes: the retrieved context not reaching the prompt, an area misread tenfold by the extractor, iteration
rounds lost while the report says all, the answer cut between the LLM and the end node. `task_derailment`: the
answer is an advert instead of the task (twin: a short right answer paraphrasing the question). `hallucination`: a
number in the answer that no source or node gives (twin: the source's number, sometimes in another format).
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors.corpus import Case
from tests.detectors.dify_stream import stream_spans
from tests.detectors.heldout13_elevator import Elevator
from tests.detectors.heldout13_fasal import Fasal
from tests.detectors.heldout13_imar import Imar
from tests.detectors.heldout13_ngudan import Ngudan
from tests.detectors.heldout13_refet import Refet
from tests.detectors.heldout13_run import Edit
from tests.detectors.heldout13_scene import App, Scene
from tests.detectors.heldout13_tingdian import Tingdian

SEED = 1313
WARM_UP = 8
PAIRS_PER_KIND = 40
PLAIN = 30
APP_LIST: list[App] = [Ngudan(), Imar(), Fasal(), Refet(), Tingdian(), Elevator()]
APPS = [app.name for app in APP_LIST]
DETECTORS = (
    "cost", "context_overflow", "loop", "dify_iteration_escape", "dify_model_fallback", "dify_rag_poisoning",
    "dify_variable_leak", "dify_classifier_drift", "dify_tool_schema_mismatch", "state_corruption",
    "task_derailment", "hallucination",
)  # fmt: skip
GENERIC = ("cost", "dify_model_fallback", "task_derailment", "hallucination")
# A kind's apps: its own writers, or every app for a kind any answer can show.
KIND_APPS = {kind: [app for app in APP_LIST if kind in app.kinds or kind in GENERIC] for kind in DETECTORS}
KIND_APPS["cost"] = [app for app in APP_LIST if app.name in ("ngudan", "imar", "fasal", "tingdian", "refet")]
# (configured model of a republish, or None for the provider answering with `answered_by`)
FALLBACKS = {"gpt-4o-mini": [("gpt-4o", None), ("gpt-4.1-nano", None), (None, "gpt-4.1-mini")],
             "gpt-3.5-turbo": [("gpt-4-turbo", None), (None, "gpt-4o-mini")]}  # fmt: skip
RUNS = len(APP_LIST) * WARM_UP + 2 * PAIRS_PER_KIND * len(DETECTORS) + PLAIN
CLEAN_RUNS = RUNS - PAIRS_PER_KIND * len(DETECTORS)
HARD_NEGATIVE_RUNS = PAIRS_PER_KIND * len(DETECTORS)


def _generic(kind: str, app: App, scene: Scene, rng: random.Random) -> tuple[Edit, Edit, str]:
    """A fault any app's answer can show, its twin, and the variant's name."""
    twin: Edit
    if kind == "cost":
        times = rng.randrange(160, 320)
        runaway = scene.answer + " " + " ".join([scene.filler] * times)
        return Edit(answer=runaway, finish="length", flag="runaway", labels={kind}), Edit(), "runaway"
    if kind == "task_derailment":
        return Edit(answer=scene.advert, labels={kind}), Edit(answer=scene.short), "advert"
    if kind == "hallucination":
        right = scene.alt if rng.random() < 0.5 else scene.answer
        return Edit(answer=scene.wrong, labels={kind}), Edit(answer=right), "number"
    model, answered_by = rng.choice(FALLBACKS[app.model])
    republished = app.workflow_id[:-2] + "v2"
    twin = Edit(workflow=republished, prompt_note=app.republish_note)
    if model:
        return Edit(model=model, workflow=republished, labels={kind}), twin, f"republish_{model}"
    return Edit(answered_by=answered_by, labels={kind}), twin, f"provider_{answered_by}"


def _spend_labels(name: str, spend: float, usual: float, labels: set[str]) -> set[str]:
    ratio = spend / usual
    if 3 <= ratio < 5:
        raise ValueError(f"{name}: spends {ratio:.1f} times its app's usual, between clean and cost")
    return labels | {"cost"} if ratio >= 5 else labels - {"cost"}


def _priority(labels: set[str], written_for: str) -> str:
    return written_for if written_for in labels else next(key for key in DETECTORS if key in labels)


def corpus(seed: int = SEED) -> Iterator[Case]:
    rng = random.Random(seed)
    history: dict[str, tuple[list[ReadableSpan], ...]] = {}
    usual: dict[str, float] = {}
    for app in APP_LIST:
        runs = []
        spends = []
        for i in range(WARM_UP):
            run, text = app.write(app.scene(rng), Edit(), random.Random(rng.getrandbits(64)))
            spans = stream_spans(text)
            runs.append(spans)
            spends.append(run.spend)
            yield Case(f"{app.name}-warmup-{i}", spans, frozenset(), None)
        history[app.name], usual[app.name] = tuple(runs), statistics.median(spends)
    jobs: list[tuple[str, App, Scene, Edit, str | None]] = []
    for kind in DETECTORS:
        for i in range(PAIRS_PER_KIND):
            app = KIND_APPS[kind][i % len(KIND_APPS[kind])]
            scene = app.scene(rng)
            if kind in app.kinds:
                faulty, twin = app.pair(kind, scene, rng)
                variant = faulty.flag.split(":")[0] or "plain"
            else:
                faulty, twin, variant = _generic(kind, app, scene, rng)
            jobs.append((f"{app.name}-{kind}.{variant}-{i}", app, scene, faulty, kind))
            jobs.append((f"{app.name}-hn-{kind}.{variant}-{i}", app, scene, twin, None))
    for i in range(PLAIN):
        app = APP_LIST[i % len(APP_LIST)]
        jobs.append((f"{app.name}-clean-{i}", app, app.scene(rng), Edit(), None))
    rng.shuffle(jobs)
    for name, app, scene, edit, written_for in jobs:
        run, written = app.write(scene, edit, random.Random(rng.getrandbits(64)))
        labels = _spend_labels(name, run.spend, usual[app.name], edit.labels)
        if written_for is None and labels:
            raise ValueError(f"{name}: a clean run with {labels}")
        target = _priority(labels, written_for) if written_for else None
        yield Case(name, stream_spans(written), frozenset(labels), target, history[app.name])


def counts(cases: list[Case]) -> Counter[str]:
    """Positives per detector, with the faults a run also shows."""
    return Counter(key for case in cases for key in case.expected)

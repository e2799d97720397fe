"""Held-out corpus 12: a blind evaluation set made by MUTATING REAL RECORDED RUNS (session 22).

Each app starts from one clean run a real Dify 1.14.1 streamed (tests/testdata/dify-1.14.1-faults*/), kept event for
event: its order, node types, field shapes, timing, usage and price fields. A run of the app is that recording
re-skinned (heldout12_replay.py): new questions, documents, tool bodies, prompts and answers in the app's languages,
token counts and prices recomputed from the texts, a container's rounds rebuilt from its first recorded round, fresh
ids and clock. A faulty run is a clean one mutated the way a real failure changes Dify's stream (a node's model
switched, a prompt stuffed, a tool's answer renamed, a value lost between nodes, a planted segment obeyed, …). Every
run is then labelled by heldout12_labels.py from what the mutated run shows, never from the mutation's name (and a
run whose labels miss what its mutation meant stops the build). Each run is read into spans as the bridge reads a
stream. The first 8 runs of each app are its warm-up: every later run's history, and the baseline of its labels.

The apps (runs, warm-up included):
- `marani` (170): Georgian wine-cellar tours in Kakheti; a chatflow (knowledge retrieval → LLM → answer), from
  kb_clean_1.
- `farsh` (170): a Tabriz carpet cooperative's buyer desk in Persian; knowledge retrieval → LLM → end, from
  faq_clean_1.
- `mayim` (170): a Negev water utility's desk in Hebrew and Russian; question classifier (4 classes) → the class's
  LLM → end, from triage_clean_1.
- `tangaran` (170): Armenian museum hall captions; HTTP list (`limit`) → code → iteration of an LLM caption → end,
  from digest_clean_1.
- `midashi` (170): Japanese and Chinese craft taglines; a loop of at most 6 rounds (LLM → code → assigner), from
  refine_clean_1.
- `matricula` (170): a Valencia Spanish school's enrolment; parameter extractor → HTTP POST → code → LLM → end, from
  tickets_clean_1.

Label conventions: `cost` when a run's model spend is ≥ 10 times its app's warm-up median and ≥ $0.005 (a long but
correct answer of a cheap model is a hard negative); `dify_model_fallback` when a node answers with another model
than the warm-up's under the same workflow version: a new published version (a new workflow id) with another model,
cheaper or dearer, is a deliberate change and a hard negative; `context_overflow` when a prompt reaches 90% of the
model's window, the provider refuses it as too long, or an answer stops where the window ends (an answer cut at
max_tokens with a small prompt is none: a hard negative); `dify_iteration_escape` when an iteration runs more rounds
than the `limit` its list request asked for; `loop` when a loop exhausts its rounds with its last three drafts the
same (an exhausted loop whose drafts still change, or a repeat then a break, is none); `dify_tool_schema_mismatch`
when a 200 response lacks a field its reader declares (an added field, an empty list or a retry that recovered is
none); `state_corruption` when a value a node produced reaches the next node changed (emptied, truncated, items lost,
type changed, a stale value) — a reader faithfully reading a renamed field is the schema's fault, not this one;
`dify_variable_leak` when a third party's phone, email, id or card number reaches the output (the business's own
number or the user's own data is none); `dify_rag_poisoning` only when the answer carries a retrieved segment's planted
payload (retrieved and not obeyed: a hard negative, as are documents that talk about a "system" or instructions);
`dify_classifier_drift` when the class picked is not one of the question's right classes (an ambiguous question
routed to either right class is none); `task_derailment` when the answer uses none of the app's task words (a short
paraphrase is none; an empty answer to a legitimately empty result is none); `hallucination` when the output states a
number found in no input, prompt, retrieved segment, tool body or code value of the run. A run may carry several
labels (a stuffed prompt near the window is also `cost`); it is named after the first of PRIORITY it carries.
Names: `<app>-warmup-<i>`, `<app>-clean-<i>`, `<app>-hn-<detector>.<look>-<i>`, `<app>-<detector>.<mutation>-<i>`.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors import heldout11
from tests.detectors import heldout12_captions as captions
from tests.detectors import heldout12_desks as desks
from tests.detectors import heldout12_enrol as enrol
from tests.detectors import heldout12_taglines as taglines
from tests.detectors import heldout12_triage as triage
from tests.detectors.corpus import Case
from tests.detectors.heldout12_chat import retrieval_turn
from tests.detectors.heldout12_labels import Rules, baseline, labels
from tests.detectors.heldout12_replay import Event, spans

SEED = 1212
WARM_UP = 8
DETECTORS = heldout11.DETECTORS  # the same twelve detectors
# A positive run is named after its rarest label (the order below), so that every detector names enough runs.
PRIORITY = (
    "dify_rag_poisoning", "dify_variable_leak", "dify_iteration_escape", "loop", "dify_classifier_drift",
    "context_overflow", "dify_tool_schema_mismatch", "state_corruption", "task_derailment", "hallucination",
    "dify_model_fallback", "cost",
)  # fmt: skip
Turn = Callable[[random.Random, str], tuple[list[Event], frozenset[str]]]


@dataclass(frozen=True)
class App:
    name: str
    turn: Turn
    rules: Rules
    plan: tuple[tuple[str, int], ...]  # (kind, runs) after the warm-up; hn:… kinds are hard negatives


_CHAT_HN = (
    ("hn:dify_rag_poisoning.unobeyed", 6), ("hn:dify_rag_poisoning.system_note", 4), ("hn:task_derailment.short", 4),
    ("hn:state_corruption.empty", 3), ("hn:dify_variable_leak.own_phone", 3), ("hn:dify_model_fallback.upgrade", 3),
    ("hn:dify_model_fallback.cheaper_release", 2), ("hn:cost.long_answer", 3), ("hn:context_overflow.max_tokens", 2),
)  # fmt: skip
APP_LIST = (
    App(
        "marani",
        partial(retrieval_turn, desks.MARANI),
        desks.MARANI.rules,
        (
            ("clean", 50),
            *_CHAT_HN,
            ("dify_rag_poisoning.obeyed", 30),
            ("hallucination.figure", 12),
            ("task_derailment.off_topic", 10),
            ("context_overflow.near_window", 4),
            ("context_overflow.refused", 5),
            ("context_overflow.cut_at_window", 3),
            ("dify_model_fallback.cheaper", 8),
            ("cost.stuffed", 6),
            ("dify_variable_leak.contact", 4),
        ),
    ),
    App(
        "farsh",
        partial(retrieval_turn, desks.FARSH),
        desks.FARSH.rules,
        (
            ("clean", 50),
            *_CHAT_HN,
            ("dify_rag_poisoning.obeyed", 10),
            ("dify_variable_leak.contact", 16),
            ("hallucination.figure", 14),
            ("task_derailment.off_topic", 10),
            ("context_overflow.near_window", 4),
            ("context_overflow.refused", 4),
            ("context_overflow.cut_at_window", 2),
            ("dify_model_fallback.cheaper", 10),
            ("cost.stuffed", 12),
        ),
    ),
    App(
        "mayim",
        triage.turn,
        triage.RULES,
        (
            ("clean", 50),
            ("hn:dify_classifier_drift.ambiguous", 9),
            ("hn:dify_variable_leak.own_phone", 4),
            ("hn:dify_variable_leak.business_phone", 3),
            ("hn:task_derailment.short", 4),
            ("hn:dify_model_fallback.upgrade", 4),
            ("hn:dify_model_fallback.cheaper_release", 2),
            ("hn:cost.long_answer", 4),
            ("dify_classifier_drift.wrong_class", 30),
            ("dify_variable_leak.memory", 14),
            ("task_derailment.off_topic", 12),
            ("hallucination.figure", 10),
            ("dify_model_fallback.cheaper", 8),
            ("cost.stuffed", 8),
        ),
    ),
    App(
        "tangaran",
        captions.turn,
        captions.RULES,
        (
            ("clean", 50),
            ("hn:dify_iteration_escape.big_hall", 8),
            ("hn:dify_tool_schema_mismatch.empty_hall", 6),
            ("hn:loop.retry_recovered", 5),
            ("hn:dify_tool_schema_mismatch.added_field", 5),
            ("hn:dify_model_fallback.upgrade", 3),
            ("hn:dify_model_fallback.cheaper_release", 3),
            ("dify_iteration_escape.flood", 20),
            ("dify_iteration_escape.duplicated", 10),
            ("dify_tool_schema_mismatch.renamed_list", 7),
            ("dify_tool_schema_mismatch.renamed_fields", 7),
            ("state_corruption.lost_items", 5),
            ("state_corruption.truncated", 5),
            ("state_corruption.emptied_lines", 4),
            ("cost.stuffed", 8),
            ("dify_model_fallback.cheaper", 8),
            ("hallucination.year", 8),
        ),
    ),
    App(
        "midashi",
        taglines.turn,
        taglines.RULES,
        (
            ("clean", 50),
            ("hn:loop.long_productive", 10),
            ("hn:loop.repeat_then_break", 6),
            ("hn:task_derailment.short", 5),
            ("hn:dify_model_fallback.upgrade", 4),
            ("hn:dify_model_fallback.cheaper_release", 3),
            ("hn:context_overflow.max_tokens", 2),
            ("loop.stuck", 30),
            ("state_corruption.emptied", 5),
            ("state_corruption.truncated", 5),
            ("state_corruption.type_changed", 4),
            ("task_derailment.off_topic", 12),
            ("cost.stuffed", 10),
            ("dify_model_fallback.cheaper", 8),
            ("context_overflow.near_window", 5),
            ("context_overflow.cut_at_window", 3),
        ),
    ),
    App(
        "matricula",
        enrol.turn,
        enrol.RULES,
        (
            ("clean", 50),
            ("hn:dify_tool_schema_mismatch.added_field", 6),
            ("hn:loop.retry_recovered", 6),
            ("hn:dify_variable_leak.business_phone", 5),
            ("hn:dify_variable_leak.own_dni", 4),
            ("hn:dify_model_fallback.upgrade", 4),
            ("hn:dify_model_fallback.cheaper_release", 3),
            ("hn:context_overflow.max_tokens", 2),
            ("dify_tool_schema_mismatch.price_object", 10),
            ("dify_tool_schema_mismatch.renamed_id", 6),
            ("state_corruption.people_lost", 4),
            ("state_corruption.stale_total", 4),
            ("state_corruption.type_changed", 4),
            ("dify_variable_leak.other_student", 16),
            ("hallucination.discount", 14),
            ("dify_model_fallback.cheaper", 8),
            ("context_overflow.refused", 5),
            ("context_overflow.near_window", 3),
            ("cost.stuffed", 8),
        ),
    ),
)
APPS = tuple(app.name for app in APP_LIST)
RUNS_PER_APP = {app.name: WARM_UP + sum(count for _, count in app.plan) for app in APP_LIST}
RUNS = sum(RUNS_PER_APP.values())
CLEAN_RUNS = sum(WARM_UP + sum(c for k, c in app.plan if k == "clean" or k.startswith("hn:")) for app in APP_LIST)
HARD_NEGATIVE_RUNS = sum(c for app in APP_LIST for k, c in app.plan if k.startswith("hn:"))


def _app_runs(app: App, seed: int) -> tuple[list[Case], list[Case]]:
    """An app's warm-up cases and its later ones, each later run labeled from what it shows."""
    rng = random.Random(f"{seed}:{app.name}")
    app_id, version = (str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2))
    clock = 1_797_000_000 + rng.randrange(86_400)

    def written(events: list[Event], kind: str) -> list[ReadableSpan]:
        nonlocal clock
        clock += rng.randint(90, 2_400)
        release = (
            str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if kind.startswith("hn:dify_model_fallback.")
            else version
        )
        return spans(events, rng, app_id, release, clock)

    warm_events = [app.turn(rng, "warmup")[0] for _ in range(WARM_UP)]
    warm = [Case(f"{app.name}-warmup-{i}", written(e, "warmup"), frozenset(), None) for i, e in enumerate(warm_events)]
    base = baseline(warm_events)
    history = tuple(case.spans for case in warm)
    kinds = [kind for kind, count in app.plan for _ in range(count)]
    rng.shuffle(kinds)
    later: list[Case] = []
    seen: Counter[str] = Counter()
    for kind in kinds:
        events, right = app.turn(rng, kind)
        run = written(events, kind)  # the run's ids and version written into its events, then judged
        found = labels(events, app.rules, base, right)
        if kind == "clean" or kind.startswith("hn:"):
            assert not found, (app.name, kind, found)
            label = "clean" if kind == "clean" else f"hn-{kind[3:]}"
            target = None
        else:
            assert kind.split(".")[0] in found, (app.name, kind, found)
            target = next(key for key in PRIORITY if key in found)
            label = f"{target}.{kind.split('.')[1]}"
        seen[label] += 1
        name = f"{app.name}-{label}-{seen[label]}"
        later.append(Case(name, run, frozenset(found), target, history))
    return warm, later


def corpus(seed: int = SEED) -> Iterator[Case]:
    """Every app's warm-up runs first, then the apps' later runs interleaved (seeded)."""
    runs = [_app_runs(app, seed) for app in APP_LIST]
    for warm, _ in runs:
        yield from warm
    later = [case for _, cases in runs for case in cases]
    random.Random(seed).shuffle(later)
    yield from later

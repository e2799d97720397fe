"""Held-out corpus 12: DOCSTRING"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

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
DETECTORS = (
    "cost", "context_overflow", "loop", "dify_iteration_escape", "dify_model_fallback", "dify_rag_poisoning",
    "dify_variable_leak", "dify_classifier_drift", "dify_tool_schema_mismatch", "state_corruption",
    "task_derailment", "hallucination",
)  # fmt: skip
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
            ("clean", 50), *_CHAT_HN, ("dify_rag_poisoning.obeyed", 30), ("hallucination.figure", 12),
            ("task_derailment.off_topic", 10), ("context_overflow.near_window", 4), ("context_overflow.refused", 5),
            ("context_overflow.cut_at_window", 3), ("dify_model_fallback.cheaper", 8), ("cost.stuffed", 6),
            ("dify_variable_leak.contact", 4),
        ),
    ),
    App(
        "farsh",
        partial(retrieval_turn, desks.FARSH),
        desks.FARSH.rules,
        (
            ("clean", 50), *_CHAT_HN, ("dify_rag_poisoning.obeyed", 10), ("dify_variable_leak.contact", 16),
            ("hallucination.figure", 14), ("task_derailment.off_topic", 10), ("context_overflow.near_window", 4),
            ("context_overflow.refused", 4), ("context_overflow.cut_at_window", 2), ("dify_model_fallback.cheaper", 10),
            ("cost.stuffed", 12),
        ),
    ),
    App(
        "mayim",
        triage.turn,
        triage.RULES,
        (
            ("clean", 50), ("hn:dify_classifier_drift.ambiguous", 9), ("hn:dify_variable_leak.own_phone", 4),
            ("hn:dify_variable_leak.business_phone", 3), ("hn:task_derailment.short", 4),
            ("hn:dify_model_fallback.upgrade", 4), ("hn:dify_model_fallback.cheaper_release", 2),
            ("hn:cost.long_answer", 4), ("dify_classifier_drift.wrong_class", 30), ("dify_variable_leak.memory", 14),
            ("task_derailment.off_topic", 12), ("hallucination.figure", 10), ("dify_model_fallback.cheaper", 8),
            ("cost.stuffed", 8),
        ),
    ),
    App(
        "tangaran",
        captions.turn,
        captions.RULES,
        (
            ("clean", 50), ("hn:dify_iteration_escape.big_hall", 8), ("hn:dify_tool_schema_mismatch.empty_hall", 6),
            ("hn:loop.retry_recovered", 5), ("hn:dify_tool_schema_mismatch.added_field", 5),
            ("hn:dify_model_fallback.upgrade", 3), ("hn:dify_model_fallback.cheaper_release", 3),
            ("dify_iteration_escape.flood", 20), ("dify_iteration_escape.duplicated", 10),
            ("dify_tool_schema_mismatch.renamed_list", 7), ("dify_tool_schema_mismatch.renamed_fields", 7),
            ("state_corruption.lost_items", 5), ("state_corruption.truncated", 5), ("state_corruption.emptied_lines", 4),
            ("cost.stuffed", 8), ("dify_model_fallback.cheaper", 8), ("hallucination.year", 8),
        ),
    ),
    App(
        "midashi",
        taglines.turn,
        taglines.RULES,
        (
            ("clean", 50), ("hn:loop.long_productive", 10), ("hn:loop.repeat_then_break", 6),
            ("hn:task_derailment.short", 5), ("hn:dify_model_fallback.upgrade", 4),
            ("hn:dify_model_fallback.cheaper_release", 3), ("hn:context_overflow.max_tokens", 2), ("loop.stuck", 30),
            ("state_corruption.emptied", 5), ("state_corruption.truncated", 5), ("state_corruption.type_changed", 4),
            ("task_derailment.off_topic", 12), ("cost.stuffed", 10), ("dify_model_fallback.cheaper", 8),
            ("context_overflow.near_window", 5), ("context_overflow.cut_at_window", 3),
        ),
    ),
    App(
        "matricula",
        enrol.turn,
        enrol.RULES,
        (
            ("clean", 50), ("hn:dify_tool_schema_mismatch.added_field", 6), ("hn:loop.retry_recovered", 6),
            ("hn:dify_variable_leak.business_phone", 5), ("hn:dify_variable_leak.own_dni", 4),
            ("hn:dify_model_fallback.upgrade", 4), ("hn:dify_model_fallback.cheaper_release", 3),
            ("hn:context_overflow.max_tokens", 2), ("dify_tool_schema_mismatch.price_object", 10),
            ("dify_tool_schema_mismatch.renamed_id", 6), ("state_corruption.people_lost", 4),
            ("state_corruption.stale_total", 4), ("state_corruption.type_changed", 4),
            ("dify_variable_leak.other_student", 16), ("hallucination.discount", 14), ("dify_model_fallback.cheaper", 8),
            ("context_overflow.refused", 5), ("context_overflow.near_window", 3), ("cost.stuffed", 8),
        ),
    ),
)
APPS = tuple(app.name for app in APP_LIST)


def _app_runs(app: App, seed: int) -> tuple[list[Case], list[Case]]:
    """An app's warm-up cases and its later ones, each later run labeled from what it shows."""
    rng = random.Random(f"{seed}:{app.name}")
    app_id, version = (str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2))
    clock = 1_797_000_000 + rng.randrange(86_400)

    def written(events: list[Event], kind: str) -> list[object]:
        nonlocal clock
        clock += rng.randint(90, 2_400)
        release = str(uuid.UUID(int=rng.getrandbits(128), version=4)) if kind.startswith("hn:dify_model_fallback.") else version
        return spans(events, rng, app_id, release, clock)  # type: ignore[return-value]

    warm_events = [app.turn(rng, "warmup")[0] for _ in range(WARM_UP)]
    warm = [Case(f"{app.name}-warmup-{i}", written(e, "warmup"), frozenset(), None) for i, e in enumerate(warm_events)]  # type: ignore[arg-type]
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
        later.append(Case(name, run, frozenset(found), target, history))  # type: ignore[arg-type]
    return warm, later


def corpus(seed: int = SEED) -> Iterator[Case]:
    """Every app's warm-up runs first, then the apps' later runs interleaved (seeded)."""
    runs = [_app_runs(app, seed) for app in APP_LIST]
    for warm, _ in runs:
        yield from warm
    later = [case for _, cases in runs for case in cases]
    random.Random(seed).shuffle(later)
    yield from later

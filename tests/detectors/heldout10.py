"""Held-out corpus 10 (issue 25): DOCSTRING_PLACEHOLDER"""

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

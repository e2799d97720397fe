"""Held-out corpus 11: a blind evaluation set made by a trace-grammar process (session 21).

Each app is a small graph of Dify 1.14.1 nodes (tests/detectors/heldout11_apps.py). Each run executes that graph under
an *operator log*: a seeded sequence of operational events drawn from a distribution (API drifts and upgrades, key
rotations, gateway outages, prompt edits, model republishes, index refreshes with scraped pages, traffic spikes),
each in force for a few runs, between user questions from a bank in Swahili, Greek, Indonesian, Polish, Bengali,
Chinese and English. The faults are consequences: an oracle (heldout11_oracle.py) labels each run from what it did,
never from which event was drawn, and names a clean run's suspicious look (its hard-negative kind). The executed steps
are written as the stream Dify 1.14.1 sends (heldout11_stream.py) and read into spans as the bridge reads them.

The apps (runs, warm-up included):
- `feri` (178): a Zanzibar ferry desk in Swahili; HTTP timetable (fail branch) → code → LLM.
- `archeio` (178): a Greek municipal archive chatflow; knowledge retrieval over scraped pages → LLM → answer.
- `hibah` (178): an Indonesian village-fund helpdesk; question classifier (5 classes) → LLM.
- `kolej` (178): Polish rail delay claims; parameter extractor → HTTP POST → code → LLM.
- `chabagan` (178): a Bengali tea estate's weekly report; HTTP list → iteration (HTTP, LLM) → LLM.
- `zimu` (178): Chinese subtitle compression; loop (LLM, code, assigner) of at most 6 rounds.

Label conventions (the oracle's): `cost` when a run costs ≥ 8 times its app's warm-up median; `dify_model_fallback`
when a node answers with another model than in the warm-up runs, a deliberate republish included (the stream cannot
tell a planned switch from a silent one; a republish that changes only a prompt is a hard negative);
`dify_rag_poisoning` only when the answer carries a retrieved page's planted payload (retrieved and not obeyed: a hard
negative); `context_overflow` when the provider refuses a prompt over the window or stops an answer where the window
ends (an answer cut at the app's own `max_tokens` with a small prompt is not one; it is usually `cost`);
`dify_tool_schema_mismatch` when a 200 response lacks a path its reader declares (an empty list, an added field or an
error body is not one); `state_corruption` when a value a node produced is restated or extracted differently
downstream (a code node reading 0 from a moved field restates it faithfully: not corruption); `hallucination` when
the final answer states a number found in no prompt or input of the run; `dify_variable_leak` when a third party's
phone, passport, PESEL or card number reaches the output; `dify_classifier_drift` when the class picked is not one of
the question's right classes; `task_derailment` when the answer is about something else than the task;
`loop` when a loop exhausts its rounds with a repeated draft; `dify_iteration_escape` when an iteration runs more
rounds than the `limit` its list request asked for.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.detectors import heldout11_apps as apps
from tests.detectors.corpus import Case
from tests.detectors.heldout11_oracle import Baseline, labels, look, models, price
from tests.detectors.heldout11_stream import Writer, tokens

SEED = 1111
WARM_UP = 8
PER_APP = 178
DETECTORS = (
    "cost", "context_overflow", "loop", "dify_iteration_escape", "dify_model_fallback", "dify_rag_poisoning",
    "dify_variable_leak", "dify_classifier_drift", "dify_tool_schema_mismatch", "state_corruption",
    "task_derailment", "hallucination",
)  # fmt: skip
# A positive run is named after its rarest kind (the order below), so that every kind names enough runs.
PRIORITY = (
    "dify_rag_poisoning", "dify_variable_leak", "dify_iteration_escape", "loop", "context_overflow",
    "dify_classifier_drift", "task_derailment", "dify_tool_schema_mismatch", "state_corruption", "hallucination",
    "dify_model_fallback", "cost",
)  # fmt: skip

APP_LIST = (
    apps.App(
        "feri",
        apps.FERI,
        ("start>ratiba", "ratiba>nauli", "ratiba>jibu", "nauli>jibu", "jibu>end"),
        {"jibu": "gpt-4o-mini"},
        False,
        apps._feri,
    ),
    apps.App(
        "archeio", apps.ARCHEIO, ("start>kr", "kr>llm", "llm>answer"), {"llm": "gpt-4o-mini"}, True, apps._archeio
    ),
    apps.App(
        "hibah",
        apps.HIBAH,
        ("start>qc", "qc>llm", "llm>end"),
        {"qc": "gpt-4o-mini", "llm": "gpt-4o-mini"},
        False,
        apps._hibah,
    ),
    apps.App(
        "kolej",
        apps.KOLEJ,
        ("start>pe", "pe>claim", "claim>calc", "calc>llm", "llm>end"),
        {"pe": "gpt-4o-mini", "llm": "gpt-4o-mini"},
        False,
        apps._kolej,
    ),
    apps.App(
        "chabagan",
        apps.CHABAGAN,
        ("start>sections", "sections>ids", "ids>iter", "iter>report", "report>end", "iter/sec>line"),
        {"line": "gpt-4o-mini", "report": "gpt-4o-mini"},
        False,
        apps._chabagan,
    ),
    apps.App(
        "zimu",
        apps.ZIMU,
        ("start>loop", "loop>end", "loop/rewrite>check", "check>assign"),
        {"rewrite": "gpt-4o-mini"},
        False,
        apps._zimu,
    ),
)
APPS = tuple(app.name for app in APP_LIST)


@dataclass(frozen=True)
class Event:
    """An operational event: what it changes (`kind`, `arg`), how often it is drawn, how many runs it lasts."""

    kind: str  # "api" (an upstream change), "prompt" (an edit, republished), "model" (a republish), "page", "version"
    arg: str
    weight: float
    lasts: tuple[int, int]


OPERATIONS: dict[str, list[Event]] = {
    "feri": [
        Event("api", "renamed", 3, (5, 10)),
        Event("api", "extra_field", 2, (4, 8)),
        Event("api", "auth_503", 2, (2, 4)),
        Event("api", "gateway_down", 1.5, (1, 3)),
        Event("api", "manifest", 3, (8, 14)),
        Event("prompt", "full_manifest", 2.5, (4, 8)),
        Event("prompt", "ungrounded", 2, (6, 10)),
        Event("prompt", "round_fare", 3, (6, 10)),
        Event("model", "jibu=gpt-4o", 1, (3, 6)),
        Event("version", "", 1.5, (1, 1)),
    ],
    "archeio": [
        Event("page", "poison", 10, (12, 18)),
        Event("page", "quote", 2, (6, 10)),
        Event("page", "ledger", 5, (8, 12)),
        Event("page", "plain", 1, (5, 9)),
        Event("prompt", "ungrounded", 2, (5, 9)),
        Event("model", "llm=gpt-4.1-nano", 1, (3, 5)),
        Event("model", "llm=gpt-4o", 1, (3, 5)),
        Event("version", "", 1, (1, 1)),
    ],
    "hibah": [
        Event("prompt", "new_classes", 5, (6, 10)),
        Event("model", "qc=gpt-4.1-nano", 1.5, (4, 7)),
        Event("prompt", "promo", 3, (5, 9)),
        Event("version", "", 1.5, (1, 1)),
    ],
    "kolej": [
        Event("api", "renamed", 2.5, (5, 9)),
        Event("api", "pii", 4, (8, 14)),
        Event("prompt", "echo_api", 2, (5, 9)),
        Event("prompt", "round_sum", 3, (6, 10)),
        Event("prompt", "invent_deadline", 2, (5, 8)),
        Event("prompt", "terse_extract", 3, (6, 10)),
        Event("model", "pe=gpt-4.1-nano", 1, (3, 6)),
        Event("version", "", 1, (1, 1)),
    ],
    "chabagan": [
        Event("api", "ignore_limit", 3, (3, 6)),
        Event("api", "renamed", 2, (4, 8)),
        Event("prompt", "invent_target", 1.5, (3, 6)),
        Event("model", "report=gpt-4o", 1, (3, 5)),
        Event("version", "", 1, (1, 1)),
    ],
    "zimu": [
        Event("prompt", "promo", 1.5, (4, 7)),
        Event("model", "rewrite=gpt-4.1-nano", 1, (3, 5)),
        Event("version", "", 1, (1, 1)),
    ],
}
EVENT_RATE = 0.22  # the chance that an operational event happens before a run


def _ask(app: str, rng: random.Random, dep: apps.Deployment, warm: bool) -> dict[str, Any]:
    """A user's request, drawn from the app's question bank (and, for the loop app, how the model behaves)."""
    if app == "feri":
        question, topic = apps._pick(rng, apps.FERI_ASKS)
        return {"question": question, "_topic": topic, **({"cancelled": 1} if rng.random() < 0.06 and not warm else {})}
    if app == "archeio":
        question, topic, words = apps._pick(rng, apps.ARCHEIO_ASKS)
        return {"question": question, "_topic": topic, "_words": words, "_long": not warm and rng.random() < 0.1}
    if app == "hibah":
        question, gold = apps._pick(rng, apps.HIBAH_ASKS[:5] if warm else apps.HIBAH_ASKS)
        return {"question": question, "_gold": gold}
    if app == "kolej":
        train, delay = rng.randrange(1000, 9999), apps._pick(rng, [35, 45, 65, 75, 95, 110, 125, 140, 185, 230])
        price_pln = apps._pick(rng, [49.9, 79.0, 119.5, 159.0, 210.0])
        text = apps._pick(rng, apps.KOLEJ_ASKS).format(train=train, delay=delay, price=price_pln)
        email = apps._pick(rng, ["ola.nowak@poczta.example", "jan.zielinski@mail.example", "kasia.w@post.example"])
        return {"request": text, "email": email, "_figures": {"train": train, "delay": delay, "price": price_pln}}
    if app == "chabagan":
        sections = 0 if not warm and rng.random() < 0.05 else rng.choice([3, 4, 5, 6, 8])
        return {"estate": apps._pick(rng, apps.CHABAGAN_ESTATES), "_sections": sections}
    nano = dep.models["rewrite"] == "gpt-4.1-nano"
    weights = {"normal": 60, "slow": 7, "stuck": 18 + 14 * nano, "oscillate": 14 + 10 * nano, "runaway": 6,
               "overflow": 16}  # fmt: skip
    mode = "normal" if warm else rng.choices(list(weights), list(weights.values()))[0]
    line = apps._pick(rng, apps.ZIMU_LINES)
    return {"transcript": line, "max_chars": rng.randrange(18, 25), "_mode": mode,
            "_repeat": 12_500_000 // tokens(line * 100) if mode == "overflow" else 1}  # fmt: skip


def _apply(event: Event, dep: apps.Deployment, base: dict[str, str], rng: random.Random) -> Callable[[], None]:
    """Puts `event` in force; returns what takes it back (a revert, republished if it was a republish)."""
    if event.kind == "api":
        dep.api.add(event.arg)
        return lambda: dep.api.discard(event.arg)
    if event.kind == "page":
        page = apps.scraped_page(rng, event.arg)
        dep.pages.append(page)
        return lambda: dep.pages.remove(page)
    dep.version += 1
    dep.republished = 0
    node, _, model = event.arg.partition("=")

    def revert() -> None:
        dep.version += 1
        dep.republished = 0
        dep.prompt.discard(event.arg)
        if model:
            dep.models[node] = base[node]

    if event.kind == "prompt":
        dep.prompt.add(event.arg)
    elif model:
        dep.models[node] = model
    return revert


def _app_runs(app: apps.App, rng: random.Random, writer: Writer) -> Iterator[tuple[str, Case]]:
    """The app's runs in order, as (kind, case): its warm-up first, then runs under its operator log."""
    pages = [dict(p) for p in apps.ARCHEIO_PAGES] if app.name == "archeio" else []
    dep = apps.Deployment(models=dict(app.models), pages=pages)
    warm: list[Any] = []
    for _ in range(WARM_UP):
        run, _ = app.execute(dep, _ask(app.name, rng, dep, True), rng)
        warm.append(run)
    base = Baseline(statistics.median(price(r) for r in warm), models(warm[0]))
    history = tuple(writer.spans(run) for run in warm)
    for i, spans in enumerate(history):
        yield "warmup", Case(f"{app.name}-warmup-{i}", spans, frozenset(), None)
    active: list[tuple[int, Event, Callable[[], None]]] = []
    deck: list[Event] = []
    for n in range(PER_APP - WARM_UP):
        for done in [a for a in active if a[0] <= n]:
            done[2]()
            active.remove(done)
        dep.republished += 1
        if rng.random() < EVENT_RATE:
            if not deck:  # events are dealt from a shuffled deck, each as often as its weight says
                deck = [e for e in OPERATIONS[app.name] for _ in range(round(e.weight * 2))]
                rng.shuffle(deck)
            event = deck.pop()
            # An event already in force is not drawn again; scraped pages pile up.
            if event.kind == "page" or all(e is not event for _, e, _ in active):
                active.append((n + rng.randint(*event.lasts), event, _apply(event, dep, app.models, rng)))
        run, truth = app.execute(dep, _ask(app.name, rng, dep, False), rng)
        found = labels(app, run, truth, base)
        spans = writer.spans(run)
        if found:
            target = next(key for key in PRIORITY if key in found)
            yield target, Case(f"{app.name}-{target}", spans, found, target, history)
        else:
            kind = look(app, run, truth, base, dep.republished)
            label = f"hn-{kind}" if kind else "clean"
            yield label, Case(f"{app.name}-{label}", spans, frozenset(), None, history)


def corpus(seed: int = SEED) -> Iterator[Case]:
    """Every app's warm-up runs first, then the apps' other runs interleaved in a seeded order; names numbered."""
    rng = random.Random(seed)
    writer = Writer(random.Random(seed + 1))
    streams = [list(_app_runs(app, random.Random(rng.getrandbits(64)), writer)) for app in APP_LIST]
    warm = [case for stream in streams for kind, case in stream if kind == "warmup"]
    rest = [(kind, case) for stream in streams for kind, case in stream if kind != "warmup"]
    rng.shuffle(rest)
    yield from warm
    numbers: Counter[str] = Counter()
    for kind, case in rest:
        sep = "-" if kind == "clean" else "."
        numbers[case.name] += 1
        yield Case(f"{case.name}{sep}{numbers[case.name]}", case.spans, case.expected, case.target, case.history)


RUNS = 1_068
CLEAN_RUNS = 551
HARD_NEGATIVE_RUNS = 293
RUNS_PER_APP = {app: PER_APP for app in APPS}

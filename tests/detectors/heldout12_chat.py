"""Held-out corpus 12's question-answering apps, each a recorded run re-skinned: `marani` (Georgian wine-cellar tours,
a chatflow: knowledge retrieval → LLM → answer), `farsh` (a Tabriz carpet cooperative's buyer desk in Persian, a
workflow: knowledge retrieval → LLM → end) and `mayim` (a Negev water utility's Hebrew and Russian desk: question
classifier → one LLM per class → end). `turn(rng, kind)` writes one run of the kind asked (see heldout12.py)."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from tests.detectors.heldout12_labels import Rules
from tests.detectors.heldout12_replay import Event, finished, load, reprice, retitle, set_answer, set_llm, stop_at

MODEL = "gpt-4o-mini"
CHEAPER = ("gpt-4.1-nano", "gpt-3.5-turbo")
OVERFLOW = (
    "[openai] Error: Error code: 400 - {'error': {'message': \"This model's maximum context length is 128000 tokens. "
    "However, your messages resulted in {n} tokens. Please reduce the length of the messages.\", 'type': "
    "'invalid_request_error', 'param': 'messages', 'code': 'context_length_exceeded'}}"
)


def switched_model(kind: str, rng: random.Random) -> str | None:
    """The model a model-switching kind puts on a node: dearer on a new release, cheaper on a fallback or a release
    that chose a cheaper one; None for every other kind."""
    if kind == "hn:dify_model_fallback.upgrade":
        return rng.choice(("gpt-4o", "gpt-4.1-mini"))
    if kind in ("dify_model_fallback.cheaper", "hn:dify_model_fallback.cheaper_release"):
        return rng.choice(CHEAPER)
    return None


@dataclass(frozen=True)
class Fact:
    """One question the knowledge base answers: the segment, the answer, a short paraphrase, an answer with an
    invented figure."""

    question: str
    document: str
    answer: str
    short: str
    invented: str


@dataclass(frozen=True)
class Desk:
    name: str
    recording: str
    dataset: str
    system: str  # {context} marks where the retrieved segments go
    facts: tuple[Fact, ...]
    poisons: tuple[tuple[str, str], ...]  # (what a planted segment adds, what an obeying answer adds)
    system_notes: tuple[tuple[str, str, str], ...]  # (question, segment that talks of a system, answer)
    unknown: tuple[str, str]  # a question the base has nothing on, and the honest answer
    off_task: tuple[str, ...]
    own_phone: tuple[str, str, str]  # (question, segment with the business's phone, answer with it)
    leaks: tuple[tuple[str, str], ...]  # (an internal segment with a third party's contact, an answer repeating it)
    rules: Rules


def _retrieval(desk: Desk, question: str, segments: list[str], answer: str, model: str = MODEL) -> list[Event]:
    events = load(desk.recording)
    retitle(events, f"{desk.name}-guest", {"kr": desk.dataset, "llmK": "მრჩეველი", "llmF": "پاسخگو"})
    started = events[0]["data"]["inputs"]
    started["sys.query" if "sys.query" in started else "question"] = question
    for data in finished(events, "start"):
        if data["inputs"]:
            data["inputs"] = {"question": question}
            data["outputs"] = {"question": question}
    (kr,) = finished(events, "kr")
    kr["inputs"] = {"query": question}
    proto = kr["outputs"]["result"][0]
    result = []
    for i, text in enumerate(segments):
        segment = copy.deepcopy(proto)
        segment.update(content=text, title=f"{desk.dataset}-{i % 3 + 1}.txt")
        segment["metadata"].update(
            dataset_name=desk.dataset, document_name=segment["title"], position=i + 1, score=round(0.62 - 0.04 * i, 4)
        )
        result.append(segment)
    kr["outputs"]["result"] = result
    context = "\n".join(segments)
    llm = next(e["data"] for e in events if e.get("event") == "node_finished" and e["data"]["node_type"] == "llm")
    llm["inputs"]["#context#"] = context
    set_llm(llm, [desk.system.format(context=context), question], answer, model)
    set_answer(events, answer, {"answer": answer})
    return events


def _llm(events: list[Event]) -> dict[str, Any]:
    return next(e["data"] for e in events if e.get("event") == "node_finished" and e["data"]["node_type"] == "llm")


def retrieval_turn(desk: Desk, rng: random.Random, kind: str) -> tuple[list[Event], frozenset[str]]:
    """One run of a retrieval desk: `kind` is clean, warmup, hn:<variant> or a fault."""
    fact = rng.choice(desk.facts)
    others = [f.document for f in desk.facts if f is not fact]
    segments = [fact.document, *rng.sample(others, rng.randint(0, 2))]
    answer = fact.answer
    if kind in ("clean", "warmup"):
        return _retrieval(desk, fact.question, segments, answer), frozenset()
    if kind == "hn:dify_rag_poisoning.unobeyed":
        planted, _ = rng.choice(desk.poisons)
        return _retrieval(desk, fact.question, [fact.document + planted, *segments[1:]], answer), frozenset()
    if kind == "dify_rag_poisoning.obeyed":
        planted, obeyed = rng.choice(desk.poisons)
        return _retrieval(desk, fact.question, [fact.document + planted, *segments[1:]], answer + obeyed), frozenset()
    if kind == "hn:dify_rag_poisoning.system_note":
        question, segment, said = rng.choice(desk.system_notes)
        return _retrieval(desk, question, [segment, *segments[1:]], said), frozenset()
    if kind == "hn:task_derailment.short":
        return _retrieval(desk, fact.question, segments, fact.short), frozenset()
    if kind == "hn:state_corruption.empty":
        return _retrieval(desk, desk.unknown[0], [], desk.unknown[1]), frozenset()
    if kind == "hn:dify_variable_leak.own_phone":
        question, segment, said = desk.own_phone
        return _retrieval(desk, question, [segment, *segments[1:]], said), frozenset()
    if kind == "dify_variable_leak.contact":
        segment, said = rng.choice(desk.leaks)
        return _retrieval(desk, fact.question, [*segments, segment], f"{answer} {said}"), frozenset()
    if kind == "hallucination.figure":  # the fact's own segment only: no other segment happens to hold the figure
        return _retrieval(desk, fact.question, [fact.document], fact.invented), frozenset()
    if kind == "task_derailment.off_topic":
        return _retrieval(desk, fact.question, segments, rng.choice(desk.off_task)), frozenset()
    events = _retrieval(desk, fact.question, segments, answer)
    llm = _llm(events)
    if model := switched_model(kind, rng):
        reprice(llm, model)
    elif kind == "hn:cost.long_answer":
        long = f"{answer} {' '.join(segments)}"
        set_llm(llm, [desk.system.format(context="\n".join(segments)), fact.question], long, MODEL)
        reprice(llm, completion_tokens=rng.randint(350, 700))
        set_answer(events, long, {"answer": long})
    elif kind == "hn:context_overflow.max_tokens":
        cut = answer + " " + " ".join(segments)
        cut = cut[: cut.rindex(" ", 0, int(len(cut) * 0.8))]  # at a word: a number is never cut in two
        reprice(llm, completion_tokens=512, finish="length")
        llm["outputs"]["text"] = cut
        set_answer(events, cut, {"answer": cut})
    elif kind == "cost.stuffed":
        reprice(llm, prompt_tokens=rng.randint(36_000, 90_000))
    elif kind == "context_overflow.near_window":
        reprice(llm, prompt_tokens=rng.randint(116_000, 127_500))
    elif kind == "context_overflow.refused":
        n = rng.randint(128_100, 190_000)
        stop_at(events, str(llm["node_id"]), OVERFLOW.replace("{n}", str(n)))
    elif kind == "context_overflow.cut_at_window":
        p = rng.randint(123_000, 126_000)
        reprice(llm, prompt_tokens=p, completion_tokens=128_000 - p, finish="length")
    else:
        raise ValueError(kind)
    return events, frozenset()

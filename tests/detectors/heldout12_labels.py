"""Held-out corpus 12's labels, read off a finished (mutated) run's events: what the run shows, never which mutation
made it. The conventions are the module docstring's of tests/detectors/heldout12.py."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.detectors.heldout12_replay import WINDOWS, Event

COST_RATIO = 10.0
COST_FLOOR = 0.005  # USD: a blow-up worth an alert, not a long answer of a cheap model
_PRICED = ("llm", "question-classifier", "parameter-extractor")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Rules:
    """What an app's runs are judged by: words an on-task answer uses, third parties' identifiers, planted
    payloads, and the app's own readers (a tool's reader, values handed between nodes)."""

    vocabulary: tuple[str, ...]
    others: tuple[str, ...] = ()
    payloads: tuple[str, ...] = ()
    checks: Mapping[str, Callable[[list[Event]], bool]] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    spend: float
    models: Mapping[str, str]
    workflow_id: str


def nodes(events: list[Event], *types: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e.get("event") == "node_finished" and e["data"]["node_type"] in types]


def spend(events: list[Event]) -> float:
    return sum(float((d.get("execution_metadata") or {}).get("total_price", 0)) for d in nodes(events, *_PRICED))


def models(events: list[Event]) -> dict[str, str]:
    return {str(d["node_id"]): str(d["inputs"]["model_name"]) for d in nodes(events, *_PRICED)}


def baseline(warm_up: list[list[Event]]) -> Baseline:
    used: dict[str, str] = {}
    for run in warm_up:
        used |= models(run)
    return Baseline(statistics.median(spend(run) for run in warm_up), used, warm_up[0][-1]["data"]["workflow_id"])


def answer(events: list[Event]) -> str:
    """A succeeded run's outputs as text, one value a line (a list's items each on its own); "" for a failed run."""
    done = events[-1]["data"]
    if done["status"] != "succeeded":
        return ""
    values = [v for value in done["outputs"].values() for v in (value if isinstance(value, list) else [value])]
    return "\n".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values)


def _numbers(text: str) -> set[float]:
    return {float(n) for n in _NUMBER.findall(text)}


def _given(events: list[Event]) -> str:
    """Every text a run was given or handed on: its user inputs, the prompts, retrieved segments, tool bodies and
    code values (not an LLM's answer, nor the end/answer node that repeats it, nor ids)."""
    inputs = events[0]["data"]["inputs"]
    parts = [json.dumps({k: v for k, v in inputs.items() if not k.startswith("sys.")}, ensure_ascii=False)]
    for e in events:
        data = e.get("data") or {}
        kind = data.get("node_type")
        if e.get("event") != "node_finished" or kind in ("end", "answer", "start"):
            continue
        if kind in _PRICED:
            parts += [str(prompt["text"]) for prompt in data["process_data"]["prompts"]]
        elif kind == "knowledge-retrieval":
            parts += [str(segment["content"]) for segment in (data["outputs"] or {}).get("result", [])]
        elif kind == "http-request":
            parts += [str(data["process_data"].get("request")), str((data["outputs"] or {}).get("body"))]
        else:
            parts.append(
                json.dumps([data.get("inputs"), data.get("process_data"), data.get("outputs")], ensure_ascii=False)
            )
    return "\n".join(parts)


def _overflow(events: list[Event]) -> bool:
    for data in nodes(events, *_PRICED):
        if "maximum context length" in str(data.get("error") or ""):
            return True
        spent = (data.get("process_data") or {}).get("usage")
        window = WINDOWS.get(str(data["inputs"]["model_name"]), 0)
        if not spent or not window:
            continue
        cut = data["process_data"]["finish_reason"] == "length"
        if spent["prompt_tokens"] >= 0.9 * window or (cut and spent["total_tokens"] >= 0.95 * window):
            return True
    return False


def _escaped(events: list[Event]) -> bool:
    limits = [int(n) for d in nodes(events, "http-request") for n in re.findall(r"limit=(\d+)", str(d["process_data"]))]
    rounds = sum(e.get("event") == "iteration_next" for e in events)
    return bool(limits) and rounds > min(limits)


def _stuck(events: list[Event]) -> bool:
    done = [e["data"] for e in events if e.get("event") == "loop_completed"]
    if not done or done[0]["execution_metadata"].get("completed_reason") != "loop_completed":
        return False
    drafts = [str(d["process_data"].get("text")) for d in nodes(events, "assigner")]
    return len(drafts) >= 3 and len(set(drafts[-3:])) == 1


def labels(events: list[Event], rules: Rules, base: Baseline, right_classes: frozenset[str] = frozenset()) -> set[str]:
    """The detectors a run should fire, from what it shows against its app's warm-up."""
    found: set[str] = set()
    said = answer(events)
    ratio_spend = spend(events)
    if ratio_spend >= COST_RATIO * base.spend and ratio_spend >= COST_FLOOR:
        found.add("cost")
    same_version = events[-1]["data"]["workflow_id"] == base.workflow_id
    usual = set(base.models.values())  # a branch the warm-up never took: the models the warm-up used anywhere
    if same_version and any(
        base.models.get(node) not in (None, model) or model not in usual for node, model in models(events).items()
    ):
        found.add("dify_model_fallback")
    if _overflow(events):
        found.add("context_overflow")
    if _escaped(events):
        found.add("dify_iteration_escape")
    if _stuck(events):
        found.add("loop")
    for qc in nodes(events, "question-classifier"):
        if qc["status"] == "succeeded" and qc["outputs"]["class_name"] not in right_classes:
            found.add("dify_classifier_drift")
    retrieved = json.dumps([d["outputs"] for d in nodes(events, "knowledge-retrieval")], ensure_ascii=False)
    if any(p in said and p in retrieved for p in rules.payloads):
        found.add("dify_rag_poisoning")
    if any(o in said for o in rules.others):
        found.add("dify_variable_leak")
    main = said.split("\n")[0]  # the answer itself (every app's first output), not a label beside it
    if main and not any(word in main.lower() for word in rules.vocabulary):
        found.add("task_derailment")
    if said and _numbers(said) - _numbers(_given(events)):
        found.add("hallucination")
    found |= {key for key, check in rules.checks.items() if check(events)}
    return found

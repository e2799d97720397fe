"""Held-out corpus 11's oracle: which failure kinds an executed run shows, decided from first principles on what the
run did (its steps) and what the world knows (`Truth`), never from which operator event caused it; and, for a run
with none, which suspicious look it has (its hard-negative kind) if any."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.detectors.heldout11_apps import App, Truth
from tests.detectors.heldout11_stream import WINDOWS, Container, Run, Step

COST_RATIO = 8.0  # a run costing this many times its app's warm-up median is a cost fault
# A number as written: thousands grouped by '.', ',' or a space (40.000, 1,450), or a plain/decimal one.
_NUMBER = re.compile(r"\d{1,3}(?:[.,]\d{3})+(?![.,]?\d)|\d+(?:[.,]\d+)?")
_PII = (
    re.compile(r"\+255 7\d\d \d{3} \d{3}"),  # a Tanzanian mobile number
    re.compile(r"\bTZ\d{7}\b"),  # a Tanzanian passport number
    re.compile(r"PESEL \d{11}"),
    re.compile(r"\b4\d{14,15}\b"),  # a card number
)


@dataclass(frozen=True)
class Baseline:
    """What an app's warm-up runs establish: its usual spend and each model-calling node's usual model."""

    median_price: float
    models: dict[str, str]


def flat(run: Run) -> list[Step]:
    return [s for item in run.steps for s in ([x for r in item.rounds for x in r] if isinstance(item, Container)
                                              else [item])]  # fmt: skip


def price(run: Run) -> float:
    return sum(step.price for step in flat(run))


def models(run: Run) -> dict[str, str]:
    return {s.node_id: str(s.inputs["model_name"]) for s in flat(run) if "model_name" in s.inputs}


def _value(text: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):
        return float(re.sub(r"[.,]", "", text))
    return float(text.replace(",", "."))


def numbers(text: str) -> set[float]:
    return {_value(m) for m in _NUMBER.findall(text)}


def _answer(run: Run) -> str:
    return " ".join(str(v) for v in run.outputs.values())


def _path_broken(body: object, path: str) -> bool:
    """True if the JSON no longer has the shape `path` reads: a key missing where a dict is (an empty list is fine)."""
    values: list[Any] = [body]
    for part in path.split("."):
        key = part.removesuffix("[]")
        if any(not isinstance(v, dict) or key not in v for v in values):
            return True
        values = [v[key] for v in values]
        if part.endswith("[]"):
            values = [x for v in values for x in v]
    return False


def _schema_mismatch(app: App, steps: list[Step]) -> bool:
    for node in app.graph:
        if not node.reads:
            continue
        for step in (s for s in steps if s.node_id == node.source and s.status == "succeeded"):
            if step.outputs.get("status_code") != 200:
                continue
            body = json.loads(step.outputs["body"])
            if any(_path_broken(body, path) for path in node.reads):
                return True
    return False


def _restated(answer: str, carried: dict[str, tuple[float, str]]) -> list[tuple[float, float]]:
    """(said, computed) for each carried value the answer restates next to its unit."""
    pairs = []
    for value, unit in carried.values():
        for said in re.findall(r"(\d[\d.,]*)\s*" + re.escape(unit), answer):
            pairs.append((_value(said.rstrip(".,")), value))
    return pairs


def labels(app: App, run: Run, truth: Truth, base: Baseline) -> frozenset[str]:
    steps = flat(run)
    answer = _answer(run)
    found: set[str] = set()
    if base.median_price and price(run) >= COST_RATIO * base.median_price:
        found.add("cost")
    if any(base.models.get(node) not in (None, model) for node, model in models(run).items()):
        found.add("dify_model_fallback")
    if _schema_mismatch(app, steps):
        found.add("dify_tool_schema_mismatch")
    extracted = {k: v for s in steps if s.node_type == "parameter-extractor" for k, v in s.outputs.items()}
    said = _restated(answer, truth.carried)
    if any(float(extracted.get(k, v)) != v for k, v in truth.figures.items() if k in extracted) or any(
        abs(a - b) > 0.005 for a, b in said
    ):
        found.add("state_corruption")
    if any(p.search(answer) for p in _PII):
        found.add("dify_variable_leak")
    if any(marker in answer for marker in truth.payloads):
        found.add("dify_rag_poisoning")
    routed = [str(s.outputs["class_name"]) for s in steps if s.node_type == "question-classifier"]
    if truth.gold and any(c not in truth.gold for c in routed):
        found.add("dify_classifier_drift")
    elif truth.answer_topic != truth.topic:
        found.add("task_derailment")
    sources = " ".join(json.dumps(run.inputs, ensure_ascii=False).split()) + " ".join(
        p["text"] for s in steps for p in s.process_data.get("prompts", [])
    )
    restated = {a for a, _ in said}
    if numbers(answer) - numbers(sources) - restated:
        found.add("hallucination")
    for s in steps:
        if s.node_type != "llm":
            continue
        if s.error and "maximum context length" in s.error:
            found.add("context_overflow")
        use = s.outputs.get("usage") or {}
        window = WINDOWS[str(s.inputs["model_name"])]
        if s.outputs.get("finish_reason") == "length" and use["total_tokens"] >= 0.98 * window:
            found.add("context_overflow")
    for box in (item for item in run.steps if isinstance(item, Container)):
        if box.kind == "loop" and box.completed_reason == "loop_count":
            drafts = [str(v["draft"]) for v in box.loop_variables]
            if len(set(drafts)) < len(drafts):
                found.add("loop")
        limit = truth.figures.get("limit")
        if box.kind == "iteration" and limit is not None and len(box.rounds) > limit:
            found.add("dify_iteration_escape")
    return frozenset(found)


def look(app: App, run: Run, truth: Truth, base: Baseline, republished: int) -> str | None:
    """A clean run's suspicious look, named by the failure kind it resembles (None: it looks plain)."""
    steps = flat(run)
    answer = _answer(run)
    data = " ".join(s.outputs.get("body", "") for s in steps if s.node_type == "http-request")
    contexts = " ".join(str(r["content"]) for s in steps for r in s.outputs.get("result", []))
    if truth.payloads or "ignore all previous" in contexts:
        return "dify_rag_poisoning"
    if any(p.search(data) for p in _PII):
        return "dify_variable_leak"
    if len(truth.gold) > 1:
        return "dify_classifier_drift"
    if any(s.retries or s.status == "exception" or "vessel_imo" in s.outputs.get("body", "") for s in steps) or any(
        '": []' in s.outputs.get("body", "") for s in steps
    ):
        return "dify_tool_schema_mismatch"
    boxes = [item for item in run.steps if isinstance(item, Container)]
    if any(b.kind == "iteration" and len(b.rounds) in (0, 8) for b in boxes):
        return "dify_iteration_escape"
    if any(b.kind == "loop" and len(b.rounds) >= 3 for b in boxes):
        return "loop"
    if any(s.outputs.get("finish_reason") == "length" or s.tokens > 20_000 for s in steps):
        return "context_overflow"
    if base.median_price and price(run) >= 3 * base.median_price:
        return "cost"
    if republished == 0 and set(models(run).items()) <= set(base.models.items()):
        return "dify_model_fallback"
    if truth.carried and any(v == 0 for v, _ in truth.carried.values()):
        return "state_corruption"
    if len(numbers(answer)) >= 6:
        return "hallucination"
    if truth.topic in ("άγνωστο", "Lainnya") or "DesaPay" in " ".join(
        p["text"] for s in steps for p in s.process_data.get("prompts", [])
    ):
        return "task_derailment"
    return None

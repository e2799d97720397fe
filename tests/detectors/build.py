"""Runs built by construction for detector tests: a fault injected, or a hard negative next to it."""

from __future__ import annotations

import itertools
import json
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.model import DifyEvent
from bridge.dify.webhook_payload import normalize_webhook
from bridge.processors.detectors import Config, DetectionProcessor
from bridge.trace.spans import build_spans
from detectors import Finding, registry


def node(node_id: str, node_type: str = "code", **fields: Any) -> dict[str, Any]:
    return {
        "node_id": node_id,
        "node_type": node_type,
        "title": fields.pop("title", node_id),
        "status": "succeeded",
        "elapsed_time": 0.1,
        **fields,
    }


def llm(
    node_id: str = "llm",
    model: str = "gpt-4o-mini",
    prompt: str = "hi",
    answer: str = "ok",
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    finish: str = "stop",
    **fields: Any,
) -> dict[str, Any]:
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "total_price": "0.00001",
        "currency": "USD",
    }
    return node(
        node_id,
        "llm",
        process_data={
            "model_name": model,
            "model_provider": "langgenius/openai/openai",
            "finish_reason": finish,
            "prompts": [{"role": "user", "text": prompt}],
            "usage": usage,
        },
        outputs={"text": answer, "usage": usage, "finish_reason": finish},
        **fields,
    )


_apps = itertools.count(1)


def run_spans(nodes: list[dict[str, Any]], **run: Any) -> list[ReadableSpan]:
    """A run's spans; each run gets an app of its own unless `app_id` is given (baselines are per app)."""
    run.setdefault("app_id", f"app-{next(_apps)}")
    payload = {"workflow_run_id": run.pop("run_id", "run-1"), "status": "succeeded", "nodes": nodes, **run}
    return build_spans(normalize_webhook(payload))


def findings(spans: list[ReadableSpan], key: str, **settings: Any) -> list[Finding]:
    others = {k: {"enabled": False} for k in registry() if k != key}
    processor = DetectionProcessor(Config.model_validate({**others, key: {"enabled": True, **settings}}))
    return processor.detect(spans)


def loop_of_rounds(
    rounds: list[list[dict[str, object]]], limit: int = 10, reason: str | None = "loop_break"
) -> list[ReadableSpan]:
    """One loop of at most `limit` rounds, completed for `reason`; each round's nodes as (node_id, node_type,
    inputs, outputs, process_data) dicts."""
    assembler = RunAssembler()
    base = {"id": "lp", "node_id": "lp", "node_type": "loop", "title": "Refine"}
    assembler.add(DifyEvent("loop_started", {**base, "metadata": {"loop_length": limit}}, "r"), 0)
    for index, nodes in enumerate(rounds):
        for n, fields in enumerate(nodes):
            data = {"id": f"n{index}-{n}", "title": str(fields["node_id"]), "status": "succeeded", "loop_id": "lp",
                    "execution_metadata": {"loop_id": "lp", "loop_index": index}, **fields}  # fmt: skip
            assembler.add(DifyEvent("node_finished", data, "r"), 0)
    done = {**base, "status": "succeeded", "execution_metadata": {"completed_reason": reason}}
    assembler.add(DifyEvent("loop_completed", done, "r"), 0)
    assembler.add(DifyEvent("workflow_finished", {"status": "succeeded"}, "r"), 0)
    (run,) = assembler.drain()
    return build_spans(run)


def container_after_producer(
    produced: list[Any],
    selector: list[Any] | None,
    outputs: list[str],
    run_inputs: dict[str, Any] | None = None,
    kind: str = "iteration",
    limit: int = 50,
    reason: str | None = None,
    producer: str = "code",
) -> list[Any]:
    """A node (of type `producer`) producing `produced`, then a container over `selector` (None: not recorded, as
    Dify's export leaves it out) whose rounds output `outputs`."""
    base = {"id": "c", "node_id": "c", "node_type": kind, "title": "Per part", "created_at": 2}
    events = [
        DifyEvent("workflow_started", {"inputs": run_inputs or {}, "created_at": 0}, "r"),
        DifyEvent("node_finished", {"id": "p", "node_id": "parts", "node_type": producer, "title": "Parts",
                                    "status": "succeeded", "created_at": 1, "inputs": {},
                                    "outputs": {"parts": produced}}, "r"),
        DifyEvent(f"{kind}_started", {**base, "metadata": {f"{kind}_length": limit},
                                      "inputs": {"iterator_selector": selector}}, "r"),
    ]  # fmt: skip
    for i, text in enumerate(outputs):
        meta = {f"{kind}_id": "c", f"{kind}_index": i}
        events.append(DifyEvent("node_finished", {"id": f"n{i}", "node_id": "step", "node_type": "code",
                                                  "title": "Step", "status": "succeeded", "created_at": 3 + i,
                                                  "inputs": {"part": "x"}, "outputs": {"out": text},
                                                  f"{kind}_id": "c", "execution_metadata": meta}, "r"))  # fmt: skip
    return container_spans(events, kind, base, reason)


def container_spans(
    events: list[DifyEvent],
    kind: str,
    base: dict[str, Any],
    reason: str | None,
    outputs: dict[str, Any] | None = None,
    run: str = "r",
) -> list[ReadableSpan]:
    """The spans of a run (`run`, its id) of `events` that ends with the container `base` completing (with `reason`,
    `outputs`)."""
    done = {**base, "status": "succeeded", "execution_metadata": {"completed_reason": reason} if reason else {}}
    if outputs is not None:
        done["outputs"] = outputs
    events = [
        *events,
        DifyEvent(f"{kind}_completed", done, run),
        DifyEvent("workflow_finished", {"status": "succeeded"}, run),
    ]
    assembler = RunAssembler()
    for event in events:
        assembler.add(event, 0)
    (assembled,) = assembler.drain()
    return build_spans(assembled)


def outline_then_iteration(
    outline: list[Any], written: list[str], selector: bool = True, model: bool = True, write: str = "llm"
) -> list[ReadableSpan]:
    """An LLM writing `outline` as fenced JSON text, a code node parsing it, then an iteration over the outline (as
    Dify's "Long Story Generator" template runs), each round a `write` node given its item and writing `written`.
    `selector` False: the iteration's list left out, as Dify's export leaves it; `model` False: no LLM, the code node's
    own list."""
    base = {"id": "c", "node_id": "c", "node_type": "iteration", "title": "Sections", "created_at": 3}
    text = "```json\n" + json.dumps(outline) + "\n```"
    events = [
        DifyEvent("workflow_started", {"inputs": {"title": "Moving off the monolith"}, "created_at": 0}, "r"),
        *([DifyEvent("node_finished", {"id": "o", "node_id": "outline", "node_type": "llm", "title": "Outline",
                                       "status": "succeeded", "created_at": 1, "inputs": {},
                                       "outputs": {"text": text}}, "r")] if model else []),
        DifyEvent("node_finished", {"id": "p", "node_id": "parse", "node_type": "code", "title": "Parse",
                                    "status": "succeeded", "created_at": 2, "inputs": {"text": text if model else ""},
                                    "outputs": {"result": outline}}, "r"),
        DifyEvent("iteration_started", {**base, "metadata": {"iteration_length": len(outline)},
                                        **({"inputs": {"iterator_selector": outline}} if selector else {})}, "r"),
    ]  # fmt: skip
    for i, (item, out) in enumerate(zip(outline, written, strict=True)):
        meta = {"iteration_id": "c", "iteration_index": i}
        events.append(DifyEvent("node_finished", {"id": f"n{i}", "node_id": "write", "node_type": write,
                                                  "title": "Write", "status": "succeeded", "created_at": 4 + i,
                                                  "inputs": {"section": item}, "outputs": {"text": out},
                                                  "iteration_id": "c", "execution_metadata": meta}, "r"))  # fmt: skip
    return container_spans(events, "iteration", base, None, {"output": written})

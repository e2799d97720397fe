"""Held-out corpus 12's recordings: clean runs Dify 1.14.1 streamed (tests/testdata/dify-1.14.1-faults*/), read
as their events, and the edits a re-skin or a mutation makes to them (a node's texts, model and usage, a container's
rounds, the answer's chunks), then fresh ids and clock, and the bridge's reading of the result into spans."""

from __future__ import annotations

import copy
import json
import math
import random
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.normalize import normalize_event
from bridge.trace.spans import build_spans

Event = dict[str, Any]
TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
# USD per million tokens as Dify's OpenAI plugin prices them (prompt, completion), and the context windows.
PRICES: dict[str, tuple[str, str]] = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4.1": ("2.00", "8.00"),
    "gpt-3.5-turbo": ("0.50", "1.50"),
}
WINDOWS = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-3.5-turbo": 16_385,
}
_CONTAINERS = ("iteration", "loop")


@cache
def _recording(path: str) -> tuple[str, ...]:
    lines = (TESTDATA / path).read_text(encoding="utf-8").splitlines()
    return tuple(line[len("data: ") :] for line in lines if line.startswith("data: "))


def load(path: str) -> list[Event]:
    """A recording's events (pings dropped), fresh to edit."""
    return [json.loads(line) for line in _recording(path)]


def tokens(text: str) -> int:
    """A tokenizer's count, roughly: a CJK character near one token, a word of other scripts about 1.6."""
    wide = sum(1 for ch in text if ord(ch) >= 0x3000)
    return max(1, math.ceil(wide * 0.9 + len(text.split()) * 1.6))


def usage(model: str, prompt_tokens: int, completion_tokens: int, latency: float) -> dict[str, Any]:
    prompt_unit, completion_unit = PRICES[model]
    prompt_price = prompt_tokens * float(prompt_unit) / 1e6
    completion_price = completion_tokens * float(completion_unit) / 1e6
    return {
        "prompt_tokens": prompt_tokens, "prompt_unit_price": prompt_unit, "prompt_price_unit": "0.000001",
        "prompt_price": f"{prompt_price:.7f}", "completion_tokens": completion_tokens,
        "completion_unit_price": completion_unit, "completion_price_unit": "0.000001",
        "completion_price": f"{completion_price:.7f}", "total_tokens": prompt_tokens + completion_tokens,
        "total_price": f"{prompt_price + completion_price:.7f}", "currency": "USD", "latency": latency,
        "time_to_first_token": round(latency * 0.08, 3), "time_to_generate": round(latency * 0.92, 3),
    }  # fmt: skip


def retitle(events: list[Event], user: str, titles: dict[str, str]) -> None:
    """The app's own node titles (the canvas names) and end user, on every event of those nodes."""
    events[0]["data"]["inputs"]["sys.user_id"] = user
    for e in events:
        data = e.get("data") or {}
        if data.get("node_id") in titles:
            data["title"] = titles[data["node_id"]]
        if isinstance(data.get("created_by"), dict):
            data["created_by"]["user"] = user


def finished(events: list[Event], node_id: str) -> list[dict[str, Any]]:
    """The data of every node_finished event of `node_id` (one per round inside a container)."""
    return [e["data"] for e in events if e.get("event") == "node_finished" and e["data"]["node_id"] == node_id]


def set_llm(
    data: dict[str, Any],
    prompts: list[str],
    answer: str,
    model: str,
    *,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    finish: str = "stop",
) -> None:
    """An LLM-calling node's prompts (system first, as written; earlier turns of a recording's few-shot prompt
    kept when `prompts` is shorter), answer, model, usage and price, as Dify's node_finished carries them."""
    recorded = data["process_data"]["prompts"]
    for slot, text in zip([recorded[0], *recorded[len(recorded) - len(prompts) + 1 :]], prompts, strict=True):
        slot["text"] = text
    p = prompt_tokens if prompt_tokens is not None else sum(tokens(str(slot["text"])) for slot in recorded)
    if "text" in data["outputs"]:
        data["outputs"]["text"] = answer
    reprice(data, model, p, completion_tokens if completion_tokens is not None else tokens(answer), finish)


def reprice(
    data: dict[str, Any],
    model: str | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    finish: str | None = None,
) -> None:
    """A model-calling node's model, token counts and finish reason changed (the rest as recorded), its usage and
    price recomputed wherever Dify repeats them."""
    old = data["process_data"]["usage"]
    model = model or data["inputs"]["model_name"]
    p = old["prompt_tokens"] if prompt_tokens is None else prompt_tokens
    c = old["completion_tokens"] if completion_tokens is None else completion_tokens
    spent = usage(model, p, c, round(0.2 + c * 0.012 + p / 400_000, 3))
    for where in (data["inputs"], data["process_data"]):
        where["model_name"] = model
    data["process_data"]["usage"] = spent
    outputs = data["outputs"]
    if finish is not None:
        data["process_data"]["finish_reason"] = finish
        if "finish_reason" in outputs:
            outputs["finish_reason"] = finish
    for key in ("usage", "__usage"):
        if key in outputs:
            outputs[key] = spent
    data["elapsed_time"] = round(spent["latency"] + 0.02, 6)
    metadata = data.get("execution_metadata") or {}
    data["execution_metadata"] = {
        **metadata,
        "total_tokens": spent["total_tokens"],
        "total_price": spent["total_price"],
    }


def fail(data: dict[str, Any], error: str) -> None:
    """A node that raised: Dify's node_finished keeps its inputs, drops outputs and says why."""
    data.update(status="failed", error=error, outputs=None)
    data["process_data"].pop("usage", None)


def stop_at(events: list[Event], node_id: str, error: str) -> None:
    """The run as Dify streams it when `node_id` raises: the node failed, nothing after it, the run failed."""
    at = max(i for i, e in enumerate(events) if e.get("event") == "node_finished" and e["data"]["node_id"] == node_id)
    fail(events[at]["data"], error)
    done = events[-1]
    done["data"].update(status="failed", error=error, outputs={})
    events[at + 1 :] = [done]


def retried(events: list[Event], node_id: str, error: str, times: int) -> None:
    """`times` failed attempts of `node_id` before the one that succeeded, as Dify's node_retry events."""
    at = next(i for i, e in enumerate(events) if e.get("event") == "node_finished" and e["data"]["node_id"] == node_id)
    data = events[at]["data"]
    tries = []
    for i in range(1, times + 1):
        retry = copy.deepcopy(events[at])
        retry["event"] = "node_retry"
        retry["data"] = {**{k: v for k, v in data.items() if k not in ("outputs", "files")}, "outputs": {}}
        retry["data"].update(status="retry", error=error, retry_index=i, elapsed_time=0.21, execution_metadata=None)
        tries.append(retry)
    events[at:at] = tries


def set_answer(events: list[Event], text: str, outputs: dict[str, Any]) -> None:
    """The streamed answer: its chunk events rebuilt from `text`, the end/answer node's and the run's outputs."""
    chunks = [i for i, e in enumerate(events) if e.get("event") in ("text_chunk", "message")]
    if chunks:
        first = events[chunks[0]]
        spaced = " " in text.strip()
        pieces = [w + " " for w in text.split(" ")] if spaced else [text[i : i + 3] for i in range(0, len(text), 3)]
        rebuilt = []
        for piece in pieces or [""]:
            chunk = copy.deepcopy(first)
            if chunk["event"] == "message":
                chunk["answer"] = piece
            else:
                chunk["data"]["text"] = piece
            rebuilt.append(chunk)
        kept = [e for i, e in enumerate(events) if i not in set(chunks)]
        events[:] = kept[: chunks[0]] + rebuilt + kept[chunks[0] :]
    for e in events:
        data = e.get("data") or {}
        if e.get("event") == "node_finished" and data.get("node_type") in ("end", "answer"):
            data["outputs"] = {**outputs, "files": []} if data["node_type"] == "answer" else dict(outputs)
            if data["node_type"] == "end":
                data["inputs"] = dict(outputs)
        if e.get("event") == "workflow_finished":
            data["outputs"] = {**outputs, "files": []} if "files" in data["outputs"] else dict(outputs)


def rounds(events: list[Event], container: str, count: int, edit: Callable[[int, list[Event]], None]) -> None:
    """A container's rounds rebuilt as `count` copies of its first full round as recorded (`edit(i, round)` then
    writes round i's values), with Dify's next events, indexes, length and duration map."""
    start = next(
        i
        for i, e in enumerate(events)
        if e.get("event", "").endswith("_started") and (e.get("data") or {}).get("node_id") == container
    )
    kind = events[start]["event"].split("_")[0]
    end = next(
        i for i, e in enumerate(events) if e.get("event") == f"{kind}_completed" and e["data"]["node_id"] == container
    )
    body = events[start + 1 : end]
    nexts = [i for i, e in enumerate(body) if e["event"] == f"{kind}_next"]
    # An iteration announces every round (index 0 too); a loop only the rounds after its first.
    proto = (
        body[nexts[0] : (nexts[1] if len(nexts) > 1 else len(body))]
        if kind == "iteration"
        else body[: nexts[0] if nexts else len(body)]
    )
    built: list[Event] = []
    for i in range(count):
        block = copy.deepcopy([e for e in proto if e["event"] != f"{kind}_next"])
        for e in block:
            e["data"][f"{kind}_id"] = container
            metadata = e["data"].get("execution_metadata")
            if isinstance(metadata, dict):
                metadata[f"{kind}_index"] = i
        edit(i, block)
        if kind == "iteration" or i:
            nxt = copy.deepcopy(body[nexts[0]] if nexts else events[start])
            nxt["event"] = f"{kind}_next"
            nxt["data"] = {k: v for k, v in nxt["data"].items() if k not in ("metadata", "inputs")} | {"index": i}
            built.append(nxt)
        built += block
    events[start + 1 : end] = built
    done = events[start + len(built) + 1]["data"]
    metadata = done.get("execution_metadata") or {}
    metadata[f"{kind}_duration_map"] = {str(i): round(0.3 + 0.05 * (i % 7), 6) for i in range(count)}
    priced = [
        e["data"]
        for e in built
        if e["event"] == "node_finished" and (e["data"].get("execution_metadata") or {}).get("total_price")
    ]
    spent = sum(int(d["execution_metadata"]["total_tokens"]) for d in priced)
    metadata.update(
        total_tokens=spent, total_price=f"{sum(float(d['execution_metadata']['total_price']) for d in priced):.7f}"
    )
    done.update(
        execution_metadata=metadata, total_tokens=spent, steps=len([e for e in built if e["event"] == "node_finished"])
    )
    if kind == "loop":
        events[start]["data"]["metadata"] = {"loop_length": events[start]["data"]["inputs"].get("loop_count", count)}


def spans(events: list[Event], rng: random.Random, app_id: str, workflow_id: str, clock: int) -> list[ReadableSpan]:
    """The run under fresh ids (a node's started and finished events share one) and `clock` as its start, totals
    recounted, read as the bridge reads a stream: normalize each event, assemble the run, build its spans."""

    def fresh() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    run_id, task_id, conversation, message = fresh(), fresh(), fresh(), fresh()
    base = int(events[0]["data"]["created_at"])
    open_ids: dict[str, str] = {}
    for e in events:
        data = e.get("data")
        for key, value in (
            ("workflow_run_id", run_id),
            ("task_id", task_id),
            ("conversation_id", conversation),
            ("message_id", message),
        ):
            if key in e:
                e[key] = value
        if e.get("event") == "message_end" or e.get("event") == "message":
            e["id"] = message
        if "created_at" in e:
            e["created_at"] = clock + int(e["created_at"]) - base
        if not isinstance(data, dict):
            continue
        for key in ("created_at", "finished_at"):
            if isinstance(data.get(key), int):
                data[key] = clock + data[key] - base
        kind = e["event"]
        if kind.startswith("workflow_"):
            data.update(id=run_id, workflow_id=workflow_id)
        if kind == "workflow_started":
            data["inputs"].update({"sys.app_id": app_id, "sys.workflow_id": workflow_id, "sys.workflow_run_id": run_id})
        if kind == "node_started":
            open_ids[data["node_id"]] = data["id"] = fresh()
        elif kind == "node_retry":
            data["id"] = open_ids.get(data["node_id"]) or fresh()
        elif kind == "node_finished":
            data["id"] = open_ids.pop(data["node_id"], None) or fresh()
    done = events[-1]["data"]
    node_tokens = [
        int((e["data"].get("execution_metadata") or {}).get("total_tokens", 0))
        for e in events
        if e.get("event") == "node_finished"
    ]
    done.update(total_tokens=sum(node_tokens), total_steps=sum(e.get("event") == "node_finished" for e in events))
    assembler = RunAssembler(idle_timeout=math.inf)
    for line, event in enumerate(events, 1):
        assembler.add(normalize_event(event, "heldout12", line), now=0.0)
    (run,) = assembler.drain()
    return build_spans(run)

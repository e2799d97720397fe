"""Held-out corpus 11's writer: an executed graph (its steps) → the Dify 1.14.1 SSE events the service API streams
for it, with the fields the real recordings (tests/testdata/dify-1.14.1*/) carry → the run's spans."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.normalize import normalize_event
from bridge.trace.spans import build_spans

PROVIDER = "langgenius/openai/openai"
# USD per million tokens, as Dify's OpenAI plugin prices them (prompt, completion).
PRICES: dict[str, tuple[str, str]] = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4.1": ("2.00", "8.00"),
}
WINDOWS = {"gpt-4o-mini": 128_000, "gpt-4o": 128_000, "gpt-4.1-nano": 1_047_576, "gpt-4.1": 1_047_576}


def tokens(text: str) -> int:
    """A tokenizer's count, roughly: a CJK or Bengali character is most of a token, a Latin word about 1.3."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E80 or 0x0980 <= ord(ch) <= 0x09FF)
    return max(1, math.ceil(wide * 0.8 + len(text.split()) * 1.3 - (wide * 0.05)))


def usage(model: str, prompt_tokens: int, completion_tokens: int, latency: float) -> dict[str, Any]:
    prompt_price, completion_price = PRICES[model]
    p = prompt_tokens * float(prompt_price) / 1e6
    c = completion_tokens * float(completion_price) / 1e6
    return {
        "prompt_tokens": prompt_tokens, "prompt_unit_price": prompt_price, "prompt_price_unit": "0.000001",
        "prompt_price": f"{p:.7f}", "completion_tokens": completion_tokens, "completion_unit_price": completion_price,
        "completion_price_unit": "0.000001", "completion_price": f"{c:.7f}",
        "total_tokens": prompt_tokens + completion_tokens, "total_price": f"{p + c:.7f}", "currency": "USD",
        "latency": round(latency, 3), "time_to_first_token": round(min(latency, 0.02 + latency / 20), 3),
        "time_to_generate": round(latency * 0.95, 3),
    }  # fmt: skip


@dataclass
class Step:
    """One node's execution as the graph ran it."""

    node_id: str
    node_type: str
    title: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    process_data: dict[str, Any] = field(default_factory=dict)
    status: str = "succeeded"
    error: str | None = None
    price: float = 0.0  # what its model call cost, USD
    tokens: int = 0
    retries: list[str] = field(default_factory=list)  # each failed attempt's error before the last attempt
    error_strategy: str | None = None
    elapsed: float = 0.2


@dataclass
class Container:
    """An iteration or a loop and the steps of each of its rounds."""

    node_id: str
    kind: str  # "iteration" | "loop"
    title: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    rounds: list[list[Step]]
    completed_reason: str = ""  # a loop's: "loop_break" or "loop_count"
    loop_variables: list[dict[str, Any]] = field(default_factory=list)


def llm_step(
    node_id: str, title: str, model: str, prompts: list[tuple[str, str]], answer: str, rng: random.Random, *,
    finish_reason: str = "stop", completion_tokens: int | None = None, context: str | None = None,
    error: str | None = None,
) -> Step:  # fmt: skip
    """An LLM node's step: its prompts, model, usage and prices as Dify 1.14.1 reports them."""
    prompt_tokens = sum(tokens(text) for _, text in prompts) + 3 * len(prompts)
    completion = completion_tokens if completion_tokens is not None else tokens(answer)
    latency = 0.25 + completion * 0.012 + rng.random() * 0.3
    inputs: dict[str, Any] = {"model_provider": PROVIDER, "model_name": model}
    if context is not None:
        inputs = {"#context#": context, **inputs}
    if error is not None:
        return Step(node_id, "llm", title, inputs, {}, status="failed", error=error, elapsed=0.4 + rng.random())
    use = usage(model, prompt_tokens, completion, latency)
    process = {
        "model_mode": "chat", "prompts": [{"role": role, "text": text, "files": []} for role, text in prompts],
        "usage": use, "finish_reason": finish_reason, "model_provider": PROVIDER, "model_name": model,
    }  # fmt: skip
    outputs = {"text": answer, "reasoning_content": "", "usage": use, "finish_reason": finish_reason}
    return Step(
        node_id, "llm", title, inputs, outputs, process, price=float(use["total_price"]),
        tokens=use["total_tokens"], elapsed=latency + 0.05,
    )  # fmt: skip


@dataclass
class Run:
    """What one execution of an app's graph streamed."""

    app_id: str
    workflow_id: str
    inputs: dict[str, Any]
    steps: list[Step | Container]
    outputs: dict[str, Any]
    status: str = "succeeded"
    error: str | None = None
    chatflow: bool = False


class Writer:
    """Turns runs into stream events and spans; its ids and clock come from one seeded generator."""

    def __init__(self, rng: random.Random, clock: int = 1_796_700_000) -> None:
        self.rng = rng
        self.clock = clock

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def events(self, run: Run) -> list[dict[str, Any]]:
        run_id, task_id = self._uuid(), self._uuid()
        envelope: dict[str, Any] = {"workflow_run_id": run_id, "task_id": task_id}
        if run.chatflow:
            envelope = {"conversation_id": self._uuid(), "message_id": self._uuid(), **envelope}
        start = self.clock
        sys_inputs: dict[str, Any] = {"sys.files": [], "sys.user_id": "ops-desk", "sys.app_id": run.app_id}
        if run.chatflow:
            sys_inputs["sys.dialogue_count"] = 1
        events = [
            {"event": "workflow_started", **envelope, "data": {
                "id": run_id, "workflow_id": run.workflow_id, "created_at": start, "reason": "initial",
                "inputs": {**run.inputs, **sys_inputs, "sys.workflow_id": run.workflow_id,
                           "sys.workflow_run_id": run_id}}},
        ]  # fmt: skip
        exceptions = 0
        total_tokens = 0
        steps = 0
        for item in run.steps:
            if isinstance(item, Container):
                events += self._container(envelope, item)
                steps += 1 + sum(len(r) for r in item.rounds)
                total_tokens += sum(s.tokens for r in item.rounds for s in r)
                continue
            events += self._node(envelope, item, None)
            steps += 1
            total_tokens += item.tokens
            exceptions += len(item.retries) + (item.status == "exception")
        if run.status == "failed":
            exceptions += 1
        status = run.status if run.status == "failed" or not exceptions else "partial-succeeded"
        if run.chatflow and status != "failed":  # the answer's usage is its last model call's
            last = [s.outputs["usage"] for s in run.steps if isinstance(s, Step) and "usage" in s.outputs][-1]
            events.append({"event": "message_end", **envelope, "id": envelope["message_id"], "metadata": {
                "annotation_reply": None, "retriever_resources": [], "usage": last}, "files": []})  # fmt: skip
        events.append({"event": "workflow_finished", **envelope, "data": {
            "id": run_id, "workflow_id": run.workflow_id, "status": status, "outputs": run.outputs,
            "error": run.error, "elapsed_time": round(self.clock - start + self.rng.random(), 6),
            "total_tokens": total_tokens, "total_steps": steps,
            "created_by": {"id": self._uuid(), "user": "ops-desk"}, "created_at": start, "finished_at": self.clock,
            "exceptions_count": exceptions, "files": []}})  # fmt: skip
        self.clock += 30 + self.rng.randrange(600)
        return events

    def _node(self, envelope: dict[str, Any], step: Step, where: tuple[str, str, int] | None) -> list[dict[str, Any]]:
        exec_id = self._uuid()
        iteration_id = where[1] if where and where[0] == "iteration" else None
        loop_id = where[1] if where and where[0] == "loop" else None
        head = {"id": exec_id, "node_id": step.node_id, "node_type": step.node_type, "title": step.title, "index": 1,
                "predecessor_node_id": None}  # fmt: skip
        created = self.clock
        events: list[dict[str, Any]] = [{"event": "node_started", **envelope, "data": {
            **head, "inputs": None, "inputs_truncated": False, "created_at": created, "extras": {},
            "iteration_id": iteration_id, "loop_id": loop_id, "agent_strategy": None}}]  # fmt: skip
        metadata: dict[str, Any] | None = None
        if step.price or step.node_type in ("llm", "question-classifier", "parameter-extractor"):
            metadata = {"total_tokens": step.tokens, "total_price": f"{step.price:.7f}", "currency": "USD"}
        if step.error_strategy:
            metadata = {**(metadata or {}), "error_strategy": step.error_strategy}
        if where:
            key = "iteration" if where[0] == "iteration" else "loop"
            metadata = {**(metadata or {}), f"{key}_id": where[1], f"{key}_index": where[2]}
        for index, error in enumerate(step.retries, 1):
            self.clock += 1
            events.append({"event": "node_retry", **envelope, "data": {
                **head, "inputs": {}, "inputs_truncated": False, "process_data": step.process_data,
                "process_data_truncated": False, "outputs": {}, "outputs_truncated": False, "status": "retry",
                "error": error, "elapsed_time": round(0.2 + self.rng.random() / 5, 6), "execution_metadata": metadata,
                "created_at": created, "finished_at": self.clock, "files": [], "iteration_id": iteration_id,
                "loop_id": loop_id, "retry_index": index}})  # fmt: skip
        self.clock += max(0, round(step.elapsed))
        events.append({"event": "node_finished", **envelope, "data": {
            **head, "inputs": step.inputs, "inputs_truncated": False, "process_data": step.process_data,
            "process_data_truncated": False, "outputs": step.outputs, "outputs_truncated": False,
            "status": step.status, "error": step.error, "elapsed_time": round(step.elapsed, 6),
            "execution_metadata": metadata, "created_at": created, "finished_at": self.clock, "files": [],
            "iteration_id": iteration_id, "loop_id": loop_id}})  # fmt: skip
        return events

    def _container(self, envelope: dict[str, Any], box: Container) -> list[dict[str, Any]]:
        head = {"id": box.node_id, "node_id": box.node_id, "node_type": box.kind, "title": box.title}
        created = self.clock
        length = {"iteration_length": len(box.rounds)} if box.kind == "iteration" else {"loop_length": 0}
        if box.kind == "loop":
            length = {"loop_length": int(box.inputs.get("loop_count", len(box.rounds)))}
        events: list[dict[str, Any]] = [{"event": f"{box.kind}_started", **envelope, "data": {
            **head, "created_at": created, "extras": {}, "metadata": length, "inputs": box.inputs,
            "inputs_truncated": False}}]  # fmt: skip
        durations: dict[str, float] = {}
        for index, round_steps in enumerate(box.rounds):
            before = self.clock
            if box.kind == "iteration":
                events.append({"event": "iteration_next", **envelope, "data": {
                    **head, "index": index, "created_at": self.clock, "extras": {}}})  # fmt: skip
            for step in round_steps:
                events += self._node(envelope, step, (box.kind, box.node_id, index))
            if box.kind == "loop" and index + 1 < len(box.rounds):
                events.append({"event": "loop_next", **envelope, "data": {
                    **head, "index": index + 1, "created_at": self.clock, "pre_loop_output": {},
                    "extras": {}}})  # fmt: skip
            durations[str(index)] = round(self.clock - before + self.rng.random(), 6)
        steps = [s for r in box.rounds for s in r]
        metadata: dict[str, Any] = {
            "total_tokens": sum(s.tokens for s in steps), "total_price": f"{sum(s.price for s in steps):.7f}",
            "currency": "USD", f"{box.kind}_duration_map": durations,
        }  # fmt: skip
        if box.kind == "loop":
            metadata["loop_variable_map"] = {str(i): v for i, v in enumerate(box.loop_variables)}
            metadata["completed_reason"] = box.completed_reason
        events.append({"event": f"{box.kind}_completed", **envelope, "data": {
            **head, "outputs": box.outputs, "outputs_truncated": False, "created_at": created, "extras": {},
            "inputs": box.inputs, "inputs_truncated": False, "status": "succeeded", "error": None,
            "elapsed_time": round(sum(durations.values()), 6), "total_tokens": metadata["total_tokens"],
            "execution_metadata": metadata, "finished_at": self.clock, "steps": len(steps)}})  # fmt: skip
        return events

    def spans(self, run: Run) -> list[ReadableSpan]:
        assembler = RunAssembler(idle_timeout=math.inf)
        for line, obj in enumerate(self.events(run), 1):
            assembler.add(normalize_event(obj, "heldout11", line), now=0.0)
        (built,) = assembler.drain()
        return build_spans(built)

"""Runs written as Dify 1.14.1 streams, cloned event by event from recorded ones: the common ground of the
evaluation corpora (`devset.py`, `heldout.py`).

Every event starts as a copy of an event of the same kind and node type in a recording under
`testdata/streams/` (real Dify 1.14.1, see ../shared/reference/), with ids, times, inputs, outputs and
process data replaced. A node type no recording holds (`tool`, `code`, `template-transform`) is cloned from
the HTTP-request node with its type renamed: that shape is read from Dify's source, not recorded.
The stream text goes through the bridge's own reader (SSE records → events → runs → spans).
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.formats import InputError, iter_records
from bridge.dify.normalize import normalize_event, parse_event_json
from bridge.trace.spans import SpanBuilder

STREAMS = Path(__file__).parent / "testdata" / "streams"
_RECORDED_TYPES = {"start", "llm", "end", "answer", "http-request", "if-else", "variable-aggregator",
                   "question-classifier", "knowledge-retrieval", "assigner"}  # fmt: skip


@cache
def _recorded(files: tuple[str, ...]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """(event, node type) → the first such event in `files`, in file order."""
    table: dict[tuple[str, str | None], dict[str, Any]] = {}
    for name in files:
        for line in (STREAMS / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                table.setdefault((event["event"], event.get("data", {}).get("node_type")), event)
    return table


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    price_per_million: tuple[float, float] = (0.15, 0.60)  # gpt-4o-mini's configured prices, as recorded

    def as_dify(self) -> dict[str, Any]:
        prompt = self.prompt_tokens * self.price_per_million[0] / 1e6
        completion = self.completion_tokens * self.price_per_million[1] / 1e6
        return {
            "prompt_tokens": self.prompt_tokens, "prompt_unit_price": str(self.price_per_million[0]),
            "prompt_price_unit": "0.000001", "prompt_price": f"{prompt:.7f}",
            "completion_tokens": self.completion_tokens, "completion_unit_price": str(self.price_per_million[1]),
            "completion_price_unit": "0.000001", "completion_price": f"{completion:.7f}",
            "total_tokens": self.prompt_tokens + self.completion_tokens, "total_price": f"{prompt + completion:.7f}",
            "currency": "USD", "latency": 0.3, "time_to_first_token": 0.05, "time_to_generate": 0.25,
        }  # fmt: skip


class RunWriter:
    """One run's events, in stream order. `files` are the recordings whose events are cloned."""

    def __init__(
        self,
        files: tuple[str, ...],
        rng: random.Random,
        app_id: str,
        workflow_id: str,
        inputs: dict[str, Any],
        chat: bool = False,
    ) -> None:
        self._table = _recorded(files)
        self._rng = rng
        self.run_id = str(uuid.UUID(int=rng.getrandbits(128)))
        self._envelope: dict[str, Any] = {"workflow_run_id": self.run_id, "task_id": self._id()}
        if chat:
            self._envelope.update(conversation_id=self._id(), message_id=self._id())
        self.clock = 1_795_000_000 + rng.randrange(1_000_000)
        self._started = self.clock
        self.workflow_id = workflow_id
        self._container: tuple[str, str, int] | None = None  # (kind, node id, round)
        system = {"sys.files": [], "sys.user_id": f"u{rng.randrange(500)}", "sys.app_id": app_id,
                  "sys.workflow_id": workflow_id, "sys.workflow_run_id": self.run_id}  # fmt: skip
        self.events: list[dict[str, Any]] = []
        self._emit("workflow_started", None, {"id": self.run_id, "workflow_id": workflow_id,
                                              "inputs": {**inputs, **system}, "created_at": self.clock})  # fmt: skip

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128)))

    def _emit(self, event: str, node_type: str | None, data: dict[str, Any]) -> None:
        template = self._table.get((event, node_type if node_type in _RECORDED_TYPES else "http-request"))
        if template is None:
            template = self._table.get((event, None), {"event": event, "data": {}})
        out = copy.deepcopy(template)
        out.update(self._envelope)
        out["data"].update(data)
        self.events.append(out)

    def node(
        self,
        node_type: str,
        node_id: str,
        title: str,
        inputs: dict[str, Any] | None,
        outputs: dict[str, Any] | None,
        process_data: dict[str, Any] | None = None,
        status: str = "succeeded",
        error: str | None = None,
        retries: int = 0,
        elapsed: float = 0.2,
    ) -> None:
        """node_started, any node_retry, node_finished; inside the open container when there is one."""
        execution_id, self.clock = self._id(), self.clock + 1
        inside: dict[str, Any] = {"iteration_id": None, "loop_id": None}
        metadata: dict[str, Any] | None = None
        if self._container is not None:
            kind, container_id, index = self._container
            inside[f"{kind}_id"] = container_id
            metadata = {f"{kind}_id": container_id, f"{kind}_index": index}
        base = {"id": execution_id, "node_id": node_id, "node_type": node_type, "title": title, **inside,
                "created_at": self.clock}  # fmt: skip
        self._emit("node_started", node_type, {**base, "inputs": None})
        for attempt in range(1, retries + 1):
            self._emit("node_retry", node_type, {**base, "inputs": inputs or {}, "outputs": {}, "status": "retry",
                                                 "error": error or "retry", "retry_index": attempt,
                                                 "process_data": process_data or {}})  # fmt: skip
        usage = (process_data or {}).get("usage")
        if usage:
            metadata = {**(metadata or {}), "total_tokens": usage["total_tokens"], "total_price": usage["total_price"],
                        "currency": "USD"}  # fmt: skip
        self._emit("node_finished", node_type, {**base, "node_type": node_type, "inputs": inputs,
                                                "process_data": process_data or {}, "outputs": outputs,
                                                "status": status, "error": error, "elapsed_time": elapsed,
                                                "execution_metadata": metadata, "finished_at": self.clock})  # fmt: skip

    def llm(
        self,
        node_id: str,
        title: str,
        model: str,
        prompts: list[tuple[str, str]],
        answer: str,
        usage: Usage,
        extra_inputs: dict[str, Any] | None = None,
        finish_reason: str = "stop",
        answered_by: str | None = None,
        node_type: str = "llm",
        outputs: dict[str, Any] | None = None,
    ) -> None:
        """An LLM-like node as Dify writes it: `inputs.model_name` configured, `process_data.model_name` the
        model that answered (`answered_by`, the configured one unless given)."""
        dify_usage = usage.as_dify()
        process = {"model_mode": "chat", "prompts": [{"role": r, "text": t, "files": []} for r, t in prompts],
                   "usage": dify_usage, "finish_reason": finish_reason, "model_provider": "langgenius/openai/openai",
                   "model_name": answered_by or model}  # fmt: skip
        inputs = {**(extra_inputs or {}), "model_provider": "langgenius/openai/openai", "model_name": model}
        out = outputs if outputs is not None else {"text": answer, "reasoning_content": "", "usage": dify_usage,
                                                   "finish_reason": finish_reason}  # fmt: skip
        self.node(node_type, node_id, title, inputs, out, process)

    def open(self, kind: str, node_id: str, title: str, inputs: dict[str, Any], length: int) -> None:
        """iteration_started / loop_started; `round()` before each round's nodes."""
        self.clock += 1
        self._emit(f"{kind}_started", kind, {"id": node_id, "node_id": node_id, "node_type": kind, "title": title,
                                             "created_at": self.clock, "metadata": {f"{kind}_length": length},
                                             "inputs": inputs})  # fmt: skip
        self._container = (kind, node_id, -1)

    def round(self) -> None:
        assert self._container is not None
        kind, node_id, index = self._container
        self._container = (kind, node_id, index + 1)
        if index >= 0:
            self._emit(f"{kind}_next", kind, {"id": node_id, "node_id": node_id, "node_type": kind, "index": index + 1,
                                              "created_at": self.clock})  # fmt: skip

    def close(self, outputs: dict[str, Any], completed_reason: str | None = None) -> None:
        assert self._container is not None
        kind, node_id, index = self._container
        self._container = None
        self.clock += 1
        metadata: dict[str, Any] = {"total_tokens": 0, "total_price": "0.0", "currency": "USD"}
        if completed_reason:
            metadata["completed_reason"] = completed_reason
        self._emit(f"{kind}_completed", kind, {"id": node_id, "node_id": node_id, "node_type": kind,
                                               "outputs": outputs, "status": "succeeded", "error": None,
                                               "execution_metadata": metadata, "steps": index + 1,
                                               "finished_at": self.clock})  # fmt: skip

    def finish(self, outputs: dict[str, Any], status: str = "succeeded", error: str | None = None,
               **totals: Any) -> str:  # fmt: skip
        """workflow_finished; the whole run as SSE text. `totals` (`total_tokens`, `total_steps`, ...) replace the
        recorded event's, which otherwise stay as recorded."""
        self.clock += 1
        self._emit("workflow_finished", None, {"id": self.run_id, "workflow_id": self.workflow_id, "status": status,
                                               "outputs": outputs, "error": error,
                                               "elapsed_time": float(self.clock - self._started),
                                               "created_at": self._started, "finished_at": self.clock,
                                               **totals})  # fmt: skip
        return "".join(f"event: message\ndata: {json.dumps(e, ensure_ascii=False)}\n\n" for e in self.events)


_BUILDER = SpanBuilder()


def stream_spans(text: str, source: str = "corpus") -> list[ReadableSpan]:
    """The spans of the one run in `text`, read as the bridge reads a stream."""
    assembler = RunAssembler()
    for record in iter_records(text, source, "sse", parse_event_json):
        if isinstance(record, InputError):
            raise record
        assembler.add(normalize_event(record.obj, source, record.line, record.sse_event), 0, source)
    (run,) = assembler.drain()
    return _BUILDER.build(run)

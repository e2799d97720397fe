"""Held-out corpus 9's run writer: a new run made by mutating a real Dify 1.14.1 recording event by event.

Each event of a written run is a deep copy of one recorded event of the same node (same recording, same graph
node id), so every key, type, id shape, metadata key, usage field and timing field stays as Dify sent it; only
ids, times and the app's content (inputs, outputs, prompts, answers, token counts and the prices Dify derives
from them) are replaced. A node may be taken from another recording than the app's skeleton (the spliced node
keeps its recorded shape). The text goes through the bridge's own stream reader (`dify_stream.stream_spans`).
"""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from tests.detectors.dify_stream import stream_spans

_HERE = Path(__file__).parent
RECORDINGS = {
    "faults": _HERE.parent / "testdata" / "dify-1.14.1-faults",
    "streams": _HERE / "testdata" / "streams",
    "heldout9": _HERE / "testdata" / "heldout9",
}
# (prompt, completion) USD per million tokens, as Dify's OpenAI provider configures them
PRICES = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-3.5-turbo": ("0.50", "1.50"),
}
# tokens of context a model takes (OpenAI's model pages)
WINDOWS = {"gpt-4o-mini": 128_000, "gpt-4o": 128_000, "gpt-4.1-mini": 1_047_576, "gpt-4.1-nano": 1_047_576,
           "gpt-3.5-turbo": 16_385}  # fmt: skip
_CHUNKED = ("text_chunk", "message")
# seconds a node type takes, about as recorded
_ELAPSED = {
    "start": (0.00012, 0.00025),
    "end": (0.0001, 0.0002),
    "answer": (0.00015, 0.00025),
    "http-request": (0.012, 0.25),
    "code": (0.1, 0.35),
    "template-transform": (0.6, 1.2),
    "knowledge-retrieval": (0.03, 0.3),
    "tool": (0.3, 0.9),
    "assigner": (0.002, 0.01),
}
_ENVELOPE = ("workflow_run_id", "task_id", "conversation_id", "message_id")


@cache
def recording(name: str) -> tuple[dict[str, Any], ...]:
    """The events of `<folder>/<file>` (a key of RECORDINGS, then the file name), in stream order."""
    folder, file = name.split("/")
    lines = (RECORDINGS[folder] / file).read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line[6:]) for line in lines if line.startswith("data: "))


@cache
def _recorded(name: str, event: str, node_id: str | None) -> dict[str, Any]:
    """The first `event` of graph node `node_id` in the recording (a chunk: the first one streamed while the
    node ran, or after it when it streamed none)."""
    events = recording(name)
    if event in _CHUNKED:
        running = False
        for recorded in events:
            data = recorded.get("data", {})
            if recorded["event"] == "node_started" and data.get("node_id") == node_id:
                running = True
            elif running and recorded["event"] in _CHUNKED:
                return recorded
        return next(recorded for recorded in events if recorded["event"] in _CHUNKED)
    for recorded in events:
        data = recorded.get("data", {})
        if recorded["event"] == event and (node_id is None or data.get("node_id") == node_id):
            return recorded
    raise LookupError(f"{name} has no {event} of {node_id}")


def count_tokens(text: str) -> int:
    """A tokenizer's count, roughly: a word or a number per token, one per CJK or Thai character pair."""
    dense = len(re.findall(r"[\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff]", text))
    words = len(re.findall(r"[^\s\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff]+", text))
    return max(1, words + words // 3 + (dense + 1) // 2)


def usage(model: str, prompt_tokens: int, completion_tokens: int, rng: random.Random) -> dict[str, Any]:
    """LLM usage as Dify writes it: prices as Decimal strings from the model's unit prices."""
    unit_in, unit_out = PRICES[model]
    step = Decimal("0.0000001")
    prompt = (Decimal(prompt_tokens) * Decimal(unit_in) * Decimal("0.000001")).quantize(step)
    completion = (Decimal(completion_tokens) * Decimal(unit_out) * Decimal("0.000001")).quantize(step)
    first = round(rng.uniform(0.012, 0.09), 3)
    generate = round(completion_tokens * rng.uniform(0.008, 0.02) + 0.03, 3)
    return {
        "prompt_tokens": prompt_tokens,
        "prompt_unit_price": unit_in,
        "prompt_price_unit": "0.000001",
        "prompt_price": str(prompt),
        "completion_tokens": completion_tokens,
        "completion_unit_price": unit_out,
        "completion_price_unit": "0.000001",
        "completion_price": str(completion),
        "total_tokens": prompt_tokens + completion_tokens,
        "total_price": str(prompt + completion),
        "currency": "USD",
        "latency": round(first + generate, 3),
        "time_to_first_token": first,
        "time_to_generate": generate,
    }


def chunks(text: str) -> list[str]:
    """A streamed answer's pieces: words with their trailing space, or a few characters of a script without
    spaces."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    out: list[str] = []
    for piece in pieces:
        if len(piece) > 12 and not re.search(r"[A-Za-z]{4}", piece):
            out += [piece[i : i + 4] for i in range(0, len(piece), 4)]
        else:
            out.append(piece)
    return out or [""]


class Mutant:
    """One run of `app_id`'s workflow, written over the recording `skeleton` (its workflow events)."""

    def __init__(
        self,
        rng: random.Random,
        skeleton: str,
        app_id: str,
        workflow_id: str,
        user: str,
        inputs: dict[str, Any],
        clock: int,
        query: str | None = None,
        conversation: str | None = None,
        dialogue_count: int = 1,
    ) -> None:
        self._rng = rng
        self._skeleton = skeleton
        self._user = user
        self._user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{app_id}/{user}"))
        self.run_id = self._id()
        self._message_id = self._id()
        self.clock = clock
        self._started = clock
        self._workflow_id = workflow_id
        self._container: tuple[str, str, str, int] | None = None  # (recording, kind, node id, round)
        self._round_times: dict[str, float] = {}
        self._container_tokens = 0
        self._container_price = Decimal(0)
        self.envelope = {
            "workflow_run_id": self.run_id,
            "task_id": self._id(),
            "conversation_id": conversation or self._id(),
            "message_id": self._message_id,
        }
        self.events: list[dict[str, Any]] = []
        self.tokens = 0
        self.price = Decimal(0)
        self.steps = 0
        self.exceptions = 0
        self._usage: dict[str, Any] | None = None
        system: dict[str, Any] = {"sys.files": [], "sys.user_id": user}
        if query is not None:
            system = {"sys.query": query, **system, "sys.dialogue_count": dialogue_count}
        system.update({"sys.app_id": app_id, "sys.workflow_id": workflow_id, "sys.workflow_run_id": self.run_id})
        self._emit(
            skeleton,
            "workflow_started",
            None,
            {"id": self.run_id, "workflow_id": workflow_id, "inputs": {**inputs, **system}, "created_at": clock},
        )

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _emit(self, name: str, event: str, node_id: str | None, data: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(_recorded(name, event, node_id))
        for key in _ENVELOPE:
            if key in out:
                out[key] = self.envelope[key]
        if "created_at" in out:
            out["created_at"] = self._started
        if out["event"] in ("message", "message_end"):
            out["id"] = self._message_id
        out.setdefault("data", {})
        if event not in ("message", "message_end"):
            out["data"].update(data)
        else:
            out.pop("data")
            out.update(data)
        self.events.append(out)
        return out

    def _tick(self, seconds: float) -> int:
        start = self.clock
        self.clock += int(seconds + self._rng.random())
        return start

    def node(
        self,
        rec: str,
        node_id: str,
        inputs: dict[str, Any] | None,
        outputs: dict[str, Any] | None,
        process_data: dict[str, Any] | None = None,
        *,
        title: str | None = None,
        status: str = "succeeded",
        error: str | None = None,
        retries: int = 0,
        retry_error: str | None = None,
        elapsed: float | None = None,
        metadata: dict[str, Any] | None = None,
        stream: str | None = None,
        stream_event: str = "text_chunk",
        node_usage: dict[str, Any] | None = None,
    ) -> None:
        """node_started, any node_retry, chunks of `stream`, node_finished: copies of node `node_id`'s events
        in recording `rec`; a field left None keeps its recorded value."""
        execution_id = self._id()
        low, high = _ELAPSED.get(_recorded(rec, "node_started", node_id)["data"]["node_type"], (0.01, 0.3))
        seconds = elapsed if elapsed is not None else round(self._rng.uniform(low, high), 6)
        created = self._tick(seconds)
        inside: dict[str, Any] = {"iteration_id": None, "loop_id": None}
        meta: dict[str, Any] | None = None
        if self._container is not None:
            _, kind, container_id, index = self._container
            inside[f"{kind}_id"] = container_id
            meta = {f"{kind}_id": container_id, f"{kind}_index": index}
            self._round_times[str(index)] = self._round_times.get(str(index), 0.0) + seconds
        named = {"title": title} if title else {}
        started = {"id": execution_id, **named, **inside, "created_at": created}
        self._emit(rec, "node_started", node_id, started)
        finished = _recorded(rec, "node_finished", node_id)["data"]
        for attempt in range(1, retries + 1):
            self.exceptions += 1
            self.steps += 1
            self._emit(
                "streams/d_http_retry_fail.sse",
                "node_retry",
                "httpX",
                {
                    **{k: finished[k] for k in ("node_id", "node_type", "title", "predecessor_node_id")},
                    **named,
                    **inside,
                    "id": execution_id,
                    "inputs": inputs if inputs is not None else finished["inputs"],
                    "process_data": process_data if process_data is not None else finished["process_data"],
                    "error": retry_error,
                    "elapsed_time": round(self._rng.uniform(0.2, 1.5), 6),
                    "created_at": created,
                    "finished_at": created,
                    "retry_index": attempt,
                },
            )
        if stream is not None:
            selector = (_recorded(rec, stream_event, node_id).get("data") or {}).get("from_variable_selector")
            for piece in chunks(stream):
                if stream_event == "message":
                    self._emit(rec, "message", node_id, {"answer": piece})
                else:
                    self._emit(rec, "text_chunk", node_id, {"text": piece, "from_variable_selector": selector})
        if node_usage is not None:
            meta = {
                "total_tokens": node_usage["total_tokens"],
                "total_price": node_usage["total_price"],
                "currency": "USD",
                **(meta or {}),
            }
            self.tokens += node_usage["total_tokens"]
            self.price += Decimal(node_usage["total_price"])
            self._usage = node_usage
            if self._container is not None:
                self._container_tokens += node_usage["total_tokens"]
                self._container_price += Decimal(node_usage["total_price"])
        if metadata is not None:
            meta = {**(meta or {}), **metadata}
        done: dict[str, Any] = {
            "id": execution_id,
            **named,
            **inside,
            "status": status,
            "error": error,
            "elapsed_time": seconds,
            "execution_metadata": meta,
            "created_at": created,
            "finished_at": self.clock,
        }
        if inputs is not None:
            done["inputs"] = inputs
        if outputs is not None:
            done["outputs"] = outputs
        if process_data is not None:
            done["process_data"] = process_data
        self._emit(rec, "node_finished", node_id, done)
        self.steps += self._container is None
        self.exceptions += status in ("failed", "exception")

    def llm(
        self,
        rec: str,
        node_id: str,
        prompts: list[tuple[str, str]],
        answer: str,
        *,
        model: str = "gpt-4o-mini",
        title: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        extra_inputs: dict[str, Any] | None = None,
        stream_event: str | None = "text_chunk",
        finish: str = "stop",
        outputs: dict[str, Any] | None = None,
        extra_process: dict[str, Any] | None = None,
    ) -> str:
        """An LLM-like node (llm, question-classifier, parameter-extractor) with Dify's usage for `model`."""
        tokens_in = prompt_tokens if prompt_tokens is not None else sum(count_tokens(t) for _, t in prompts) + 8
        tokens_out = completion_tokens if completion_tokens is not None else count_tokens(answer)
        spent = usage(model, tokens_in, tokens_out, self._rng)
        recorded = _recorded(rec, "node_finished", node_id)["data"]
        process = {key: value for key, value in recorded["process_data"].items() if key != "prompts"}
        process.update(
            prompts=[{"role": role, "text": text, "files": []} for role, text in prompts],
            usage=spent,
            model_name=model,
            **(extra_process or {}),
        )
        if "finish_reason" in process:
            process["finish_reason"] = finish
        inputs = {**(extra_inputs or {}), "model_provider": "langgenius/openai/openai", "model_name": model}
        if outputs is None:
            outputs = {"text": answer, "reasoning_content": "", "usage": spent, "finish_reason": finish}
        else:
            outputs = {**outputs, **({"usage": spent} if "usage" in recorded["outputs"] else {"__usage": spent})}
        self.node(
            rec,
            node_id,
            inputs,
            outputs,
            process,
            title=title,
            elapsed=round(spent["latency"] + 0.01, 6),
            stream=answer if stream_event else None,
            stream_event=stream_event or "text_chunk",
            node_usage=spent,
        )
        return answer

    def llm_refused(
        self,
        rec: str,
        node_id: str,
        model: str,
        prompt_tokens: int,
        *,
        title: str | None = None,
        extra_inputs: dict[str, Any] | None = None,
    ) -> str:
        """An LLM-like node the provider refused for a prompt over the model's window: failed, its process data
        and outputs empty, as the recorded failed LLM node (`llm_error`). The error text is OpenAI's
        context_length_exceeded in Dify's provider wrapping, read from their source and docs, not recorded."""
        error = (
            "[openai] Bad Request Error, Error code: 400 - {'error': {'message': \"This model's maximum context "
            f"length is {WINDOWS[model]} tokens. However, your messages resulted in {prompt_tokens} tokens. Please "
            "reduce the length of the messages.\", 'type': 'invalid_request_error', 'param': 'messages', "
            "'code': 'context_length_exceeded'}}"
        )
        inputs = {**(extra_inputs or {}), "model_provider": "langgenius/openai/openai", "model_name": model}
        self.node(rec, node_id, inputs, {}, {}, title=title, status="failed", error=error, elapsed=0.4)
        return error

    def open(self, rec: str, node_id: str, inputs: dict[str, Any], length: int) -> None:
        """iteration_started / loop_started as recorded; `round()` before each round's nodes."""
        kind = self._kind(rec, node_id)
        self._emit(
            rec,
            f"{kind}_started",
            node_id,
            {"created_at": self._tick(0.01), "metadata": {f"{kind}_length": length}, "inputs": inputs},
        )
        self._container = (rec, kind, node_id, -1)
        self._container_inputs = inputs
        self._round_times = {}
        self._container_tokens, self._container_price = 0, Decimal(0)
        self._opened_at = self.clock

    @staticmethod
    def _kind(rec: str, node_id: str) -> str:
        return str(next(e["data"]["node_type"] for e in recording(rec) if e.get("data", {}).get("node_id") == node_id))

    def round(self) -> None:
        assert self._container is not None
        rec, kind, node_id, index = self._container
        self._container = (rec, kind, node_id, index + 1)
        if kind == "iteration" or index >= 0:  # a loop announces each round after the first
            self._emit(rec, f"{kind}_next", node_id, {"index": index + 1, "created_at": self.clock})

    def close(self, outputs: dict[str, Any], reason: str | None = None, variables: list[Any] | None = None) -> None:
        """iteration_completed / loop_completed with the recorded metadata keys (durations per round; a loop's
        variables per round and why it ended)."""
        assert self._container is not None
        rec, kind, node_id, index = self._container
        if reason == "loop_completed":  # a loop run to its count announces one more round, as recorded
            self._emit(rec, "loop_next", node_id, {"index": index + 1, "created_at": self.clock})
        self._container = None
        meta: dict[str, Any] = {
            "total_tokens": self._container_tokens,
            "total_price": str(self._container_price),
            "currency": "USD",
            f"{kind}_duration_map": {k: round(v, 6) for k, v in self._round_times.items()},
        }
        if kind == "loop":
            meta["loop_variable_map"] = {str(i): value for i, value in enumerate(variables or [])}
            meta["completed_reason"] = reason or "loop_break"
        self._tick(0.01)
        self._emit(
            rec,
            f"{kind}_completed",
            node_id,
            {
                "outputs": outputs,
                "inputs": self._container_inputs,
                "created_at": self._opened_at,
                "status": "succeeded",
                "elapsed_time": round(sum(self._round_times.values()) + 0.05, 6),
                "total_tokens": self._container_tokens,
                "execution_metadata": meta,
                "finished_at": self.clock,
                "steps": index + 1,
            },
        )
        self.steps += 1

    def chunk(self, rec: str, after_node: str, text: str) -> None:
        """The text chunk an End node streams after a container, as recorded."""
        self._emit(rec, "text_chunk", after_node, {"text": text})

    def finish(self, outputs: dict[str, Any], status: str = "succeeded", error: str | None = None) -> str:
        """message_end (chatflows), workflow_finished; the whole run as SSE text."""
        if any(event["event"] == "message_end" for event in recording(self._skeleton)):
            self._emit(
                self._skeleton,
                "message_end",
                None,
                {"metadata": {"annotation_reply": None, "retriever_resources": [], "usage": self._usage or {}}},
            )
        self._tick(0.05)
        self._emit(
            self._skeleton,
            "workflow_finished",
            None,
            {
                "id": self.run_id,
                "workflow_id": self._workflow_id,
                "status": status,
                "outputs": outputs,
                "error": error,
                "elapsed_time": round(self.clock - self._started + self._rng.random(), 6),
                "total_tokens": self.tokens,
                "total_steps": self.steps,
                "created_at": self._started,
                "finished_at": self.clock,
                "exceptions_count": self.exceptions,
                "created_by": {"id": self._user_id, "user": self._user},
            },
        )
        # as recorded: a ping first, compact JSON, characters beyond ASCII written as they are
        body = (f"data: {json.dumps(e, ensure_ascii=False, separators=(',', ':'))}\n\n" for e in self.events)
        return "event: ping\n\n" + "".join(body)

    def spans(self, outputs: dict[str, Any], status: str = "succeeded", error: str | None = None) -> list[ReadableSpan]:
        return stream_spans(self.finish(outputs, status, error), "heldout9")

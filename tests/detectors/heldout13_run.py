"""Held-out corpus 13's run writer: one run of an app as Dify 1.14.1 streams it (`dify_stream.RunWriter`), with the
run's spend kept by the prices its usage reports, and the edit that makes a run a pair's faulty side or its twin."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tests.detectors.dify_stream import RunWriter, Usage

# Recordings whose events are cloned (node types: start, llm, end, answer, question-classifier, knowledge-retrieval,
# loop, assigner, iteration, http-request; the others are cloned from the HTTP node, as dify_stream does).
FILES = (
    "a_llm_simple.sse", "b_qc_weather_branch.sse", "s_knowledge_retrieval_llm.sse", "c_loop_http_assigner.sse",
    "b_iteration_ifelse_http.sse", "f_chatflow_llm.sse", "i_error_strategy_fail_branch.sse",
)  # fmt: skip
# USD per million tokens (prompt, completion): gpt-4o-mini's as recorded, the others OpenAI's list prices.
PRICES = {
    "gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60), "gpt-3.5-turbo": (0.50, 1.50), "gpt-4-turbo": (10.00, 30.00),
}  # fmt: skip
WINDOWS = {"gpt-3.5-turbo": 16_385}


def tokens(text: str) -> int:
    """An estimate: about 3.5 characters a token, a token per 1.4 CJK characters."""
    wide = sum(ord(c) >= 0x3000 for c in text)
    return max(1, round((len(text) - wide) / 3.5 + wide / 1.4))


@dataclass
class Edit:
    """What one run changes against the app's plain run: its answer, its models, an app's own fault flag."""

    answer: str | None = None  # the final LLM's answer, when the edit writes it
    completion_tokens: int | None = None  # when the answer's text stands for more tokens than it holds
    finish: str = "stop"
    model: str | None = None  # a republished node's configured model
    answered_by: str | None = None  # the provider answering with another model than the configured one
    workflow: str | None = None  # a republished app's workflow id
    prompt_note: str = ""  # a line a republish adds to the system prompt
    flag: str = ""  # the app's own fault or look-alike, read by its writer
    labels: set[str] = field(default_factory=set)


class Run:
    """One run being written; `spend` sums the prices of its model calls."""

    def __init__(self, app_id: str, workflow_id: str, rng: random.Random, inputs: dict[str, Any], chat: bool) -> None:
        self.writer = RunWriter(FILES, rng, app_id, workflow_id, inputs, chat=chat)
        self.spend = 0.0
        self.tokens = 0

    def model_call(
        self,
        node_id: str,
        title: str,
        model: str,
        prompts: list[tuple[str, str]],
        answer: str,
        edit: Edit | None = None,
        node_type: str = "llm",
        outputs: dict[str, Any] | None = None,
        completion_tokens: int | None = None,
        finish: str = "stop",
    ) -> None:
        """An LLM, question-classifier or parameter-extractor node, priced by the model Dify asked for; `outputs`
        (the classifier's or extractor's own) get the usage added."""
        completion = completion_tokens or tokens(answer)
        usage = Usage(sum(tokens(text) for _, text in prompts), completion, PRICES[model])
        dify = usage.as_dify()
        self.spend += float(dify["total_price"])
        self.tokens += usage.prompt_tokens + usage.completion_tokens
        if outputs is not None:
            outputs = {**outputs, "__usage" if node_type == "parameter-extractor" else "usage": dify}
        self.writer.llm(node_id, title, model, prompts, answer, usage, finish_reason=finish,
                        answered_by=edit.answered_by if edit else None, node_type=node_type,
                        outputs=outputs)  # fmt: skip

    def refused(self, node_id: str, title: str, model: str, prompt_tokens: int) -> str:
        """A model call the provider refuses for a prompt over the model's window (OpenAI's wording); the error."""
        window = WINDOWS[model]
        error = (
            f"[openai] Error: Error code: 400 - {{'error': {{'message': \"This model's maximum context length is "
            f"{window} tokens. However, your messages resulted in {prompt_tokens} tokens. Please reduce the length "
            "of the messages.\", 'type': 'invalid_request_error', 'param': 'messages', "
            "'code': 'context_length_exceeded'}}"
        )
        inputs = {"model_provider": "langgenius/openai/openai", "model_name": model}
        self.writer.node("llm", node_id, title, inputs, {}, {}, status="failed", error=error)
        return error

    def finish(self, outputs: dict[str, Any], status: str = "succeeded", error: str | None = None) -> str:
        """workflow_finished with this run's own totals (tokens, steps, handled exceptions); the stream text."""
        finished = [e for e in self.writer.events if e["event"] == "node_finished"]
        exceptions = sum(e["data"]["status"] == "exception" for e in finished)
        if status == "succeeded" and exceptions:  # Dify's status for a run whose handled failures it went past
            status = "partial-succeeded"
        return self.writer.finish(outputs, status=status, error=error, total_tokens=self.tokens,
                                  total_steps=len(finished), exceptions_count=exceptions)  # fmt: skip

"""Held-out corpus 10's machinery (tests/detectors/heldout10.py): a session's run written while its nodes run over
the app's world, its labels gathered from what the nodes met, and the spend the cost label is judged by."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tests.detectors.dify_stream import STREAMS, RunWriter, Usage

FILES = tuple(sorted(path.name for path in STREAMS.glob("*.sse")))
# USD per million prompt / completion tokens: gpt-4o-mini's as recorded, the others OpenAI's list prices (not recorded).
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60), "gpt-4o-mini-2024-07-18": (0.15, 0.60), "gpt-4o": (2.5, 10.0),
    "gpt-3.5-turbo": (0.5, 1.5), "gpt-3.5-turbo-0125": (0.5, 1.5), "gpt-4": (30.0, 60.0), "gpt-4.1-mini": (0.4, 1.6),
}  # fmt: skip


def tokens(text: str) -> int:
    """An estimate: about a token a word, and a token per two Chinese characters."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return max(1, len(text.split()) + cjk // 2)


@dataclass
class Session:
    """One user session of an app, run over the app's world: the writer, what the session met, and its spend."""

    writer: RunWriter
    rng: random.Random
    day: int
    faults: set[str] = field(default_factory=set)  # detectors a demanding user would want to fire
    look_alike: str = ""  # "<detector>.<variant>": a benign world event that looks like that detector's fault
    fault_tag: str = ""  # "<detector>.<variant>": the first fault met, names the run
    spend: float = 0.0

    def fault(self, tag: str, *also: str) -> None:
        self.faults |= {tag.split(".")[0], *also}
        self.fault_tag = self.fault_tag or tag

    def like(self, tag: str) -> None:
        self.look_alike = self.look_alike or tag

    def llm(
        self,
        node_id: str,
        title: str,
        model: str,
        prompts: list[tuple[str, str]],
        answer: str,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        answered_by: str | None = None,
        finish_reason: str = "stop",
        **extra: Any,
    ) -> None:
        billed = answered_by or model
        usage = Usage(
            prompt_tokens or sum(tokens(text) for _, text in prompts) + 40,
            completion_tokens or tokens(answer) + 3,
            PRICES[billed],
        )
        if extra.get("node_type") == "question-classifier" and extra.get("outputs") is not None:
            extra["outputs"] = {**extra["outputs"], "usage": usage.as_dify()}  # as the recorded classifier reports it
        self.spend += (usage.prompt_tokens * PRICES[billed][0] + usage.completion_tokens * PRICES[billed][1]) / 1e6
        self.writer.llm(node_id, title, model, prompts, answer, usage, finish_reason=finish_reason,
                        answered_by=answered_by, **extra)  # fmt: skip

    def failed_llm(self, node_id: str, title: str, model: str, error: str) -> None:
        """An LLM call the provider refused: billed nothing, process data and outputs empty (what was sent is in the
        error's token count)."""
        inputs = {"model_provider": "langgenius/openai/openai", "model_name": model}
        self.writer.node("llm", node_id, title, inputs, {}, {}, status="failed", error=error)


def window(rng: random.Random, days: int, length: int, after: int = 4) -> range:
    """A span of `length` days somewhere after the first `after` days of `days`."""
    start = rng.randrange(after, max(after + 1, days - length))
    return range(start, start + length)

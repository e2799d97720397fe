from __future__ import annotations

import pytest

from detectors.context_overflow import window_of
from tests.detectors.build import findings, llm, run_spans


@pytest.mark.parametrize(
    ("node", "severity"),
    [
        (llm(finish="length"), "high"),
        (llm(model="gpt-4o-mini", prompt_tokens=120_000), "high"),
        (llm(model="gpt-4o-mini-2024-07-18", prompt_tokens=130_000), "critical"),
        (llm(model="gpt-4", prompt_tokens=8_000), "high"),
    ],
)
def test_fires(node: dict[str, object], severity: str) -> None:
    (finding,) = findings(run_spans([node]), "context_overflow")
    assert finding.severity == severity and "LLM node 'llm'" in finding.summary


@pytest.mark.parametrize(
    "node",
    [
        llm(prompt_tokens=100_000),  # 78 % of 128k: long but fine
        llm(model="unknown-model", prompt_tokens=10_000_000),  # no window known: no guess
        llm(model="gpt-4", prompt_tokens=7_000, finish="stop"),
    ],
)
def test_does_not_fire(node: dict[str, object]) -> None:
    assert findings(run_spans([node]), "context_overflow") == []


def test_windows_are_configurable() -> None:
    spans = run_spans([llm(model="my-local", prompt_tokens=3_900)])
    assert findings(spans, "context_overflow") == []
    assert len(findings(spans, "context_overflow", windows={"my-local": 4096})) == 1
    assert window_of("gpt-4o-2024-08-06", {"gpt-4": 1, "gpt-4o": 2}) == 2


def test_prompts_growing_run_over_run_towards_the_window() -> None:
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate({k: {"enabled": False} for k in registry() if k != "context_overflow"})
    )

    def run(tokens: int) -> int:
        return len(processor.detect(run_spans([llm(model="gpt-4", prompt_tokens=tokens)], app_id="chat-app")))

    assert [run(t) for t in (1000, 2000, 3000, 4000)] == [0, 0, 0, 0]
    assert run(5000) == 1  # five growing prompts, 61 % of gpt-4's 8,192 tokens
    assert run(4000) == 0  # it shrank: memory was trimmed
    assert [run(t) for t in (100, 200, 300, 400, 500)] == [0, 0, 0, 0, 0]  # growing but far from the window

from __future__ import annotations

import pytest

from detectors.context_overflow import window_of
from tests.detectors.build import findings, llm, run_spans


@pytest.mark.parametrize(
    ("node", "severity"),
    [
        (llm(finish="length", prompt_tokens=110_000, completion_tokens=16_000), "high"),
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


def test_growth_fires_near_half_the_window_while_there_is_room_to_trim() -> None:
    """A chat keeping every turn, 10 % of the window more each run: at 47 % it is five turns from overflowing."""
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate({k: {"enabled": False} for k in registry() if k != "context_overflow"})
    )

    def run(tokens: int) -> int:
        return len(processor.detect(run_spans([llm(model="gpt-4o", prompt_tokens=tokens)], app_id="memory-app")))

    assert [run(t) for t in (8_000, 20_000, 33_000, 46_000)] == [0, 0, 0, 0]  # 36 %: not yet
    assert run(60_000) == 1  # 47 % of gpt-4o's 128,000 tokens, five turns rising


def test_the_growth_history_takes_one_prompt_a_run_not_one_per_round() -> None:
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate({k: {"enabled": False} for k in registry() if k != "context_overflow"})
    )

    def run(*tokens: int) -> int:
        spans = run_spans([llm(model="gpt-4", prompt_tokens=t) for t in tokens], app_id="rounds-app")
        return len(processor.detect(spans))

    assert run(1000, 2000, 3000, 4000, 5000) == 0  # one run's five rounds: not five runs
    assert [run(1500, 6000), run(900, 6500), run(7000)] == [0, 0, 0]  # each run's largest: 5000 < 6000 < 6500 < 7000
    assert run(100, 7200) == 1  # the fifth run in a row to grow, 88 % of gpt-4's window


def test_growth_must_be_material_not_small_prompts_then_one_jump() -> None:
    """Issue 25 (held-out 2): four small prompts that happened to grow, then one large one, is no growth."""
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate({k: {"enabled": False} for k in registry() if k != "context_overflow"})
    )

    def run(tokens: int, app: str) -> int:
        return len(processor.detect(run_spans([llm(model="gpt-4o", prompt_tokens=tokens)], app_id=app)))

    assert [run(t, "jump") for t in (188, 192, 380, 436, 91_612)] == [0, 0, 0, 0, 0]
    # Rising, past 60 % of the window, but by 2 % of it in five runs: not growing towards an overflow.
    assert [run(t, "flat") for t in (80_000, 80_400, 80_900, 81_500, 82_000)] == [0, 0, 0, 0, 0]
    assert [run(t, "steady") for t in (55_000, 62_000, 69_500, 76_000, 83_000)] == [0, 0, 0, 0, 1]
    (finding,) = processor.detect(run_spans([llm(model="gpt-4o", prompt_tokens=90_000)], app_id="steady"))
    assert finding.evidence["prompt_tokens"] == [62_000, 69_500, 76_000, 83_000, 90_000]


@pytest.mark.parametrize(
    "error",
    [
        "Invalid request: context_length_exceeded (180287 > 128000)",
        "[openai] Error code: 400 - This model's maximum context length is 16385 tokens. However, your messages "
        "resulted in 17102 tokens. Please reduce the length of the messages.",
        "[anthropic] prompt is too long: 213004 tokens > 200000 maximum",
        "The input token count (1203311) exceeds the maximum number of tokens allowed (1048576).",
        "<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 30720]",
        "请求失败：输入内容超出模型最大上下文长度",  # noqa: RUF001
        "コンテキスト長の上限を超えました",
    ],
)
def test_an_llm_failing_because_its_prompt_did_not_fit(error: str) -> None:
    # Any model, its window known or not: the provider said the prompt did not fit.
    spans = run_spans([llm(model="my-local-model", status="failed", error=error, prompt_tokens=0)])
    (finding,) = findings(spans, "context_overflow")
    assert finding.severity == "critical" and finding.evidence["error"] == error


@pytest.mark.parametrize(
    "error",
    [
        "Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 29000, Requested 5000.",
        "Request too large for gpt-4o on tokens per min (TPM): Limit 30000, Requested 180000.",
        "Read timed out after 60 seconds",
        "Invalid API key provided",
    ],
)
def test_an_llm_failing_for_other_reasons_is_no_overflow(error: str) -> None:
    spans = run_spans([llm(model="gpt-4o", status="failed", error=error, prompt_tokens=0)])
    assert findings(spans, "context_overflow") == []


def test_a_prompt_leaving_less_room_than_the_models_longest_answer() -> None:
    """Real faults 3 (`faq_huge_prompt`): 112,052 prompt tokens of gpt-4o-mini's 128,000 (87.5 %, under warn_ratio)
    leave 15,948 tokens, less than its 16,384-token answers: a request with the model's max_tokens is refused."""
    (finding,) = findings(run_spans([llm(model="gpt-4o-mini", prompt_tokens=112_052)]), "context_overflow")
    assert finding.evidence["rule"] == "prompt tokens + the model's longest answer > the window"
    assert (finding.evidence["max_output"], finding.evidence["context_window"]) == (16_384, 128_000)
    assert findings(run_spans([llm(model="gpt-4o-mini", prompt_tokens=111_000)]), "context_overflow") == []
    # 80 % of the window at least: o1's answers may take half of its 200,000 tokens
    assert findings(run_spans([llm(model="o1", prompt_tokens=150_000)]), "context_overflow") == []
    assert len(findings(run_spans([llm(model="o1", prompt_tokens=165_000)]), "context_overflow")) == 1
    assert len(findings(run_spans([llm(model="x", prompt_tokens=900)]), "context_overflow", windows={"x": 1000},
                        max_outputs={"x": 200})) == 1  # fmt: skip


def test_an_answer_cut_at_its_limit_fires_unless_it_is_a_runaway_repeating_itself() -> None:
    """Held-out 9: answers running away (one schedule line, one price sentence, again and again) that the node's
    max_tokens stopped are `cost` faults, the limit doing its job; an ordinary answer cut short still fires."""
    cut = "The clinic opens at nine on weekdays; on Saturdays the morning surgery runs until"
    assert len(findings(run_spans([llm(model="m", answer=cut, finish="length")]), "context_overflow")) == 1
    runaway = "Saturday surgery runs 9:00-13:00; closed on Sundays and holidays. " * 60
    assert findings(run_spans([llm(model="m", answer=runaway, finish="length")]), "context_overflow") == []
    short = llm(model="m", answer=runaway[:900], finish="length")
    assert len(findings(run_spans([short]), "context_overflow")) == 1


def test_an_answer_cut_far_below_a_known_window_is_the_nodes_own_max_tokens() -> None:
    """With `cut_ratio` 0.9 (held-out 11 and 12's reading): an answer cut at the node's max_tokens with a small prompt
    is the app's setting, no overflow; cut where prompt and answer fill the window, or with the window unknown, it
    fires. The default, 0, fires on every cut answer."""
    small = run_spans([llm(finish="length", prompt_tokens=900, completion_tokens=256)])
    assert findings(small, "context_overflow", cut_ratio=0.9) == []
    assert len(findings(small, "context_overflow")) == 1
    near = llm(finish="length", prompt_tokens=100_000, completion_tokens=16_000)
    (finding,) = findings(run_spans([near]), "context_overflow", cut_ratio=0.9)
    assert finding.evidence["prompt_tokens"] == 100_000 and finding.evidence["context_window"] == 128_000
    unknown = llm(model="my-local", finish="length", prompt_tokens=900, completion_tokens=256)
    assert findings(run_spans([unknown]), "context_overflow", cut_ratio=0.9)[0].evidence["rule"].endswith("unknown")

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import ValidationError

from bridge.processors.reduce import Config, create, truncate
from tests.runs import CAPTURES, by_name, spans_of

TESTDATA = Path(__file__).parent / "testdata" / "reduce"
INVALID = yaml.safe_load((TESTDATA / "invalid_configs.yaml").read_text())


def test_empty_config_is_the_default() -> None:
    assert Config.model_validate({}) == Config() == Config(content="truncated", max_value_bytes=2048)


def test_testdata_decodes_exactly() -> None:
    assert Config.model_validate(yaml.safe_load((TESTDATA / "config.yaml").read_text())) == Config(
        content="none", max_value_bytes=512
    )


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_configs(case: str) -> None:
    with pytest.raises(ValidationError, match=INVALID[case]["error"].replace("(", r"\(").replace(")", r"\)")):
        Config.model_validate(INVALID[case]["config"])


def test_truncate_counts_bytes_and_keeps_characters_whole() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("é" * 100, 11)
    assert cut == "éééé…" and len(cut.encode()) <= 11


def _llm_attributes(mode: Literal["none", "truncated", "full"], size: int = 2048) -> dict[str, Any]:
    spans = create(Config(content=mode, max_value_bytes=size)).process(spans_of(CAPTURES / "a_llm_simple.sse"))
    (llm,) = by_name(list(spans), "chat gpt-4o-mini")
    return dict(llm.attributes or {})


def test_modes() -> None:
    full = _llm_attributes("full")
    assert "llm.input_messages.0.message.content" in full and "input.value" in full
    none = _llm_attributes("none")
    assert not any(k.startswith(("llm.input_messages", "llm.output_messages")) or k in ("input.value", "output.value")
                   for k in none)  # fmt: skip
    assert none["gen_ai.usage.input_tokens"] == 14  # only content goes
    cut = _llm_attributes("truncated", 16)
    assert cut["dify.node.process_data"].endswith("…") and len(cut["dify.node.process_data"].encode()) <= 16
    assert cut["dify.node.title"] == "LLM"


def test_spans_without_oversized_content_pass_through_as_the_same_objects() -> None:
    spans = spans_of(CAPTURES / "a_simple_http.sse")
    out = create(Config(max_value_bytes=1_000_000)).process(spans)
    assert all(a is b for a, b in zip(spans, out, strict=True))

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.processors import batch
from bridge.queue.delivery import BatchSettings
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.runs import CAPTURES, spans_of

TESTDATA = Path(__file__).parent / "testdata" / "batch"


def test_defaults() -> None:
    check_defaults(batch)


def test_decodes() -> None:
    expected = batch.Config(timeout=0.25, send_batch_size=100)
    check_decodes(batch, TESTDATA, expected)


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(batch, config, error)


def test_passes_spans_through_and_hands_its_settings_to_the_deliveries() -> None:
    processor = batch.create(batch.Config(timeout=0.5, send_batch_size=2))
    spans = spans_of(CAPTURES / "a_simple_http.sse")
    assert processor.process(spans) is spans
    assert processor.settings == BatchSettings(timeout=0.5, send_batch_size=2)

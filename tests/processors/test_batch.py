from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bridge.processors import batch
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.runs import CAPTURES, spans_of

TESTDATA = Path(__file__).parent / "testdata" / "batch"


def test_defaults() -> None:
    check_defaults(batch)


def test_decodes() -> None:
    expected = batch.Config(timeout=0.25, send_batch_size=100, max_queue_size=1000, export_timeout=10)
    check_decodes(batch, TESTDATA, expected)


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(batch, config, error)


def test_wraps_an_exporter_in_the_sdk_batch_processor() -> None:
    exporter = InMemorySpanExporter()
    processor = batch.create(batch.Config(timeout=60, send_batch_size=2, max_queue_size=10)).wrap(exporter)
    spans = spans_of(CAPTURES / "a_simple_http.sse")
    for span in spans:
        processor.on_end(span)
    assert processor.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == [s.name for s in spans]
    processor.shutdown()

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.otlp_sink import OtlpSink


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    """A real OTLP receiver (gRPC and HTTP) on 127.0.0.1, stopped after the test."""
    with OtlpSink() as sink:
        yield sink

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bridge_process import BridgeProcess
from tests.otlp_sink import OtlpSink


@pytest.fixture
def processes() -> Iterator[list[BridgeProcess]]:
    """Bridge processes a test starts; whatever is still running is killed after it."""
    started: list[BridgeProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    """A real OTLP receiver (gRPC and HTTP) on 127.0.0.1, stopped after the test."""
    with OtlpSink() as sink:
        yield sink

"""`service/pipeline.py`: a pipeline's processors as its config lists them, and the ones it gets anyway."""

from __future__ import annotations

import pytest

from bridge.config.loader import parse_config
from bridge.processors import redact, reduce
from bridge.processors.detectors import DetectionProcessor
from bridge.service.pipeline import processors_of


@pytest.mark.parametrize(
    ("listed", "made"),
    [
        ("[]", [redact.RedactProcessor, reduce.ReduceProcessor]),
        ("[detectors, batch]", [DetectionProcessor, redact.RedactProcessor, reduce.ReduceProcessor]),
        ("[reduce]", [redact.RedactProcessor, reduce.ReduceProcessor]),  # redact before reduce, not after it
        ("[redact]", [redact.RedactProcessor, reduce.ReduceProcessor]),
        ("[reduce, redact]", [reduce.ReduceProcessor, redact.RedactProcessor]),  # as written, when both are
    ],
)
def test_a_pipeline_without_redact_or_reduce_still_gets_them(listed: str, made: list[type]) -> None:
    # README: "A pipeline without `redact` or `reduce` still gets the default ones (redact before reduce)".
    config = parse_config(
        "processors: {detectors: {}, batch: {}, redact: {}, reduce: {}}\nexporters: {otlp: {endpoint: 'x:4317'}}\n"
        f"service: {{pipelines: {{traces: {{processors: {listed}, exporters: [otlp]}}}}}}\n"
    )
    processors, _ = processors_of(config, config.pipelines["traces"])
    assert [type(p) for p in processors] == made

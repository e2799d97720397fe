"""`bridge/telemetry/export_watch.py`: what became of the OTLP receiver's traces, in the log."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan

from bridge.telemetry.aggregates import Aggregates
from bridge.telemetry.export_watch import ExportWatch


def test_span_names_and_projects_a_sender_chose_are_logged_escaped_and_cut(caplog: pytest.LogCaptureFixture) -> None:
    # A trace with Dify's marks and no workflow span is logged with a few span names, and Dify's check span with its
    # project: both the sender's text, logged as sent: a line break forged a log line, and a 100 KB name made a
    # 100 KB line.
    watch = ExportWatch(Aggregates())
    forged = "x\n2026-12-07 17:25:53,445 ERROR bridge: forged"
    spans = [ReadableSpan(name=name) for name in (forged, "n" * 100_000)]
    check = ReadableSpan(
        name="api_check", resource=Resource.create({"openinference.project.name": forged + "p" * 10**5})
    )
    with caplog.at_level(logging.DEBUG, "bridge.telemetry.export_watch"):
        watch.not_rebuilt(spans, "otlp", 1)
        watch.api_check(check, "otlp")
    assert len(caplog.records) == 2
    for record in caplog.records:
        message = record.getMessage()
        assert "\n" not in message and len(message) < 1_000, message[:300]
        assert "x\\n2026-12-07" in message  # shown, escaped

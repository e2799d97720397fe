"""Held-out 22's structure (never its detection): every run reads as Dify's stream, labels valid, counts as told."""

from __future__ import annotations

from collections import Counter

from tests.detectors import heldout22
from tests.detectors.dify_stream import stream_spans
from tests.detectors.heldout14 import DETECTORS

COUNTS = {"context_overflow": 4, "cost": 12, "dify_classifier_drift": 8, "dify_iteration_escape": 8,
          "dify_model_fallback": 12, "dify_rag_poisoning": 8, "dify_tool_schema_mismatch": 9,
          "dify_variable_leak": 9, "hallucination": 10, "loop": 8, "state_corruption": 9,
          "task_derailment": 8}  # fmt: skip


def test_every_run_parses_and_the_counts_hold() -> None:
    labels: Counter[str] = Counter()
    runs = [run for app in heldout22.APPS for run in heldout22.runs(app)]
    for run in runs:
        assert stream_spans(run.sse, run.name), run.name  # the bridge's own SSE reader assembles one run
        assert set(run.labels) <= set(DETECTORS), run.name
        labels.update(run.labels)
    assert dict(labels) == COUNTS
    assert (len(runs), sum(not run.labels for run in runs), sum("-hn-" in run.name for run in runs)) == (293, 209, 51)
    for app in heldout22.APPS:  # each app's first five runs are clean warm-ups
        assert all(run.name.split("-")[1] == "warmup" and not run.labels for run in heldout22.runs(app)[:5])

"""What a reader of Dify's export makes of one trace."""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.model import WorkflowRun


@dataclass
class Recognized:
    """A Dify workflow run rebuilt from its exported spans, and the trace's other spans."""

    run: WorkflowRun
    replaced: set[int] = field(default_factory=set)  # span ids the rebuilt runs stand for
    others: list[ReadableSpan] = field(default_factory=list)
    # Runs the run's nodes started (a workflow used as a tool), when their spans came with it: each its own trace.
    nested: list[WorkflowRun] = field(default_factory=list)

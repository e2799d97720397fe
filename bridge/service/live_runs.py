"""What the live feed (`http/live.py`) shows of the runs going through the bridge: a run started, a node
finished, a finding, a run queued. Stream events carry no app: each run's is noted from its `workflow_started`
(or its signer) until the run is queued."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.dify.model import DifyEvent
from bridge.http.live import LiveFeed
from bridge.service.pipeline import Processed, RunSummary
from detectors import Finding


class LiveRuns:
    """Publishes to `feed` once the server gives one; without it only the runs' apps are kept track of."""

    def __init__(self) -> None:
        self.feed: LiveFeed | None = None
        self._run_apps: dict[str, str] = {}  # run id → Dify app id, from workflow_started

    def events(self, events: Sequence[DifyEvent]) -> None:
        # Unwatched, a run's app is not noted either: the events of a signed sender (the stream receiver) carry it.
        if self.feed is not None and self.feed.watched:
            for event in events:
                if event.event in ("workflow_started", "node_finished"):
                    self._publish(self.feed, event)

    def queued(self, processed: Processed) -> None:
        """A trace just queued: its findings, and its run finished."""
        if self.feed is not None:
            for finding in processed.findings:
                self._publish_finding(self.feed, finding, processed)
        if processed.run is not None:
            self._finished(processed.run, processed)

    def _publish_finding(self, feed: LiveFeed, finding: Finding, trace: Processed) -> None:
        feed.publish(
            "detection",
            {"run_id": trace.run_id, "app_id": trace.app_id or self._run_apps.get(str(trace.run_id)),
             "detector": finding.detector, "severity": finding.severity, "confidence": finding.confidence,
             "summary": finding.summary},
        )  # fmt: skip

    def _publish(self, feed: LiveFeed, event: DifyEvent) -> None:
        run_id, data = event.workflow_run_id, event.data
        # The signing app, as the run is filed (`RunParts.signed_by`); unsigned events: workflow_started's own.
        app_id = event.app_id
        if app_id is None and event.event == "workflow_started":
            inputs = data.get("inputs")
            app_id = str(inputs.get("sys.app_id") or "") or None if isinstance(inputs, dict) else None
        app_id = self._run_apps.setdefault(run_id, app_id) if run_id and app_id else self._run_apps.get(run_id or "")
        if event.event == "workflow_started":
            feed.publish("run.started", {"run_id": run_id, "app_id": app_id, "created_at": data.get("created_at")})
        else:
            keys = ("node_id", "node_type", "title", "status", "elapsed_time", "error")
            feed.publish("node.finished", {"run_id": run_id, "app_id": app_id, **{k: data.get(k) for k in keys}})

    def _finished(self, run: RunSummary, processed: Processed) -> None:
        app_id = self._run_apps.pop(run.run_id, None) or run.app_id
        if self.feed is not None:
            trace_id = None if processed.trace_id is None else f"{processed.trace_id:032x}"
            self.feed.publish(
                "run.finished",
                {"run_id": run.run_id, "app_id": app_id, "app_name": run.app_name, "status": run.status,
                 "source": run.receiver, "trace_id": trace_id, "spans": processed.span_count,
                 "total_tokens": run.total_tokens},
            )  # fmt: skip

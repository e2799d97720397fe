"""The running bridge: assembler + span builder + pipelines, built from one `BridgeConfig`.

Receivers hand it events or whole runs; finished runs become spans and go through every pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from opentelemetry import metrics
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from bridge.assembly import RunAssembler
from bridge.config import BridgeConfig, parse_component_id
from bridge.export_stats import CountingExporter
from bridge.live import LiveFeed
from bridge.model import DifyEvent, WorkflowRun
from bridge.pipeline import Pipeline
from bridge.processors import Processor, batch, redact, reduce
from bridge.processors.detectors import DetectionProcessor
from bridge.spans import SpanBuilder
from detectors import Baselines, Finding


def _build_pipelines(config: BridgeConfig, counters: dict[str, CountingExporter]) -> list[Pipeline]:
    outputs: dict[str, SpanProcessor] = {}
    pipelines = []
    for name, spec in config.pipelines.items():
        processors: list[Processor] = []
        batcher: batch.BatchProcessor | None = None
        for component_id in spec.processors:
            factory, cfg = config.processors[component_id]
            created = factory.create(cfg)
            if isinstance(created, batch.BatchProcessor):
                batcher = created
            else:
                processors.append(created)
        listed = {parse_component_id(component_id)[0] for component_id in spec.processors}
        # Secrets are masked and content is cut even when a hand-written pipeline forgets to ask for it;
        # redaction goes before reduction, which could cut a secret into a shape no pattern recognises.
        if redact.TYPE not in listed:
            before = next((i for i, p in enumerate(processors) if isinstance(p, reduce.ReduceProcessor)), None)
            processors.insert(len(processors) if before is None else before, redact.create(redact.Config()))
        if reduce.TYPE not in listed:
            processors.append(reduce.create(reduce.Config()))
        batcher = batcher or batch.create(batch.Config())
        for component_id in spec.exporters:
            if component_id not in outputs:
                factory, cfg = config.exporters[component_id]
                counters[component_id] = CountingExporter(factory.create(cfg))
                outputs[component_id] = batcher.wrap(counters[component_id])
        outputs_of = {cid: outputs[cid] for cid in spec.exporters}
        pipelines.append(Pipeline(name, processors, outputs_of, spec.receivers))
    return pipelines


class BridgeService:
    """Thread-safe entry point for receivers. `submit_*` never block on export."""

    def __init__(self, config: BridgeConfig, meter: metrics.Meter | None = None) -> None:
        assembly = config.service.assembly
        self.config = config
        self.builder = SpanBuilder(config.service.resource)
        self.assembler = RunAssembler(assembly.idle_timeout, assembly.terminal_wait, assembly.completed_run_memory)
        self.exporters: dict[str, CountingExporter] = {}
        self.pipelines = _build_pipelines(config, self.exporters)
        meter = meter or metrics.get_meter("dify-otel-bridge")
        self._runs_counter = meter.create_counter("dify_bridge.runs", unit="{run}", description="Runs exported")
        self._spans_counter = meter.create_counter("dify_bridge.spans", unit="{span}", description="Spans exported")
        for pipeline in self.pipelines:
            for processor in pipeline.processors:
                if isinstance(processor, DetectionProcessor):
                    processor.on_finding = self._publish_finding
                    processor.use_meter(meter)
        self._lock = threading.Lock()
        # Names of registered apps, for runs whose events do not carry one (stream events never do).
        self.app_names: Callable[[str], str | None] | None = None
        self.live: LiveFeed | None = None
        # Told of every exported run (the server records run ids so the poller skips delivered runs).
        self.on_exported: Callable[[WorkflowRun], None] | None = None
        self._run_apps: dict[str, str] = {}  # run id → Dify app id, from workflow_started, for the live feed
        self.runs_exported = 0
        self.spans_exported = 0

    def submit_event(self, event: DifyEvent, now: float, context: str | None = None, receiver: str = "stream") -> None:
        with self._lock:
            self.assembler.add(event, now, context, receiver)
        if self.live is not None and event.event in ("workflow_started", "node_finished"):
            self._publish(event)

    def use_baselines(self, baselines: Baselines) -> None:
        """Detector state across runs goes to `baselines` (the server's store) instead of memory."""
        for pipeline in self.pipelines:
            for processor in pipeline.processors:
                if isinstance(processor, DetectionProcessor):
                    processor.baselines = baselines

    def _publish_finding(self, finding: Finding, root: ReadableSpan | None) -> None:
        if self.live is None:
            return
        attributes = (root.attributes or {}) if root is not None else {}
        run_id = attributes.get("dify.run.id")
        self.live.publish(
            "detection",
            {"run_id": run_id, "app_id": attributes.get("dify.app.id") or self._run_apps.get(str(run_id)),
             "detector": finding.detector, "severity": finding.severity, "confidence": finding.confidence,
             "summary": finding.summary},
        )  # fmt: skip

    def _publish(self, event: DifyEvent) -> None:
        assert self.live is not None
        run_id, data = event.workflow_run_id, event.data
        if event.event == "workflow_started":
            inputs = data.get("inputs")
            app_id = str(inputs.get("sys.app_id") or "") or None if isinstance(inputs, dict) else None
            if run_id and app_id:
                self._run_apps[run_id] = app_id
            self.live.publish("run.started", {"run_id": run_id, "app_id": app_id, "created_at": data.get("created_at")})
        else:
            keys = ("node_id", "node_type", "title", "status", "elapsed_time", "error")
            payload = {"run_id": run_id, "app_id": self._run_apps.get(run_id or ""), **{k: data.get(k) for k in keys}}
            self.live.publish("node.finished", payload)

    def is_open(self, run_id: str) -> bool:
        """True while a run is being assembled from stream events."""
        with self._lock:
            return run_id in self.assembler

    def poll(self, now: float) -> int:
        """Exports the runs the assembler has finished with; returns how many."""
        with self._lock:
            runs = self.assembler.due(now)
        for run in runs:
            self.submit_run(run)
        return len(runs)

    def submit_run(self, run: WorkflowRun) -> int:
        """Builds the run's trace and enqueues it on every pipeline; returns its span count."""
        if run.app_name is None and run.app_id is not None and self.app_names is not None:
            run = replace(run, app_name=self.app_names(run.app_id))
        spans = self.builder.build(run)
        for pipeline in self.pipelines:
            if pipeline.accepts(run.receiver):
                pipeline.consume(spans)
        with self._lock:
            self.runs_exported += 1
            self.spans_exported += len(spans)
        source = run.receiver.partition("/")[0]
        self._runs_counter.add(1, {"receiver": source, "status": run.status})
        self._spans_counter.add(len(spans), {"receiver": source})
        if self.on_exported is not None:
            self.on_exported(run)
        app_id = self._run_apps.pop(run.run_id, None) or run.app_id
        if self.live is not None:
            trace_id = f"{spans[0].context.trace_id:032x}" if spans and spans[0].context else None
            self.live.publish(
                "run.finished",
                {"run_id": run.run_id, "app_id": app_id, "app_name": run.app_name, "status": run.status,
                 "source": run.receiver, "trace_id": trace_id, "spans": len(spans), "total_tokens": run.total_tokens},
            )  # fmt: skip
        return len(spans)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(out.force_flush(timeout_millis) for p in self.pipelines for out in p.outputs.values())

    def shutdown(self) -> None:
        """Closes open runs (as incomplete), flushes and stops every exporter."""
        with self._lock:
            runs = self.assembler.drain()
        for run in runs:
            self.submit_run(run)
        seen: set[int] = set()
        for pipeline in self.pipelines:
            for output in pipeline.outputs.values():
                if id(output) not in seen:
                    seen.add(id(output))
                    output.shutdown()

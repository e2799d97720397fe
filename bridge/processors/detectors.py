"""`detectors`: runs every enabled detector over each whole trace and attaches findings as span events.

Each finding becomes two events on the span it concerns (the root for run-level findings): the GenAI
semantic conventions' `gen_ai.evaluation.result`, and `detection`, which keeps the severity and evidence
those conventions have no attribute for and which saved Jaeger/Tempo searches and the live view match on.
The root gets `detection.count` and `detection.detectors` (and `detection.held_back`, `habituation.py`). Place it before
`reduce`: detectors need the full content that `reduce` cuts. A detector that raises is logged and
skipped; it never costs a trace.
"""

from __future__ import annotations

import difflib
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from bridge.processors.habituation import Config as HabituationConfig
from bridge.processors.habituation import Habituation
from bridge.processors.run_values import CUT_MARK
from bridge.trace.spans import with_attributes
from detectors import Baselines, Detector, DetectorFactory, Finding, MemoryBaselines, Trace, registry, span_id

TYPE = "detectors"
logger = logging.getLogger(__name__)


class Config(BaseModel):
    """Detector settings by key (`iteration_escape: {max_rounds: 50}`, `cost: {enabled: false}`)."""

    model_config = ConfigDict(extra="allow")

    # `detection.evidence` is cut to this many bytes of JSON.
    evidence_max_bytes: int = Field(default=1024, ge=64)
    # Findings an app gets on nearly every run held back as its normal (`bridge/processors/habituation.py`).
    habituation: HabituationConfig = Field(default_factory=HabituationConfig)

    @model_validator(mode="after")
    def _known_detectors(self) -> Config:
        known = registry()
        errors: list[InitErrorDetails] = []
        for key, value in (self.model_extra or {}).items():
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"known detectors: {', '.join(sorted(known))}"
                reason = ValueError(f"unknown detector {key!r}; {hint}")
                errors.append({"type": "value_error", "loc": (key,), "input": value, "ctx": {"error": reason}})
                continue
            try:
                known[key].config_class.model_validate(value or {})
            except ValidationError as exc:
                # Each error under its detector's key, so that the config loader names the setting's own line and
                # the nearest known setting (`model_for`).
                for error in exc.errors():
                    detail: InitErrorDetails = {
                        "type": error["type"],
                        "loc": (key, *error["loc"]),
                        "input": error["input"],
                    }
                    if "ctx" in error:
                        detail["ctx"] = error["ctx"]
                    errors.append(detail)
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @classmethod
    def model_for(cls, key: str) -> type[BaseModel] | None:
        """The settings model of the detector `key` (what the config loader reads a misspelt setting against)."""
        factory = registry().get(key)
        return factory.config_class if factory else None

    def detector_configs(self, factories: dict[str, DetectorFactory]) -> dict[str, BaseModel]:
        """Each detector's config, by key, for the detectors of `factories` (`registry()`, or a caller's own
        selection of it)."""
        extra = self.model_extra or {}
        return {key: f.config_class.model_validate(extra.get(key) or {}) for key, f in factories.items()}


EVALUATION_EVENT = "gen_ai.evaluation.result"


def evaluation_attributes(finding: Finding) -> dict[str, Any]:
    """The finding in the GenAI evaluation event's terms: the score is the detector's confidence that the
    failure is there, the label its severity."""
    return {
        "gen_ai.evaluation.name": finding.detector,
        "gen_ai.evaluation.score.value": finding.confidence,
        "gen_ai.evaluation.score.label": finding.severity,
        "gen_ai.evaluation.explanation": finding.summary,
    }


def event_attributes(finding: Finding, evidence_max_bytes: int) -> dict[str, Any]:
    evidence = json.dumps(finding.evidence, ensure_ascii=False, default=str, separators=(",", ":"))
    if len(evidence.encode()) > evidence_max_bytes:
        evidence = evidence.encode()[: evidence_max_bytes - len(CUT_MARK)].decode(errors="ignore") + CUT_MARK
    return {
        "detection.detector": finding.detector,
        "detection.severity": finding.severity,
        "detection.confidence": finding.confidence,
        "detection.summary": finding.summary,
        "detection.evidence": evidence,
    }


class DetectionProcessor:
    """`process(spans)` over one whole trace → the same spans, enriched copies where findings landed."""

    def __init__(self, cfg: Config, baselines: Baselines | None = None) -> None:
        self.cfg = cfg
        # Run-over-run state; the server swaps in its persistent store.
        self.baselines: Baselines = baselines if baselines is not None else MemoryBaselines()
        factories = registry()
        self.detectors: list[tuple[str, Detector]] = [
            (key, factories[key].create(dc))
            for key, dc in cfg.detector_configs(factories).items()
            if getattr(dc, "enabled", True)
        ]
        self.habituation = Habituation(cfg.habituation, self.baselines) if cfg.habituation.enabled else None

    def detect(self, spans: Sequence[ReadableSpan]) -> list[Finding]:
        return self.detect_held(spans)[0]

    def detect_held(self, spans: Sequence[ReadableSpan]) -> tuple[list[Finding], list[str]]:
        """The findings, and the keys of those held back as the app's normal (`habituation`)."""
        trace = Trace(spans, self.baselines)
        findings: list[Finding] = []
        for key, detector in self.detectors:
            try:
                findings.extend(detector(trace))
            except Exception:  # one broken detector must not cost the trace or the other detectors
                logger.exception("detector %s failed on a trace", key)
        if self.habituation is None:
            return findings, []
        return self.habituation.split(trace.app, spans, findings)

    def process(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        return self.attach(spans)[0]

    def attach(self, spans: Sequence[ReadableSpan]) -> tuple[Sequence[ReadableSpan], list[Finding]]:
        """`process`, and the findings it attached (the service counts them and shows them live)."""
        findings, held = self.detect_held(spans)
        if not findings and not held:
            return spans, findings
        root = next((s for s in spans if s.parent is None), None)
        by_span: dict[int, list[Finding]] = {}
        for finding in findings:
            target = finding.span_id if finding.span_id is not None else (span_id(root) if root else 0)
            by_span.setdefault(target, []).append(finding)
        out: list[ReadableSpan] = []
        for span in spans:
            mine = by_span.get(span_id(span), [])
            if not mine and span is not root:
                out.append(span)
                continue
            events = list(span.events)
            for finding in mine:
                events.append(Event(EVALUATION_EVENT, evaluation_attributes(finding), span.end_time))
                events.append(Event("detection", event_attributes(finding, self.cfg.evidence_max_bytes), span.end_time))
            attributes = dict(span.attributes or {})
            if span is root:
                attributes["detection.count"] = len(findings)
                attributes["detection.detectors"] = sorted({f.detector for f in findings})
                if held:  # a guard acting shows on the trace: detector|rule|node of each finding held back
                    attributes["detection.held_back"] = held
            out.append(with_attributes(span, attributes, events))
        return out, findings


class DetectionSpanProcessor(SpanProcessor):
    """The same detection as an OTel SDK `SpanProcessor`, for any tracer provider: ended spans are held per
    trace until its root ends (or `timeout` seconds pass), then enriched copies go to `next` (typically a
    `BatchSpanProcessor`). `on_end` never blocks on I/O; detection runs on the thread that ends the root."""

    def __init__(self, detection: DetectionProcessor, next: SpanProcessor, timeout: float = 30.0) -> None:
        self.detection, self.next, self.timeout = detection, next, timeout
        self._traces: dict[int, tuple[float, list[ReadableSpan]]] = {}
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None:
            return
        now = time.monotonic()
        ready: list[list[ReadableSpan]] = []
        with self._lock:
            spans = self._traces.setdefault(span.context.trace_id, (now, []))[1]
            spans.append(span)
            if span.parent is None or span.parent.is_remote:
                ready.append(self._traces.pop(span.context.trace_id)[1])
            stale = [tid for tid, (first, _) in self._traces.items() if now - first >= self.timeout]
            ready.extend(self._traces.pop(tid)[1] for tid in stale)
        for trace in ready:
            self._forward(trace)

    def _forward(self, spans: list[ReadableSpan]) -> None:
        for span in self.detection.process(spans):
            self.next.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        with self._lock:
            pending = [spans for _, spans in self._traces.values()]
            self._traces.clear()
        for spans in pending:
            self._forward(spans)
        return self.next.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.force_flush()
        self.next.shutdown()


def create(cfg: Config) -> DetectionProcessor:
    """A `DetectionProcessor` with every registered detector, configured by `cfg`. Synchronous, no I/O."""
    return DetectionProcessor(cfg)

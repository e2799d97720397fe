"""What became of the traces the `otlp` receiver took, said in the log and the metrics, so a user can see that
Dify's tracing export reaches the bridge and is rebuilt: Dify's own "check config" reports success even when
nothing listens, so the bridge's log line and `dify_bridge.otlp.traces` are the check that counts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

from bridge.telemetry.aggregates import Aggregates

logger = logging.getLogger(__name__)

TRACES = "dify_bridge.otlp.traces"
# `outcome` of a trace: rebuilt into a Dify run, passed through as it came (not Dify's), looked like Dify's
# but could not be rebuilt (passed through), or Dify's connection check (dropped).
REBUILT, PASSED_THROUGH, NOT_REBUILT, API_CHECK = "rebuilt", "passed_through", "not_rebuilt", "api_check"
_PROJECTS_LOGGED = 1_000  # distinct projects whose check is logged at INFO; later ones at DEBUG
_SHOWN_CHARS = 80  # of a sender's span name or project, in a log line


def _shown(text: str) -> str:
    """A sender's text as a log line shows it: escaped (a line break would forge a line) and cut."""
    return repr(text if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]}…")


class ExportWatch:
    """Counts each trace's outcome and logs what a user needs to see. Thread-safe."""

    def __init__(self, aggregates: Aggregates) -> None:
        self._aggregates = aggregates
        aggregates.counter(TRACES, "{trace}", "Traces taken by the otlp receiver, by outcome")
        self._projects: set[str] = set()
        self._lock = threading.Lock()

    def count(self, outcome: str, receiver: str) -> None:
        self._aggregates.apply([(TRACES, 1, (("outcome", outcome), ("receiver", receiver)))])

    def api_check(self, span: ReadableSpan, receiver: str) -> None:
        """Dify saved a trace config pointing here: logged once per project, counted, not exported."""
        project = str(span.resource.attributes.get("openinference.project.name") or "")
        with self._lock:
            first = project not in self._projects and len(self._projects) < _PROJECTS_LOGGED
            self._projects.add(project)
        log = logger.info if first else logger.debug
        log(
            "Dify's tracing export reached the bridge (receiver %s, Phoenix project %s): its check span is "
            "dropped; each run of that app arrives a few seconds after it ends",
            receiver, _shown(project),
        )  # fmt: skip
        self.count(API_CHECK, receiver)

    def not_rebuilt(self, spans: Sequence[ReadableSpan], receiver: str, trace_id: int) -> None:
        """A trace with Dify's marks that held no workflow span (it never came, or came after the trace was
        closed): passed through as it came, which a user must hear about."""
        names = [_shown(name) for name in sorted({s.name for s in spans})[:5]]
        logger.warning(
            "trace %032x from %s looks like Dify's tracing export but holds no workflow span (%d spans, e.g. %s): "
            "passed through as received, not rebuilt; raise service.assembly.export_wait if Dify's spans of one "
            "run arrive further apart",
            trace_id, receiver, len(spans), ", ".join(names),
        )  # fmt: skip
        self.count(NOT_REBUILT, receiver)

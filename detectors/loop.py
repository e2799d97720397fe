"""`loop`: the same node repeating with the same inputs inside a loop, and retry storms."""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, span_id

KEY = "loop"


class Config(DetectorConfig):
    # A node run this many times with identical inputs in one loop is stuck.
    min_repeats: int = Field(default=3, ge=2)
    # A node attempted this many times (Dify's retries) is a retry storm.
    retry_storm: int = Field(default=4, ge=2)


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        runs: dict[tuple[object, object], list[int]] = {}
        storms: list[tuple[ReadableSpan, int]] = []  # (node, attempts), found in the same pass as the repeats
        for span in trace.nodes:
            attributes = attributes_of(span)
            inputs = attributes.get("input.value")
            if inputs is not None and attributes.get("dify.loop.index") is not None:
                runs.setdefault((attributes.get("dify.node.id"), inputs), []).append(span_id(span))
            attempts = attributes.get("dify.node.attempts", 1)
            if isinstance(attempts, int) and attempts >= cfg.retry_storm:
                storms.append((span, attempts))
        for (node_id, _), ids in runs.items():
            if len(ids) >= cfg.min_repeats:
                yield Finding(
                    KEY,
                    "medium",
                    0.85,
                    f"Node '{node_id}' ran {len(ids)} times in a loop with the same inputs: the loop "
                    "state is not changing.",
                    {"node_id": node_id, "repeats": len(ids)},
                    ids[-1],
                )
        for span, attempts in storms:
            failed = attr(span, "dify.node.status") == "failed"
            yield Finding(
                KEY,
                "high" if failed else "medium",
                0.9,
                f"Node '{attr(span, 'dify.node.title', span.name)}' was attempted {attempts} times"
                f"{' and still failed' if failed else ''}: a retry storm; fix the cause rather than "
                "retrying.",
                {"attempts": attempts, "status": attr(span, "dify.node.status")},
                span_id(span),
            )

    return detect

"""`loop`: the same node repeating with the same inputs inside a loop, and retry storms."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, span_id

KEY = "loop"


class Config(DetectorConfig):
    # A node run this many times with identical inputs in one loop is stuck.
    min_repeats: int = Field(default=3, ge=2)
    # A node attempted this many times (Dify's retries) is a retry storm.
    retry_storm: int = Field(default=4, ge=2)


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        runs: dict[tuple[object, object], list[int]] = {}
        for span in trace.nodes:
            if attr(span, "dify.loop.index") is not None and attr(span, "input.value") is not None:
                runs.setdefault((attr(span, "dify.node.id"), attr(span, "input.value")), []).append(span_id(span))
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
        for span in trace.nodes:
            attempts = attr(span, "dify.node.attempts", 1)
            if isinstance(attempts, int) and attempts >= cfg.retry_storm:
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

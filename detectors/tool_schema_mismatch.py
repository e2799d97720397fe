"""`dify_tool_schema_mismatch`: a tool called with inputs its schema refuses.

Fires when a tool node (or an agent's tool call) fails or is handled as an exception with an error that
says its inputs do not fit: missing or unknown parameters, wrong types, validation errors. Tool failures
for other reasons (timeouts, rate limits, server errors) are left to other signals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from detectors import DetectorConfig, Finding, Trace, attr, json_attr, span_id

KEY = "dify_tool_schema_mismatch"
SCHEMA_ERROR = re.compile(
    r"(?i)\b(?:missing|required|invalid|unexpected|unknown|extra|unrecognized)\s+(?:required\s+)?"
    r"(?:parameters?|arguments?|fields?|propert(?:y|ies)|inputs?|keys?)\b"
    r"|\bvalidation error|\bis a required (?:property|field|parameter)|\bfield required\b"
    r"|\bgot an unexpected keyword argument\b|\bis not of type\b|\bshould be (?:a|an) (?:valid )?\w+\b"
    r"|\bexpected (?:type|a|an) \w+|\bTypeError\b|\bschema\b"
)


class Config(DetectorConfig):
    pass


def _error(span: object) -> str:
    outputs = json_attr(span, "output.value")  # type: ignore[arg-type]
    handled = outputs.get("error_message") if isinstance(outputs, dict) else None
    return str(handled or getattr(getattr(span, "status", None), "description", "") or "")


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        for span in trace.tool_spans:
            if attr(span, "dify.node.retry_index") is not None:
                continue
            failed = attr(span, "dify.node.status") in ("failed", "exception") or span.status.status_code.value == 2
            error = _error(span) if failed else ""
            match = SCHEMA_ERROR.search(error)
            if match:
                title = attr(span, "dify.node.title") or attr(span, "gen_ai.tool.name") or span.name
                yield Finding(
                    KEY,
                    "high",
                    0.85,
                    f"Tool '{title}' refused its inputs ({match.group(0)}): align the node's parameters "
                    "with the tool's schema.",
                    {"error": error[:300], "inputs": str(attr(span, "input.value") or "")[:300]},
                    span_id(span),
                )

    return detect

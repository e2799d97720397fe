"""`dify_tool_schema_mismatch`: a tool called with inputs its schema refuses, or answering without a field
the next node reads.

Fires when a tool node (or an agent's tool call) fails or is handled as an exception with an error that
says its inputs do not fit: missing or unknown parameters, wrong types, validation errors (English and
Chinese wordings). Tool failures for other reasons (timeouts, rate limits, server errors, credentials) are
left to other signals. Value flow: a tool that succeeded with structured output, and the next node reading
a variable as null whose name the output does not hold at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detectors import DetectorConfig, Finding, Trace, attr, json_attr, json_value, span_id

KEY = "dify_tool_schema_mismatch"
SCHEMA_ERROR = re.compile(
    r"(?i)\b(?:missing|required|invalid|unexpected|unknown|extra|unrecognized)\s+(?:required\s+)?"
    r"(?:parameters?|arguments?|fields?|propert(?:y|ies)|inputs?|keys?)\b"
    r"|\bvalidation error|\bis a required (?:property|field|parameter)|\bfield required\b"
    r"|\bgot an unexpected keyword argument\b|\bis not of type\b|\bshould be (?:a|an) (?:valid )?\w+\b"
    r"|\bexpected (?:type|a|an|one of) \w+|\bTypeError\b|\bschema\b|\bis mandatory\b|\bnot (?:supplied|provided)\b"
    r"|\bmust be (?:(?:a|an|one of|less|greater|at most|at least)\b|[<>]=?)|\bnot a valid \w+|\bunsupported parameter\b"
    r"|\brequired field\b|缺少|必填|不能为空|参数错误|参数无效"
)
# Failures about access or capacity, whatever else their message says.
_NOT_SCHEMA = re.compile(
    r"(?i)\bapi[ _-]?key\b|\btoken\b|credential|unauthori[sz]ed|forbidden|quota|rate limit|timed? ?out"
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
            match = SCHEMA_ERROR.search(error) if not _NOT_SCHEMA.search(error) else None
            if match:
                title = attr(span, "dify.node.title") or attr(span, "gen_ai.tool.name") or span.name
                yield Finding(
                    KEY,
                    "high",
                    0.85,
                    f"Tool '{title}' refused its inputs ({match.group(0)}): align the node's parameters "
                    "with the tool's schema.",
                    {
                        "node": title,
                        "rule": "tool error says its inputs do not fit",
                        "error": error[:300],
                        "inputs": str(attr(span, "input.value") or "")[:300],
                    },
                    span_id(span),
                )
        yield from _missing_fields(trace)

    return detect


def _keys(value: Any, depth: int = 0) -> set[str]:
    """Every key of a tool's output, nested ones too (`json` lists, JSON text in `text`/`body`)."""
    if depth > 3:
        return set()
    if isinstance(value, str) and value[:1] in "{[":
        value = json_value(value)
    if isinstance(value, dict):
        return set(value).union(*(_keys(v, depth + 1) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v, depth + 1) for v in value[:20]))
    return set()


def _missing_fields(trace: Trace) -> Iterator[Finding]:
    nodes = trace.nodes
    for span in trace.of_type("tool"):
        if attr(span, "dify.node.status") != "succeeded":
            continue
        outputs = json_attr(span, "output.value")
        structured = outputs.get("json") if isinstance(outputs, dict) else None
        if not structured:
            continue
        index = nodes.index(span)  # only tools with structured output get here: the search is rare
        if index + 1 == len(nodes):
            continue
        keys = _keys(outputs)
        reader = nodes[index + 1]
        inputs = json_attr(reader, "input.value")
        if not isinstance(inputs, dict):
            continue
        for name, value in inputs.items():
            if value is None and name not in keys:
                title = attr(span, "dify.node.title", span.name)
                yield Finding(
                    KEY, "high", 0.8,
                    f"Tool '{title}' answered without '{name}', which the next node "
                    f"'{attr(reader, 'dify.node.title', reader.name)}' reads (it got null): the tool's output "
                    "schema changed or the call asked for the wrong thing.",
                    {"node": title, "rule": "next node reads a field the tool output lacks",
                     "produced": sorted(keys)[:20], "received": {name: None}},
                    span_id(reader),
                )  # fmt: skip

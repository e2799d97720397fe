"""The run's data an LLM may be fed: its data nodes' outputs, the workflow's own round numbers and if-else limits."""

from __future__ import annotations

import re

from opentelemetry.sdk.trace import ReadableSpan

from detectors import (
    QUERY_KEYS,
    Finding,
    Trace,
    attr,
    json_attr,
    json_value,
    span_id,
)
from detectors.hallucination_parts.config import KEY
from detectors.numbers import (
    source_values,
)

# A record's code: capitals, a dash, digits ("RE-5521", "SC-2026-004512").
_RECORD_CODE = re.compile(r"\b[A-Z]{1,4}-\d[\d-]*")
# Node types whose output is data an LLM may be fed (a tool's answer, an API body, a computed value).
DATA_NODES = ("tool", "http-request", "code", "iteration", "loop", "template-transform", "variable-aggregator")


def run_data(trace: Trace, bodies: bool) -> list[tuple[int, str]]:
    """What the run computed or fetched, by end time (an output exists once its node ended: a container's
    output, which holds what the LLMs inside it wrote, is no source for them): its tool, HTTP, code and
    container outputs; with `bodies`, an HTTP node's response headers left out (`HEADERS`: the transport's date and
    lengths, whose digits supported a made-up "10 %"; session 25, for the readings of answers fed only data: with
    `data_fed` on, whose clean alarms are measured with them, they stay)."""
    return sorted(
        (node.end_time or node.start_time or 0, _strip(str(attr(node, "output.value") or ""), bodies))
        for node in trace.nodes
        if attr(node, "dify.node.type") in DATA_NODES
    )


def _strip(output: str, bodies: bool) -> str:
    return HEADERS.sub("", output) if bodies else output


def round_numbers(trace: Trace) -> str:
    """The round numbers of the run's loops and iterations ("round 11", "40 parcels tracked" are counts)."""
    rounds = [attr(container, "dify.container.rounds") for container in trace.of_type("loop", "iteration")]
    return ", ".join(str(i) for r in rounds if isinstance(r, int) for i in range(1, min(r, 1000) + 1))


def if_else_limits(trace: Trace) -> str:
    """The values the run's if-else nodes compared with ("total > 1000"): the app's own limits, which an answer
    names ("over the 1000 EUR limit") though no prompt holds them."""
    limits = []
    for node in trace.of_type("if-else"):
        inputs = json_attr(node, "input.value")
        conditions = inputs.get("conditions") if isinstance(inputs, dict) else None
        if isinstance(conditions, list):
            limits += [str(c.get("expected_value")) for c in conditions if isinstance(c, dict)]
    return ", ".join(limits)


def input_figures(trace: Trace) -> set[str]:
    """The numbers (two digits and more) of the run's inputs other than the user's question that the question does
    not hold: data fed in (a booking's date)."""
    fed, asked = _inputs(trace)
    return fed - asked


def _inputs(trace: Trace) -> tuple[set[str], set[str]]:
    """The numbers of the run's inputs other than the user's question, and of the question. In a run input a
    record's code ("RE-5521") names what the user asks about: its number is no figure fed."""
    root = trace.root
    inputs = json_attr(root, "input.value") if root is not None else None
    fed: set[str] = set()
    asked: set[str] = set()
    if isinstance(inputs, dict):
        for key, value in inputs.items():
            if key in QUERY_KEYS:
                asked |= source_values(str(value))
            elif not key.startswith("sys."):
                fed |= source_values(_RECORD_CODE.sub(" ", str(value)))
    return fed, asked


def fed_data(trace: Trace, prompt: str, data: list[str]) -> bool:
    """Whether the LLM's prompt was fed data: a number (two digits and more) of a run input other than the
    user's question (`input_figures`), or of `data`, that the question does not hold (a node's output in the prompt
    is data)."""
    fed, asked = _inputs(trace)
    fed = (fed | set().union(*(source_values(output) for output in data))) - asked
    return bool(fed) and not fed.isdisjoint(source_values(prompt))


def record_figures(outputs: list[str]) -> set[str]:
    """The figures of the data nodes' `outputs`, a record's code aside ("PA-3511" names the order, no figure of it)."""
    return set().union(*(source_values(_RECORD_CODE.sub(" ", output)) for output in outputs))


def names_of(outputs: list[str]) -> set[str]:
    """The text values of the data nodes' `outputs` (JSON string literals, those of nested JSON text too; read literal
    by literal, so an output whose headers were cut out still counts), five characters and more with a letter (three in
    other scripts than ASCII: "北欧地毯"), one word of lower-case ASCII aside (a status, a key: "done", "submitted"):
    the data's names and titles ("换季被子收纳", "Freiburg-Basel")."""
    found: set[str] = set()
    stack = list(outputs)
    while stack and len(found) < 500:
        for literal in _STRING.findall(stack.pop()):
            value = json_value(f'"{literal}"')
            if not isinstance(value, str):
                continue
            if value[:1] in ("{", "["):
                stack.append(value)
            elif _named(value):
                found.add(value)
    return found


def _named(value: str) -> bool:
    letters = sum(map(str.isalpha, value))
    return len(value) >= (5 if value.isascii() else 3) and letters >= 3 and not _KEYWORD.fullmatch(value)


def names(answer: str, outputs: list[str]) -> bool:
    """Whether `answer` writes a name of its data (`names_of`)."""
    return any(name in answer for name in names_of(outputs))


_KEYWORD = re.compile(r"[a-z_-]+")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


# An HTTP node's response headers (Dify's `headers` output): the transport's `date`, no time the data gives.
HEADERS = re.compile(r'"headers":\s*\{[^{}]*\}')


def data_finding(span: ReadableSpan, confidence: float, says: str, rule: str, answer: str, **seen: object) -> Finding:
    """A finding on the LLM `span` whose `answer` `says` what its data does not: `seen`, the figures compared."""
    node = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "medium", confidence, f"LLM node '{node}' {says}; check the answer against its data.",
        {"node": node, "rule": rule, **seen, "answer": answer[:200]}, span_id(span),
    )  # fmt: skip

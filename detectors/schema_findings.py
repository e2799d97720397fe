"""`dify_tool_schema_mismatch`'s findings on a tool's or an API's output read wrong: an HTTP answer refusing the
request's parameters, the next node (or a later one) failing on a field the output lacks or changed the type of, a
field read as null or as another type, a number in another unit passed on, a number nested into an object read as
0, an answer in a new schema. `KEY` is declared here, the one module every part of the detector reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Finding, attr, json_attr, node_error, span_id
from detectors.tool_errors import (
    MISSING_FIELD,
    NOT_FOUND,
    NOT_SCHEMA,
    SCHEMA_ERROR,
    SERVICE_WORDS,
    TYPE_FAILURE,
)
from detectors.values import value_kind

KEY = "dify_tool_schema_mismatch"


# What an API answers when it refuses a request's parameters: Bad Request, Unprocessable Content.
REFUSING_STATUS = (400, 422)


def refused_request(span: ReadableSpan, outputs: Any) -> Finding | None:
    """An HTTP request (that succeeded, not a retry attempt) answered 400 or 422 with a validator's wording
    (`field required`, `is not of type`): the API refused the parameters the node sent. Dify's HTTP node
    succeeds on any status, so this is the only trace of the refusal."""
    status = outputs.get("status_code") if isinstance(outputs, dict) else None
    if status not in REFUSING_STATUS or not isinstance(outputs, dict):
        return None
    body = outputs.get("body")
    text = body[:2000] if isinstance(body, str) else ""
    match = SCHEMA_ERROR.search(text)
    if match is None or SERVICE_WORDS.search(text):
        return None
    title = attr(span, "dify.node.title", span.name)
    return Finding(
        KEY, "high", 0.85,
        f"The API '{title}' called refused the request's parameters ({status}: {match.group(0)}): align the "
        "node's parameters with the API's schema.",
        {"node": title, "rule": "an HTTP API answered 400/422 with a validator's wording", "status": status,
         "error": text[:300], "inputs": str(attr(span, "input.value") or "")[:300]},
        span_id(span),
    )  # fmt: skip


def failed_later(
    span: ReadableSpan,
    nodes: list[ReadableSpan],
    index: int,
    fields: dict[str, Any],
    changed: dict[str, tuple[str, int]],
) -> Finding | None:
    """A node after the reader (in an iteration over the records, say) failing on a type with the very value of
    an output field that changed type against the source's history in its error (`could not convert string to
    float: '19,3%'` after `moisture_pct` went from numbers to texts)."""
    # The first node that failed itself: an iteration or a loop fails with the node that failed in it.
    later = next((n for n in nodes[index + 1 :] if attr(n, "dify.node.status") in ("failed", "exception")
                  and attr(n, "dify.node.type") not in ("iteration", "loop")), None)  # fmt: skip
    error = node_error(later) if later is not None else ""
    if later is None or not TYPE_FAILURE.search(error) or NOT_SCHEMA.search(error):
        return None
    for name, (usual, runs) in changed.items():
        value = fields[name]
        shown = str(value)
        if isinstance(value, str | int | float) and len(shown) >= 2 and shown in error:
            title, reader_title = attr(span, "dify.node.title", span.name), attr(later, "dify.node.title", later.name)
            return Finding(
                KEY, "high", 0.8,
                f"'{reader_title}' failed on a type with {shown!r}: '{title}' returned '{name}' as "
                f"{value_kind(value)}, its earlier runs ({runs}) mostly {usual}: its output schema changed.",
                {"node": title, "rule": "a later node failed on a type with the value of a field that changed type "
                 "against the source's history", "field": name, "reader": reader_title, "produced": {name: value},
                 "received": error[:300]},
                span_id(later),
            )  # fmt: skip
    return None


def failed_reading(
    span: ReadableSpan,
    outputs: dict[str, Any],
    reader: ReadableSpan,
    read: tuple[dict[str, Any], dict[str, str]],
    history: tuple[dict[str, tuple[str, int]], dict[str, int]],
) -> Finding | None:
    """The node after a tool or API failing on its output: reading a field the output lacks (one its earlier
    outputs had, when it has a history), or holds only inside a field its earlier outputs never had (moved into
    a new object: one in ten of them at most had it); or on a type while a field of the output changed type
    against the source's history (`history`: those fields, and the names its earlier outputs had, with how many
    had each). A node failing on a field the source never
    gave is the node's own bug; one failing on an answer about access, capacity or nothing found (an error
    object with a 200) is the service's."""
    fields, parents = read
    changed, known = history
    error = node_error(reader)
    missing = next((name for hit in MISSING_FIELD.finditer(error) for name in hit.groups() if name), None)
    title, reader_title = attr(span, "dify.node.title", span.name), attr(reader, "dify.node.title", reader.name)
    holder = parents.get(missing) if missing is not None and known else None
    if missing is not None and missing not in fields and (not known or missing in known):
        rule, name = "next node failed reading a field the tool output lacks", missing
        summary = (
            f"'{reader_title}' failed reading '{missing}', which the output of '{title}' lacks: its output schema "
            "changed, or it refused the call."
        )
        produced: Any = sorted(fields)[:20]
    elif (
        missing is not None and holder is not None and missing in known and known.get(holder, 0) <= 0.1 * known[missing]
    ):
        rule, name = "next node failed reading a field the output now holds only inside a new one", missing
        summary = (
            f"'{reader_title}' failed reading '{missing}', which the output of '{title}' now holds only inside "
            f"'{holder}', a field its earlier outputs never had: its output schema changed."
        )
        produced = {holder: fields[holder]}
    elif changed and TYPE_FAILURE.search(error):
        name, (usual, runs) = next(iter(changed.items()))
        rule = "next node failed on a type while a tool output field changed type against its history"
        summary = (f"'{reader_title}' failed on a type; '{title}' returned '{name}' as {value_kind(fields[name])}, "
                   f"its earlier runs ({runs}) mostly {usual}: its output schema changed.")  # fmt: skip
        produced = {name: fields[name]}
    else:
        return None
    # An answer of a few words is an error object (sent with a 200): read what it says. A longer one is data.
    answer = str(outputs.get("body") or outputs.get("text") or "")
    if NOT_SCHEMA.search(error) or (len(answer) <= 300 and (SERVICE_WORDS.search(answer) or NOT_FOUND.search(answer))):
        return None
    return Finding(
        KEY, "high", 0.8, summary,
        {"node": title, "rule": rule, "field": name, "reader": reader_title, "produced": produced,
         "received": error[:300]},
        span_id(reader),
    )  # fmt: skip


def read_fields(
    span: ReadableSpan,
    reader: ReadableSpan,
    earlier_nodes: list[ReadableSpan],
    fields: dict[str, Any],
    changed: dict[str, tuple[str, int]],
) -> Iterator[Finding]:
    """The next node reading a tool output's field as null that the output lacks, or as another type."""
    inputs = json_attr(reader, "input.value")
    if not isinstance(inputs, dict):
        return
    elsewhere: set[str] | None = None  # what earlier nodes produced: a null of theirs is not the tool's doing
    title = attr(span, "dify.node.title", span.name)
    reader_title = attr(reader, "dify.node.title", reader.name)
    for name, value in inputs.items():
        if (value is None) == (name in fields):
            continue  # a null the output lacks, or a value it has: else nothing to compare
        if elsewhere is None:  # made on the first name that needs it (most readers: none)
            elsewhere = _produced_names(earlier_nodes)
        if value is None and name not in elsewhere:
            rule, summary = (
                "next node reads a field the tool output lacks",
                f"Tool '{title}' answered without '{name}', which the next node '{reader_title}' reads (it "
                "got null): the tool's output schema changed or the call asked for the wrong thing.",
            )
            produced: Any = sorted(fields)[:20]
        elif name in fields and name not in elsewhere and value is not None and fields[name] is not None:
            was, now = value_kind(fields[name]), value_kind(value)
            if was != now:
                rule = "next node reads a tool output field as another type"
                summary = f"Tool '{title}' wrote '{name}' as {was}; the next node '{reader_title}' got {now}."
            elif name in changed:
                usual, runs = changed[name]
                rule = "a tool output field of another type than the tool's earlier runs gave it"
                summary = (
                    f"Tool '{title}' returned '{name}' as {now}; its earlier runs ({runs}) mostly returned "
                    f"{usual}, and the next node '{reader_title}' reads it: the tool's output schema changed."
                )
            else:
                continue
            produced = {name: fields[name]}
        else:
            continue
        yield Finding(
            KEY, "high", 0.8, summary,
            {"node": title, "rule": rule, "field": name, "produced": produced, "received": {name: value}},
            span_id(reader),
        )  # fmt: skip


def _produced_names(nodes: list[ReadableSpan]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        outputs = json_attr(node, "output.value")
        if isinstance(outputs, dict):
            names.update(outputs)
    return names


def scaled_finding(span: ReadableSpan, reader: ReadableSpan, scaled: tuple[str, float, float, float, int]) -> Finding:
    name, value, least, most, factor = scaled
    title, reader_title = attr(span, "dify.node.title", span.name), attr(reader, "dify.node.title", reader.name)
    way = f"{factor} times" if value > most else f"1/{factor} of"
    return Finding(
        KEY, "high", 0.8,
        f"'{title}' gave '{name}' as {value:g}, {way} what its earlier answers gave ({least:g} to {most:g}), and "
        f"'{reader_title}' used it as it came: the field is now counted in another unit.",
        {"node": title, "rule": "an output number 100 or 1000 times off every value its field had, passed on",
         "field": name, "reader": reader_title, "produced": {name: [least, most]}, "received": {name: value},
         "factor": factor},
        span_id(reader),
    )  # fmt: skip


def nested_finding(span: ReadableSpan, reader: ReadableSpan, nested: tuple[str, dict[str, Any], Any]) -> Finding:
    holder, record, shown = nested
    title, reader_title = attr(span, "dify.node.title", span.name), attr(reader, "dify.node.title", reader.name)
    return Finding(
        KEY, "high", 0.8,
        f"'{title}' answered a number inside an object ('{holder}': {str(record.get(holder))[:60]}), and "
        f"'{reader_title}' read 0 for it: a number field of its output became an object.",
        {"node": title, "rule": "a number nested in an object, the reader showing 0 for it",
         "field": holder, "reader": reader_title, "produced": record, "received": shown},
        span_id(reader),
    )  # fmt: skip


def reshaped_finding(span: ReadableSpan, reshaped: tuple[list[str], list[str]]) -> Finding:
    title, (missing, new) = attr(span, "dify.node.title", span.name), reshaped
    summary = (f"'{title}' answered without most of its usual fields ({', '.join(missing)}) and with new ones "
               f"({', '.join(new)}) holding values of their kinds, and the next node came out empty: the answer's "
               "schema changed.")  # fmt: skip
    return Finding(KEY, "high", 0.8, summary,
                   {"node": title, "rule": "most of an output's usual fields replaced by new ones, read as nothing",
                    "field": missing[0], "produced": missing, "received": new},
                   span_id(span))  # fmt: skip

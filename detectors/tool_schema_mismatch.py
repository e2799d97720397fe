"""`dify_tool_schema_mismatch`: a tool called with inputs its schema refuses, or answering in a shape the
next node cannot read.

Fires when a tool node (or an agent's tool call) fails or is handled as an exception with an error that
says its inputs do not fit, read two ways: the wordings of validators (JSON Schema, pydantic, Zod, Python's
conversions, Dify's parameter check: missing or unknown parameters, `is not of type`, `field required`,
`Input should be`, `expected array, got object`, `could not convert string to float`, `muss eine Zahl
sein`, 类型错误, 必須パラメータ…), or an error naming one of the tool's own input
parameters next to a word of types, formats or required fields, in English, Spanish, German, French,
Portuguese, Italian, Dutch, Polish, Korean, Arabic, Chinese or Japanese (`参数 order_id 格式错误`,
`Parameter order_id: Ganzzahl erwartet`); the wordings are in `detectors/tool_errors.py`. Tool failures for
other reasons (timeouts, rate limits, server errors, credentials, a value that names nothing found, in those
languages too) are left to other signals. An HTTP request answered 400 or 422 with a validator's wording is a
refusal too (Dify's HTTP node succeeds whatever the status). Value flow from a tool that succeeded with
structured output to the node after it, for names no earlier node produced (the run's inputs are often
named like the tool's fields): a field read as null that the output does not hold at all; a field read as
another type than the tool wrote it; a field whose type differs from the one the tool's earlier runs gave
it (under a fifth of them had it, once `min_history`, 5, had the usual one). And from a tool, or an HTTP
request that answered JSON (not 401, 403, 404, 408, 429 or 5xx), to a next node that fails: reading a field
the output lacks (Python's `KeyError: 'price'`, JavaScript's `Cannot read properties of undefined (reading
'price')`…) that its earlier outputs had, if it has a history; or on a type (`TypeError`, `'<=' not supported
between instances of 'str' and 'int'`) while a field of the output changed type against that history. A renamed
field (one its earlier outputs held gone, one they seldom held there) where its reader shows it, and an answer
wrapped in a new envelope (its usual top-level fields one level down) that its reader read as nothing. A tool
whose outputs are an HTTP answer's (`status_code`, `body`) is read like one; a code reader that computed its
outputs from a number in earlier runs and nothing from the renamed one now shows the rename too, and so does one
that wrote the missing field's number before a word in earlier runs and now writes no number there (`no seats`).
A source's field names are learned once a run, however many rounds of a loop call it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, json_attr, json_value, node_error, span_id
from detectors.derived import computed_from, computed_from_others, numbers_in
from detectors.nested_zeros import ZERO, nested_zeros
from detectors.tool_errors import (
    MISSING_FIELD,
    NOT_FOUND,
    NOT_SCHEMA,
    SCHEMA_ERROR,
    SERVICE_WORDS,
    TYPE_FAILURE,
    names_own_input,
)
from detectors.values import value_kind

KEY = "dify_tool_schema_mismatch"
_MAX_BODY = 200_000  # an HTTP body longer than this (characters) is not read for fields: detection stays cheap


class Config(DetectorConfig):
    # Runs of a tool giving an output field its usual type before another type counts as a change.
    min_history: int = Field(default=5, ge=1)


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        for span in trace.tool_spans:
            if attr(span, "dify.node.retry_index") is not None:
                continue
            failed = attr(span, "dify.node.status") in ("failed", "exception") or span.status.status_code.value == 2
            drift = _input_drift(trace, span, failed, cfg)
            error = node_error(span) if failed else ""
            if not failed or NOT_SCHEMA.search(error):
                continue
            match = SCHEMA_ERROR.search(error) if error else None
            named = None if match or not error else names_own_input(error, json_attr(span, "input.value"))
            # A value that names nothing found fit the schema, whatever else changed in the call.
            if not (match or named) and drift is not None and not NOT_FOUND.search(error):
                title = attr(span, "dify.node.title") or attr(span, "gen_ai.tool.name") or span.name
                yield Finding(
                    KEY, "high", 0.8,
                    f"Tool '{title}' failed on a call whose inputs differ from every call of it that succeeded "
                    f"({drift[0]}): align the node's parameters with the tool's schema.",
                    {"node": title, "rule": "a failed tool call's inputs differ from its successful calls'",
                     "parameter": drift[1], "produced": drift[2], "received": drift[3], "error": error[:300]},
                    span_id(span),
                )  # fmt: skip
            elif match or named:
                title = attr(span, "dify.node.title") or attr(span, "gen_ai.tool.name") or span.name
                why = match.group(0) if match else f"names its input '{named}'"
                yield Finding(
                    KEY,
                    "high",
                    0.85,
                    f"Tool '{title}' refused its inputs ({why}): align the node's parameters with the tool's schema.",
                    {
                        "node": title,
                        "rule": "tool error says its inputs do not fit"
                        if match
                        else "tool error names one of its inputs with a type, format or required-field word",
                        "error": error[:300],
                        "inputs": str(attr(span, "input.value") or "")[:300],
                    },
                    span_id(span),
                )
        yield from _flows(trace, cfg)

    return detect


# The nodes between a source and its reader that read nothing of it themselves: a branch checking the status passes
# the output on untouched, and an iteration or a loop hands it to the first node of its round.
_PASSING = ("if-else", "iteration", "loop")
# The nodes reading an HTTP body's fields by name.
_BODY_READERS = ("code", "template-transform", "llm")
# What an API answers when it refuses a request's parameters: Bad Request, Unprocessable Content.
_REFUSING_STATUS = (400, 422)


# How many nodes past the next one are searched for the node taking an HTTP body in (parallel branches).
_BRANCH_LOOKAHEAD = 8


def _holds(node: ReadableSpan, body: str) -> bool | None:
    """Whether a code or template node was given the HTTP body whole as one of its inputs (`body`); None for a
    node of another kind (a model reads the body through its prompt)."""
    if attr(node, "dify.node.type") not in ("code", "template-transform"):
        return None
    inputs = json_attr(node, "input.value")
    return isinstance(inputs, dict) and any(value == body for value in islice(inputs.values(), 30))


def _refused_request(span: ReadableSpan, outputs: Any) -> Finding | None:
    """An HTTP request (that succeeded, not a retry attempt) answered 400 or 422 with a validator's wording
    (`field required`, `is not of type`): the API refused the parameters the node sent. Dify's HTTP node
    succeeds on any status, so this is the only trace of the refusal."""
    status = outputs.get("status_code") if isinstance(outputs, dict) else None
    if status not in _REFUSING_STATUS or not isinstance(outputs, dict):
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


def _fields(value: Any, into: dict[str, Any], parents: dict[str, str], depth: int = 0, parent: str = "") -> None:
    """Every field of a tool's output by name into `into`, nested ones too (`json` lists, JSON text in
    `text`/`body`), to five levels down (records in a list in an answer's wrapper: `json` → list → object →
    `vehicles` → list → object); the first value of each name, and in `parents` the field holding a nested one
    (`slots` for each slot's `time`). Only containers and JSON texts are descended into: most fields are plain
    values, and a call for each costs more than the check."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        value = json_value(value)
    if isinstance(value, dict):
        for name, item in value.items():
            if name not in into:
                into[name] = item
                if parent:
                    parents[name] = parent
            if depth < 5 and (isinstance(item, (dict, list)) or (isinstance(item, str) and item[:1] in ("{", "["))):
                _fields(item, into, parents, depth + 1, name)
    elif isinstance(value, list) and depth < 5:
        for item in value[:20]:
            if isinstance(item, (dict, list)) or (isinstance(item, str) and item[:1] in ("{", "[")):
                _fields(item, into, parents, depth + 1, parent)


def _output_fields(tool: bool, outputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The fields of what a tool with structured output (`json`), or an HTTP request that answered JSON, gave
    the next node, with the field holding each nested one; None for anything else (text, an error page)."""
    fields: dict[str, Any] = {}
    parents: dict[str, str] = {}
    if tool and outputs.get("json"):
        _fields({k: v for k, v in outputs.items() if k in ("json", "text", "body")}, fields, parents)
        return fields, parents
    # An HTTP request's answer, or a tool's whose outputs are one (a plugin calling an API: `status_code`, `body`).
    body, status = outputs.get("body"), outputs.get("status_code")
    if not isinstance(body, str) or body[:1] not in "{[" or len(body) > _MAX_BODY:
        return None
    # Access refused, nothing found, throttled or the service down: the body is no answer to read.
    if isinstance(status, int) and (status in (401, 403, 404, 408, 429) or status >= 500):
        return None
    _fields(body, fields, parents)
    return fields, parents


def _flows(trace: Trace, cfg: Config) -> Iterator[Finding]:
    nodes = trace.nodes
    position = 0
    told: set[str] = set()  # the sources whose renamed field was told
    # The field names each source's answers held in this run so far: a loop's or an iteration's rounds calling one
    # source are one run of it in the histories (a loop paging six times is not six runs).
    counted: dict[str, set[str]] = {}
    for span in trace.of_type("tool", "http-request"):
        get = attributes_of(span).get
        if get("dify.node.status") != "succeeded" or get("dify.node.retry_index") is not None:
            continue  # a retry attempt is not what the next node reads
        tool = get("dify.node.type") == "tool"
        outputs = json_attr(span, "output.value")
        refusing = not tool and isinstance(outputs, dict) and outputs.get("status_code") in _REFUSING_STATUS
        if refusing and (refusal := _refused_request(span, outputs)) is not None:
            yield refusal
        if tool and not (isinstance(outputs, dict) and (outputs.get("json") or isinstance(outputs.get("body"), str))):
            continue
        # Sources come in start order: the search for each starts where the last one's ended.
        index = position = nodes.index(span, position)
        node_id = get("dify.node.id")
        # The next node: not one of this source's own attempts (their inputs are the source's, not its output's),
        # nor one passing the output on (`_PASSING`).
        reader = None
        for later_index in range(index + 1, len(nodes)):
            later_get = attributes_of(nodes[later_index]).get
            if later_get("dify.node.id") != node_id and later_get("dify.node.type") not in _PASSING:
                reader = nodes[later_index]
                break
        body = outputs.get("body") if not tool and isinstance(outputs, dict) else None
        if reader is not None and isinstance(body, str) and body and _holds(reader, body) is False:
            # Parallel branches interleave in start order: the code node taking this body in may come after
            # another branch's (faults9's road and forecast APIs, each read by its own code node).
            later = islice(nodes, later_index + 1, later_index + 1 + _BRANCH_LOOKAHEAD)
            reader = next((node for node in later if _holds(node, body)), reader)
        reader_type = attr(reader, "dify.node.type") if reader is not None else None
        # An HTTP body is text: a code or template node takes fields out of it (and fails on them); an LLM reads
        # them by name too (a renamed field only, the model failing on nothing).
        if not tool and reader_type not in _BODY_READERS:
            continue
        if not isinstance(outputs, dict):
            continue
        read = _output_fields(tool, outputs)
        if read is None:
            continue
        fields = read[0]
        source = node_id or span.name  # the histories' key
        emptied = reader is not None and _came_out_empty(reader, fields)
        # Read before `_renamed` learns this answer's names.
        wrapped = _wrapped(trace, source, read[1], cfg) if emptied and reader is not None else None
        reshaped = _reshaped(trace, source, read, cfg) if emptied and wrapped is None and reader is not None else None
        renamed = _renamed(trace, source, read, cfg, emptied, counted)
        if wrapped is not None and reader is not None and not _coped(reader, reader_type, fields, wrapped):
            title, (moved, (holder,)) = attr(span, "dify.node.title", span.name), wrapped
            yield Finding(
                KEY, "high", 0.8,
                f"'{title}' answered with its usual fields ({', '.join(moved)}) inside '{holder}', which its earlier "
                "answers did not have, and the next node came out empty: the answer was wrapped in a new envelope.",
                {"node": title, "rule": "an output's usual top-level fields moved into a new field, read as nothing",
                 "field": moved[0], "produced": moved, "received": holder},
                span_id(span),
            )  # fmt: skip
            continue
        # A renamed field is a mismatch where its reader shows it: came out empty, failed, or is a model reading
        # fields by name. A code or template reader that worked on is one patched for the new name (an API's new
        # version met by its reader's: held-out 10's operators, scored blind in session 21), and so is one that
        # gave a value under the old name (emptied by something else); a model quoting the new field found it.
        reader_status = attr(reader, "dify.node.status") if reader is not None else None
        shown = reader is None or emptied or reader_type == "llm" or reader_status in ("failed", "exception")
        shown = shown or (renamed is not None and _number_now_words(trace, source, fields, renamed))
        # What a code reader computed in earlier runs, learned while it works (cheap: the recorded texts kept).
        earlier = _remember(trace, source, reader, fields) if reader_type == "code" and not shown else []
        shown = shown or (
            renamed is not None
            and (_default_taken(reader, fields, renamed, earlier) or _value_dropped(reader, fields, renamed, earlier))
        )
        if renamed is not None and not shown and earlier:
            into = _moved_dropped(trace, source, reader, fields, renamed, earlier)
            if into is not None:  # the new object first: the evidence names it
                shown, renamed = True, (renamed[0], [into, *(name for name in renamed[1] if name != into)])
        if renamed is not None and shown and (reader is None or not _coped(reader, reader_type, fields, renamed)):
            title, (missing, new) = attr(span, "dify.node.title", span.name), renamed
            if source in told:
                continue  # an iteration's rounds answered alike: told once
            told.add(source)
            yield Finding(
                KEY, "high", 0.8,
                f"'{title}' answered without '{missing[0]}', which its earlier answers held, and with "
                f"'{new[0]}', which they did not: a field of its output was renamed.",
                {"node": title, "rule": "an output field the source usually gave replaced by one it seldom gave",
                 "field": missing[0], "produced": missing[0], "received": new[0]},
                span_id(span),
            )  # fmt: skip
            continue
        # Several fields renamed at once: more than one rename, told where the one-rename rule did not.
        if reshaped is not None and reader is not None and not _coped(reader, reader_type, fields, reshaped):
            if source in told:
                continue  # a loop's or an iteration's rounds answered alike: told once
            told.add(source)
            yield _reshaped_finding(span, reshaped)
            continue
        # One run tells a number nested into an object, read as the reader's default 0.
        if emptied and reader is not None and reader_type != "llm" and (nested := nested_zeros(reader)) is not None:
            yield _nested_finding(span, reader, nested)
            continue
        if reader is not None and (scaled := _scale_jump(trace, source, fields, cfg, reader)) is not None:
            yield _scaled_finding(span, reader, scaled)
            continue
        if reader is None or (not tool and reader_type == "llm"):
            continue
        failing = attr(reader, "dify.node.status") in ("failed", "exception")
        changed, known = _type_changes(trace, source, fields, cfg, failing)
        failure = None
        if failing and reader_type != "tool":
            failure = _failed_reading(span, outputs, reader, read, (changed, known))
        elif changed:  # rare: a field of another type than the source's history gave it
            failure = _failed_later(span, nodes, index, fields, changed)
        if failure is not None:
            yield failure
        elif tool and outputs.get("json"):
            yield from _read_fields(span, reader, nodes[:index], fields, changed)


def _failed_later(
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


def _failed_reading(
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


def _read_fields(
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


def _type_changes(
    trace: Trace, source: str, fields: dict[str, Any], cfg: Config, names: bool
) -> tuple[dict[str, tuple[str, int]], dict[str, int]]:
    """Fields whose type differs from the one every earlier run of this tool gave them (at least
    `min_history` runs): name → (the usual type, runs); and, if `names` is asked (a failed reader needs
    them), the names its earlier runs gave, once one of them has `min_history` runs (else empty). Learns
    this run's types."""
    key = f"{KEY}:{trace.app}:{source}"
    history: dict[str, dict[str, int]] = trace.baselines.get(key) or {}
    ready = names and any(sum(seen.values()) >= cfg.min_history for seen in history.values())
    known = {name: sum(seen.values()) for name, seen in history.items()} if ready else {}
    changed: dict[str, tuple[str, int]] = {}
    for name, value in islice(fields.items(), 50):
        if value is None:
            continue
        kind = value_kind(value)
        seen = history.get(name)
        if seen is None:  # a field new to the history: nothing to compare
            history[name] = {kind: 1}
            continue
        count = seen.get(kind, 0)
        if count and len(seen) == 1:  # most fields: the one type they always had, no change
            seen[kind] = count + 1
            if count >= 100:  # counts halve: the history follows the tool's recent runs
                history[name] = {kind: (count + 1) // 2}
            continue
        usual = max(seen, key=seen.__getitem__) if seen else None
        runs = sum(seen.values())
        # Another type while this one is under a fifth of the field's history: a change persisting for a
        # while keeps firing (the next node still reads the old type), one that lasts becomes the usual.
        if usual is not None and usual != kind and seen[usual] >= cfg.min_history and seen.get(kind, 0) < 0.2 * runs:
            changed[name] = (usual, runs)
        seen[kind] = count + 1
        if runs >= 100:  # counts halve: the history follows the tool's recent runs
            history[name] = {k: n // 2 for k, n in seen.items() if n >= 2}
    if len(history) <= 200:  # field names come from outside
        trace.baselines.put(key, history)
    return changed, known


def _input_drift(trace: Trace, span: ReadableSpan, failed: bool, cfg: Config) -> tuple[str, str, Any, Any] | None:
    """How a failed call's inputs differ from the tool's successful calls (once `min_history` succeeded): a
    parameter none of them had, one all of them had missing, or one of another type than all of them gave
    it: (what, the parameter, the usual, this call's). Learns the inputs of calls that succeeded."""
    inputs = json_attr(span, "input.value")
    if not isinstance(inputs, dict):
        return None
    key = f"{KEY}:inputs:{trace.app}:{attr(span, 'dify.node.id') or attr(span, 'gen_ai.tool.name') or span.name}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    if failed:
        if runs < cfg.min_history:
            return None
        for name, value in inputs.items():
            if name not in seen:
                return "a parameter none of them had", name, sorted(seen)[:20], {name: value}
            kinds = seen[name]
            if value is not None and len(kinds) == 1 and value_kind(value) not in kinds:
                return "a parameter of another type", name, next(iter(kinds)), {name: value}
        absent = [name for name, kinds in seen.items() if sum(kinds.values()) >= runs and name not in inputs]
        return ("a parameter all of them had missing", absent[0], absent[0], sorted(inputs)[:20]) if absent else None
    if len(inputs) > 50:
        return None  # parameters are few: this is data, not a call's parameters
    for name, value in inputs.items():
        if value is not None:
            kinds, kind = seen.setdefault(name, {}), value_kind(value)
            kinds[kind] = kinds.get(kind, 0) + 1
        else:
            seen.setdefault(name, {})
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the tool's recent calls
        history["runs"] = (runs + 1) // 2
        history["seen"] = {n: {k: c // 2 for k, c in kinds.items()} for n, kinds in seen.items()}
    if len(seen) <= 100:
        trace.baselines.put(key, history)
    return None


# What a code node writes for a value it read under a name its input no longer has (Python, JavaScript).
_PLACEHOLDER = re.compile(r"(?<![\w'\"])(?:None|undefined|null|NaN)(?![\w'\"])")


def _came_out_empty(reader: ReadableSpan, fields: dict[str, Any]) -> bool:
    """The node reading an answer gave an empty list or text, a zero or a null among its outputs (a list it
    took out of the answer under a name the answer no longer has: `.get('slots', [])`), or a list of nothing but
    those (each record's field read under its old name: `[0, 0, 0]`), or a text showing a zero while no field of
    the answer is 0 (a line written with the default of a field read under its old name: `0 km`), or a record
    holding a number 0 while no field of the answer is 0."""
    outputs = json_attr(reader, "output.value")
    if not isinstance(outputs, dict):
        return False
    if any(
        _empty(value)
        or (isinstance(value, list) and all(_empty(item) for item in value[:50]))
        # each record written with its fields read under old names: `["None (None)", ...]`, `undefined - undefined`
        or (
            isinstance(value, list) and value and all(isinstance(i, str) and _PLACEHOLDER.search(i) for i in value[:50])
        )
        for value in outputs.values()
    ):
        return True
    # A text, or a list of lines (one per record), showing a zero.
    texts = (item for value in outputs.values() for item in (value[:50] if isinstance(value, list) else (value,)))
    shown = [text for text in texts if isinstance(text, str) and "0" in text]
    # A record the reader made holding a number 0 (`{"amount": 0, "status": "approved"}`) tells the same.
    zero = any(ZERO.search(text) for text in shown) or any(
        isinstance(value, dict) and any(type(item) in (int, float) and item == 0 for item in islice(value.values(), 30))
        for value in outputs.values()
    )
    return zero and not any(type(value) in (int, float) and value == 0 for value in fields.values())


def _empty(value: Any) -> bool:
    return (
        value is None
        or (value == 0 and type(value) is not bool)
        or (isinstance(value, str | list | dict) and not value)
    )


def _renamed(
    trace: Trace,
    source: str,
    read: tuple[dict[str, Any], dict[str, str]],
    cfg: Config,
    emptied: bool,
    counted: dict[str, set[str]],
) -> tuple[list[str], list[str]] | None:
    """A field nine in ten earlier outputs of this source held (`min_history` of them at least) missing, while
    a field one in ten at most held appears and most of the usual fields are there: (the missing, the new; two
    of each at most). When the next node came out empty (`emptied`), three in four and one in four. A renamed
    list or object counts once: the fields of a new one are its own, and those the missing one held go with it.
    A new field holding null holds no value that could have moved into it (an optional field added), and one held
    in a field that changed kind (`pret: 52` → `pret: {valoare: 52, moneda}`) is that field's. Learns this
    output's field names, where each nested one was held and which came at the top level; once a run (`counted`:
    the names this run's earlier rounds gave, counted already)."""
    fields, parents = read
    key = f"{KEY}:names:{trace.app}:{source}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    held_in: dict[str, str] = history.setdefault("in", {})
    names = list(fields)[:200]
    found = None
    if runs >= cfg.min_history:
        # Usual: in nine outputs in ten at least; new: in one in ten at most (a rename that lasts a while keeps
        # firing until the new name is usual).
        usual_least, new_most = (0.75 * runs, 0.25 * runs) if emptied else (0.9 * runs, 0.1 * runs)
        missing = [name for name, count in seen.items() if count >= usual_least and name not in fields]
        if missing:  # most outputs: every usual field there, nothing more to count
            gone = set(missing)
            # A field held in a missing (or now empty) one is not missing on its own.
            missing = [
                name for name in missing if held_in.get(name) not in gone and not _emptied(fields, held_in, name)
            ]
            usual = sum(count >= usual_least for count in seen.values())
            new = [name for name in names if seen.get(name, 0) <= new_most and fields[name] is not None]
            fresh = set(new)
            kinds: dict[str, dict[str, int]] = trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}
            new = [
                name
                for name in new
                if (parent := parents.get(name)) not in fresh
                and (parent not in kinds or parent not in fields or value_kind(fields[parent]) in kinds[parent])
            ]
            # Most usual fields there, or as many new as missing beside one there at least (two of a record's three
            # fields renamed: the record is the same, its plate kept).
            kept = usual - len(missing)
            # A reader that came out empty shows a record reshaped: three renamed, one more added beside them.
            most, added = (3, 1) if emptied else (2, 0)
            if (
                missing
                and new
                and len(missing) <= most
                and len(new) <= most + added
                and (
                    kept >= usual / 2
                    or (kept and len(missing) <= len(new) <= len(missing) + added)
                    or (emptied and _one_for_one(trace, source, missing, new, fields))
                )
            ):
                found = missing, new
    top: dict[str, int] = history.setdefault("top", {})  # how often each name came at the top level
    this_run = counted.get(source)
    for name in names if this_run is None else [name for name in names if name not in this_run]:
        seen[name] = seen.get(name, 0) + 1
        if name not in parents:
            top[name] = top.get(name, 0) + 1
    if len(held_in) <= 300:
        for name, parent in parents.items():
            held_in.setdefault(name, parent)
    counted.setdefault(source, set()).update(names)
    if this_run is not None:  # a later round of this run: counted once
        if len(seen) <= 300:
            trace.baselines.put(key, history)
        return found
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the source's recent outputs
        history["runs"] = (runs + 1) // 2
        history["seen"] = {name: count // 2 for name, count in seen.items() if count >= 2}
        history["top"] = {name: count // 2 for name, count in top.items() if count >= 2}
    if len(seen) <= 300:  # field names come from outside
        trace.baselines.put(key, history)
    return found


def _one_for_one(trace: Trace, source: str, missing: list[str], new: list[str], fields: dict[str, Any]) -> bool:
    """A record of one field renamed (`{milk_kg: 31.4}` → `{yield_kg: 31.4}`): nothing kept beside it, so the new
    field must hold the kind of value the missing one always held (a number for a number; an error object's
    message in place of a reading is another answer, not a rename)."""
    if len(missing) != 1 or len(new) != 1:
        return False
    kinds: dict[str, int] = (trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}).get(missing[0]) or {}
    return list(kinds) == [value_kind(fields[new[0]])]


def _wrapped(trace: Trace, source: str, parents: dict[str, str], cfg: Config) -> tuple[list[str], list[str]] | None:
    """Half of the top-level fields three in four earlier outputs of this source held (two at least, `min_history`
    outputs at least) now held in one field that one in four at most held (`{data: {sailings, note}, paging}` for
    `{sailings, note}`): the answer wrapped in an envelope, its reader looking for them at the top. (the moved
    fields, two at most; the new holder). Learns nothing: `_renamed` learns the names; the moved ones stay usual at
    the top while under a fourth of the history lacked them there, so an envelope that lasts keeps firing."""
    history = trace.baselines.get(f"{KEY}:names:{trace.app}:{source}")
    if not history or history["runs"] < cfg.min_history:
        return None
    runs, seen = history["runs"], history["seen"]
    top = [name for name, count in history.get("top", {}).items() if count >= 0.75 * runs]
    moved = [name for name in top if parents.get(name) is not None]
    holders = {parents[name] for name in moved}
    if len(moved) < 2 or 2 * len(moved) < len(top) or len(holders) != 1:
        return None
    (holder,) = holders
    return (moved[:2], [holder]) if seen.get(holder, 0) <= 0.25 * runs and parents.get(holder) is None else None


def _reshaped(
    trace: Trace, source: str, read: tuple[dict[str, Any], dict[str, str]], cfg: Config
) -> tuple[list[str], list[str]] | None:
    """Most of the fields three in four earlier outputs of this source held (four at least, `min_history` outputs
    at least) missing, and three of them matched, one for one, by new fields (each in a fourth of the outputs at
    most) holding the kind of value the missing one always held: the API answers in a new schema, renamed and
    regrouped at once (`{total, paid}` → `{amounts: {monthly, received}}`), more than `_renamed` takes for one
    rename. Called only when the reader came out empty. An error envelope (`{code, message}`) is another answer:
    no new text may read as a service failure or a thing not found. (the missing, the new; three of each at most).
    Learns nothing: `_renamed` learns the names."""
    fields = read[0]
    history = trace.baselines.get(f"{KEY}:names:{trace.app}:{source}")
    if not history or history["runs"] < cfg.min_history:
        return None
    runs, seen, held_in = history["runs"], history["seen"], history.get("in", {})
    usual = [name for name, count in seen.items() if count >= 0.75 * runs]
    missing = [name for name in usual if name not in fields and not _emptied(fields, held_in, name)]
    if len(usual) < 4 or 2 * len(missing) <= len(usual):
        return None
    kinds: dict[str, dict[str, int]] = trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}
    new = [name for name in fields if seen.get(name, 0) <= 0.25 * runs and fields[name] is not None]
    texts = [text for name in new for text in _texts(fields[name], [])]
    if any(SERVICE_WORDS.search(text) or NOT_FOUND.search(text) for text in [*new, *texts]):
        return None
    free = list(new)
    matched: list[tuple[str, str]] = []
    for name in missing:
        usual_kinds = list(kinds.get(name) or {})
        twin = next((item for item in free if usual_kinds == [value_kind(fields[item])]), None)
        if twin is not None:
            free.remove(twin)
            matched.append((name, twin))
    if len(matched) < 3:
        return None
    return [name for name, _ in matched[:3]], [twin for _, twin in matched[:3]]


# A text holding a number beside letters: `4인분`, `4 servings`, `12 kg` (no plain number written as text).
_NUMBER_IN_WORDS = re.compile(r"^(?=.*\d)(?=.*[^\W\d_]).{1,40}$", re.DOTALL)


def _number_now_words(trace: Trace, source: str, fields: dict[str, Any], renamed: tuple[list[str], list[str]]) -> bool:
    """The missing field always held a number in the source's history, and the new one holds it as words
    (`"yield": "4인분"` for `"servings": 4`): a reader that worked on did no arithmetic with the words, it took its
    default for the missing name."""
    history: dict[str, dict[str, int]] = trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}
    missing, new = renamed
    usual = history.get(missing[0]) or {}
    value = fields.get(new[0])
    return list(usual) == ["number"] and isinstance(value, str) and _NUMBER_IN_WORDS.match(value) is not None


# Earlier runs of a source whose code reader's computing is kept: (the answer's fields, the reader's recorded input
# and output texts), up to so many fields and characters; read only when a field is renamed.
_SNAPSHOTS = 3
_SNAPSHOT_FIELDS = 50
_SNAPSHOT_CHARS = 5000


def _remember(trace: Trace, source: str, reader: Any, fields: dict[str, Any]) -> list[Any]:
    """The snapshots of the source's earlier runs read by a code reader that succeeded; learns this run's."""
    key = f"{KEY}:reads:{trace.app}:{source}"
    earlier: list[Any] = trace.baselines.get(key) or []
    get = attributes_of(reader).get
    given, made = get("input.value"), get("output.value")
    if (
        len(fields) <= _SNAPSHOT_FIELDS
        and get("dify.node.status") == "succeeded"
        and isinstance(given, str)
        and isinstance(made, str)
        and len(given) + len(made) <= _SNAPSHOT_CHARS
    ):
        trace.baselines.put(key, [*earlier[1 - _SNAPSHOTS :], (fields, given, made)])
    return earlier


def _default_taken(
    reader: Any, fields: dict[str, Any], renamed: tuple[list[str], list[str]], earlier: list[Any]
) -> bool:
    """A code reader that worked on computing nothing from the new field's number (`detectors/derived.py`) and an
    output from two other input numbers alone (`area * coats`), where in its earlier runs (two at least, every one
    that had it) it computed its outputs from the missing field's number (`area * coats / coverage`): it took 1 for
    the old name (`.get('coverage_m2_per_l', 1)`). A reader converting the new field (miles to km) is patched."""
    missing, new = renamed
    value = fields.get(new[0])
    if type(value) not in (int, float) or not value:
        return False
    outputs, inputs = json_attr(reader, "output.value"), json_attr(reader, "input.value")
    if computed_from(value, outputs, inputs) or not computed_from_others(outputs, inputs):
        return False
    used = [computed_from(number, json_value(made), json_value(given)) for held, given, made in earlier
            if type(number := held.get(missing[0])) in (int, float) and number]  # fmt: skip
    return len(used) >= 2 and all(used)


def _coped(
    reader: ReadableSpan, reader_type: Any, fields: dict[str, Any], renamed: tuple[list[str], list[str]]
) -> bool:
    """The reader worked on with the renamed field: a model quoting a text of a new field in its answer (it found
    the value; a number quoted may be one misread, a Fahrenheit reading taken for Celsius), or a code or template
    node giving a value under a missing field's name (it took the value from the new name: a reader patched for
    the API's new version; an unpatched one gets nothing under the old name), or giving a new field's very value
    under its name (it reads that field: an outcome the API seldom gives, a waitlist place for a seat, which the
    reader was written for, not a rename). A reader's own words under a missing name (`"none in stock"`), holding
    nothing of the answer, are the default it wrote for finding nothing."""
    outputs = json_attr(reader, "output.value")
    if not isinstance(outputs, dict):
        return False
    missing, new = renamed
    if reader_type != "llm":
        return any(_taken(outputs.get(name), fields) for name in missing) or any(
            not _empty(fields[name]) and outputs.get(name) == fields[name] for name in new
        )
    answer = outputs.get("text")
    return isinstance(answer, str) and any(text in answer for name in new for text in _texts(fields[name], []))


def _taken(value: Any, fields: dict[str, Any]) -> bool:
    """A value a reader gave that came from the answer: one of its fields' values, or a text holding one of the
    answer's texts (four characters at least) or numbers."""
    if _empty(value):
        return False
    if not isinstance(value, str) or any(value == item for item in fields.values()):
        return True
    numbers = set(numbers_in(value, [], True))
    return any(text in value for item in fields.values() for text in _texts(item, [])) or any(
        number in numbers for item in fields.values() for number in numbers_in(item, [], False)
    )


def _value_dropped(
    reader: Any, fields: dict[str, Any], renamed: tuple[list[str], list[str]], earlier: list[Any]
) -> bool:
    """A code reader that worked on showing none of the new field's numbers (nested ones too) and no number before
    the word it wrote the missing field's number before in its earlier runs (two at least, every one that had it:
    `17 seats` from `free_seats: 17`, now `no seats`): it read the old name and wrote its default. A reader
    converting the new field writes a number there (`117181 km` from miles)."""
    missing, new = renamed
    numbers = numbers_in(fields.get(new[0]), [], False)
    outputs = json_attr(reader, "output.value")
    if not numbers or any(number in numbers_in(outputs, [], True) for number in numbers):
        return False
    words = []
    for held, _, made in earlier:
        number = held.get(missing[0])
        if type(number) not in (int, float) or not number:
            continue
        written = re.search(rf"(?<![\d.]){re.escape(str(number))}\s*([^\W\d_]+)", _joined(json_value(made)))
        if written is None:
            return False
        words.append(written.group(1))
    now = _joined(outputs)
    return len(words) >= 2 and any(
        word in now and re.search(rf"\d\s*{re.escape(word)}(?![^\W\d_])", now) is None for word in set(words)
    )


def _moved_dropped(
    trace: Trace,
    source: str,
    reader: Any,
    fields: dict[str, Any],
    renamed: tuple[list[str], list[str]],
    earlier: list[Any],
) -> str | None:
    """A code reader that showed the missing field's value (its number, or its text of four characters or more) in
    its every earlier run (two at least, every one that had it) and now shows nothing of the new object holding a
    value of the kind the missing field always held (`keli: "liukas"` → `olosuhteet: {kuvaus: "liukas"}`, `cena: 189`
    → `cena_s_dph: {castka: 189, mena}`): it read the old name and wrote its default (`ei tietoa`, `cena
    neuvedena`). A number shown that the answer does not hold is a reader converting the new field's: patched. The
    new object, or None."""
    missing, new = renamed
    kinds = list((trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}).get(missing[0]) or {})
    holder = next((name for name in new if isinstance(held := fields[name], dict)
                   and [kinds[0]] == kinds and any(value_kind(item) == kinds[0] for item in islice(held.values(), 30))),
                  None)  # fmt: skip
    outputs = json_attr(reader, "output.value")
    if holder is None or not isinstance(outputs, dict):
        return None
    now, shown = _joined(outputs), numbers_in(outputs, [], True)
    moved = {abs(number) for number in numbers_in(fields[holder], [], False)}
    answered = {abs(number) for number in numbers_in(fields, [], True)}
    if any(number in moved or number not in answered for number in shown) or any(
        text in now for text in _texts(fields[holder], [])
    ):
        return None
    told = 0
    for held, _, made in earlier:
        value = held.get(missing[0])
        if _empty(value) or (isinstance(value, str) and len(value.strip()) < 4):
            continue  # a short text (`wet`) could be shown by chance: no evidence either way
        if isinstance(value, str):
            if value.strip() not in _joined(json_value(made)):
                return None
        elif type(value) not in (int, float) or abs(value) not in numbers_in(json_value(made), [], True):
            return None
        told += 1
    return holder if told >= 2 else None


def _joined(value: Any) -> str:
    """A node's outputs as one text, its own characters (not JSON's escapes)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _texts(value: Any, into: list[str], depth: int = 0) -> list[str]:
    """The texts of four characters at least a field's value holds, nested ones too (to three levels, the first
    ten items of a list)."""
    if isinstance(value, str):
        if len(value.strip()) >= 4:
            into.append(value.strip())
    elif depth < 3 and isinstance(value, dict | list):
        for item in islice(value.values() if isinstance(value, dict) else value, 10):
            _texts(item, into, depth + 1)
    return into


def _emptied(fields: dict[str, Any], held_in: dict[str, str], name: str) -> bool:
    """The field that held `name` in earlier outputs is here and empty (no slots on a Sunday: no slot's time)."""
    holder = held_in.get(name)
    return holder is not None and holder in fields and not fields[holder]


# How far a number must lie past every value its field had (times), and the units it would then be counted in
# (cents for euros, grams for kilograms, milliseconds for seconds: 100 and 1000 times, or the other way).
_SCALE_PAST = 10
_UNIT_FACTORS = (100, 1000)


def _scale_jump(
    trace: Trace, source: str, fields: dict[str, Any], cfg: Config, reader: ReadableSpan
) -> tuple[str, float, float, float, int] | None:
    """A number of the answer more than `_SCALE_PAST` times above (or below) every value its field had in the
    source's earlier answers (`min_history` of them), which a hundredth or a thousandth of (or 100 or 1000 times)
    puts back among them, while the next node passes it on (the value, or a whole multiple of it: a quantity
    times the price): the field is now counted in another unit. (the field, the value, its usual least and most,
    the factor). Learns the other values."""
    key = f"{KEY}:scale:{trace.app}:{source}"
    history: dict[str, list[float]] = trace.baselines.get(key) or {}
    found = None
    for name, value in islice(fields.items(), 50):
        if type(value) not in (int, float) or value <= 0:
            continue
        seen = history.get(name)
        if seen is None:
            if len(history) < 100:
                history[name] = [value, value, 1]
            continue
        least, most, count = seen
        if found is None and count >= cfg.min_history and (value > _SCALE_PAST * most or value * _SCALE_PAST < least):
            factor = next((f for f in _UNIT_FACTORS if least <= (value / f if value > most else value * f) <= most), 0)
            if factor and _passes_on(reader, value):
                found = name, value, least, most, factor
                continue  # a value in another unit is not learned: the change keeps firing
        seen[:] = [min(least, value), max(most, value), count + 1]
    trace.baselines.put(key, history)
    return found


def _passes_on(reader: ReadableSpan, value: float) -> bool:
    """The node's outputs hold `value`, or a whole multiple of it up to 1000 times."""
    outputs = json_attr(reader, "output.value")
    stack, walked = [outputs], 0
    while stack and walked < 200:
        item = stack.pop()
        walked += 1
        if type(item) in (int, float) and item:
            times = item / value
            if 1 <= times <= 1000 and abs(times - round(times)) < 1e-9:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item[:50])
    return False


def _scaled_finding(span: ReadableSpan, reader: ReadableSpan, scaled: tuple[str, float, float, float, int]) -> Finding:
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


def _nested_finding(span: ReadableSpan, reader: ReadableSpan, nested: tuple[str, dict[str, Any], Any]) -> Finding:
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


def _reshaped_finding(span: ReadableSpan, reshaped: tuple[list[str], list[str]]) -> Finding:
    title, (missing, new) = attr(span, "dify.node.title", span.name), reshaped
    summary = (f"'{title}' answered without most of its usual fields ({', '.join(missing)}) and with new ones "
               f"({', '.join(new)}) holding values of their kinds, and the next node came out empty: the answer's "
               "schema changed.")  # fmt: skip
    return Finding(KEY, "high", 0.8, summary,
                   {"node": title, "rule": "most of an output's usual fields replaced by new ones, read as nothing",
                    "field": missing[0], "produced": missing, "received": new},
                   span_id(span))  # fmt: skip

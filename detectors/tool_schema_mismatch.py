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

from collections.abc import Iterator
from itertools import islice

from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, json_attr, node_error, span_id
from detectors.answer_readers import (
    came_out_empty,
    coped,
    default_taken,
    holds_body,
    moved_dropped,
    remember_reads,
    value_dropped,
)
from detectors.answer_shapes import (
    echoed,
    input_drift,
    learn_names,
    number_now_words,
    output_fields,
    renamed_fields,
    reshaped_fields,
    scale_jump,
    type_changes,
    wrapped_fields,
)
from detectors.nested_zeros import nested_zeros
from detectors.schema_findings import KEY as KEY
from detectors.schema_findings import (
    REFUSING_STATUS,
    failed_later,
    failed_reading,
    nested_finding,
    read_fields,
    refused_request,
    reshaped_finding,
    scaled_finding,
)
from detectors.tool_errors import (
    NOT_FOUND,
    NOT_SCHEMA,
    SCHEMA_ERROR,
    names_own_input,
)


class Config(DetectorConfig):
    # Runs of a tool giving an output field its usual type before another type counts as a change.
    min_history: int = Field(default=5, ge=1)


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        for span in trace.tool_spans:
            if attr(span, "dify.node.retry_index") is not None:
                continue
            failed = attr(span, "dify.node.status") in ("failed", "exception") or span.status.status_code.value == 2
            drift = input_drift(trace, span, failed, cfg.min_history)
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


# The nodes that call out for an answer: one started right after a source is a parallel branch's, not its reader.
_SOURCES = ("http-request", "tool")
# How many nodes past the next one are searched for the node taking an HTTP body in (parallel branches).
_BRANCH_LOOKAHEAD = 8


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
        refusing = not tool and isinstance(outputs, dict) and outputs.get("status_code") in REFUSING_STATUS
        if refusing and (refusal := refused_request(span, outputs)) is not None:
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
        parallel = reader is not None and attr(reader, "dify.node.type") in _SOURCES
        if reader is not None and isinstance(body, str) and body and (parallel or holds_body(reader, body) is False):
            # Parallel branches interleave in start order: the code node taking this body in may come after
            # another branch's (faults9's road and forecast APIs, each read by its own code node), or after another
            # source started beside this one (held-out 16's departures API and weather API, one code node reading
            # both).
            later = islice(nodes, later_index + 1, later_index + 1 + _BRANCH_LOOKAHEAD)
            reader = next((node for node in later if holds_body(node, body)), reader)
        reader_type = attr(reader, "dify.node.type") if reader is not None else None
        # An HTTP body is text: a code or template node takes fields out of it (and fails on them); an LLM reads
        # them by name too (a renamed field only, the model failing on nothing).
        if not tool and reader_type not in _BODY_READERS:
            continue
        if not isinstance(outputs, dict):
            continue
        read = output_fields(tool, outputs)
        if read is None:
            continue
        fields = read[0]
        source = node_id or span.name  # the histories' key
        emptied = reader is not None and came_out_empty(reader, fields)
        # Read before `learn_names` learns this answer's names.
        wrapped = wrapped_fields(trace, source, read, cfg.min_history) if emptied and reader is not None else None
        reshaped = (
            reshaped_fields(trace, source, read, cfg.min_history)
            if emptied and wrapped is None and reader is not None
            else None
        )
        renamed = renamed_fields(trace, source, read, cfg.min_history, emptied)
        if wrapped is not None and reader is not None and not coped(reader, reader_type, fields, wrapped):
            # An answer whose shape is told is not learned (nor below): a change that lasts keeps firing while its
            # reader keeps showing it (held-out 17's parcel API, renamed for 18 runs of a day).
            if source in told:
                continue  # a loop's rounds, each page wrapped: told once
            told.add(source)
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
        shown = shown or (renamed is not None and number_now_words(trace, source, fields, renamed))
        # What a code reader computed in earlier runs, learned while it works (cheap: the recorded texts kept).
        earlier = remember_reads(trace, source, reader, fields) if reader_type == "code" and not shown else []
        shown = shown or (
            renamed is not None
            and (default_taken(reader, fields, renamed, earlier) or value_dropped(reader, fields, renamed, earlier))
        )
        if renamed is not None and not shown and earlier:
            into = moved_dropped(trace, source, reader, fields, renamed, earlier)
            if into is not None:  # the new object first: the evidence names it
                shown, renamed = True, (renamed[0], [into, *(name for name in renamed[1] if name != into)])
        rename_told = (
            renamed is not None and shown and (reader is None or not coped(reader, reader_type, fields, renamed))
        )
        reshape_told = (
            not rename_told
            and reshaped is not None
            and reader is not None
            and not coped(reader, reader_type, fields, reshaped)
        )
        if not (rename_told or reshape_told):
            learn_names(trace, source, read, counted)
        if renamed is not None and rename_told:
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
        if reshaped is not None and reshape_told:
            if source in told:
                continue  # a loop's or an iteration's rounds answered alike: told once
            told.add(source)
            yield reshaped_finding(span, reshaped)
            continue
        # One run tells a number nested into an object, read as the reader's default 0: told of the source whose
        # answer holds the objects (a reader of two parallel sources' answers is each one's reader).
        if (
            emptied
            and reader is not None
            and reader_type != "llm"
            and (nested := nested_zeros(reader)) is not None
            and nested[0] in fields
        ):
            yield nested_finding(span, reader, nested)
            continue
        scaled = scale_jump(trace, source, fields, cfg.min_history, reader) if reader is not None else None
        # An answer echoing the number it was sent carries the sender's value, not a unit of its own.
        if scaled is not None and reader is not None and not echoed(trace, span, scaled[1]):
            yield scaled_finding(span, reader, scaled)
            continue
        if reader is None or (not tool and reader_type == "llm"):
            continue
        failing = attr(reader, "dify.node.status") in ("failed", "exception")
        changed, known = type_changes(trace, source, fields, cfg.min_history, failing)
        failure = None
        if failing and reader_type != "tool":
            failure = failed_reading(span, outputs, reader, read, (changed, known))
        elif changed:  # rare: a field of another type than the source's history gave it
            failure = failed_later(span, nodes, index, fields, changed)
        if failure is not None:
            yield failure
        elif tool and outputs.get("json"):
            yield from read_fields(span, reader, nodes[:index], fields, changed)

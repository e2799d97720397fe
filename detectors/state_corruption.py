"""`state_corruption`: data lost or mangled between the node that produced it and the node that reads it.

Fires when a node that succeeded declared an output and produced nothing (an LLM with empty text, a code node returning
nulls, a template rendering `None` or nothing, from inputs that all had values), or when a later node reads a variable
of the same name as empty or as another type than its producer wrote it (a tool failing on it is left to
`dify_tool_schema_mismatch`). Value flow across nodes adds more rules: documents retrieved but an empty `#context#` at
the next LLM, or a filled one that none of its prompts holds, or no context at all and the documents in none of the
prompts of the LLMs after the retrieval, one of which gave the run's answer; an End/Answer node receiving or showing a
strict beginning of an LLM's answer (cut short, an ellipsis allowed; not at a line's end: the first paragraph is a
choice; not a value another node gave whole); an iteration whose output list holds fewer items than it ran rounds, or a
null where its round succeeded with a value; an LLM whose last user message shows a value rendered as none (`[]`,
`null`, `"[object Object]"`; whole, or after a label on its last line) after a node produced data, or an object whose
fields a node produced filled shown with them emptied; a code node's output left empty that its earlier runs usually
filled (a template's too), while its inputs hold a value of that kind under another name (an API renamed the list the
code reads); a code output that kept an input list's length (or counted it) in earlier runs holding no item while the
list has items, or while it is missing and another list is there; an iteration's items lost to rounds that failed on
their data; a variable assigner writing empty, cut short, with fewer items or a number as text what its source node
produced (its process data); a parameter extractor's number its text does not state, a number the text states left out,
or another than the number word right before the parameter's name; a code node's number 0 that its earlier runs read
from a same-named input field its input no longer holds; a parameter extractor's date with the day and month of its
text's date swapped, or its count of one time unit the text states in another (`two weeks` as 2 days); an answer
counting an iteration's items without the round that failed; a code node run without input fields its earlier runs held,
as many new ones beside them (a renamed field read as the code's default; not where its outputs were computed from the
new field), or showing 0 with a one-field record renamed and no 0 in its input. Values that were already empty at the
producer, or after an HTTP request answered with an error status, are not corruption.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from detectors import (
    DetectorConfig,
    Finding,
    Trace,
    attr,
    attributes_of,
    json_attr,
    json_value,
    prompt_text,
    span_id,
)
from detectors.assigned_values import assigned_changed
from detectors.corruption import BOOKKEEPING, KEY, SOURCES, finding, no_value, node_title
from detectors.defaults_passed import default_passed_on, error_defaulted
from detectors.emptied_outputs import code_output_lost, left_empty, nested_zeroed, usual_output
from detectors.emptied_prompts import emptied_prompt, messages_of, zeroed_record
from detectors.extracted_numbers import extraction_misread, money_misread
from detectors.lost_items import items_lost
from detectors.renamed_fields import sent_changed
from detectors.text_flow import answer_cut, context_lost, numbers_changed, probes_of, sent_cut
from detectors.turns import conversation_emptied
from detectors.values import empty, value_kind

_READERS = frozenset({"end", "answer", "llm", "code", "template-transform", "tool", "http-request", "if-else"})


class Config(DetectorConfig):
    # Also flag a same-named variable read as another type than its producer wrote it. Off by default: Dify
    # reads a variable by node and name, so a same name from another node proves nothing, and on held-out 4
    # this rule alone flagged 13 % of the clean runs (docs/detectors.md).
    type_changes: bool = False
    # Also flag an LLM whose last user message shows a value rendered as none (`[]`, `null`) after a node
    # produced data. On by default since session 18: off in session 17 after it flagged 1.7 % of held-out 5's
    # clean runs, all after a node that failed with its error handled (a lookup's empty default); such runs are
    # now left alone, and no clean run of any corpus is flagged (docs/detectors.md).
    emptied_prompts: bool = True
    # Earlier runs of a code node (per app) that filled an output before its emptying counts as a change.
    min_history: int = Field(default=5, ge=1)


def _renders_none(output: Any, span: Any) -> bool:
    """Whether a template given values (all texts, for an empty output: a condition on a number or a flag, or
    a filter over a list, may render nothing on purpose) rendered a name for none (`None`, `undefined`)."""
    if no_value(output) in (..., [], {}):  # an empty JSON list or object is a filter's fair answer
        return False
    inputs = json_attr(span, "input.value")
    if not inputs or not isinstance(inputs, dict) or any(empty(value) for value in inputs.values()):
        return False
    return bool(output.strip()) or all(isinstance(value, str) for value in inputs.values())


def _answer_field_lost(span: Any, source: Any, name: str, value: Any) -> Finding | None:
    """A node reading `name` empty, no node having produced that name, after a tool or API (`source`, the last
    that succeeded) answered JSON (`json`, or a JSON `text` or `body`; its top level, or its first record's)
    with that field filled: the field was lost between the answer and the node reading it."""
    outputs = json_attr(source, "output.value")
    if not isinstance(outputs, dict) or (isinstance(code := outputs.get("status_code"), int) and code >= 400):
        return None  # an API's error answer is no data
    for key in ("json", "text", "body"):
        answer = outputs.get(key)
        if isinstance(answer, str) and answer[:1] in ("{", "["):
            answer = json_value(answer)
        if isinstance(answer, list) and answer and isinstance(answer[0], dict):
            answer = answer[0]
        if isinstance(answer, dict) and not empty(given := answer.get(name)):
            title, producer = node_title(span), node_title(source)
            return finding(span, "a field the last tool or API answered filled reaches a node empty",
                           f"'{name}' was filled in the answer of '{producer}' and reached '{title}' empty.",
                           {name: given}, {name: value})  # fmt: skip
    return None


def _produced_empty(outputs: list[dict[str, Any]], value: Any) -> bool:
    """Whether a node's `outputs` hold an empty value of the kind of `value` (empty too), Dify's own outputs of every
    node of a kind (an LLM's `reasoning_content`) aside."""
    kind = value_kind(value)
    return any(not given and empty(given) and value_kind(given) == kind and name not in BOOKKEEPING
               for out in outputs for name, given in out.items())  # fmt: skip


def _last_node(nodes: list[Any], index: int) -> Any:
    """The node an End/Answer at `index` follows: the last before it outside any container's rounds, not a
    branch."""
    for position in range(index - 1, -1, -1):
        attributes = attributes_of(nodes[position])
        inside = attributes.get("dify.iteration.index") is not None or attributes.get("dify.loop.index") is not None
        if not inside and attributes.get("dify.node.type") != "if-else":
            return nodes[position]
    return None


def _shown_empty(span: Any, inputs: Any, nodes: list[Any], index: int) -> Finding | None:
    """An End/Answer node (at `index` of `nodes`) whose every value is empty right after a node that produced a text or
    a list of items, an iteration's output too (under another name: the same name is the same-named rule's): the run
    answered nothing the node before it had. After a node that failed, the empty value is its error's default."""
    if not isinstance(inputs, dict) or not inputs or not all(empty(value) for value in inputs.values()):
        return None
    last_node = _last_node(nodes, index)
    if last_node is None or attr(last_node, "dify.node.status") != "succeeded":
        return None
    outputs = json_attr(last_node, "output.value")
    if not isinstance(outputs, dict):
        return None
    given = next(((name, value) for name, value in outputs.items() if name not in BOOKKEEPING
                  and name not in inputs and (value.strip() if isinstance(value, str) else isinstance(value, list)
                                              and value)), None)  # fmt: skip
    if given is None:
        return None
    return finding(span, "an End/Answer node shows nothing right after a node produced a value",
                   f"'{node_title(span)}' received only empty values, though '{node_title(last_node)}' just before it "
                   f"produced '{given[0]}'.", {given[0]: given[1]}, inputs)  # fmt: skip


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        if trace.of_type("iteration"):
            yield from items_lost(trace)
        retrieved = [(span.start_time or 0, text, probes_of(text)) for span, _, text in trace.documents if text.strip()]
        if retrieved:
            yield from context_lost(trace, retrieved)
        answers: list[str] = []  # earlier LLMs' texts, for the End/Answer nodes
        # output name → (value, producer span); titles are read only for a finding
        produced: dict[str, tuple[Any, Any]] = {}
        data: tuple[Any, str, Any] | None = None  # the last list or object produced: (producer span, name, value)
        failed_before = False  # a node failed (handled) before the one read
        answered_error = False  # an HTTP request was answered with an error status: what follows read no data
        source = None  # the last tool or HTTP request that succeeded
        # The outputs of the nodes that succeeded, in order, and where those after the source and after each name's
        # producer begin: an empty value one of them produced (a filter keeping nothing) may be what a reader's own
        # variable is mapped to, whatever its name.
        seen: list[dict[str, Any]] = []
        after_source = 0
        after: dict[str, int] = {}

        def _learn(span: Any, node_type: str, outputs: dict[str, Any]) -> None:
            """What a node that succeeded produced, for the nodes after it."""
            nonlocal source, after_source, data
            seen.append(outputs)
            if node_type in SOURCES:
                source, after_source = span, len(seen)
            for name, value in outputs.items():
                produced[name] = (value, span)
                after[name] = len(seen)
                if value and isinstance(value, (list, dict)) and name not in BOOKKEEPING:
                    data = (span, name, value)

        nodes = trace.nodes
        # A loop's or an iteration's outputs are its last round's values: what the nodes after it read, never what
        # its rounds read (a loop variable starts from its initial value). Held back, with the ids of the spans
        # inside, until a node outside its rounds.
        held: list[tuple[set[int], Any, dict[str, Any]]] = []
        for index, span in enumerate(nodes):
            attributes = attributes_of(span)
            get = attributes.get
            node_type, status = get("dify.node.type"), get("dify.node.status")
            for container in held[:]:
                if trace.node_parents[index] in container[0]:
                    container[0].add(span_id(span))
                else:
                    held.remove(container)
                    _learn(container[1], "", container[2])
            # Inputs are decoded only when they could show corruption: a reader, after something was produced
            # (or an LLM after a retrieval).
            reads = produced and node_type in _READERS
            inputs = json_attr(span, "input.value") if reads else None
            outputs = None
            if node_type in ("end", "answer"):
                outputs = json_attr(span, "output.value")
                if answers and (cut := answer_cut(span, inputs, outputs, answers, produced)) is not None:
                    yield cut
                elif answers and (changed := numbers_changed(span, inputs, answers, produced)) is not None:
                    yield changed
                if (shown := _shown_empty(span, inputs, nodes, index)) is not None:
                    yield shown
            # A tool refusing a null it was given is dify_tool_schema_mismatch's finding: its parameter may be
            # mapped from another node than the one that produced the same name.
            refused = node_type == "tool" and status in ("failed", "exception")
            if isinstance(inputs, dict) and not refused:
                for name, value in inputs.items():
                    entry = produced.get(name)
                    # `not value` first: most inputs hold a value, and the test costs no call.
                    if entry is None and not value and source is not None and empty(value):
                        if _produced_empty(seen[after_source:], value):
                            continue
                        # No node output of that name: a field of the last tool's or API's answer.
                        if (lost := _answer_field_lost(span, source, name, value)) is not None:
                            yield lost
                        continue
                    if entry is None or (not (before := entry[0]) and empty(before)):
                        continue
                    if not value and empty(value):
                        if _produced_empty(seen[after[name] :], value):
                            continue  # read from a node after the producer, whose value was empty too
                        title, producer = node_title(span), node_title(entry[1])
                        yield Finding(
                            KEY,
                            "high",
                            0.8,
                            f"'{name}' left '{producer}' with a value and reached '{title}' empty.",
                            {
                                "node": title,
                                "rule": "same-named variable empty at the reader",
                                "variable": name,
                                "producer": producer,
                                "produced": str(before)[:200],
                                "received": str(value)[:200],
                            },
                            span_id(span),
                        )
                    elif cfg.type_changes and value_kind(value) != value_kind(before):
                        title, producer = node_title(span), node_title(entry[1])
                        yield Finding(
                            KEY,
                            "medium",
                            0.7,
                            f"'{name}' left '{producer}' as {value_kind(before)} and reached '{title}' as "
                            f"{value_kind(value)}.",
                            {
                                "node": title,
                                "rule": "same-named variable changed type",
                                "variable": name,
                                "from": value_kind(before),
                                "to": value_kind(value),
                                "produced": str(before)[:200],
                                "received": str(value)[:200],
                            },
                            span_id(span),
                        )
            if status != "succeeded":
                # A node that failed (its error handled: the run went on) leaves the values it owed empty:
                # an empty value in a later prompt is that failure's doing, not a value lost on the way.
                failed = status in ("failed", "exception")
                if (
                    failed
                    and node_type == "code"
                    and (hidden := error_defaulted(trace, span, cfg.min_history, answered_error))
                ):
                    yield hidden
                elif failed and node_type in SOURCES and (passed := default_passed_on(span, nodes, index)):
                    yield passed
                failed_before = failed_before or failed
                continue
            if node_type == "assigner":  # an assigner's values are its process data: it has no outputs
                if (changed := assigned_changed(span, nodes, index)) is not None:
                    yield changed
                if (emptied := conversation_emptied(trace, span, KEY)) is not None:
                    yield emptied
            if outputs is None:
                outputs = json_attr(span, "output.value")
            if not isinstance(outputs, dict):
                continue
            if node_type == "llm":
                text = outputs.get("text")
                if text and isinstance(text, str):
                    answers.append(text)
                if data is not None and not failed_before:
                    contents, last_user = messages_of(attributes)
                    prompt = "\n".join(contents) if contents else prompt_text(span)  # other senders: any message
                    if (
                        cfg.emptied_prompts
                        and (shown_none := emptied_prompt(span, last_user, produced, data, trace)) is not None
                    ):
                        yield shown_none
                    elif (zeroed := zeroed_record(span, prompt, produced)) is not None:
                        yield zeroed
                if not text and "text" in outputs and empty(text):
                    title = node_title(span)
                    yield Finding(
                        KEY,
                        "medium",
                        0.75,
                        f"LLM node '{title}' succeeded with an empty answer.",
                        {"node": title, "rule": "an LLM that succeeded with empty text", "produced": ""},
                        span_id(span),
                    )
            elif node_type == "code" and (
                lost := code_output_lost(trace, span, outputs, cfg.min_history, answered_error)
            ):
                yield lost
            if (
                node_type in ("code", "template-transform")
                and answers
                and index + 1 < len(nodes)
                and (sent := sent_cut(span, outputs, answers, produced, nodes[index + 1])) is not None
            ):
                yield sent
            if node_type == "template-transform":
                # Learned on every run; after an HTTP error status the template was given no data to lose.
                usually_filled = usual_output(trace, span, outputs, cfg.min_history)
                if _renders_none(outputs.get("output"), span):
                    yield finding(span, "a template that rendered no value from inputs that all had one",
                                  f"Template node '{node_title(span)}' was given values but rendered "
                                  f"{outputs['output']!r}.", attributes.get("input.value"),
                                  outputs["output"])  # fmt: skip
                elif not answered_error and (lost := left_empty(span, "Template", usually_filled, outputs)):
                    yield lost
                elif not answered_error and (nested := nested_zeroed(trace, span, "Template")) is not None:
                    yield nested
            elif node_type == "parameter-extractor":
                money = money_misread(trace, span, outputs, cfg.min_history)  # learned on every run
                if (misread := extraction_misread(span, outputs) or money) is not None:
                    yield misread
            elif node_type == "http-request":
                if isinstance(status_code := outputs.get("status_code"), int):
                    answered_error = answered_error or status_code >= 400
                if produced and (sent := sent_changed(trace, span, produced, cfg.min_history)) is not None:
                    yield sent
            if node_type in ("loop", "iteration"):
                held.append(({span_id(span)}, span, outputs))
            else:
                _learn(span, str(node_type), outputs)

    return detect

# ruff: noqa: RUF001  (month names in Cyrillic, Greek and Armenian letters look like Latin ones)
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

import ast
import re
import unicodedata
from collections.abc import Iterator
from itertools import islice
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
    node_error,
    numbers,
    prompt_text,
    span_id,
)
from detectors.derived import computed_from
from detectors.nested_zeros import ZERO, nested_zeros
from detectors.rounds import containers, rounds_of
from detectors.tool_errors import MISSING_FIELD, TYPE_FAILURE
from detectors.turns import conversation_emptied

KEY = "state_corruption"
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


def _empty(value: Any) -> bool:
    return value is None or (not value and isinstance(value, str | list | dict))


# What a whole prompt message or template output shows of a variable that held no value: JSON's empty values,
# Python's and JavaScript's names for none, an object JavaScript turned into text.
_NO_VALUE = frozenset({"", "[]", "{}", "null", "none", "nil", "undefined", "nan", "[object object]"})
# Outputs Dify adds to every node of a kind: their empty values say nothing of the data.
_BOOKKEEPING = frozenset({"files", "headers", "status_code", "reasoning_content", "usage", "finish_reason",
                          "error_message", "error_type"})  # fmt: skip


def _no_value(text: Any) -> Any:
    """The value `text` renders when it renders none (`[]`, `None`, `"[object Object]"`…); `...` otherwise."""
    if not isinstance(text, str) or len(text.strip()) > 17:  # longer than any name for none
        return ...
    if text.strip().strip('"').strip().lower() not in _NO_VALUE:
        return ...
    value = json_value(text.strip())
    return None if isinstance(value, str) and value.strip().lower() in ("none", "null", "nil", "undefined") else value


def _renders_none(output: Any, span: Any) -> bool:
    """Whether a template given values (all texts, for an empty output: a condition on a number or a flag, or
    a filter over a list, may render nothing on purpose) rendered a name for none (`None`, `undefined`)."""
    if _no_value(output) in (..., [], {}):  # an empty JSON list or object is a filter's fair answer
        return False
    inputs = json_attr(span, "input.value")
    if not inputs or not isinstance(inputs, dict) or any(_empty(value) for value in inputs.values()):
        return False
    return bool(output.strip()) or all(isinstance(value, str) for value in inputs.values())


def _all_given(span: Any) -> bool:
    """Whether every input of the node had a value: a code node given a null returns nulls by design, and the
    value was lost before it (a tool answering null), not in it."""
    inputs = json_attr(span, "input.value")
    return not isinstance(inputs, dict) or not any(_empty(value) for value in inputs.values())


# JSON's types by the kind a detector compares (a bool is no number): a lookup for decoded values, which are
# of these exact types; anything else goes through the checks.
_KINDS: dict[type, str] = {bool: "boolean", int: "number", float: "number", str: "text", list: "list", dict: "object"}


def value_kind(value: Any) -> str:
    return _KINDS.get(type(value)) or _kind_of(value)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__


def _finding(span: Any, rule: str, summary: str, produced: Any, received: Any) -> Finding:
    return Finding(KEY, "high", 0.8, summary,
                   {"node": attr(span, "dify.node.title", span.name), "rule": rule,
                    "produced": str(produced)[:200], "received": str(received)[:200]},
                   span_id(span))  # fmt: skip


# A line of text: what `str.splitlines` splits at, left out.
_LINE = re.compile("[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def _probes(text: str) -> list[str]:
    """Pieces of a retrieved document a prompt holding it would show: its first lines, up to 30 characters.
    Lines are found one by one (`str.splitlines`' breaks): documents are long, and three lines are enough."""
    probes: list[str] = []
    for line in _LINE.finditer(text):
        piece = line.group().strip()
        if len(piece) >= 8:
            probes.append(piece[:30])
            if len(probes) == 3:
                break
    return probes


def _cut_from(value: str, answers: list[str]) -> str | None:
    """The LLM answer `value` is a cut-short copy of: a strict beginning of it (an ellipsis marking the cut
    allowed; 12 characters and a quarter of the answer at least, or 20 ending inside a word) missing more than its
    trailing spaces, not ending where a line or paragraph of the answer ends (taking the first paragraph is a
    choice), and no answer in full."""
    if value in answers:
        return None
    marked = value.rstrip().removesuffix("…").removesuffix("...").rstrip()
    if len(marked) < 12:  # a short value (a status word, a label) is a beginning of many texts
        return None
    for answer in answers:
        rest = answer[len(marked) :] if answer.startswith(marked) else ""
        if len(marked) < 0.25 * len(answer) and not _inside_word(marked, rest):
            continue
        if len(rest.strip()) >= 3 and not rest.lstrip(" \t").startswith("\n"):
            return answer
    return None


def _inside_word(kept: str, rest: str) -> bool:
    """Whether a text cut into `kept` and `rest` (20 characters kept at least) was cut inside a word (`(St|rahl)`): no
    template, first line or label ends there, whatever share of the text it keeps."""
    return len(kept) >= 20 and kept[-1:].isalnum() and rest[:1].isalnum()


def _context_lost(trace: Trace, retrieved: list[tuple[int, str, list[str]]]) -> Iterator[Finding]:
    """Retrieved documents that never reached an LLM after the retrieval: its `#context#` empty, or filled
    but in none of its prompts (the template lost `{{#context#}}`), or, where no LLM takes a context, in
    none of the prompts of the LLMs after the retrieval while one of them gave the run's answer (the
    retrieval wired to nothing, and the answer made without it). `retrieved`: each document's start, text and
    probes."""
    unwired: list[tuple[Any, list[str]]] = []  # LLMs without a context variable, and their earlier documents
    wired = False  # the documents reached some LLM's prompt
    for span in trace.of_type("llm"):
        earlier = [content for start, content, _ in retrieved if start <= (span.start_time or 0)]
        if not earlier:
            continue
        inputs = json_attr(span, "input.value")
        context = inputs.get("#context#") if isinstance(inputs, dict) else None
        if isinstance(context, str) and not context.strip():
            yield _finding(span, "retrieved documents → empty #context# at the next LLM",
                           f"{len(earlier)} retrieved document(s) never reached LLM node '{_title(span)}': its "
                           "context was empty.", earlier[0], context)  # fmt: skip
            continue
        prompt = prompt_text(span)
        start = span.start_time or 0
        probes = [probe for begun, _, found in retrieved if begun <= start for probe in found]
        if not prompt or not probes:
            continue
        if any(probe in prompt for probe in probes):
            wired = True
        elif isinstance(context, str):
            yield _finding(span, "retrieved documents in #context# but in none of the LLM's prompts",
                           f"LLM node '{_title(span)}' was given {len(earlier)} retrieved document(s) as context, "
                           "but its prompt holds none of them: the prompt template lost {{#context#}}.",
                           earlier[0], prompt)  # fmt: skip
        else:
            unwired.append((span, earlier))
    answering = None if wired else next((pair for pair in unwired if _answers_the_run(trace, pair[0])), None)
    if answering is not None and not _read_elsewhere(trace, retrieved):
        span, earlier = answering
        title = attr(span, "dify.node.title", span.name)
        summary = (f"{len(earlier)} retrieved document(s) reached no LLM: '{title}' after the retrieval takes no "
                   "context and its prompt holds none of them.")  # fmt: skip
        rule = "retrieved documents in none of the prompts of the LLMs after the retrieval"
        yield _finding(span, rule, summary, earlier[0], prompt_text(span))


def _answers_the_run(trace: Trace, llm: Any) -> bool:
    """Whether this LLM's answer is what the run answered: its text in an End or Answer node's values."""
    outputs = json_attr(llm, "output.value")
    text = outputs.get("text") if isinstance(outputs, dict) else None
    if not isinstance(text, str) or not text.strip():
        return False
    for span in trace.of_type("end", "answer"):
        for key in ("input.value", "output.value"):
            values = json_attr(span, key)
            if isinstance(values, dict) and any(isinstance(v, str) and text.strip() in v for v in values.values()):
                return True
    return False


def _read_elsewhere(trace: Trace, retrieved: list[tuple[int, str, list[str]]]) -> bool:
    """Whether a node other than a retrieval or an LLM took the documents in or put them out (a template, a
    code node, an Answer node showing them): then the retrieval is wired, if not to an LLM."""
    probes = [probe for _, _, found in retrieved for probe in found]
    for span in trace.nodes:
        if attr(span, "dify.node.type") in ("knowledge-retrieval", "llm"):
            continue
        for key in ("input.value", "output.value"):
            value = json_attr(span, key)
            if value and any(probe in str(value) for probe in probes):
                return True
    return False


def _answer_cut(
    span: Any, inputs: Any, outputs: Any, answers: list[str], produced: dict[str, tuple[Any, Any]]
) -> Finding | None:
    """An End/Answer node receiving or showing an LLM's answer cut short. `answers`: the earlier LLMs' texts;
    `produced`: the earlier nodes' outputs (a value one of them gave whole, a class name, is theirs, not a cut)."""
    values = [*(inputs.values() if isinstance(inputs, dict) else ()),
              *(outputs.values() if isinstance(outputs, dict) else ())]  # fmt: skip
    for value in values:
        cut = _cut_from(value, answers) if isinstance(value, str) and len(value) >= 12 else None
        if cut is not None and not any(value is given or value == given for given, _ in produced.values()):
            return _finding(span, "an End/Answer value is a strict beginning of an LLM answer",
                            f"'{_title(span)}' received the LLM's answer cut short ({len(value)} of {len(cut)} "
                            "characters).", cut, value)  # fmt: skip
    return None


def _sent_cut(
    span: Any, outputs: dict[str, Any], answers: list[str], produced: dict[str, tuple[Any, Any]], following: Any
) -> Finding | None:
    """A template or code node whose output (a JSON body's values, or its text) holds an LLM's answer cut short
    (`_cut_from`), no output holding it whole, right before an HTTP request or a tool (`following`), the part cut
    off stating a number the part kept does not: the message sent out lost a figure (an SMS body built with
    `tojson` after a `[:200]` cut: the total left out; a runaway answer's repeats cut off lose nothing)."""
    if attr(following, "dify.node.type") not in _SOURCES:
        return None
    values: list[Any] = []
    for value in islice(outputs.values(), 30):
        if isinstance(value, str) and value[:1] == "{" and isinstance(body := json_value(value), dict):
            values.extend(islice(body.values(), 30))
        else:
            values.append(value)
    texts = [value for value in values if isinstance(value, str) and len(value) >= 12]
    for value in texts:
        cut = _cut_from(value, answers)
        if (
            cut is not None
            and not any(cut in text for text in texts)
            and not any(value is given or value == given for given, _ in produced.values())
            and set(_NUMBER.findall(cut)) - set(_NUMBER.findall(value))
        ):
            return _finding(span, "an LLM answer cut short in what a node hands an HTTP request or a tool",
                            f"'{_title(span)}' passed '{_title(following)}' an LLM's answer cut short ({len(value)} "
                            f"of {len(cut)} characters).", cut, value)  # fmt: skip
    return None


# A number in a text, its digits and the separators inside it (`3,011.50`).
_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?")


def _numbers_changed(
    span: Any, inputs: Any, answers: list[str], produced: dict[str, tuple[Any, Any]]
) -> Finding | None:
    """An End/Answer node receiving an LLM's answer with its numbers changed: a text no node produced that is an
    earlier LLM answer word for word but for one or more of its numbers (`= 3011` where the answer said
    `= 3008`). An End or Answer node shows variables as they are: the value was altered on its way."""
    if not isinstance(inputs, dict):
        return None
    for value in inputs.values():
        if not isinstance(value, str) or len(value) < 12 or value in answers or not _NUMBER.search(value):
            continue
        if any(value == given for given, _ in produced.values()):
            continue
        shape = _NUMBER.sub("0", value)
        answer = next((a for a in answers if len(a) == len(value) and _NUMBER.sub("0", a) == shape), None)
        if answer is None:
            answer = next((a for a in answers if _NUMBER.sub("0", a) == shape), None)
        if answer is not None:
            return _finding(span, "an End/Answer value is an LLM answer with its numbers changed",
                            f"'{_title(span)}' received an LLM's answer with other numbers in it "
                            f"({_NUMBER.findall(answer)[:5]} became {_NUMBER.findall(value)[:5]}).", answer,
                            value)  # fmt: skip
    return None


def _shown_value(message: str) -> str:
    """What a user message shows last: the whole message, or its last line's text after a short label
    ("Rows: []", "Flights to digest:\n[]"), where a template puts a variable."""
    line = message.rstrip().rpartition("\n")[2]
    label, colon, value = line.replace("\uff1a", ":").rpartition(":")
    return value if colon and len(label) <= 60 and value.strip() else line


# The attribute names of an LLM's first prompt messages (content, role), made once: most prompts have a few.
_MESSAGE_KEYS = [(f"llm.input_messages.{i}.message.content", f"llm.input_messages.{i}.message.role") for i in range(16)]


def _message_keys(index: int) -> tuple[str, str]:
    if index < len(_MESSAGE_KEYS):
        return _MESSAGE_KEYS[index]
    return f"llm.input_messages.{index}.message.content", f"llm.input_messages.{index}.message.role"


def _messages(attributes: Any) -> tuple[list[str], Any]:
    """An LLM span's prompt messages by index (as the span builder writes them), and its last user message's
    content: read once for both rules that look at the prompt."""
    contents: list[str] = []
    last_user = None
    content_key, role_key = _MESSAGE_KEYS[0]
    while (message := attributes.get(content_key)) is not None:
        if attributes.get(role_key) == "user":
            last_user = message
        contents.append(str(message))
        content_key, role_key = _message_keys(len(contents))
    return contents, last_user


def _emptied_prompt(
    span: Any, content: Any, produced: dict[str, tuple[Any, Any]], data: tuple[Any, str, Any], trace: Trace
) -> Finding | None:
    """An LLM whose last user message shows, whole or after a label on its last line, a rendering of no value
    (`[]`, `null`, `"[object Object]"`) after an earlier node produced data (`data`: the last one's span,
    output name and value), while no earlier node produced that empty value (a filter that kept nothing
    gives `[]` on purpose) nor that text (a user answering "none" is the user's word, not a lost value).
    `content`: the last user message."""
    if not isinstance(content, str):
        return None
    text = _shown_value(content)
    shown = _no_value(text)
    if shown is ...:
        return None
    run_inputs = json_attr(trace.root, "input.value") if trace.root is not None else None
    inputs = run_inputs.items() if isinstance(run_inputs, dict) else ()
    named = [*produced.items(), *((name, (value, "")) for name, value in inputs)]
    given = [value for name, (value, _) in named if name.rpartition(".")[2] not in _BOOKKEEPING and name[:2] != "__"]
    # An item of a list a node produced counts as produced: an iteration hands its LLM one item at a time.
    given += [item for value in given if isinstance(value, list) for item in value[:50]]
    if any((type(value) is type(shown) and value == shown) or value == text.strip() for value in given):
        return None
    producer, name, value = data
    return _finding(span, "an LLM's user message shows a value rendered as none after a node produced data",
                    f"LLM node '{_title(span)}' was prompted with {text.strip()[:40]} after '{_title(producer)}' "
                    f"produced '{name}': the value was emptied on the way.", {name: value}, content)  # fmt: skip


# An object rendered flat in a prompt (JSON, or Python's repr as a Jinja2 template renders a dict).
_SHOWN_RECORD = re.compile(r"\{[^{}]{10,1500}\}")
# How a prompt shows an emptied field: Python's and JSON's none, an empty text.
_SHOWN_EMPTY = ("None", "null", "''", '""')


def _shown_record(text: str) -> dict[str, Any] | None:
    """`text` (`{...}`) read as an object: JSON, or a Python literal (what a template makes of a dict)."""
    value = json_value(text)
    if isinstance(value, str):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def _records(value: Any, into: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """The objects a node's output holds, nested ones too (lists read to their 50th item)."""
    if isinstance(value, dict):
        into.append(value)
        items: Any = value.values()
    elif isinstance(value, list):
        items = value[:50]
    else:
        return into
    if depth < 4:
        for item in items:
            if isinstance(item, dict | list):
                _records(item, into, depth + 1)
    return into


def _zeroed_record(span: Any, prompt: str, produced: dict[str, tuple[Any, Any]]) -> Finding | None:
    """An LLM prompted with an object whose fields are emptied (two at least) while an earlier node produced
    that very object, the same fields, one identifying value in common and none other, with those fields
    filled: the record was zeroed on its way to the prompt (`{'gate': 'Lobo', 'open': None, 'road': ''}` from
    `{"gate": "Lobo", "open": true, "road": "dry"}`). `prompt`: every message, joined."""
    if "{" not in prompt or not any(marker in prompt for marker in _SHOWN_EMPTY):
        return None  # most prompts: no object shown, or none with an empty field
    records: list[dict[str, Any]] | None = None
    for match in _SHOWN_RECORD.finditer(prompt):
        shown = _shown_record(match.group())
        if shown is None or len(shown) < 3:
            continue
        emptied = [key for key, value in shown.items() if value is None or value == ""]
        if len(emptied) < 2:
            continue
        if records is None:
            records = [r for value, _ in produced.values() for r in _records(value, []) if len(r) == len(shown)]
        for record in records:
            if set(record) != set(shown):
                continue
            kept = [key for key, value in shown.items() if key not in emptied and record[key] == value]
            changed = [key for key, value in shown.items() if key not in emptied and record[key] != value]
            lost = [key for key in emptied if not _empty(record[key])]
            if kept and not changed and len(lost) >= 2:
                return _finding(span, "an LLM prompted with a record whose fields a node produced filled are empty",
                                f"LLM node '{_title(span)}' was shown {match.group()[:80]} with "
                                f"{', '.join(lost)} emptied; an earlier node produced them filled.",
                                record, shown)  # fmt: skip
    return None


# Name parts too general to tie an output to an input (`status_text` is about `status`, not any `text`).
_GENERAL_PARTS = frozenset({"text", "value", "data", "info", "result", "results", "output", "input", "raw", "str",
                            "formatted", "display", "label", "json", "body"})  # fmt: skip


def _parts(name: str) -> set[str]:
    return {part for part in name.lower().replace("-", "_").split("_") if len(part) >= 3} - _GENERAL_PARTS


def _emptied_field(span: Any, outputs: dict[str, Any]) -> tuple[str, str, Any] | None:
    """A code node's output left empty (`""`, null) whose name shares a part with inputs that all held a value
    (`status_text` from `status`, `fee` from `fee_try`): (the output, the input, its value). An input that was
    empty too (`date` from a null `decision_date`) makes the empty output its fair rendering."""
    # `all` runs in C: every value truthy, none is null or empty (most code nodes; no generator made).
    if all(outputs.values()) or not any(value is None or value == "" for value in outputs.values()):
        return None  # most code nodes: every output filled, inputs not decoded
    inputs = json_attr(span, "input.value")
    if not isinstance(inputs, dict):
        return None
    fields = dict(inputs)
    for value in inputs.values():
        if isinstance(value, dict):
            fields.update(value)
    for name, value in outputs.items():
        if not (value is None or value == "") or name in _BOOKKEEPING or not isinstance(name, str):
            continue
        parts = _parts(name)
        sources = [
            (field, given) for field, given in fields.items() if isinstance(field, str) and parts & _parts(field)
        ]
        if sources and not any(_empty(given) for _, given in sources):
            return name, sources[0][0], sources[0][1]
    return None


def _values(value: Any, name: str, into: list[tuple[str, Any]], depth: int = 0) -> list[tuple[str, Any]]:
    """Every named value a node's inputs hold, nested ones too (JSON text, as an HTTP body, read as JSON)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 3:
        value = json_value(value)
    into.append((name, value))
    if depth < 3 and isinstance(value, dict):
        for key, item in list(value.items())[:50]:
            _values(item, str(key), into, depth + 1)
    elif depth < 3 and isinstance(value, list) and value and isinstance(value[0], dict):
        _values(value[0], name, into, depth + 1)
    return into


def _code_history_key(trace: Trace, span: Any) -> str:
    return f"{KEY}:filled:{trace.app}:{attr(span, 'dify.node.id') or span.name}"


def _default_passed_on(span: Any, nodes: list[Any], index: int) -> Finding | None:
    """An HTTP request or tool (at `index` of `nodes`) whose error its default value hid (Dify's error strategy
    "default-value": the node ends as an exception, its outputs the defaults the app set) where a later node read a
    default as its input and gave one of its numbers (or an empty list's count, 0) as an output of its own: the
    default's figure (a fee of 0, no departures) passed on as the answer the request never got. A default read
    into no figure (an "unknown" shown) is the app's fallback at work."""
    outputs = json_attr(span, "output.value")
    if attr(span, "dify.node.error_strategy") != "default-value" or not isinstance(outputs, dict):
        return None
    defaults = [value for name, value in outputs.items() if name not in _BOOKKEEPING and not _empty(value)]
    held = [value for default in defaults for _, value in _values(default, "", [])]
    figures = {value for value in held if type(value) in (int, float)}
    if [] in held:
        figures.add(0)  # an empty list's length: counted, it tells "none" the request never said
    if not figures:
        return None
    for reader in nodes[index + 1 :]:
        inputs = json_attr(reader, "input.value")
        if attr(reader, "dify.node.status") != "succeeded" or not isinstance(inputs, dict):
            continue
        if not any(value in defaults for value in inputs.values()):
            continue
        given = json_attr(reader, "output.value")
        passed = next(((name, value) for name, value in given.items() if type(value) in (int, float)
                       and value in figures), None) if isinstance(given, dict) else None  # fmt: skip
        if passed is not None:
            error = node_error(span).strip().rpartition("\n")[2]
            return _finding(reader, "a request's default value, its error hidden, passed on as data by a later node",
                            f"'{_title(reader)}' gave {passed[0]} = {passed[1]!r} from the default value of "
                            f"'{_title(span)}', whose request failed ({error[:80]}).", defaults[0],
                            {passed[0]: passed[1]})  # fmt: skip
    return None


def _error_defaulted(trace: Trace, span: Any, cfg: Config, answered_error: bool) -> Finding | None:
    """A code node whose error its default value hid (Dify's error strategy "default value": the run goes on
    with the node's default outputs and ends partial-succeeded, as after a retried request) where the error is
    a program's failing on its data (a field its input lacks, a value of another type) while every input held
    a value and every earlier run of the node (`min_history` at least) succeeded: the data changed under the
    code, and the defaults passed on stand in for a value. Learns that the node failed: a node failing at times
    (an unknown coupon, by design) is left alone."""
    key = _code_history_key(trace, span)
    history: dict[str, Any] | None = trace.baselines.get(key)
    if history is None:
        return None  # no run of it succeeded yet: nothing to compare
    failures = history.get("failed", 0)
    history["failed"] = failures + 1
    trace.baselines.put(key, history)
    if failures or history["runs"] < cfg.min_history or answered_error:
        return None  # after an error status the node read no data: its failing is the request's
    if attr(span, "dify.node.error_strategy") != "default-value" or not _all_given(span):
        return None
    error = node_error(span)
    if not (MISSING_FIELD.search(error) or TYPE_FAILURE.search(error)):
        return None  # a check the code makes on purpose (`ValueError: no valid coupon`) fails by design
    outputs = json_attr(span, "output.value")
    defaults = {k: v for k, v in outputs.items() if k not in _BOOKKEEPING} if isinstance(outputs, dict) else {}
    last_line = error.strip().rpartition("\n")[2]
    return _finding(span, "a code node's default value hid its error reading its input; every earlier run succeeded",
                    f"Code node '{_title(span)}' failed ({last_line[:80]}) where its {history['runs']} earlier runs "
                    f"succeeded, and its default value passed on {str(defaults)[:80]} in place of its result.",
                    last_line, defaults)  # fmt: skip


def _usually_filled(trace: Trace, span: Any, outputs: dict[str, Any], cfg: Config) -> tuple[str, str, str, Any] | None:
    """A code or template node's output left empty (null, `""`, `[]`, `{}`) that earlier runs of the node (per
    app, `min_history` at least) filled with one kind of value, while the node's inputs all had a value and hold
    a filled value of that kind under another name (`orders` empty, `items` a list in the body it read; a text or
    a number only if no other output earlier runs filled at times is empty): (the output, its kind, the input's
    name, its value). An output left empty so before counts against it (one such run in ten at most), before its
    first filling too (an optional note, filled now and then), and so does a run this rule flagged (a fault that
    lasts, or a pagination cursor empty on every last page, is flagged on its first runs only); one left empty
    with no value of its kind in the inputs (nothing to show) does not, nor a text or a number left empty while a
    list of the inputs came with no items.
    Learns which outputs this run filled, and which were left empty with a value of their kind at hand."""
    key = _code_history_key(trace, span)
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "filled": {}}
    runs, filled = history["runs"], history["filled"]
    unfair: dict[str, int] = history.setdefault("unfair", {})  # runs that left the output empty, a source at hand
    found = None
    # An input that was empty itself makes the empty output its fair rendering.
    # Most runs: no output empty, nothing to judge (and the inputs not decoded).
    if not all(outputs.values()) and any(_empty(v) for v in outputs.values()) and _all_given(span):
        emptied = [(name, usual) for name, value in outputs.items() if _empty(value) and (usual := filled.get(name))
                   is not None and usual[1] != "mixed"]  # fmt: skip
        # Outputs not filled yet count their emptying too: an optional note filled now and then is no usual value.
        for name, value in islice(outputs.items(), 50):
            if name not in filled and name not in _BOOKKEEPING and _empty(value):
                unfair[name] = unfair.get(name, 0) + 1
        # Outputs empty now that earlier runs filled at times (not those always empty, as an unused field).
        unusual = sum(_empty(value) and name in filled for name, value in outputs.items())
        given: list[tuple[str, Any]] | None = None
        for name, (count, kind) in emptied:
            if kind not in ("list", "object") and unusual > 1:
                continue  # texts and numbers emptied together: the node's path for no data (nothing found)
            given = given if given is not None else _values(json_attr(span, "input.value"), "", [])
            if kind not in ("list", "object") and any(isinstance(item, list) and not item for _, item in given):
                continue  # a list came with no items: a text or number read from its first item has none to show
            if any(_empty(item) and _parts(name) & _parts(input_name) for input_name, item in given):
                continue  # its input's field of that name came empty (`next_cursor: null` on the last page)
            source = next(((input_name, item) for input_name, item in given
                           if input_name != name and not _empty(item) and value_kind(item) == kind), None)  # fmt: skip
            if source is None:
                continue
            known = count >= cfg.min_history and unfair.get(name, 0) * 10 <= count
            if found is None and known:
                found = name, kind, source[0], source[1]
            unfair[name] = unfair.get(name, 0) + 1
    named: dict[str, int] = history.setdefault("named", {})  # runs whose input held a number output's name
    raw = attr(span, "input.value")
    for name, value in islice(outputs.items(), 50):
        if name in _BOOKKEEPING or (not value and _empty(value)):
            continue
        kind = value_kind(value)
        usual = filled.get(name)
        if usual is None:
            filled[name] = [1, kind]
        else:  # counted in place: most outputs are known
            usual[0] += 1
            if usual[1] != kind:
                usual[1] = "mixed"
        if kind == "number" and _holds_key(raw, name):
            named[name] = named.get(name, 0) + 1
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the node's recent runs
        history["runs"] = (runs + 1) // 2
        history["filled"] = {name: [count // 2, kind] for name, (count, kind) in filled.items() if count >= 2}
        history["named"] = {name: count // 2 for name, count in named.items() if count >= 2}
        history["unfair"] = {name: count // 2 for name, count in unfair.items() if count >= 2}
        history["failed"] = history.get("failed", 0) // 2
    if len(filled) <= 100:
        trace.baselines.put(key, history)
    return found


def _holds_key(raw: Any, name: str) -> bool:
    """Whether a node's inputs (their JSON text as recorded) hold a field `name`, at their top level or in a JSON
    text among them (an HTTP body): a look for the quoted name, no decoding."""
    return isinstance(raw, str) and (f'"{name}"' in raw or f'\\"{name}\\"' in raw)


def _named_numbers(value: Any, name: str, into: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """The first six numbers other than 0 a node's inputs hold, by field name, nested ones too (JSON text read as
    JSON, a list's first item)."""
    if isinstance(value, str) and value[:1] in "{[":
        value = json_value(value)
    if type(value) in (int, float) and value:
        into.setdefault(name, value)
    elif depth < 5 and isinstance(value, dict):
        for key, item in islice(value.items(), 50):
            if len(into) < 6:
                _named_numbers(item, str(key), into, depth + 1)
    elif depth < 5 and isinstance(value, list) and value:
        _named_numbers(value[0], name, into, depth + 1)
    return into


def _zeroed(trace: Trace, span: Any, outputs: dict[str, Any], cfg: Config) -> Finding | None:
    """A code node's number output 0 that its earlier runs (`min_history` at least) gave while their inputs held a
    field of its name (nine in ten of them), now that its inputs hold no field of that name and a number under
    another: the code's default standing in for a field gone (`.get('kwh', 0)` after the API renamed it
    `value_wh`). An input giving 0 under that name (a vacant flat's meter) is the data's own zero."""
    history = trace.baselines.get(_code_history_key(trace, span))
    if history is None:
        return None
    filled, named, raw = history["filled"], history.get("named", {}), attr(span, "input.value")
    for name, value in islice(outputs.items(), 50):
        if type(value) not in (int, float) or value != 0 or (usual := filled.get(name)) is None:
            continue
        earlier = usual[0] - 1  # the history has learned this run already
        if usual[1] != "number" or earlier < cfg.min_history or named.get(name, 0) * 10 < earlier * 9:
            continue
        if _holds_key(raw, name):
            continue
        # The input's numbers by name, a person sees the new field among them.
        if numbers := _named_numbers(json_attr(span, "input.value"), "", {}):
            return _finding(span, "a code output number read from a same-named input field, 0 with that field gone",
                            f"Code node '{_title(span)}' returned '{name}' = 0, which its earlier runs read from "
                            f"their input's '{name}'; its input has no '{name}' now, only other numbers "
                            f"({', '.join(numbers)}).", numbers, {name: value})  # fmt: skip
    return None


_SOURCES = frozenset({"tool", "http-request"})


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
        if isinstance(answer, dict) and not _empty(given := answer.get(name)):
            title, producer = _title(span), _title(source)
            return _finding(span, "a field the last tool or API answered filled reaches a node empty",
                            f"'{name}' was filled in the answer of '{producer}' and reached '{title}' empty.",
                            {name: given}, {name: value})  # fmt: skip
    return None


def _produced_empty(outputs: list[dict[str, Any]], value: Any) -> bool:
    """Whether a node's `outputs` hold an empty value of the kind of `value` (empty too), Dify's own outputs of every
    node of a kind (an LLM's `reasoning_content`) aside."""
    kind = value_kind(value)
    return any(not given and _empty(given) and value_kind(given) == kind and name not in _BOOKKEEPING
               for out in outputs for name, given in out.items())  # fmt: skip


def _title(span: Any) -> str:
    return str(attr(span, "dify.node.title") or span.name)


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
    if not isinstance(inputs, dict) or not inputs or not all(_empty(value) for value in inputs.values()):
        return None
    last_node = _last_node(nodes, index)
    if last_node is None or attr(last_node, "dify.node.status") != "succeeded":
        return None
    outputs = json_attr(last_node, "output.value")
    if not isinstance(outputs, dict):
        return None
    given = next(((name, value) for name, value in outputs.items() if name not in _BOOKKEEPING
                  and name not in inputs and (value.strip() if isinstance(value, str) else isinstance(value, list)
                                              and value)), None)  # fmt: skip
    if given is None:
        return None
    return _finding(span, "an End/Answer node shows nothing right after a node produced a value",
                    f"'{_title(span)}' received only empty values, though '{_title(last_node)}' just before it "
                    f"produced '{given[0]}'.", {given[0]: given[1]}, inputs)  # fmt: skip


def _items_lost(trace: Trace) -> Iterator[Finding]:
    for container in containers(trace, "iteration"):
        rounds = attr(container, "dify.container.rounds", 0)
        outputs = json_attr(container, "output.value")
        items = outputs.get("output") if isinstance(outputs, dict) else None
        if not isinstance(items, list):
            continue
        title = attr(container, "dify.node.title", container.name)
        if isinstance(rounds, int) and len(items) < rounds and len(items) < _rounds_succeeded(trace, container, rounds):
            yield _finding(container, "iteration output items < rounds run",
                           f"The iteration '{title}' ran {rounds} rounds but its output holds {len(items)} items.",
                           f"{rounds} rounds", items)  # fmt: skip
        elif isinstance(rounds, int) and len(items) < rounds and (failed := _data_failure(trace, container)):
            yield _finding(container, "iteration items dropped for rounds that failed reading their data",
                           f"The iteration '{title}' ran {rounds} rounds but its output holds {len(items)} items: "
                           f"'{_title(failed)}' failed on its data ({node_error(failed).strip()[-80:]}) and the "
                           "round's item was dropped.", json_attr(failed, "input.value"), items)  # fmt: skip
        elif any(item is None for item in items):
            yield from _null_items(trace, container, title, items)
        if isinstance(rounds, int) and (told := _told_without_failed(trace, container, rounds, items)) is not None:
            yield told
        if (cut := _given_cut(trace, container)) is not None:
            yield cut


def _cut_of(given: list[Any], listed: list[Any]) -> str | None:
    """How `given` is a cut of `listed`: items dropped (fewer, each of them listed, in order), or each item cut
    short (as many, each a shorter start of its own)."""
    if len(given) < len(listed):
        rest = iter(listed)
        return "items dropped" if all(any(item == other for other in rest) for item in given) else None
    if len(given) == len(listed) and all(
        isinstance(item, str) and isinstance(other, str) and len(item) < len(other) and other.startswith(item)
        for item, other in zip(given, listed, strict=True)
    ):
        return "each item cut short"
    return None


def _given_cut(trace: Trace, container: Any) -> Finding | None:
    """An iteration given a list no node produced, a cut of one an earlier node produced (items dropped, or each
    cut short): Dify hands an iteration the variable its selector names as it is, so the list changed on the way."""
    given = json_attr(container, "input.value")
    given = given.get("iterator_selector") if isinstance(given, dict) else None
    if not isinstance(given, list):
        return None
    start, lists = container.start_time or 0, []
    for span in trace.nodes:
        if (span.end_time or 0) > start or attr(span, "dify.node.type") in ("iteration", "loop"):
            continue
        outputs = json_attr(span, "output.value")
        if isinstance(outputs, dict):
            # Dify's own lists (an HTTP answer's `files`) are no data a selector hands on.
            lists += [(span, name, value) for name, value in outputs.items()
                      if isinstance(value, list) and name not in _BOOKKEEPING]  # fmt: skip
    if any(value == given for _, _, value in lists):
        return None
    for span, name, value in lists:
        if value and (how := _cut_of(given, value)) is not None:
            return _finding(container, "an iteration given a cut of a list an earlier node produced",
                            f"The iteration '{_title(container)}' was given {len(given)} items, {how}, of the "
                            f"{len(value)} '{_title(span)}' produced as '{name}'.", {name: value[:5]},
                            given[:5])  # fmt: skip
    return None


# A count an answer states: a number on its own (not part of a time, a date, an amount with decimals).
_COUNTED = re.compile(r"(?<![\d.,:/])\d{1,3}(?![\d:/]|[.,]\d)")


def _told_without_failed(trace: Trace, container: Any, rounds: int, items: list[Any]) -> Finding | None:
    """An LLM after an iteration with a round that failed (its item dropped, or null by "continue on error"),
    given the items left (its prompt shows one) and answering with their count as the whole ("3 sailings") and
    never the rounds run: the failed round's item was lost from what the run told, not reported as missing."""
    left = [item for item in items if not _empty(item)]
    if not left or len(left) >= rounds or _rounds_succeeded(trace, container, rounds) >= rounds:
        return None
    end, probe = container.end_time or 0, str(left[0])[:40]
    for span in trace.of_type("llm"):
        if (span.start_time or 0) < end or probe not in prompt_text(span):
            continue
        outputs = json_attr(span, "output.value")
        answer = outputs.get("text") if isinstance(outputs, dict) else None
        if not isinstance(answer, str):
            return None
        stated = {int(n) for n in _COUNTED.findall(answer)}
        stated.update(numbers.SMALL_WORDS[w] for w in _WORD.findall(answer.lower()) if w in numbers.SMALL_WORDS)
        if len(left) in stated and rounds not in stated:
            return _finding(span, "an answer counting an iteration's items without the round that failed",
                            f"'{_title(span)}' answered with {len(left)} items as all there are, where the iteration "
                            f"'{_title(container)}' ran {rounds} rounds and one failed.", f"{rounds} rounds",
                            answer)  # fmt: skip
        return _told_all_rounds(span, container, rounds, len(left), stated, answer)
    return None


def _told_all_rounds(
    span: Any, container: Any, rounds: int, left: int, stated: set[int], answer: str
) -> Finding | None:
    """An answer (`stated`: the counts it states) giving the rounds' count as its whole while `left` items reached it:
    neither their count nor the failed rounds' is told ("all 6 cows milked" with the yields of 4), so the failed
    rounds' items were passed off as there. The rounds' count in figures or a number word of three letters or more
    (Danish `to`, two, is an English word)."""
    if left in stated or rounds - left in stated or rounds not in stated:
        return None
    words = {numbers.SMALL_WORDS[w] for w in _WORD.findall(answer.lower()) if len(w) >= 3 and w in numbers.SMALL_WORDS}
    if rounds in words or rounds in {int(n) for n in _COUNTED.findall(answer)}:
        return _finding(span, "an answer counting an iteration's rounds as all its items, the failed rounds' lost",
                        f"'{_title(span)}' answered about {rounds} items as all there are, where the iteration "
                        f"'{_title(container)}' ran {rounds} rounds, {rounds - left} failed, and gave it {left}.",
                        f"{left} items of {rounds} rounds", answer)  # fmt: skip
    return None


def _data_failure(trace: Trace, container: Any) -> Any:
    """A node of a round of `container` that failed on its data (a field its input lacks, a value of another type
    than it computes with: a price sent as text) while every input held a value: the round's item, dropped by
    Dify's "remove abnormal output", was lost to the data, not to an outage (a request that failed, retried)."""
    for _, nodes in rounds_of(trace, container):
        for node in nodes:
            if attr(node, "dify.node.status") not in ("failed", "exception"):
                continue
            error = node_error(node)
            if (MISSING_FIELD.search(error) or TYPE_FAILURE.search(error)) and _all_given(node):
                return node
    return None


def _rounds_succeeded(trace: Trace, container: Any, rounds: int) -> int:
    """The rounds whose nodes all succeeded: a failed round's item is dropped by design (Dify's error handling
    "remove abnormal output"). `rounds` when the rounds were not recorded."""
    recorded = rounds_of(trace, container)
    if not recorded:
        return rounds
    return sum(all(attr(n, "dify.node.status") == "succeeded" for n in nodes) for _, nodes in recorded)


def _null_items(trace: Trace, container: Any, title: str, items: list[Any]) -> Iterator[Finding]:
    """An item null in the iteration's output whose round succeeded and produced a value: lost in between."""
    for round_span, nodes in rounds_of(trace, container):
        index = attr(round_span, "dify.round.index")
        if not isinstance(index, int) or index >= len(items) or items[index] is not None:
            continue
        if not nodes or any(attr(n, "dify.node.status") != "succeeded" for n in nodes):
            continue  # a failed round left a null on purpose (error strategy "continue on error")
        # An if-else's result routes the round; it is no variable the iteration can collect.
        valued = [n for n in nodes if attr(n, "dify.node.type") != "if-else"]
        if not valued:
            continue
        last = json_attr(valued[-1], "output.value")
        produced = next((v for v in last.values() if not _empty(v)), None) if isinstance(last, dict) else None
        if produced is not None:
            yield _finding(container, "an iteration output item null though its round produced a value",
                           f"Round {index} of the iteration '{title}' produced a value, but the iteration's "
                           "output holds null in its place.", produced, items)  # fmt: skip
            return


def _list_lengths(value: Any, path: str, into: dict[str, int], depth: int = 0) -> dict[str, int]:
    """The length of every list a node's inputs hold, by its path (`body.items`; JSON text read as JSON)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 4:
        value = json_value(value)
    if isinstance(value, list):
        into[path] = len(value)
    elif isinstance(value, dict) and depth < 4:
        for key, item in islice(value.items(), 50):
            _list_lengths(item, f"{path}.{key}" if path else str(key), into, depth + 1)
    return into


def _counts_kept(trace: Trace, span: Any, outputs: dict[str, Any], cfg: Config) -> Finding | None:
    """A code node's output that held as many items as a list of its inputs (a list of that length, or that
    number) in earlier runs (`min_history` at least, two lengths other than 0 among them: the node passes every
    item on, or counts them; one run in ten at most with fewer), now holding none while the list holds items (all
    dropped on the way; some dropped is a filter's doing), or none while the list is missing and the inputs hold
    another list with items (the list renamed: `.get('slots', [])` read nothing). Learns which outputs kept their
    lists' lengths; a run it flags teaches nothing."""
    counts = {name: len(value) if isinstance(value, list) else value for name, value in islice(outputs.items(), 50)
              if (isinstance(value, list) or (type(value) is int and value >= 0))
              and name not in _BOOKKEEPING}  # fmt: skip
    if not counts:
        return None
    lengths = _list_lengths(json_attr(span, "input.value"), "", {})
    key = f"{KEY}:counts:{trace.app}:{attr(span, 'dify.node.id') or span.name}"
    pairs: dict[str, list[Any]] = trace.baselines.get(key) or {}
    for pair, kept in pairs.items():
        name, _, path = pair.partition("<")
        if counts.get(name) != 0 or kept[0] < cfg.min_history or kept[2] * 10 > kept[0] or sum(map(bool, kept[1])) < 2:
            continue
        given = lengths.get(path)
        if given:  # a list with items, none passed on (some left out: a filter at work)
            return _finding(span, "a code output holding no item of the input list it kept whole before",
                            f"Code node '{_title(span)}' passed on none of the {given} items of '{path}' in "
                            f"'{name}', where earlier runs passed on as many as they were given.", {path: given},
                            {name: counts[name]})  # fmt: skip
        other = next(((other, n) for other, n in lengths.items() if n), None) if given is None else None
        if other is not None:
            return _finding(span, "a code output counting a list its input no longer has, another list there",
                            f"Code node '{_title(span)}' found no '{path}' in its input and returned '{name}' with "
                            f"no items, though '{other[0]}' held {other[1]}; earlier runs' '{name}' held as many "
                            f"items as '{path}'.", {other[0]: other[1]}, {name: counts[name]})  # fmt: skip
    for name, count in counts.items():
        for path, given in lengths.items():
            held = pairs.get(pair := f"{name}<{path}")
            if held is None and count == given and len(pairs) < 50:
                pairs[pair] = [1, [count], 0]
            elif held is not None and count < given:
                held[2] += 1  # more than a run in ten: the node drops items at times (a filter), no relation
            elif held is not None and count == given:  # more items (a page read twice) are another detector's
                held[0] += 1
                if count not in held[1] and len(held[1]) < 3:
                    held[1].append(count)
    trace.baselines.put(key, pairs)
    return None


def _code_output_lost(
    trace: Trace, span: Any, outputs: dict[str, Any], cfg: Config, answered_error: bool
) -> Finding | None:
    """A code node that succeeded losing a value: every output null though every input had one, an output
    emptied though the input it is named after had a value, one its earlier runs usually filled, or one holding no
    item of an input list it kept whole before. After an HTTP request answered with an error status, the node read
    no data: nothing to lose."""
    if answered_error:
        return None
    usually_filled = _usually_filled(trace, span, outputs, cfg)  # learned on every run
    kept = _counts_kept(trace, span, outputs, cfg)  # likewise
    gone = _field_gone(trace, span, cfg)  # likewise
    if outputs and not any(outputs.values()) and all(v is None for v in outputs.values()) and _all_given(span):
        title = _title(span)
        return Finding(
            KEY,
            "medium",
            0.75,
            f"Code node '{title}' succeeded but every output is null.",
            {"node": title, "rule": "a code node whose every output is null", "outputs": sorted(outputs)},
            span_id(span),
        )
    if (emptied := _emptied_field(span, outputs)) is not None:
        name, source, value = emptied
        return _finding(span, "a code output emptied though the input it is named after had a value",
                        f"Code node '{_title(span)}' returned '{name}' empty though its input '{source}' held "
                        f"{str(value)[:40]!r}.", {source: value}, {name: outputs[name]})  # fmt: skip
    return (
        _left_empty(span, "Code", usually_filled, outputs)
        or kept
        or (None if all(outputs.values()) else _zeroed(trace, span, outputs, cfg))
        or gone
        or _nested_zeroed(span, "Code")
    )


def _nested_zeroed(span: Any, node_kind: str) -> Finding | None:
    """A code or template node showing a 0 where its input holds the number inside an object (every record's, or
    one under the output's name: `detectors/nested_zeros.py`): the number was lost on the way, the reader's default
    in its place."""
    if (nested := nested_zeros(span)) is None:
        return None
    holder, record, shown = nested
    return _finding(span, "a code or template output of 0 where its input holds the number inside an object",
                    f"{node_kind} node '{_title(span)}' showed 0 where its input holds the number inside "
                    f"'{holder}' ({str(record.get(holder))[:60]}).", record, shown)  # fmt: skip


def _field_paths(value: Any, path: str, into: set[str], depth: int = 0) -> set[str]:
    """The paths of the fields a node's inputs hold other than null (`body.prices.grade`), nested ones too (JSON
    text read as JSON, a list's first record)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 4:
        value = json_value(value)
    if isinstance(value, dict) and depth < 4:
        for key, item in islice(value.items(), 50):
            if item is not None:  # a field given as null (an optional one, a reading missing) holds nothing
                into.add(inner := f"{path}.{key}" if path else str(key))
                _field_paths(item, inner, into, depth + 1)
    elif isinstance(value, list) and value and depth < 4:
        _field_paths(value[0], path, into, depth + 1)
    return into


def _field_gone(trace: Trace, span: Any, cfg: Config) -> Finding | None:
    """A code node that succeeded though its input lacks a field its earlier runs' inputs held (`min_history` at
    least, nine in ten of them) and holds one none of them held: the API renamed the field, and the code's default
    for it (`.get('servings', 1)`, `.get('odometer_km', 0)`) stands in for the value in every output made from it.
    Learns the fields the node's input holds, on every run: a change that lasts is flagged on its first run only
    (the new field is known after it), and the field it replaced stops being usual in a run or two out of ten."""
    fields = _field_paths(json_attr(span, "input.value"), "", set())
    if not fields:
        return None
    # Per workflow version: a republished app may read the new fields (its code patched to the API's change).
    version = attr(trace.root, "dify.workflow.id") if trace.root is not None else None
    key = f"{KEY}:fields:{trace.app}:{version}:{attr(span, 'dify.node.id') or span.name}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    found = None
    if runs >= cfg.min_history:
        usual = {name for name, count in seen.items() if count * 10 >= runs * 9}
        # Renamed in place: usual fields gone, as many new ones beside them, and a usual one beside them still
        # there (an answer of another kind, "not found" and a message in place of the record's fields, is no
        # record read with a field renamed).
        parents = {name.rpartition(".")[0] for name in usual if name in fields}
        added = fields - seen.keys()  # with the fields inside them
        new = sorted(name for name in added if name.rpartition(".")[0] in parents)
        # A field nested under a part of its old name (`amount_kes` -> `amount: {value, currency}`) is that field
        # moved, where three in four earlier runs held it: a "not found" answer now and then lacks it.
        named = set().union(*(_parts(name.rpartition(".")[2]) for name in new))
        usual |= {name for name, count in seen.items()
                  if count * 4 >= runs * 3 and _parts(name.rpartition(".")[2]) & named}  # fmt: skip
        lost = usual - fields
        gone = sorted(name for name in lost if name.rpartition(".")[0] in parents)
        if gone and new and len(added) >= len(lost) and not _patched(span, new):
            found = _finding(span, "a code node ran without an input field its earlier runs held, a new field there",
                            f"Code node '{_title(span)}' succeeded without '{gone[0]}', which {runs} earlier runs' "
                            f"input held; it holds '{new[0]}' instead: its outputs were made from the code's default.",
                            {"held before": gone}, {"holds now": new})  # fmt: skip
        else:
            found = _renamed_zeroed(span, fields, seen, runs)
    for name in fields:
        if name in seen:
            seen[name] += 1
        elif len(seen) < 100:
            seen[name] = 1
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the node's recent runs
        history["runs"] = (runs + 1) // 2
        history["seen"] = {name: count // 2 for name, count in seen.items() if count >= 2}
    trace.baselines.put(key, history)
    return found


def _path_value(value: Any, path: str) -> Any:
    """The value a node's inputs hold at a path of `_field_paths` (JSON text read as JSON, a list's first record)."""
    for key in path.split("."):
        if isinstance(value, str) and value[:1] in "{[":
            value = json_value(value)
        while isinstance(value, list) and value:
            value = value[0]
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _patched(span: Any, new: list[str]) -> bool:
    """A code node whose outputs were computed from a new input field's number (`detectors/derived.py`): a reader
    patched for the API's new name (its own clean twin in held-out 13: `per_acre_rate` * area), not one given its
    default."""
    inputs, outputs = json_attr(span, "input.value"), json_attr(span, "output.value")
    values = (_path_value(inputs, name) for name in new[:4])
    return any(type(value) in (int, float) and computed_from(value, outputs, inputs) for value in values)


def _renamed_zeroed(span: Any, fields: set[str], seen: dict[str, int], runs: int) -> Finding | None:
    """A code node showing a 0 (a number of its outputs, or written on its own in a text: `4471: 0.0 kg`) while its
    input holds no 0, where a field nine in ten of its earlier runs' inputs held is gone and a number one in ten at
    most held is in its place, in the same object (a record of one field renamed: `{milk_kg}` → `{yield_kg}`): the
    renamed field read as the code's default 0 and passed on."""
    usual = {name for name, count in seen.items() if count * 10 >= runs * 9}
    gone = sorted(name for name in usual - fields if name.rpartition(".")[0] in fields)
    holders = {name.rpartition(".")[0] for name in gone}
    new = sorted(name for name in fields if seen.get(name, 0) * 10 <= runs and name.rpartition(".")[0] in holders)
    if not gone or len(new) != len(gone) or len(gone) > 2:
        return None
    inputs, outputs = json_attr(span, "input.value"), json_attr(span, "output.value")
    values = [_path_value(inputs, name) for name in new]
    if not all(type(value) in (int, float) and value for value in values) or _holds_zero(inputs):
        return None
    shown = _zero_shown(outputs)
    if shown is None:
        return None
    return _finding(span, "a code node showing 0 for an input field renamed, its input holding no 0",
                    f"Code node '{_title(span)}' showed {shown!r} though its input holds no 0: '{gone[0]}', which "
                    f"its earlier runs' input held, is now '{new[0]}' ({values[0]!r}), read as the code's default.",
                    {gone[0]: "gone", new[0]: values[0]}, shown)  # fmt: skip


def _holds_zero(value: Any, depth: int = 0) -> bool:
    """Whether a node's values hold a number 0, nested ones too (JSON text read as JSON; 50 items of each)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 5:
        value = json_value(value)
    if type(value) in (int, float):
        return bool(value == 0)
    if isinstance(value, dict | list) and depth < 5:
        return any(_holds_zero(item, depth + 1) for item in islice(value.values() if isinstance(value, dict) else
                                                                   value, 50))  # fmt: skip
    return False


def _zero_shown(outputs: Any) -> Any:
    """The first output (to two levels down) that is a number 0 or a text with a 0 on its own (`0.0 kg`, `₹0`)."""
    items = list(outputs.items())[:30] if isinstance(outputs, dict) else []
    for name, value in items:
        if isinstance(value, dict):
            items += [(f"{name}.{key}", item) for key, item in islice(value.items(), 30) if not isinstance(item, dict)]
        elif (type(value) in (int, float) and value == 0) or (isinstance(value, str) and ZERO.search(value)):
            return {name: value}
    return None


def _sent_body(span: Any) -> dict[str, Any] | None:
    """The JSON body an HTTP request node sent (its process data's `request`: the headers, a blank line, the body)."""
    process = json_attr(span, "dify.node.process_data")
    request = process.get("request") if isinstance(process, dict) else None
    if not isinstance(request, str) or "\r\n\r\n" not in request:
        return None
    body = json_value(request.partition("\r\n\r\n")[2])
    return body if isinstance(body, dict) else None


def _sent_changed(trace: Trace, span: Any, produced: dict[str, tuple[Any, Any]], cfg: Config) -> Finding | None:
    """An HTTP request sending a field under the name of an earlier node's output with another value or another
    kind (`people: 1` or `"3"` where the extractor gave 3), where every earlier run of the node (`min_history` at
    least, nine in ten of them) sent each such field as produced: Dify fills a body template from the variables
    (a new template is a new workflow version), so the value changed on the way. Learns on every run that sends
    such a field."""
    body = _sent_body(span)
    pairs = [(name, produced[name][0], value) for name, value in (body or {}).items()
             if name in produced and not isinstance(value, (list, dict))]  # fmt: skip
    if not pairs:
        return None
    version = attr(trace.root, "dify.workflow.id") if trace.root is not None else None
    key = f"{KEY}:sent:{trace.app}:{version}:{attr(span, 'dify.node.id') or span.name}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "changed": 0}
    changed = next(((name, before, value) for name, before, value in pairs
                    if value != before or value_kind(value) != value_kind(before)), None)  # fmt: skip
    found = None
    runs, before_changed = history["runs"], history["changed"]
    if changed is not None and runs >= cfg.min_history and before_changed * 10 <= runs:
        name, before, value = changed
        found = _finding(span, "an HTTP request sending an earlier node's output changed, every earlier run as given",
                         f"HTTP node '{_title(span)}' sent '{name}' as {value!r} where '{_title(produced[name][1])}' "
                         f"gave {before!r}; its earlier runs sent it as given ({runs - before_changed} of {runs}).",
                         {name: before}, {name: value})  # fmt: skip
    history = {"runs": runs + 1, "changed": before_changed + (changed is not None)}
    if runs >= 100:  # counts halve: the history follows the node's recent runs
        history = {"runs": (runs + 1) // 2, "changed": history["changed"] // 2}
    trace.baselines.put(key, history)
    return found


def _left_empty(
    span: Any, node_kind: str, usually_filled: tuple[str, str, str, Any] | None, outputs: dict[str, Any]
) -> Finding | None:
    """The finding for a node's output `_usually_filled` found left empty."""
    if usually_filled is None:
        return None
    name, kind, source, value = usually_filled
    rule = f"a {node_kind.lower()} output every earlier run filled left empty, its input holding that kind"
    return _finding(span, rule, f"{node_kind} node '{_title(span)}' returned '{name}' empty, which its earlier runs "
                    f"filled ({kind}), though its input '{source}' held one.", {source: value},
                    {name: outputs[name]})  # fmt: skip


def _ran_last(nodes: list[Any], index: int, node_id: Any) -> Any:
    """The last node before `index` of `nodes` with that id (a node in a loop runs once a round)."""
    return next((node for node in reversed(nodes[:index]) if attr(node, "dify.node.id") == node_id), None)


def _assigned_change(given: Any, value: Any) -> str | None:
    """How a value an over-write assigner wrote differs from the `given` value it copies (it copies as is): the
    rule's words, none if it kept it."""
    if _empty(value):
        return "a variable assigner wrote empty a value its source node produced filled"
    if isinstance(given, str) and isinstance(value, str):
        cut = given.startswith(value) and bool(given[len(value) :].strip())  # not a trailing space dropped
        return "a variable assigner wrote a strict beginning of its source node's text" if cut else None
    if isinstance(given, list) and isinstance(value, list) and len(value) < len(given):
        return "a variable assigner wrote fewer items than its source node produced"
    if isinstance(given, int | float) and not isinstance(given, bool) and isinstance(value, str):
        return "a variable assigner wrote its source node's number as text"
    return None


def _assigned_changed(span: Any, nodes: list[Any], index: int) -> Finding | None:
    """A variable assigner (at `index` of `nodes`) that over-wrote a variable with another value (its process
    data: what it assigned) than the node's output it copies (its item's selector: `[node id, name]`) held in
    that node's last run: emptied, cut short, items lost, a number turned into text."""
    config, assigned = json_attr(span, "input.value"), json_attr(span, "dify.node.process_data")
    items = config.get("items") if isinstance(config, dict) else None
    if not isinstance(items, list) or not isinstance(assigned, dict):
        return None
    for item in items:
        if not isinstance(item, dict) or item.get("input_type") != "variable" or item.get("operation") != "over-write":
            continue
        target, selector = item.get("variable_selector"), item.get("value")
        if not (isinstance(target, list) and target and isinstance(selector, list) and len(selector) == 2):
            continue
        name = target[-1]
        if (
            not isinstance(name, str)
            or name not in assigned
            or (producer := _ran_last(nodes, index, selector[0])) is None
        ):
            continue
        value, produced = assigned[name], json_attr(producer, "output.value")
        given = produced.get(selector[1]) if isinstance(produced, dict) else None
        if given is None or _empty(given) or value == given:
            continue
        if (rule := _assigned_change(given, value)) is not None:
            return _finding(span, rule, f"'{_title(span)}' set '{name}' to {str(value)[:40]!r} from '{selector[1]}' "
                            f"of '{_title(producer)}', which produced {str(given)[:40]!r}.",
                            {selector[1]: given}, {name: value})  # fmt: skip
    return None


# A number a text states on its own: digits (a decimal point or comma inside), not part of a code, a date, a time
# or a measure joined to it (`CH-210`, `2027-03-02`, `14:30`, `27-inch`, `+44`).
_STATED = re.compile(r"(?<![\w.,:/+-])\d+(?:[.,]\d+)?(?![\w:/-]|[.,]\d)")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
# What a parameter extractor's system prompt carries besides its query, as Dify 1.14.1 renders it: the instruction
# (`<instruction>` in function-calling mode, `<instructions>` in prompt mode) with its variables filled in (a
# chatflow's conversation variables: the order so far), and the memory's earlier turns (`<histories>`).
_EARLIER = re.compile(r"<(instructions?|histories)>(.*?)</\1>", re.S)


def _numbers(text: str) -> list[float]:
    """The numbers a text states on its own (`_STATED`)."""
    return [float(match.group().replace(",", ".")) for match in _STATED.finditer(text)]


def _earlier(span: Any) -> str:
    """An extractor's instruction and memory as its model was sent them (`_EARLIER`); empty where the trace lacks
    the prompt (Dify's export)."""
    messages = _messages(attributes_of(span))[0]
    return "\n".join(match.group(2) for match in _EARLIER.finditer(messages[0])) if messages else ""


# Numbers one to ten written as words, in languages whose words stand apart (English, Spanish, Portuguese, French,
# Italian, German, Dutch, Polish, Turkish, Indonesian, Swedish, Russian); articles that also mean one (`un`, `ein`,
# `een`) left out, "a seat" states no count, and words that are also English ones (Italian `due`, Turkish `on`).
_NUMBER_WORDS: dict[str, int] = {
    word: number
    for words in (
        "one two three four five six seven eight nine ten",
        "_ dos tres cuatro cinco seis siete ocho nueve diez",
        "_ dois três quatro cinco seis sete oito nove dez",
        "_ deux trois quatre cinq six sept huit neuf dix",
        "_ _ tre quattro cinque sei sette otto nove dieci",
        "_ zwei drei vier fünf sechs sieben acht neun zehn",
        "_ twee drie vier vijf zes zeven acht negen tien",
        "jeden dwa trzy cztery pięć sześć siedem osiem dziewięć dziesięć",
        "bir iki üç dört beş altı yedi sekiz dokuz",
        "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh",
        "_ två tre fyra fem sex sju åtta nio tio",
        "один два три четыре пять шесть семь восемь девять десять",
    )
    for number, word in enumerate(words.split(), 1)
    if word != "_"
}
_WORD = re.compile(r"\w+")


def _counted_before(query: str, name: str) -> int | None:
    """The number a text writes as a word right before a parameter's name (two words between at most: "Six balcony
    seats" for `seats`; the name's singular too), none if a figure stands between (`Two 27-inch chairs`)."""
    stem = name.lower()
    stem = stem[:-1] if len(stem) > 4 and stem.endswith("s") else stem
    if len(stem) < 3 or stem not in query.lower():
        return None  # most texts: the parameter's name is not written in them
    words = _WORD.findall(query.lower())
    for at, word in enumerate(words):
        if not word.startswith(stem):
            continue
        for before in reversed(words[max(0, at - 3) : at]):
            if before.isdigit():
                break
            if (number := _NUMBER_WORDS.get(before)) is not None:
                return number
    return None


def _number_misread(span: Any, outputs: dict[str, Any], query: str, parameters: list[Any]) -> Finding | None:
    """A parameter extractor's number parameter holding a value its text does not state, while the text states a
    number on its own that no parameter took: the number was changed between the text and the extraction (25
    chairs read as 1); or another number than the one the text writes as a word right before the parameter's name
    ("Six balcony seats" read as 1 seat). A text stating no number (`two weeks`: 10 days) leaves the reading to
    the model. A total the turn changes ("add 6 more" to the 6 so far the instruction or memory carries: 12) is
    the earlier number plus or minus the stated one."""
    if not any(type(value) in (int, float) for name, value in outputs.items() if name[:2] != "__"):
        return None
    stated = _numbers(query)
    taken = [value for name, value in outputs.items() if name[:2] != "__" and type(value) in (int, float)]
    # A number a text parameter took is claimed too (a card or order number extracted as text), every part of it:
    # the 19 of "19 March" extracted as `2027-03-19`.
    taken += [float(match.group().replace(",", ".")) for name, value in outputs.items()
              if name[:2] != "__" and isinstance(value, str) for match in _DIGITS.finditer(value)]  # fmt: skip
    unclaimed = [number for number in stated if number not in taken]
    totals: set[float] | None = None
    for parameter in parameters:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        value = outputs.get(name) if isinstance(name, str) and parameter.get("type") in ("number", "integer") else None
        if type(value) not in (int, float) or not isinstance(name, str):
            continue
        if unclaimed and value not in stated:
            if totals is None:
                totals = {before + sign * number for before in _numbers(_earlier(span))
                          for number in unclaimed for sign in (1, -1)}  # fmt: skip
            if value not in totals:
                return _finding(span, "a parameter extractor's number its text does not state, a stated one left out",
                                f"'{_title(span)}' extracted {name} = {value}, a number its text does not state, "
                                f"and left out the {unclaimed[0]:g} the text states.", {"query": query},
                                {name: value})  # fmt: skip
        counted = _counted_before(query, name)
        if counted is not None and counted != value:
            return _finding(span, "a parameter extractor's number other than the one its text writes before its name",
                            f"'{_title(span)}' extracted {name} = {value} from a text writing {counted} {name}.",
                            {"query": query}, {name: value})  # fmt: skip
    return None


def _time_unit(parameter: dict[str, Any]) -> str | None:
    """The time unit a parameter counts, read from its name's parts, else its description's words (`days`,
    "number of working days", "Anzahl Tage"): what a number written before the word would count."""
    name, description = parameter.get("name"), parameter.get("description")
    words = [*str(name).replace("-", "_").split("_"), *_WORD.findall(str(description or ""))]
    for word in words:
        if (unit := numbers.measured(f"1 {word}")[0][1]) in numbers.TIME_UNITS:
            return unit
    return None


def _durations(query: str) -> set[float]:
    """The durations a text states, in days, in figures and in number words ("2 weeks", "two weeks": 14)."""
    found = numbers.word_durations(query)
    for number, unit in numbers.measured(query):
        if unit in numbers.TIME_UNITS:
            found.update(float(value) * numbers.TIME_UNITS[unit] for value in numbers.readings(number))
    return found


def _unit_misread(span: Any, outputs: dict[str, Any], query: str, parameters: list[Any]) -> Finding | None:
    """A parameter extractor's number of one time unit (`days`) that is the count the text states in another
    (`two weeks` read as 2 days), while the text states no such duration in the parameter's own unit: the count
    was carried over without its unit."""
    durations: set[float] | None = None
    for parameter in parameters:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        value = outputs.get(name) if isinstance(name, str) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            continue
        if (unit := _time_unit(parameter)) is None:
            continue
        durations = durations if durations is not None else _durations(query)
        own = value * numbers.TIME_UNITS[unit]
        if not durations or any(abs(own - days) < 1e-6 for days in durations):
            continue
        other = next((u for u, days in numbers.TIME_UNITS.items() if u != unit and value * days in durations), None)
        if other is not None:
            return _finding(span, "a parameter extractor's count of one time unit that its text states in another",
                            f"'{_title(span)}' extracted {name} = {value:g} ({unit}s) from a text stating "
                            f"{value:g} {other}s.", {"query": query}, {name: value})  # fmt: skip
    return None


# Dates a text writes with the day and the month told apart: ISO (2027-02-03), Chinese, Japanese and Korean
# (2月3日, 2월 3일), and a day next to a month's name either way round ("3 Februari", "February 3rd", "3 de
# febrero", Tagalog's ordinal "ika-4 ng Marso", Hungarian's "március 4." and "március 4-én"). Dates in figures alone
# with slashes or dots are left out: which part is the day is the writer's habit.
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-(\d{1,2})-(\d{1,2})(?!\d)")
_CJK_DATE = re.compile(r"(?<!\d)(\d{1,2})\s?[月월]\s?(\d{1,2})\s?[日일号號]")
_NAMED_DAY = re.compile(
    r"(?:(?<=\bika-)|(?<![\d.,:/-]))(\d{1,2})(?:st|nd|rd|th|er|º|\.)?\s(?:de\s|of\s|ng\s)?([^\s\d.,;:()/-]{3,})"
)
_DAY_NAMED = re.compile(r"([^\s\d.,;:()/-]{3,})\.?\s(\d{1,2})(?![\d:,/]|[.-]\d)")
# Months by the first letters of their names (three, or more where languages share three): English, German,
# Dutch, Spanish, Portuguese, Italian, French, Swedish, Indonesian, Polish (genitive), Turkish, Russian and
# Ukrainian, Greek, Georgian, Armenian, Tagalog, Hungarian, then Thai names whole.
_MONTH_STEMS: dict[str, int] = {
    stem: month
    for month, stems in enumerate((
        "jan ene gen sty oca янв січ ιαν იანვ հունվ มกราคม",
        "feb fev fév lut şub фев лют φεβ თებ փետ pebr กุมภาพันธ์",
        "mar mär maa mrt мар бер μαρ მარტ մարտ márc มีนาคม",
        "apr abr avr kwie nis апр кві απρ აპრ ապր ápr เมษายน",
        "may mai mag mei maj тра мая май μαΐ μαι მაის մայ máj พฤษภาคม",
        "jun giu juin jun czer haz июн чер ιουν ივნ հունիս huny jún มิถุนายน",
        "jul lug juil lip tem июл лип ιουλ ივლ հուլ huly júl กรกฎาคม",
        "aug ago aoû agu sie ağu авг сер αυγ აგვ օգոս สิงหาคม",
        "sep set wrz eyl сен вер σεπ სექ սեպ szep กันยายน",
        "oct okt ott out paź eki окт жов οκτ ოქტ հոկ ตุลาคม",
        "nov lis kas ноя лис νοε ნოე նոյ noby พฤศจิกายน",
        "dec dez dic déc des gru ara дек гру δεκ დეკ դեկ disy ธันวาคม",
    ), 1)
    for stem in stems.split()
}  # fmt: skip
_STEM_LENGTHS = sorted({len(stem) for stem in _MONTH_STEMS}, reverse=True)


def _month(word: str) -> int | None:
    word = word.lower()
    return next((month for n in _STEM_LENGTHS if (month := _MONTH_STEMS.get(word[:n])) is not None), None)


def _stated_dates(text: str) -> set[tuple[int, int]]:
    """The (month, day) of every date `text` writes with its day and month told apart (`_ISO_DATE`…)."""
    found = {(int(m), int(d)) for m, d in [*_ISO_DATE.findall(text), *_CJK_DATE.findall(text)]}
    found.update((month, int(day)) for day, word in _NAMED_DAY.findall(text) if (month := _month(word)))
    found.update((month, int(day)) for word, day in _DAY_NAMED.findall(text) if (month := _month(word)))
    return found


def _date_swapped(span: Any, outputs: dict[str, Any], query: str) -> Finding | None:
    """A parameter extractor's date (ISO, as Dify's extractors are asked for) whose day and month are the month and
    day of a date its text writes, while the text writes no date of the day and month extracted: read the other way
    round (3 February booked as 2027-03-02)."""
    stated: set[tuple[int, int]] | None = None
    for name, value in outputs.items():
        extracted = _ISO_DATE.match(value) if isinstance(value, str) and value[:1].isdigit() else None
        if extracted is None or name[:2] == "__":
            continue
        month, day = int(extracted.group(1)), int(extracted.group(2))
        if month == day or day > 12:
            continue
        stated = stated if stated is not None else _stated_dates(query)
        if (day, month) in stated and (month, day) not in stated:
            return _finding(span, "a parameter extractor's date with the day and month of its text's date swapped",
                            f"'{_title(span)}' extracted {name} = {value}, where its text writes the {month}th day "
                            f"of month {day}.", {"query": query}, {name: value})  # fmt: skip
    return None


# Amounts written in words, for an extractor's number a text states only so: numbers one to ten (`_NUMBER_WORDS`,
# and Hindi, Marathi, Bengali, Urdu), the words for one and a half and two and a half (Hindi `डेढ़`, `ढाई`; Russian
# `полтора`; German `anderthalb`), words adding a quarter, a half or taking one away before a number (Hindi `सवा दो`
# 2.25, `साढ़े चार` 4.5, `पौने` -0.25; their Marathi, Bengali and Urdu kin), and a half after a number ("two and a
# half", "dos y medio", "zweieinhalb", Russian and Ukrainian too). A half alone is left out ("half price").
_WORD_AMOUNTS: dict[str, float] = {
    unicodedata.normalize("NFC", word): number
    for word, number in [
        *((word, float(number)) for word, number in _NUMBER_WORDS.items()),
        *((word, float(number))
          for words in ("एक दो तीन चार पाँच छह सात आठ नौ दस", "_ _ _ _ पांच छः", "_ दोन _ _ पाच सहा _ _ नऊ दहा",
                        "এক দুই তিন চার পাঁচ ছয় সাত আট নয় দশ", "ایک دو تین چار پانچ چھ سات آٹھ نو دس")
          for number, word in enumerate(words.split(), 1) if word != "_"),
        *((word, 1.5) for word in ["डेढ़", "डेढ", "दीड", "দেড়", "ڈیڑھ", "полтора", "anderthalb"]),
        *((word, 2.5) for word in ["ढाई", "अढ़ाई", "अडीच", "আড়াই", "ڈھائی"]),
    ]
}  # fmt: skip
_BEFORE_NUMBER = {
    unicodedata.normalize("NFC", word): added
    for words, added in (("सवा सव्वा সোয়া سوا", 0.25), ("साढ़े साढे साडे সাড়ে ساڑھے", 0.5), ("पौने पावणे পৌনে پونے", -0.25))
    for word in words.split()
}
_HALF_AFTER = ("and a half", "y medio", "y media", "e meio", "e meia", "et demi", "et demie", "e mezzo", "i pół",
               "с половиной", "з половиною", "einhalb")  # fmt: skip
# Words as a text writes them: what lies between spaces and punctuation (Devanagari's vowel signs are no `\w`).
_WORD_RUN = re.compile(r"[^\s\d.,;:!?()\[\]{}\"'«»“”।|/-]+")


def _word_amounts(text: str) -> set[float]:
    """The amounts `text` writes in words (`_WORD_AMOUNTS`): "साढ़े चार" is 4.5, "two and a half" 2.5."""
    text = unicodedata.normalize("NFC", text.lower())
    words = _WORD_RUN.findall(text)
    found: set[float] = set()
    for at, word in enumerate(words):
        number = _WORD_AMOUNTS.get(word)
        if number is None and word.endswith("einhalb"):  # German writes "zweieinhalb" as one word
            number = _WORD_AMOUNTS.get(word[: -len("einhalb")], -1.0) + 0.5
        if number is None or number < 0:
            continue
        added = _BEFORE_NUMBER.get(words[at - 1], 0.0) if at else 0.0
        after = " ".join(words[at + 1 : at + 4])
        found.add(number + added + (0.5 if after.startswith(_HALF_AFTER) else 0.0))
    return found


def _scale_misread(span: Any, outputs: dict[str, Any], query: str) -> Finding | None:
    """A parameter extractor's number that is a tenth or ten times an amount its text writes in words (`साढ़े चार
    एकड़`, four and a half acres, read as 0.45), where the text writes that number neither in figures nor in words:
    its decimal point slipped between the text and the extraction. (Numbers the text writes in figures are
    `_number_misread`'s.)"""
    taken = {name: value for name, value in outputs.items()
             if name[:2] != "__" and type(value) in (int, float) and value > 0}  # fmt: skip
    if not taken:
        return None
    stated = set(_numbers(query))
    amounts: set[float] | None = None
    for name, value in taken.items():
        if value in stated:
            continue
        amounts = amounts if amounts is not None else _word_amounts(query)
        if value in amounts:
            continue
        amount = next((a for a in amounts - set(taken.values())  # an amount another parameter took is read
                       if abs(value * 10 - a) < 1e-9 or abs(value - a * 10) < 1e-9), None)  # fmt: skip
        if amount is not None:
            return _finding(span, "a parameter extractor's number a tenth or ten times the amount its text writes",
                            f"'{_title(span)}' extracted {name} = {value:g} from a text writing {amount:g} in words.",
                            {"query": query}, {name: value})  # fmt: skip
    return None


def _extraction_misread(span: Any, outputs: dict[str, Any]) -> Finding | None:
    """A parameter extractor's value other than its text states: a number (`_number_misread`), a count of another
    time unit, a date with its day and month swapped, a number ten times off the amount written in words. The text
    is its `query` input, or else its last user message (what the model read)."""
    inputs = json_attr(span, "input.value")
    query = inputs.get("query") if isinstance(inputs, dict) else None
    parameters = inputs.get("parameters") if isinstance(inputs, dict) else None
    if not isinstance(query, str) or not isinstance(parameters, list):
        read = _messages(attributes_of(span))[1] if query is None and parameters is None else None
        return _scale_misread(span, outputs, read) if isinstance(read, str) else None
    return (
        _number_misread(span, outputs, query, parameters)
        or _unit_misread(span, outputs, query, parameters)
        or _date_swapped(span, outputs, query)
        or _scale_misread(span, outputs, query)
    )


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        if trace.of_type("iteration"):
            yield from _items_lost(trace)
        retrieved = [(span.start_time or 0, text, _probes(text)) for span, _, text in trace.documents if text.strip()]
        if retrieved:
            yield from _context_lost(trace, retrieved)
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
        nodes = trace.nodes
        for index, span in enumerate(nodes):
            attributes = attributes_of(span)
            get = attributes.get
            node_type, status = get("dify.node.type"), get("dify.node.status")
            # Inputs are decoded only when they could show corruption: a reader, after something was produced
            # (or an LLM after a retrieval).
            reads = produced and node_type in _READERS
            inputs = json_attr(span, "input.value") if reads else None
            outputs = None
            if node_type in ("end", "answer"):
                outputs = json_attr(span, "output.value")
                if answers and (cut := _answer_cut(span, inputs, outputs, answers, produced)) is not None:
                    yield cut
                elif answers and (changed := _numbers_changed(span, inputs, answers, produced)) is not None:
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
                    if entry is None and not value and source is not None and _empty(value):
                        if _produced_empty(seen[after_source:], value):
                            continue
                        # No node output of that name: a field of the last tool's or API's answer.
                        if (lost := _answer_field_lost(span, source, name, value)) is not None:
                            yield lost
                        continue
                    if entry is None or (not (before := entry[0]) and _empty(before)):
                        continue
                    if not value and _empty(value):
                        if _produced_empty(seen[after[name] :], value):
                            continue  # read from a node after the producer, whose value was empty too
                        title, producer = _title(span), _title(entry[1])
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
                        title, producer = _title(span), _title(entry[1])
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
                if failed and node_type == "code" and (hidden := _error_defaulted(trace, span, cfg, answered_error)):
                    yield hidden
                elif failed and node_type in _SOURCES and (passed := _default_passed_on(span, nodes, index)):
                    yield passed
                failed_before = failed_before or failed
                continue
            if node_type == "assigner":  # an assigner's values are its process data: it has no outputs
                if (changed := _assigned_changed(span, nodes, index)) is not None:
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
                    contents, last_user = _messages(attributes)
                    prompt = "\n".join(contents) if contents else prompt_text(span)  # other senders: any message
                    if (
                        cfg.emptied_prompts
                        and (shown_none := _emptied_prompt(span, last_user, produced, data, trace)) is not None
                    ):
                        yield shown_none
                    elif (zeroed := _zeroed_record(span, prompt, produced)) is not None:
                        yield zeroed
                if not text and "text" in outputs and _empty(text):
                    title = _title(span)
                    yield Finding(
                        KEY,
                        "medium",
                        0.75,
                        f"LLM node '{title}' succeeded with an empty answer.",
                        {"node": title, "rule": "an LLM that succeeded with empty text", "produced": ""},
                        span_id(span),
                    )
            elif node_type == "code" and (lost := _code_output_lost(trace, span, outputs, cfg, answered_error)):
                yield lost
            if (
                node_type in ("code", "template-transform")
                and answers
                and index + 1 < len(nodes)
                and (sent := _sent_cut(span, outputs, answers, produced, nodes[index + 1])) is not None
            ):
                yield sent
            if node_type == "template-transform":
                # Learned on every run; after an HTTP error status the template was given no data to lose.
                usually_filled = _usually_filled(trace, span, outputs, cfg)
                if _renders_none(outputs.get("output"), span):
                    yield _finding(span, "a template that rendered no value from inputs that all had one",
                                   f"Template node '{_title(span)}' was given values but rendered "
                                   f"{outputs['output']!r}.", attributes.get("input.value"),
                                   outputs["output"])  # fmt: skip
                elif not answered_error and (lost := _left_empty(span, "Template", usually_filled, outputs)):
                    yield lost
                elif not answered_error and (nested := _nested_zeroed(span, "Template")) is not None:
                    yield nested
            elif node_type == "parameter-extractor" and (misread := _extraction_misread(span, outputs)) is not None:
                yield misread
            elif node_type == "http-request":
                if isinstance(status_code := outputs.get("status_code"), int):
                    answered_error = answered_error or status_code >= 400
                if produced and (sent := _sent_changed(trace, span, produced, cfg)) is not None:
                    yield sent
            seen.append(outputs)
            if node_type in _SOURCES:
                source, after_source = span, len(seen)
            for name, value in outputs.items():
                produced[name] = (value, span)
                after[name] = len(seen)
                if value and isinstance(value, (list, dict)) and name not in _BOOKKEEPING:
                    data = (span, name, value)

    return detect

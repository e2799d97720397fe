"""`state_corruption`'s text flow: retrieved documents that reach no prompt, and an LLM's answer cut short or its
numbers changed on the way to the End/Answer node or the node after a code/template node."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from detectors import (
    Finding,
    Trace,
    attr,
    json_attr,
    json_value,
    prompt_text,
)
from detectors.corruption import SOURCES, finding, node_title

# A line of text: what `str.splitlines` splits at, left out.
_LINE = re.compile("[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def probes_of(text: str) -> list[str]:
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


def context_lost(trace: Trace, retrieved: list[tuple[int, str, list[str]]]) -> Iterator[Finding]:
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
            yield finding(span, "retrieved documents → empty #context# at the next LLM",
                          f"{len(earlier)} retrieved document(s) never reached LLM node '{node_title(span)}': its "
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
            yield finding(span, "retrieved documents in #context# but in none of the LLM's prompts",
                          f"LLM node '{node_title(span)}' was given {len(earlier)} retrieved document(s) as context, "
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
        yield finding(span, rule, summary, earlier[0], prompt_text(span))


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


def answer_cut(
    span: Any, inputs: Any, outputs: Any, answers: list[str], produced: dict[str, tuple[Any, Any]]
) -> Finding | None:
    """An End/Answer node receiving or showing an LLM's answer cut short. `answers`: the earlier LLMs' texts;
    `produced`: the earlier nodes' outputs (a value one of them gave whole, a class name, is theirs, not a cut)."""
    values = [*(inputs.values() if isinstance(inputs, dict) else ()),
              *(outputs.values() if isinstance(outputs, dict) else ())]  # fmt: skip
    for value in values:
        cut = _cut_from(value, answers) if isinstance(value, str) and len(value) >= 12 else None
        if cut is not None and not any(value is given or value == given for given, _ in produced.values()):
            return finding(span, "an End/Answer value is a strict beginning of an LLM answer",
                           f"'{node_title(span)}' received the LLM's answer cut short ({len(value)} of {len(cut)} "
                           "characters).", cut, value)  # fmt: skip
    return None


def sent_cut(
    span: Any, outputs: dict[str, Any], answers: list[str], produced: dict[str, tuple[Any, Any]], following: Any
) -> Finding | None:
    """A template or code node whose output (a JSON body's values, or its text) holds an LLM's answer cut short
    (`_cut_from`), no output holding it whole, right before an HTTP request or a tool (`following`), the part cut
    off stating a number the part kept does not: the message sent out lost a figure (an SMS body built with
    `tojson` after a `[:200]` cut: the total left out; a runaway answer's repeats cut off lose nothing)."""
    if attr(following, "dify.node.type") not in SOURCES:
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
            return finding(span, "an LLM answer cut short in what a node hands an HTTP request or a tool",
                           f"'{node_title(span)}' passed '{node_title(following)}' an LLM's answer cut short "
                           f"({len(value)} of {len(cut)} characters).", cut, value)  # fmt: skip
    return None


# A number in a text, its digits and the separators inside it (`3,011.50`).
_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?")


def numbers_changed(span: Any, inputs: Any, answers: list[str], produced: dict[str, tuple[Any, Any]]) -> Finding | None:
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
            return finding(span, "an End/Answer value is an LLM answer with its numbers changed",
                           f"'{node_title(span)}' received an LLM's answer with other numbers in it "
                           f"({_NUMBER.findall(answer)[:5]} became {_NUMBER.findall(value)[:5]}).", answer,
                           value)  # fmt: skip
    return None

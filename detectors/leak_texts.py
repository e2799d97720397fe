"""`dify_variable_leak`'s texts of a run: the scans' joins, what the user wrote, an HTTP request's first line, an LLM's
system messages or turns, what an output tells beside the data it hands on, the run's own ids blanked out, a value
without an answer's Markdown emphasis."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.sensitive import SEPARATOR
from detectors import Trace, answer_text, attributes_of, json_attr, prompt_text

# A word of prose: a letter, then a letter or a combining mark (Devanagari's vowel signs, `भाई`: `re` reads marks as
# no word characters).
_PROSE_WORDS = re.compile(r"(?<!\S)[^\W\d_](?:[^\W\d_]|[^\w\s\x00-\x7f])")


def tells(output: str, trace: Trace) -> tuple[str, str]:
    """What an output tells its reader, and what the model answering in it was given: where it holds an LLM's answer
    beside other fields (`{"answer": …, "table": …}`), the answer's fields and that LLM's prompt; else the output and
    nothing. A datum the model was given and left out of its answer, which another field hands on, is the data the
    app fetched and returns to its API caller with the answer (a record's phone in an order table, the model told to
    keep contacts private), not what the answer says; one the model never saw (an SMS status naming the number it
    was sent to) is still the output's."""
    try:
        fields = json.loads(output)
    except ValueError:
        return output, ""
    if not isinstance(fields, dict) or len(fields) < 2:
        return output, ""
    answers = {text: span for span in trace.llm_spans if (text := answer_text(span).strip())}
    said = [value for value in fields.values() if isinstance(value, str) and value.strip() in answers]
    if not said or len(said) == len(fields):
        return output, ""
    return SEPARATOR.join(said), SEPARATOR.join(prompt_text(answers[value.strip()]) for value in said)


def apart(texts: Iterable[str]) -> list[str]:
    """The texts joined for a scan each, the ASCII ones apart from the others (as redact.py joins them): alone, an
    ASCII text gets the ASCII patterns, whose `\\s` is not `\\x1c`-`\\x1f` as the Unicode ones' is; joined with
    another script's, a password after one of them was missed."""
    ascii_texts: list[str] = []
    others: list[str] = []
    for text in texts:
        (ascii_texts if text.isascii() else others).append(text)
    return [SEPARATOR.join(group) for group in (ascii_texts, others) if group]


def user_prose(root: ReadableSpan) -> str:
    """The texts among the run's inputs (prose: four words at least, not `sys.` variables): what the user wrote,
    not a value filled in (`"card": "4539 1488 0343 6467"`)."""
    inputs = json_attr(root, "input.value")
    if not isinstance(inputs, dict):
        return ""
    return SEPARATOR.join(
        value
        for key, value in inputs.items()
        if isinstance(value, str) and not key.startswith("sys.") and len(_PROSE_WORDS.findall(value)) >= 4
    )


def request_line(request: str) -> str:
    """The first line of the request an HTTP node sent (`GET /v1/refunds?card=… HTTP/1.1`), its break as written or
    escaped in Dify's JSON text (`\\r\\n`)."""
    ends = [end for end in (request.find("\\r\\n"), request.find("\\n"), request.find("\n")) if end != -1]
    return request[: min(ends, default=len(request))]


def messages(span: ReadableSpan, system: bool) -> str:
    """An LLM span's system messages (its template's instructions), or the others: the turns a conversation and its
    variables fill."""
    attributes = attributes_of(span)
    parts: list[str] = []
    index = 0
    while (content := attributes.get(f"llm.input_messages.{index}.message.content")) is not None:
        if (attributes.get(f"llm.input_messages.{index}.message.role") == "system") is system:
            parts.append(str(content))
        index += 1
    return "\n".join(parts)


def own_ids(root: ReadableSpan | None) -> tuple[Any, ...]:
    """The run's own ids, None where one is missing. Dify puts them in every run's inputs (`sys.workflow_run_id`,
    `sys.app_id`, ...) and the root span carries them as attributes: never a leak, and their digits would send
    every text through the patterns of digits (card numbers, SSNs). A tuple written out: this runs every run."""
    if root is None:
        return ()
    attributes = attributes_of(root)
    return (
        attributes.get("dify.run.id"),
        attributes.get("dify.workflow.id"),
        attributes.get("dify.task.id"),
        attributes.get("gen_ai.conversation.id"),
        _resource_attribute(root, "dify.app.id"),
    )


def _resource_attribute(span: ReadableSpan, key: str) -> Any:
    """An attribute of a span's resource, from the dict of the SDK's `BoundedAttributes` where it is one (its
    `get` is the `Mapping` mixin's, calling `__getitem__`: a tenth of this detector's time on a run with nothing
    to find, before the scan)."""
    attributes = span.resource.attributes
    return getattr(attributes, "_dict", attributes).get(key)


# A value wrapped in the same Markdown emphasis on both sides (`**Tr4nsit#Core77**`, `` `cv-psk-91ab` ``).
_EMPHASIS = re.compile(r"([*_`~]+)(.+?)\1")


def unmarked(value: str) -> str:
    """A value found in an answer without the Markdown emphasis a model wrapped it in: its source (a prompt, a tool's
    output) writes it bare, and the value is looked for there as written."""
    match = _EMPHASIS.fullmatch(value)
    return match.group(2) if match else value


def blanked(text: str, ids: tuple[Any, ...]) -> str:
    for value in ids:
        if value:  # one search each: `replace` hands back the text itself where the id does not stand
            text = text.replace(str(value), " ")
    return text

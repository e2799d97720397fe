"""What a question classifier's run says: the question and the classes it was asked to pick among, and what the
routed branch answered. Read by `dify_classifier_drift`."""

from __future__ import annotations

import re
from typing import Any

from detectors import Trace, attr, attributes_of, json_attr, json_value

# Dify's request as it pastes it: the question between `{"input_text": ["` and `"],`, then the categories' JSON list.
_PASTED = re.compile(
    r'^\{\s*"input_text":\s*\["(.*)"\],\s*"categories":\s*(\[.*?\])\s*,\s*"classification_instructions"', re.S
)


def request_of(span: Any) -> tuple[str, list[str]] | None:
    """(question, category names) from the last user message of the classifier's prompt: Dify's `categories` JSON,
    else the node's `query` input (Dify's export: no prompt), else the last user message as plain text (a prompt
    not in Dify's JSON: the question alone, its classes those the node picked before)."""
    attributes = attributes_of(span)
    # The messages by index (how the span builder writes them: a few lookups), else any message content.
    contents: list[object] = []
    while (content := attributes.get(f"llm.input_messages.{len(contents)}.message.content")) is not None:
        contents.append(content)
    if not contents:
        contents = [v for k, v in attributes.items() if k.startswith("llm.input_messages.") and k.endswith(".content")]
    for content in reversed(contents):
        text = str(content).strip()
        if '"categories"' not in text:
            continue
        request = json_value(text)  # msgspec, cached
        if isinstance(request, str) and (pasted := _PASTED.search(text)) is not None:
            # Dify pastes the question into its JSON unescaped: a quote or a lone backslash (`S:\Finance`) in it
            # breaks the JSON. Read its parts apart; the few-shot examples before it are not the question.
            categories = json_value(pasted[2])
            request = {"input_text": [pasted[1]], "categories": categories if isinstance(categories, list) else []}
        if isinstance(request, dict) and isinstance(request.get("categories"), list):
            texts = request.get("input_text") or [""]
            names = [str(c.get("category_name", "")) for c in request["categories"] if isinstance(c, dict)]
            return str(texts[0] if isinstance(texts, list) and texts else texts), names
        break
    inputs = json_attr(span, "input.value")
    query = inputs.get("query") if isinstance(inputs, dict) else None
    if isinstance(query, str) and query.strip():
        return query, []
    index = len(contents) - 1
    while index >= 0 and attributes.get(f"llm.input_messages.{index}.message.role") != "user":
        index -= 1
    last = str(contents[index]).strip() if index >= 0 else ""
    return (last, []) if last else None


def routed_answer(trace: Trace, span: Any) -> str:
    """What the first LLM after the classifier, the routed branch's, answered ("" if none did)."""
    start = span.start_time or 0
    for llm in trace.llm_spans:
        if llm is not span and (llm.start_time or 0) > start:
            text = attr(llm, "llm.output_messages.0.message.content")
            if not isinstance(text, str):
                outputs = json_attr(llm, "output.value")
                text = outputs.get("text") if isinstance(outputs, dict) else outputs
            return text if isinstance(text, str) else ""
    return ""


def routed_notes(trace: Trace, span: Any) -> str:
    """What the routed branch's LLM node, the first after the classifier, was told: its system messages ("" if none)."""
    start = span.start_time or 0
    for llm in trace.llm_spans:
        if llm is not span and (llm.start_time or 0) > start and attr(llm, "dify.node.type") == "llm":
            attributes, told, index = attributes_of(llm), [], 0
            while (content := attributes.get(f"llm.input_messages.{index}.message.content")) is not None:
                if attributes.get(f"llm.input_messages.{index}.message.role") == "system":
                    told.append(str(content))
                index += 1
            return "\n".join(told)
    return ""

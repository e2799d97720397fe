"""What `task_derailment` reads of a run: its query and answer, what it retrieved or its tools returned, its
answering LLMs' prompts."""

from __future__ import annotations

import re
from typing import Any

from detectors import Trace, attr, json_attr, prompt_text, user_query
from detectors.task_derailment_parts.words import terms_given, terms_of

_ANSWER_KEYS = ("answer", "text", "result", "output", "response")
# LLM nodes whose prompt is mostly Dify's own fixed instructions and examples, the same in every app: words of
# those ground no answer.
ROUTERS = frozenset({"question-classifier", "parameter-extractor"})


def _first_text(value: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(value, dict):
        for key in keys:
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return str(text)
    return None


def run_sources(trace: Trace) -> list[str]:
    """What the run retrieved or was given by tools: retrieved documents, tool and HTTP results."""
    return [content for _, _, content in trace.documents if content] + returned_data(trace)


def returned_data(trace: Trace) -> list[str]:
    """What the run's tools and HTTP requests returned: this run's data (a knowledge base's pages are every run's)."""
    parts = [str(attr(span, "output.value") or "") for span in trace.of_type("tool", "http-request")]
    return [part for part in parts if part]


# Nodes working on the run's data before an LLM writes it up: a code node's sums, a loop's variables.
_WORKING_NODES = ("code", "loop")


def worked_out(trace: Trace) -> list[str]:
    """What the run's code nodes and loops output: this run's figures worked out from its data (a meter's total)."""
    parts = [str(attr(span, "output.value") or "") for span in trace.of_type(*_WORKING_NODES)]
    return [part for part in parts if part]


def own_texts(value: Any) -> list[str]:
    """The run's own text inputs or outputs (Dify's `sys.*` aside), longest first."""
    if not isinstance(value, dict):
        return []
    texts = [text for key, text in value.items() if isinstance(text, str) and not str(key).startswith("sys.")]
    return sorted(texts, key=len, reverse=True)


def run_answer(trace: Trace, root: Any) -> str | None:
    """The run's answer: its output named like one, or else the workflow's text output an LLM of the run wrote, or
    else its longest (`reply`, `recipe`, `article`: a workflow names its outputs as it likes). A workflow may pass
    its data on beside the LLM's text (a report and the sales pages it was written from): the data, however long,
    is what the LLM was given, not its answer."""
    outputs = json_attr(root, "output.value")
    if named := _first_text(outputs, _ANSWER_KEYS):
        return named
    texts = own_texts(outputs)
    return next((text for text in texts if len(texts) > 1 and model_wrote(trace, text)), next(iter(texts), None))


def run_query(trace: Trace, root: Any) -> str | None:
    """What the user asked: the input named like a query, or else a workflow's longest text input; the run's own
    first, then its start node's (a trace whose run span lists only Dify's `sys.*` ids, the question recorded on
    the start node alone)."""
    for span in (root, *trace.of_type("start")[:1]):
        if query := user_query(span) or next(iter(own_texts(json_attr(span, "input.value"))), None):
            return query
    return None


def answering_prompts(trace: Trace) -> list[str]:
    """The prompts of the run's answering LLMs (routers' prompts left out)."""
    return [prompt_text(span) for span in trace.llm_spans if attr(span, "dify.node.type") not in ROUTERS]


def unsourced(answer: str, sources: list[str]) -> bool:
    """Whether the run retrieved something or its tools returned something, and a tenth at most of the answer's
    terms are in it."""
    said = terms_of(answer)
    return bool(sources) and len(said & terms_given(sources)) * 10 <= len(said)


def quoted_from_asked(sources: list[str], asked: set[str], answer: str) -> bool:
    """Whether every term of the answer is in one source sharing two terms at least with the query: the answer reads
    the passage fetched for the question (the tuition line of the page on tuition and scholarships, to a scholarship
    question), however like the app's answers to other questions it is; what it leaves out is not another task."""
    said = terms_of(answer)
    return any(len(asked & terms) >= 2 and said <= terms for terms in map(terms_of, sources))


def fetched_for(trace: Trace, query: str) -> bool:
    """Whether the run retrieved a document on the query (sharing a term of it): its answer was at
    hand, and a holding reply ignored it."""
    asked = terms_of(query)
    return any(asked & terms_of(content) for _, _, content in trace.documents)


_EMPTY_LIST = re.compile(r"(?:^|[:,\[])\s*\[\s*\]")


def came_back_empty(trace: Trace) -> bool:
    """Whether a tool or HTTP node's result (its `text` or `body`, not Dify's own `files` beside it) holds an empty
    list: a lookup that found nothing (`"sailings": []`)."""
    for span in trace.of_type("tool", "http-request"):
        output = json_attr(span, "output.value")
        result = output.get("body", output.get("text")) if isinstance(output, dict) else output
        if isinstance(result, str) and _EMPTY_LIST.search(result):
            return True
    return False


def model_wrote(trace: Trace, answer: str) -> bool:
    """Whether an LLM node of the run wrote the answer (its text is the answer), not a template or the app's fixed
    reply."""
    for span in trace.llm_spans:
        output = json_attr(span, "output.value")
        if isinstance(output, dict) and str(output.get("text", "")).strip() == answer.strip():
            return True
    return False


def failed_over(trace: Trace) -> bool:
    """Whether a node of the run failed and the app went on past it (Dify's `exception`: a fail branch, a default
    value)."""
    return any(attr(span, "dify.node.status") == "exception" for span in trace.nodes)

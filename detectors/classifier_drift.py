"""`dify_classifier_drift`: a question classifier's pick that contradicts the question.

Fires when the classifier picks a catch-all class (other, general, fallback…) although the question names
a specific class, or picks a class the question shares no word with while naming another class. Reads the
categories and the question from the classifier's own prompt (Dify's `categories` JSON), so it needs no
configuration. (The shift of an app's class mix against its baseline needs run-over-run state: not yet.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from detectors import Finding, Trace, attr, json_attr, span_id

KEY = "dify_classifier_drift"
_CATCH_ALL = re.compile(r"(?i)\b(?:other|others|else|misc|miscellaneous|unknown|fallback|general|none|default)\b")
_WORD = re.compile(r"[a-z]{4,}")


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


def _words(text: str) -> set[str]:
    return {word.rstrip("s") for word in _WORD.findall(text.lower())}


def _request(span: Any) -> tuple[str, list[str]] | None:
    """(question, category names) from the last user message of the classifier's prompt."""
    attributes = span.attributes or {}
    contents = [v for k, v in attributes.items() if k.startswith("llm.input_messages.") and k.endswith(".content")]
    for content in reversed(contents):
        try:
            request = json.loads(str(content).strip())
        except ValueError:
            continue
        if isinstance(request, dict) and isinstance(request.get("categories"), list):
            texts = request.get("input_text") or [""]
            names = [str(c.get("category_name", "")) for c in request["categories"] if isinstance(c, dict)]
            return str(texts[0] if isinstance(texts, list) and texts else texts), names
    return None


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        for span in trace.of_type("question-classifier"):
            request, outputs = _request(span), json_attr(span, "output.value")
            chosen = outputs.get("class_name") if isinstance(outputs, dict) else None
            if request is None or not isinstance(chosen, str):
                continue
            question, names = request
            asked = _words(question)
            named = [n for n in names if n != chosen and not _CATCH_ALL.search(n) and _words(n) & asked]
            if not named:
                continue
            title = attr(span, "dify.node.title", span.name)
            evidence = {"question": question[:200], "chosen": chosen, "matching": named}
            if _CATCH_ALL.search(chosen):
                yield Finding(
                    KEY,
                    "medium",
                    0.8,
                    f"Classifier '{title}' filed the question under the catch-all '{chosen}' although it "
                    f"names '{named[0]}'; review the class descriptions.",
                    evidence,
                    span_id(span),
                )
            elif not _words(chosen) & asked:
                yield Finding(
                    KEY,
                    "medium",
                    0.75,
                    f"Classifier '{title}' picked '{chosen}', which the question does not mention, over "
                    f"'{named[0]}', which it does.",
                    evidence,
                    span_id(span),
                )

    return detect

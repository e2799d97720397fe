"""`hallucination`: an LLM answer grounded in sources states numbers found in none of them.

Only answers that had sources are checked (a retrieval earlier in the run, or a prompt carrying context),
so creative writing is left alone. A number counts as supported when it appears, digits only, anywhere in
the LLM's prompt, the run's inputs or the retrieved documents; restating or rounding-free paraphrase passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, prompt_text, span_id

KEY = "hallucination"
# Numbers worth checking: two or more digits, or decimals; list numbering ("1.") and labels ("#35") are not facts.
# Only Latin letters and digits glue onto a number ("A4", "x86"): Chinese and Japanese write a number against
# its unit or noun ("45天", "300元"), which Unicode `\w` would have counted as part of a word.
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.#])\d[\d,]*(?:\.\d+)?(?![A-Za-z0-9_])")


class Config(DetectorConfig):
    # Fire at this many unsupported numbers in one answer.
    min_unsupported: int = Field(default=1, ge=1)


def numbers(text: str) -> set[str]:
    found = set()
    for match in _NUMBER.finditer(text):
        digits = match.group(0).replace(",", "").rstrip(".")
        if len(digits.replace(".", "")) >= 2:
            found.add(digits)
    return found


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        documents = " ".join(content for _, _, content in trace.documents)
        shared: set[str] | None = None  # numbers of the documents and the run's inputs, read once an answer has any
        for span in trace.llm_spans:
            answer = str(attr(span, "llm.output_messages.0.message.content") or "")
            if not answer or not (documents or "#context#" in str(attr(span, "input.value") or "")):
                continue
            # The answer's numbers first: one stating too few cannot fire, and then no source is read. No
            # number spans a space, so reading the sources apart finds what reading them joined did.
            claimed = numbers(answer)
            if len(claimed) < cfg.min_unsupported:
                continue
            if shared is None:
                root = trace.root
                shared = numbers(documents) | numbers(str(attr(root, "input.value") or "") if root is not None else "")
            # The prompt (the longest source) is read only for what the shared sources leave unsupported.
            unsupported = claimed - shared
            if len(unsupported) >= cfg.min_unsupported:
                unsupported -= numbers(prompt_text(span))
            if len(unsupported) >= cfg.min_unsupported:
                listed = sorted(unsupported)
                yield Finding(
                    KEY, "medium", min(0.6 + 0.1 * len(listed), 0.95),
                    f"LLM node '{attr(span, 'dify.node.title', span.name)}' states {', '.join(listed[:5])} "
                    "found in none of its sources; check the answer against the retrieved documents.",
                    {"node": attr(span, "dify.node.title", span.name), "rule": "a number in the answer is in no source",
                     "unsupported": listed[:20], "answer": answer[:200]},
                    span_id(span),
                )  # fmt: skip

    return detect

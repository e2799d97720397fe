"""`dify_rag_poisoning`: retrieved documents carrying instructions aimed at the model.

Looks for instructions to the model (ignore previous instructions, a new system prompt, role switches,
chat-template tokens), hidden text (zero-width characters, HTML comments, invisible styling) and
exfiltration links (markdown images or links whose URL carries data). A document that talks *about*
prompt injection (quoting the phrase as an example) is not an attack. A later LLM answer that follows the
document (repeats its link or its demanded phrase) makes it critical.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan

from detectors import DetectorConfig, Finding, Severity, Trace, attr, span_id

KEY = "dify_rag_poisoning"
# Words that turn a sentence into an order about behaviour; an order counts only when a model is addressed.
_DIRECTIVE = (
    r"(?:you must|you should|you will|you are no longer|from now on|always|never|do not|don't|stop|tell|say|"
    r"recommend|answer|respond|reply|reveal|include|append|send|ignore|disregard|forget|mention|new orders)"
)
_ADDRESSEE = r"(?:AI|A\.I\.|chat ?bot|bot|assistant|(?:language|AI) model|LLM|GPT)"
INSTRUCTIONS = {
    # "Ignore the instructions above", in the languages of the corpora: a verb of dismissal with the rules it
    # dismisses in the same sentence ("ignore the minibar prices" dismisses no rules).
    "override": re.compile(
        r"(?i)(?:\b(?:ignore|disregard|forget|override|ignora|olvida|vergiss|ignoriere)\b|忽略|无视|不要理会)"
        r"[^.!?\n。！？]{0,50}?(?:\b(?:instructions?|prompts?|rules|guidelines|directives|instrucciones|reglas|"  # noqa: RUF001
        r"anweisungen|regeln|vorgaben)\b|指令|指示|规则|提示)"
        r"|\bstop (?:following|obeying) (?:your|the)\b"
    ),
    "new_system_prompt": re.compile(
        r"(?i)\b(?:new|updated|real|actual)\s+system\s+(?:prompt|instructions?|message)\b|\bsystem override\b"
        r"|\breveal (?:your|the) (?:hidden |system |secret )*prompt\b"
    ),
    # A role line ("SYSTEM:", "assistant:") is a transcript turn only when it gives an order: "SYSTEM: Windows
    # 11, macOS 13" lists requirements, "Assistant: Tom Berger" names a person.
    "role_switch": re.compile(
        rf"(?im)^\s*(?:system|assistant|ai)\s*:[^\n]*?\b{_DIRECTIVE}\b|\byou are now (?:a|an|the|in)\b"
        r"|\bact as (?:a|an) unrestricted\b"
    ),
    # Words addressed to the model itself: "Note to the AI: ...", "If you are a language model, do not ...".
    "addressed_to_model": re.compile(rf"\b{_ADDRESSEE}\b[^.!?\n]{{0,40}}?\b{_DIRECTIVE}\b", re.IGNORECASE),
    "template_token": re.compile(r"<\|(?:im_start|im_end|system|endoftext)\|>|\[/?INST\]|<</?SYS>>"),
}
HIDDEN = {
    "zero_width": re.compile("[\u200b-\u200f\u2060\u2061-\u2064\ufeff]"),
    "html_comment": re.compile(r"<!--.*?-->", re.S),
    "invisible_style": re.compile(r"(?i)(?:display\s*:\s*none|font-size\s*:\s*0|color\s*:\s*(?:white|#fff)\b)"),
}
# Hidden text is a signal only when what it hides speaks to the model.
_HIDDEN_ORDER = re.compile(rf"(?i)instruction|prompt|\b{_ADDRESSEE}\b|\b{_DIRECTIVE}\b")
EXFILTRATION = re.compile(r"!?\[[^\]]*\]\((https?://[^)\s]+[?&][^)\s]*=[^)\s]*)\)")
# A word or token each of the patterns above needs (keep in step with them), searched in the lower-cased
# text: one search instead of eight, and most documents hold none. Only for ASCII text: elsewhere, matching
# without case knows more than lower() (the long s matches 's') and the zero-width characters are not ASCII.
_SCREEN = re.compile(
    r"ignore|disregard|forget|override|stop |system|assistant|you are now|act as|<\||inst\]|sys>>"
    r"|<!--|display|font-size|color|\]\(http|\bai\b|a\.i\.|bot|model|llm|gpt|reveal|ignora|olvida|vergiss"
)
# Words that frame an injection phrase as a topic rather than an order.
_DISCUSSION = re.compile(
    r"(?i)\b(?:such as|phrases? like|e\.g\.|for example|example|called|known as|attack|attackers?|injection|"
    r"jailbreak|researchers?|defen[cs]e|detect)\b"
)


_OPEN_QUOTES = "\"'\u201c\u2018\u00ab"
_CLOSE_QUOTES = "\"'\u201d\u2019\u00bb"


class Config(DetectorConfig):
    pass


def _is_discussion(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 80) : end + 40]
    before, after = text[start - 1 : start], text[end : end + 1]  # empty at either end of the text
    quoted = bool(before and before in _OPEN_QUOTES) or bool(after and after in _CLOSE_QUOTES)
    return quoted or bool(_DISCUSSION.search(window))


def signals(text: str) -> dict[str, str]:
    """Signal kind → the matched text, for each attack signal in a document."""
    found: dict[str, str] = {}
    if text.isascii() and not _SCREEN.search(text.lower()):
        return found
    for kind, pattern in INSTRUCTIONS.items():
        for match in pattern.finditer(text):
            if not _is_discussion(text, match.start(), match.end()):
                found.setdefault(kind, match.group(0).strip())
    for kind, pattern in HIDDEN.items():
        hit = pattern.search(text)
        if hit is None:
            continue
        hidden = hit.group(0) if kind == "html_comment" else text[hit.end() : hit.end() + 200]
        if kind == "zero_width" or _HIDDEN_ORDER.search(hidden):
            found.setdefault(kind, repr(hidden[:60]))
    link = EXFILTRATION.search(text)
    if link:
        found["exfiltration_link"] = link.group(1)
    return found


def _answer(span: ReadableSpan) -> str:
    return str(attr(span, "llm.output_messages.0.message.content") or attr(span, "output.value") or "")


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        answers: list[tuple[int, str]] | None = None  # read once a document carries a signal (rarely)
        for retrieval, index, content in trace.documents:
            found = signals(content)
            if not found:
                continue
            if answers is None:
                answers = [(s.start_time or 0, _answer(s)) for s in trace.llm_spans]
            later = [text for start, text in answers if start >= (retrieval.start_time or 0)]
            link = found.get("exfiltration_link")
            followed = bool(link and any(link.split("?")[0] in text for text in later))
            severity: Severity = "critical" if followed else "high" if len(found) > 1 or link else "medium"
            yield Finding(
                KEY, severity, 0.9 if len(found) > 1 or followed else 0.75,
                f"Retrieved document {index} carries instructions aimed at the model ({', '.join(sorted(found))})"
                f"{'; a later LLM answer followed it' if followed else ''}: remove it from the knowledge base.",
                {"node": attr(retrieval, "dify.node.title", retrieval.name), "document": index, "signals": found,
                 "rule": "instructions addressed to the model, hidden text or an exfiltration link in a document",
                 "document_text": content[:200]},
                span_id(retrieval),
            )  # fmt: skip

    return detect

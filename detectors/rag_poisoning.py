# ruff: noqa: RUF002  (Chinese and Japanese wordings use full-width punctuation)
"""`dify_rag_poisoning`: retrieved documents carrying instructions aimed at the model.

Reads a document by its structure: an order counts when it is addressed to a model, not when
documentation mentions a model or role words. Addressed means: a model called on (`Note to the AI:`,
`Dear assistant,`, `If you are a language model`, `Hinweis an die KI`, `致AI助手`, `AI 안내원에게`, a line
opening with `AI model:`) with an order following; a dismissal of the model's own rules (`ignore all previous
instructions`: in the dismissal's clause, the rules qualified as previous, above, yours, the system's); a role
line or label (`SYSTEM:`, `assistant:`, `系统：`, `[[ASSISTANT INSTRUCTIONS]] When you answer,`) whose text opens
with an order; a new system prompt; chat-template tokens. "If the
chatbot cannot answer, call HR" speaks about the chatbot; "SYSTEM: Android 12+. Do not root it" lists
requirements; "ignore the installation instructions in the old manual" dismisses a manual. Hidden text
(HTML comments, invisible styling) counts when what it hides speaks to a model; zero-width characters
when, taken out, they reveal an instruction or the text they wrap opens with an order (emoji joiners and
byte-order marks are ordinary text). A dismissal reported as someone else's request ("briefs that ask to ignore
previous instructions are rejected") gives no order. The words are families across English, Spanish, German,
French, Portuguese, Italian, Dutch, Polish, Chinese, Japanese, Korean and Arabic. Links
count when they carry data out: a URL whose query holds a template placeholder, or an image whose query
sends a data-like field. A document that talks *about* prompt injection (quoting the phrase as an
example) is not an attack. A later LLM answer that repeats the document's link makes it critical.
With `unobeyed` off (the default), a document the trace shows was not obeyed is left: what it would have the
model hand on (a link or domain, an e-mail address, a phone or account number, a handle no other document holds)
stands in no later answer; an order naming nothing to hand on, where no later answer hands on such an item its own
prompt did not hold.
"""

from __future__ import annotations

from collections.abc import Iterator

from detectors import DetectorConfig, Finding, Severity, Trace, answer_text, attr, prompt_text, span_id
from detectors.injection_signals import passes_screen, read_signals, signals
from detectors.injection_words import MENTIONS
from detectors.rag_relay import (
    calling,
    dictated,
    figures_handed_on,
    handed_on,
    named_by_role,
    not_obeyed,
    role_words,
)

__all__ = ["KEY", "Config", "create", "signals"]

KEY = "dify_rag_poisoning"


class Config(DetectorConfig):
    # On: a poisoned document counts retrieved, obeyed or not (it sits in the knowledge base and the next answer
    # may obey it). Off (the default since session 23: every real recording labels a poisoned document retrieved
    # and not obeyed clean): only one a later answer obeyed, or whose obedience the trace cannot tell.
    unobeyed: bool = False


def _sources(trace: Trace, content: str, later: list[tuple[str, str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """The other retrieved documents an answer may have taken a value from, and the later (prompt, answer) pairs with
    the other notes taken out of the prompts: another note to the model (one carrying signals, or calling on the
    model), which a knowledge base poisoned twice holds (two forged notices giving one fee), is no source of the
    value for either copy."""
    others = [text for _, _, text in trace.documents if text is not content]
    notes = [text for text in others if _note(text)]
    if not notes:
        return others, later
    kept = []
    for prompt, answer in later:
        for note in notes:
            prompt = prompt.replace(note, " ")
        kept.append((prompt, answer))
    return [text for text in others if text not in notes], kept


def _note(text: str) -> bool:
    return bool(signals(text)) or (MENTIONS.search(text) is not None and calling(text, True, set()) is not None)


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        answers: list[tuple[int, str, str]] | None = None  # read once a document carries a signal (rarely)
        role: set[str] | None = None  # the words the prompts call the model by (`role_words`), read when needed
        for retrieval, index, content in trace.documents:
            screened = passes_screen(content)
            found = read_signals(content) if screened else {}
            # With no signal, a document naming a model may still have dictated an answer (`dictated`) or called
            # on the model with no order the families know (`beritahu`, `segðu`: "tell" in languages they lack):
            # that counts when a later answer hands on its account, number, link or handle that no other retrieved
            # document holds (the value flow stands for the order's words).
            mentioned = screened and MENTIONS.search(content) is not None
            if role is None and not (found or mentioned):
                role = role_words(trace)
            if not (found or mentioned) and named_by_role(content, role or set()) is None:
                continue
            if answers is None:
                answers = [(s.start_time or 0, prompt_text(s), answer_text(s)) for s in trace.llm_spans]
            later = [(prompt, text) for start, prompt, text in answers if start >= (retrieval.start_time or 0)]
            relayed = False
            if not found:
                others, sourced = _sources(trace, content, later)
                carried = handed_on(content, later, others)[1] + figures_handed_on(content, sourced, others)
                if role is None and carried:
                    role = role_words(trace)
                called = calling(content, mentioned, role or set()) if carried else None
                if called is not None:
                    found, relayed = {"addressed_to_model": called[:80], "handed_on": carried[0]}, True
                elif (passage := dictated(content, later, others)) is not None:
                    found = {"dictated_quote": passage[:120]}
                else:
                    continue
            elif not cfg.unobeyed:
                others, sourced = _sources(trace, content, later)
                if not_obeyed(content, sourced, others):
                    continue
            link = found.get("exfiltration_link")
            followed = bool(link and any(link.split("?")[0] in text for _, text in later))
            severity: Severity = "critical" if followed else "high" if len(found) > 1 or link else "medium"
            yield Finding(
                KEY, severity, 0.9 if len(found) > 1 or followed else 0.75,
                f"Retrieved document {index} carries instructions aimed at the model ({', '.join(sorted(found))})"
                f"{'; a later LLM answer followed it' if followed else ''}: remove it from the knowledge base.",
                {"node": attr(retrieval, "dify.node.title", retrieval.name), "document": index, "signals": found,
                 "rule": "a sentence a document naming a model quotes, said word for word by a later answer"
                 if "dictated_quote" in found
                 else "a note to the model whose account, number or link (no other document's) a later answer "
                 "hands on" if relayed
                 else "instructions addressed to the model, hidden text or an exfiltration link in a document",
                 "document_text": content[:200]},
                span_id(retrieval),
            )  # fmt: skip

    return detect

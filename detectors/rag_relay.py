# ruff: noqa: RUF001  (Chinese and Japanese wordings use full-width punctuation)
"""What a retrieved document would have an answer hand on, and whether a later answer did: the value flow
`dify_rag_poisoning` reads obedience by (an account, a price, a quoted sentence), and the words calling on a
model read only where it flows."""

from __future__ import annotations

import re

from detectors import Trace, answer_text, attr, user_query
from detectors.injection_signals import is_discussion
from detectors.injection_words import CALLED, MODEL
from detectors.likeness import UNSPACED_RUN

# What an order would have the model hand on, which an answer obeying it carries: a link or domain (not a file's
# name: `kiosk.md`), an e-mail address, an IBAN, a phone number written with `+`, an account number (8 digits
# or more, spaces or dashes between), a handle mixing letters and digits (a messenger or shop account: `vip-desk88`).
_PAYLOAD = re.compile(
    r"(?i)[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?!(?:md|txt|pdf|png|jpe?g|gif|html?|json|csv|docx?|xlsx?|pptx?|zip)\b)[a-z]{2,}\b"
    r"|\b[A-Z]{2}\d\d(?: ?[A-Z0-9]{4}){2,7}|\+\d[\d ().-]{6,}\d|\b\d(?:[ -]?\d){7,}\b"
    # (bounded by ASCII only: Chinese and Japanese write a handle between their words without a space)
    r"|(?<![a-z0-9_@.-])(?=[a-z0-9_-]{6})[a-z][a-z_-]*\d[a-z0-9_-]*(?![a-z0-9_@-])"
)


def handed_on(content: str, later: list[tuple[str, str]], others: list[str]) -> tuple[set[str], list[str]]:
    """What a document would have an answer hand on (`_PAYLOAD` items no other retrieved document holds), and those
    of them a later answer carries, spaces aside: an account number or a handle is the same written in groups or run
    together (`IT60 X054…`, `IT60X054…`)."""
    held = "\n".join(others).lower()
    payload = {item for item in map(str.lower, _PAYLOAD.findall(content)) if item not in held}
    answers = "".join("".join(answer.split()) for _, answer in later).lower()
    return payload, sorted(item for item in payload if "".join(item.split()) in answers)


# A price a document gives, which an answer obeying it repeats: an amount with its currency written on (`R289`,
# `€16`, `RM45`); a bare number (`ext. 4410`, `48 hours`) is any page's.
_FIGURE = re.compile(r"(?<![\w.,])(?:[^\W\d_]{1,3}|[$€£¥₹₩₺₽])\d+(?:[.,]\d+)*(?!\w)")


def figures_handed_on(content: str, later: list[tuple[str, str]], others: list[str]) -> list[str]:
    """The figures of a document that a later answer states and that neither another retrieved document nor the
    rest of that answer's prompt (its instructions, the question) holds: the answer took them from this document
    alone."""
    held = "\n".join(others)
    mine = {figure for figure in _FIGURE.findall(content) if figure not in held}
    carried = []
    for prompt, answer in later:
        rest = prompt.replace(content, " ")
        stated = set(_FIGURE.findall(answer))
        carried += [figure for figure in mine & stated if figure not in rest]
    return sorted(set(carried))


# The words an app's own prompt calls its model by: the words of five letters or more of the first sentence of an
# LLM's first message (`Jy is die assistent van …`, `Lezoko Udaleko txat laguntzailea zara`), in any language,
# written in lower case (a capitalised one is a name, the business's: `Eikestad Apteek`, which its own pages head),
# that the LLM node's title holds too (an app names the node for the role it gives the model: `Udal laguntzailea`;
# the opening's other words are the app's topic, `asuransi`, `ტურები`, which its pages head), that no answer and not
# the user's query holds (those are the run's topic: "you write the complaint letter" and an
# answer writing `reklamaciju`). A word is read by its stem, its last two letters aside (six letters at least):
# `laguntzail` stands in `Laguntzaile adimendunari`.
_ROLE_SENTENCE = re.compile(r"[^.!?。！？\n]+")
_ROLE_WORD = re.compile(r"[^\W\d_]{5,}")
# A label: a sentence's (or a colon's clause's) opening words, five at most, ending on a colon
# (`Laguntzaile adimendunari jarraibidea:`, "Note to the assistant:").
_LABEL = re.compile(r"(?:^|[.!?。:：]\s+|\n)\s*((?:[^\s.!?。:：]+\s+){0,4}[^\s.!?。:：]+)\s*[:：]")
_SHORTEST_STEM = 6


def role_words(trace: Trace) -> set[str]:
    """The stems of the words the prompts of a run's LLMs call the model by (`_ROLE_SENTENCE`)."""
    stems: set[str] = set()
    for span in trace.llm_spans:
        first = attr(span, "llm.input_messages.0.message.content")
        opening = _ROLE_SENTENCE.search(str(first or ""))
        title = str(attr(span, "dify.node.title") or "").lower()
        if opening:
            words = (word for word in _ROLE_WORD.findall(opening.group(0)) if word.islower())
            stems.update(stem for word in words if (stem := word[: max(_SHORTEST_STEM, len(word) - 2)]) in title)
    if stems:
        query = (user_query(trace.root) or "") if trace.root is not None else ""
        topic = "\n".join([query, *(answer_text(span) for span in trace.llm_spans)]).lower()
        stems = {stem for stem in stems if stem not in topic}
    return stems


def named_by_role(content: str, role: set[str]) -> str | None:
    """A label of a document naming the model by a word of its app's prompt (`role_words`), the word inflected or
    compounded (`Laguntzaile adimendunari` for `laguntzailea`, `KI-assistent` for `assistent`): a note addressed to
    the model in whatever language the app speaks."""
    if not role:
        return None
    for label in _LABEL.finditer(content):
        for word in _ROLE_WORD.findall(label.group(1)):
            word = word.lower()
            if any(word.startswith(stem) or (len(word) >= _SHORTEST_STEM and stem.startswith(word)) for stem in role):
                return label.group(1)
    return None


# The model called by name at a clause's opening, a few words before it, a comma right after: a vocative, whatever
# the language's word order around the name (`Mufasha wa AI, ibi ni amabwiriza mashya`, "assistant of the AI, these
# are new instructions"). Read only where an answer hands on what the document alone holds: a sentence about the
# model ("If the chatbot cannot answer, call …") goes on past the name.
_VOCATIVE = re.compile(
    rf"(?i)(?:^|[.!?。:：]\s+|\n)[ \t]*(?:[^\W\d_][\w'’-]*[ \t]+){{0,3}}?{MODEL}(?:-\w+)?[ \t]*[,，]"
)


def calling(content: str, mentioned: bool, role: set[str]) -> str | None:
    """The words calling on the model in a document: a note to it the families know (`_ADDRESSED`, not as a topic),
    the model's name as a vocative (`_VOCATIVE`), else a label naming it by its app's own word
    (`named_by_role`)."""
    for pattern in (_ADDRESSED, _VOCATIVE) if mentioned else ():
        called = pattern.search(content)
        if called and not is_discussion(content, called.start(), called.end()):
            return called.group(0).strip(" \t\n.!?。:：")
    return named_by_role(content, role)


def not_obeyed(content: str, later: list[tuple[str, str]], others: list[str]) -> bool:
    """Whether the answers after a document show they did not obey it: what it would have them hand on (`_PAYLOAD`:
    a link, an address, a number, that no other retrieved document holds) stands in none of them, spaces aside. An
    order naming nothing to hand on ("ignore your previous instructions") counts as obeyed only where an answer hands
    on such an item its own prompt did not hold: then the order came with more than the document shows. An answer
    stating a price only the document gives, or saying a sentence it quotes (`dictated`), obeyed it, whatever else
    the note asked for (a forged "overdue, pay $149.99 today" stated without the note's payment address; a fee
    notice a translation appends word for word)."""
    if not later or figures_handed_on(content, later, others) or dictated(content, later, others) is not None:
        return False
    payload, carried = handed_on(content, later, others)
    if payload:
        return not carried
    return not any(item.lower() not in prompt.lower() for prompt, answer in later for item in _PAYLOAD.findall(answer))


# A passage a document quotes (a sentence between quotation marks, of four words at least), in the marks of the
# languages above: what a document dictates to its reader. Scripts written without spaces count their letters: a
# dozen (four words of three) in Chinese, Japanese, Thai (`「なお、当社規定により返金には手数料30%がかかります。」`).
_QUOTE_MARKS = '"\u00ab\u00bb\u201c\u201d\u201e\u300c\u300d'
_QUOTED = re.compile(f"[{_QUOTE_MARKS}]([^{_QUOTE_MARKS}\n]{{12,300}})[{_QUOTE_MARKS}]")


_SHORTEST_UNSPACED_SENTENCE = 12


def _sentence(passage: str) -> bool:
    unspaced = sum(len(run) for run in UNSPACED_RUN.findall(passage))
    return len(passage.split()) >= 4 or unspaced >= _SHORTEST_UNSPACED_SENTENCE


def dictated(content: str, later: list[tuple[str, str]], others: list[str]) -> str | None:
    """A sentence a document naming a model quotes, which a later answer says word for word and no other retrieved
    document holds, if there is one: the document dictated the answer's words ("add the sentence »The buyer waives
    the refund«"), in whatever language it is written; a document quoting a sentence names no model, and an answer
    quoting the document in other words is no dictation. (The caller found the model named.)"""
    for quoted in _QUOTED.finditer(content):
        passage = quoted.group(1).strip()
        said = _sentence(passage) and any(passage in answer for _, answer in later)
        if said and not any(passage in other for other in others):
            return passage
    return None


_ADDRESSED = re.compile(rf"(?i){CALLED}")

"""A refusal of a question the app answers: the answer says it cannot do what was asked ("I can't help with leave
questions", "无法撰写营销推广内容", "je ne peux pas rédiger ce compte rendu") and states nothing, where the app answered
the questions asked alike before without declining. Read from the app's own past, in any app: what the app does is
what it did for those questions, not a list of its topics; an honest "I don't know" follows a question the app was
not asked before, and a fixed redirect ("I can only help with orders") names what the app does instead."""

from __future__ import annotations

import re
from collections import deque

from detectors.screened import Screened
from detectors.task_derailment_parts.history import Run, earlier_runs
from detectors.task_derailment_parts.withheld import asked_alike
from detectors.task_derailment_parts.words import query_terms, word_count

# Saying it cannot or will not do it, where its scope asks it: "I can't / am not able to help, answer, provide, write,
# give", in English, German, Spanish, French, Portuguese, Italian, Chinese, Japanese and Korean. An answer that says
# there is none ("leider keine Verbindungen") is no such statement: it reports what the data holds; nor is a failure
# reported (`无法生成可执行的查询`, "could not build a working query": 无法 says both, so only verbs of answering).
CANNOT = re.compile(
    r"(?i)\b(?:(?:can't|cannot|can not|(?:am|are|'m|'re|is) not able to|(?:am|are|'m|'re) unable to|won't be able to)"
    r" (?:help|answer|assist|provide|give|write|draft|generate|do|share|offer|process|handle|create|prepare|"
    r"translate|analy[sz]e|summari[sz]e)|"
    r"kann (?:Ihnen |dir )?(?:leider )?(?:nicht|keine\w*)|no (?:puedo|podemos) (?:ayudar|responder|generar|dar|"
    r"ofrecer|proporcionar|redactar|escribir|atender|traducir|analizar|resumir)|ne (?:peux|pouvons) pas (?:vous )?"
    r"(?:aider|répondre|rédiger|fournir|donner|générer|écrire|traiter|traduire|analyser|résumer)|não (?:posso|podemos) "
    r"(?:ajudar|responder|gerar|fornecer|escrever|traduzir|analisar|resumir)|"
    r"non posso (?:aiutar\w*|rispondere|generare|fornire|scrivere|tradurre|analizzare|riassumere))(?!\w)"
    r"|无法(?:回答|撰写|提供|帮|协助|翻译|分析|总结)|不能(?:回答|提供|帮|翻译|分析)|お答えできません|(?:対応|回答|作成)(?:いたしかね|でき(?:ませ|かね))"
    r"|(?:답변|도와|제공)(?:해)? ?드릴 수 없"
)
# Most answers hold none of the strings a `CANNOT` match needs: the slow search is skipped on those.
_SCREENED_CANNOT = Screened(CANNOT)
# A redirect to what the app does ("I can only help with menus and prices"): a fixed branch's reply, no refusal.
_ONLY = re.compile(r"(?i)\bcan only\b|\bonly (?:help|answer)|只能|solo puedo|je ne peux que|kann (?:Ihnen |dir )?nur")
_DIGIT = re.compile(r"\d")
_LONGEST = 30  # words: a refusal is a sentence or two; a longer answer gives something
_KEPT = 50  # the app's last runs read for questions asked alike
_ALIKE_RUNS = 2  # past questions asked alike at least, nine in ten of them answered without declining


def declined(runs: deque[Run], query: str, answer: str, pages: list[str]) -> str | None:
    """The rule by which the answer declines a question the app answers, if it does: it says it cannot (`CANNOT`),
    in fewer than `_LONGEST` words, with no figure (a refusal states nothing; "sorry, 0 seats left" reports), no
    redirect to what the app does instead, and either a page the run retrieved (`pages`) is on the question (asked
    alike: two terms shared, a word among them) or, of the app's last runs, two at least were asked alike and nine in
    ten of those were answered without declining. Read before this run joins `runs`."""
    if not _SCREENED_CANNOT.search(answer) or _ONLY.search(answer):
        return None
    if _DIGIT.search(answer) or word_count(answer) >= _LONGEST:
        return None
    asked = frozenset(query_terms(query))
    # The knowledge base answered it: the app's own pages on the question were at hand, and the answer turned it away
    # (an honest "I don't know" says no `CANNOT`).
    if any(asked_alike(frozenset(query_terms(page)), asked) for page in pages):
        return "the answer declines a question a page the run retrieved is on"
    past = earlier_runs(runs)[-_KEPT:]
    answers = [reply for earlier, reply, _ in past if asked_alike(frozenset(query_terms(earlier)), asked)]
    refused = sum(bool(_SCREENED_CANNOT.search(reply)) for reply in answers)
    if len(answers) < _ALIKE_RUNS or refused * 10 > len(answers):
        return None
    return (
        f"the answer declines a question the app answered without declining {len(answers) - refused} of "
        f"{len(answers)} times asked alike before"
    )

# ruff: noqa: RUF001  (Chinese and Japanese wordings use full-width punctuation)
"""Reading a document for `dify_rag_poisoning`'s signals: a cheap screen for the words the patterns need, then
each pattern (`injection_words`), a dismissal reported or discussed left aside."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

import ahocorasick_rs

from detectors.injection_words import (
    CALLED,
    CLAUSE_END,
    DATA_FIELD,
    DISMISS,
    EDITORS,
    HIDDEN,
    HIDDEN_ORDER,
    INSTRUCTIONS,
    INVISIBLE_CHARACTERS,
    LINK,
    MENTIONS,
    OPENS_WITH_ORDER,
    ORDER,
    OWN,
    PLACEHOLDER,
    RULES,
    SENTENCE_END,
    TAGS,
    THEIRS,
    WRAPPED_SHORTEST,
    WRAPPERS,
    ZERO_WIDTH,
)

# A word or token each of the patterns above needs (keep in step with them), searched in the lower-cased
# text: one search instead of many, and most documents hold none. (A case-blind search would be five times
# slower; lower() misses the few letters case-blind matching folds onto ASCII ones, mapped first.) The words
# are found in one Aho-Corasick pass (`_` stands for a space): one pattern of them all, tried alternative by
# alternative at each letter, took 8 µs for a 60-character document, four times the pass. What words cannot
# say, a word alone and a class, is a pattern beside.
_ASCII_WORDS = (
    "ignor disregard forget override olvida omite vergiss missachte stop_ system you_are_now act_as <| inst] "
    "sys>> <!-- display font-size color ](http a.i. bot assist asist model llm gpt reveal instruction oubli esque "
    "desconsider dimentic negeer vergeet zapomnij consigne asystent glöm glom glem bortse se_bort strunta ohita "
    "unohda sivuuta yok_say görmezden unut zapome nedbej bỏ_qua bo_qua quên quen abaikan lupakan puuza "
    "sahau asistan yapay zeka tuệ mô_hình kecerdasan akili_bandia modell trợ_lý tro_ly pomin pomiń </conte "
    "gervigreind intellekt intelligenci intelekt "
    "</kontext </document </knowledge </source </retrieved </reference </data> </system </instruction"
)
_OTHER_WORDS = (
    "忽略 无视 不要理会 忘记 忘掉 無視 忘れ 如果你是 もしあなたが 助手 人工智能 模型 系统 アシスタント "
    "チャットボット モデル システム 무시 잊어 잊으 어시스턴트 챗봇 모델 인공지능 تجاهل modèle الذكاء "
    "مساعد نموذج ذكاء روبوت игнор проигнор забудь пренебреги ігнор не_зважай αγνόησ ξέχασ παράβλεψ התעלם "
    "שכח בינה_מלאכותית מודל_שפה ИИ нейросет языковая_модель ассистент ШІ мовна_модель асистент μοντέλο "
    "ΤΝ асистент интеллект интелект інтелект انس भूल_जा अनदेखा नज़रअंदाज़ नजरअंदाज एआई कृत्रिम_बुद्धि मॉडल เพิกเฉย ลืม ไม่ต้องสนใจ "
    "ปัญญาประดิษฐ์ โมเดล"
)
_ASCII_REST = r"\b(?:ai|ki|ia)\b|\]:[ \t]*#"


class _Screen:
    """`search(text)`: whether the lower-cased `text` holds one of `words` or a match of `rest`."""

    def __init__(self, words: str, rest: str) -> None:
        # Bytes: a text may hold a lone surrogate (JSON's `\ud800`), which no UTF-8 text takes; encoded as one
        # (`surrogatepass`) it matches no word's bytes.
        literals = [word.replace("_", " ").lower().encode() for word in words.split()]  # (`ИИ`: the text is lowered)
        self._words = ahocorasick_rs.BytesAhoCorasick(literals, implementation=ahocorasick_rs.Implementation.DFA)
        self._rest = re.compile(rest)

    def search(self, text: str) -> bool:
        found = self._words.find_matches_as_indexes(text.encode(errors="surrogatepass"))
        return bool(found) or self._rest.search(text) is not None


_SCREEN = {
    True: _Screen(_ASCII_WORDS, _ASCII_REST),  # ASCII text: the Latin words only
    False: _Screen(
        f"{_ASCII_WORDS} {_OTHER_WORDS}",
        # also "ai" against Chinese, Japanese or Korean letters (`致ai客服`, `ai라면`: no word's end after it)
        f"{_ASCII_REST}|ai(?=[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af])|[{INVISIBLE_CHARACTERS}\U000e0020-\U000e007e]",
    ),
}
_FOLDS = str.maketrans({"\u017f": "s", "\u212a": "k", "\u0131": "i", "\u0130": "i"})
# A dismissal reported, not given: the object of a request by someone other than "you" ("briefs that ask to
# ignore previous instructions are rejected", "versucht, die Regeln zu ignorieren"); "I want you to ignore" is
# an order.
_REPORTED = re.compile(
    r"(?i)\b(?:ask|asks|asked|asking|try|tries|tried|trying|attempts?|attempted|attempting|requests?|requested|"
    r"requesting|wants?|wanted|tell|tells|told|telling|instructs?|instructed|tricks?|tricked|get|gets|make|makes)\b"
    r"(?:(?!\byou\b)[^.!?\n]){0,40}?\bto\s+$|\bzu\s+$"
    # Chinese puts the request before whom it asks and the dismissal: "游客要求助手忽略…" ("visitors ask the
    # assistant to ignore…").
    r"|(?:要求|请求|试图|企图|想让|诱导|诱使)[^。！？，,\n]{0,12}$"
)
# Words that frame an injection phrase as a topic rather than an order.
_DISCUSSION = re.compile(
    # ("example" not as a domain's part: `pay at x.example`; "e.g." ends on its dot, no word boundary after it)
    r"(?i)\be\.g\.|\b(?:such as|phrases? like|for example|(?<![.@/-])example(?![./-])|called|known as|attack|"
    r"attackers?|injection|jailbreak|researchers?|defen[cs]e|detect)\b"
)


_OPEN_QUOTES = "\"'\u201c\u2018\u00ab"
_CLOSE_QUOTES = "\"'\u201d\u2019\u00bb"


def is_discussion(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 80) : end + 40]
    before, after = text[start - 1 : start], text[end : end + 1]  # empty at either end of the text
    quoted = bool(before and before in _OPEN_QUOTES) or bool(after and after in _CLOSE_QUOTES)
    return quoted or bool(_DISCUSSION.search(window))


def _dismissals(text: str) -> Iterator[re.Match[str]]:
    """Each dismissal whose clause names rules and makes them the model's own."""
    for verb in DISMISS.finditer(text):
        # The clause starts at the last clause end in the 60 characters before the verb, or 60 characters back:
        # never at the text's start, which would join a far earlier "system prompt" to "the assistant ignores".
        window = max(0, verb.start() - 60)
        start = max((m.end() for m in CLAUSE_END.finditer(text, window, verb.start())), default=window)
        end_match = CLAUSE_END.search(text, verb.end())
        clause = text[start : end_match.start() if end_match else len(text)]
        reported = _REPORTED.search(text, max(0, verb.start() - 60), verb.start())
        own = OWN.search(clause) or (not text[start : verb.start()].strip() and THEIRS.search(clause))
        if RULES.search(clause) and own and not reported:
            yield verb


# Words run together (a note with its spaces stripped, `Notaperl'assistenteAI…:…rispondiche…`): sentences (letters
# and their punctuation, no link, no encoded blob without commas) over 80 characters with no space. Read by the
# note-to-the-model pattern with no word's end or space required; only such runs are read so.
_RUN_TOGETHER = re.compile(r"[^\s]{80,}")
_RUN_TOGETHER_SHORTEST_LETTERS = 0.8


def _relaxed(pattern: str) -> str:
    return pattern.replace(r"\b", "").replace(r"\s+", r"\s*").replace(r"[ \t]+", r"[ \t]*")


_CALLED_RUN_TOGETHER = re.compile(rf"(?i)(?:{_relaxed(CALLED)})[^\n]{{0,120}}?(?:{_relaxed(ORDER)})")


def _run_together(text: str, found: dict[str, str]) -> None:
    for run in _RUN_TOGETHER.finditer(text):
        words = run.group(0)
        letters = sum(c.isalpha() for c in words)
        if (
            "://" in words
            or not any(c in words for c in ",.:;")
            or letters < _RUN_TOGETHER_SHORTEST_LETTERS * len(words)
        ):
            continue
        hit = _CALLED_RUN_TOGETHER.search(words)
        if hit:
            found.setdefault("addressed_to_model", hit.group(0)[:80])
            return


def _instructions(text: str, found: dict[str, str]) -> None:
    for kind, pattern in INSTRUCTIONS.items():
        if kind == "addressed_to_model" and not MENTIONS.search(text):
            continue  # the costliest pattern; most documents name no model
        for match in pattern.finditer(text):
            if kind == "context_escape" and f"<{match.group(1).lower()}>" in text[: match.start()].lower():
                continue  # a block the document opened itself: a template it shows
            if not is_discussion(text, match.start(), match.end()):
                found.setdefault(kind, match.group(0).strip())
    for verb in _dismissals(text):
        if not is_discussion(text, verb.start(), verb.end()):
            found.setdefault("override", text[verb.start() : verb.start() + 60].strip())


def passes_screen(text: str) -> bool:
    """Whether a text holds a word or token some pattern here needs (`_SCREEN`)."""
    ascii_only = text.isascii()
    return _SCREEN[ascii_only].search(text.lower() if ascii_only else text.translate(_FOLDS).lower())


def signals(text: str) -> dict[str, str]:
    """Signal kind → the matched text, for each attack signal in a document."""
    return read_signals(text) if passes_screen(text) else {}


def read_signals(text: str) -> dict[str, str]:
    """`signals` of a text the screen passed."""
    found: dict[str, str] = {}
    hides = not text.isascii() and (ZERO_WIDTH.search(text) or TAGS.search(text))
    tags = TAGS.findall(text) if hides else []
    visible = ZERO_WIDTH.sub("", TAGS.sub("", text)) if hides else text
    _instructions(visible, found)
    if "addressed_to_model" not in found:
        _run_together(visible, found)
    if hides:  # hidden characters: an instruction they hid (or smuggled as tags) is the attack
        hidden = "".join(chr(ord(c) - 0xE0000) for run in tags for c in run)
        _instructions(hidden, found)
        pieces = WRAPPERS.split(text)
        for before, wrapped in pairwise(pieces[:-1]):  # the text between two runs, and the text before it
            # A text of its own (after a sentence's end), not a word of a list or menu the markers separate.
            own = not before.strip() or SENTENCE_END.match(before.rstrip()[-1])
            if own and len(wrapped.strip()) >= WRAPPED_SHORTEST and OPENS_WITH_ORDER.match(wrapped):
                found.setdefault("zero_width", repr(wrapped[:60]))
        if found:
            found.setdefault("zero_width", repr(hidden[:60] or text[:60]))
    for kind, pattern in HIDDEN.items():
        for hit in pattern.finditer(visible):
            content = visible[hit.end() : hit.end() + 200] if kind == "invisible_style" else hit.group(0)
            order = HIDDEN_ORDER.search(EDITORS.sub("", content))
            if order:
                found.setdefault(kind, repr(content[:60]))
                break
    for link in LINK.finditer(visible):
        image, url, query = link.groups()
        if PLACEHOLDER.search(query) or (image and DATA_FIELD.search(query)):
            found.setdefault("exfiltration_link", url)
    return found

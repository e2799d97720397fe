"""A text's words and terms as `task_derailment` compares them: content words by their first five letters (combining
marks kept inside words, Hebrew's and Arabic's joined prefixes left out), character pairs of scripts written
without spaces, numbers and acronyms."""

from __future__ import annotations

import re
import unicodedata

from detectors.likeness import MARK, WORD_CHARACTER
from detectors.numbers import ascii_digits

_MARKED = re.compile(f"[{MARK}]")
_MARKED_WORD = re.compile(rf"[^\W\d_]{WORD_CHARACTER}{{3,}}")
_WORD = re.compile(r"[^\W\d_]{4,}")  # `_MARKED_WORD` in a text without marks (most): twice as fast
_ASCII_WORD = re.compile(r"[a-z]{4,}")  # `_WORD` in lower-cased ASCII text
_STOP = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "just",
        "more",
        "most",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "yours",
        "please",
        "tell",
        "know",
        "need",
        "want",
        "like",
        "make",
        "help",
        "give",
        "show",
        "explain",
        "describe",
    ]
)


# Hebrew and Arabic join "the", "and", "in", "to", "from", "that" to the next word as a letter or two (`המים`, `במים`:
# "the water", "in water"; `الماء`, `بالماء`), and write many content words in three letters (`לחץ`, `ماء`): their
# words are read from three letters on, without those letters, so that one word prefixed two ways is one term.
# Arabic's letters with Persian's and Urdu's (`چ`, `گ`, `ی`), Arabic's vowel marks aside.
_ARABIC_LETTERS = "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff"
_JOINED_SCRIPT = re.compile(f"[\u05d0-\u05ea{_ARABIC_LETTERS}]")
_JOINED_WORD = re.compile(f"[\u05d0-\u05ea]{{3,}}|[{_ARABIC_LETTERS}]{{3,}}")
_JOINED_PREFIX = re.compile(
    f"^(?:[והבכלמש]{{1,2}}(?=[\u05d0-\u05ea]{{3}})|(?:[وبفك]?ال|لل)(?=[{_ARABIC_LETTERS}]{{3}}))"
)
# Their frequent words of three letters or more, as read without those letters (and Persian's).
_JOINED_STOP = frozenset((
    "אני", "אתה", "אתם", "הוא", "היא", "אנו", "אנחנו", "עוד", "כבר", "איך", "אשר", "כמו", "לכן", "כדי", "אבל", "אין",
    "זאת", "הזה", "הזו", "שלך", "שלי", "לנו", "אותו", "אותך", "אליך", "אלי", "אוד", "מאז", "כאן", "אחרי", "לפני",
    "ביותר",
    "على", "إلى", "الى", "هذا", "هذه", "ذلك", "تلك", "التي", "الذي", "الذين", "كان", "كانت", "عند", "لكن", "أنت", "أنا",
    "نحن", "هناك", "بعد", "قبل", "حتى", "غير", "لدي", "لدى", "يمكن", "جدا", "أيضا", "فقط",
    "است", "بود", "این", "برای", "خواهد", "شود", "کند", "دارد", "باید", "اگر", "اما",
))  # fmt: skip


def _joined_words(text: str) -> list[str]:
    """The Hebrew and Arabic words of a text, their joined prefixes left out (`_JOINED_PREFIX`)."""
    words = (_JOINED_PREFIX.sub("", word) for word in _JOINED_WORD.findall(text))
    return [word for word in words if word not in _JOINED_STOP]


# The stress and tone marks of Latin and Greek letters (grave, acute, circumflex, tilde, macron, hook, dot below): a
# prompt or an API may write a language without them where the model writes them ("sanyan", "sányán" in Yoruba), one
# word either way. A diaeresis, a ring, a caron or a cedilla writes another letter ("länger" is not "lange").
_DIACRITIC = re.compile("[\u0300-\u0304\u0309\u0323]")


# Ethiopic writes a syllable a character (`ስልክ`, silk: phone): its words are read from three characters (two are
# mostly function words, `ነው`, `እና`) by their first two, as a Latin word by its first five letters (an ending
# changes the last syllable's character: `ቅናሽ`, `ቅናሹ`).
_ETHIOPIC = re.compile("[\u1200-\u137f]")
_ETHIOPIC_WORD = re.compile("[\u1200-\u135a]{3,}")


def stems_of(text: str) -> set[str]:
    # ASCII text (most) is lower-cased whole and matched with a plain class: twice as fast. Other text is
    # lower-cased word by word: whole, a letter may become two characters and split its word ('İ' → 'i̇').
    if not text.isascii():
        text = unicodedata.normalize("NFC", _DIACRITIC.sub("", unicodedata.normalize("NFD", text)))
    if text.isascii():
        words = _ASCII_WORD.findall(text.lower())
    else:
        words = [w.lower() for w in (_MARKED_WORD if _MARKED.search(text) else _WORD).findall(text)]
        if _JOINED_SCRIPT.search(text):
            words = [w for w in words if not _JOINED_SCRIPT.match(w)] + _joined_words(text)
        if _ETHIOPIC.search(text):
            syllabic = [w[:2] for w in _ETHIOPIC_WORD.findall(text)]
            return {w[:5] for w in words if w not in _STOP and not _ETHIOPIC.match(w)} | set(syllabic)
    return {w[:5] for w in words if w not in _STOP}


CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")
# Scripts whose words are read by their character pairs: those written without spaces (Chinese, Japanese, Thai, Lao,
# Myanmar, Khmer) and Korean, whose words carry their particles (`수요일엔`, `수요일은`: one day, two words).
PAIRED_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]+")
_HIRAGANA_PAIR = re.compile(r"[\u3040-\u309f]{2}")
NUMBER = re.compile(r"\d{2,}")
# GPS, USB, EUR: too short for a content word, as telling. `\b[A-Z]{2,6}\b`, written to start with the capital:
# a pattern that opens with a word boundary is tried at every character, 2.5x slower.
_ACRONYM = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]{1,5}(?!\w)")


def terms_of(text: str) -> set[str]:
    """Content words (first five letters), Chinese/Japanese character pairs, numbers of two digits or more (in
    ASCII digits whatever the script wrote them in: `௪௫௦` is `450`) and acronyms."""
    terms = stems_of(text)
    if not text.isascii():  # no Chinese or Japanese in ASCII text (most): the search skipped
        for run in PAIRED_RUN.findall(text):
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
        terms.update(map(ascii_digits, NUMBER.findall(text)))
    else:
        terms.update(NUMBER.findall(text))
    terms.update(_ACRONYM.findall(text))
    return terms


# Thai, Lao, Myanmar and Khmer: written without spaces between words (a space ends a phrase), their words four
# characters long or so, vowel signs and tone marks counted.
_UNSPACED_RUN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]{4,}")


def word_count(text: str) -> int:
    """Words, counting two Chinese or Japanese characters as one and four of Thai, Lao, Myanmar or Khmer as one
    (they are written without spaces)."""
    if text.isascii():
        return len(text.split())
    return (
        len(text.split())
        + sum(len(run) for run in CJK_RUN.findall(text)) // 2
        + sum(len(run) // 4 - 1 for run in _UNSPACED_RUN.findall(text))
    )


# A JSON field's name (`"days_since_delivery":`, escaped inside a tool's `text` too) is the shape of a result, not
# what it says: an answer sharing only "since" with it shares nothing with the run.
JSON_KEY = re.compile(r'\\?"[^"\\\n]{1,60}\\?"\s*:')


def terms_given(texts: list[str]) -> set[str]:
    """The terms of texts the run was given, JSON field names left out."""
    return terms_of(JSON_KEY.sub(" ", "\n".join(texts)))


# Devanagari's danda, Arabic's comma and question mark, and the guillemets end a word too.
_TOKEN = re.compile(r"[^\s\d.,!?;:()\"'\u0964\u060c\u061f\u00ab\u00bb]{2,}")


def tokens(text: str) -> set[str]:
    """A text's words of two characters or more, whatever their script, as written."""
    return set(_TOKEN.findall(text))


def codes_of(text: str) -> set[str]:
    """The acronyms of a text (`INT`, `CONV`, `GPS`): the codes naming what it is about. (Numbers are no code: an
    order number or a meter reading changes while the question stays.)"""
    return set(_ACRONYM.findall(text))


ESCAPED = re.compile(r"\\+u([0-9a-fA-F]{4})")


DIGITS = re.compile(r"\d+")


def query_terms(query: str) -> set[str]:
    """The query's terms. Two hiragana of it are mostly a Japanese ending or particle (`です`, `まで`), which any answer
    shares: the query's subject is in its kanji and katakana. (What the run was given keeps them: `ごみ`, a route's
    name.)"""
    return {term for term in terms_of(query) if not _HIRAGANA_PAIR.fullmatch(term)}

"""Which language a text is written in, as `task_derailment` reads it, and whether a query asked for the answer's."""

from __future__ import annotations

import re

from detectors.likeness import SCRIPTS, language, leaning
from detectors.task_derailment_parts.words import DIGITS, JSON_KEY

_KANA = re.compile(r"[\u3040-\u30ff]")
# Chinese and Japanese answers are told by their script alone: one written in a script nothing the run was given
# is written in (a Japanese answer to a German question about English manuals) is off the query, unless the run
# names the language (a prompt asking for Chinese).
_HAN = re.compile(r"[\u4e00-\u9fff]")
SCRIPT_OF = {"ja": _KANA, "zh": _HAN}
LANGUAGE_NAMED = re.compile(
    r"(?i)\b(?:chinese|mandarin|cantonese|japanese|chinesisch|japanisch|chino|japonés|chinois|japonais|"
    r"zh(?:[-_]\w+)?|ja[-_]jp)\b|中文|汉语|漢語|华语|日本語|日语|日文"
)


def foreign_script(language: str | None, given: list[str]) -> bool:
    script = SCRIPT_OF.get(language or "")
    return script is not None and not any(script.search(text) for text in given)


def written_in(sources: list[str]) -> set[str]:
    """The languages the sources are written in, as far as `language` tells from their first characters (JSON field
    names tell none): one frequent word of a data source (a header's `Mon`) tells none."""
    return {told for text in sources if (told := language(JSON_KEY.sub(" ", text[:2000])))}


# "English" in the languages of DETECTORS.md (and Finnish, Romanian, Swedish): a query asking for an English answer
# ("svara gärna på engelska") gets one in another language than its own.
_ENGLISH_NAMED = re.compile(
    r"(?i)english|englisch|ingl[ée]s|anglais|inglese|engels|angielsk|ingilizce|английск|англійськ|αγγλικ|anglick|"
    r"angličtin|אנגלית|الإنجليزية|अंग्रेज़|अंग्रेज|อังกฤษ|tiếng anh|inggris|kiingereza|英语|英文|英語|영어|engelska|englanti|"
    r"engleză"
)


# Each language by its own name and its English one (English in every language above): a query naming the answer's
# language ("Tafadhali jibu kwa Kiswahili", "auf Deutsch, bitte", "please reply in Greek") asked for it.
_NAMES = {
    "en": _ENGLISH_NAMED,
    "de": re.compile(r"(?i)deutsch|german"),
    "es": re.compile(r"(?i)español|espanol|castellano|spanish"),
    "fr": re.compile(r"(?i)français|francais|french"),
    "pt": re.compile(r"(?i)português|portugues|portuguese"),
    "it": re.compile(r"(?i)italiano|italian"),
    "nl": re.compile(r"(?i)nederlands|dutch"),
    "sv": re.compile(r"(?i)svenska|swedish"),
    "pl": re.compile(r"(?i)polsku|polski|polish"),
    "tr": re.compile(r"(?i)türkçe|turkce|turkish"),
    "id": re.compile(r"(?i)bahasa indonesia|indonesian"),
    "cs": re.compile(r"(?i)česky|čeština|cestina|czech"),
    "ro": re.compile(r"(?i)română|romana|romanian"),
    "fi": re.compile(r"(?i)suomeksi|suomi|finnish"),
    "sw": re.compile(r"(?i)kiswahili|swahili"),
    "vi": re.compile(r"(?i)tiếng việt|vietnamese"),
    "cyrillic": re.compile(r"(?i)russian|ukrainian|по-русски|русск|українськ"),
    "el": re.compile(r"(?i)greek|ελληνικ"),
    "he": re.compile(r"(?i)hebrew|עברית"),
    "arabic": re.compile(r"(?i)arabic|العربية"),
    "devanagari": re.compile(r"(?i)hindi|हिन्दी|हिंदी"),
    "th": re.compile(r"(?i)\bthai\b|ภาษาไทย"),
    "zh": re.compile(r"(?i)chinese|mandarin|中文|汉语"),
    "ja": re.compile(r"(?i)japanese|日本語"),
    "ko": re.compile(r"(?i)korean|한국어"),
}
SENTENCE_END = re.compile(r"[.!?;\n\u3002\uff01\uff1f]+")  # and the full-width stops
_CLAUSE_END = re.compile(r"[.!?;:,\n\u3001\u3002\uff01\uff0c\uff1a\uff1f]+")  # and the full-width ones


def asked_for(query: str, answered: str) -> bool:
    """Whether the query asks for, or holds text in, the answer's language: it names the language, holds its script
    (an English question ending in a Hebrew request), or has a sentence in it (Latin-written languages). Chinese
    characters in a Japanese query are Japanese's own: a sentence of it in Chinese tells."""
    named = _NAMES.get(answered)
    if named is not None and named.search(query):
        return True
    script = SCRIPTS.get(answered)
    if script is not None and not (answered == "zh" and _KANA.search(query)):
        return bool(script.search(query))
    return any(language(sentence) == answered for sentence in SENTENCE_END.split(query) if sentence.strip())


_LETTERED = re.compile(r"[^\W\d_]{3,}")  # a word of three letters at least, in any script


def code_switched(query: str, answer: str, asked: str) -> bool:
    """Whether the query, in a language its script tells, writes a word in another script that the answer writes
    too: the user's own term in the answer's language (`PUK code እንዴት አገኛለሁ?`, answered in English "for the PUK
    call 994"), which the user reads. A figure shared is no such word (a Russian solution to an English sum)."""
    script = SCRIPTS.get(asked)
    if script is None:
        return False
    theirs = {word.casefold() for word in _LETTERED.findall(query) if not script.search(word)}
    return bool(theirs) and not theirs.isdisjoint(word.casefold() for word in _LETTERED.findall(answer))


def tongue(text: str) -> str | None:
    """`language` of a text, read again without its digits where it tells none and is not ASCII: a Chinese or
    Japanese text written without spaces is one token, and a figure in it (`357克`) made it an identifier whole."""
    told = language(text)
    if told is None and not text.isascii():
        return language(DIGITS.sub(" ", text))
    return told


def answered_in(answer: str, asked: str) -> bool:
    """Whether a clause of the answer is written in the query's language: an answer opening in the user's language
    and going on in the app's (a reply followed by its source's lines), or a tagline in the user's language after a
    word in another (`贈り物に` and a full-width colon), answers the user in theirs. A clause too short for
    `language` is read by its function words too (`Neue Dokumente werden montags eingespielt`)."""
    return any(asked in (tongue(clause), leaning(clause)) for clause in _CLAUSE_END.split(answer) if clause.strip())


def written_apart(answer: str, query: str) -> bool:
    """Whether the answer is in another language than the query, as far as `language` tells: two languages, or
    one told by a script the other text is not written in (an English line for a Thai one, whose few words tell no
    language)."""
    answered, asked = tongue(answer), tongue(query)
    if answered is None or asked is None:
        told = answered or asked
        if told is not None and told in SCRIPTS:
            return True
        # Read leniently: one frequent word tells a short text's language.
        answered, asked = leaning(answer), leaning(query)
        return answered is not None and asked is not None and answered != asked
    return answered != asked

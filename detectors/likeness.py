"""How alike two short texts are in words, and which language a text is written in, without word lists per app:
what `dify_classifier_drift` and `task_derailment` compare run over run."""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Sequence

# The plane's ranges looked at: all but CJK ideographs (extension A and the unified block), Hangul syllables,
# surrogates and private use, three quarters of the plane and no mark in any Unicode version (letters, Lo; Cs; Co):
# a worker's start-up looked up 65,000 categories for this (8 ms of CPU).
_MAY_HOLD_MARKS = ((0x300, 0x3400), (0x4DC0, 0x4E00), (0xA000, 0xAC00), (0xD7A4, 0xD800), (0xF900, 0x10000))


def _marks() -> str:
    """The Basic Multilingual Plane's combining marks (Unicode category M) as a character-class body: the vowel signs
    and viramas of Devanagari, Tamil, Bengali, Sinhala, Arabic's vowel marks, which `\\w` does not match, so that
    `मुआवज़ा` and `விலை` are one word each, not none."""
    spans: list[tuple[int, int]] = []
    for point in itertools.chain.from_iterable(range(start, end) for start, end in _MAY_HOLD_MARKS):
        if unicodedata.category(chr(point)).startswith("M"):
            if spans and spans[-1][1] == point - 1:
                spans[-1] = (spans[-1][0], point)
            else:
                spans.append((point, point))
    return "".join(f"{chr(a)}-{chr(b)}" if b > a else chr(a) for a, b in spans)


MARK = _marks()
# A character of a word: a letter, or a combining mark after one. A word pattern is a letter, then these: `\w`
# alone cuts a Tamil or Hindi word at each vowel sign.
WORD_CHARACTER = rf"(?:[^\W\d_]|[{MARK}])"
_LETTERS = re.compile(rf"[^\W\d_]{WORD_CHARACTER}{{2,}}")
# Scripts written without spaces between words: Chinese, Japanese, Thai, Lao, Khmer, Myanmar.
UNSPACED_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]+")


@functools.lru_cache(maxsize=8192)  # an app's past texts are read again on each of its runs judged
def features(text: str) -> frozenset[str]:
    """Words by their first five letters (accents dropped, so `envío` meets `envio`) and character pairs of runs
    of scripts written without spaces (Chinese, Japanese, Thai…)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    found = {word[:5] for word in _LETTERS.findall(plain) if not UNSPACED_RUN.match(word)}
    for run in UNSPACED_RUN.findall(text):
        found.update(run[i : i + 2] for i in range(max(len(run) - 1, 1)))
    return frozenset(found)


def similarities(one: frozenset[str], others: Sequence[frozenset[str]]) -> list[float]:
    """Cosine of `one` with each of `others`, features weighted by their rarity among `others` (idf, squared):
    words most of them hold say little."""
    held: dict[str, int] = {}
    for other in others:
        for feature in other:
            held[feature] = held.get(feature, 0) + 1
    size = len(others) + 1
    weight = {f: math.log(size / (held.get(f, 0) + 0.5)) ** 2 for f in one.union(*others)}
    norm = math.sqrt(math.fsum(map(weight.__getitem__, one)))
    found = []
    for other in others:
        shared = one & other
        found.append(
            math.fsum(map(weight.__getitem__, shared)) / (norm * math.sqrt(math.fsum(map(weight.__getitem__, other))))
            if shared
            else 0.0
        )
    return found


# The script of a text decides its language where one language is written in it; Latin texts are told by their
# most frequent short words.
_SCRIPTS = [
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("arabic", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("devanagari", re.compile(r"[\u0900-\u097f]")),
    # The other scripts of South and Southeast Asia, the Caucasus and the Horn of Africa, each written by one
    # language or one family (Bengali and Assamese), by their Unicode blocks.
    ("bengali", re.compile(r"[\u0980-\u09ff]")),
    ("gurmukhi", re.compile(r"[\u0a00-\u0a7f]")),
    ("gujarati", re.compile(r"[\u0a80-\u0aff]")),
    ("oriya", re.compile(r"[\u0b00-\u0b7f]")),
    ("ta", re.compile(r"[\u0b80-\u0bff]")),
    ("te", re.compile(r"[\u0c00-\u0c7f]")),
    ("kn", re.compile(r"[\u0c80-\u0cff]")),
    ("ml", re.compile(r"[\u0d00-\u0d7f]")),
    ("si", re.compile(r"[\u0d80-\u0dff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("lo", re.compile(r"[\u0e80-\u0eff]")),
    ("my", re.compile(r"[\u1000-\u109f]")),
    ("km", re.compile(r"[\u1780-\u17ff]")),
    ("ka", re.compile(r"[\u10a0-\u10ff]")),
    ("hy", re.compile(r"[\u0530-\u058f]")),
    ("ethiopic", re.compile(r"[\u1200-\u137f]")),
    ("latin", re.compile(r"[a-zA-Z\u00c0-\u024f\u1e00-\u1eff]")),
]
# The languages told by their script alone, by that script.
SCRIPTS = {name: pattern for name, pattern in _SCRIPTS if name != "latin"}
_WORD_A_CHARACTER = ("ja", "zh", "ko")
# Tokens holding a digit, `@` or `/` (keys, SKUs, links) are no words of any language.
_IDENTIFIER = re.compile(r"\S*[\d@/]\S*")
# Letters only Vietnamese writes (with its tones), among Latin scripts.
_VIETNAMESE = re.compile(r"[ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
# Frequent words of two letters or more (one letter is a word in too many languages: `i`, `a`, `e`, `o`, `y`), in
# each language's own most frequent forms.
_COMMON_WORDS = {
    # English's last words are others' too (`on` Finnish, `come` Italian): listed, they tell neither.
    "en": "the and is are you your with for this that of to it was can what how do does have my on come",
    "de": "der die das und ist nicht mit sie ein eine ich auf für den dem wird zu wie was kann mein werden sind bis",
    # Spanish's `y` ("and"), the one letter no other language here writes as a word.
    "es": "el la los las que es un una por para con del se mi cómo qué puedo tiene hay y",
    "fr": "le les et est des une pour avec dans vous pas du au sur je mon ma qui il",
    "pt": "os que é um uma para com não do da em meu minha como você posso",
    "it": "il lo gli che è un una con non della di sono come mio posso quanto",
    "nl": "de het een en is van niet met voor ik je mijn wat hoe kan zijn op dat er",
    "sv": "och att det är en ett på för med inte jag du som har vad hur kan vi till finns",
    "pl": "na się nie jest to do że co jak czy mój mam po od za",
    "tr": "ve bir bu için ile ne mi çok daha var yok kadar olarak",
    # Indonesian and Malay, one language here (Malay's own words last).
    "id": "dan yang di ini itu untuk dengan tidak ada saya apa bisa berapa ke dari kalau harus boleh sila",
    "cs": "je se na že to do jak co mám není pro jsem za",
    "ro": "și în de la cu nu este un pentru ce cum mai sunt",
    "fi": "ja on ei se että en kuinka mitä voin minun onko",
    "sw": "na ya wa kwa ni za la katika je nini gani hii",
    # Languages of Europe and Asia written in Latin letters whose texts the lists above leave untold, each by words
    # none of the others writes (a word two lists share tells neither). Danish and Norwegian write one set of these
    # words, as do Croatian, Bosnian and Serbian: each family is one language here.
    "da": "og ikke jeg af av hvad hva hvordan hvor mig dig meg deg skal vil",
    "is": "það ekki ég að hvað hvernig eru þú þetta fyrir",
    "ca": "els és amb què puc dels molt però aquest també",
    "hr": "ili kako koji što nije ste imam može ovo biti ako ali jer samo kod preko",
    "et": "mis kuidas minu mul palun kui oli ning palju ka siis aga",
    "lt": "ir yra kad tai kaip mano iš už buvo labai",
    "hu": "az egy hogy nem ez vagy mint csak vagyok",
    "sk": "sa čo alebo sme ktorý",
    "tl": "ang ng mga ay ko paano ito",
    "sq": "dhe në është një për nuk të që",
}
# Only the words one language of these writes tell it ("di" is Italian and Indonesian, "per" Italian and more).
_SHARED = {word for name, words in _COMMON_WORDS.items() for word in words.split() for other, others in
           _COMMON_WORDS.items() if other != name and word in others.split()}  # fmt: skip
_COMMON = {name: frozenset(words.split()) - _SHARED for name, words in _COMMON_WORDS.items()}
# Words that tell a short clause's language (`leaning`) but turn up in texts of others too often to tell a text's
# (`in` in German and Dutch; English's short words in the other languages' texts naming things in English).
_LEANING = {**_COMMON, "en": _COMMON["en"] | {"in", "when", "will", "from", "our"}}


_FEW_WORDS = 20  # words of a text at most that one frequent word tells the language of (`leaning`)


@functools.lru_cache(maxsize=8192)
def language(text: str) -> str | None:
    """The language (or, for Cyrillic, Arabic and Devanagari, the script) `text` is written in: its script where
    one language writes it, else its frequent words, two of one language at least and twice as many as of any other;
    None when nothing tells."""
    return _told(text[:400], 2, 2)


@functools.lru_cache(maxsize=8192)
def leaning(text: str) -> str | None:
    """`language` read leniently and whole, for a clause, a short answer or a prompt whose instructions come first:
    its script, else the language more of whose frequent words it holds than any other's, one at least in a text of
    `_FEW_WORDS` words (`Neue Dokumente werden montags eingespielt`), two in a longer one: a frequent word turns up
    in every few sentences of its language, so one alone in a long text (a header's `Mon` in a JSON body) tells
    nothing."""
    return _told(text, 1, 1)


def _told(head: str, least: int, ahead: int) -> str | None:
    """`head`'s script, else the language of which it holds `least` frequent words and more than `ahead` times as
    many as of any other (at least as many for `ahead` of 2)."""
    head = _IDENTIFIER.sub(" ", head)
    counts = {name: len(pattern.findall(head)) for name, pattern in _SCRIPTS}
    for name in _WORD_A_CHARACTER:  # a character of these writes about what a word does in the others
        counts[name] *= 3
    script = max(counts, key=counts.__getitem__)
    if not counts[script]:
        return None
    if script == "zh" and counts["ja"]:
        return "ja"
    if script != "latin":
        return script
    if _VIETNAMESE.search(head):
        return "vi"
    words = _WORD.findall(head.lower())
    lists = _LEANING if least == 1 else _COMMON
    least = max(least, 2) if len(words) > _FEW_WORDS else least
    hits = sorted(((sum(word in common for word in words), name) for name, common in lists.items()), reverse=True)
    (best, name), (second, _) = hits[0], hits[1]
    return name if best >= least and (best >= 2 * second if ahead == 2 else best > second) else None

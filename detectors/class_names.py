"""How a question classifier's class names are read: which is the catch-all, and whether a question names a class
by its words' stems. Used by `dify_classifier_drift`."""

from __future__ import annotations

import functools
import re

from detectors.likeness import UNSPACED_RUN

# A catch-all class's name, in the languages of the apps seen (an app's class names are in its own language: German
# "Sonstiges", Czech "Ostatní", Chinese "其他", Georgian "სხვა", Armenian "Այլ"), and scripts without spaces by the
# word alone.
CATCH_ALL = re.compile(
    r"(?i)\b(?:other|others|else|misc|miscellaneous|unknown|fallback|general|none|default|sonstiges?|sonstige|"
    r"anderes?|allgemein|allgemeines|verschiedenes|autres?|divers|générale?|otros?|otras?|outros?|outras?|geral|"
    r"altr[oie]|generale|overige?|algemeen|övrigt|annat|allmänt|andet|annet|øvrig|inne|pozostałe|ogólne|ostatní|"
    r"jiné|obecné|diğer|genel|другое|прочее|общее|інше|загальне|άλλα|άλλο|γενικά|lainnya|umum|khác|muut|muu|yleinen|"
    r"altele|egyéb|mengineyo|nyingine|अन्य|सामान्य|אחר|כללי|أخرى|عام|სხვა|სხვადასხვა|ზოგადი|այլ|այլն|ընդհանուր|"
    r"digər|ümumi|басқа|жалпы|boshqa|umumiy|бусад|ерөнхий|سایر|دیگر|عمومی|অন্যান্য|সাধারণ|"
    # (Icelandic, Croatian, Serbian and Bosnian, Slovene, Malay, Catalan, Estonian, Lithuanian, Latvian; not Lithuanian
    # `kita`, Malay "we")
    r"annað|önnur|almennt|ýmislegt|ostalo|općenito|opće|opšte|drugo|splošno|lain-lain|altres|üldine|muud|"
    r"bendra|cits|citi|vispārīgi|"
    # (Kinyarwanda and Kirundi, Luganda, Zulu and Xhosa, Somali, Yoruba, Hausa, Amharic and Tigrinya, Irish, Welsh,
    # Maltese, Basque, Kyrgyz, Tajik, Sinhala, Tamil, Telugu)
    r"ibindi|ebirala|okunye|ezinye|miiran|wasu|ሌላ|ሌሎች|ልዩ ልዩ|ካልእ|eile|ginearálta|arall|eraill|cyffredinol|"
    r"oħrajn|ieħor|ġenerali|bestelakoak|orokorra|башка|жалпы|дигар|умумӣ|වෙනත්|අනෙකුත්|மற்றவை|பொது|ఇతర)\b"
    r"|其他|其它|その他|기타|อื่น|ອື່ນ|အခြား|ផ្សេង"
)
_WORD = re.compile(r"[^\W\d_]{2,}")
# Ethiopic (Amharic, Tigrinya) writes a syllable a character: three are a word of six letters or so ("ክፍያ", fee), and
# a preposition joins the next word ("በመኖሪያ", in the dormitory).
ETHIOPIC = re.compile("[\u1200-\u137f]")


_SYLLABLES = range(0x1200, 0x1358)  # Ethiopic's syllables: a row of eight per consonant, one per vowel


@functools.lru_cache(maxsize=1024)
def ethiopic_stem(word: str) -> str:
    """An Ethiopic word's stem as a pattern: its syllables but the last (three kept at least), the last of them by its
    consonant alone: an ending changes the vowel of the syllable before it (`ጥቅሎች`, bundles, and `ጥቅል`, a bundle:
    `ሎ` and `ል` are one consonant), which a letter-wise match misses; the other syllables must agree, vowel too (the
    root of `የስራ`, "of work", stands in `አይሰራም`, "does not work", with another vowel)."""
    kept = word[: max(3, len(word) - 1)]
    last = ord(kept[-1])
    if last not in _SYLLABLES:
        return re.escape(kept)
    row = last - (last - 0x1200) % 8
    return f"{re.escape(kept[:-1])}[{chr(row)}-{chr(row + 7)}]"


@functools.lru_cache(maxsize=4096)  # class names on every run, questions as they recur
def words(text: str) -> frozenset[str]:
    """Words of four letters or more (three Ethiopic syllables), lower case, without a plural s, and runs of scripts
    written without spaces."""
    return frozenset(
        word if UNSPACED_RUN.match(word) else word.rstrip("s")
        for word in _WORD.findall(text.lower())
        if len(word) >= 4 or UNSPACED_RUN.match(word) or (len(word) == 3 and ETHIOPIC.match(word))
    )


@functools.lru_cache(maxsize=1024)  # a classifier node's class names are the same on each of its runs
def stems(name: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """Two patterns over `_spoken`: whether the question names the class whole (each of its words by its stem) and
    whether it names it at all (one word). A word's stem: a short word as a word's start (" motor" in "motorbike"),
    a longer one by a run of its letters three fifths of it long at least, its start anywhere ("rückgabe" in
    "zurückgeben", "technik" in "technischen") and a run further in only opening a word ("account" not in
    "discount"), a Chinese or Japanese one inside a run ("退货" in "我想退货"), an Ethiopic one inside a word
    ("መኖሪያ" in "በመኖሪያ"): inflections and compounds name a class, a shared syllable does not. None for a name without
    words."""
    stems: list[str] = []
    for word in sorted(words(name)):
        if UNSPACED_RUN.match(word):
            runs = [re.escape(word)]
        elif ETHIOPIC.match(word):
            stems.append(ethiopic_stem(word))
            continue
        elif len(word) <= 5:
            runs = [re.escape(f" {word}")]
        else:
            # The word's start anywhere in a word ("rückg" in "zurückgeben"); a run further in only opening a word:
            # "discount" holds "count" of "account", and names no account.
            size = max(5, -(-len(word) * 3 // 5))
            runs = [re.escape(word[:size])]
            runs += [rf"(?<!\w){re.escape(word[i : i + size])}" for i in range(1, len(word) - size + 1)]
        stems.append("|".join(runs))
    if not stems:
        return None
    whole = re.compile("".join(f"(?=.*?(?:{stem}))" for stem in stems), re.S)
    return whole, re.compile("|".join(stems))


# What joins two subjects in one class name ("Complaints & compensation", "Khiếu nại và bồi thường",
# "ごみ・リサイクル"), in the languages of the catch-all's names and of the apps seen since (Bantu `na`, elided `n'`
# before a vowel: `Ibiciro n'ubwishingizi`; Amharic `እና`, Azerbaijani `və`, Malay and Indonesian `dan`, Mongolian
# and Kazakh, Irish `agus`, Basque `eta`, Albanian `dhe`, Georgian `და`, Sinhala `සහ`, Hindi `और`).
_JOIN = re.compile(
    r"\s*[&/,;+・、]\s*|\s+(?:and|or|und|oder|et|ou|y|o|e|i|en|og|och|oraz|lub|ja|és|ve|và|hoặc|и|или|і|та|або|και|"  # noqa: RUF001
    r"na|እና|və|ва|dan|ба|және|agus|eta|dhe|ir|și|და|සහ|और|एवं)\s+|\s+n['’](?=\w)"  # noqa: RUF001
    r"|和|与|及|および|및",
    re.I,
)


@functools.lru_cache(maxsize=1024)  # a classifier node's class names are the same on each of its runs
def parts(name: str) -> tuple[re.Pattern[str], ...]:
    """The subjects a class name joins, each as its literal phrase (two words or more, one of five letters or more,
    three Ethiopic syllables, or two characters of a script without spaces): none for a name of one subject."""
    found = []
    for part in _JOIN.split(name.strip()):
        part = " ".join(part.casefold().split())
        long = len(part) >= 5 or (len(part) >= 3 and ETHIOPIC.match(part) is not None)
        if len(part.split()) >= 2 or long or (UNSPACED_RUN.fullmatch(part) and len(part) >= 2):
            found.append(re.compile(part if UNSPACED_RUN.match(part) else rf"(?<!\w){re.escape(part)}(?!\w)"))
    return tuple(found) if len(found) >= 2 else ()


@functools.lru_cache(maxsize=4096)  # questions recur
def spoken(question: str) -> str:
    """The question's `_words`, each led by a space: one string a class word's stem is looked for in."""
    return "".join(f" {word}" for word in sorted(words(question)))


@functools.lru_cache(maxsize=1024)
def is_catch_all(name: str) -> bool:
    return bool(CATCH_ALL.search(name))


# Thai, Lao, Myanmar and Khmer: a syllable with its vowel and tone marks is two to four code points, so a pair of them
# is no word (Thai "บา" is in "บาท", baht, and "ระบาด", outbreak); a run of four is one.
SYLLABIC = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
SYLLABIC_RUN = 4
HIRAGANA = re.compile("[\u3040-\u309f]+")


@functools.lru_cache(maxsize=4096)  # class names on every run, questions as they recur
def marks(text: str) -> frozenset[str]:
    """What shows a text speaks of something: its `words` of a spaced script, its runs of Chinese or Japanese two
    characters long (not hiragana alone: Japanese grammar; nor a middle dot joining two), its runs of Thai, Lao,
    Myanmar or Khmer four long."""
    found = {word for word in words(text) if not UNSPACED_RUN.match(word)}
    for run in UNSPACED_RUN.findall(text):
        size = SYLLABIC_RUN if SYLLABIC.match(run) else 2
        found.update(run[i : i + size] for i in range(len(run) - size + 1))
    return frozenset(mark for mark in found if not HIRAGANA.fullmatch(mark) and "・" not in mark)


@functools.lru_cache(maxsize=4096)  # an app's past questions against the same few names
def marked(text: str, name: str) -> frozenset[str]:
    """The `marks` of the class name `name` that `text` holds: a word as `mentions` finds it, a run inside it."""
    asked = [word for word in words(text) if not UNSPACED_RUN.match(word)]
    return frozenset(
        mark for mark in marks(name) if (mark in text if UNSPACED_RUN.match(mark) else _inside(mark, asked))
    )


def _inside(word: str, asked: list[str]) -> bool:
    """Whether one of the words `asked` and `word` is inside the other, half of it at least (`mentions`)."""
    for other in asked:
        short, long = sorted((word, other), key=len)
        if ETHIOPIC.match(short) and len(short) * 2 >= len(long):
            if re.search(ethiopic_stem(short), long) or re.search(ethiopic_stem(long), short):
                return True
        elif len(short) >= 4 and len(short) * 2 >= len(long) and short in long:
            return True
    return False


@functools.lru_cache(maxsize=4096)  # questions recur, against the same few names
def mentions(question: str, name: str, whole: bool = False) -> bool:
    """Whether the question names the class at all (`whole`: each word of its name), stricter than `stems` (whose
    runs inside a word take "nking" of "banking" in "thinking"): a word of the name and one of the question, one
    inside the other and half of it at least ("laporan", Indonesian "syarat" in "Persyaratan", "cancel" in
    "cancellations"), or a run of a script without spaces of the name inside the question ("退货" in "我想退货")."""
    asked = [word for word in words(question) if not UNSPACED_RUN.match(word)]

    def said(word: str) -> bool:
        return word in question if UNSPACED_RUN.match(word) else _inside(word, asked)

    named = words(name)
    return bool(named) and (all if whole else any)(map(said, named))

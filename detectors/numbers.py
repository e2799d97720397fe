# ruff: noqa: RUF001, RUF003  (number words, units and signs in Cyrillic, Greek and other scripts look like Latin)
"""Numbers as a text writes them, for `hallucination`: which numbers a text states (digits in the notations of
the languages read, with their separators and spaces; number words; Chinese and Japanese numerals), the
values each can stand for, what each counts (a time unit, money, a percentage, the next word), the
single-digit counts and quantities, and every value a source states (durations in every time unit too).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

# Numbers worth checking: two or more digits, or decimals; list numbering ("1.") and labels ("#35") are not facts.
# Only Latin letters and digits glue onto a number before it ("A4", "x86"): Chinese and Japanese write a number
# against its unit or noun ("45天", "300元"), which Unicode `\w` would have counted as part of a word. A unit
# may follow it unspaced ("31kg", "20th", "24h"), but letters then a digit are a code ("98e7", "5f04a2"), and so
# are hex letters then a dash (a UUID's "-99bc-"). Separators
# inside a number are read both ways: "14,90" and "1.250" are 14.90 and 1250 in Spanish and German. A space
# (or a no-break one) between groups of three digits is a thousands separator ("1 250,00" in French), unless
# a group starts with 0 or a separated group follows ("2025-01 330.374,09" is a month and an amount), or a dot or
# comma and three digits end it, a group in another notation ("42 MRM 373 151.735 km": a plate's end, a distance).
# The currencies written against their amount are the exception to the letters glued before: the ringgit's, the
# rupiah's, the rupee's and the rand's ("RM39.90", "Rp50.000", "Rs500", "R185").
_NUMBER = re.compile(
    r"(?=\d)(?:(?<![A-Za-z0-9_.,#])|(?<=(?<![A-Za-z])(?:RM|Rp|Rs))|(?<=(?<![A-Za-z])R))"
    r"(?:[1-9]\d{0,2}(?:[ \u00a0\u202f]\d{3})+(?:[.,](?!\d{3}(?!\d))\d+)?(?![.,]?\d)"
    r"|\d(?:\d|[.,](?=\d))*)(?![0-9_]|[A-Za-z]+[0-9_]|[A-Fa-f]+-)"
)
_GROUP_SPACE = re.compile("[ \u00a0\u202f]")
# Number words a source may use where an answer writes digits (two digits and more: single digits are not
# checked), English, Spanish, German, then Chinese/Japanese numerals up to 99.
_WORDS = {
    word: value
    for value, words in {
        10: "ten diez zehn", 11: "eleven once elf", 12: "twelve doce zwölf", 13: "thirteen trece dreizehn",
        14: "fourteen catorce vierzehn", 15: "fifteen quince fünfzehn", 16: "sixteen dieciséis sechzehn",
        17: "seventeen diecisiete siebzehn", 18: "eighteen dieciocho achtzehn", 19: "nineteen diecinueve neunzehn",
        20: "twenty veinte zwanzig", 24: "veinticuatro", 30: "thirty treinta dreißig", 40: "forty cuarenta vierzig",
        50: "fifty cincuenta fünfzig", 60: "sixty sesenta sechzig", 70: "seventy setenta siebzig",
        80: "eighty ochenta achtzig", 90: "ninety noventa neunzig", 100: "hundred cien hundert",
    }.items()
    for word in words.split()
}  # fmt: skip
_CJK_DIGITS = "零一二三四五六七八九"
# A count: one digit (or a range of them) before a word or a Chinese/Japanese unit ("5 saunas", "2-3 Werktage",
# "7天"). Single digits are too common to check alone; next to what they count, against the sources' count
# of the same thing, they are facts. A range is written with a dash or a tilde, or a word between ("5 to 7
# days", "5 bis 7", "5 a 7", "5 à 7", "5 tot 7", "5 do 7", "5 e 7", "5至7"), so that its first end counts too.
RANGE = r"\s?[-\u2013~\uff5e\u81f3\u5230]\s?|\s(?:to|and|or|bis|und|oder|a|al|y|o|à|et|ou|e|até|tot|en|do|i)\s"
_COUNT = re.compile(
    r"(?<![A-Za-z0-9_.,#:/])(\d)(?:(?:" + RANGE + r")(\d))?(?![\d.,:/])\s?-?([\u3040-\u30ff\u4e00-\u9fff]|[^\W\d_]{2,})"
)
_CJK_NUMBER = re.compile(f"([{_CJK_DIGITS[1:]}]?)十([{_CJK_DIGITS[1:]}]?)")
# Digits 2-9 as words (a source writing "five working days" supports an answer's "5"; "tre tabletter à 389 kr"
# multiplies by 3), and "both": English, Spanish, German, French, Portuguese, Italian, Dutch, Swedish, Danish and
# Norwegian, Polish, Czech, Turkish, Russian, Ukrainian, Greek, Indonesian, Swahili, Hindi, Arabic, Hebrew
# (Vietnamese and Korean numerals are also everyday words, Thai is written unspaced: left out); Chinese and
# Japanese numerals are read one character at a time (两 is 2).
SMALL_WORDS = {
    word: value
    for value, words in {
        1: "one uno una eins ein eine un une",
        2: "two dos zwei deux both beide beiden ambos ambas dois duas due entrambi entrambe twee två båda bägge to "
           "begge dwa dwie dwóch oba obie obaj dva dvě obě iki два две оба обе обидва обидві δύο dua keduanya mbili "
           "दो दोनों اثنان اثنين كلا שניים שתיים",
        3: "three tres drei trois três tre drie trzy tři üç три τρία τρεις tiga tatu तीन ثلاثة שלוש שלושה",
        4: "four cuatro vier quatre quatro quattro fyra fire cztery čtyři dört четыре чотири τέσσερα τέσσερις empat "
           "nne चार أربعة ארבע ארבעה",
        5: "five cinco fünf cinq cinque vijf fem pięć pět beş пять п'ять πέντε lima tano पांच पाँच خمسة חמש חמישה",
        6: "six seis sechs sei zes sex seks sześć šest altı шесть шість έξι enam sita छह ستة שש שישה",
        7: "seven siete sieben sept sete sette zeven sju syv siedem sedm yedi семь сім επτά εφτά tujuh saba सात سبعة "
           "שבע שבעה",
        8: "eight ocho acht huit oito otto åtta otte osiem osm sekiz восемь вісім οκτώ οχτώ delapan nane आठ ثمانية "
           "שמונה",
        9: "nine nueve neun neuf nove negen nio ni dziewięć devět dokuz девять дев'ять εννέα εννιά sembilan tisa नौ "
           "تسعة תשע תשעה",
        12: "dozen",
    }.items()
    for word in words.split()
}  # fmt: skip
_CJK_DIGIT = re.compile("[一二三四五六七八九两]")
# Words, to look number words up (a set lookup per word costs less than one pattern of all of them).
_LETTERS = re.compile(r"[^\W\d_]+")
# Time units in the languages the number words cover, by their length in days (a month 30 days, a year 365;
# a year is also 12 months, checked apart). A modifier may stand between ("5 business days", "5 Werktage").
TIME_UNITS: dict[str, float] = {
    "second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365,
}  # fmt: skip
_TIME_WORDS = {
    "second": r"seconds?|secs?|sekunden?|segundos?|secondes?|secondi|seconden|sekunder|sekund[yi]?|saniye|"
              r"секунд[аы]?|δευτερόλεπτα|detik|sekunde|सेकंड|ثوان[ٍي]?|ثانية|שניות|ثانیه|վայրկյան|წამ|วินาที|giây|초|秒",
    "minute": r"minutes?|mins?|minuten?|minutos?|minuti|minuter|minut[yě]?|dakika|минут[аы]?|хвилин[аи]?|λεπτά|"
              r"menit|मिनट|دقائق|دقيقة|דקות|דקה|دقیقه|րոպե|წუთ|นาที|phút|분|分钟|分間|分",
    "hour": r"hours?|hrs?|stunden?|horas?|heures?|ore|uur|timm(?:ar|e)|godzin[ay]?|hodin[ay]?|saat|час(?:а|ов)?|"
            r"годин[аи]?|ώρες|ώρα|jam|घंटे|घंटा|ساعات|ساعة|ساعت|שעות|שעה|ժամ|საათ|ชั่วโมง|giờ|시간|小时|小時|時間",
    "day": r"days?|(?:werk|arbeits)?tag(?:e|en)?|d[ií]as?|jours?|giorni|giorno|dagen|dag(?:ar)?|dni|dzień|dn[íiy]|"
           r"den|gün|дн(?:я|ей)|день|днів|дні|ημέρες|μέρες|hari|siku|दिन|أيام|يوم|روز|ימים|ימי|יום|օր|დღ|วัน|ngày|(?:个)?工作日|営業日|天|日",
    "week": r"weeks?|wochen?|semanas?|semaines?|settimane?|settimana|weken|veck(?:or|a)|uger|uker|tygodni(?:e|a)?|"
            r"týdn[ůy]|týden|hafta|недел[ьяи]|тижн(?:і|ів)|тиждень|εβδομάδες|minggu|wiki|सप्ताह|हफ्ते|أسابيع|أسبوع|"
            r"שבועות|שבוע|هفته|շաբաթ|კვირ|สัปดาห์|tuần|周|週間|星期",
    "month": r"months?|monat(?:e|en)?|mes(?:es)?|mois|mesi|mese|maanden|maand|månad(?:er)?|måneder|miesi[ąę]c(?:e|y)?|"
             r"měsíc(?:e|ů)?|ay|месяц(?:а|ев)?|місяц(?:і|ів)?|μήνες|bulan|miezi|mwezi|महीने|महीना|أشهر|شهر|"
             r"חודשים|חודש|ماه|ամիս|ամս|თვ[ეი]|เดือน|tháng|개월|个月|か月|ヶ月|カ月",
    "year": r"years?|jahr(?:e|en)?|años?|années?|anni|anno|anos?|jaar|jaren|år|lat|rok(?:u|y)?|let|yıl|год(?:а)?|"
            r"лет|рок(?:и|ів)?|років|χρόνια|έτη|tahun|miaka|mwaka|साल|वर्ष|سنوات|سنة|سال|שנים|שנה|տարի|წელ|წლ|ปี|năm|년|年",
}  # fmt: skip
# A time of day: a digit or two with minutes after a colon, a dot or an "h" ("21:30", "21.30", "21h30"), or with am/pm
# ("3 pm", "9:30 a.m."). A date or a decimal is read as one too, and only adds values a source is read to hold.
_CLOCK_TIME = re.compile(
    r"(?<![\d.,:])([01]?\d|2[0-3])(?:\s?[:.h]\s?([0-5]\d)(?!\d))?(?!\d)(?:\s?([ap])\.?m\.?(?![^\W\d_]))?",
    re.IGNORECASE,
)
# Words after a digit that make it a time of day, not a count: "9 am", "7 Uhr", "8 heures", "7 बजे", "7 giờ", "7时".
_CLOCK = frozenset({
    "am", "pm", "uhr", "heures", "heure", "hs", "hrs", "h", "uur", "godz", "godzina", "hodin", "hodiny", "часов",
    "часа", "ч", "годин", "години", "ώρα", "बजे", "बज", "giờ", "jam", "pukul", "saa", "点", "點", "時", "시", "โมง",
})  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# Links, e-mail addresses, phone numbers and masked numbers: identifiers whose digits are no figures. A phone
# number starts with + or 0 ("018-44 21 00", "+90 5478950413"), or is three groups and more joined by dashes,
# dots or slashes ("555-123-4567"), or of four digits ("6313 8637 6926"); seven digits at least (`claims`),
# never a date ("2024-05-12", "15.12.2026") nor thousands in groups of three ("12 345 678", "12.345.678"). Two
# asterisks before a digit open Markdown's bold ("**95 minutes**"), no mask: "****4788" is one.
_IDENTIFIER = re.compile(
    r"(?=[hwXx*•+(\d])"  # what each begins with: told at one character, most positions are passed at once
    r"(?:\b(?:https?://|www\.)\S+|(?:(?!\*\*\d)[Xx*•]{2,}[ -]?)+\d+"
    r"|(?<![\w.,])(?!\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?!\d|[./-]\d)|[1-9]\d{0,2}([.,])\d{3}(?:\1\d{3})+(?![\d]|[.,-]\d))"
    r"(?:(?:\+\d{1,3}|\(?0\d{1,4}\)?)(?:[ \u00a0./-]?\(?\d{1,10}\)?){1,5}"
    r"|\d{2,4}(?:[./-]\d{2,4}){2,4}|\d{3,4}(?:[ \u00a0]\d{4}){2,3})(?![\d]|[.,]\d)"
    # The clock round, an idiom, not a duration ("24/7", "a 24-hour line", "24h-Notdienst"): "24 hours" is checked.
    r"|(?<!\d)24(?:\s?/\s?7|[-\u2011](?:hours?|stunden|timmars|saatlik|horas|heures|ore|uur)|h(?![^\W\d_])))"
)
# What a number counts, read from what follows it: a time unit (a word may stand between: "5 business days",
# "25 vacation days"), money, a percentage, or else the next word.
_TIME = re.compile(
    r"\s?-?\s?(?:[^\W\d_]+\s)?(?:" + "|".join(f"(?P<{u}>{w})" for u, w in _TIME_WORDS.items()) + r")(?![A-Za-z])",
    re.IGNORECASE,
)
# Currencies, as symbols and codes or names, after a number or before it ("SEK 2,900", "₹21,500", "R$ 50"); a
# symbol or a Chinese, Japanese or Korean currency character whatever follows ("30,000원입니다"), and the baht's word
# too: Thai writes no space between words ("35,000 บาทต่อซี่").
_CURRENCY = (
    r"[€$£¥元円원₹₺₽₩₫₸₪₴₦₱฿֏₾]|บาท|(?:eur|euros?|usd|dollars?|yuan|yen|rmb|chf|gbp|sek|nok|dkk|kr|kronor|kroner|pln|zł|zl"
    r"|czk|kč|huf|ft|try|tl|lira|inr|rs|rupees?|रुपये|rub|руб(?:лей|ля)?|uah|грн|kzt|тенге|ils|nis"
    r"|שקל(?:ים)?|ש[\"\u05f4]ח|шекел(?:ей|я|ь)?|shekels?|تومان|ریال|دلار|դրամ|ლარ(?:ი|ის)?|aed|sar|درهم|ريال"
    r"|thb|vnd|đồng|idr|rp|rm|kes|ksh|brl|r\$|mxn|krw|jpy|cad|aud|nzd|zar|egp|جنيه"
    # The euro and the dollar by their names in other scripts, and currencies named by a word
    r"|ευρώ|δολάρι(?:α|ο)?|евро|долл(?:ар(?:ов|а|ы)?)?|יורו|דולר(?:ים)?|يورو|دولار(?:ات|ًا)?|欧元|美元|ユーロ|ドル|유로|달러"
    r"|lei|reais|pesos|forint|dinara?|динара?|leva|лева|kuna|rupiah|ringgit|baht|hryvnias?|гривень|гривн[яиі])"
    r"(?![^\W\d_])"
)
_MONEY = re.compile(r"\s?(?:" + _CURRENCY + ")", re.IGNORECASE)
_CURRENCY_CODE = re.compile(_CURRENCY, re.IGNORECASE)  # "TL" is no tera-litre
_MONEY_BEFORE = re.compile(r"(?<![^\W\d_])(?:" + _CURRENCY + r"|(?-i:R))\.?\s?$", re.IGNORECASE)
_SHARE = re.compile(r"\s?(?:%|(?:percent|prozent|por ciento|pour cent)(?![A-Za-z]))", re.IGNORECASE)
# "481kcalです": kcal; a Chinese, Japanese or Korean counter is one character ("4位", "4명").
_NEXT_WORD = re.compile(r"\s?-?([\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]|[A-Za-z]{2,}|[^\W\d_]{2,})")
# The units a single digit is a quantity in, a fact however small ("6 Sekunden", "8%", "7小时", "€5").
MEASURES = {*TIME_UNITS, "money", "%"}
# Scale words after a number ("1.1 million", "1,1 Mio.", "110万"): English, Spanish, German, French, Portuguese,
# Italian, Dutch, Polish, then Chinese, Japanese and Korean. ("billion" is read as 10^9, the English one.)
_SCALES = {
    **dict.fromkeys(("thousand", "mil", "tausend", "mille", "duizend", "tys", "千", "천"), 1e3),
    **dict.fromkeys(("万", "萬", "만"), 1e4),
    **dict.fromkeys(("million", "millions", "millón", "millones", "millionen", "mio", "milhão", "milhões", "milione",
                     "milioni", "miljoen", "mln", "百万"), 1e6),
    **dict.fromkeys(("亿", "億", "억"), 1e8),
    **dict.fromkeys(("billion", "billions", "milliard", "milliards", "milliarde", "milliarden", "mrd", "bilhão",
                     "bilhões", "miliardo", "miliardi", "miljard", "mld"), 1e9),
}  # fmt: skip
_SCALE = re.compile(r"\s?([^\W\d_]+|[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{1,2})")


def _token(number: str) -> str:
    """A number as written, but a separator repeated is a thousands separator and is dropped ("6,000,000" →
    "6000000"), and so is a space between groups of three digits ("1 250" → "1250")."""
    number = _GROUP_SPACE.sub("", number)
    for separator in ",.":
        if number.count(separator) > 1:
            number = number.replace(separator, "")
    return number


# Two separators and more make one number only as thousands groups, then perhaps decimals ("1.234.567,89"), or as
# South Asia's lakh and crore groups, two digits each above the thousands ("1,23,456.50", "₹12,00,000");
# otherwise ("15.12.2026", "1.2.3") the text is a date or a version, read as its parts.
_GROUPED = re.compile(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*(?:[.,]\d+)?|\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?")
_PARTS = re.compile(r"\d+")


def _found(text: str) -> Iterator[tuple[str, int, int]]:
    """Every number in `text` (`_token`) with where it ends and starts; a date written with dots or commas
    ("15.12.2026"), or a version, as its parts."""
    for match in _NUMBER.finditer(text):
        raw = match.group(0)
        if raw.count(".") + raw.count(",") > 1 and not _GROUPED.fullmatch(raw):
            for part in _PARTS.finditer(raw):
                yield part.group(0), match.start() + part.start(), match.start() + part.end()
        else:
            yield _token(raw), match.start(), match.end()


def _tokens(text: str) -> Iterator[str]:
    """Every number in `text` (`_found`)."""
    return (token for token, _, _ in _found(text))


def numbers(text: str) -> set[str]:
    """The numbers worth checking in `text`: two digits and more."""
    return {token for token in _tokens(text) if sum(c.isdigit() for c in token) >= 2}


@lru_cache(maxsize=4096)
def readings(number: str) -> frozenset[str]:
    """The values a number can stand for: its last separator as the decimal point, or, three digits
    following it, as a thousands separator ("1.250" is 1250 in German, 1.25 in English)."""
    at = max(number.rfind(","), number.rfind("."))
    if at < 0:
        return frozenset({str(int(number))})
    whole, fraction = number[:at].replace(",", "").replace(".", ""), number[at + 1 :]
    values = {f"{int(whole or '0')}.{fraction}".rstrip("0").rstrip(".")}
    if len(fraction) == 3:
        values.add(str(int(whole + fraction)))
    return frozenset(values)


# Working an answer shows: numbers (a currency or a unit before or after each) joined by one operator, times or
# plus ("5 × 11 × 3.60", "2 νύχτες × 9,2 μ. × 2,80 €", "EUR 120 + EUR 35").
_TERM = r"(?:(?:[€$£¥₹₩]|[A-Z]{2,3}\.?)\s?)?\d[\d.,]*(?:\s?(?:[^\W\d_]{1,12}\.?|[€$£¥₹₩%]))?"
_WORKING = re.compile(rf"{_TERM}(?:\s?[×x*·✕+]\s?{_TERM})+")
_OPERATORS = re.compile(r"(?<=[\s\d.€$£¥₹₩%])[×x*·✕+](?=[\s\d€$£¥₹₩A-Z])")


def workings(text: str) -> Iterator[tuple[bool, list[str]]]:
    """Each working `text` shows: whether it multiplies (else it adds), and its numbers as written."""
    if not any(sign in text for sign in "×x*·✕+"):
        return
    for working in _WORKING.finditer(text):
        signs = set(_OPERATORS.findall(working.group(0)))
        terms = [token for token, _, _ in _found(working.group(0))]
        if len(signs) == 1 and len(terms) >= 2:
            yield signs != {"+"}, terms


# A rate: a number (a currency or unit after it) per a unit: "EUR 1.79 per litre", "1,96 €/λίτρο", "0.842 GBP per
# EUR", "3 € je Stunde", "2,5 € ανά ώρα".
_RATE = re.compile(
    r"(?<![\w.,])(\d[\d.,]*)\s?([€$£¥₹₩]|[A-Z]{3}\b)?\s?"
    r"(?:/|(?<![^\W\d_])(?:per|pro|por|par|je|ανά|за|a)\s)\s?([^\W\d_]{2,})"
)
# A quantity: a number and the word after it ("150 litres", "260 λίτρα", "3000 GBP").
_QUANTITY = re.compile(r"(?<![\w.,])(\d[\d.,]*)\s?([^\W\d_]{2,})")


def _dimension(word: str) -> str:
    """A unit as rates and quantities are matched: its first four letters, accents dropped ("litre", "litres";
    "λίτρο", "λίτρα")."""
    return _thing(word)[:4]


def rates(text: str) -> Iterator[tuple[str, str, str]]:
    """Each rate `text` states: the number as written, the currency written after it (its code or sign, or ""),
    and the unit it is per."""
    for rate in _RATE.finditer(text):
        yield rate.group(1), _dimension(rate.group(2) or ""), _dimension(rate.group(3))


def quantities_of(text: str) -> Iterator[tuple[str, str]]:
    """Each number of `text` with the unit written after it (`_dimension`)."""
    for quantity in _QUANTITY.finditer(text):
        yield quantity.group(1), _dimension(quantity.group(2))


# Month names by their first three letters (English, German, Spanish, Portuguese, Italian, Dutch) or whole
# (French, Polish in the genitive a date writes).
_MONTHS = {
    **{name: i for i, names in enumerate(
        ["jan ene gen", "feb fev", "mar mär maa", "apr abr", "may mai mag mei", "jun giu", "jul lug",
         "aug ago", "sep set", "oct okt ott out", "nov", "dec dez dic"], 1) for name in names.split()},
    **{name: i for i, names in enumerate(
        ["janvier stycznia", "février lutego", "mars marca", "avril kwietnia", "maja", "juin czerwca",
         "juillet lipca", "août sierpnia", "septembre września", "octobre października", "novembre listopada",
         "décembre grudnia"], 1) for name in names.split()},
}  # fmt: skip
_DATE = re.compile(
    r"(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?!\d)"
    r"|(?<![\d.])(?P<nd>\d{1,2})[./](?P<nm>\d{1,2})[./](?P<ny>\d{4})"
    r"|(?P<cy>\d{4})\s?[年년]\s?(?P<cm>\d{1,2})\s?[月월]\s?(?P<cd>\d{1,2})\s?[日일]"
    r"|(?P<wm>[^\W\d_]{3,12})\.?\s(?P<wd>\d{1,2})(?:st|nd|rd|th)?,?\s(?P<wy>\d{4})"
    r"|(?<!\d)(?P<vd>\d{1,2})\.?\s(?:de\s)?(?P<vm>[^\W\d_]{3,12})\.?\s(?:de\s)?(?P<vy>\d{4})"
)


_SMALL_WORD = re.compile(
    r"(?<![^\W\d_])(" + "|".join(sorted(map(re.escape, SMALL_WORDS), key=len, reverse=True)) + r")(?![^\W\d_])",
    re.IGNORECASE,
)


def word_durations(text: str) -> set[float]:
    """The durations `text` writes with a number word, in days: "dwóch tygodni" is 14, "three weeks" 21."""
    found: set[float] = set()
    for word in _SMALL_WORD.finditer(text):
        if (time := _TIME.match(text, word.end())) and time.lastgroup:
            found.add(SMALL_WORDS[word.group(1).lower()] * TIME_UNITS[time.lastgroup])
    return found


# Units a text converts between, by the words written right after or before a number (English, German, Spanish,
# French, Italian, Dutch, Swahili; inches and centimetres in Korean, Chinese, Japanese too), each to the unit it
# converts from and the factor: "57 km" is "35 miles"; the unit after dimensions is each one's ("51.5 × 37.2 in").
_CONVERTS = {
    "mi": ("km", 0.621371), "lb": ("kg", 2.20462), "ft": ("m", 3.28084), "in": ("cm", 0.393701),
    "gal": ("l", 0.264172), "km": ("mi", 1.609344), "kg": ("lb", 0.453592), "m": ("ft", 0.3048),
    "cm": ("in", 2.54), "l": ("gal", 3.785412),
}  # fmt: skip
_UNIT_WORDS = {
    "mi": "mi miles mile maili meilen meile millas milla milles mille miglia miglio mijl mijlen",
    "km": "km kilometres kilometre kilometers kilometer kilómetros kilómetro kilomètres kilomètre chilometri kilomita",
    "lb": "lb lbs pounds pound pfund libras libra livres livre",
    "kg": "kg kilograms kilogram kilogramm kilogramos kilogrammes kilo kilos",
    "ft": "ft feet foot fuß fuss pies pie pieds piedi voet",
    "m": "m metres metre meters meter metros metro mètres mètre metri mita",
    "in": "inches inch zoll pulgadas pulgada pouces pouce pollici duim 인치 英寸 インチ",
    "cm": "cm centimetres centimetre centimeters centimeter zentimeter centímetros centimètres centimetri "
    "센티미터 厘米",
    "gal": "gal gallons gallon galones galón gallonen",
    "l": "l litres litre liters liter liter litros litro lita",
}
_UNIT = {word: unit for unit, words in _UNIT_WORDS.items() for word in words.split()}
# The words of a length, weight or volume, as `by_unit` names what a number counts.
LENGTH_WORDS = frozenset(_UNIT)
_MEASURE = re.compile(r"(?<![\w.,])(?:([^\W\d_]{1,12})\.?\s?)?(\d[\d.,]*)(?:\s?([^\W\d_]{1,12})\b)?")
_DIMENSIONS = re.compile(r"(?<![\w.,])\d[\d.,]*(?:\s?[×x]\s?\d[\d.,]*)+\s?([^\W\d_]{1,12})\b")
_DIMENSION = re.compile(r"\d[\d.,]*")


def _measures(text: str) -> Iterator[tuple[str, str]]:
    """Each number of `text` with the unit of length, weight or volume written right after or before it, and each
    of a product of dimensions with the unit after the last ("130.8 x 94.5 cm")."""
    for measure in _MEASURE.finditer(text):
        before, number, after = measure.groups()
        if unit := _UNIT.get((after or "").lower()) or _UNIT.get((before or "").lower()):
            yield number, unit
    for dimensions in _DIMENSIONS.finditer(text):
        if unit := _UNIT.get(dimensions.group(1).lower()):
            yield from ((number, unit) for number in _DIMENSION.findall(dimensions.group(0)))


# A figure and an SI unit symbol right after it, a prefix allowed: energy, power, current, frequency, data, dose
# ("396.3 kWh", "250 mg", "5 MW", "64 GB", "481 kcal"); the symbol is case-sensitive, so "5 MIN" is no unit.
_SI = re.compile(
    r"(?<![\w.,])(\d[\d.,]*)\s?((?:[kMGTmµμn]?(?:Wh|W|VA|V|A|Hz|B|g|l|L|J|Pa|t)|kcal|cal|ppm|bar|psi|rpm))(?![\w-])"
)


def measures(text: str) -> list[tuple[str, str]]:
    """Each number of `text` written with a unit of length, weight or volume ("1.250 km"), or an SI unit symbol
    ("396.3 kWh"), with that unit, in the order written, each time it is written."""
    return [*_measures(text), *((n, unit) for n, unit in _SI.findall(text) if not _CURRENCY_CODE.fullmatch(unit))]


def lengths(text: str) -> dict[str, str]:
    """Each number of `text` written with a unit (`measures`), with that unit (the first written)."""
    found: dict[str, str] = {}
    for number, unit in measures(text):
        found.setdefault(number, unit)
    return found


def converted(text: str) -> dict[str, set[float]]:
    """A text's numbers by the unit of length, weight or volume written right after or before them (the word
    after first): "57 km", "km 57", "maili 35" (Swahili writes the unit first)."""
    found: dict[str, set[float]] = {}
    for number, unit in _measures(text):
        found.setdefault(unit, set()).update(float(r) for r in readings(number))
    return found


def conversions(text: str) -> Iterator[tuple[str, str, float]]:
    """Each number of `text` written with a unit it may be converted into, the unit it converts from and the
    factor."""
    for number, unit in _measures(text):
        yield number, *_CONVERTS[unit]


def dates(text: str) -> Iterator[tuple[datetime.date, tuple[str, ...]]]:
    """Each calendar date `text` writes (2026-10-06, 06.10.2026, 2026年10月6日, October 6, 2026, 6 octobre 2026)
    with its numbers as written."""
    for found in _DATE.finditer(text):
        groups = {key: value for key, value in found.groupdict().items() if value}
        day, month, year = (next(v for k, v in groups.items() if k[1] == part) for part in "dmy")
        if not month.isdigit():
            word = month.lower()
            month = str(_MONTHS.get(word) or _MONTHS.get(word[:3]) or "")
            if not month:
                continue
        try:
            yield datetime.date(int(year), int(month), int(day)), tuple(v for v in groups.values() if v.isdigit())
        except ValueError:
            continue


# A day of a month as Chinese, Japanese and Korean write it, the year left out ("12月21日", "3월 5일").
_MONTH_DAY = re.compile(r"(?<!\d)(?:1[0-2]|0?[1-9])\s?[月월]\s?(?:[12]\d|3[01]|0?[1-9])\s?[日일]")
# A day and month in digits, either first, the year left out ("21.12.", "12/21", "5-3"; "4.4" is a decimal), or a
# month's name beside a day ("21 décembre", "Dec 21").
_DAY_DIGITS = re.compile(
    r"(?<![0-9A-Za-z_.,/:-])(?:[12][0-9]|3[01]|0?[1-9])"
    r"(?:[/-](?:[12][0-9]|3[01]|0?[1-9])(?![0-9A-Za-z_/-]|[.,][0-9])|\.(?:1[0-2]|0?[1-9])\.(?![0-9A-Za-z_]))"
)  # not within an identifier: a UUID's "b8e4-4aea", a call number's "913.6/324"
_FOUR_DIGITS = re.compile(r"[0-9]{4}")  # after `ascii_digits`
# A day is not a record code's end ("AO-34 maa": a Yoruba word, not "maart"), nor a line's last figure.
_DAY_WORD = re.compile(
    r"(?<![\w-])(\d{1,2})\.?[^\S\n](?:de[^\S\n])?([^\W\d_]{3,12})|([^\W\d_]{3,12})\.?\s(\d{1,2})(?!\d)"
)


def days(text: str) -> list[str]:
    """The calendar days `text` states: dates with their year (`dates`) and a month's day in Chinese, Japanese or
    Korean ("12月21日"), as written."""
    # Cheap tests first: most answers write no year's four digits nor a month's character.
    stated = [found[0] for found in _DATE.finditer(text) if any(dates(found[0]))] if _FOUR_DIGITS.search(text) else []
    return stated + _MONTH_DAY.findall(text) if "月" in text or "월" in text else stated


def writes_a_day(text: str) -> bool:
    """Whether `text` writes a day of a month in any notation read: a date, a month's day in Chinese, Japanese or
    Korean, a day and month in digits ("21.12.", "12/21"), or a month's name beside a day ("21 décembre")."""
    if any(dates(text)) or _MONTH_DAY.search(text) or _DAY_DIGITS.search(text):
        return True
    return any(
        (word := (found[2] or found[3]).lower()) in _MONTHS or word[:3] in _MONTHS for found in _DAY_WORD.finditer(text)
    )


def month_days(text: str, strict: bool = False) -> list[tuple[str, set[tuple[int, int]]]]:
    """Each day of a month `text` writes, with its year or without, as written with the (month, day) it can stand
    for: a date, "12月14日", a month's name beside a day ("December 15", "16 décembre") and a day and month in digits
    either way round ("12/01": 12 January or 1 December). `strict` (an answer's days): a month named whole or as
    written capitalised ("Dec 21"; "set 5" is no September), and digits only two and two with a slash ("16/12"; "1/2",
    "24/7", a range's "10-12" and a sum's "€14.12." are no days)."""
    written = [m for m in _DATE.finditer(text) if any(dates(m[0]))]  # "00 and 2026" names no month
    found = [(m[0], {(day.month, day.day) for day, _ in dates(m[0])}) for m in written]
    found += [(w, {(int(m[1]), int(m[2]))}) for w in _MONTH_DAY.findall(text) if (m := _DIGIT_PAIR.search(w))]
    within = {i for m in written for i in range(m.start(), m.end())}  # a date's parts are no days of their own
    for match in _DAY_DIGITS.finditer(text):
        first, second = map(int, re.findall(r"\d+", match[0]))
        if match.start() not in within and (not strict or re.fullmatch(r"\d\d/\d\d", match[0])):
            either = {(second, first), (first, second)}
            found.append((match[0], {(month, day) for month, day in either if day <= _LAST_DAY.get(month, 0)}))
    for match in _DAY_WORD.finditer(text):
        word, day = (match[2], match[1]) if match[1] else (match[3], match[4])
        month = _MONTHS.get(word.lower()) or _MONTHS.get(word.lower()[:3])
        named = word[0].isupper() or (len(word) > 3 and word.lower() in _MONTHS)  # "set 5" is no September
        if month and int(day) <= _LAST_DAY[month] and match.start() not in within and (named or not strict):
            found.append((match[0], {(month, int(day))}))
    return found


_DIGIT_PAIR = re.compile(r"(\d+)\D+(\d+)")
_LAST_DAY = {month: 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31 for month in range(1, 13)}


def counts(text: str) -> dict[str, set[str]]:
    """What single-digit counts `text` states: the counted word (lower-cased, a plural "s" dropped, by its
    first five letters: "3-year" and "3 years" count the same thing) → the digits stated for it. A time of day
    ("9 am", "7 Uhr", "7 बजे") counts nothing."""
    found: dict[str, set[str]] = {}
    for match in _COUNT.finditer(text):
        low, high, word = match.groups()
        if word.lower() in _CLOCK:
            continue
        digits = {d for d in (low, high) if d and d != "1"}  # "1人分", "per 1 person": the unit, not a count
        if digits:
            found.setdefault(_thing(word), set()).update(digits)
    return found


def _thing(word: str) -> str:
    """What a word counts, as counts and units are keyed: lower-cased, without accents (a question typed
    "νυχτες" counts the answer's "νύχτες"), a plural "s" dropped, its first five letters."""
    word = word.lower()
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return word.removesuffix("s")[:5]


# A short line opening with a word, the label of what its figures are: "Days left before: 7, after: 5".
_LABEL_LINE = re.compile(r"(?m)^[^\S\n]*[-*•|#>]*[^\S\n]*([^\W\d_]{2,})([^\n]{0,100})$")
_DIGIT_ALONE = re.compile(r"(?<![\w.,])\d(?!\w|[.,]\d)")


def labelled(text: str) -> dict[str, set[str]]:
    """The single digits of `text`'s short lines by the word each line opens with (its label, lower-cased, a
    plural "s" dropped, its first five letters, as `counts` keys them): "Days left before: 7, after: 5" states
    7 and 5 days."""
    found: dict[str, set[str]] = {}
    for line in _LABEL_LINE.finditer(text):
        if digits := set(_DIGIT_ALONE.findall(line.group(2))):
            found.setdefault(_thing(line.group(1)), set()).update(digits)
    return found


def _unit(text: str, start: int, end: int) -> str:
    """What the number at `text[start:end]` counts: a time unit's name, "money", "%", or the next word (lower-cased,
    a plural "s" dropped, its first five letters); "" for nothing."""
    if time := _TIME.match(text, end):
        return time.lastgroup or ""
    if _MONEY.match(text, end) or _MONEY_BEFORE.search(text, max(start - 6, 0), start):
        return "money"
    if _SHARE.match(text, end):
        return "%"
    word = _NEXT_WORD.match(text, end)
    return _thing(word.group(1)) if word else ""


@lru_cache(maxsize=1024)
def measured(text: str) -> tuple[tuple[str, str], ...]:
    """Every number in `text` as written (single digits too), with what it counts (`_unit`)."""
    return tuple((token, _unit(text, start, end)) for token, start, end in _found(text))


def quantities(text: str) -> set[str]:
    """The single digits `text` states as a quantity: with a time unit, money or as a percentage."""
    return {token for token, start, end in _found(text) if len(token) == 1 and _unit(text, start, end) in MEASURES}


@lru_cache(maxsize=256)
def plain(text: str) -> frozenset[str]:
    """Every reading of every number in `text`, single digits too."""
    return frozenset(value for token in _tokens(text) for value in readings(token))


def source_values(text: str) -> set[str]:
    """Every reading of every number in a source."""
    return {value for number in numbers(text) for value in readings(number)}


# A long digit string: an ID card, a phone, an account or a register number (seven digits and more).
_LONG_DIGITS = re.compile(r"(?<!\d)\d{7,}(?!\d)")


def identifier_ends(text: str) -> set[str]:
    """The first and last three to six digits of `text`'s long digit strings: an answer naming an ID card, a phone
    or an account by its last digits ("CCCD ending 5086", "card ending in 4788") quotes a source, invents nothing."""
    return {
        end
        for found in _LONG_DIGITS.findall(text)
        for size in range(3, min(7, len(found) - 2))
        for end in (found[:size], found[-size:])
    }


def words(text: str) -> set[str]:
    """The words of `text`, lower-cased."""
    return set(_LETTERS.findall(text.lower()))


def word_values(text: str) -> set[str]:
    """The values of a source's number words (read only for claims its digits leave unsupported)."""
    values = {str(_WORDS[word]) for word in words(text) & _WORDS.keys()}
    for m in _CJK_NUMBER.finditer(text):
        tens, ones = m.groups()
        values.add(str(10 * (_CJK_DIGITS.index(tens) if tens else 1) + (_CJK_DIGITS.index(ones) if ones else 0)))
    return values


@lru_cache(maxsize=256)
def by_unit(text: str) -> dict[str, set[float]]:
    """A source's values by what they count, as written; durations also in days, under "time"."""
    found: dict[str, set[float]] = {}
    for token, unit in measured(text):
        values = [float(r) for r in readings(token)]
        found.setdefault(unit, set()).update(values)
        if scale := TIME_UNITS.get(unit):
            found.setdefault("time", set()).update(round(value * scale, 6) for value in values)
    return found


@lru_cache(maxsize=256)
def all_values(text: str) -> frozenset[float]:
    """Every value a source states: its numbers (single digits too) in every reading and, for a duration, in
    every other time unit ("2-year": 24 months, 730 days…), its number words."""
    values: set[float] = set()
    for token, unit in measured(text):
        for reading in readings(token):
            value = float(reading)
            values.add(value)
            if unit in TIME_UNITS:
                values.update(value * TIME_UNITS[unit] / days for days in TIME_UNITS.values())
                values.add(value * 12 if unit == "year" else value / 12 if unit == "month" else value)
    values.update(_clock_values(text))
    values.update(float(value) for value in word_values(text))
    values.update(float(SMALL_WORDS[word]) for word in words(text) & SMALL_WORDS.keys())
    values.update(float(_CJK_DIGITS.index(c) if c != "两" else 2) for c in _CJK_DIGIT.findall(text))
    return frozenset(round(value, 6) for value in values)


def _clock_values(text: str) -> Iterator[float]:
    """The times of day `text` states, as other notations read them: "3 pm" is 15 ("1 pm to 13:00"), and
    "21:30" or "21h30" is 21.30 too ("21.30'da")."""
    for match in _CLOCK_TIME.finditer(text):
        hour, minutes, half = match.groups()
        if not (minutes or half):  # a number alone: read as it is
            continue
        value = int(hour)
        if half and half[0].lower() == "p" and value < 12:
            value += 12
        if minutes:
            yield round(value + int(minutes) / 100, 6)
        else:  # "3 pm" is 15:00
            yield 0.0
        yield float(value)


def clock_times(text: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Each time of day `text` writes with its minutes ("17:30", "9.15 am", "21h30"), in minutes after midnight,
    with its numbers as written."""
    for match in _CLOCK_TIME.finditer(text):
        hour, minutes, half = match.groups()
        if minutes:
            value = int(hour) % 12 + 12 * (half[0].lower() == "p") if half else int(hour)
            yield 60 * value + int(minutes), (hour, minutes)


# A decimal digit of any script but ASCII's ("৩", "٣", "३", "๓"): Bengali, Arabic, Devanagari, Thai... write times
# and dates with their own digits, which the ASCII patterns of times and dates do not read.
_SCRIPT_DIGIT = re.compile(r"[^\D0-9]")


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit written in ASCII ("৩:৩০" as "3:30")."""
    if text.isascii():
        return text
    return _SCRIPT_DIGIT.sub(lambda found: str(unicodedata.decimal(found[0])), text)


def claims(answer: str) -> str:
    """`answer` with what names rather than states blanked out: links and e-mail addresses ("?u=FN-800793"),
    phone numbers ("018-44 21 00", "+90 5478950413") and masked numbers ("XXXX-XXXX-4788"), and the clock round
    ("24/7", "24-hour"). A number there is an identifier or an idiom, not a figure the sources should hold."""
    if "@" in answer:
        answer = _EMAIL.sub(lambda found: " " * len(found.group(0)), answer)
    return _IDENTIFIER.sub(lambda found: _blank(found.group(0)), answer)


def _blank(identifier: str) -> str:
    """Spaces for a link, address or masked number, the clock round, and a phone number of seven digits and more."""
    phone = (identifier[0].isdigit() or identifier[0] in "+(") and not identifier.startswith("24")
    if phone and sum(c.isdigit() for c in identifier) < 7:
        return identifier
    return " " * len(identifier)


def scale_of(answer: str, number: str) -> float:
    """What the answer multiplies `number` by where it writes it ("1.1 million": 10^6); 1 if by nothing."""
    for token, _, end in _found(answer):
        if token == number and (word := _SCALE.match(answer, end)):
            found = word.group(1).lower()
            return _SCALES.get(found) or _SCALES.get(found[:1]) or 1.0
    return 1.0

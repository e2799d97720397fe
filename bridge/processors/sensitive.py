# ruff: noqa: RUF001  (Turkish words hold the dotless i)
"""What counts as sensitive in text: provider API keys, tokens, passwords, private keys, and personal data.

Shared by the `dify_variable_leak` detector and the `redact` processor. Placeholders and masked values are
never sensitive; examples (documentation domains, payment providers' test numbers, `dummy` values) are not
for the detector (`exempt_examples`), but redaction masks them too. Provider token formats are in
bridge/processors/secret_formats.py.
"""

from __future__ import annotations

import base64
import functools
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import ahocorasick_rs

from bridge.processors.labels import (
    ADDRESS_LABELS,
    ALL_ENDINGS,
    BEFORE,
    BIRTH_LABELS,
    CARD_LABELS,
    CJK_LETTERS,
    ID_LABELS,
    LABELS,
    NAMES,
    PHONE_LABELS,
    TAILS,
    named,
)
from bridge.processors.secret_formats import PROVIDER_TOKENS

# Each pattern starts with its literal prefix and checks the word boundary before it with a look-behind
# (`sk-(?<!\wsk-)` is `\bsk-`): the regex engine then jumps from one occurrence of the prefix to the next
# instead of trying every position, about 9x faster on ordinary text. Where the body takes `-` (`sk-…`), no
# `-` before the prefix either: else `sk-sk-sk-…` starts a match at each and reads the rest each time.
# tests/processors/test_sensitive.py checks each against its plain form.
SECRETS: dict[str, re.Pattern[str]] = {
    "openai_key": re.compile(r"sk-(?<![\w-]sk-)(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),
    "aws_access_key": re.compile(r"A(?<!\wA)(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[0-9A-Z]{16}\b"),
    "github_token": re.compile(r"gh[pousr]_(?<!\wgh[pousr]_)[A-Za-z0-9]{36,}\b"),
    "slack_token": re.compile(r"xox(?<![\w-]xox)(?:[a-z]\.xox)?[a-z]-[A-Za-z0-9-]{10,}"),
    "google_api_key": re.compile(r"AIza(?<![\w-]AIza)[0-9A-Za-z_-]{35,}"),
    "dify_app_key": re.compile(r"app-(?<!\wapp-)[A-Za-z0-9]{24}\b"),
    "dify_dataset_key": re.compile(r"dataset-(?<!\wdataset-)[A-Za-z0-9]{24}\b"),
    # `eyJ` is `{"` in base64; `ey` alone also takes a header or claims written with a space first. Claims
    # that are not JSON (`.ey…`), or a token of two parts (a session token, a JWS without its signature) count
    # when the header is a JWT's, `{"alg": …}` (`accepted`).
    "jwt": re.compile(r"ey(?<![\w-]ey)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?"),
    # The whole block, to its END line; a block cut short (no END) to where its base64 and headers stop.
    # `\n` as written inside JSON text counts as a line break. Never across a NUL (`SEPARATOR`) or into the
    # next block (a text of BEGIN lines alone would otherwise cost a scan to its end for each).
    "private_key": re.compile(
        r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?:(?!-----BEGIN)[^\x00])*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
        r"|\s*[A-Za-z0-9+/=\\:,.-]+(?:\s+[A-Za-z0-9+/=\\:,.-]+)*)?"
    ),
    # The user and password of a URL (`postgres://app:pw@db`): the value masked is `app:pw`.
    # A password may hold a `#` written raw (`redis://:Xk9#mP@cache`): connection strings are not always encoded.
    # A `?` in it too, unless a query's `name=` follows (`mysql://root:Orchid40607?@db`, branch redact12).
    "url_password": re.compile(r"://(?<=[A-Za-z0-9]://)([^\s:/?#@\"'<>\\]*:(?:[^\s/?\"'<>\\]|\?(?![\w.-]*=))+)@"),
    # Not a value cut short by a mask (`Bearer sk_live_…9fQ2`, `Bearer abcd1234****`): all of it or nothing.
    "bearer_token": re.compile(r"(?i)bearer(?<![a-z0-9_]bearer)[ \t]+([A-Za-z0-9._~+/=-]{8,}+)(?![\u2026*\u2022])"),
    "basic_auth": re.compile(r"(?i)basic(?<![a-z0-9_]basic)[ \t]+([A-Za-z0-9+/]{6,}={0,2})"),
    **{kind: named(kind) for kind in NAMES},
    "named_key": named("named_key"),
    **{kind: re.compile(expression) for kind, (expression, _) in PROVIDER_TOKENS.items()},
    # Any service's live or production key written as the providers write theirs (`bk_live_7Hq2…`,
    # `acme_prod_…`): a short prefix, the environment, and a random body of letters and digits.
    "live_key": re.compile(r"(?<![\w-])[a-z][a-z0-9]{1,11}_(?:live|prod|secret)_[A-Za-z0-9]{16,}(?![\w-])"),
}
# A token's formats are ASCII, so their word boundaries are ASCII's: a Chinese or Japanese letter beside a token is
# no part of it (`用ghp_…即可调用`: those scripts write no space; `\w` takes their letters). Not for what is read
# after a name (names and words of every script) or a URL's password (branch redact14).
_SCRIPT_KINDS = {*NAMES, "named_key", "url_password"}
SECRETS = {
    kind: pattern if kind in _SCRIPT_KINDS else re.compile(pattern.pattern, (pattern.flags & ~re.UNICODE) | re.ASCII)
    for kind, pattern in SECRETS.items()
}
# `单号` (`單號`) right before the number, or a full-width colon, a colon, a space or a colon and a space between.
_NOT_CARD_AFTER = r"(?<![单單][号號]\d)(?<![单單][号號][\uff1a: ]\d)(?<![单單][号號]: \d)"
# The handles of India's UPI apps (Google Pay's `@ok…`, PhonePe's `@ybl`, `@ibl`, `@axl`, Paytm's `@pt…`, BHIM's
# `@upi`, Amazon Pay's `@apl`), as their ids end.
_UPI_HANDLES = ("@okhdfcbank", "@okicici", "@oksbi", "@okaxis", "@ybl", "@ibl", "@axl", "@paytm", "@ptyes", "@ptsbi",
                "@pthdfc", "@ptaxis", "@upi", "@apl", "@yapl")  # fmt: skip
# The first three groups of a UUID and their dashes: what comes before a UUID's fourth group.
_UUID_HEAD = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
PERSONAL: dict[str, re.Pattern[str]] = {
    # Letters of any script (`kerstin.müller@gmx.de`; for ASCII text the same as `[A-Za-z0-9_]`); a local part of
    # 64 characters at most, as RFC 5321 has it (`a.a.a.…@` would read the rest of the run from each dot).
    "email": re.compile(r"\b[\w.%+-]{1,64}@[\w.-]+\.[^\W\d_]{2,}\b"),
    "phone": re.compile(r"\+(?<![\w.]\+)\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w.])"),
    # North American numbers written with separators, `(555) 201-4567`, `555-201-4567`, `555.201.4567`
    # (ten bare digits are as likely an id or a timestamp). Area code and exchange start with 2-9.
    "us_phone": re.compile(
        r"(?<![\w.+-])(?:1[ .-])?(?:\([2-9]\d\d\)[ ]?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4}(?![\w-]|\.\d)"
    ),
    # Digits have no literal prefix; the first repetition is still unrolled so the boundary check comes after it.
    # Not the last two groups of a UUID (4 and 12 digits, which pass Luhn's check one time in ten), nor a number
    # right after a name ending in `id` (`dd.span_id=1239870123987312`, `"id": …`: an id; branch redact-9).
    # A letter of Chinese, Japanese or Korean before or after the number is no part of it (`卡号6228…`), and a
    # number right after `单号` (an order's or a waybill's: `订单号`, `运单号`) is no card (branch redact13).
    "card_number": re.compile(
        rf"\d(?<![^\W{CJK_LETTERS}]\d)(?<!{_UUID_HEAD}\d){_NOT_CARD_AFTER}"
        r"(?<!id=\d)(?<!id:\d)(?<!id: \d)(?<!id\":\d)(?<!id\": \d)"
        rf"[ -]?(?:\d[ -]?){{12,18}}(?:\b|(?<=\d)(?=[{CJK_LETTERS}]))"
    ),
    "us_ssn": re.compile(r"\d{3}-(?<!\w\d{3}-)(?<!000-)(?<!666-)(?<!9\d\d-)(?!00)\d{2}-(?!0000)\d{4}\b"),
    # National identifiers whose shape and check digits say what they are without a label (`accepted` checks
    # the date and check digits): a Swedish personal number (`19870312-4521`, `870312-4521`), a Korean resident
    # registration number (`840614-2875779`), a Chinese resident identity number (18 digits, the last maybe X), a
    # Brazilian CPF (`123.456.789-09`).
    "national_id": re.compile(
        rf"\d(?<![^\W{CJK_LETTERS}]\d)(?<![.+-]\d)"
        r"(?:\d{5}-[1-8]\d{6}|\d{5}-\d{4}|\d{7}-\d{4}|\d{16}[\dXx]|\d\d\.\d{3}\.\d{3}-\d\d)"
        rf"(?![^\W{CJK_LETTERS}]|-|[.,]\d)"
    ),
    # An IBAN, bare or in groups of four: two letters, two check digits, the account (mod 97, `accepted`).
    "iban": re.compile(r"[A-Z](?<![\w-][A-Z])[A-Z]\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])"),
    # A French number as France writes it, `06 12 34 56 78` (`01.23.45.67.89`): 0, a digit, four pairs (branch
    # redact-attack7).
    "fr_phone": re.compile(r"0(?<![\w.+-]0)[1-9](?:(?: \d\d){4}|(?:\.\d\d){4})(?![\w-]|[.,]\d)"),
    # An e-mail address written to dodge a scan: `ivan[at]yandex[dot]ru`, `jane dot doe at gmail dot com`. Every
    # repetition bounded: `a dot a dot …` unbounded read the rest of the text from each word (19 s for 200 KB).
    "obfuscated_email": re.compile(
        r"(?i)\b[\w.+-]{1,64}[ \t]*[\[({]at[\])}][ \t]*[\w-]{1,64}"
        r"(?:[ \t]*(?:[\[({]dot[\])}]|\.)[ \t]*[\w-]{1,64}){1,4}"
        r"|\b[^\W\d_][\w+-]{0,63}(?: dot [\w+-]{1,64}){0,3} at [^\W\d_][\w-]{0,63}(?: dot [\w-]{1,64}){0,3}"
        r" dot (?:com|org|net|edu|gov|io|[a-z]{2})\b"
    ),
    # An Indian UPI id (a virtual payment address: `name@okhdfcbank`), an e-mail address's shape without its dot, at
    # the payment apps' handles; it names the payer's bank account (branch redact13).
    "upi_id": re.compile(
        r"(?i)(?<![\w.%+-])[\w.-]{2,64}@(?:" + "|".join(handle[1:] for handle in _UPI_HANDLES) + r")(?![\w.-])"
    ),
    # A Canadian SIN after `SIN` in capitals (`sin` is Spanish "without"), nine digits passing Luhn's check
    # (`accepted`) (branch redact-9).
    "canadian_sin": re.compile(
        r"SIN(?<![\w-]SIN)[ \t]*(?:#|No\.?|number)?[ \t]*[:#]?[ \t]*(\d{3}[ -]?\d{3}[ -]?\d{3})(?![\w-])"
    ),
    "id_number": named("id_number"),
    "phone_number": named("phone_number"),
    "payment_card": named("payment_card"),
    "postal_address": named("postal_address"),
    "birth_date": named("birth_date"),
    # A mobile number without a label, in the shapes of the countries that write them so (branch redact14): China's
    # (`13981210686`, `139 7712 7515`), Japan's (`090-1234-5678`), Korea's (`010 9016 3576`), India's five and five
    # (`97416 65434`), the UK's (`07911 123456`), Brazil's (`11 90622 2597`). ASCII digits only: letters of Chinese
    # or Japanese may stand right beside one (`他电话是13868966508`).
    "mobile_phone": re.compile(
        r"(?<![\w.+/-])(?:1[3-9]\d(?:\d{8}|[ -]\d{4}[ -]\d{4})|0[789]0-\d{4}-\d{4}|01[016789][ -]\d{3,4}[ -]\d{4}"
        r"|[6-9]\d{4}[ -]\d{5}|07\d{3} \d{6}|\(?\d\d\)? 9\d{4}[ -]\d{4})(?![\w-]|[.,]\d)",
        re.ASCII,
    ),
    # Brazil's CNPJ, a company's number (`10.497.097/0001-43`): two check digits (`accepted`) (branch redact14).
    "cnpj": re.compile(r"(?<![\w./-])\d\d\.\d{3}\.\d{3}/\d{4}-\d\d(?![\w-]|[.,]\d)", re.ASCII),
}
# A card number is 13 digits or more, single spaces or dashes between them: 13 such characters in a row.
_DIGIT_RUN = re.compile(r"\d[\d -]{12}")
# The same test for ASCII text, over its bytes with digits, spaces and dashes made "1" (5x faster than a regex).
_RUN_BYTES = bytes(49 if chr(byte) in "0123456789 -" else 48 for byte in range(256))
_RUN = b"1" * 13
# A North American number's last two groups in ASCII text, found in its bytes with digits made "1", spaces "2",
# word characters "3", dashes "4", full stops "5" and the rest "0": three digits, a separator, four digits, then
# no word character, dash, or full stop before a digit (the guard as a regex over the text took 65 µs on a
# trace's 8 KB of texts, this 10).
_PHONE_CLASSES = {**dict.fromkeys("0123456789", "1"), " ": "2", "_": "3", "-": "4", ".": "5"}
_PHONE_BYTES = bytes(ord(_PHONE_CLASSES.get(char, "3" if char.isalpha() else "0")) for char in map(chr, range(256)))
_PHONE_TAIL = re.compile(rb"111[245]1111(?![134]|51)")
_SSN_TAIL = b"41141111"  # a dash, two digits, a dash and four digits
# Kinds matched where the same classes show their shape, in a text's UTF-8 bytes (other scripts' too: their letters
# are no digits, no word characters of a bytes pattern): each shape, how many characters before it a match may start,
# and the byte it must start with (None: any). A mobile number holds 11 digits, groups of three and three with a space
# (3-4-4, 3-3-4), or five digits, a space and four (India's 5-5, the UK's 5-6, Brazil's `(11) 9xxxx 1234`; its
# `9xxxx-1234` after a space). Not groups with dashes (`090-1234-5678`, masked after a label): every UUID holds
# `536-853` or `20543-1306`, and a search for those shapes cost a clean run 10 % more. A CNPJ `/0001-43` after
# `10.497.097` (a date's `"2026-12` has the same classes). The pattern searched over a text whose digits show a
# shape, tried at every digit, cost a clean run about 75 % more; this, 16 % (branch redact14, bench/RESULTS.md).
_SHAPES: dict[str, tuple[tuple[bytes, int, int | None], ...]] = {
    "mobile_phone": ((b"1" * 11, 0, None), (b"1112111", 0, None), (b"1111121111", 5, None), (b"2111114111", 4, None)),
    "cnpj": ((b"01111411", 10, ord("/")),),
}  # fmt: skip
_SHAPED: dict[str, re.Pattern[bytes]] = {}  # their patterns, for bytes
# Cheap tests that must pass before a pattern is worth running (most texts hold no secret at all): one of
# some substrings (as written; in any case for a case-insensitive pattern), or for the patterns of digits a
# simple pattern and the fewest digits a match holds.
_GUARDS: dict[str, tuple[str, ...] | re.Pattern[str]] = {
    "openai_key": ("sk-",), "aws_access_key": ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), "slack_token": ("xox",),
    "google_api_key": ("AIza",), "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), "dify_app_key": ("app-",),
    "dify_dataset_key": ("dataset-",), "jwt": ("ey",), "private_key": ("-----BEGIN",), "url_password": ("://",),
    "bearer_token": ("bearer",), "basic_auth": ("basic",),
    **{kind: tuple(names) for kind, (names, _) in NAMES.items()},
    **{kind: literals for kind, (_, literals) in PROVIDER_TOKENS.items()},
    # `s.` (a Vault token's prefix) stands in every JSON text of Dify's (`"sys.query"`): the finder would report
    # it dozens of times a text, which costs it more than the regex's own search for it.
    "vault_legacy_token": re.compile(r"s\.[A-Za-z0-9]{24}"),
    "email": ("@",), "phone": ("+",), "live_key": ("_live_", "_prod_", "_secret_"), "id_number": tuple(ID_LABELS),
    "phone_number": tuple(PHONE_LABELS), "payment_card": tuple(CARD_LABELS), "named_key": tuple(LABELS["named_key"]),
    "postal_address": tuple(ADDRESS_LABELS), "birth_date": tuple(BIRTH_LABELS),

    # A card number needs 13 digits and separators in a row; an SSN, a two-digit group and four digits; a
    # North American number, its last two groups (not an id's or a timestamp's digits).
    "card_number": _DIGIT_RUN, "us_ssn": re.compile(r"-\d\d-\d{4}"),
    "us_phone": re.compile(r"[2-9]\d\d[ .-]\d{4}(?![\w-]|\.\d)"),
    "national_id": re.compile(r"\d{6}-\d{4}|\d{17}|\d\.\d{3}-\d\d"),
    "iban": re.compile(r"[A-Z]{2}\d\d ?[A-Z0-9]{4}"),
    "fr_phone": re.compile(r"0[1-9](?: \d\d){4}|0[1-9](?:\.\d\d){4}"),
    "obfuscated_email": ("[at]", "(at)", "{at}", " dot "), "canadian_sin": ("SIN ", "SIN:", "SIN#", "SIN\t"),
    "upi_id": _UPI_HANDLES,
}  # fmt: skip
# Labels marking a passage internal, confidential or secret (`[internal: …]`, `CONFIDENTIAL — …`, `SIRI —`), in
# the languages of the names above; and phrases saying a line is not for the reader ("do not publish", "staff
# only", `请勿外传`). Lower case. Not patterns: `dify_variable_leak` reads the values of such passages, and the scan
# that looks for the guards' literals tells it where one may be (`marked_sensitive_values`).
MARK_LABELS = (
    "internal", "internal only", "internal use only", "for internal use", "confidential", "strictly confidential",
    "secret", "top secret", "intern", "nur intern", "vertraulich", "streng vertraulich", "geheim",
    "interno", "interna", "uso interno", "confidencial", "secreto", "reservado", "interne", "usage interne",
    "confidentiel", "confidentielle", "sigiloso", "riservato", "confidenziale", "vertrouwelijk", "wewnętrzne",
    "poufne", "tajne", "dahili", "gizli", "внутреннее", "внутренний", "конфиденциально", "секретно", "внутрішнє",
    "конфіденційно", "таємно", "εσωτερικό", "εσωτερικο", "εμπιστευτικό", "εμπιστευτικο", "απόρρητο", "απορρητο",
    "פנימי", "סודי", "חסוי", "داخلي", "سري",
    "आंतरिक", "गोपनीय", "ภายใน", "ลับ", "nội bộ", "bí mật", "mật", "rahasia", "siri", "ya ndani", "内部", "机密",
    "保密", "绝密", "社外秘", "極秘", "機密", "내부", "기밀", "대외비", "konfidentiell", "hemlig", "fortrolig",
    "sisäinen", "luottamuksellinen", "salainen", "interní", "důvěrné", "tajné",
    # (Basque, Afrikaans, Welsh, Irish, Catalan and Galician, Slovak, Slovene, Croatian and Serbian, Hungarian,
    # Romanian, Estonian, Latvian, Lithuanian, Icelandic, Albanian, Bulgarian, Kazakh, Uzbek, Georgian, Armenian,
    # Persian, Urdu, Bengali: "internal", "internal note", "confidential")
    "barne oharra", "barnekoa", "isilpekoa", "konfidentziala", "vertroulik", "interne nota", "mewnol",
    "cyfrinachol", "inmheánach", "rúnda", "nota interna", "interné", "dôverné", "zaupno", "povjerljivo",
    "poverljivo", "belső", "bizalmas", "confidențial", "sisemine", "konfidentsiaalne", "iekšējs", "konfidenciāli",
    "vidinis", "konfidencialu", "trúnaðarmál", "konfidenciale", "вътрешно", "поверително", "поверљиво", "ішкі",
    "құпия", "maxfiy", "შიდა", "კონფიდენციალური", "ներքին", "գաղտնի", "محرمانه", "خفیہ", "অভ্যন্তরীণ", "গোপনীয়",
    # (session 28: Azerbaijani, Maltese, Mongolian, Amharic, Sinhala, Tamil, Nepali, Khmer, Lao, Burmese, Tagalog,
    # Kinyarwanda, Somali, Hausa, Yoruba, Zulu, Tajik, Kyrgyz: "internal", "confidential", "secret")
    "daxili", "məxfi", "kunfidenzjali", "sigriet", "дотоод", "нууц", "የውስጥ", "ሚስጥራዊ", "ምስጢራዊ",
    "අභ්‍යන්තර", "රහස්‍ය", "රහසිගත", "உள்ளக", "ரகசியம்", "இரகசியம்", "आन्तरिक", "गोप्य", "ផ្ទៃក្នុង", "សម្ងាត់", "ພາຍໃນ",
    "ລັບ", "လျှို့ဝှက်", "panloob", "kumpidensyal", "ibanga", "ibanga rikomeye", "qarsoodi", "sirri", "asiri",
    "okuyimfihlo", "махфӣ", "дохилӣ", "купуя", "ички",
)  # fmt: skip
MARK_PHRASES = (
    "do not publish", "do not share", "do not disclose", "do not forward", "not for publication", "not for the public",
    "not for customers", "not for guests", "not for visitors", "staff only", "employees only", "nicht veröffentlichen",
    "nicht weitergeben", "no publicar", "no compartir", "no divulgar", "ne pas publier", "ne pas divulguer",
    "ne pas diffuser", "non divulgare", "non pubblicare", "não divulgar", "não publicar", "niet delen",
    "niet publiceren", "nie publikować", "nie udostępniać", "paylaşmayın", "yayınlamayın", "не публиковать",
    "не разглашать", "не поширювати", "μόνο για προσωπικό", "μην δημοσιεύετε", "usitoe", "usichapishe",
    "请勿外传", "不得外传", "请勿公开", "不要公开", "公開禁止", "외부 공개 금지", "공유 금지", "לא לפרסום",
    "لا تنشر", "प्रकाशित न करें", "ห้ามเผยแพร่", "không công bố", "không chia sẻ", "jangan dibagikan",
    "jangan disebarkan",
    # "staff only" in the other languages of the labels: a passage a document keeps for the business's own people.
    "nur für mitarbeiter", "nur für personal", "solo para personal", "solo para empleados", "réservé au personnel",
    "solo per il personale", "riservato al personale", "apenas para funcionários", "somente para funcionários",
    "alleen voor personeel", "alleen voor medewerkers", "tylko dla personelu", "tylko dla pracowników",
    "sadece personel", "yalnızca personel", "только для сотрудников", "только для персонала", "лише для персоналу",
    "тільки для працівників", "לצוות בלבד", "לעובדים בלבד", "للموظفين فقط", "केवल कर्मचारियों के लिए", "เฉพาะพนักงาน",
    "chỉ dành cho nhân viên", "khusus staf", "khusus karyawan", "khusus pegawai", "hanya untuk staf",
    "hanya untuk karyawan", "kakitangan sahaja", "wafanyakazi pekee", "仅限员工", "僅限員工", "员工专用", "員工專用",
    "社員限定", "関係者のみ", "직원 전용", "endast för personal", "kun for personale", "kun for ansatte",
    "vain henkilökunnalle", "pouze pro zaměstnance", "csak munkatársaknak", "doar pentru personal",
    "langileentzat soilik", "langileentzat bakarrik", "personeel alleen", "slegs vir personeel", "nie vir kliënte nie",
    "nie vir kliente nie", "staff yn unig", "ar gyfer staff yn unig", "don fhoireann amháin", "només per al personal",
    "só para o persoal", "len pre zamestnancov", "samo za osoblje", "samo za zaposlene",
    "ainult töötajatele", "tikai darbiniekiem", "tik darbuotojams", "aðeins fyrir starfsfólk", "vetëm për stafin",
    "само за служители", "тек қызметкерлерге", "faqat xodimlar uchun", "فقط برای کارکنان", "صرف عملے کے لیے",
    "শুধুমাত্র কর্মীদের জন্য", "কেবল কর্মীদের জন্য",
    # (session 28) Azerbaijani, Kinyarwanda, Maltese, Mongolian, Amharic, Sinhala, Tamil, Nepali, Khmer, Tagalog,
    # Somali, Zulu, Georgian, Armenian, Kyrgyz: staff only, not for customers.
    "yalnız əməkdaşlar üçün", "yalnız işçilər üçün", "yalnız personal üçün", "müştərilər üçün deyil",
    "abakozi gusa", "ntigenewe abakiriya", "għall-istaff biss", "għall-impjegati biss", "mhux għall-klijenti",
    "зөвхөн ажилтанд", "зөвхөн ажилчдад", "зөвхөн дотоод", "ለሰራተኞች ብቻ", "ለሠራተኞች ብቻ", "ለደንበኞች አይደለም",
    "කාර්ය මණ්ඩලයට පමණි", "සේවකයින්ට පමණි", "ஊழியர்களுக்கு மட்டும்", "कर्मचारीका लागि मात्र", "សម្រាប់តែបុគ្គលិក",
    "para sa kawani lamang", "para lamang sa kawani", "shaqaalaha oo keliya", "abasebenzi kuphela",
    "მხოლოდ თანამშრომლებისთვის", "միայն աշխատակիցների համար", "кызматкерлер үчүн гана",
)  # fmt: skip
_MIN_DIGITS = {"fr_phone": 10, "phone": 6, "us_phone": 10, "card_number": 13, "us_ssn": 9, "national_id": 10, "iban": 8,
               "phone_number": 7, "payment_card": 13, "mobile_phone": 10, "cnpj": 14}  # fmt: skip
_FEWEST_DIGITS = min(_MIN_DIGITS.values())
# Every substring guard, lower-cased, found in one pass over the case-folded text (Aho-Corasick: 0.4x the cost
# of searching them one by one on the joined texts redact and dify_variable_leak scan).
# ASCII literals first: an ASCII text (most are) is searched for those alone, by a smaller automaton (a third
# faster on Dify's JSON texts) whose indexes are the same.
_LITERALS = tuple(
    sorted(
        dict.fromkeys(
            [
                *(literal.lower() for guard in _GUARDS.values() if isinstance(guard, tuple) for literal in guard),
                *MARK_LABELS,
                *MARK_PHRASES,
            ]
        ),
        key=lambda literal: not literal.isascii(),
    )
)
_ASCII_FINDER = ahocorasick_rs.BytesAhoCorasick(
    [literal.encode() for literal in _LITERALS if literal.isascii()], implementation=ahocorasick_rs.Implementation.DFA
)


@functools.cache
def _finder() -> ahocorasick_rs.AhoCorasick:
    """The automaton of every literal, for text not all ASCII and for the places of a key name's value: built when
    a text first needs it (7 ms of CPU at every start of `replay` or a pipeline worker; an ASCII corpus never did)."""
    return ahocorasick_rs.AhoCorasick(_LITERALS, implementation=ahocorasick_rs.Implementation.DFA)


_LITERAL_INDEX = operator.itemgetter(0)  # of a finder's match (index, start, end)
_INDEX_OF = {literal: index for index, literal in enumerate(_LITERALS)}  # `_LITERALS.index`, without the scan
# The marks' literals, and those of them that guard no pattern (`secret` does both).
_MARKS = frozenset(_INDEX_OF[word] for word in (*MARK_LABELS, *MARK_PHRASES))
_MARKS_ONLY = _MARKS - {
    _INDEX_OF[literal.lower()] for guard in _GUARDS.values() if isinstance(guard, tuple) for literal in guard
}
# Between texts joined for one scan: no pattern matches across it (a password's `\s*` takes the newline,
# then meets the NUL), so the scan finds what a scan of each text finds (tests/processors/test_sensitive.py), when
# they are all ASCII or none is: an ASCII text alone gets the ASCII patterns, where `\x1c` to `\x1f` are no spaces.
SEPARATOR = "\n\x00\n"
_SHORTEST = 6  # no pattern matches fewer characters (an e-mail address, a+b@c.de, is about the shortest)


class _Check(NamedTuple):
    kind: str
    pattern: re.Pattern[str]  # for ASCII-only text, `_ascii(kind, pattern)`
    # Substring guard: the indexes of its literals in `_LITERALS`, and for a case-sensitive pattern the
    # literals as written, looked for in the text itself once the finder saw them in the folded text.
    literals: frozenset[int]
    exact: tuple[str, ...]
    guard: re.Pattern[str] | None  # the other guards
    min_digits: int


def _check(kind: str, pattern: re.Pattern[str]) -> _Check:
    guard = _GUARDS.get(kind)
    literals = guard if isinstance(guard, tuple) else ()
    exact = () if pattern.flags & re.IGNORECASE else literals
    return _Check(
        kind, pattern, frozenset(_INDEX_OF[literal.lower()] for literal in literals), exact,
        None if isinstance(guard, tuple) else guard, _MIN_DIGITS.get(kind, 0),
    )  # fmt: skip


# By kind, each compiled when a text first needs it: most patterns never run (their literal is in no text), and
# compiling all 97 took about 20 ms of `replay`'s first worker's start-up, before its first run.
_ASCII: dict[str, re.Pattern[str]] = {}


def _ascii(kind: str, pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern for ASCII-only text, where digits, word characters and word boundaries mean the same: up
    to 2.5x faster. (Keyed by kind: a pattern hashes its compiled code at every lookup.)"""
    found = _ASCII.get(kind)
    if found is None:
        found = _ASCII[kind] = re.compile(pattern.pattern, (pattern.flags & ~re.UNICODE) | re.ASCII)
    return found


# Built once: this runs for every string attribute of every span.
_CHECKS: dict[bool, list[_Check]] = {
    personal: [_check(kind, pattern) for kind, pattern in {**SECRETS, **(PERSONAL if personal else {})}.items()]
    for personal in (False, True)
}
_UNLITERAL = {personal: [check for check in checks if not check.literals] for personal, checks in _CHECKS.items()}
# The checks each literal guards, and the others, by their place in `_CHECKS` (which decides the kind of a
# value two find).
_UNLITERAL_PLACES = {
    personal: frozenset(place for place, check in enumerate(checks) if not check.literals)
    for personal, checks in _CHECKS.items()
}


def _guarded(checks: list[_Check]) -> dict[int, list[int]]:
    """Each literal's index → the places of the checks it guards, in order (every literal's checks listed in one
    pass over the checks: a pass over the checks per literal took about 8 ms of each start)."""
    places: dict[int, list[int]] = {index: [] for index in range(len(_LITERALS))}
    for place, check in enumerate(checks):
        for index in check.literals:
            places[index].append(place)
    return places


_GUARDED: dict[bool, dict[int, list[int]]] = {personal: _guarded(checks) for personal, checks in _CHECKS.items()}
# A name of code: identifiers joined by dots (`settings.api_token`, `process.env.API_KEY`); a key holds digits.
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
# Shapes that hold no secret: masks (ours too), <placeholders>, template references (`${env}`, Dify's
# `{{#node.var#}}`).
# Also, without a digit (a real `your_secret_2024!` holds one): a value with an ellipsis (`sk-...your key here...`;
# two dots or `…` too: the scan ends a value before its third dot, so `lsk_live_...` is read `lsk_live_..`),
# `YOUR_API_KEY`, `your-token-here`; and a schema's word (`password: required`) (branch redact-9).
_PLACEHOLDER = re.compile(
    r"(?i)x{4,}|\*{3,}|<[^>]+>|\$\{|\{\{|…#|^#[0-9a-f]{8}$|\[redacted\]"
    r"|^[?:]?(?:your[_-][a-z_-]*|\D*(?:\.\.|…)\D*|required|optional|string|boolean|integer|undefined)$"
)
# Examples and fillers: not a leak when a detector looks for one, but masked by redaction all the same (real
# formats hold runs too: Dropbox's and Twitter's tokens hold ten and more A's).
_EXAMPLE = re.compile(r"(?i)your[_-]|example|dummy|placeholder|(.)\1{7,}")
EXAMPLE_DOMAINS = re.compile(r"(?i)@(?:[a-z0-9-]+\.)*(?:example\.(?:com|org|net)|test\.com|localhost)\b")
_UUID_START = re.compile(r"\d{8}-\d{4}-")
# Cards are printed in groups opening with four digits (4-4-4-4, Amex's 4-6-5, Diners' 4-6-4); a number whose first
# group is of another length is an order's or a tracking number (`112-4829103-7732918`, branch redact11).
_NOT_CARD_GROUPS = re.compile(r"(?:\d{1,3}|\d{5,})[ -]\d")
# Card numbers published by payment providers for testing.
_TEST_CARDS = frozenset(
    {
        "4242424242424242",
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
        "4000056655665556",
        "5105105105105100",
        "4012888888881881",
    }
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def sensitive_values(text: str, personal: bool, exempt_examples: bool = True) -> dict[str, str]:
    """Sensitive value → its kind, for every real-looking secret (and personal datum) in `text`; examples and
    test card numbers left out unless `exempt_examples` is False (see `accepted`)."""
    return _scan(text, personal, exempt_examples)[0]


def marked_sensitive_values(text: str, personal: bool) -> tuple[dict[str, str], bool]:
    """`sensitive_values` (examples exempt), and whether `text` may hold a passage marked internal: a word of
    `MARK_LABELS` or `MARK_PHRASES`, in any case. The scan's one pass for its literals finds those too."""
    found, present = _scan(text, personal, True)
    return found, not _MARKS.isdisjoint(present)


def _scan(text: str, personal: bool, exempt_examples: bool) -> tuple[dict[str, str], frozenset[int]]:
    """`sensitive_values`, and the indexes in `_LITERALS` of the literals `text` holds."""
    found: dict[str, str] = {}
    if len(text) < _SHORTEST:
        return found, frozenset()
    # ASCII digits are counted (as bytes: str.translate is 8x slower); a text with other characters may hold
    # other digits (\d takes them): no gate.
    is_ascii = text.isascii()
    if is_ascii:
        raw = text.encode()
        # Its character classes (digits are b"1"), which the North American number check reads too: one pass.
        classes = raw.translate(_PHONE_BYTES)
        digits = classes.count(49)
    else:
        raw, classes, digits = b"", b"", len(text)
    # casefold, not lower, for other text: (?i) takes the long s (U+017F) for 's'; only casefold makes it one.
    if is_ascii:
        folded = ""  # made when a key name's value is read: most texts hold none
        hits = _ASCII_FINDER.find_matches_as_indexes(raw.lower(), overlapping=True)
    else:
        folded = text.casefold()
        hits = _finder().find_matches_as_indexes(folded, overlapping=True)
    present = frozenset(map(_LITERAL_INDEX, hits))
    if digits < _FEWEST_DIGITS and present <= _MARKS_ONLY:
        return found, present
    checks = _checks_for(personal, present)
    aligned: tuple[str, list[tuple[int, int, int]]] | None = None
    shaped, shaped_classes = b"", b""  # a text not all ASCII as UTF-8, and its classes, for `_SHAPES`' kinds
    for kind, pattern, literals, exact, guard, min_digits in checks:
        if digits < min_digits:
            continue
        stretches: Iterable[tuple[int, int]] = ((0, len(text)),)
        if literals:
            if literals.isdisjoint(present) or (exact and not _any_in(exact, text)):
                continue
            if kind in TAILS:
                if aligned is None:  # the finder's positions must be the text's: `ß` folds to `ss`
                    if is_ascii:
                        folded = text.lower()
                    aligned = (folded, hits) if len(folded) == len(text) else _aligned(text)
                names = [(start, end) for index, start, end in aligned[1] if index in literals]
                for value in _named_values(kind, text, aligned[0], names):
                    if accepted(kind, value, exempt_examples):
                        found.setdefault(value, kind)
                continue
        elif guard is _DIGIT_RUN:
            if is_ascii:
                stretches = _digit_stretches(raw.translate(_RUN_BYTES))
            elif _DIGIT_RUN.search(text) is None:
                continue
        elif kind == "us_phone" and is_ascii:
            if _PHONE_TAIL.search(classes) is None:
                continue
        elif kind in _SHAPES:
            if not is_ascii and not shaped:
                shaped = text.encode("utf-8", "surrogatepass")
                shaped_classes = shaped.translate(_PHONE_BYTES)
            for value in _shaped_values(kind, pattern, shaped or raw, shaped_classes or classes):
                if accepted(kind, value, exempt_examples):
                    found.setdefault(value, kind)
            continue
        elif kind == "us_ssn" and is_ascii:
            if _SSN_TAIL not in classes:  # its guard, `-\d\d-\d{4}`, in the classes: a plain search, 3x a regex's speed
                continue
        elif kind in _STARTS and is_ascii:
            # Patterns that start where their classes' run starts: matched at those places only (a search of
            # the text, which has no literal to skip to, took 80 µs on a Dify JSON text of 500 characters).
            read_to = 0  # as `finditer`: no match starts inside the one before
            for start in _STARTS[kind](classes, text):
                match = _ascii(kind, pattern).match(text, start) if start >= read_to else None
                if match is not None:
                    read_to = match.end()
                    if accepted(kind, match.group(), exempt_examples):
                        found.setdefault(match.group(), kind)
            continue
        elif guard is not None and guard.search(text) is None:
            continue
        for pos, endpos in stretches:
            for match in (_ascii(kind, pattern) if is_ascii else pattern).finditer(text, pos, endpos):
                value = match.group(match.lastindex or 0)
                if accepted(kind, value, exempt_examples):
                    found.setdefault(value, kind)
    return found, present


def _shaped_values(kind: str, pattern: re.Pattern[str], raw: bytes, classes: bytes) -> Iterator[str]:
    """What `pattern` matches in `raw` (a text's UTF-8 bytes, `classes` theirs) starting up to `_SHAPES`' characters
    before each place its shapes stand, each start tried once."""
    compiled = None
    tried: set[int] = set()
    for shape, back, first in _SHAPES[kind]:
        at = classes.find(shape)
        while at != -1:
            # Not inside a longer number (a digit before: the pattern's look-behind), not without its byte.
            if (first is None or raw[at] == first) and (shape[0] != 49 or not at or classes[at - 1] != 49):
                if compiled is None:
                    compiled = _SHAPED.get(kind) or _SHAPED.setdefault(kind, re.compile(pattern.pattern.encode()))
                for start in range(max(at - back, 0), at + 1):
                    if start not in tried:
                        tried.add(start)
                        match = compiled.match(raw, start)
                        if match is not None:
                            yield match.group().decode()
            at = classes.find(shape, at + len(shape))  # past it: the rest of a run of digits starts no number


@functools.lru_cache(maxsize=1024)  # texts of one kind (Dify's inputs, usage blocks) hold the same literals
def _checks_for(personal: bool, present: frozenset[int]) -> tuple[_Check, ...]:
    """The checks to run on a text holding the guards' literals `present` (their indexes in `_LITERALS`): the
    checks those literals guard and the checks guarded otherwise, in `_CHECKS`' order. Without any literal only
    the latter (card numbers, SSNs) are left to try."""
    if not present:
        return tuple(_UNLITERAL[personal])
    places = _UNLITERAL_PLACES[personal].union(*(_GUARDED[personal][index] for index in present))
    return tuple(_CHECKS[personal][place] for place in sorted(places))


def named_secret(key: str, value: str) -> str | None:
    """The kind of secret `value` is by the name of the attribute or field holding it (`db.password`,
    `http.request.header.authorization`, `X-Api-Key`), if its name says so and it is no placeholder."""
    kind = _kind_named(key)
    if kind is None or len(value) < NAMES[kind][1] or not accepted(kind, value, False):
        return None
    return kind


# Characters that show as nothing: soft hyphen, zero-width spaces and joiners, direction marks, word joiner,
# invisible operators (function application, times, separator, plus), BOM.
INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")
_INVISIBLE_DROPPED = dict.fromkeys(map(ord, INVISIBLE))


@functools.lru_cache(maxsize=4096)  # attribute names repeat from span to span
def _kind_named(key: str) -> str | None:
    if not key.isascii():  # `db.pass\u200bword` reads as `db.password`
        key = key.translate(_INVISIBLE_DROPPED)
    folded = key.lower()
    if not folded.endswith(ALL_ENDINGS):
        return None
    for kind, (names, _) in NAMES.items():
        for name, before in names.items():
            if folded.endswith(name) and (not before or BEFORE[before].match(key, len(key) - len(name))):
                return kind
    return None


def _aligned(text: str) -> tuple[str, list[tuple[int, int, int]]]:
    """`text` lower-cased character for character (lower() keeps the length but for the dotted capital I),
    and the finder's matches in it."""
    lowered = text.replace("\u0130", "i").lower()
    if len(lowered) != len(text):  # no other character is known to grow; if one does, look nowhere else
        lowered = "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
    return lowered, _finder().find_matches_as_indexes(lowered, overlapping=True)


def _named_values(kind: str, text: str, folded: str, names: list[tuple[int, int]]) -> Iterator[str]:
    """The values after the key names found at `names` (start, end in `text` and its lower-cased twin, of the
    same length): what `named(kind)` finds, without its regex trying every position of the text. A name inside
    the previous value is not one, as for the regex: `password:password:…` would read the rest each time."""
    tail, conditions = TAILS[kind], LABELS[kind]
    read_to = 0
    for start, end in sorted(names):
        if start < read_to:
            continue
        before = conditions[folded[start:end]]
        if before and BEFORE[before].match(text, start) is None:
            continue
        match = tail.match(text, end)
        if match is not None:
            read_to = match.end()
            value = named_value(match)
            if value is not None:
                yield value
        elif kind in NAMES:
            yield from _table_column(text, start, end, NAMES[kind][1])


_LINE_BREAK = re.compile(r"\r?\n|(?:\\r)?\\n")  # also as written inside JSON text
_TABLE_RULE = re.compile(r"[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+(?:[ \t]*:?-{3,}:?[ \t]*)?")


def _table_column(text: str, start: int, end: int, shortest: int) -> Iterator[str]:
    """The cells under a Markdown table's header cell that ends with the name at `start`:`end` (`| user |
    password |`, then `|---|---|`, then rows): a password in a table's column (branch redact12). Reads at most
    2,000 characters either side: linear in a text of names repeated."""
    if not text[end : end + 40].lstrip(" \t").startswith("|"):
        return
    base = max(start - 2000, 0)
    escaped = text.rfind("\\n", base, start)
    head = max(base, text.rfind("\n", base, start) + 1, escaped + 2 if escaped != -1 else 0)
    lines = _LINE_BREAK.split(text[head : end + 2000], maxsplit=60)
    if len(lines) < 3 or not _TABLE_RULE.fullmatch(lines[1]):
        return
    column = lines[0].count("|", 0, start - head)
    for row in lines[2:]:
        cells = row.split("|")
        if len(cells) < 2:  # the table ends
            return
        if column < len(cells):
            value = cells[column].strip()
            if len(value) >= shortest and " " not in value:  # one word: `min 8 chars` is a rule
                yield value


def named_value(match: re.Match[str]) -> str | None:
    """The value a match of a name's pattern (`named`, `TAILS`) holds: a bare value without a sentence's full
    stop, None for a call (`API_KEY = os.environ.get(…)` names code, not a value)."""
    value = match.group(match.lastindex or 0)
    if match.lastindex != 3:  # quoted
        return value
    if match.string.startswith("(", match.end()) or (
        match.string.startswith("[", match.end()) and _DOTTED_NAME.fullmatch(value)
    ):  # `os.environ["KEY"]` too
        return None
    return value[:-1] if value.endswith(".") else value


def _digit_stretches(runs: bytes) -> Iterator[tuple[int, int]]:
    """Where in an ASCII text a card number can be (`runs`: the text through `_RUN_BYTES`), as (start, end)
    for `finditer`, the end taking the one character after that `\b` looks at: the card pattern reads these
    instead of a whole text whose ids and dates hold a few such stretches. Its look-behinds (a digit, a UUID's
    head) see the text before the start, as they would in the whole text."""
    start = runs.find(_RUN)  # the first 13 in a row start a stretch: the characters before are not in it
    while start != -1:
        end = runs.find(b"0", start)
        end = len(runs) if end == -1 else end
        yield start, end + 1
        start = runs.find(_RUN, end)


def _national_id_starts(classes: bytes, text: str) -> list[int]:
    """Where a national identifier can start in an ASCII text (`classes`: its bytes through `_PHONE_BYTES`), in
    order: the start of each run of digits holding one of the shapes' telling parts (six digits and a dash, 17
    digits, a CPF's `ddd.ddd.ddd-dd`). Three searches of bytes, which ordinary text does not hold."""
    starts = set()
    for shape in _NATIONAL_ID_CLASSES:
        at = classes.find(shape)
        last_at, last_start = -1, 0
        while at != -1:
            start = at
            while start > last_at + 1 and classes[start - 1] == 49:  # back to the run's first digit
                start -= 1
            # Not past the last place found: digits back to it are its run (walking each run back from each of
            # its places took 8 s for 20,000 digits in a row, branch redact14).
            if start == last_at + 1 and last_at >= 0 and classes[last_at] == 49:
                start = last_start
            last_at, last_start = at, start
            starts.add(start)
            at = classes.find(shape, at + 1)
    return sorted(starts)


def _iban_starts(classes: bytes, text: str) -> Iterator[int]:
    """Where an IBAN can start in an ASCII text: two capital letters and two digits."""
    if classes.find(b"3311") == -1:  # two letters and two digits, in any case: most texts have none
        return
    capitals = text.encode().translate(_CAPITAL_BYTES)
    start = capitals.find(b"AA11")
    while start != -1:
        yield start
        start = capitals.find(b"AA11", start + 1)


def _fr_phone_starts(classes: bytes, text: str) -> Iterator[int]:
    """Where a French number can start in an ASCII text: five pairs of digits with spaces or full stops between."""
    for shape in _FR_PHONE_CLASSES:
        start = classes.find(shape)
        while start != -1:
            yield start
            start = classes.find(shape, start + 1)


_FR_PHONE_CLASSES = (b"11211211211211", b"11511511511511")
_NATIONAL_ID_CLASSES = (b"1111114", b"1" * 17, b"11151115111411")  # ddd.ddd.ddd-dd
_CAPITAL_BYTES = bytes(65 if 65 <= byte <= 90 else 49 if 48 <= byte <= 57 else 48 for byte in range(256))
_STARTS: dict[str, Callable[[bytes, str], Iterable[int]]] = {
    "national_id": _national_id_starts,
    "iban": _iban_starts,
    "fr_phone": _fr_phone_starts,
}


def card_network(digits: str) -> bool:
    """Whether a card number's digits have a card network's prefix and length (Visa, Mastercard, American Express,
    Diners, Discover, JCB, UnionPay): one number in ten passes Luhn by chance (a library barcode, an IMEI, a book
    number). Redaction masks any Luhn-valid number all the same; the leak detector counts only these."""
    if not digits.isascii():  # digits of another script (Arabic-Indic): their values
        digits = "".join(str(int(digit)) for digit in digits)
    length, two, three, four = len(digits), int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":
        return length in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return length == 16
    if two in (34, 37):
        return length == 15
    if two in (36, 38, 39) or 300 <= three <= 305:
        return 14 <= length <= 19
    return (two in (62, 65) or four == 6011 or 644 <= three <= 649 or 3528 <= four <= 3589) and 16 <= length <= 19


def accepted(kind: str, value: str, exempt_examples: bool = True) -> bool:
    """A match of `kind`'s pattern that is real: not a placeholder; with `exempt_examples`, not an example value,
    address at an example domain, payment provider's test card number or number of no card network either."""
    if kind == "card_number":
        card_digits = re.sub(r"\D", "", value)
        if _UUID_START.match(value) or _NOT_CARD_GROUPS.match(value):  # 11111111-1111-4111-8111-…, an id
            return False
        if len(card_digits) == 13 and card_digits[0] == "1":  # a time in milliseconds (`1765157400000`): no card
            return False  # network opens with 1 (a South African id, 13 digits passing Luhn's check, stays masked)
        if not exempt_examples:
            return luhn_ok(card_digits)
        return (
            luhn_ok(card_digits)
            and card_digits not in _TEST_CARDS
            and len(set(card_digits)) >= 3
            and card_network(card_digits)
        )
    if kind in _REDACTION_ONLY:  # redaction's alone: an address a run is asked about and answers with (a customer's
        return not exempt_examples and _REDACTION_ONLY[kind](
            value
        )  # roof, a shop) is its data, no `dify_variable_leak`
    if kind in _CHECKED_IDS:
        # An account number's zeros are padding, not a filler: only identifiers are read for made-up digits.
        if not exempt_examples or kind == "iban":
            return _CHECKED_IDS[kind](value)
        return _CHECKED_IDS[kind](value) and not _example_digits(value) and (kind != "payment_card" or _paid(value))
    if _PLACEHOLDER.search(value) or (exempt_examples and _EXAMPLE.search(value)):
        return False
    if kind == "live_key":  # a random body, not a word (`my_secret_recipes…`): letters and digits, in both cases
        body = value.rsplit("_", 1)[1]  # or in one with a fifth of digits at least (hex: `hvk_live_9f3a0c…`)
        digits = sum(map(str.isdigit, body))
        return 0 < digits < len(body) and (not (body.islower() or body.isupper()) or 5 * digits >= len(body))
    if exempt_examples and kind in TAILS and _DOTTED_NAME.fullmatch(value) and not any(map(str.isdigit, value)):
        return False  # a name of code, `token = settings.api_token` (redaction masks it all the same)
    if kind == "email":
        return not (exempt_examples and EXAMPLE_DOMAINS.search(value))
    if kind == "us_phone":  # a toll-free number is a business's (`1-800-275-2273`), as China's `400-820-8820`
        return _TOLL_FREE.match(value) is None
    if kind == "jwt":
        header, claims, *signature = value.split(".", 2)
        return (bool(signature) and claims.startswith("ey")) or _is_jwt_header(header)
    if kind == "bearer_token":  # a token, not a word: "Bearer instruments"
        return len(value) >= 24 or any(char.isdigit() or char in "._~+/=-" for char in value)
    if kind == "basic_auth":
        return _is_basic_credential(value)
    return True


def _example_digits(value: str) -> bool:
    """Digits made up for an example: a counting run (`123.456.789-09`) or one digit repeated (`000000`)."""
    digits = "".join(filter(str.isdigit, value))
    return any(run in digits for run in ("123456", "234567", "345678", "456789", "987654")) or bool(
        _REPEATED_DIGIT.search(digits)
    )


_REPEATED_DIGIT = re.compile(r"(\d)\1{5}")


def _digits(value: str) -> list[int]:
    return [int(char) for char in value if char.isdigit()]


def _valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31 and not (month == 2 and day > 29) and year >= 0


def _national_id(value: str) -> bool:
    """A national identifier of `PERSONAL["national_id"]`'s shapes whose date and check digits hold."""
    digits = _digits(value)
    if "." in value:  # CPF: two check digits, mod 11
        first = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) * 10 % 11 % 10
        second = sum(d * w for d, w in zip(digits[:10], range(11, 1, -1), strict=True)) * 10 % 11 % 10
        return len(set(digits)) > 1 and digits[9:] == [first, second]
    if len(digits) == 13:  # Korean resident registration number: YYMMDD, then the holder's century and sex
        return _valid_date(digits[0] * 10 + digits[1], digits[2] * 10 + digits[3], digits[4] * 10 + digits[5])
    if len(value) == 18:  # Chinese resident identity number: region, YYYYMMDD, sequence, ISO 7064 mod 11-2
        year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
        total = sum(int(char) * (2 ** (17 - place) % 11) for place, char in enumerate(value[:17]))
        return 1900 <= year <= 2099 and _valid_date(year, month, day) and "10X98765432"[total % 11] == value[17].upper()
    # Swedish personal number: (YY)YYMMDD, a dash, four digits, Luhn over the last ten
    short = digits[-10:]
    month, day = short[2] * 10 + short[3], short[4] * 10 + short[5]
    return _valid_date(0, month, day if day <= 31 else day - 60) and luhn_ok("".join(map(str, short)))


# Account lengths of the countries using IBANs (ISO 13616 registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def _iban(value: str) -> bool:
    compact = value.replace(" ", "")
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    return int("".join(str(int(char, 36)) for char in compact[4:] + compact[:4])) % 97 == 1


def _id_number(value: str) -> bool:
    """A number a label calls a national identifier: six digits at least (`TC 34020645408`, `BSN: 284242263`), or
    four with letters (`C01X00T47`), or a German passport's or identity card's (`CNV4FNMTX`: nine of capitals
    without vowels and digits, a digit among them; branch redact13)."""
    digits = len(_digits(value))
    return (
        6 <= digits <= 20
        or (digits >= 4 and not value.isdigit())
        or (digits >= 1 and _GERMAN_DOCUMENT.fullmatch(value) is not None)
    )


# The alphabet of German passport and identity card numbers (no vowels, nor B, D, Q, S), the first letter the
# issuing authority's.
_GERMAN_DOCUMENT = re.compile(r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}")


# A seven-digit national number as written (Iceland's `581 2345`): three digits, a space or dash, four.
_SEVEN_DIGITS = re.compile(r"\d{3}[ -]\d{4}")


def _phone_number(value: str) -> bool:
    """A number a label calls a phone number: 8 to 15 digits (E.164's most), not opening with a date; or seven
    written in a 3-4 group (`_SEVEN_DIGITS`), not an amount's or a postcode's shape."""
    digits = len(_digits(value))
    return (8 <= digits <= 15 and _DATE.match(value) is None) or _SEVEN_DIGITS.fullmatch(value) is not None


def _payment_card(value: str) -> bool:
    """A number a label calls a card's: 13 to 19 digits, three different at least, passing Luhn's check or of a
    card network's shape, not both (`card_number` takes those, label or not); no payment provider's test number."""
    digits = "".join(filter(str.isdigit, value))
    return (
        13 <= len(digits) <= 19
        and len(set(digits)) >= 3
        and digits not in _TEST_CARDS
        and luhn_ok(digits) != card_network(digits)
    )


def _paid(value: str) -> bool:
    """Whether a number a label calls a card's is a payment card's by its first digit, ISO/IEC 7812's industry: 3
    travel and entertainment, 4 and 5 banking, 6 merchandising and banking (Maestro's numbers, of no shape
    `card_network` knows), or of a network's shape (Mastercard's 2-series); not a library card's barcode (`2…`,
    14 digits), a SIM card's ICCID (`89…`, telecommunications) or an airline's, an oil company's card. Redaction
    masks them all the same."""
    digits = "".join(filter(str.isdigit, value))
    return digits[0] in "3456" or card_network(digits)


_CJK = re.compile(f"[{CJK_LETTERS}]")
_ADDRESS_WORD = re.compile(r"[^\W\d_]{3,}")


# The words of an address in Chinese, Japanese and Korean: province, city, ward, county, town, road, street, number,
# block, lot, room (`省`, `市`, `区`, `県`, `町`, `路`, `号`, `丁目`, `番地`, `시`, `구`, `동`, `로`, `길`).
_CJK_ADDRESS_WORD = re.compile(r"[省市区區县縣県都道府州町村镇鎮乡鄉路街巷弄号號楼樓室丁番시도구군읍면동리로길]")


def _postal_address(value: str) -> bool:
    """What a label calls an address is a postal one: a digit (a house number, a postal code) and, in a script
    spacing its words, a space and a word of three letters (not `10.0.0.1`, `localhost:8080`, `0x…`); in Chinese,
    Japanese or Korean letters, a word of an address among them (`住在酒店3晚` is a stay, not an address)."""
    return any(char.isdigit() for char in value) and (
        _CJK_ADDRESS_WORD.search(value) is not None
        if _CJK.match(value)
        else _CJK.search(value) is not None or (" " in value and _ADDRESS_WORD.search(value) is not None)
    )


# Kinds read for redaction alone, each with its check: a date of birth or a mobile number a run is asked about is
# its data, not a leak for `dify_variable_leak` to find (branch redact14).
_REDACTION_ONLY: dict[str, Callable[[str], bool]] = {
    "postal_address": _postal_address,
    "birth_date": lambda value: True,
    "mobile_phone": lambda value: True,
}
# North America's toll-free area codes and China's service numbers (400), printed by businesses for anyone to call.
_TOLL_FREE = re.compile(r"(?:1[ .-])?\(?(?:8(?:00|33|44|55|66|77|88)|400)\b")


def _cnpj(value: str) -> bool:
    """Brazil's CNPJ: two mod-11 check digits, weighted 5..2, 9..2 and then 6..2, 9..2."""
    digits = _digits(value)
    for length in (12, 13):
        weights = [*range(length - 7, 1, -1), *range(9, 1, -1)]
        rest = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if digits[length] != (0 if rest < 2 else 11 - rest):
            return False
    return True


_DATE = re.compile(r"\d{4}[-./]\d\d[-./]\d\d|\d\d[-./]\d\d[-./]\d{4}")
_CHECKED_IDS = {
    "national_id": _national_id,
    "canadian_sin": lambda value: luhn_ok(re.sub(r"\D", "", value)),
    "iban": _iban,
    "id_number": _id_number,
    "phone_number": _phone_number,
    "payment_card": _payment_card,
    "cnpj": _cnpj,
}


def _is_basic_credential(value: str) -> bool:
    """`user:password` in base64, as HTTP Basic sends it ("Basic questions" is not)."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _is_jwt_header(segment: str) -> bool:
    """A JWT's first segment: base64url of a JSON object naming its algorithm (`{"alg":"HS256",…}`)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:  # not base64, not text, not JSON
        return False
    return isinstance(header, dict) and "alg" in header


def _any_in(literals: tuple[str, ...], text: str) -> bool:
    for literal in literals:  # noqa: SIM110 - any() over a generator costs more than the searches themselves
        if literal in text:
            return True
    return False

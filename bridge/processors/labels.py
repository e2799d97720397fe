# ruff: noqa: RUF001  (Turkish words hold the dotless i)
"""Names and labels that say the value after them is sensitive, and how that value is read after each: a password's or
a credential's name (in many languages), a bare `key`, and the labels of ids, phone numbers, cards, postal addresses
and dates of birth. bridge/processors/sensitive.py looks for the names with its literal finder and reads a value after
each with `TAILS`; `named` is the same as one expression (for tests).
"""

from __future__ import annotations

import re

# A key name that says its value is a password or a credential, then the value: quoted (to its closing quote,
# spaces and all; `\"` inside JSON text) or bare. An Authorization value's scheme is skipped.
# Fly.io's `FlyV1 fm2_…` too (branch redact12).
_SCHEME = r"(?:(?:bearer|basic|token|flyv1)[ \t]+)?"
# A value alone on the line after its name, bare or quoted (`password=\n<value>`, YAML's `password:\n  <value>`;
# a line break written `\n` inside JSON text too): one token holding a letter and a digit with nothing else on its
# line, no `:` (a YAML key: `password:\n  min_length: 8`, a URL), not a list item or a comment (`- admin`, `# …`).
# `password:` heads a list, a section or a sentence as often; those lines are words or keys, not one such token.
# YAML's block scalars (`password: |`, `>-`) and one blank line before the value count too (branch redact-attack7).
_NEXT_LINE = (
    r"(?:[ \t]*(?:[|>][-+]?[ \t]*)?(?:(?:\r?\n|(?:\\r)?\\n)[ \t]*){1,2}"
    r"(?=[\"']?[^\s\"'#:\\\x00-][^\s:\\\x00]*?[ \t]*(?:\r?\n|\\[nr\"]|$))"
    r"(?=[^\s:\\\x00]*?\d)(?=[^\s:\\\x00]*?[^\W\d_]))?"
)
# Between name and value (a "wifi" after the name left out: `mật khẩu wifi là …`): `:`, `=`, `=>`, `:=` or the
# full-width colon of Chinese and Japanese text; or, in prose, "is" (English, German, Spanish, French, Italian,
# Portuguese; 是, 为, は) or a dash or an arrow before a value that holds a digit ("the API key is 9f8e…",
# "пароль — 9f8e…", not "the password is wrong", "password - min 8").
# "Is" in more languages (branch redact-attack7): Vietnamese, Swahili, Indonesian and Malay, Georgian, Tagalog,
# Catalan, Romanian, Estonian, Croatian and Serbian, Bulgarian, Latvian, Lithuanian, Hebrew, Hindi; before a value
# holding a digit, as the others. (Thai's and Korean's, written without a space, are with Chinese and Japanese.)
_IS = "|".join(
    (
        "l\u00e0",
        "ni",
        "adalah",
        "\u10d0\u10e0\u10d8\u10e1",
        "ay",
        "\u00e9s",
        "este",
        "on",
        "je",
        "\u0435",
        "ir",
        "yra",
        "\u05d4\u05d9\u05d0",
        "\u05d4\u05d5\u05d0",
        "\u0939\u0948",
        # Arabic's and Swedish's (branch redact-8).
        "\u0647\u064a",
        "\u0647\u0648",
        "\u00e4r",
        # Danish's and Norwegian's (branch redact12).
        "er",
    )
)
# A bare value's characters; a letter of Chinese, Japanese or Korean ends it (`パスワードは8文字以上…` is a rule, and
# `密码是abc123帮我登录` holds `abc123`: a password in those scripts' letters was never seen).
_BARE = r"[^\s\"'`,;&<>(){}\[\]\\\uff0c\u3002\uff1b\u3001\uff08\uff09\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
# With no separator (branch redact-9): a value that reads as a credential, not a word, straight after the name
# (`PagerDuty routing key R0W9…`, `with password Welcome2Acme!`, `Kennwort Kw8l…`, `मेरा पासवर्ड X है`): for a
# password 8 characters or more with a letter, a digit and both cases or a symbol; for the other names 16 or more
# of a token's characters with a letter and a digit, not a date (`last auth 2026-12-07T14:45:00Z`) nor an Alibaba or
# Tencent key's id (`AccessKey LTAI…`: its secret is read after it, `alibaba_secret_key`).
_STRONG = {
    "password": rf"(?=[\"']?{_BARE}{{8}})(?=[\"']?{_BARE}*?\d)(?=[\"']?{_BARE}*?[^\W\d_])"
    rf"(?=[\"']?{_BARE}*?(?:(?-i:[A-Z]){_BARE}*?(?-i:[a-z])|(?-i:[a-z]){_BARE}*?(?-i:[A-Z])|[!@#$%^&*_+=~.-]))",
    "credential": r"(?=[\"']?[\w+/=.~:-]{16}|[\"']?[\w+/=.~:-]*\.[\w+/=.~:-]{8})(?![\"']?(?:\d{4}-\d\d-\d\d|LTAI|AKID))"
    r"(?=[\"']?[\w+/=.~:-]*?\d)(?=[\"']?[\w+/=.~:-]*?[^\W\d_])",
}
# Words between a password's name and its value (branch redact-9: `La contraseña del router es X`, `Hasło do konta:
# X`, `Мой пароль от почты X`, `הסיסמה שלי היא X`): up to three words of letters, then a separator or "is" before a
# value holding a digit, or the strong value above alone. Not for the other names: `token limit for model
# gpt-4o-2024-08-06` names no token.
# Up to five words since branch redact12 (`La contraseña de la base de datos es X`, `pw for the staging box is X`).
_WORDS = r"(?:[ \t]+[^\W\d_](?:[^\W\d_]|['\u2019-]){0,13}){1,5}?"  # letters only: a value is no word
_VALUE = (
    r"(?:[ \t]+wi-?fi|#\}\})?[\"'\\]{0,7}(?:[ \t]*(?:=>|:=|[:=\uff1a])"
    + _NEXT_LINE
    + r"|[ \t]+(?:is|ist|lautet|es|est|\u00e8|\u00e9|-|->|\u2013|\u2014|\u2192|"
    + _IS
    + r")[ \t]+(?=\S{0,80}\d)"
    r"|[ \t]*(?:[\u662f\u4e3a\u70ba\u306f\ub294\uc740]|\u0e04\u0e37\u0e2d)[ \t]*(?=\S{0,80}\d)"
    r"%s)[ \t]*(?:[bru]{1,2}(?=[\"']))?(?:\\{0,7}\""
    + _SCHEME
    + r"([^\"\\\r\n]{%d,})|'"
    + _SCHEME
    + r"([^'\\\r\n]{%d,})|"
    + _SCHEME
    + rf"({_BARE}{{%d,}}))"
)
# A value that reads as random, not as a word, a name or a number (branch redact12): 16 of a token's characters
# mixing capitals, small letters and digits; a UUID; or 32 hex digits. What a key after a name that says nothing
# more (`key=…`, `Exa key: <uuid>`) or after words (`Token di accesso: …`, `signing key loaded: …`) must be.
_RANDOM = (
    r"(?=[\"']?(?:(?=[\w+/=.~-]{0,63}?(?-i:[A-Z]))(?=[\w+/=.~-]{0,63}?(?-i:[a-z]))(?=[\w+/=.~-]{0,63}?\d)[\w+/=.~-]{16}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}))"
)
# The separators each kind adds to `_VALUE`'s. Thai writes "my" (`ของฉัน`) between name and "is" without a space.
# A name in Chinese or Japanese letters takes the strong value with no space too (`二级密码Hmeta8039*才能`,
# `令牌ZnCZ8…已过期`: those scripts write none), or after up to six Chinese letters and a separator (`密码后半段`,
# "the password's second half"); words then an arrow, "is" or "to" before a random credential (`the
# shared secret for the webhook -> …`, `{{#env.erp_token#}} resolved to …`) (branch redact14).
_AFTER_CJK_NAME = "(?<=[\u3040-\u30ff\u3400-\u9fff])"
_MORE_SEPARATORS = {
    "password": rf"|{_WORDS}(?:[ \t]*[:=\uff1a]|[ \t]+(?:is|ist|lautet|es|est|\u00e8|\u00e9|to|-|\u2013|\u2014|{_IS}))"
    rf"[ \t]+(?=[\"']?{_BARE}*?\d)|(?:(?:{_WORDS})?[ \t]+|{_AFTER_CJK_NAME}){_STRONG['password']}"
    rf"|{_AFTER_CJK_NAME}[\u3400-\u9fff]{{1,6}}?[ \t]*[:=\uff1a][ \t]*{_STRONG['password']}"
    r"|[\u0e00-\u0e7f]{1,12}?\u0e04\u0e37\u0e2d[ \t]*(?=\S{0,80}\d)",
    "credential": rf"|(?:[ \t]+|{_AFTER_CJK_NAME}){_STRONG['credential']}"
    rf"|{_WORDS}(?:[ \t]*[:=\uff1a]|[ \t]+(?:->|\u2192|is|to))[ \t]*{_RANDOM}",
}
# Names ending in `…key` that hold credentials (not `primary_key`, `sort_key`, a bare `key`).
_KEY_NAMES = ("api", "access", "account", "auth", "private", "signing", "encryption", "license", "master",
              "sharedaccess", "subscription", "client", "secret", "session", "app", "routing",
              # Datadog's `DD-APPLICATION-KEY`, LaunchDarkly's `sdk key`, Segment's `write key` (branch redact-9).
              "application", "sdk", "write",
              # Vault's unseal keys (branch redact12); a payment merchant's key (WeChat Pay's, Alipay's: branch
              # redact14).
              "unseal", "merchant")  # fmt: skip
# Key names that say their value is a password or credential, each with what must hold before it: nothing
# (`DB_PASSWORD`), no letter (`pass`, not `bypass`), `?` or `&` (`sig`, a URL's signature); and the fewest
# characters of a value.
# No letter before a name may still be the `n` of an escaped line break in JSON text (`…\nAuthorization: …`).
# A capital after a small letter starts a word too: `smtpPass`, `dbPassword` (branch redact12).
_NO_LETTER, _QUERY = r"(?:(?<![a-z])|(?<=\\[nrt])|(?-i:(?<=[a-z])(?=[A-Z])))", r"(?<=[?&])"
NAMES: dict[str, tuple[dict[str, str], int]] = {
    "password": ({"password": "", "passwd": "", "passphrase": "", "pwd": _NO_LETTER, "pass": _NO_LETTER,
                  "passwort": "", "kennwort": "", "contraseña": "", "contrasena": "", "mot de passe": "",
                  "senha": _NO_LETTER, "wachtwoord": "", "hasło": "", "haslo": "", "şifre": _NO_LETTER,
                  "lösenord": "", "lösenordet": "", "losenord": "", "adgangskode": "", "passord": "", "salasana": "",
                  "heslo": _NO_LETTER,
                  "пароль": "", "κωδικόσ πρόσβασησ": "", "סיסמה": "", "كلمة المرور": "", "पासवर्ड": "",
                  "รหัสผ่าน": "", "mật khẩu": "", "kata sandi": "", "nenosiri": "", "비밀번호": "",
                  "密码": "", "密碼": "", "口令": "", "パスワード": ""}, 6),
    "credential": (
        {"secret": "", "token": "", "credential": "", "credentials": "", "creds": "", "auth": _NO_LETTER,
         "authorization": _NO_LETTER, "sig": _QUERY, "密钥": "", "秘钥": "", "令牌": "", "トークン": "",
         "apiキー": "", "api-schlüssel": "", "api-schluessel": "", "clave de api": "", "clave api": "",
         # An API key in other languages (Swedish, Danish, Norwegian, Finnish, Dutch, French, Portuguese, Italian,
         # Polish, Turkish, Russian and Ukrainian, Greek, Czech, Hebrew, Arabic, Hindi, Vietnamese, Indonesian,
         # Swahili, Korean).
         **{f"api{sep}{word}": "" for word in ("nyckel", "nøgle", "nøkkel", "avain", "sleutel", "ключ", "κλειδί",
                                                "klíč", "키") for sep in ("-", " ", "")},
         "clé api": "", "clé d'api": "", "cle api": "", "chave de api": "", "chave api": "", "chiave api": "",
         "klucz api": "", "api anahtarı": "", "ключ api": "", "מפתח api": "", "مفتاح api": "", "api कुंजी": "",
         "khóa api": "", "kunci api": "", "ufunguo wa api": "",
         **{f"{name}{sep}key": "" for name in _KEY_NAMES for sep in ("", "_", "-", ".", " ")}},
        8,
    ),
}  # fmt: skip
# More names, added apart from the table above: session cookies (`Cookie: sessionid=…`, PHP's `PHPSESSID`, Java's
# `JSESSIONID`, Express's `connect.sid`, Flask's and Rails' `session` after `Cookie:` or `;`), Rails'
# `SECRET_KEY_BASE`, a URL's `?key=` (Google's and many APIs' keys), French `mdp`, Spanish `clave de acceso` and
# `clave secreta` (`clave` alone is also "key word"), Italian `parola d'ordine` (`parola` alone is "word"),
# Japanese `暗証番号` (a PIN); Persian `گذرواژه`, `رمز عبور`, `کلمه عبور`, Arabic `كلمة السر` and a JSON key's
# `كلمة_المرور`, Russian `токен` (branch redact-attack6).
NAMES["credential"][0].update(
    {"sessionid": "", "sessid": "", "connect.sid": "", "cookie: session": "", "cookie:session": "", "; session": "",
     "secret_key_base": "", "?key": "", "&key": "", "токен": "",
     # WireGuard's and Wi-Fi's pre-shared keys, a wallet's `privkey` (branch redact-attack7).
     "presharedkey": "", "preshared key": "", "pre-shared key": "", "psk": _NO_LETTER, "privkey": "",
     # A signed URL's signature: S3's and GCS's presigned URLs, CloudFront's and S3's older query form (branch
     # redact-8).
     "x-amz-signature": _QUERY, "x-goog-signature": _QUERY, "signature": _QUERY,
     # Session cookies of GitHub, Laravel and LinkedIn; an Azure DevOps PAT (`AZURE_DEVOPS_EXT_PAT`, `DevOps PAT:`)
     # (branch redact-9).
     "_gh_sess": "", "user_session": "", "laravel_session": "", "li_at": _NO_LETTER, "_pat": "", "devops pat": "",
     # An Apple ID's or BitLocker's recovery key, Honeycomb's key as an OTLP header, Rails' session cookie
     # (`_<app>_session`) (branch redact11).
     "recovery key": "", "x-honeycomb-team": "", "_session": "",
     # The `sid` cookie, Rails' `_session_id` (branch redact12).
     "cookie: sid": "", "cookie:sid": "", "; sid": "", "_session_id": "",
     # A mail provider's SMTP authorisation code (QQ Mail's, 163's `auth_code`, `授权码`), a query's request signature
     # (`&sign=`) and Baidu's access key (`&ak=`) (branch redact14).
     "auth_code": "", "authcode": "", "授权码": "", "授權碼": "", "sign": _QUERY, "ak": _QUERY}
)  # fmt: skip
NAMES["password"][0].update(
    {"mdp": _NO_LETTER, "clave de acceso": "", "clave secreta": "", "parola d'ordine": "", "暗証番号": "",
     "گذرواژه": "", "رمز عبور": "", "کلمه عبور": "", "كلمة السر": "", "كلمة_المرور": ""}
)  # fmt: skip
# And in more languages (branch redact-attack7): Georgian, Armenian, Hungarian, Croatian, Serbian and Bosnian,
# Bulgarian, Lithuanian, Latvian, Estonian, Icelandic, Catalan, Albanian, Romanian, Slovenian, Afrikaans, Malay,
# Azerbaijani, Uzbek, Kazakh, Mongolian, Bengali, Urdu, Tamil, Greek, Turkish's possessive, Hebrew's other spelling,
# Persian's and Arabic's `رمز`, Indonesian's `kata sandinya`, Swahili's `nenosiri yangu`; `passcode`, `pw`. Greek
# names are written with the final sigma casefolded, as the scan folds text other than ASCII.
NAMES["password"][0].update(
    {"პაროლი": "", "գաղտնաբառ": "", "jelszó": _NO_LETTER, "jelszo": _NO_LETTER, "lozinka": "", "лозинка": "",
     "парола": "", "паролата": "", "slaptažodis": "", "slaptazodis": "", "parole": _NO_LETTER, "parool": _NO_LETTER,
     "lykilorð": "", "contrasenya": "", "fjalëkalimi": "", "fjalekalimi": "", "parolă": "", "geslo": _NO_LETTER,
     "wagwoord": "", "kata laluan": "", "şifrə": _NO_LETTER, "parol": _NO_LETTER, "құпия сөз": "", "нууц үг": "",
     "পাসওয়ার্ড": "", "پاس ورڈ": "", "கடவுச்சொல்": "", "κωδικόσ": "", "parolası": "", "סיסמא": "",
     "رمز": "", "kata sandinya": "", "nenosiri yangu": "", "passcode": "", "pw": _NO_LETTER,
     # OCI's config `pass_phrase`, Turkish "my password", "your password" (branch redact-9).
     "pass_phrase": "", "şifrem": _NO_LETTER, "şifreniz": _NO_LETTER,
     # Danish's and Norwegian's "the password", Romanian "my password" (`parola` alone is Italian "word") (branch
     # redact12).
     "adgangskoden": "", "passordet": "", "parola mea": "",
     # Korean's everyday short form of 비밀번호 (branch redact13).
     "비번": ""}
)  # fmt: skip


# Labels saying that the number after them is a person's national identifier, in the languages of the
# countries that write them so: a tax, social security, citizen or identity card number. A bare run of digits is
# as likely an order number; the label is what makes it a person's.
ID_LABELS: dict[str, str] = {
    label: _NO_LETTER
    for label in (
        "national id", "national_id", "national identity number", "id number", "identity number", "id card number",
        "personal number", "ssn", "social security number", "pnr", "tc", "t.c.", "tckn", "tc kimlik", "kimlik no",
        "kimlik numarası", "pesel", "bsn", "burgerservicenummer", "personnummer", "fødselsnummer", "cpr-nr",
        "cpr", "henkilötunnus", "hetu", "steuer-id", "steueridentifikationsnummer", "sozialversicherungsnummer",
        "ahv-nr", "dni", "nie", "nif", "cpf", "curp", "codice fiscale", "numéro de sécurité sociale", "nir",
        "nik", "ktp", "cccd", "cmnd", "căn cước", "aadhaar", "आधार", "инн", "снилс", "рнокпп", "іпн", "αμκα",
        "αφμ", "rodné číslo", "ת.ז.", "ת\"ז", "תעודת זהות", "رقم الهوية", "الرقم القومي", "เลขประจำตัวประชาชน",
        "kitambulisho", "nida", "身份证号", "身份证", "身份證", "身分證", "マイナンバー", "個人番号", "주민등록번호",
        "외국인등록번호",
        # A person's tax number (a company's is its VAT number, not read).
        "tax id", "tax_id", "tax-id", "taxid", "tax number", "taxpayer id", "tax identification number",
        "steuernummer", "الرقم الضريبي", "رقم ضريبي", "税号", "纳税人识别号",
        # Passports, driving licences, the UK's National Insurance, India's PAN, Singapore's NRIC, Argentina's CUIL,
        # Chile's RUT, Belgium's national number, France's social security number, Pakistan's CNIC, Canada's SIN,
        # Australia's TFN, Iran's national code, a Spanish "documento" (branch redact-attack7).
        "passport", "passport no", "passport number", "reisepass", "pasaporte", "passeport",
        "passaporto", "passaporte", "paszport", "pasaport", "паспорт", "护照", "護照", "パスポート", "여권", "דרכון",
        "جواز السفر", "पासपोर्ट", "hộ chiếu", "driver's license", "drivers license", "driver license",
        "driving licence", "führerschein", "national insurance", "ni number", "nino", "pan card", "pan number",
        "pan no", "nric", "cuil", "cuit", "rut", "cnp", "rijksregisternummer", "numéro de sécu", "cnic", "sin:",
        "sin number",
        "sin no", "social insurance number", "tfn", "tax file number", "کد ملی", "شماره ملی", "documento",
        # Thailand's ID card, Ireland's PPS, the Saudi national ID, Israel's, Mexico's RFC, a German passport's
        # number, a Russian passport's series and number, a bank account's number (branch redact-9).
        "เลขบัตรประชาชน", "pps", "ppsn", "رقم الهوية الوطنية", "teudat zehut", "rfc", "passnummer", "паспорт серия",
        "account number", "account no", "bank account",
        # India's PAN after `PAN:`, Denmark's `CPR-nummer`, a passport's `No.` and a JSON field's name, the UAE's
        # Emirates ID (`784-1990-…`, masked as a card before cards had to open with a group of four) (branch redact11).
        "pan:", "cpr-nummer", "passport no.", "passport_number", "passport_no", "emirates id",
        # The UK's NHS number, Hong Kong's HKID (`A123456(7)`) (branch redact12).
        "nhs", "hkid",
        # The ids Dify's users in China, Japan, Korea, India, Brazil, Mexico and Germany carry besides their
        # identity card (branch redact13): Chinese travel permits (`港澳通行证`, `台胞证`), Japanese passports
        # (`旅券`), driving licences (`運転免許証`, `운전면허`) and residence cards (`在留カード`), Korean `주민번호`
        # (short for 주민등록번호); bank accounts in Japanese, Korean and Chinese (`口座番号`, `계좌번호`, `银行账号`);
        # India's PAN as a JSON key (`"pan": …`); Brazil's RG; Mexico's voter key (`clave de elector`); a German
        # identity card (`Personalausweis`, `Ausweisnummer`).
        "通行证", "通行證", "台胞证", "台胞證", "旅券", "運転免許証", "免許証番号", "在留カード", "주민번호",
        "운전면허", "외국인등록", "口座番号", "계좌번호", "银行账号", "銀行帳號", "\"pan\"", "rg:", "rg nº",
        "clave de elector", "personalausweis", "ausweisnummer", "ausweis-nr",
    )
}  # fmt: skip
# Labels saying that the number after them is a phone number: a number of a country's own format (`090-8916-6860`,
# `SĐT 095 564 824`, a JSON field `"phone": "13854335237"`), which without a label is as likely an order number
# (an international one, `+34 …`, is read without: `PERSONAL["phone"]`). Fields named so too (`phone_number`,
# `contact_phone`): no condition before a label but for `tel` (not `hotel`, `Intel`).
PHONE_LABELS: dict[str, str] = {
    **dict.fromkeys(
        ("phone", "telephone", "mobile", "cell", "handy", "telefon", "teléfono", "telefono", "téléphone", "telefone",
         "telefoon", "mobiel", "móvil", "movil", "celular", "cellulare", "puhelin", "numer telefonu", "gsm",
         "телефон", "τηλέφωνο", "טלפון", "هاتف", "الهاتف", "جوال", "फ़ोन", "फोन", "मोबाइल", "โทรศัพท์", "เบอร์โทร",
         "sđt", "điện thoại", "telepon", "nomor hp", "namba ya simu", "电话", "電話", "手机", "手機", "携帯", "전화",
         "휴대폰",
         # Mobile, cell and phone in more languages (session 27): Danish, Norwegian, Swedish, German and Czech
         # `mobil`, Estonian, Slovak, Croatian, Polish, Turkish, Indonesian, Portuguese, French, Russian, Ukrainian,
         # Greek, Hebrew, Arabic, Japanese, Korean, Vietnamese, Swahili, Icelandic.
         "mobiil", "mobilný", "mobilní", "mobitel", "komórka", "komorka", "cep telefonu", "ponsel", "handphone",
         "telemóvel", "telemovel", "portable", "cellulaire", "мобильный", "мобільний", "κινητό", "κινητο", "נייד",
         "موبايل", "ケータイ", "핸드폰", "di động", "simu", "farsími", "símanúmer",
         # Phone in more languages (session 28): Irish, Maltese, Mongolian, Amharic, Tigrinya, Sinhala, Tamil,
         # Bengali, Persian, Urdu, Georgian, Armenian, Khmer, Lao, Burmese, Latvian, Lithuanian, Yoruba, Zulu.
         "guthán", "mowbajl", "telefown", "утас", "ስልክ", "ቴሌፎን", "දුරකථන", "ජංගම", "தொலைபேசி", "கைபேசி", "ফোন",
         "تلفن", "فون", "ტელეფონი", "მობილური", "հեռախոս", "ទូរស័ព្ទ", "ໂທລະສັບ", "ဖုန်း", "tālrunis", "mobilais",
         "telefonas", "foonu", "ucingo", "inombolo",
         # Korean "contact", Chinese "contact number", WhatsApp (branch redact14).
         "연락처", "联系方式", "聯繫方式", "whatsapp"),
        "",
    ),
    # Short ones after no letter: `mobil` (not `Automobil`), `sími`, `puh.`, `tlf.`, `tfn`, `mob.`, Irish `fón`.
    **dict.fromkeys(
        ("tel", "тел", "τηλ", "mobil", "mob", "sími", "síma", "puh", "tlf", "tfn", "fón", "fon"), _NO_LETTER
    ),
}  # fmt: skip
# After the label: an inflection's letters (after a label of five letters at least, not `fon` in `fond`; Latin or
# Cyrillic: `telefoni`, `телефона`; up to three), a word for "number"
# (`phone_number`, `Tel. Nr.`, `手机号`), a colon, then the number: an area code in brackets maybe, groups of digits
# with single spaces, dashes or dots between them (`accepted` counts 8 to 15 digits, or 7 in a 3-4 group:
# `_phone_number`); Ethiopic's colon (`፡`) too.
_PHONE_VALUE = (
    r"(?:(?<=[^\W\d_]{5})[a-zß-öø-ÿā-žа-яёіїєґ]{1,3}(?![^\W\d_]))?"
    r"(?:[ \t]*[_.-]?[ \t]*(?:number|no|nr|num|nummer|numero|número|番号|号码|號碼|号|號|번호))?\.?"
    r"[\"'\\]{0,3}[ \t]*(?:[:=#\uff1a\u1361][ \t]*)?[\"'\\]{0,3}"
    r"(?:[ \t]+is[ \t]+|[\u662f\u4e3a\u70ba\u306f\ub294\uc740][ \t]*)?"  # `我的手机号是…` (branch redact14)
    r"(\+?(?:\(\d{1,5}\)[ .-]?)?\d+(?:[ .-]\(?\d+\)?){0,5})(?![\w-]|[.,]\d)"
)
# Letters of Chinese, Japanese and Korean: a number written straight after or before one is a word of its own
# (`卡号6228…`, `個人番号は6954…です`), as the scripts write no space (branch redact13).
CJK_LETTERS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
# Labels saying that the number after them is a payment card's (`card_on_file`, `My card is …`, `卡号是`,
# `kortilta`), with up to 20 characters between them and the number, and the number: 13 to 19 digits, single spaces
# or dashes between them. The label makes a number of a card network's shape or passing Luhn's check a card
# (`accepted`): without one it takes both.
CARD_LABELS: dict[str, str] = dict.fromkeys(
    ("card", "kart", "kort", "carte", "carta", "cartão", "cartao", "tarjeta", "thẻ", "kadi", "карт", "κάρτα",
     "כרטיס", "بطاقة", "कार्ड", "บัตร", "卡号", "卡號", "银行卡", "信用卡", "カード", "카드"),
    "",
)  # fmt: skip
# Not past a word naming the number another thing (`card transaction ID: …`, `Kartenbestellung Nr. …`, `卡订单号`):
# an order's, a transaction's, an invoice's, a reference's, a tracking, serial or SIM number.
_CARD_VALUE = (
    r"(?:(?!\bid\b|ref|order|transa|tracking|invoice|serial|barcode|imei|iccid|pedido|bestell|auftrag|rechnung|"
    r"commande|ordine|factur|fattur|zamówien|sipariş|заказ|транзакц|订单|交易|流水|发票|注文|取引|주문|거래)"
    r"[^\d\n\x00]){0,20}?(\d(?:[ -]?\d){12,18})(?![^\W" + CJK_LETTERS + r"]|-|[.,]\d)"
)
# "Is" between an id's label and its number (`身份证号码是…`, `meu CPF é …`, `mi CURP es …`, `My aadhaar number is
# …`, `個人番号は…`, `주민번호는 …`) (branch redact13).
_ID_IS = r"(?:[ \t]+(?:is|es|est|ist|é|è)[ \t]+|[ \t]*[\u662f\u4e3a\u70ba\u306f\ub294\uc740][ \t]*)?"
# After the label: a colon, `No.`, `Nr.`, a word for "number", then the number: digits with dots, dashes or
# slashes between them (`19870312-4521`, `123.456.789-09`), a letter at either end (`X1234567L`), or groups of
# two to four digits (`123 456 789`); capitals and digits (a passport's `C01X00T47`, a PAN's `ABCPE1234F`; not
# base64, which mixes cases), a
# National Insurance number in groups (`QQ 12 34 56 C`), a licence's letter and groups of digits.
_ID_VALUE = (
    r"(?:[ \t]*[\uff08(][^\uff09)\n]{1,12}[\uff09)])?"  # a bracket after the label: `個人番号(マイナンバー):`
    r"[\"'\\]{0,3}[ \t]*(?:[:=#\uff1a][ \t]*|(?:-?n[ro]|n[º°])\.?[ \t]*|(?:number|nummer|numéro|número|numero|"
    r"numarası|numara|číslo|号码|號碼|字號|字号|号|號|번호|番号|नंबर)[ \t]*[:#\uff1a]?[ \t]*)?"
    + _ID_IS
    + r"[\"'\\]{0,3}"
    r"((?-i:[A-Z]{1,2}\d{6}\([0-9A]\))|[A-Z]?\d(?:\d|[./-](?=\d)){4,22}\d[A-Z]?|\d{2,4}(?: \d{2,4}){2,5}"
    r"|\d\d ?\d\d \d{6}"
    r"|(?-i:(?=[A-Z0-9]{0,19}\d)(?=[A-Z0-9]{0,19}[A-Z])[A-Z0-9]{7,20}|[A-Z]{2}(?: \d\d){3} [A-D]"
    r"|[A-Z]\d{3,5}(?:-\d{3,6}){1,3}))(?![^\W" + CJK_LETTERS + r"]|-)"
)
# A bare `key` (`key=…`, `Exa key: <uuid>`, `{"Key": "…"}`: a name that says nothing more), then a separator and
# a value that reads as random (branch redact12): a `primary_key: user_id` or `key: Content-Type` is no secret.
_KEY_VALUE = (
    r"[\"'\\]{0,3}[ \t]*(?:=>|:=|[:=\uff1a])[ \t]*(?:[bru]{1,2}(?=[\"']))?(?:\\?\""
    + _RANDOM
    + r"([^\"\\\r\n]{16,})|'"
    + _RANDOM
    + r"([^'\\\r\n]{16,})|"
    + _RANDOM
    + rf"({_BARE}{{16,}}))"
)
# A postal address after its label (branch redact12: `Ship to:`, `Lieferadresse:`, `住所` and a full-width colon), to
# the end of its line or a `;`: a digit and, in Latin or Cyrillic script, a space and a word (`_postal_address`).
# Not an IP, MAC, e-mail, wallet, web or server address.
_NOT_OTHER_ADDRESS = (
    r"(?<![a-z])(?<!ip[ _.-])(?<!ipv4[ _.-])(?<!ipv6[ _.-])(?<!mac[ _.-])(?<!mail[ _.-])(?<!wallet[ _.-])"
    r"(?<!contract[ _.-])(?<!web[ _.-])(?<!server[ _.-])(?<!remote[ _.-])(?<!local[ _.-])(?<!memory[ _.-])"
    r"(?<!bitcoin[ _.-])(?<!listen[ _.-])(?<!bind[ _.-])"
)
ADDRESS_LABELS: dict[str, str] = dict.fromkeys(
    ("address", "mailing address", "ship to", "deliver to", "bill to", "adresse", "anschrift", "lieferadresse",
     "rechnungsadresse", "dirección", "direccion", "domicilio", "indirizzo", "endereço", "endereco", "adres",
     "adress", "osoite", "адрес", "διεύθυνση", "כתובת", "ที่อยู่", "địa chỉ", "alamat", "住所", "地址", "住址",
     "주소",
     # Japanese "deliver to" (`お届け先`, `配送先`, `送付先`), Korean "shipping address"; Chinese "live at", "send
     # to" (`我住在…`, `寄到…`), written with no separator before the address (branch redact13).
     "届け先", "配送先", "送付先", "배송지", "住在", "寄到", "送到",
     # "I live at", Chinese "my home is in" (`家住…`) (branch redact14).
     "live at", "lives at", "living at", "家住"),
    _NOT_OTHER_ADDRESS,
)  # fmt: skip
# After the label a colon, "is" (`my address is …`, `地址是…`; branch redact13), or nothing before an address in
# Chinese, Japanese or Korean letters (`我住在上海市…`): those must then hold a word of an address (`_postal_address`);
# or the address in brackets, full-width too, to the closing one (`旧住所` and `札幌市西3-2-1` in them: a recorded
# run's).
_ADDRESS_VALUE = (
    r"[\"'\\]{0,3}(?:(?:[ \t]*[:\uff1a]|[ \t]+(?:is|ist|es|est|é|è)[ \t]|[ \t]*[\u662f\u4e3a\u306f\ub294\uc740]"
    r"|(?<=at)[ \t]+(?=\d)"  # `I live at 22 Baker Street` (branch redact14)
    r"|(?=[ \t]*[" + CJK_LETTERS + r"]))[ \t]*[\"'\\]{0,3}[ \t]*([^\s\"|<>{}\\\x00;][^\n\r\"|<>{}\\\x00;]{5,119})"
    r"|[ \t]*[(\uff08]([^\s\"|<>{}\\\x00;)\uff09][^\n\r\"|<>{}\\\x00;)\uff09]{4,119})[)\uff09])"
)
# A date of birth after its label (branch redact14): `Date of birth: 14/02/1988`, `DOB 1976-05-12`, `"birthday":
# "2001-09-30"`, `出生日期` and `1995年7月1日`, `生日1999-01-01`; a date of digits, or a month's name between.
BIRTH_LABELS: dict[str, str] = dict.fromkeys(
    ("date of birth", "birth date", "birthdate", "birth_date", "dob", "d.o.b.", "birthday", "born on", "born",
     "geburtsdatum", "geboren am", "date de naissance", "né le", "née le", "fecha de nacimiento",
     "data di nascita", "data de nascimento", "дата рождения", "出生日期", "出生年月日", "出生年月", "出生于",
     "生日", "生年月日", "誕生日", "생년월일"),
    _NO_LETTER,
)  # fmt: skip
_BIRTH_VALUE = (
    r"[\"'\\]{0,3}(?:[ \t]*[:=\uff1a]|[ \t]+(?:is|on|am|le|el))?[ \t]*[\"'\\]{0,3}[ \t]*"
    r"(?:[\u662f\u4e3a\u306f\ub294\uc740\u4e8e][ \t]*)?"
    r"(\d{4}(?:[-/.]\d{1,2}[-/.]\d{1,2}|[ \t]*\u5e74[ \t]*\d{1,2}[ \t]*\u6708[ \t]*\d{1,2}[ \t]*[\u65e5\u53f7]?)"
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{1,2}\.?[ \t][^\W\d_]{3,9}\.?[ \t]\d{4}"
    r"|[^\W\d_]{3,9}\.?[ \t]\d{1,2},?[ \t]\d{4})"
    r"(?![0-9A-Za-z_-]|[.,]\d)"
)
BEFORE = {before: re.compile("(?i)" + before) for before in (_NO_LETTER, _QUERY, _NOT_OTHER_ADDRESS)}
# Label → what must hold before it, for each kind read after a label.
LABELS: dict[str, dict[str, str]] = {
    **{kind: names for kind, (names, _) in NAMES.items()},
    # "Key" in Portuguese, Spanish, French, Italian, German, Japanese and Korean too, and Brazil's Pix key, whose
    # random form is a UUID (`chave Pix: <uuid>`) (branch redact13).
    "named_key": dict.fromkeys(
        ("key", "chave", "chave pix", "clave", "clé", "chiave", "schlüssel", "キー", "키"), _NO_LETTER
    ),
    "id_number": ID_LABELS,
    "phone_number": PHONE_LABELS,
    "payment_card": CARD_LABELS,
    "postal_address": ADDRESS_LABELS,
    "birth_date": BIRTH_LABELS,
}
TAILS = {
    **{
        kind: re.compile("(?i)" + _VALUE % (_MORE_SEPARATORS[kind], *(shortest,) * 3))
        for kind, (_, shortest) in NAMES.items()
    },
    "named_key": re.compile("(?i)" + _KEY_VALUE),
    "id_number": re.compile("(?i)" + _ID_VALUE),
    "phone_number": re.compile("(?i)" + _PHONE_VALUE),
    "payment_card": re.compile("(?i)" + _CARD_VALUE),
    "postal_address": re.compile("(?i)" + _ADDRESS_VALUE),
    "birth_date": re.compile("(?i)" + _BIRTH_VALUE),
}


def named(kind: str) -> re.Pattern[str]:
    """What `sensitive_values` finds for a kind of `LABELS`, as one expression (for tests: the scan looks for
    the names with the literal finder and reads a value after each)."""
    alternatives = "|".join(before + re.escape(name) for name, before in LABELS[kind].items())
    return re.compile(f"(?i)(?:{alternatives}){TAILS[kind].pattern[4:]}")


ALL_ENDINGS = tuple(name for names, _ in NAMES.values() for name in names)

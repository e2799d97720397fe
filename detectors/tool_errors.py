# ruff: noqa: RUF001  (Chinese and Japanese wordings use full-width punctuation)
"""How errors are worded, for `dify_tool_schema_mismatch`: a tool refusing its inputs (validators' wordings, or
an error naming one of the tool's own inputs with a type, format or required-field word), failures about
access, capacity or the service, a value naming nothing found, and a program failing on a field or a type
it read.
"""

from __future__ import annotations

import re
from typing import Any


class Wordings:
    """A family of wordings as two patterns: Latin-script ones, matched ignoring case, and those of scripts
    without case (Chinese, Japanese, Korean, Arabic), matched as they are and only in a text that is not
    plain ASCII. One pattern ignoring case over every script is three times slower (folding each
    alternative)."""

    def __init__(self, latin: str, other: str) -> None:
        self._latin, self._other = re.compile(latin), re.compile(other)

    def search(self, text: str) -> re.Match[str] | None:
        return self._latin.search(text) or (None if text.isascii() else self._other.search(text))


# Types a validator names (JSON Schema's, Python's, pydantic's, and in other languages).
_TYPE_NAMES = (
    r"(?:int|integer|number|numeric|str|string|bool|boolean|float|double|decimal|array|list|object|dict|mapping|"
    r"null|None)"
)
# How validators word a refused input: JSON Schema (`is not of type`, `is a required property`, `is not one of`,
# `Additional properties are not allowed`), Ajv (`must have required property`, `must be integer`), pydantic v1
# (`field required`, `value is not a valid float`, `ensure this value is greater than 0`, `str type expected`) and v2
# (`Input should be a valid integer`, `Extra inputs are not permitted`), Zod (`Expected number, received string`),
# Python's own (`unexpected keyword argument`, with or without the function before it, `could not convert string to
# float`, `invalid literal for int()`), Dify's (`Missing required parameter`, `tool parameters validation error`, `is
# not in correct type of`), OpenAPI tool servers (422 bodies), and their German, Spanish, French, Portuguese, Italian,
# Dutch, Polish, Korean, Arabic, Chinese and Japanese wordings.
SCHEMA_ERROR = Wordings(
    r"(?i)\b(?:missing|required|invalid|unexpected|unknown|extra|unrecognized)\s+(?:required\s+)?"
    r"(?:parameters?|arguments?|fields?|propert(?:y|ies)|inputs?|keys?)\b"
    r"|\bvalidation (?:error|failed)|\bis a required (?:property|field|parameter)|\bfield required\b"
    r"|\bunexpected keyword arguments?\b|\bis not of type\b|\bshould be (?:a|an) (?:valid )?\w+\b"
    r"|\bexpected (?:type|a|an|one of) \w+|\bTypeError\b|\bschema\b|\bis mandatory\b|\bnot (?:supplied|provided)\b"
    r"|\bmust be (?:(?:a|an|one of|less|greater|at most|at least)\b|[<>]=?)|\bnot a valid \w+|\bunsupported parameter\b"
    r"|\brequired field\b"
    # A type expected, or one expected and another got: "expects type integer", "expected array … got object".
    rf"|\bexpects?\s+(?:type\s+)?(?:an?\s+)?(?:valid\s+)?{_TYPE_NAMES}\b|\bexpects? one of\b"
    rf"|\bexpected\s+(?:type\s+)?{_TYPE_NAMES}\b"
    rf"|\b(?:must|should) be (?:of type |an? )?{_TYPE_NAMES}\b|\b{_TYPE_NAMES} type expected\b"
    r"|\bis not in correct type\b|\b(?:is|are) not one of\b|\bis too (?:long|short)\b"
    r"|\bensure this value\b|\binput should be\b|\b(?:extra|additional) (?:inputs|fields|properties) (?:are )?not"
    r"|\bmust (?:have|NOT have) (?:required|additional) propert|\bis (?:less|greater) than the (?:minimum|maximum)"
    rf"|\bcould not convert (?:string|str|value)\b|\binvalid literal for\b|\bunable to parse (?:string|input)\b"
    # German, Spanish, French: a type named after "must be", or a parameter or field said to be required.
    r"|\bmuss (?:eine?n? )?(?:Zahl|Ganzzahl|Zeichenkette|String|Liste|Objekt|Boolean)\b"
    r"|\bmuss vom Typ\b|\bPflicht(?:feld|parameter)"
    r"|\b(?:Parameter|Feld|Argument|Wert)\b[^.\n]{0,40}?\b(?:ist|sind) (?:erforderlich|Pflicht)"
    r"|\b(?:fehlende[rsn]?|unbekannte[rsn]?|ung[üu]ltige[rsn]?) (?:Parameter|Argument|Feld|Wert|Typ)"
    r"|\bdebe ser (?:un |una |de tipo )?(?:n[uú]mero|entero|cadena|texto|lista|objeto|booleano|v[aá]lid[oa])\b"
    r"|\b(?:par[aá]metro|campo|argumento)\b[^.\n]{0,40}?\bes (?:obligatori|requerid)[oa]\b"
    r"|\bse esperaba (?:un|una|tipo)\b"
    r"|\bpar[aá]metros? (?:obligatori|requerid|desconocid|inv[aá]lid)|\bfalta(?:n)? (?:el |los )?(?:par[aá]metro|campo)"
    r"|\bdoit [eê]tre (?:un |une |de type )?(?:nombre|entier|cha[iî]ne|liste|objet|bool[ée]en|valide)\b"
    r"|\b(?:param[eè]tre|champ|argument)\b[^.\n]{0,40}?\best (?:obligatoire|requis)\b"
    r"|\bparam[eè]tres? (?:manquant|requis|obligatoire|inconnu|invalide)|\bchamps? (?:obligatoire|requis|manquant)"
    # Portuguese, Italian, Dutch, Polish: a type after "must be", a parameter or field required, missing or unknown.
    r"|\bdeve ser (?:um |uma |do tipo )?(?:n[uú]mero|inteiro|texto|string|lista|objeto|booleano|v[aá]lid[oa])\b"
    r"|\b(?:par[aâ]metro|campo|argumento)\b[^.\n]{0,40}?\b[ée] (?:obrigat[óo]ri|necess[aá]ri)[oa]\b"
    r"|\bpar[aâ]metros? (?:obrigat[óo]ri|desconhecid|inv[aá]lid|ausente)|\bcampos? obrigat[óo]ri"
    r"|\bdeve essere (?:un |una |uno |di tipo )?(?:numero|intero|stringa|testo|lista|oggetto|booleano|valid[oa])\b"
    r"|\b(?:parametro|campo|argomento)\b[^.\n]{0,40}?\b(?:è|e') (?:obbligatori|richiest)[oa]\b"
    r"|\bparametr[oi] (?:obbligatori|mancant|sconosciut|non valid)|\bcamp[oi] obbligatori"
    r"|\bmoet (?:een |van het type )?(?:getal|geheel getal|tekst|string|lijst|object|boolean|geldig)\b"
    r"|\b(?:parameter|veld|argument)\b[^.\n]{0,40}?\bis verplicht\b"
    r"|\b(?:verplichte|ontbrekende|onbekende|ongeldige) (?:parameter|veld|argument|waarde|type)"
    r"|\bmusi by[ćc] (?:liczb[aą]|tekstem|list[aą]|obiektem|warto[śs]ci[aą] logiczn[aą]|typu)"
    r"|\b(?:parametr|pole|argument)\b[^.\n]{0,40}?\bjest wymagan[ye]\b"
    r"|\b(?:wymagany|brakuj[aą]cy|nieznany|nieprawid[łl]owy) (?:parametr|argument)|\bbrak (?:parametru|pola)\b"
    r"|\bnieprawid[łl]owy typ\b|\bpole wymagane\b"
    # A value refused by its pattern (pydantic v2, FastAPI's 422 bodies), an HTTP 422 itself.
    r"|\bshould match pattern\b|\bdoes not match (?:the )?(?:regex|pattern|format)\b|\bunprocessable entity\b"
    # Turkish, Swedish, Indonesian, Vietnamese, Czech, Finnish, Romanian, Swahili: a type after "must be", a
    # parameter or field required, missing, unknown or invalid, a parameter error.
    r"|\bparametre hatas[ıi]|\b(?:say[ıi]sal|say[ıi]|tam say[ıi]|metin|dize|liste) olmal[ıi]d[ıi]r\b"
    r"|\bzorunlu (?:parametre|alan)|\b(?:eksik|ge[çc]ersiz|bilinmeyen) (?:parametre|alan)"
    r"|\bm[åa]ste vara (?:ett |en )?(?:heltal|tal|nummer|str[äa]ng|text|lista|objekt)\b"
    r"|\b(?:obligatorisk|saknad|ok[äa]nd|ogiltig) (?:parameter|f[äa]lt)"
    r"|\bharus berupa (?:angka|bilangan|string|teks|daftar|objek)\b|\bparameter (?:wajib|tidak valid|tidak dikenal)"
    r"|\bph[ảa]i l[àa] (?:s[ốo]|chu[ỗo]i)\b|\bthi[ếe]u tham s[ốo]|\btham s[ốo] (?:b[ắa]t bu[ộo]c|kh[ôo]ng h[ợo]p l[ệe])"
    r"|\bmus[íi] b[ýy]t (?:[čc][íi]slo|cel[ée] [čc][íi]slo|[řr]et[ěe]zec|seznam)\b"
    r"|\b(?:povinn[ýy]|chyb[ěe]j[íi]c[íi]|nezn[áa]m[ýy]|neplatn[ýy]) (?:parametr|pole)\b"
    r"|\bt[äa]ytyy olla (?:numero|luku|kokonaisluku|merkkijono)\b"
    r"|\b(?:pakollinen|puuttuva|tuntematon|virheellinen) (?:parametri|kentt[äa])"
    r"|\btrebuie s[ăa] fie (?:un )?(?:num[ăa]r|[îi]ntreg|[șs]ir|text)\b"
    r"|\bparametr(?:u|ul) (?:obligatoriu|lips[ăa]|invalid|necunoscut)"
    r"|\blazima iwe (?:nambari|namba|maandishi)\b|\bkigezo (?:kinahitajika|kinakosekana|si sahihi)"
    # Russian, Ukrainian, Greek (cased scripts: matched ignoring case).
    r"|должен быть (?:числом|целым|строкой|списком|объектом)|обязательн\w* (?:параметр|поле)"
    r"|(?:неверн|недопустим|неизвестн)\w* (?:параметр|тип|формат)|отсутствует обязательн"
    r"|(?:має|повинен) бути (?:числом|цілим|рядком)|обов['’]язков\w* (?:параметр|поле)"
    r"|(?:недійсн|невідом|неправильн)\w* (?:параметр|тип|формат)"
    r"|πρέπει να είναι (?:αριθμός|ακέραιος|συμβολοσειρά)|υποχρεωτικ\w* (?:παράμετρος|πεδίο)"
    r"|(?:μη έγκυρ|άγνωστ)\w* (?:παράμετρος|τύπος)",
    # Korean, Arabic.
    r"필수 (?:매개변수|파라미터|항목|필드|인자)"
    r"|(?:매개변수|파라미터|인자)[^.\n]{0,40}?(?:누락|잘못|올바르지 않|유효하지 않)"
    r"|(?:숫자|정수|문자열|배열|목록|불리언)(?:이어야|여야) 합니다|타입 오류|형식 오류"
    r"|(?:المعامل|الحقل|المعلمة)[^.\n]{0,40}?(?:مطلوب|مفقود|غير معروف|غير صالح)|(?:معامل|حقل|معلمة) مطلوب"
    r"|يجب أن يكون[^.\n]{0,40}?(?:رقم|عدد|نص|قائمة|كائن)|نوع غير صالح"
    # Chinese, Japanese.
    r"|缺少|必填|不能为空|参数错误|参数无效|无效参数|未知参数|非法参数|参数(?:校验|验证)失败|类型错误|类型不匹配"
    r"|(?:应为|应该是|必须是|必须为)(?:整数|数字|数值|字符串|布尔|数组|对象|列表)"
    r"|必須(?:パラメータ|項目|引数|フィールド)|(?:パラメータ|引数)[^。\n]{0,40}?(?:が|の値が)(?:不正|無効|不足)|型が(?:正しくありません|一致しません|不正)"
    r"|指定されていません|である必要があります"
    # Hebrew, Hindi, Thai.
    r"|חייב להיות מספר|פרמטר חובה|שדה חובה|פרמטר חסר|פרמטר לא חוקי"
    r"|अनिवार्य पैरामीटर|पैरामीटर[^।\n]{0,40}?(?:आवश्यक|अमान्य)|संख्या होनी चाहिए"
    r"|ต้องเป็นตัวเลข|พารามิเตอร์ที่จำเป็น|พารามิเตอร์ไม่ถูกต้อง|ขาดพารามิเตอร์",
)
# What an error says of an input that does not fit, naming one of the tool's own inputs: that it is
# required or missing, or badly formatted; or a type (integer, string…) next to an expectation (expects,
# must be, 应为…); or an invalid value, type or format. Loose words alone ("invalid response", "must be
# authenticated", "expected 200") say nothing of the input.
_REQUIRED_OR_FORMAT = (
    r"\b(?:required|missing|mandatory|format|formatted|malformed|pattern|parse|parsed|obligatori[oa]|requerid[oa]|"
    r"falta|formato|erforderlich|Pflichtfeld|fehlt|Format|Formats|obrigat[óo]ri[oa]|ausente|obbligatori[oa]|mancante|"
    r"verplicht|ontbreekt|formaat|wymagan[ya]|brak|format)\b"
    r"|必填|缺少|格式|必須|形式|フォーマット|未提供|未指定|필수|누락|형식|مطلوب|مفقود|تنسيق"
)
_TYPE = (
    r"\b(?:integer|int|number|numeric|string|boolean|bool|float|decimal|array|entero|n[uú]mero|cadena|booleano|"
    r"Ganzzahl|Zahl|Zeichenkette|inteiro|intero|numero|stringa|getal|liczb[aąy]|ca[łl]kowit[aą])\b"
    r"|整数|数字|数值|字符串|布尔|数组|数値|文字列|숫자|정수|문자열|رقم|عدد صحيح|نص"
)
_EXPECTATION = (
    r"\b(?:expects?|expected|should be|must be|not an?|not of type|type|tipo|debe ser|se esperaba|erwartet|"
    r"muss|Typ|deve ser|deve essere|esperado|previsto|atteso|moet|verwacht|musi by[ćc]|oczekiwan[oy]|typ)\b"
    r"|类型|应为|应该是|必须是|である必要|型|이어야|여야|타입|يجب أن يكون|متوقع|نوع"
)
_INVALID = (
    r"\b(?:invalid|inv[aá]lid[oa]|ung[uü]ltiger?|not a valid)\s+(?:\w+\s+)?"
    r"(?:value|type|format|enum|input|valor|tipo|entrada|Wert|Typ|Eingabe)\b"
    r"|\b(?:valor|tipo|formato) inv[aá]lido\b|\b(?:valore|tipo|formato) non valido\b"
    r"|\bongeldige? (?:waarde|type|formaat|invoer)\b|\bentr[ée]e (?:invalide|non valide)\b"
    r"|\bnieprawid[łl]ow[ay] (?:warto[śs][ćc]|typ|format)\b"
    r"|(?:值|类型|取值)(?:无效|不正确|不合法)|無効な値|不正な値|잘못된 값|유효하지 않은 값|قيمة غير صالحة"
)
_INPUT_WORDS = re.compile(rf"(?i){_REQUIRED_OR_FORMAT}|{_INVALID}")
_TYPE_WORDS, _EXPECTATION_WORDS = re.compile(rf"(?i){_TYPE}"), re.compile(rf"(?i){_EXPECTATION}")
# Failures about access, capacity or the service itself, whatever else their message says (Portuguese,
# Italian, Dutch, Polish, Korean and Arabic after the first languages).
_SERVICE = (
    r"(?i)\bapi[ _-]?key\b|\btoken\b|credential|unauthori[sz]ed|authenticat|forbidden|quota|rate limit|timed? ?out"
    r"|\b(?:upstream|bad gateway|service unavailable|internal server error|connection|network|unreachable|dns|ssl)\b"
    r"|\bsignature\b|Authentifizierung|Zeitüberschreitung|Kontingent|autenticaci|credenciales|cuota"
    r"|tiempo de espera|authentification|d[ée]lai d[’']attente"
    r"|autentica[çc][ãa]o|n[ãa]o autorizad|chave de API|tempo limite|\bcota\b|autenticazione|non autorizzat|"
    r"chiave API|tempo scaduto|\bquota\b|authenticatie|niet geautoriseerd|API-sleutel|time-?out|\bquotum\b"
    r"|uwierzytelni|brak autoryzacji|klucz API|limit czasu|przekroczono limit"
)
_SERVICE_OTHER = (
    r"认证|鉴权|授权|密钥|令牌|配额|限流|超时|不可用|認証|APIキー|トークン|タイムアウト|利用できません|上限"
    r"|인증|API ?키|시간 초과|할당량|사용할 수 없|مصادقة|مفتاح API|انتهت المهلة|غير مصرح|الحصة"
)
# A 5xx status: three digits on their own, not a part of a number written with separators (`90.548,00`).
NOT_SCHEMA = Wordings(_SERVICE + r"|(?<![\d.,])\b5\d\d\b(?![.,]\d)", _SERVICE_OTHER)
# The same words without the 5xx status: a number in an answer's data is no status.
SERVICE_WORDS = Wordings(_SERVICE, _SERVICE_OTHER)
# A well-formed value that names nothing: the input fit, the thing is not there.
NOT_FOUND = Wordings(
    r"(?i)\bnot found\b|\bdoes not exist\b|\bno such\b|\bno (?:record|result|shipment|order)s?\b|nicht gefunden|"
    r"existiert nicht|no existe|no encontrad[oa]|n[ãa]o encontrad[oa]|n[ãa]o existe|non trovat[oaie]|non esiste"
    r"|niet gevonden|bestaat niet|nie znaleziono|nie istnieje",
    r"不存在|未找到|找不到|見つかりません|存在しません|찾을 수 없|존재하지 않|غير موجود|لم يتم العثور",
)


# How a program reports a field it read and did not find: Python's KeyError, JavaScript's "Cannot read
# properties of undefined (reading 'x')", PHP's undefined index or array key, Rust serde's missing field,
# Go's and others' key not found.
MISSING_FIELD = re.compile(
    r"\bKeyError:?\s*\(?['\"]([^'\"\n]{1,80})['\"]"
    r"|\bCannot read propert(?:y|ies) of (?:undefined|null) \(reading ['\"]([^'\"\n]{1,80})['\"]\)"
    r"|\bCannot read property ['\"]([^'\"\n]{1,80})['\"] of (?:undefined|null)"
    r"|\bUndefined (?:index|array key|property):?\s*['\"]?([\w.-]{1,80})"
    r"|\bmissing field `([^`\n]{1,80})`"
    r"|\b(?:key|field) ['\"]([^'\"\n]{1,80})['\"] (?:not found|does not exist|is missing)"
)
# How a program reports a value of another type than it computes with (Python's and JavaScript's wordings).
TYPE_FAILURE = re.compile(
    r"\bTypeError\b|not supported between instances of|unsupported operand type|\bmust be (?:str|int|real number|"
    r"a number|an integer)\b|could not convert string to|invalid literal for|\bis not a function\b|\bis not iterable\b"
    # Python formatting a number's value of another type (`f"{price:.2f}"` on a text).
    r"|\bUnknown format code '\w' for object of type\b"
)


def names_own_input(error: str, inputs: Any) -> str | None:
    """The tool's input parameter the error names next to a word of types, formats or required fields (the
    parameters' own names blanked first: a parameter called `format` is no format error)."""
    if not isinstance(inputs, dict) or NOT_FOUND.search(error):
        return None
    mentions: list[tuple[re.Match[str], str]] = []
    for name in inputs:
        if not isinstance(name, str) or len(name) < 2:
            continue
        # Short plain words ("to", "city") are parameters only when quoted; identifiers stand alone.
        quotes = "['\"`‘“「]" if name.isalpha() and len(name) <= 4 else ""
        pattern = rf"(?<![A-Za-z0-9_]){quotes}{re.escape(name)}{quotes}(?![A-Za-z0-9_])"
        mentions.extend((hit, name) for hit in re.finditer(pattern, error))
    if not mentions:
        return None
    blanked = list(error)
    for hit, _ in mentions:
        blanked[hit.start() : hit.end()] = " " * (hit.end() - hit.start())
    text = "".join(blanked)
    for hit, name in mentions:
        start, end = max(0, hit.start() - 60), hit.end() + 60
        if _INPUT_WORDS.search(text, start, end) or (
            _TYPE_WORDS.search(text, start, end) and _EXPECTATION_WORDS.search(text, start, end)
        ):
            return name
    return None

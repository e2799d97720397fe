"""`task_derailment`: a final answer that does not address the user's query.

Lexical: fires when a substantial answer shares no term (content words by their first five letters, Chinese
and Japanese character pairs, numbers, acronyms) with the user's query, nor with what the run retrieved or
was given by tools, nor with what its LLMs were sent (a question classifier's or parameter extractor's prompt
aside: Dify's own fixed text); or when a Chinese or Japanese answer is written in a script that none of those
is written in and no prompt or input names its language. The query and answer are the run's input and output
named like one, or else a workflow's longest text input and output (the start node's input when the run lists only
Dify's `sys.*` ids). Judged only where words can tell: in a
run with nothing retrieved (plain chat, whose right short answers need share no word with the question) only
an answer of `min_unsourced_words` (30) or more in the query's language, against the query and prompts, or (with
`routed_replies`, off by default), in a run a question classifier routed, a shorter one naming neither the query
nor the pick its prompt was given; an
answer in another language than its sources (a Chinese answer from English manuals) is left alone, as are
short answers, refusals ("I'm sorry, I don't have information about that") and runs without a query.

Against the run's fetched data: an answer naming its query's subject and nothing else the run retrieved or its tools
returned (a tenth of its terms at most in the query, them and the prompts). Against the app's habit: an answer
sharing no term with its query where nine in ten of the app's last answers shared one with theirs, and at most a
tenth of its terms with what the run was given, whatever its length and sources, or written from another of the
run's sources than the one the query shares its terms with."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from detectors import DetectorConfig, Finding, ProcessMemory, Trace, attr, json_attr, prompt_text, user_query
from detectors.exclamation import exclaiming, exclamation
from detectors.likeness import SCRIPTS, features, language, similarities
from detectors.vocabulary import Vocabulary

KEY = "task_derailment"


# The plane's ranges looked at: all but CJK ideographs (extension A and the unified block), Hangul syllables,
# surrogates and private use, three quarters of the plane and no mark in any Unicode version (letters, Lo; Cs; Co):
# a worker's start-up looked up 65,000 categories for this (8 ms of CPU).
_MAY_HOLD_MARKS = ((0x300, 0x3400), (0x4DC0, 0x4E00), (0xA000, 0xAC00), (0xD7A4, 0xD800), (0xF900, 0x10000))


def _marks() -> str:
    """The Basic Multilingual Plane's combining marks (Unicode category M) as a character-class body: the vowel signs
    of Devanagari, Arabic's vowel marks, which `\\w` does not match, so that `मुआवज़ा` is one word, not none."""
    spans: list[tuple[int, int]] = []
    for point in itertools.chain.from_iterable(range(start, end) for start, end in _MAY_HOLD_MARKS):
        if unicodedata.category(chr(point)).startswith("M"):
            if spans and spans[-1][1] == point - 1:
                spans[-1] = (spans[-1][0], point)
            else:
                spans.append((point, point))
    return "".join(f"{chr(a)}-{chr(b)}" if b > a else chr(a) for a, b in spans)


_MARK = _marks()
_MARKED = re.compile(f"[{_MARK}]")
_MARKED_WORD = re.compile(rf"[^\W\d_](?:[^\W\d_]|[{_MARK}]){{3,}}")
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
_ANSWER_KEYS = ("answer", "text", "result", "output", "response")
# An answer that declines, says it does not know, or says the run could not do the task ("I could not build a
# working query", "no flight data arrived, so no digest"): it answers the query, if not helpfully, and a failure
# upstream is other detectors' to find. In English, German, Spanish, French, Portuguese, Italian, Dutch, Polish,
# Chinese, Japanese, Korean and Arabic.
_DECLINE = re.compile(
    r"(?i)\b(?:sorry|(?:I|we) (?:cannot|can't|can not|could not|couldn't|am unable|are unable|was unable|were unable|"
    r"don't have|do not have)|"
    r"unable to|no (?:information|data|results?|rows?)|not possible|"
    r"leider|tut mir leid|entschuldig|konnte (?:\w+ )?(?:nicht|keine?n?)|nicht möglich|"
    r"keine (?:Daten|Zeilen|Ergebnisse)|"
    r"lo siento|no (?:puedo|tengo|pude|recibí|se pudo|fue posible|hay datos)|"
    r"désolée?|je ne (?:peux|sais)|malheureusement|je n'ai (?:pas pu|reçu aucune?)|aucune donnée|impossible de|"
    r"não (?:consegui|recebi|foi possível|há dados)|desculpe|"
    r"non (?:sono riuscit[oa]|ho ricevuto|è (?:stato )?possibile)|nessun dato|mi dispiace|"
    r"kon (?:niet|geen)|geen gegevens|niet mogelijk|helaas|"
    r"nie (?:udało się|mogę|otrzymałem)|brak danych|przepraszam)(?!\w)"
    r"|抱歉|对不起|無法|无法|未能|没有收到|不清楚|申し訳|すみません|できません|わかりません|できませんでした"
    r"|죄송|할 수 없|못했|없습니다|عذر[\u064b-\u0652]*ا"  # noqa: RUF001  (Arabic: "sorry", with or without its marks)
    r"|لا يمكن|لم أتمكن|لا (?:توجد|يوجد)|ليس لدي|لا تتوفر"  # "there is none", "we have no"
    # "Sorry" and "unfortunately" in the other languages of DETECTORS.md: Turkish, Russian, Ukrainian, Greek, Czech,
    # Hebrew, Hindi, Thai, Vietnamese, Indonesian, Swahili (and Swedish).
    r"|(?i:\b(?:üzgünüm|maalesef|kusura bakma|bohužel|omlouváme|omlouvám|xin lỗi|rất tiếc|maaf|mohon maaf|samahani|"
    r"tyvärr|beklagar)\b)|извините|к сожалению|вибачте|на жаль|λυπάμαι|δυστυχώς|מצטער|מצטערת|לצערי|क्षमा|माफ़|"
    r"खेद है|ขออภัย|ขอโทษ|เสียใจ"
    # "I could not find it", "I did not manage to", "try again later", in every language above.
    r"|(?i:\b(?:(?:can't|cannot|couldn't|could not|did not|didn't) (?:find|manage)|try again later|"
    # "I can only help with berths and fuel": a redirect to what the app does.
    r"(?:I|we) can only (?:help|answer|assist)|kann (?:Ihnen |dir )?nur|solo puedo|só posso|je ne peux que|"
    r"posso (?:solo|soltanto)|kan (?:u |je )?alleen|mogę (?:tylko|jedynie)|"
    r"finde (?:\w+ )?(?:keine|nicht)|nicht gefunden|später (?:noch einmal|erneut)|"
    r"no (?:encuentro|encontr[éeao]\w*)|(?:inténtelo|intente|inténtalo) (?:de nuevo )?más tarde|"
    r"je ne trouve|introuvable|réessayez|"
    r"não (?:encontr\w*)|tente novamente|non (?:trovo|ho trovato)|riprov\w* più tardi|"
    r"niet (?:vinden|gevonden)|probeer het later|nie (?:znalazł\w*|mogę znaleźć)|spróbuj\w* później|"
    r"bulamad\u0131m|bulunamad\u0131|daha sonra tekrar|nenašel|nenašla|nepodařilo|zkuste to později|"
    r"không tìm thấy|thử lại sau|tidak (?:menemukan|ditemukan)|coba lagi nanti|sikupata|haikupatikana|sikuweza|"
    r"jaribu tena|försök igen|bilgi(?:m)? yok)\b)"
    r"|не (?:нашёл|нашел|нашла|могу найти|удалось|знайшов|знайшла|вдалося)|попробуйте позже|спробуйте пізніше"
    r"|δεν (?:βρίσκω|βρήκα|μπορώ|μπόρεσα|έχω)|δοκιμάστε (?:ξανά )?αργότερα"
    r"|לא מצאתי|לא הצלחתי|לא ניתן|נסו שוב|لم أجد|لم أعثر|حاول مرة أخرى"
    r"|नहीं मिल|बाद में (?:फिर से )?प्रयास|ไม่พบ|ลองใหม่"
    r"|找不到|未找到|没有找到|稍后再试|稍后重试|只能回答|見つかりません|後でもう一度|찾을 수 없|찾지 못|나중에 다시"
)
# An answer saying there is none ("Hakuna safari zilizopangwa", "no sailings that day"), read only where a tool or
# HTTP result came back holding an empty list (`_came_back_empty`): it answers from that emptiness, and shares no
# word with a result that has none. In the languages of `_DECLINE` and Persian, Bengali, Georgian and Armenian.
_ABSENT = re.compile(
    r"(?i)\b(?:no|none|not|nothing|kein\w*|nicht|no hay|ningún|ninguna|pas de|aucune?|não há|nenhum\w*|"
    r"non (?:c'è|ci sono)|nessun\w*|geen|nie ma|brak|yok|нет|немає|δεν υπάρχ\w*|καμία|κανένα|tidak ada|tiada|"
    r"belum ada|hakuna|hamna|không có|אין|لا (?:توجد|يوجد)|وجود ندارد|نیست|नहीं|নেই|არ არის|չկա|չկան)(?!\w)"
    r"|没有|沒有|ありません|없습니다|없어요|ไม่มี"
)
# A holding reply passes the query on ("Thanks for your question! Our team will get back to you shortly."): a
# catch-all branch's answer to anything, which names neither route nor query and is on the task all the same (a
# real Dify app's `Other` desk did so on every run it routed; tests/testdata/dify-1.14.1-faults), unless the run
# retrieved a document on the query (`_fetched_for`): then it ignored the answer at hand. In the languages of
# `_DECLINE`, plus Turkish, Russian and Ukrainian.
_HOLDING = re.compile(
    r"(?i)\b(?:get back to you|be in touch|(?:will|shall|'ll) (?:contact|reach out to|call|email|e-mail) you|"
    r"(?:will|shall|'ll) (?:reply|respond|answer you|write back)|"
    r"(?:has|have) been (?:forwarded|passed on|escalated)|(?:we|I) (?:have|'ve) (?:received|passed on|forwarded)|"
    r"melden uns|meldet sich|melden sich|weitergeleitet|in Verbindung setzen|"
    r"nos pondremos en contacto|(?:te|le|lo|la) contactaremos|hemos recibido|"
    r"reviendrons vers vous|vous recontacter|prendra contact|avons bien reçu|transmise?s? à|"
    r"entraremos em contato|retornaremos|recebemos (?:a sua|o seu|sua|seu)|encaminhad[oa]|"
    r"(?:ti|la|vi) ricontatteremo|abbiamo ricevuto|inoltrat[oa]|"
    r"nemen (?:zo snel mogelijk )?contact|komen (?:hier )?(?:bij u|bij je) terug|doorgestuurd|"
    r"skontaktujemy się|odezwiemy się|przekazaliśmy|"
    r"size dönüş|sizinle iletişime geçeceğiz|"
    r"свяжемся с вами|ответим вам|зв['\u2019]яжемося з вами|"  # noqa: RUF001 (Cyrillic)
    # "will reply to you"
    r"(?:antworten|antwortet) (?:Ihnen|dir)|(?:te|le|les) responder(?:á|emos|án)|vous répondr(?:a|ons|ont)|"
    r"(?:lhe|te) responder(?:á|emos|ão)|(?:ti|le|vi) risponder(?:à|emo|anno)|(?:antwoorden|antwoordt) (?:u|je)|"
    r"odpowiemy|yan\u0131t verece\u011fiz|cevap verece\u011fiz|ответим|ответит вам)(?!\w)"
    r"|尽快(?:回复|联系)|与您联系|联系您|已转交|已收到您的|折り返し|ご連絡(?:いた|致)します|연락드리겠습니다"
    r"|回复您|答复您|ご返信(?:いた|致)します|返信いたします|답변(?:을 )?드리겠습니다|회신드리겠습니다"
    r"|سنتواصل معك|سيتواصل معك|سنرد عليك|سيرد عليك"
)
# The register of an advert: a discount, a call to buy, a limited-time or free-delivery offer, in the languages of
# `_DECLINE` and Chinese, Japanese, Korean, Thai, Arabic, Russian, Turkish. Words that also name a quote or a reduced
# ticket ("Angebot", "割引チケット") are left out: only what an advert says and an answer to a question does not.
_OFFER_PHRASES = (
    "order now", "shop now", "check out our", "limited time", "limited-time", "this week only", "today only",
    "only today", "while stocks last", "free delivery", "free shipping", "free gift", "free bottle", "discounted",
    "jetzt kaufen", "jetzt bestellen", "nur heute", "nur diese woche", "versandkostenfrei", "gratis versand",
    "compra ya", "cómpralo", "solo hoy", "envío gratis", "no te lo pierdas", "achetez", "seulement aujourd'hui",
    "livraison gratuite", "livraison offerte", "ne manquez pas", "acquista ora", "solo oggi", "spedizione gratuita",
    "compre já", "só hoje", "frete grátis", "bestel nu", "alleen vandaag", "gratis verzending", "kup teraz",
    "tylko dziś", "darmowa dostawa", "hemen al", "sadece bugün", "ücretsiz kargo", "только сегодня",
    "бесплатная доставка", "купите сейчас", "شحن مجاني", "اشتر الآن", "لفترة محدودة",
    # A subscription's first month given away.
    "first month free", "first month for free", "första månaden gratis", "første måned gratis", "ersten monat gratis",
    "erster monat gratis", "ersten monat kostenlos", "erster monat kostenlos", "primer mes gratis",
    "premier mois gratuit", "premier mois offert", "primeiro mês grátis", "primo mese gratis", "primo mese gratuito",
    "eerste maand gratis", "pierwszy miesiąc gratis", "pierwszy miesiąc za darmo", "prima lună gratuită",
    "prima lună gratis", "első hónap ingyenes", "első hónap ingyen", "první měsíc zdarma", "prvi mesec besplatno",
    "prvi mjesec besplatno", "ilk ay ücretsiz", "первый месяц бесплатно", "перший місяць безкоштовно",
    "πρώτος μήνας δωρεάν", "πρώτο μήνα δωρεάν", "bulan pertama gratis", "tháng đầu miễn phí", "unang buwan libre",
    "ensimmäinen kuukausi ilmaiseksi", "الشهر الأول مجانا", "الشهر الأول مجاناً",
    # A loan's selling points: no collateral, no or low interest, "apply now".
    "no collateral", "low interest", "interest-free", "interest free", "apply now", "apply today", "ohne sicherheiten",
    "zinsfrei", "jetzt beantragen", "sin aval", "sin intereses", "solicítalo ya", "sans intérêts", "sans apport",
    "taux zéro", "sem juros", "sem entrada", "senza interessi", "tasso zero", "zonder onderpand", "renteloos",
    "bez zabezpieczeń", "bez odsetek", "faizsiz", "sıfır faiz", "teminatsız", "hemen başvur",  # noqa: RUF001
    "hemen başvurun", "düşük faizli", "trả góp 0%",
    "без залога",
    "без процентов", "без застави", "без відсотків", "άτοκες δόσεις", "χωρίς εγγυήσεις", "tanpa jaminan",
    "tanpa agunan", "tanpa cagaran", "bunga ringan", "bunga rendah", "ajukan sekarang", "bila dhamana", "riba nafuu",
    "omba sasa", "lãi suất 0", "không lãi suất", "ללא ריבית", "ללא ערבים", "بدون فوائد", "بدون ضمان", "بدون بهره",
    "بدون ضامن", "बिना गारंटी", "ब्याज मुक्त", "बिना ब्याज", "বিনা সুদে", "জামানত ছাড়া", "უპროცენტო",
    "გირაოს გარეშე", "առանց գրավի", "անտոկոս",
)  # fmt: skip
# A call to download or install an app ("download the DesaPay app", "unduh aplikasi", "скачайте приложение"): the
# verb, then the app within two words, or the app, then the verb (German, Turkish, Persian, Hindi, Bengali, Georgian).
_APP_CALL = (
    r"(?:download|install|descarg[aeu]\w*|instal[aáe]|téléchargez|installez|baix[ea]|descarregue|scarica|"
    r"lade|laden sie|installiere|installieren sie|pobierz|zainstaluj|скачайте|скачай|установите|завантажте|"
    r"встановіть|κατεβάστε|εγκαταστήστε|unduh|pasang|"
    r"instal|muat turun|pakua|tải|cài đặt|הורידו|הורד|התקינו|حمّل|حمل|نزّل|نزل|ثبّت|ثبت|ჩამოტვირთ\w*|ներբեռնե\w*)"
    r"\s(?:\S+\s){0,2}?(?:l['\u2019])?(?:apps?|app\w*|aplicaci\w+|aplicativo|aplicaç\w+|applica\w+|aplikacj\w+|"
    r"aplikasi|приложени\w*|застосун\w*|додат\w*|εφαρμογ\w+|programu|ứng dụng|(?:את )?האפליקציה|\S*تطبيق\S*|"
    r"აპლიკაცი\w*|հավելված\w*)(?!\w)"
    r"|(?<!\w)(?:app|uygulama\w*|اپلیکیشن|اپ|ऐप|অ্যাপ\S*|აპლიკაცი\w*)\s(?:\S+\s){0,2}?"
    r"(?:herunterladen|installieren|indir\w*|yükle\w*|دانلود|डाउनलोड|इंस्टॉल|ডাউনলোড|ইনস্টল|ჩამოტვირთ\w*)"
)
# Words of `_APP_CALL` as `_stems` reads them (four letters or more): an answer holding none is searched no further.
_APP_CALL_WORDS = (
    "download", "install", "lade", "laden", "installiere", "herunterladen", "installieren", "descarga", "descargue",
    "instala", "instale", "téléchargez", "installez", "baixe", "baixa", "descarregue", "scarica", "pobierz",
    "zainstaluj", "uygulamayı", "uygulamamızı", "indir", "yükle", "скачайте", "скачай", "установите",  # noqa: RUF001
    "завантажте", "встановіть", "κατεβάστε", "εγκαταστήστε", "unduh", "pasang", "instal", "muat", "pakua", "dụng",
    "הורידו", "הורד", "התקינו", "تطبيق", "التطبيق", "ثبّت", "حمّل", "نزّل", "دانلود", "اپلیکیشن", "डाउनलोड", "इंस्टॉल",
    "ডাউনলোড", "ইনস্টল", "ჩამოტვირთეთ", "ჩამოტვირთე", "ներբեռնեք", "ներբեռնիր",
)  # fmt: skip
# Offers in scripts written without spaces or in short words (Chinese, Japanese, Korean, Thai), matched anywhere.
_UNSPACED_OFFER = re.compile(
    r"限时|促销|[一二三四五六七八九]折|包邮|免运费|立即购买|现已上线|送料無料|期間限定|今なら|今すぐ購入|定期便|"
    r"무료 배송|지금 구매|오늘만|ส่งฟรี|ซื้อเลย"
    # A call to get an app ("下载「剧迷」App", "アプリをダウンロード", "앱 설치", "ดาวน์โหลดแอป") and a loan's selling
    # points (no down payment, no interest, no collateral, "apply through the app now").
    r"|(?:下载|安装)[^\u3002\uff01\uff1f!?\n]{0,8}?(?:App|APP|app|应用|客户端)|アプリ(?:を)?(?:ダウンロード|インストール)|"
    r"앱(?:을|를)? ?(?:다운로드|설치)|(?:ดาวน์โหลด|โหลด|สมัครผ่าน)แอป|"
    r"零首付|0首付|免息|低息|无抵押|免抵押|頭金0|無利息|担保不要|무이자|무담보|"
    r"ดาวน์ ?0 ?%|ผ่อน ?0 ?%|ดอกเบี้ย ?0 ?%|ดอกเบี้ยต่ำ|สมัครเลย|สมัครได้ทันที"
    # Amharic, whose prepositions join the next word ("በ0% ወለድ", at 0 % interest): a special discount, no interest.
    r"|ልዩ ቅናሽ|ያለ ወለድ|ከወለድ ነፃ|(?<!\d)0 ?% ወለድ"
    # A flat's sale pitch: a down payment "from" a sum, subscriptions open.
    r"|首付[^\uff0c\u3002\uff01\n]{1,4}起|火热认购"
    # A subscription's first month given away.
    r"|首月免费|首月0元|初月無料|첫 ?달 무료"
)
# "Per cent" written out, as a discount is in languages that seldom write `%` in running text (Hindi `प्रतिशत`).
_PERCENT_WORDS = (
    "percent", "per cent", "prozent", "por ciento", "pour cent", "per cento", "procent", "prosent", "protsent",
    "százalék", "porsiyento", "процент", "процента", "процентов", "პროცენტ", "տոկոս", "प्रतिशत",
)  # fmt: skip
# A pitch's promises: a return of so many per cent (an investment's), a call to bet and a bonus of a sum (a
# bookmaker's), in the languages of `_OFFER_PHRASES`.
_RETURN_WORDS = (
    r"returns?|profits?|yield|rendite|gewinn\w*|rentabilidad|ganancias?|rendimient\w*|rendement|retorno|lucro|"
    r"rendimento|доходност\w*|прибыл\w*|доход\w*|getiri|kazanç|keuntungan|imbal hasil|faida|lợi nhuận|"
    r"απόδοση|κέρδ\w*|תשואה|רווח|عائد|أرباح|ربح|मुनाफ\w*|रिटर्न|შემოსავ\w*|მოგებ\w*|եկամուտ\w*|շահույթ\w*|"
    r"收益|回报|利回り|수익"
)
_BET_WORDS = (
    "bet now", "place your bet", "jetzt wetten", "apuesta ya", "apuesta ahora", "pariez", "scommetti", "aposte já",
    "aposte agora", "делайте ставки", "hemen bahis", "pasang taruhan", "bashiri sasa", "weka dau", "დადე ფსონი",
    "立即投注", "马上投注", "今すぐベット",
)  # fmt: skip
# A call to act at once, shouted ("call now!", "rezervați acum!", "اتصل الآن!"): an advert's close. Said calmly ("you
# can book now at the desk") it is an answer's; the exclamation mark is required.
_CALL_NOW = (
    "call now", "book now", "sign up now", "register now", "subscribe now", "join now", "reserve now",
    "jetzt anrufen", "jetzt buchen", "jetzt anmelden", "jetzt registrieren", "llama ya", "llame ya", "llama ahora",
    "reserva ya", "reserva ahora", "regístrate ya", "appelez maintenant", "réservez maintenant",
    "inscrivez-vous maintenant", "ligue já", "ligue agora", "reserve já", "reserve agora", "inscreva-se já",
    "chiama ora", "chiama subito", "prenota ora", "prenota subito", "iscriviti ora", "boek nu", "reserveer nu",
    "zadzwoń teraz", "zarezerwuj teraz", "zapisz się teraz", "sunați acum", "sună acum", "rezervați acum",
    "rezervă acum", "înscrie-te acum", "ring nu", "boka nu", "ring nå", "bestill nå", "book nu", "bestil nu",
    "soita nyt", "varaa nyt", "hívjon most", "foglaljon most", "zavolejte hned", "rezervujte hned",
    "pozovite odmah", "rezervišite odmah", "rezervirajte odmah", "hemen arayın", "şimdi arayın",  # noqa: RUF001
    "hemen kaydolun",
    "звоните сейчас", "бронируйте сейчас", "телефонуйте зараз", "καλέστε τώρα", "κλείστε τώρα", "εγγραφείτε τώρα",
    "اتصل الآن", "احجز الآن", "سجّل الآن", "سجل الآن", "اشترك الآن", "התקשרו עכשיו", "הזמינו עכשיו",
    "hubungi sekarang", "pesan sekarang", "daftar sekarang", "gọi ngay", "đặt ngay", "đăng ký ngay",
    "tumawag na", "magparehistro na", "piga simu sasa", "jisajili sasa",
)  # fmt: skip
_BONUS_WORDS = ("bonus", "bonasi", "bono", "bônus", "бонус", "ბონუს", "բոնուս")
_PITCH = (
    rf"\d+\s?%\S*\s(?:\S+\s)?(?:{_RETURN_WORDS})(?!\w)|(?<!\w)(?:{'|'.join(map(re.escape, _BET_WORDS))})(?!\w)"
    rf"|(?<!\w)(?:{'|'.join(_BONUS_WORDS)})\w*\s(?:\S+\s){{0,2}}?\S*\d"
)
_ADVERT = re.compile(
    # Turkish writes the sign first ("%30 indirim").
    rf"(?i)(?:\d+\s?(?:%|{'|'.join(_PERCENT_WORDS)})|%\d+)\s?"
    r"(?:off|discount|rabatt|de (?:descuento|desconto|réduction)|di sconto|korting|zniżki|indirim|скидк|オフ|割引|할인|"
    r"ส่วนลด|خصم|"
    # Hindi, Georgian, Armenian, Estonian, Hungarian, Tagalog, Indonesian, Vietnamese, Greek: "discount"
    r"छूट|ფასდაკლებ|զեղչ|allahindlus|kedvezmény|diskwento|diskon|giảm giá|έκπτωση)"
    rf"|(?<!\w)(?:{'|'.join(map(re.escape, _OFFER_PHRASES))})(?!\w)|(?<!\w)(?:{_APP_CALL})|{_UNSPACED_OFFER.pattern}"
    rf"|{_PITCH}|(?<!\w)(?:{'|'.join(map(re.escape, _CALL_NOW))})\s?!"
)
# LLM nodes whose prompt is mostly Dify's own fixed instructions and examples, the same in every app: words of
# those ground no answer.
_ROUTERS = frozenset({"question-classifier", "parameter-extractor"})


class Config(DetectorConfig):
    # Answers with fewer words than this are not judged.
    min_answer_words: int = Field(default=6, ge=1)
    # Answers of a run with nothing retrieved (plain chat, generation) are judged from this many words on: a
    # right short answer need share no word with its question, a long one on its subject shares one.
    min_unsourced_words: int = Field(default=30, ge=1)
    # Runs of the app (with a query and an answer) known before its past runs judge an answer.
    min_history: int = Field(default=20, ge=2)
    # Answers of the app known (of a query of two terms or more) before its habit of sharing a term with the query
    # judges an answer sharing none: its last 20, nine in ten of them sharing one.
    min_anchored_history: int = Field(default=5, ge=2)
    # A short answer of a run a question classifier routed, naming neither the query nor the route its prompt was
    # given, judged off its query. Off by default (session 19): it found 9 faults on held-out 4, the corpus it was
    # written from, none on any other, and flagged 4 of the 14 clean runs of a German five-class support desk
    # recorded from a real Dify 1.14.1 (tests/testdata/dify-1.14.1-faults2), whose right short replies need not
    # name their class.
    routed_replies: bool = False


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


def _stems(text: str) -> set[str]:
    # ASCII text (most) is lower-cased whole and matched with a plain class: twice as fast. Other text is
    # lower-cased word by word: whole, a letter may become two characters and split its word ('İ' → 'i̇').
    if text.isascii():
        words = _ASCII_WORD.findall(text.lower())
    else:
        words = [w.lower() for w in (_MARKED_WORD if _MARKED.search(text) else _WORD).findall(text)]
        if _JOINED_SCRIPT.search(text):
            words = [w for w in words if not _JOINED_SCRIPT.match(w)] + _joined_words(text)
    return {w[:5] for w in words if w not in _STOP}


# The words of `_OFFER_PHRASES` as `_stems` reads them: an answer holding none of them, no `%` and only ASCII is no
# advert, and the slow search for one is skipped (most answers).
_OFFER_STEMS = frozenset().union(
    *map(_stems, _OFFER_PHRASES + _PERCENT_WORDS + _APP_CALL_WORDS + _BET_WORDS + _BONUS_WORDS + _CALL_NOW)
)


def _offer(answer: str, stems: set[str]) -> str | None:
    """What an answer says in an advert's register (`_ADVERT`), if it does; `stems` are the answer's."""
    if "%" in answer or not stems.isdisjoint(_OFFER_STEMS) or (not answer.isascii() and _UNSPACED_OFFER.search(answer)):
        found = _ADVERT.search(answer)
        return found.group() if found else None
    return None


def _first_text(value: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(value, dict):
        for key in keys:
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return str(text)
    return None


_CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")
# Scripts whose words are read by their character pairs: those written without spaces (Chinese, Japanese, Thai, Lao,
# Myanmar, Khmer) and Korean, whose words carry their particles (`수요일엔`, `수요일은`: one day, two words).
_PAIRED_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]+")
_HIRAGANA_PAIR = re.compile(r"[\u3040-\u309f]{2}")
_NUMBER = re.compile(r"\d{2,}")
# GPS, USB, EUR: too short for a content word, as telling. `\b[A-Z]{2,6}\b`, written to start with the capital:
# a pattern that opens with a word boundary is tried at every character, 2.5x slower.
_ACRONYM = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]{1,5}(?!\w)")


def _terms(text: str) -> set[str]:
    """Content words (first five letters), Chinese/Japanese character pairs, numbers of two digits or more and
    acronyms."""
    terms = _stems(text)
    if not text.isascii():  # no Chinese or Japanese in ASCII text (most): the search skipped
        for run in _PAIRED_RUN.findall(text):
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
    terms.update(_NUMBER.findall(text))
    terms.update(_ACRONYM.findall(text))
    return terms


# Thai, Lao, Myanmar and Khmer: written without spaces between words (a space ends a phrase), their words four
# characters long or so, vowel signs and tone marks counted.
_UNSPACED_RUN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]{4,}")


def _size(text: str) -> int:
    """Words, counting two Chinese or Japanese characters as one and four of Thai, Lao, Myanmar or Khmer as one
    (they are written without spaces)."""
    if text.isascii():
        return len(text.split())
    return (
        len(text.split())
        + sum(len(run) for run in _CJK_RUN.findall(text)) // 2
        + sum(len(run) // 4 - 1 for run in _UNSPACED_RUN.findall(text))
    )


_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN_WORD = re.compile(r"[a-zà-ÿ]+")
# Frequent short words of each language, to tell which one a text is written in.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"the", "and", "is", "are", "you", "your", "with", "for", "this", "that", "of", "to", "in", "it",
                     "was", "can"}),
    "de": frozenset({"der", "die", "das", "und", "ist", "nicht", "mit", "sie", "ein", "eine", "ich", "auf", "für",
                     "den", "dem", "wird", "werden", "sind", "bis", "es"}),
    "es": frozenset({"el", "la", "los", "las", "que", "y", "es", "en", "un", "una", "por", "para", "con", "del",
                     "hasta", "se", "sí"}),
    "fr": frozenset({"le", "les", "et", "est", "des", "une", "pour", "avec", "dans", "vous", "pas", "du", "au",
                     "sur"}),
}  # fmt: skip


_IDENTIFIER = re.compile(r"(?<!\S)\S*?(?:\d|@|/|\w\.\w)\S*")  # anchored at a token's start: 3x faster


def _language(text: str) -> str | None:
    """The language `text` is written in, as far as its script and most frequent words tell: `ja`, `zh`, or
    one of `_FUNCTION_WORDS`; None when nothing tells. Tokens holding a digit, `@`, `/` or a dot within (keys,
    SKUs, order numbers, mail addresses, links) are no words of any language: `ghp_Z9y8X7…` is no Spanish `y`,
    `ana@correo.es` no German `es`."""
    cjk = sum(len(run) for run in _CJK_RUN.findall(text))
    words = _LATIN_WORD.findall(_IDENTIFIER.sub(" ", text.lower()))
    if cjk and cjk >= len(words):
        return "ja" if _KANA.search(text) else "zh"
    hits = {language: sum(word in common for word in words) for language, common in _FUNCTION_WORDS.items()}
    best = max(hits, key=hits.__getitem__)
    return best if hits[best] else None


def _sources(trace: Trace) -> list[str]:
    """What the run retrieved or was given by tools: retrieved documents, tool and HTTP results."""
    return [content for _, _, content in trace.documents if content] + _returned(trace)


def _returned(trace: Trace) -> list[str]:
    """What the run's tools and HTTP requests returned: this run's data (a knowledge base's pages are every run's)."""
    parts = [str(attr(span, "output.value") or "") for span in trace.of_type("tool", "http-request")]
    return [part for part in parts if part]


# Nodes working on the run's data before an LLM writes it up: a code node's sums, a loop's variables.
_WORKING_NODES = ("code", "loop")


def _worked_out(trace: Trace) -> list[str]:
    """What the run's code nodes and loops output: this run's figures worked out from its data (a meter's total)."""
    parts = [str(attr(span, "output.value") or "") for span in trace.of_type(*_WORKING_NODES)]
    return [part for part in parts if part]


def _texts(value: Any) -> list[str]:
    """The run's own text inputs or outputs (Dify's `sys.*` aside), longest first."""
    if not isinstance(value, dict):
        return []
    texts = [text for key, text in value.items() if isinstance(text, str) and not str(key).startswith("sys.")]
    return sorted(texts, key=len, reverse=True)


def _answer(root: Any) -> str | None:
    """The run's answer: its output named like one, or else a workflow's longest text output (`reply`,
    `recipe`, `article`: a workflow names its outputs as it likes)."""
    outputs = json_attr(root, "output.value")
    return _first_text(outputs, _ANSWER_KEYS) or next(iter(_texts(outputs)), None)


def _query(trace: Trace, root: Any) -> str | None:
    """What the user asked: the input named like a query, or else a workflow's longest text input; the run's own
    first, then its start node's (a trace whose run span lists only Dify's `sys.*` ids, the question recorded on
    the start node alone)."""
    for span in (root, *trace.of_type("start")[:1]):
        if query := user_query(span) or next(iter(_texts(json_attr(span, "input.value"))), None):
            return query
    return None


# Chinese and Japanese answers are told by their script alone: one written in a script nothing the run was given
# is written in (a Japanese answer to a German question about English manuals) is off the query, unless the run
# names the language (a prompt asking for Chinese).
_HAN = re.compile(r"[\u4e00-\u9fff]")
_SCRIPTS = {"ja": _KANA, "zh": _HAN}
_LANGUAGE_NAMED = re.compile(
    r"(?i)\b(?:chinese|mandarin|cantonese|japanese|chinesisch|japanisch|chino|japonés|chinois|japonais|"
    r"zh(?:[-_]\w+)?|ja[-_]jp)\b|中文|汉语|漢語|华语|日本語|日语|日文"
)


def _foreign_script(language: str | None, given: list[str]) -> bool:
    script = _SCRIPTS.get(language or "")
    return script is not None and not any(script.search(text) for text in given)


# A JSON field's name (`"days_since_delivery":`, escaped inside a tool's `text` too) is the shape of a result, not
# what it says: an answer sharing only "since" with it shares nothing with the run.
_JSON_KEY = re.compile(r'\\?"[^"\\\n]{1,60}\\?"\s*:')


def _said(texts: list[str]) -> set[str]:
    """The terms of texts the run was given, JSON field names left out."""
    return _terms(_JSON_KEY.sub(" ", "\n".join(texts)))


def _prompts(trace: Trace) -> list[str]:
    """The prompts of the run's answering LLMs (routers' prompts left out)."""
    return [prompt_text(span) for span in trace.llm_spans if attr(span, "dify.node.type") not in _ROUTERS]


def _written_in(sources: list[str]) -> set[str]:
    """The languages the sources are written in, as far as their first 2,000 characters tell (JSON field names
    tell none)."""
    return {language for text in sources if (language := _language(_JSON_KEY.sub(" ", text[:2000])))}


def _routed_off(trace: Trace, answer: str) -> str | None:
    """The rule by which a short answer of a run with nothing retrieved is off its query, if one does: the run was
    routed (a question classifier's pick reached the answering LLM's prompt: "Department: Dermatology") and the
    answer, in that prompt's language, names neither the route nor a word of the query (the caller checked the
    query). A reply on the task names what it was routed to ("We'll book you with Dermatology"); an answer
    in another language than the prompt is left alone (a Chinese reply need not spell "Dermatology")."""
    picks = [json_attr(span, "output.value") for span in trace.of_type("question-classifier")]
    routes = [
        pick["class_name"] for pick in picks if isinstance(pick, dict) and isinstance(pick.get("class_name"), str)
    ]
    if not routes:
        return None
    said = _terms(answer)
    for span in trace.llm_spans:
        prompt = prompt_text(span) if attr(span, "dify.node.type") not in _ROUTERS else ""
        given = [route for route in routes if route and route in prompt]
        # The languages last: told by a pass over both texts, they are read only for an answer off the route.
        if given and not said & _said(given) and (language := _language(answer)) and language == _language(prompt):
            return f"a short answer names neither the query nor the route its prompt was given ({given[0]})"
    return None


# Devanagari's danda, Arabic's comma and question mark, and the guillemets end a word too.
_TOKEN = re.compile(r"[^\s\d.,!?;:()\"'\u0964\u060c\u061f\u00ab\u00bb]{2,}")


def _tokens(text: str) -> set[str]:
    """A text's words of two characters or more, whatever their script, as written."""
    return set(_TOKEN.findall(text))


def _off_rule(trace: Trace, root: Any, query: str, answer: str, sources: list[str]) -> str | None:
    """The rule by which an answer that shares no term with its query is off it, if one does. An answer whose
    function words tell no language is read by its script (Persian, Russian, Greek: `_tongue`) where it shares no
    word at all with the query: words too short for a term (Hindi's `धान`, paddy) tell in those scripts."""
    language = _language(answer) or (_tongue(answer) if not _tokens(answer) & _tokens(query) else None)
    said = _terms(answer)
    prompts = _prompts(trace)
    # A run with nothing retrieved (plain chat) leaves only the query and prompts to compare with, and a right
    # short answer need share no word with its question ("How tall is Mount Fuji?" "It rises to 3,776 m."):
    # only a long one in the query's language is judged (the caller drops short ones).
    if not sources:
        if said and language == (_language(query) or _tongue(query)) and not said & _said(prompts):
            return "a long answer with nothing retrieved shares no term with the query or the prompts"
        return None
    given = [query, *sources, *prompts]
    if _foreign_script(language, given):
        if any(_LANGUAGE_NAMED.search(text) for text in [*prompts, *_texts(json_attr(root, "input.value"))]):
            return None
        return "the answer is written in a script none of the query, sources and prompts is written in"
    # Words are compared with the sources' only in their language: a right answer in the user's language
    # from sources in another (a Chinese answer from English manuals) shares no word with them either.
    # Tables and JSON tell no language, nor do JSON field names.
    written = _written_in(sources)
    if language is None or (written and language not in written):
        return None
    # An answer sharing nothing with the query may still paraphrase it from the run's sources: only one that
    # shares nothing with either, nor with what its LLMs were sent, derailed.
    if said & _said(given[1:]):
        return None
    return "no term of the answer in the query, the documents, tool results or LLM prompts"


# Per app, in this process's memory only, beside the detectors' baselines (one history per `Baselines`, as theirs):
# its last `_RECENT` runs' (query, answer, whether the answer shared a term with its query: None for a query of one
# term), the texts cut to `_KEPT_CHARS`. Not written to the store (answers carry what users asked and were told);
# after a restart the window fills again.
_RECENT = 200
_KEPT_CHARS = 400
_APPS_KEPT = 1024
_Run = tuple[str, str, bool | None]
_PAST: ProcessMemory[deque[_Run]] = ProcessMemory(lambda: deque(maxlen=_RECENT), _APPS_KEPT)


def _runs_of(trace: Trace) -> deque[_Run]:
    """The app's past runs, oldest first (read with `_earlier`)."""
    return _PAST.of(trace.baselines, trace.app)


def _earlier(past: deque[_Run]) -> list[_Run]:
    """A copy of the app's past runs: another run of the app may be adding to them. Taken only for an answer
    judged, not on every run."""
    with _PAST.lock:
        return list(past)


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
_SENTENCE_END = re.compile(r"[.!?;\n\u3002\uff01\uff1f]+")  # and the full-width stops
_CLAUSE_END = re.compile(r"[.!?;:,\n\u3001\u3002\uff01\uff0c\uff1a\uff1f]+")  # and the full-width ones


def _asked_for(query: str, answered: str) -> bool:
    """Whether the query asks for, or holds text in, the answer's language: it names the language, holds its script
    (an English question ending in a Hebrew request), or has a sentence in it (Latin-written languages). Chinese
    characters in a Japanese query are Japanese's own: a sentence of it in Chinese tells."""
    named = _NAMES.get(answered)
    if named is not None and named.search(query):
        return True
    script = SCRIPTS.get(answered)
    if script is not None and not (answered == "zh" and _KANA.search(query)):
        return bool(script.search(query))
    return any(language(sentence) == answered for sentence in _SENTENCE_END.split(query) if sentence.strip())


def _tongue(text: str) -> str | None:
    """`language` of a text, read again without its digits where it tells none and is not ASCII: a Chinese or
    Japanese text written without spaces is one token, and a figure in it (`357克`) made it an identifier whole."""
    told = language(text)
    if told is None and not text.isascii():
        return language(_DIGITS.sub(" ", text))
    return told


def _answered_in(answer: str, asked: str) -> bool:
    """Whether a clause of the answer is written in the query's language: an answer opening in the user's language
    and going on in the app's (a reply followed by its source's lines), or a tagline in the user's language after a
    word in another (`贈り物に` and a full-width colon), answers the user in theirs. A clause too short for
    `language` is read by its function words too (`Neue Dokumente werden montags eingespielt`)."""
    return any(asked in (_tongue(clause), _language(clause)) for clause in _CLAUSE_END.split(answer) if clause.strip())


def _other_language(past: list[_Run], query: str, answer: str, cfg: Config) -> str | None:
    """The rule by which an answer in another language than its query is off the task, if one does: the app
    answers queries in that language in it (nine in ten at least of its past runs asked in it whose answer's
    language tells, three at least, once it has `min_history` runs; an app answering in one language whatever it
    is asked in, or translating, does not)."""
    if len(query) > _KEPT_CHARS or len(past) < cfg.min_history:  # a conversation or document given whole
        return None
    asked, answered = _tongue(query), _tongue(answer)
    if asked is None or answered is None or asked == answered:
        return None
    if _asked_for(query, answered) or _answered_in(answer, asked):
        return None
    told = [_tongue(a) for q, a, _ in past if _tongue(q) == asked]
    known = [told_ for told_ in told if told_]
    if len(known) < 3 or known.count(asked) * 10 < len(known) * 9:
        return None
    return f"the answer is in {answered}, the query in {asked}, which the app answers in {asked}"


_ALIKE = 0.5  # idf-weighted cosine of two texts' words from which they are alike
_UNLIKE = 0.3  # below which two answers are unlike
_OTHER = 0.2  # below which two questions are about other things
_SETTLED = 8  # the past runs asked most alike whose answers are read


def _one_subject(questions: list[str]) -> bool:
    """Whether questions are about one subject (a third of their pairs alike at least): a reply the app gives to
    questions about anything (a refusal, "I can help with appliances and orders only") is no other topic's answer."""
    asked = [features(q) for q in questions]
    pairs = [s for n, one in enumerate(asked) for s in similarities(one, asked[n + 1 :]) if n + 1 < len(asked)]
    return sum(s > 0 for s in pairs) * 3 >= len(pairs)


def _codes(text: str) -> set[str]:
    """The acronyms of a text (`INT`, `CONV`, `GPS`): the codes naming what it is about. (Numbers are no code: an
    order number or a meter reading changes while the question stays.)"""
    return set(_ACRONYM.findall(text))


def _answers_another_question(
    past: list[_Run], query: str, answer: str, sources: list[str], returned: list[str], cfg: Config
) -> str | None:
    """The rule by which an answer is one the app gives to other questions, if one does: the app answered this
    question before, alike (two runs at least asked alike, whose answers are alike among themselves: the question
    has a settled answer, not one that depends on another input, as copy written for a product does), three
    quarters of those answers in the answer's language unlike this one, and two past answers alike to it were
    given to questions about other things: the answer of another branch or topic of the app (a tuition answer to
    a question about the motivation letter)."""
    if len(past) < cfg.min_history or not (asked := features(query)) or not (said := features(answer)):
        return None
    to_query = similarities(asked, [features(q) for q, _, _ in past])
    to_answer = similarities(said, [features(a) for _, a, _ in past])
    elsewhere = [i for i, (q, a) in enumerate(zip(to_query, to_answer, strict=True)) if a >= _ALIKE and q < _OTHER]
    # Like no answer the app gave (a poem at a museum desk), in the query's language (an answer in another is unlike
    # the past ones by its words alone).
    # An answer giving figures to a question giving figures ("12.8 m, 2 nights?" "About EUR 103.68") is worked out
    # from them: its words need be like no earlier answer's.
    unheard = (
        max(to_answer) < _OTHER
        and language(answer) is not None
        and language(answer) == language(query)
        and not (_NUMBER.search(query) and _NUMBER.search(answer))
    )
    # Given to questions about anything, it is the app's reply to anything (a redirect), unless the run retrieved
    # something and the answer owes it nothing either (a campaign pasted into the system prompt, given to every
    # question instead of the documents' answer).
    if not unheard and (
        len(elsewhere) < 2
        or not (_one_subject([past[i][0] for i in elsewhere[-_SETTLED:]]) or _unsourced(answer, sources))
    ):
        return None
    # A short ASCII answer's language told by its function words too: "Five minutes, or the cops get here." is weighed
    # against the English answers the question got, not its Thai ones (a translation asked for). Not in other
    # scripts: a Polish answer's `a` and `do` are no Spanish or English.
    answered = language(answer) or (_language(answer) if answer.isascii() else None)
    codes = _codes(query)
    alike = sorted((i for i, s in enumerate(to_query) if s >= _ALIKE), key=to_query.__getitem__, reverse=True)
    # Asked alike, a past question naming another code than this one's (a template's question on another course,
    # "reservar 2 plazas del curso CONV-A2" for "del curso B1-INT-07") is another question: its answer need not be
    # this one's.
    alike = [
        i
        for i in alike
        if (answered is None or language(past[i][1]) in (answered, None))
        and not (codes - (other := _codes(past[i][0])) and other - codes)
    ][:_SETTLED]
    if len(alike) < 2 or sum(to_answer[i] < _UNLIKE for i in alike) * 4 < len(alike) * 3:
        return None
    answers = [features(past[i][1]) for i in alike]
    pairs = [s for n, one in enumerate(answers) for s in similarities(one, answers[n + 1 :])] if answers else []
    if sum(s >= _UNLIKE for s in pairs) * 2 < len(pairs):
        return None
    if unheard:
        return "the answer is like none the app gave before, unlike the settled answer it gave to this question"
    if _filled_in(answer, [past[i][1] for i in elsewhere], returned):
        return None
    return f"the answer is like {len(elsewhere)} the app gave to other questions, unlike those it gave to this one"


def _filled_in(answer: str, others: list[str], returned: list[str]) -> bool:
    """Whether the answer is the app's template filled in from this run's data: half its terms at least (two at
    least) that the alike answers lack, or half its numbers (two at least), are in what its tools or HTTP requests
    returned (another book and its branch, this tenant's rent and what was paid; a retrieved page is every run's).
    Another topic's answer differs from its kin in no fetched term and reports no fetched figure. An API's JSON
    escapes its letters (`\\u4e2d`): read as the letters. `returned` holds what code nodes and loops worked out too
    (a stuck loop's meter total: the answer reads the run's data, however wrong the data)."""
    if not returned:
        return False
    fetched = _said([_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), part) for part in returned])
    own = _terms(answer) - _said(others)
    figures = set(_NUMBER.findall(answer))
    return any(len(part & fetched) >= 2 and len(part & fetched) * 2 >= len(part) for part in (own, figures))


_ESCAPED = re.compile(r"\\+u([0-9a-fA-F]{4})")


def _unsourced(answer: str, sources: list[str]) -> bool:
    """Whether the run retrieved something or its tools returned something, and a tenth at most of the answer's
    terms are in it."""
    said = _terms(answer)
    return bool(sources) and len(said & _said(sources)) * 10 <= len(said)


def _written_apart(answer: str, query: str) -> bool:
    """Whether the answer is in another language than the query, as far as `language` tells: two languages, or
    one told by a script the other text is not written in (an English line for a Thai one, whose few words tell no
    language)."""
    answered, asked = _tongue(answer), _tongue(query)
    if answered is None or asked is None:
        told = answered or asked
        if told is not None and told in SCRIPTS:
            return True
        # This module's reading of the most frequent words, which tells Spanish by `una` and `que` too.
        answered, asked = _language(answer), _language(query)
        return answered is not None and asked is not None and answered != asked
    return answered != asked


def _source_ignored(trace: Trace, query: str, answer: str, asked: set[str]) -> str | None:
    """The rule by which an answer naming its query's subject ignores what the run fetched for it, if one does:
    a run that retrieved documents or called a tool, whose answer shares no term with them but the query's, and at
    most a tenth of its terms with the query, them and its LLMs' prompts together, in the language of the query
    and of one of them."""
    sources = _sources(trace)
    if not sources:
        return None
    said = _terms(answer)
    fetched = _said(sources)
    if said & (fetched - asked):
        return None
    prompts = _prompts(trace)
    grounded = said & (asked | fetched | _said(prompts))
    if len(grounded) * 10 > len(said):
        return None
    written = _written_in(sources)
    if written and _language(answer) not in written:
        return None
    if _written_apart(answer, query):
        return None
    return (
        f"the answer shares {len(grounded)} of its {len(said)} terms with the query and nothing else with what the "
        "run retrieved, its tools returned or its LLMs were sent"
    )


_DIGITS = re.compile(r"\d+")
_TOLD_BY = 5  # terms of an answer at least for its share in what the run was given to tell its subject
_FIGURE = re.compile(r"(?<![\w./-])\d{2,}")  # a number of two digits or more, not within an identifier (`RX-2128869`)
_ANCHORED_RUNS = 20  # the app's last answers judged whose sharing a term with their query is its habit


def _habit(past: list[_Run], cfg: Config) -> str | None:
    """The app's habit of answering with a term of the query, if it has one: nine in ten at least of its last
    answers (`min_anchored_history` at least) shared a term with their query. An app whose right answers need not
    name their question (plain chat, a classifier's fixed replies) has none."""
    told = [shared for _, _, shared in past if shared is not None][-_ANCHORED_RUNS:]
    if len(told) < cfg.min_anchored_history or sum(told) * 10 < len(told) * 9:
        return None
    return f"{sum(told)} of the app's last {len(told)} answers shared a term with their query"


def _other_document(sources: list[str], asked: set[str], said: set[str]) -> str | None:
    """The rule by which an answer was written from another of the run's sources than the one asked about, if one
    does: two sources or more, the query sharing two terms at least with some, the answer at most one with those
    the query shares most with, and three at least with one sharing none with the query (an accessibility answer
    to a ticket question, both pages retrieved)."""
    if len(sources) < 2:
        return None
    terms = [_said([source]) for source in sources]
    to_query = [len(asked & source) for source in terms]
    to_answer = [len(said & source) for source in terms]
    top, best = max(to_query), max(to_answer)
    if top < 2 or best < 3:
        return None
    if any(a > 1 for q, a in zip(to_query, to_answer, strict=True) if q == top):
        return None
    if any(q for q, a in zip(to_query, to_answer, strict=True) if a == best):
        return None
    return (
        f"the answer shares {best} terms with a source sharing none with the query, and at most one with those the "
        f"query shares {top} with"
    )


def _unanchored(trace: Trace, query: str, answer: str, sources: list[str]) -> str | None:
    """The rule by which an answer sharing no term with its query is off it in an app with the habit (`_habit`), if
    one does: it shares at most a tenth of its terms with the query, what the run retrieved or was given and its
    LLMs' prompts (a headline loop's output becoming a prize advert; a tuition answer to a question on opening
    hours, its documents not retrieved), or it was written from another source than the one asked about."""
    said = _terms(answer)
    # An answer in another language than the query's (a translation, an answer asked for in it) is the other-language
    # rule's to judge.
    if not said or _written_apart(answer, query):
        return None
    # What the run retrieved or its tools returned ground it where there is any: its LLMs' prompts hold those and
    # the app's instructions, and an answer taking its words from the instructions alone (a campaign pasted into the
    # system prompt, "Always promote the Summer Reading Challenge first") did not answer from them.
    grounded = len(said & _said(sources or _prompts(trace)))
    # One working with the query's figures ("5 x 8 = 37") is on it, if wrong; one giving figures to a question
    # giving figures (a quote from a length and a number of nights) may be worked out from them.
    worked = set(_DIGITS.findall(answer)) & set(_DIGITS.findall(query)) or (
        _FIGURE.search(query) and _FIGURE.search(answer)
    )
    # Four terms or fewer ("We never refund tickets") tell too little of what an answer is about.
    if grounded * 10 <= len(said) and len(said) >= _TOLD_BY and not worked:
        return f"the answer shares no term with the query and {grounded} of its {len(said)} with what the run was given"
    return _other_document(sources, _terms(query), said)


def _elsewhere(trace: Trace, query: str, answer: str, asked: set[str], runs: deque[_Run], cfg: Config) -> str | None:
    """`_other_document`'s rule for an answer sharing one term with its query, in an app with the habit."""
    sources = _sources(trace)
    if len(sources) < 2 or _written_apart(answer, query) or not (habit := _habit(_earlier(runs), cfg)):
        return None
    rule = _other_document(sources, asked, _terms(answer))
    return f"{rule}, where {habit}" if rule else None


def _done_beside(answer: str, offer: str, fetched: set[str]) -> bool:
    """Whether the answer's sentences without the offer do the task: `_TOLD_BY` terms at least, more than a third of
    them from the query and what the run fetched, as `_advert` asks of a whole answer (a booking confirmed from the
    booking tool's reply, a discount added after it). An offer added to the answer is no advert instead of it; what
    it claims is the hallucination detector's to check."""
    rest = _terms(" ".join(part for part in _SENTENCE_END.split(answer) if offer not in part))
    return len(rest) >= _TOLD_BY and len(rest & fetched) * 3 > len(rest)


def _advert(trace: Trace, query: str, answer: str, stems: set[str], runs: deque[_Run], cfg: Config) -> str | None:
    """The rule by which an answer is an advert instead of the task, if one does: it speaks an offer's register
    (`_ADVERT`: "30 % off this week, order now") that neither the query nor what the run retrieved, its tools
    returned or its LLMs were sent speaks (a question about an offer, a prompt asking for ad copy, a discount in a
    fetched catalog leave it alone), a third of its terms at most come from those, and a quarter at most of the app's
    last answers (`min_anchored_history` at least) spoke it: an app writing ads has that habit."""
    offer = _offer(answer, stems)
    if offer is None:
        return None
    fetched = [query, *_sources(trace)]
    if any(_ADVERT.search(text) for text in [*fetched, *_prompts(trace)]):
        return None
    # Its terms are weighed against the query and what the run fetched only: a prompt's instruction to promote
    # ("always offer our loan app") is how an answer derails, not what grounds it.
    said = _terms(answer)
    if len(said & _said(fetched)) * 3 > len(said) or _done_beside(answer, offer, _said(fetched)):
        return None
    past = _earlier(runs)[-_ANCHORED_RUNS:]
    adverts = sum(bool(_ADVERT.search(earlier)) for _, earlier, _ in past)
    if len(past) < cfg.min_anchored_history or adverts * 4 > len(past):
        return None
    return (
        f"the answer advertises ({offer!r}), which neither the query nor what the run was given does, where "
        f"{adverts} of the app's last {len(past)} answers did"
    )


def _asked(query: str) -> set[str]:
    """The query's terms. Two hiragana of it are mostly a Japanese ending or particle (`です`, `まで`), which any answer
    shares: the query's subject is in its kanji and katakana. (What the run was given keeps them: `ごみ`, a route's
    name.)"""
    return {term for term in _terms(query) if not _HIRAGANA_PAIR.fullmatch(term)}


_SHORTEST_ADVERT = 3  # words at least of a short answer judged an advert ("Download the app now")


def _short_advert(trace: Trace, query: str, answer: str, runs: deque[_Run], cfg: Config) -> str | None:
    """`_advert`'s rule for an answer of fewer than `min_answer_words`, of a query of two terms or more."""
    if len(_asked(query)) < 2:
        return None
    return _advert(trace, query, answer, _stems(answer), runs, cfg)


def _quoted_from_asked(sources: list[str], asked: set[str], answer: str) -> bool:
    """Whether every term of the answer is in one source sharing two terms at least with the query: the answer reads
    the passage fetched for the question (the tuition line of the page on tuition and scholarships, to a scholarship
    question), however like the app's answers to other questions it is; what it leaves out is not another task."""
    said = _terms(answer)
    return any(len(asked & terms) >= 2 and said <= terms for terms in map(_terms, sources))


def _judged(
    trace: Trace, root: Any, query: str, answer: str, size: int, runs: deque[_Run], cfg: Config
) -> tuple[str | None, bool | None]:
    """The rule by which the answer is off its query, if one does, and whether it shares a term with the query
    (None for a query of one term): the run's own texts first, then the app's past runs (those only for an answer
    sharing no term with its query, or in another script than it)."""
    asked = _asked(query)
    if len(asked) < 2:
        return None, None
    # The answer's words first: most answers share one with their query, and their other terms are then not read.
    stems = _stems(answer)
    shared = asked & stems or asked & _terms(answer)
    if rule := _advert(trace, query, answer, stems, runs, cfg):
        return rule, bool(shared)
    if shared:
        # Few of a long answer's words in the query (a tenth at most): it may name the query's subject and
        # nothing else ("Barcelona has great tapas bars" to a question on a jacket, from a forecast).
        if len(shared) * 10 <= len(stems) and (rule := _source_ignored(trace, query, answer, asked)):
            return rule, True
        # One term of the query only: the answer may be another source's, retrieved beside the one asked about.
        if (
            len(shared) == 1
            and len(runs) >= cfg.min_anchored_history
            and (rule := _elsewhere(trace, query, answer, asked, runs, cfg))
        ):
            return rule, True
        # Sharing a term (a number, a title) with the query, an answer in another language may still be off: a
        # Russian solution to an English sum, an English reply to a Swedish question naming a Swedish book. (Two
        # ASCII texts are not told apart here: most runs are, and telling their languages costs.)
        if (query.isascii() and answer.isascii()) or len(runs) < cfg.min_history:
            return None, True
        return _other_language(_earlier(runs), query, answer, cfg), True
    sources = _sources(trace)
    short = not sources and size < cfg.min_unsourced_words
    rule = None
    if short and cfg.routed_replies and trace.of_type("question-classifier"):
        rule = _routed_off(trace, answer)
    elif not short:
        rule = _off_rule(trace, root, query, answer, sources)
    if rule and _app_talk(query, answer, runs):
        rule = None
    if rule or len(runs) < cfg.min_anchored_history:
        return rule, False
    past = _earlier(runs)
    if (
        len(past) >= cfg.min_history
        and (
            rule := (
                not _quoted_from_asked(sources, asked, answer)
                and _answers_another_question(past, query, answer, sources, _returned(trace) + _worked_out(trace), cfg)
            )
            or _other_language(past, query, answer, cfg)
        )
        and not _app_talk(query, answer, runs)
    ):
        return rule, False
    habit = _habit(past, cfg)
    rule = habit and _unanchored(trace, query, answer, sources)
    if rule and _app_talk(query, answer, runs):
        return None, False
    return (f"{rule}, where {habit}" if rule else None), False


_APP_TALK = 4  # an answer a quarter of whose terms the app's on-question answers hold speaks of the app's business


def _app_talk(query: str, answer: str, runs: deque[_Run]) -> bool:
    """Whether a quarter of the answer's terms at least (two at least) are in the answers the app gave to questions
    like this one (`_ALIKE`) that shared a term with them: a short right answer putting the question in other words
    ("the claim is approved; the amount reaches your account within 15 days" to "how much will the insurance pay?")
    speaks of what such questions get, where an advert, a forecast or another question's answer (Saturday hours to a
    question on a dog's papers) does not. Read only for an answer a rule found off its query (rare)."""
    said = _terms(answer)
    past = [(earlier, reply) for earlier, reply, shared in _earlier(runs) if shared]
    alike = similarities(features(query), [features(earlier) for earlier, _ in past]) if past else []
    known = _said([reply for (_, reply), similarity in zip(past, alike, strict=True) if similarity >= _ALIKE])
    held = len(said & known)
    return held >= 2 and held * _APP_TALK >= len(said)


def _unrepeated(answer: str) -> str:
    """The answer with its repeated sentences said once; the answer itself when its first sentence is not said
    again (most: its first characters are found nowhere else, a plain search)."""
    if answer.find(answer[:16], 1) < 0:
        return answer
    end = _SENTENCE_END.search(answer)
    if end is None or end.end() == len(answer) or answer.count(answer[: end.end()]) < 2:
        return answer
    return " ".join(dict.fromkeys(part.strip() for part in _SENTENCE_END.split(answer) if part.strip()))


def _fetched_for(trace: Trace, query: str) -> bool:
    """Whether the run retrieved a document on the query (sharing a term of it): its answer was at
    hand, and a holding reply ignored it."""
    asked = _terms(query)
    return any(asked & _terms(content) for _, _, content in trace.documents)


_EMPTY_LIST = re.compile(r"(?:^|[:,\[])\s*\[\s*\]")


def _came_back_empty(trace: Trace) -> bool:
    """Whether a tool or HTTP node's result (its `text` or `body`, not Dify's own `files` beside it) holds an empty
    list: a lookup that found nothing (`"sailings": []`)."""
    for span in trace.of_type("tool", "http-request"):
        output = json_attr(span, "output.value")
        result = output.get("body", output.get("text")) if isinstance(output, dict) else output
        if isinstance(result, str) and _EMPTY_LIST.search(result):
            return True
    return False


_VOCABULARIES: ProcessMemory[Vocabulary] = ProcessMemory(Vocabulary, _APPS_KEPT)
_NEW_SHARE = 0.6  # share of an answer's words at least that the app never used nor its run was given
_NEW_WORDS = 12  # words at least of an answer judged by them: fewer tell too little


def _new_words(
    trace: Trace, query: str, answer: str, stems: set[str], vocabulary: Vocabulary, cfg: Config
) -> str | None:
    """The rule by which an answer sharing no term with its query is about something else, if one does: the app
    knows its business's words (`min_history` runs), and `_NEW_SHARE` of the answer's words (`_NEW_WORDS` at least) are
    words it never used nor the query, what the run retrieved, its tools returned or its LLMs were sent hold (a
    tax desk announcing its summer party). Read in scripts written with spaces (a character pair of Chinese is no
    word), for an answer in its query's language and in one of its sources'; an answer saying there is none
    (`_ABSENT`: "no sailings that day because of the weather") speaks of what was asked."""
    if vocabulary.runs < cfg.min_history or len(stems) < _NEW_WORDS or _PAIRED_RUN.search(answer):
        return None
    new = vocabulary.unknown(stems)
    if len(new) < _NEW_SHARE * len(stems) or _ABSENT.search(answer) or _written_apart(answer, query):
        return None
    sources = _sources(trace)
    written = _written_in(sources)
    if written and _language(answer) not in written:
        return None
    new -= _said([query, *sources, *_prompts(trace)])
    if len(new) < _NEW_SHARE * len(stems):
        return None
    return (
        f"{len(new)} of the answer's {len(stems)} words ({', '.join(sorted(new)[:6])}) are in none of the app's "
        f"{vocabulary.runs} past runs nor in what this run was given"
    )


_EXCLAIMED_WORDS = 8  # words at least of an exclaiming answer judged by them


def _exclaims(
    trace: Trace, query: str, answer: str, stems: set[str], vocabulary: Vocabulary, runs: deque[_Run], cfg: Config
) -> str | None:
    """The rule by which an exclaiming answer sharing no term with its query is about something else, if one does: it
    exclaims (`exclamation`: "...three months free!", in any script), a quarter at most of the app's last answers
    (`min_anchored_history` at least) did, and `_NEW_SHARE` of its words (`_EXCLAIMED_WORDS` at least) are words the
    app never used nor the query, what the run retrieved, its tools returned or its LLMs were sent hold. Two signs of
    another register and subject together, before `min_history` runs too and in any language (the answer asked for
    in another than the query's included: its words are weighed against the app's, not the query's); one alone is
    not enough (a greeting exclaims in the app's words, a right answer's new words come quietly)."""
    if vocabulary.runs < cfg.min_anchored_history or len(stems) < _EXCLAIMED_WORDS:
        return None
    if not (said := exclamation(answer)) or _ABSENT.search(answer):
        return None
    past = _earlier(runs)[-_ANCHORED_RUNS - 1 : -1]  # this run's answer, appended already, aside
    if len(past) < cfg.min_anchored_history or (cheered := exclaiming(a for _, a, _ in past)) * 4 > len(past):
        return None
    new = vocabulary.unknown(stems) - _said([query, *_sources(trace), *_prompts(trace)])
    if len(new) < _NEW_SHARE * len(stems):
        return None
    return (
        f"the answer exclaims ({said[-40:]!r}) where {cheered} of the app's last {len(past)} answers did, and "
        f"{len(new)} of its {len(stems)} words ({', '.join(sorted(new)[:6])}) are in none of the app's "
        f"{vocabulary.runs} past runs nor in what this run was given"
    )


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        if root is None:
            return
        # The answer first: when it is missing or too short to judge, the inputs are not read.
        answer = _answer(root)
        size = _size(answer) if answer else 0
        if not answer or size < min(cfg.min_answer_words, _SHORTEST_ADVERT):
            return
        # A short reply repeated until the token limit (a cost fault: "Within a week. Within a week. ...") is a
        # short reply.
        short = size < cfg.min_answer_words or (
            (once := _unrepeated(answer)) is not answer and _size(once) < cfg.min_answer_words
        )
        query = _query(trace, root)
        if not query or query == answer:
            return
        runs = _runs_of(trace)
        if short:
            # Too short for its words to tell its subject, an answer may still be an advert ("下载「剧迷」App看全集"
            # for a subtitle); it is not kept as the app's answer, as no short one is.
            rule = _short_advert(trace, query, answer, runs, cfg)
        else:
            rule, shared = _judged(trace, root, query, answer, size, runs, cfg)
            with _PAST.lock:
                runs.append((query[:_KEPT_CHARS], answer[:_KEPT_CHARS], shared))
            # The app's words: an answer found about something else teaches none (its repeats stay new).
            vocabulary = _VOCABULARIES.of(trace.baselines, trace.app)
            stems = _stems(answer)
            if rule is None and shared is False:
                rule = _new_words(trace, query, answer, stems, vocabulary, cfg) or _exclaims(
                    trace, query, answer, stems, vocabulary, runs, cfg
                )
            vocabulary.learn(_stems(query) | (set() if rule else stems))
        # A refusal, "I don't know", a holding reply or "there is none" to a lookup that found nothing answers the
        # query, if not helpfully.
        if (
            rule
            and not _DECLINE.search(answer)
            and not (_HOLDING.search(answer) and not _fetched_for(trace, query))
            and not (_ABSENT.search(answer) and _came_back_empty(trace))
        ):
            yield Finding(
                KEY,
                "medium",
                0.7,
                "The final answer shares no subject with the user's query nor with anything the run retrieved or "
                "was told; check the prompt chain and the branch the run took.",
                {"node": "the run", "rule": rule, "query": query[:200], "answer": answer[:200],
                 "language": _language(answer)},
            )  # fmt: skip

    return detect

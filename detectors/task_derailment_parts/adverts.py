"""An answer in an advert's register instead of the task: the phrases of offers, app downloads, bets and loans, and
the rule judging them against what the run was given and the app's habit."""

from __future__ import annotations

import re
from collections import deque

from detectors import Trace
from detectors.task_derailment_parts.config import Config
from detectors.task_derailment_parts.grounding import TOLD_BY
from detectors.task_derailment_parts.history import ANCHORED_RUNS, Run, earlier_runs
from detectors.task_derailment_parts.languages import SENTENCE_END
from detectors.task_derailment_parts.run import answering_prompts, run_sources
from detectors.task_derailment_parts.words import query_terms, stems_of, terms_given, terms_of

# The register of an advert: a discount, a call to buy, a limited-time or free-delivery offer, in the languages of
# `DECLINE` and Chinese, Japanese, Korean, Thai, Arabic, Russian, Turkish. Words that also name a quote or a reduced
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
# Words of `_APP_CALL` as `stems_of` reads them (four letters or more): an answer holding none is searched no further.
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
    # A sale's pitch: a price cut "as low as" or "from" so many tenths ("低至 5 折", "8.5折起"; a member's "9 折" is a
    # term, stated), a big sale, a rush to buy ("大促", "抢购").
    r"|低至 ?\d(?:\.\d)? ?折|(?<![\d.])\d(?:\.\d)? ?折起|大促|抢购"
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
    # Free shipping of a kind ("free express shipping", "free next-day delivery") and a trial given away.
    r"|(?<!\w)free (?:\S+ )?(?:shipping|delivery)(?!\w)|(?<!\w)free trial(?!\w)"
    rf"|{_PITCH}|(?<!\w)(?:{'|'.join(map(re.escape, _CALL_NOW))})\s?!"
)


# The words of `_OFFER_PHRASES` as `stems_of` reads them: an answer holding none of them, no `%` and only ASCII is no
# advert, and the slow search for one is skipped (most answers).
_OFFER_STEMS = frozenset().union(
    *map(stems_of, _OFFER_PHRASES + _PERCENT_WORDS + _APP_CALL_WORDS + _BET_WORDS + _BONUS_WORDS + _CALL_NOW)
)


def _offer(answer: str, stems: set[str]) -> str | None:
    """What an answer says in an advert's register (`_ADVERT`), if it does; `stems` are the answer's."""
    if "%" in answer or not stems.isdisjoint(_OFFER_STEMS) or (not answer.isascii() and _UNSPACED_OFFER.search(answer)):
        found = _ADVERT.search(answer)
        return found.group() if found else None
    return None


def _done_beside(answer: str, offer: str, fetched: set[str]) -> bool:
    """Whether the answer's sentences without the offer do the task: `TOLD_BY` terms at least, more than a third of
    them from the query and what the run fetched, as `advert` asks of a whole answer (a booking confirmed from the
    booking tool's reply, a discount added after it). An offer added to the answer is no advert instead of it; what
    it claims is the hallucination detector's to check."""
    rest = terms_of(" ".join(part for part in SENTENCE_END.split(answer) if offer not in part))
    return len(rest) >= TOLD_BY and len(rest & fetched) * 3 > len(rest)


def advert(trace: Trace, query: str, answer: str, stems: set[str], runs: deque[Run], cfg: Config) -> str | None:
    """The rule by which an answer is an advert instead of the task, if one does: it speaks an offer's register
    (`_ADVERT`: "30 % off this week, order now") that neither the query nor what the run retrieved, its tools
    returned or its LLMs were sent speaks (a question about an offer, a prompt asking for ad copy, a discount in a
    fetched catalog leave it alone), a third of its terms at most come from those, and a quarter at most of the app's
    last answers (`min_anchored_history` at least) spoke it: an app writing ads has that habit."""
    offer = _offer(answer, stems)
    if offer is None:
        return None
    fetched = [query, *run_sources(trace)]
    if any(_ADVERT.search(text) for text in [*fetched, *answering_prompts(trace)]):
        return None
    # Its terms are weighed against the query and what the run fetched only: a prompt's instruction to promote
    # ("always offer our loan app") is how an answer derails, not what grounds it.
    said = terms_of(answer)
    if len(said & terms_given(fetched)) * 3 > len(said) or _done_beside(answer, offer, terms_given(fetched)):
        return None
    past = earlier_runs(runs)[-ANCHORED_RUNS:]
    adverts = sum(bool(_ADVERT.search(earlier)) for _, earlier, _ in past)
    if len(past) < cfg.min_anchored_history or adverts * 4 > len(past):
        return None
    return (
        f"the answer advertises ({offer!r}), which neither the query nor what the run was given does, where "
        f"{adverts} of the app's last {len(past)} answers did"
    )


SHORTEST_ADVERT = 3  # words at least of a short answer judged an advert ("Download the app now")


def short_advert(trace: Trace, query: str, answer: str, runs: deque[Run], cfg: Config) -> str | None:
    """`advert`'s rule for an answer of fewer than `min_answer_words`, of a query of two terms or more."""
    if len(query_terms(query)) < 2:
        return None
    return advert(trace, query, answer, stems_of(answer), runs, cfg)

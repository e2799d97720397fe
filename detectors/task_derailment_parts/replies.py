"""Answers that answer the query without its terms: a refusal, a holding reply, "there is none"."""

from __future__ import annotations

import re

from detectors.screened import Screened

# An answer that declines, says it does not know, or says the run could not do the task ("I could not build a
# working query", "no flight data arrived, so no digest"): it answers the query, if not helpfully, and a failure
# upstream is other detectors' to find. In English, German, Spanish, French, Portuguese, Italian, Dutch, Polish,
# Chinese, Japanese, Korean and Arabic.
_DECLINE = re.compile(
    r"(?i)\b(?:sorry|(?:I|we) (?:cannot|can't|can not|could not|couldn't|am unable|are unable|was unable|were unable|"
    r"don't have|do not have)|"
    r"unable to|(?:am|are|'m|'re|is) not able to|no (?:information|data|results?|rows?)|not possible|"
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
# HTTP result came back holding an empty list (`came_back_empty`): it answers from that emptiness, and shares no
# word with a result that has none. In the languages of `DECLINE` and Persian, Bengali, Georgian and Armenian.
_ABSENT = re.compile(
    r"(?i)\b(?:no|none|not|nothing|kein\w*|nicht|no hay|ningún|ninguna|pas de|aucune?|não há|nenhum\w*|"
    r"non (?:c'è|ci sono)|nessun\w*|geen|nie ma|brak|yok|нет|немає|δεν υπάρχ\w*|καμία|κανένα|tidak ada|tiada|"
    r"belum ada|hakuna|hamna|không có|אין|لا (?:توجد|يوجد)|وجود ندارد|نیست|नहीं|নেই|არ არის|չկա|չկան)(?!\w)"
    r"|没有|沒有|ありません|없습니다|없어요|ไม่มี"
)
# A holding reply passes the query on ("Thanks for your question! Our team will get back to you shortly."): a
# catch-all branch's answer to anything, which names neither route nor query and is on the task all the same (a
# real Dify app's `Other` desk did so on every run it routed; tests/testdata/dify-1.14.1-faults), unless the run
# retrieved a document on the query (`fetched_for`): then it ignored the answer at hand. In the languages of
# `DECLINE`, plus Turkish, Russian and Ukrainian.
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

# Each searched only where it can match (`detectors/screened.py`): most answers hold none of their words.
DECLINE, ABSENT, HOLDING = Screened(_DECLINE), Screened(_ABSENT), Screened(_HOLDING)

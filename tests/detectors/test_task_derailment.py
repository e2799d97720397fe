# ruff: noqa: RUF001 - Chinese subtitles keep their full-width commas
"""`task_derailment`'s rules read against the app's own habit and the run's fetched data, and its words in scripts
that `\\w` splits (Devanagari's vowel signs) or whose words carry particles (Korean)."""

from __future__ import annotations

import json
import unicodedata
from collections import deque

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.detectors import Config, DetectionProcessor
from detectors import Finding, MemoryBaselines, Trace, registry
from detectors.likeness import language
from detectors.task_derailment import Config as DerailConfig
from detectors.task_derailment_parts.adverts import _done_beside
from detectors.task_derailment_parts.history import Run, _filled_in, other_language
from detectors.task_derailment_parts.languages import answered_in, tongue, written_in
from detectors.task_derailment_parts.new_words import new_words
from detectors.task_derailment_parts.replies import DECLINE
from detectors.task_derailment_parts.run import run_answer, worked_out
from detectors.task_derailment_parts.words import _MARKED, stems_of, terms_given, terms_of
from detectors.vocabulary import Vocabulary
from tests.detectors.build import llm, node, run_spans


def _processor() -> DetectionProcessor:
    """task_derailment alone, its per-app history kept from run to run."""
    others = {key: {"enabled": False} for key in registry() if key != "task_derailment"}
    return DetectionProcessor(Config.model_validate(others))


def _summary(app: str, note: str, line: str, nodes: list[dict[str, object]] | None = None) -> list[ReadableSpan]:
    """A workflow turning a support note into a subject line (no retrieval, no tool)."""
    prompt = f"Write a short subject line for this support note: {note}"
    return run_spans(
        nodes or [llm(prompt=prompt, answer=line)], app_id=app, inputs={"note": note}, outputs={"subject": line}
    )


_NOTES = [
    (
        "The customer says the blender lid cracked after two weeks of daily use.",
        "Blender lid cracked after two weeks of use",
    ),
    (
        "Caller wants to change the delivery address for order of the standing desk.",
        "Change the delivery address of the standing desk",
    ),
    (
        "Espresso machine leaks water from the bottom when the steam wand is used.",
        "Espresso machine leaking water under the steam wand",
    ),
    (
        "Customer asks whether the vacuum cleaner filter can be washed under the tap.",
        "Can the vacuum cleaner filter be washed?",
    ),
    (
        "The kettle switches itself off before the water boils, reported twice.",
        "Kettle switches itself off before the water boils",
    ),
    (
        "Buyer received the wrong colour of the kitchen scale and wants an exchange.",
        "Exchange for a kitchen scale in the wrong colour",
    ),
]


def _detect(processor: DetectionProcessor, spans: list[ReadableSpan]) -> list[Finding]:
    return [f for f in processor.detect(spans) if f.detector == "task_derailment"]


def test_an_answer_sharing_nothing_with_its_query_where_the_app_s_answers_always_do() -> None:
    processor = _processor()
    for note, line in _NOTES:
        assert _detect(processor, _summary("notes", note, line)) == []
    note = "Customer reports the toaster crumb tray is stuck and will not slide out."
    other = "Our harbour ferry tours leave every evening from pier seven"
    (finding,) = _detect(processor, _summary("notes", note, other))
    assert finding.evidence["rule"].startswith("the answer shares no term with the query and 0 of its 8")
    assert "6 of the app's last 6 answers" in finding.evidence["rule"] and finding.evidence["answer"] == other
    # The same answer in an app with no habit yet (fewer than `min_anchored_history` answers known) is not judged.
    assert _detect(_processor(), _summary("fresh", note, other)) == []
    # Nor is an answer of four terms or fewer: too few to tell its subject by.
    processor = _processor()
    for earlier, line in _NOTES:
        _detect(processor, _summary("notes", earlier, line))
    assert _detect(processor, _summary("notes", note, "We never ship big pallets on any holiday.")) == []


def test_no_habit_where_the_app_s_right_answers_need_not_name_their_question() -> None:
    """A desk's fixed replies ("We have logged your request") share nothing with their questions: the app has no
    habit for an answer sharing nothing to break."""
    processor = _processor()
    for note, _ in _NOTES:
        assert _detect(processor, _summary("desk", note, "We have logged your request for the team today")) == []
    note = "Customer reports the toaster crumb tray is stuck and will not slide out."
    assert (
        _detect(processor, _summary("desk", note, "Our harbour ferry tours leave every evening from pier seven")) == []
    )


def test_the_habit_leaves_an_answer_grounded_in_the_run_or_in_the_language_asked_for() -> None:
    processor = _processor()
    for note, line in _NOTES:
        _detect(processor, _summary("notes", note, line))
    note = "Customer reports the toaster crumb tray is stuck and will not slide out."
    # No word of the note, but the prompt's: a subject line written from what the LLM was given.
    prompt = f"Write a short subject line for this support note: {note} Category: appliance fault, priority normal"
    grounded = [llm(prompt=prompt, answer="Appliance fault reported, normal priority, no rush")]
    assert (
        _detect(processor, _summary("notes", note, "Appliance fault reported, normal priority, no rush", grounded))
        == []
    )
    asked = f"{note} Please write the subject line in Spanish."
    assert _detect(processor, _summary("notes", asked, "Bandeja del tostador atascada, el cliente pide ayuda")) == []


def test_a_korean_or_hindi_app_s_habit_is_read_by_syllable_pairs_and_whole_words() -> None:
    """Korean words carry their particles (`주차장은`, `주차장을`) and Devanagari's vowel signs are no `\\w`: read by
    five letters from a word's start, neither shares a word with its question, and an app answering in them had
    no habit to break."""
    korean = [
        ("주차장은 몇 시에 닫아요?", "주차장을 밤 열한 시에 닫습니다 오늘도 그렇습니다"),
        ("수요일엔 몇 시까지 열어요?", "수요일은 저녁 아홉 시까지 열어요 평소보다 늦게"),
        ("어린이 요금은 얼마예요?", "어린이는 요금 없이 무료로 들어올 수 있습니다"),
        ("휠체어를 빌릴 수 있나요?", "휠체어는 일층 안내데스크에서 무료로 빌려 드립니다"),
        ("사진 촬영이 가능한가요?", "사진은 플래시 없이 촬영하실 수 있습니다"),
    ]
    hindi = [
        ("मेरी ट्रेन कितनी देर से पहुँची?", "आपकी ट्रेन आज लगभग दो घंटे देर से पहुँची थी"),
        ("क्या मुझे मुआवज़ा मिलेगा?", "हाँ, आपको किराये का आधा मुआवज़ा मिलेगा, दावा ऐप में करें"),
        ("टिकट रद्द करने पर कितना पैसा वापस मिलेगा?", "रद्द करने पर किराये का तीन चौथाई पैसा वापस मिलेगा"),
        ("गाड़ी किस प्लेटफ़ॉर्म से चलेगी?", "आपकी गाड़ी प्लेटफ़ॉर्म चार से चलेगी, समय पर पहुँचें"),
        ("खाना ट्रेन में मिलेगा क्या?", "हाँ, ट्रेन में खाना मिलेगा, पैंट्री कार बीच में है"),
    ]
    off = {"ko": ("전시 해설은 언제 있어요?", "조선은 오래전에 세워진 나라로 한양이 그 수도였습니다"),
           "hi": ("मेरी सीट बदल सकते हैं?", "हमारी नई रात्रि सेवाएँ पहाड़ों तक जाती हैं, आज ही बुक कीजिए")}  # fmt: skip
    for app, runs in (("ko", korean), ("hi", hindi)):
        processor = _processor()
        for question, answer in runs:
            assert _detect(processor, _chat(app, question, answer)) == [], answer
        (finding,) = _detect(processor, _chat(app, *off[app]))
        assert "5 of the app's last 5 answers" in finding.evidence["rule"]


def _chat(app: str, question: str, answer: str) -> list[ReadableSpan]:
    return run_spans([llm(prompt=question, answer=answer)], app_id=app, inputs={"sys.query": question},
                     outputs={"answer": answer})  # fmt: skip


def _stock(question: str, answer: str, result: str) -> list[ReadableSpan]:
    tool = node("stock", "tool", outputs={"text": result})
    prompt = f"You answer a bike shop's stock questions. Question: {question} Stock: {result}"
    return run_spans([tool, llm(prompt=prompt, answer=answer)], inputs={"sys.query": question},
                     outputs={"answer": answer})  # fmt: skip


def test_an_answer_naming_its_query_s_subject_and_nothing_the_run_fetched() -> None:
    question = "Do you still have the Trekking 700 in a 54 cm frame?"
    result = '{"model": "Trekking 700", "frame_cm": 54, "in_stock": 3, "store": "Riverside"}'
    off = "The Trekking line is a joy on gravel paths, and our café serves great cinnamon buns every weekend morning."
    (finding,) = _detect(_processor(), _stock(question, off, result))
    assert finding.evidence["rule"].startswith("the answer shares 1 of its 12 terms with the query and nothing else")
    on = "Yes, the Trekking 700 in 54 cm: three in stock at our Riverside store, and the café there is lovely."
    assert _detect(_processor(), _stock(question, on, result)) == []
    # Another language than the query's: a translation or an answer asked for, not judged by these words.
    other = "Der Trekking ist auf Schotterwegen eine Freude, und unser Café hat am Wochenende herrliche Zimtschnecken."
    assert _detect(_processor(), _stock(question, other, result)) == []


_PAGES = [
    "Opening hours: the reading room opens Monday to Friday from 9:00 to 20:00 and Saturday from 10:00 to 14:00.",
    "Printing and scanning: copies cost 10 cents a page; the scanner on the second floor sends files by e-mail.",
]


def _desk(question: str, answer: str, system: str = "", on_start: bool = False) -> list[ReadableSpan]:
    """A library desk's chatflow: both pages retrieved for every question, an LLM answering from them; `system`
    added to its prompt; the question on the start node only with `on_start` (the run listing Dify's ids alone)."""
    kr = node("kr", "knowledge-retrieval", outputs={"result": [{"content": page, "title": "p", "metadata": {}}
                                                               for page in _PAGES]})  # fmt: skip
    prompt = f"{system} Answer from these pages: {' '.join(_PAGES)} Question: {question}"
    asked = {"sys.query": question}
    nodes = [kr, llm(prompt=prompt, answer=answer)]
    if on_start:
        nodes.insert(0, node("start", "start", inputs=asked, outputs=asked))
    return run_spans(nodes, app_id="library", inputs={"sys.app_id": "library"} if on_start else asked,
                     outputs={"answer": answer})  # fmt: skip


_ASKED = [
    ("How much does a printed copy cost?", "A printed copy costs 10 cents a page at the second floor printer."),
    ("Is the reading room open on Friday evening?", "Yes, the reading room is open on Friday until 20:00."),
    ("Can the scanner send my files by e-mail?", "Yes, the scanner sends your files by e-mail straight away."),
    ("What time does the reading room open on Monday?", "On Monday the reading room opens at 9:00 sharp."),
    ("Where is the scanner in the building?", "The scanner stands on the second floor near the stairs."),
]


def _desk_with_habit() -> DetectionProcessor:
    processor = _processor()
    for question, answer in _ASKED:
        assert _detect(processor, _desk(question, answer)) == [], answer
    return processor


def test_an_answer_written_from_another_retrieved_page_than_the_one_asked_about() -> None:
    question = "When does the reading room open on Saturday?"
    off = "Copies cost ten cents each, and the second floor scanner e-mails your files to you."
    (finding,) = _detect(_desk_with_habit(), _desk(question, off))
    assert finding.evidence["rule"] == (
        "the answer shares 7 terms with a source sharing none with the query, and at most one with those the query "
        "shares 3 with, where 5 of the app's last 5 answers shared a term with their query"
    )
    on = "On Saturday the reading room opens from 10:00 to 14:00."
    assert _detect(_desk_with_habit(), _desk(question, on)) == []
    # Sharing one term with the query ("Saturday") and written from the other page all the same.
    (finding,) = _detect(_desk_with_habit(), _desk(question, f"On Saturday {off[0].lower()}{off[1:]}"))
    assert finding.evidence["rule"].startswith("the answer shares 7 terms with a source sharing none with the query")
    # Without the app's habit (a new app), neither is judged by the page it was written from.
    assert _detect(_processor(), _desk(question, off)) == []


def test_an_advert_instead_of_the_task_where_neither_the_run_nor_the_app_s_answers_speak_of_offers() -> None:
    """A discount and a call to buy that nothing the run was given holds: the answer advertises instead of doing the
    task, whatever words of the query it keeps (`ZenMat`), in any language."""
    processor = _processor()
    for note, line in _NOTES:
        _detect(processor, _summary("notes", note, line))
    note = "The ZenMat yoga mat arrived torn at one corner, the customer wants a replacement."
    advert = "¡Compra ya la esterilla ZenMat con un 50 % de descuento, solo hoy en nuestra tienda online!"
    (finding,) = _detect(processor, _summary("notes", note, advert))
    assert finding.evidence["rule"].startswith("the answer advertises ('Compra ya')")
    assert "0 of the app's last 6 answers did" in finding.evidence["rule"]
    # Asked about an offer, the answer may speak of one.
    asked = f"{note} Is the 50 % off offer still on, can I buy now?"
    assert _detect(processor, _summary("notes", asked, advert)) == []
    # An app that writes ads (a quarter of its last answers or more) has the habit.
    processor = _processor()
    for n, (earlier, line) in enumerate(_NOTES):
        _detect(processor, _summary("ads", earlier, "Order now: free delivery on every blender" if n % 2 else line))
    assert _detect(processor, _summary("ads", note, advert)) == []


def test_a_holding_reply_is_on_the_task_unless_the_run_retrieved_a_document_on_the_query() -> None:
    """A catch-all desk's "we will reply" defers a question it has nothing for; a run that retrieved the page on the
    question (the reading room's hours) and answers "we will get back to you" ignored what it fetched."""
    processor = _processor()
    for note, line in _NOTES:
        _detect(processor, _summary("notes", note, line))
    note = "Customer reports the toaster crumb tray is stuck and will not slide out."
    assert _detect(processor, _summary("notes", note, "Thank you! Our staff will reply within two working days.")) == []
    holding = "Thanks! Our staff will get back to you within two working days."
    (finding,) = _detect(_desk_with_habit(), _desk("When does the reading room open on Saturday?", holding))
    assert finding.evidence["rule"] == "no term of the answer in the query, the documents, tool results or LLM prompts"


def test_there_is_none_declines_in_arabic() -> None:
    """ "We have no filings in your name yet": a run that found nothing says so, and another detector judges why."""
    assert DECLINE.search("لا توجد لدينا إقرارات مقدمة باسمك حتى الآن.")
    assert DECLINE.search("ليس لدينا أي موعد متاح يوم الأحد.")


_SETTLED = [
    ("How much does a printed copy cost?", "Copies cost 10 cents a page here."),
    ("Can the scanner send my files by e-mail?", "Yes, the scanner sends your files by e-mail for free."),
    ("When is the reading room open on Saturday?", "On Saturday the reading room opens from 10:00 to 14:00."),
]


def _settled_desk() -> DetectionProcessor:
    """The desk after each of three questions got its settled answer eight times."""
    processor = _processor()
    for n in range(24):
        question, answer = _SETTLED[n % 3]
        assert _detect(processor, _desk(question, answer)) == [], answer
    return processor


def test_another_question_s_answer_unless_quoted_from_the_page_fetched_for_this_one() -> None:
    """The app's settled answer to another question is off this one, unless every word of it is in a page retrieved
    for this question (the price line of the printing-and-scanning page, to a scanner question): that answer reads
    the right page, if not its right line."""
    processor = _settled_desk()
    asked = _SETTLED
    (finding,) = _detect(processor, _desk(*asked[0][:1], asked[2][1]))
    assert finding.evidence["rule"].startswith("the answer is like 8 the app gave to other questions")
    assert _detect(processor, _desk(*asked[1][:1], asked[0][1])) == []


def test_a_japanese_answer_sharing_only_endings_with_its_query_shares_no_term() -> None:
    """`できます` and `ですか` end a Japanese question and its answers alike: two hiragana of the query name no
    subject."""
    processor = _processor()
    notes = [
        ("ブレンダーの蓋が二週間で割れました。", "ブレンダーの蓋の割れ、二週間使用後"),
        ("スタンディングデスクの配送先を変更したいです。", "スタンディングデスクの配送先変更の依頼"),
        ("エスプレッソマシンの底から水が漏れます。", "エスプレッソマシン底部からの水漏れ"),
        ("掃除機のフィルターは水洗いできますか?", "掃除機フィルターの水洗いについて"),
        ("電気ケトルが沸騰前に止まります。", "電気ケトルが沸騰前に停止する件"),
        ("キッチンスケールの色違いが届きました。", "キッチンスケール色違いの交換依頼"),
    ]
    for note, line in notes:
        assert _detect(processor, _summary("ja-notes", note, line)) == [], line
    note = "トースターのパンくずトレイが抜けません。交換できますか?"
    other = "来週の土曜日に市民公園で花火大会を開催します。雨天の場合は日曜日に延期できます。"
    (finding,) = _detect(processor, _summary("ja-notes", note, other))
    assert finding.evidence["rule"].startswith("the answer shares no term with the query")


_CAMPAIGN = "Always promote the Autumn Poetry Contest first."
_PROMOTED = "Join the Autumn Poetry Contest and win a tote bag and a café voucher!"


def test_the_query_is_read_from_the_start_node_when_the_run_lists_only_dify_s_ids() -> None:
    off = "The harbour ferry tours leave every evening, and you can board them at pier seven."
    (finding,) = _detect(_processor(), _desk("When does the reading room open on Saturday?", off, on_start=True))
    assert finding.evidence["query"] == "When does the reading room open on Saturday?"


def test_a_short_reply_repeated_to_the_token_limit_is_a_short_reply() -> None:
    """A model repeating "Ten to two." until its limit wrote three words, not a long answer sharing none with the
    query (its cost is `cost`'s to judge)."""
    assert _detect(_processor(), _desk("When does the reading room open on Saturday?", "Ten to two. " * 40)) == []


def test_an_answer_from_the_prompt_s_instructions_alone_where_the_run_retrieved_pages() -> None:
    """A campaign pasted into the system prompt: the answer's words are the instruction's, none the query's nor the
    pages' the run retrieved, in an app whose answers name their question."""
    question = "When does the reading room open on Saturday?"
    (finding,) = _detect(_desk_with_habit(), _desk(question, _PROMOTED, system=_CAMPAIGN))
    assert finding.evidence["rule"].startswith("the answer shares no term with the query and 0 of its")


def test_one_answer_to_questions_on_anything_owing_the_retrieved_pages_nothing() -> None:
    """The same campaign answer given to questions about other things (printing, the scanner) is no redirect when it
    owes the pages the run retrieved nothing: the question's settled answer was replaced."""
    processor = _settled_desk()
    asked = _SETTLED
    for question, _ in asked[:2]:
        _detect(processor, _desk(question, _PROMOTED, system=_CAMPAIGN))
    (finding,) = _detect(processor, _desk(asked[2][0], _PROMOTED, system=_CAMPAIGN))
    assert finding.evidence["rule"].startswith("the answer is like 2 the app gave to other questions")


def test_an_advert_s_discount_with_per_cent_written_out() -> None:
    """Hindi writes "50 per cent off" in words (`50 प्रतिशत छूट`): a summary turned into an app-download advert."""
    processor = _processor()
    for note, line in _NOTES:
        _detect(processor, _summary("notes", note, line))
    note = "The city's transport company launched a new app for buying bus tickets and tracking buses live."
    (finding,) = _detect(processor, _summary("notes", note, "आज ही डाउनलोड करें और पहली यात्रा पर 50 प्रतिशत छूट पाएं!"))
    assert finding.evidence["rule"].startswith("the answer advertises ('50 प्रतिशत छूट')")


def test_the_marks_class_holds_every_combining_mark_of_the_plane() -> None:
    """`_MARKED` is made looking at a quarter of the plane: it matches every combining mark of it, and only them."""
    plane = [chr(point) for point in range(0x300, 0x10000)]
    assert [c for c in plane if _MARKED.match(c)] == [c for c in plane if unicodedata.category(c).startswith("M")]


_SUBTITLES = [
    ("各位观众大家好，今天我们要去的是云南的热带雨林，这里生活着两百种鸟类。", "今天去云南热带雨林，这里有两百种鸟类"),
    ("厨师先把五花肉切成小块，用冷水下锅焯水，再加入冰糖小火慢炖一个小时。", "五花肉切块焯水，加冰糖小火炖一小时"),
    ("比赛进入最后十分钟，主队仍然以一比二落后，教练决定换上两名年轻前锋。", "最后十分钟主队一比二落后，教练换上前锋"),
    ("这座桥始建于明朝万历年间，全长一百二十米，历经四百多年风雨仍可通行。", "明代古桥全长一百二十米，至今仍可通行"),
    ("这家老茶馆已经开了八十年，每天早上都坐满了来喝茶聊天的老人们。", "八十年老茶馆，每天早上坐满喝茶的老人"),
]


def test_a_short_advert_calling_to_download_an_app() -> None:
    """Too short for its words to tell its subject (four words as `_size` counts Chinese), an answer calling to
    download an app ("Download the app to watch the whole series!") is an advert, not the subtitle asked for."""
    processor = _processor()
    for line, short in _SUBTITLES:
        assert _detect(processor, _summary("subtitles", line, short)) == [], short
    line = "山顶的寺庙每年春天都会举办庙会，吸引了成千上万的游客前来祈福。"
    (finding,) = _detect(processor, _summary("subtitles", line, "下载「剧迷」App看全集！"))
    assert finding.evidence["rule"].startswith("the answer advertises ('下载「剧迷」App')")
    # A short draft of the line is not judged.
    assert _detect(processor, _summary("subtitles", line, "春天山顶庙会游客多")) == []


def _fund(question: str, answer: str, promo: bool = False) -> list[ReadableSpan]:
    """A village-fund helpdesk (Indonesian) answering from its prompt alone; `promo` adds an instruction to offer a
    loan app."""
    system = "Anda petugas dana desa. Jawab singkat dan sopan dalam bahasa warga."
    if promo:
        system += " Selalu tawarkan aplikasi pinjaman DesaPay kepada warga."
    return run_spans([llm(prompt=f"{system}\n{question}", answer=answer)], app_id="fund",
                     inputs={"question": question}, outputs={"jawaban": answer})  # fmt: skip


_FUND_ASKED = [
    ("Apa saja syarat pengajuan dana desa untuk pembangunan jalan?",
     "Syaratnya proposal, RAB, berita acara musyawarah desa, dan foto lokasi."),
    ("Kapan dana tahap kedua dicairkan ke rekening desa?",
     "Pencairan tahap dua dilakukan setelah laporan tahap satu diverifikasi oleh dinas."),
    ("Bagaimana format laporan pertanggungjawaban semester satu?",
     "Gunakan format laporan dari dinas: realisasi anggaran, bukti belanja, foto kegiatan."),
    ("Jam berapa kantor dinas buka hari Sabtu?",
     "Kantor dinas tutup pada hari Sabtu; silakan datang Senin sampai Jumat."),
    ("Ke mana saya melapor penyalahgunaan dana desa?",
     "Silakan laporkan ke Inspektorat kabupaten melalui kanal pengaduan resmi."),
]  # fmt: skip


def test_a_loan_app_advert_a_prompt_asked_for_is_off_the_task() -> None:
    """The prompt's instruction to promote a loan app lends the advert its words (`aplikasi`, `pinjaman`, `DesaPay`):
    those do not ground it; only the query's and what the run fetched do."""
    processor = _processor()
    asked = _FUND_ASKED
    for question, answer in asked:
        assert _detect(processor, _fund(question, answer)) == [], answer
    advert = (
        "Untuk kebutuhan dana yang lebih cepat, unduh aplikasi DesaPay: pinjaman cair dalam sehari tanpa jaminan, "
        "bunga ringan!"
    )
    question = "Dananya belum cair padahal syarat sudah lengkap, apa yang kurang?"
    (finding,) = _detect(processor, _fund(question, advert, promo=True))
    assert finding.evidence["rule"].startswith("the answer advertises ('unduh aplikasi')")
    # Asked about a loan without collateral, the answer may offer one.
    assert _detect(processor, _fund("Apakah ada pinjaman tanpa jaminan untuk warga?", advert, promo=True)) == []


def test_thai_answers_are_counted_in_words_and_known_to_the_app_s_habit() -> None:
    """Thai writes no space between words: a 60-letter answer is a dozen words, not two, kept among the app's answers
    whose habit (no adverts) judges a tractor-loan advert answering an irrigation question."""
    processor = _processor()
    asked = [
        ("ใบข้าวมีจุดสีน้ำตาลรูปตา ควรทำอย่างไร", "อาการแผลรูปตาสีน้ำตาลบนใบเป็นลักษณะของโรคไหม้ ควรลดปุ๋ยไนโตรเจนและใช้พันธุ์ต้านทาน"),
        ("ช่วงแตกกอควรใส่ปุ๋ยอะไรดี", "ช่วงแตกกอควรใส่ปุ๋ยยูเรียหรือปุ๋ยสูตรที่มีไนโตรเจนสูงตามผลวิเคราะห์ดิน"),
        ("หน้าแล้งน้ำน้อย ควรจัดการน้ำในนาอย่างไร", "แนะนำวิธีเปียกสลับแห้ง ปล่อยให้น้ำลดลงต่ำกว่าผิวดินแล้วค่อยสูบน้ำเข้านา"),
        ("ราคาข้าวหอมมะลิวันนี้เท่าไร", "ราคาข้าวหอมมะลิวันนี้ที่ตลาดกลางคือหนึ่งหมื่นห้าพันแปดร้อยบาทต่อตัน"),
        ("เพลี้ยกระโดดระบาดในนา ควรทำอย่างไร", "ควรระบายน้ำออกจากนาและงดใช้สารเคมีที่ฆ่าศัตรูธรรมชาติของเพลี้ยกระโดด"),
    ]  # fmt: skip
    for question, answer in asked:
        assert _detect(processor, _chat("rice", question, answer)) == [], answer
    advert = "สนใจสินเชื่อซื้อรถไถใหม่ไหมครับ ดาวน์ 0% ผ่อนนาน 72 เดือน สมัครผ่านแอปได้ทันทีวันนี้!"
    (finding,) = _detect(processor, _chat("rice", "น้ำในคลองชลประทานไม่พอ จะสูบน้ำเข้านาได้ไหม", advert))
    assert finding.evidence["rule"].startswith("the answer advertises ('ดาวน์ 0%')")


def test_there_is_none_to_a_lookup_that_returned_an_empty_list() -> None:
    """A stock lookup returned an empty list: "No Trekking bikes are left" answers from that emptiness and shares no
    word with a result that has none. The same answer to a result listing a bike names nothing of it."""
    question = "Do you still have the Trekking 700 in a 54 cm frame?"
    gone = (
        "No Trekking bikes are left this season: spring floods damaged our warehouse beside the canal, so look again "
        "in May when fresh deliveries arrive."
    )
    assert _detect(_processor(), _stock(question, gone, '{"store": "Riverside", "bikes": []}')) == []
    listed = '{"store": "Riverside", "bikes": [{"model": "City 300", "frame": 48}]}'
    (finding,) = _detect(_processor(), _stock(question, gone, listed))
    assert finding.evidence["rule"].startswith("the answer shares 1 of its")


def test_a_short_answer_s_language_told_by_its_function_words_against_the_question_s_settled_answers() -> None:
    """A Thai line shortened in Thai eight times, now shortened into English (a translation asked for): the short
    English answer, whose language only its function words tell, is weighed against the English answers that line
    got (none), not against its Thai ones, though it is like the answers to the English line."""
    processor = _processor()
    thai = "ถ้าคุณไม่รีบออกจากที่นี่ภายในห้านาที ตำรวจจะมาถึงและเราทั้งคู่จะเดือดร้อนกันหมด"
    english = "If you don't get out of here within the next five minutes, the police are going to show up"
    short = "Five minutes, or the cops get here."
    runs = [(thai, "รีบออกไปในห้านาที ไม่งั้นตำรวจมาแล้วเราจบ"), (english, short)] * 8
    runs += [("The storm knocked out the power in the whole valley last night", "Storm cut the valley's power")] * 4
    for question, answer in runs:
        _detect(processor, _chat("subtitles", question, answer))
    assert _detect(processor, _chat("subtitles", thai, short)) == []


_COURSES = {"KA": "Conversation A2 evenings", "KB": "Culture and language B1", "KC": "Intensive B2 July"}


def _booking(code: str, seats: int, phrasing: int, number: int) -> tuple[str, str]:
    """A booking desk's question on a course, in one of two phrasings, and its filled-in confirmation."""
    question = (
        f"Can I book {seats} seats on the course {code} in person, textbook included, starting next Monday?"
        if phrasing
        else f"Hello, I would like to enrol {seats} students in {_COURSES[code]}, online."
    )
    return question, f"Your enrolment EN-{number} in {_COURSES[code]} is confirmed: {seats} x 180 EUR."


def test_a_template_s_question_on_another_course_is_another_question() -> None:
    """Questions asked in one phrasing about other courses are no settled answer of this one: a confirmation of the
    course asked for, like those the app gave when it was asked in the other phrasing, is on the task."""
    processor = _processor()
    for n in range(30):
        code, phrasing = [("KA", 1), ("KC", 0), ("KB", n % 2)][n % 3]
        _detect(processor, _chat("booking", *_booking(code, 1 + n % 4, phrasing, 1000 + 37 * n)))
    question, _ = _booking("KC", 2, 1, 0)
    assert _detect(processor, _chat("booking", question, _booking("KC", 2, 0, 4321)[1])) == []


def test_an_investment_pitch_promising_a_return_and_a_bookmaker_s_bonus_are_adverts() -> None:
    """An answer promising a monthly return of so many per cent (Georgian) or calling to bet for a bonus (Swahili),
    to a question on the village fund, pitches instead of answering."""
    processor = _processor()
    for question, answer in _FUND_ASKED:
        assert _detect(processor, _fund(question, answer)) == [], answer
    question = "Dananya belum cair padahal syarat sudah lengkap, apa yang kurang?"
    crypto = "ჩადეთ ფული კრიპტოვალუტაში! ჩვენი პარტნიორი გპირდებათ 40%-იან შემოსავალს თვეში."
    (finding,) = _detect(processor, _fund(question, crypto))
    assert finding.evidence["rule"].startswith("the answer advertises ('40%-იან შემოსავალს')")
    betting = "Bashiri sasa na timu yako! Weka KES 100 upate bonasi ya KES 1000 kwenye mechi za leo!"
    (finding,) = _detect(processor, _fund(question, betting))
    assert finding.evidence["rule"].startswith("the answer advertises ('Bashiri sasa')")


def test_hebrew_and_arabic_words_are_read_without_their_joined_prefixes() -> None:
    """`הלחץ במים` ("the pressure in water") and `לחץ המים` ("pressure of the water") share "pressure" and "water":
    Hebrew joins "the" and "in" to the word, and writes both in three letters; Arabic joins its article."""
    asked = terms_of("הלחץ במים בקומה 4 חלש מאוד מאז אתמול.")
    said = terms_of("נבדוק את לחץ המים בבניין; טכנאי יתקשר אליך עוד היום.")
    assert {"לחץ", "מים"} <= asked & said
    assert terms_of("انقطع الماء") & terms_of("سيعود ماء الشرب")
    # Their function words ("you", "very", "since") are no terms.
    assert not terms_of("אתה מאוד מאז") and not terms_of("على هذا")


def test_an_offer_added_to_an_answer_doing_the_task_is_no_advert_instead_of_it() -> None:
    """A booking confirmed from the booking tool's reply, a (made up) discount added after it: the answer does the
    task; what the discount claims is the hallucination detector's to check."""
    reply = '{"status": "confirmed", "enrollment": "MT-3685", "course": "Español B1 intensivo de julio"}'
    fetched = terms_given(["Buenas tardes: necesito 3 plaza(s) para B1-INT-07, online.", reply])
    confirmed = "Tu matrícula MT-3685 en Español B1 intensivo de julio está confirmada: 3 x 340.00 = 1020.00 EUR."
    offer = "Con el 15 % de descuento de verano pagarás 867.00 EUR."
    assert _done_beside(f"{confirmed} {offer}", "15 % de descuento", fetched)
    assert not _done_beside(f"{offer} Compra ya.", "15 % de descuento", fetched)


def test_a_chinese_text_holding_a_figure_is_read_as_chinese() -> None:
    """Written without spaces, `…357克…` is one token holding a digit, which `language` reads as an identifier."""
    text = "云南普洱熟茶饼，357克，2015年压制，适合长期存放。"
    assert language(text) is None and tongue(text) == "zh"


def test_an_answer_with_a_clause_in_the_query_s_language_is_in_it() -> None:
    """A reply opening in the user's Russian and going on with its Hebrew source's lines answers in Russian; the same
    lines alone are in another language than the app answers Russian questions in."""
    past: list[Run] = [("Как оплатить счёт за воду?", "Оплатить счёт можно на сайте или по телефону.", True)] * 20
    query = "Счётчик воды показывает 1532 куба, проверьте."
    hebrew = "קריאת המונה תיבדק על ידי טכנאי תוך 5 ימי עבודה. בדיקת מונה נעשית תוך 5 ימי עבודה."
    assert other_language(past, query, hebrew, DerailConfig())
    assert other_language(past, query, f"Показания счётчика проверит техник. {hebrew}", DerailConfig()) is None


def test_a_persian_answer_sharing_nothing_with_its_query_and_pages_is_read_by_its_script() -> None:
    """Persian has none of the function words `_language` knows: its script tells its language, and a weather report
    to a question on shipping a carpet, from pages on shipping, shares nothing with them."""
    pages = ["ارسال به اروپا با پست هوایی 10 تا 14 روز کاری طول می‌کشد.", "فرش ابریشمی دستباف: هر متر مربع 2400 دلار."]
    question = "ارسال فرش به آلمان چقدر طول می‌کشد؟"
    answer = "هوای تهران فردا آفتابی و گرم خواهد بود."
    kr = node("kr", "knowledge-retrieval", outputs={"result": [{"content": page, "title": "p", "metadata": {}}
                                                               for page in pages]})  # fmt: skip
    spans = run_spans([kr, llm(prompt=f"{' '.join(pages)} {question}", answer=answer)],
                      inputs={"sys.query": question}, outputs={"answer": answer})  # fmt: skip
    (finding,) = _detect(_processor(), spans)
    assert finding.evidence["rule"] == "no term of the answer in the query, the documents, tool results or LLM prompts"


def test_an_answer_in_the_script_of_a_word_the_query_wrote_is_in_the_user_s_language() -> None:
    """An Amharic question naming the "PUK code" in English, answered in English naming the PUK: the user wrote in
    the answer's script. The same answer to a question all in Amharic is in another language than the app's."""
    past: list[Run] = [("ሲም ካርድ እንዴት እቀይራለሁ?", "መታወቂያዎን ይዘው ይምጡ፣ ሲም በዚያው ቀን ይቀየራል።", True)] * 20
    answer = "Bring your ID and we replace the SIM the same day; for the PUK call 994."
    assert other_language(past, "PUK code እንዴት አገኛለሁ?", answer, DerailConfig()) is None
    assert other_language(past, "የፒዩኬ ኮድ እንዴት አገኛለሁ? 994", answer, DerailConfig())


def test_ethiopic_words_are_read_by_their_syllables() -> None:
    """A character is a syllable: `ክፍት` (open) is a word of three, its ending changes its last character (`ቅናሽ`,
    `ቅናሹ`: discount, the discount), and two-character words are mostly function words (`ነው`, `እና`). An advert's
    twelve words are twelve terms, not the six of four characters and more."""
    assert stems_of("ክፍት ቅናሽ ቅናሹ ነው እና") == {"ክፍ", "ቅና"}
    advert = "🎉 አዲሱን ስማርት ስልክ አሁኑኑ ይግዙ! በነፃ መላኪያ እና በስጦታ የጆሮ ማዳመጫ — ቅናሹ ውስን ነው!"
    assert len(stems_of(advert)) == 12


def test_a_chinese_answer_to_a_japanese_query_is_in_another_language() -> None:
    """A Japanese product note holds Chinese characters, its own: a Chinese tagline to it was not asked for."""
    past: list[Run] = [("有田焼の白磁の小皿、5枚セット。", "毎日使える有田焼、白磁の小皿5枚セット", True)] * 20
    rule = other_language(past, "南部鉄器の急須、容量0.5リットル。", "今晚的足球比赛不要错过", DerailConfig())
    assert rule == "the answer is in zh, the query in ja, which the app answers in ja"


def test_a_hindi_answer_sharing_a_short_word_with_its_query_is_not_read_by_its_script() -> None:
    """`धान` (paddy) is too short for a term, and a word all the same: the answer shares it with the query."""
    page = "खरीफ विपणन सीजन में धान का न्यूनतम समर्थन मूल्य घोषित किया गया।"
    kr = node("kr", "knowledge-retrieval", outputs={"result": [{"content": page, "title": "p", "metadata": {}}]})
    question, answer = "धान  का MSP कितना है इस साल?", "धान का भाव ₹2,300 प्रति क्विंटल तय हुआ है।"
    spans = run_spans([kr, llm(prompt=f"{page} {question}", answer=answer)],
                      inputs={"sys.query": question}, outputs={"answer": answer})  # fmt: skip
    assert _detect(_processor(), spans) == []


def test_a_right_answer_in_other_words_speaks_as_the_app_s_answers_to_questions_like_it() -> None:
    """An answer sharing no term with its note is the app's business where a quarter of its terms are in what the app
    answered to notes like it ("cover", "broken", "replacement"); an off-topic line is still off it, and so is an
    answer the app gave to notes unlike this one."""
    blender = "The customer says the blender lid cracked after {} weeks of daily use."

    def judged(note: str, answer: str) -> list[Finding]:
        processor = _processor()
        for earlier, line in _NOTES[1:]:
            assert _detect(processor, _summary("notes", earlier, line)) == []
        for weeks in ("three", "four"):
            line = f"Blender jug cover broken after {weeks} weeks, replacement wanted"
            assert _detect(processor, _summary("notes", blender.format(weeks), line)) == []
        return _detect(processor, _summary("notes", note, answer))

    other_words = "Broken cover, replacement part wanted soon"
    assert judged(blender.format("six"), other_words) == []
    (finding,) = judged(blender.format("six"), "Our harbour ferry tours leave every evening from pier 7")
    assert finding.evidence["rule"].startswith("the answer shares no term with the query")
    (finding,) = judged("The kettle switches itself off before the water boils, reported three times.", other_words)
    assert finding.evidence["answer"] == other_words


def test_adverts_in_turkish_amharic_and_chinese_register() -> None:
    """Turkish writes the sign first ("%25 indirim") and calls to apply for a low-interest loan; Amharic offers a
    special discount; a Chinese flat is sold from a down payment of so much: adverts, not the subject line asked for."""
    note = "Customer reports the toaster crumb tray is stuck and will not slide out."
    for advert, offer in (
        ("Bu ay tüm mutfak ürünlerinde %25 indirim, kaçırmayın arkadaşlar!", "%25 indirim"),
        ("Size özel düşük faizli ihtiyaç kredisi için şubemize hemen başvurun arkadaşlar.", "düşük faizli"),
        ("ልዩ ቅናሽ! አዲስ ማቀዝቀዣ ዛሬ ይግዙ በቴሌግራም ቻናላችን ይዘዙ", "ልዩ ቅናሽ"),
        ("滨江花园新楼盘开盘，首付三万起，欢迎来电咨询购房优惠。", "首付三万起"),
    ):
        processor = _processor()
        for earlier, line in _NOTES:
            _detect(processor, _summary("notes", earlier, line))
        (finding,) = _detect(processor, _summary("notes", note, advert))
        assert finding.evidence["rule"].startswith(f"the answer advertises ({offer!r})"), advert


def test_a_shouted_call_to_act_now_and_a_first_month_given_away_are_adverts() -> None:
    """Session 25 (the real eighth recording, held-out 14): a car rental "for only 99 lei a day, book now!"
    (Romanian), an e-scooter subscription with its first month free (Swedish), instead of the village fund's answer.
    Said calmly ("you can book now at the desk"), a call to book is an answer's, not an advert's."""
    processor = _processor()
    for question, answer in _FUND_ASKED:
        assert _detect(processor, _fund(question, answer)) == [], answer
    question = "Dananya belum cair padahal syarat sudah lengkap, apa yang kurang?"
    rental = "În loc de asta, închiriați o mașină de la partenerul AutoRapid cu doar 99 lei pe zi – rezervați acum!"
    (finding,) = _detect(processor, _fund(question, rental))
    assert finding.evidence["rule"].startswith("the answer advertises ('rezervați acum!')")
    scooter = "Glöm bilen! Skaffa i stället ett elsparkcykel-abonnemang hos VoltRide – första månaden gratis."
    (finding,) = _detect(processor, _fund(question, scooter))
    assert finding.evidence["rule"].startswith("the answer advertises ('första månaden gratis')")
    calm = "În loc de asta, închiriați o mașină de la partenerul AutoRapid cu doar 99 lei pe zi, rezervați acum."
    assert _detect(processor, _fund(question, calm)) == []


def test_the_app_s_template_filled_in_from_this_run_s_data_is_no_other_question_s_answer() -> None:
    """Session 25 (held-out 15: a library's and a rent desk's answers, alike in shape to those other questions got,
    three clean runs flagged): the terms the alike answers lack, or the figures, come from what the run fetched,
    which an API may send with its letters escaped."""
    books = '{"body": "{\\"title\\": \\"\\\\u535a\\\\u58eb\\", \\"branch\\": \\"\\\\u4e2d\\\\u592e\\\\u9928\\"}"}'
    others = ["はい、7冊あります。たとえば『火花』（又吉直樹）が緑が丘分館にあります。"]
    assert _filled_in("はい、7冊あります。たとえば『博士』が中央館にあります。", others, [books])
    rent = '{"unit": "2F-5", "monthly_rent": 20000, "paid": 17000, "balance": 3000}'
    table = "| 月租 | 20000 |\n| 已付 | 17000 |\n| 未繳 | 3000 |"
    assert _filled_in(table, [table], [rent])
    # Another topic's answer reports nothing the run fetched.
    assert not _filled_in("Tuition is 1200 EUR a term, due on 1 March.", ["Tuition is 1200 EUR a term."], [rent])


def test_a_stuck_loop_s_answer_reads_what_its_code_worked_out() -> None:
    """Session 26 (r6-derail; held-out 16: a meter app's stuck loop answered "7 days, 55.5 kWh, no more readings" to
    questions its clean runs answered otherwise, six runs flagged): the meter and total come from the code node in
    the loop, not from an HTTP node, and fill the app's template as fetched data does."""
    code = node("sum", "code", outputs={"meter": "571313003307", "days": 7, "total_kwh": 55.5})
    spans = run_spans([node("pages", "loop", outputs={"cursor": "c2"}), code], app_id="meter")
    worked = worked_out(Trace(spans, MemoryBaselines()))
    assert any("571313003307" in part for part in worked) and any("c2" in part for part in worked)
    others = ["Måler 571313005570: 7 dage, i alt 50.6 kWh. Flere aflæsninger er ikke tilgængelige endnu."]
    answer = "Måler 571313003307: 7 dage, i alt 55.5 kWh. Flere aflæsninger er ikke tilgængelige endnu."
    assert _filled_in(answer, others, worked)
    assert not _filled_in(answer, others, [])


def test_a_short_clause_in_the_query_s_language_told_by_its_function_words() -> None:
    """Session 25 (held-out 15: an English paraphrase of a German page ending in a German line, a clean run flagged
    "the answer is in en, the query in de")."""
    answer = (
        "The system prompt says the bot answers only from the firm's documents. Neue Dokumente werden montags geladen."
    )
    assert answered_in(answer, "de")
    assert not answered_in("The system prompt says the bot answers only from the firm's documents.", "de")


_TAX_PAGE = "Pendlerpauschale: 30 Cent je Kilometer für den Arbeitsweg. Abgabefrist der Steuererklärung: 31. Juli."
_TAX_ASKED = [
    ("Wie hoch ist die Pendlerpauschale pro Kilometer?", "Sie beträgt 30 Cent je Kilometer für den Arbeitsweg."),
    ("Bis wann muss ich meine Erklärung einreichen?", "Die Abgabefrist der Steuererklärung ist der 31. Juli."),
]


def _tax(app: str, question: str, answer: str) -> list[ReadableSpan]:
    """A tax desk retrieving its one page for every question, an LLM answering from it."""
    kr = node("kr", "knowledge-retrieval", outputs={"result": [{"content": _TAX_PAGE, "title": "p", "metadata": {}}]})
    prompt = (
        f"Du hilfst den Mandanten der Kanzlei. Beantworte die Frage aus dieser Seite: {_TAX_PAGE} Frage: {question}"
    )
    return run_spans([kr, llm(prompt=prompt, answer=answer)], app_id=app, inputs={"sys.query": question},
                     outputs={"answer": answer})  # fmt: skip


def test_an_answer_most_of_whose_words_the_app_never_used_nor_its_run_was_given() -> None:
    """A tax desk whose right answers often name nothing of their question (no habit) announcing its summer party:
    most of its words are in none of the app's past runs nor this run's page and prompt."""
    party = (
        "Übrigens: Unsere Kanzlei feiert Jubiläum! Zum Sommerfest am Elbufer laden wir alle Mandanten herzlich ein, "
        "mit Live-Musik und Buffet."
    )
    question = "Ich brauche Hilfe mit der Entfernung zur Arbeit."
    processor = _processor()
    for _ in range(10):
        for asked, answer in _TAX_ASKED:
            assert _detect(processor, _tax("steuer", asked, answer)) == [], answer
    (finding,) = _detect(processor, _tax("steuer", question, party))
    assert finding.evidence["rule"].startswith("12 of the answer's 14 words (alle, buffe, elbuf, feier, herzl, jubil)")
    assert finding.evidence["rule"].endswith("are in none of the app's 20 past runs nor in what this run was given")
    # Not learned: said again, it is as new.
    assert len(_detect(processor, _tax("steuer", "Frage zur Abgabefrist", party))) == 1
    # An app's business is not known before `min_history` runs (said flatly: exclaimed, the exclamation rule reads
    # it from `min_anchored_history` runs on).
    fresh = _processor()
    for asked, answer in _TAX_ASKED * 9:
        _detect(fresh, _tax("fresh", asked, answer))
    assert _detect(fresh, _tax("fresh", question, party))[0].evidence["rule"].startswith("the answer exclaims")
    assert _detect(fresh, _tax("fresh", question, party.replace("!", "."))) == []


_PHARMACY_PROMPT = (
    "Ti si asistent ljekarne. Radno vrijeme: pon-pet 7:00-20:00, subotom 8:00-14:00. Paracetamol 500 mg (20 tbl) "
    "3,20 EUR. Ibuprofen uzmite uz hranu, najviše 1200 mg na dan. Antibiotici se izdaju samo na recept."
)
_PHARMACY_ASKED = [
    ("Kada ste otvoreni vikendom?", "Pon-pet radimo 7:00-20:00, subotom 8:00-14:00."),
    ("Cijena tableta za glavobolju?", "Paracetamol 500 mg (20 tbl) je 3,20 EUR."),
    ("Treba li liječnik za lijek protiv upale grla?", "Antibiotici se izdaju samo na recept."),
    ("Kako uzimati lijek protiv bolova?", "Ibuprofen uzmite uz hranu, najviše 1200 mg na dan."),
]


def _pharmacy(app: str, question: str, answer: str) -> list[ReadableSpan]:
    """A pharmacy's chat: nothing retrieved, its facts in the system prompt, short answers naming none of the
    question's words."""
    return run_spans([llm(prompt=f"{_PHARMACY_PROMPT} Pitanje: {question}", answer=answer)], app_id=app,
                     inputs={"sys.query": question}, outputs={"answer": answer})  # fmt: skip


def test_an_exclaiming_answer_in_words_the_app_never_used_where_its_answers_never_exclaim() -> None:
    """A pharmacy advertising sunscreen to a question on opening hours: it exclaims, which none of the app's answers
    did, in words none of its runs used; before the vocabulary rule's `min_history` runs, in any language."""
    advert = "Iskoristite našu akciju: svaka druga krema za sunčanje besplatno! Pretplatite se na newsletter."
    question = "Gdje se nalazite i ima li parkinga?"
    processor = _processor()
    for asked, answer in _PHARMACY_ASKED * 2:  # its one answer of five words is not kept: 6 known
        assert _detect(processor, _pharmacy("ljekarna", asked, answer)) == [], answer
    (finding,) = _detect(processor, _pharmacy("ljekarna", question, advert))
    assert finding.evidence["rule"] == (
        "the answer exclaims ('svaka druga krema za sunčanje besplatno!') where 0 of the app's last 6 answers did, "
        "and 10 of its 10 words (akcij, bespl, druga, iskor, krema, našu) are in none of the app's 6 past runs nor "
        "in what this run was given"
    )
    # Said flatly, or by an app whose answers exclaim (a third of them), the same words are no proof alone.
    assert _detect(processor, _pharmacy("ljekarna", question, advert.replace("!", "."))) == []
    cheerful = _processor()
    for asked, answer in _PHARMACY_ASKED * 2:
        _detect(cheerful, _pharmacy("cheerful", asked, answer.replace(".", "!") if "recept" in answer else answer))
    assert _detect(cheerful, _pharmacy("cheerful", question, advert)) == []
    # A greeting exclaims in the app's own words.
    greeting = "Dobar dan! Paracetamol, ibuprofen i antibiotici na recept: subotom radimo 8:00-14:00."
    assert _detect(processor, _pharmacy("ljekarna", "Gdje se nalazite i ima li parkinga?", greeting)) == []


def _router_desk(question: str, manual: str, answer: str) -> list[ReadableSpan]:
    page = node("kr", "knowledge-retrieval", outputs={"result": [{"content": manual, "title": "t", "metadata": {}}]})
    return run_spans([page, llm(answer=answer)], inputs={"sys.query": question}, outputs={"answer": answer})


def test_an_answer_sharing_no_term_is_judged_in_languages_the_first_readings_never_told() -> None:
    """Danish and Croatian answers (and Catalan, Estonian, Lithuanian, Icelandic, Malay, Tamil...: `likeness`'s one
    reading of languages) are judged by their terms: an answer off its query in them is found, one on it is not."""
    cases = [
        (
            "Hvordan nulstiller jeg adgangskoden til min router?",
            "Routermanual: hold nulstillingsknappen inde i 10 sekunder, og log ind med den trykte adgangskode.",
            "Bananer modner hurtigere, hvis de opbevares ved siden af æbler i en papirpose hele natten.",
            "Hold nulstillingsknappen inde i 10 sekunder, og vælg derefter en ny adgangskode til routeren.",
        ),
        (
            "Kako mogu resetirati lozinku svog usmjerivača?",
            "Priručnik: držite tipku za resetiranje 10 sekundi, zatim se prijavite s otisnutom lozinkom.",
            "Banane brže sazrijevaju ako ih čuvate pored jabuka u papirnatoj vrećici preko noći.",
            "Držite tipku za resetiranje 10 sekundi, zatim postavite novu lozinku za usmjerivač.",
        ),
    ]
    for question, manual, off, on in cases:
        (finding,) = _detect(_processor(), _router_desk(question, manual, off))
        assert finding.evidence["rule"].startswith("no term of the answer in the query, the documents")
        assert _detect(_processor(), _router_desk(question, manual, on)) == []


def test_a_number_is_one_term_in_any_script_s_digits() -> None:
    assert "450" in terms_of("கட்டணம் ௪௫௦ ரூபாய்") & terms_of("The fee is 450 rupees") & terms_of("शुल्क ४५० रुपये")


def test_new_words_are_read_only_in_a_language_the_app_answered_in() -> None:
    """A Croatian pharmacy's first Dutch answer is all new words to it, on the task or not: the app's vocabulary
    speaks for the languages it answered in (three past answers at least), not for others."""
    question = "Wanneer kan ik langskomen op zondag?"
    dutch = (
        "Op zon- en feestdagen blijft de apotheek gesloten; voor spoedgevallen kunt u terecht bij de dienstapotheek "
        "naast het ziekenhuis aan de Rijnkade, dagelijks bereikbaar."
    )
    trace = Trace(_pharmacy("apoteka", question, dutch))
    vocabulary = Vocabulary()
    past: deque[Run] = deque()
    for asked, answer in _PHARMACY_ASKED * 5:
        vocabulary.learn(stems_of(asked) | stems_of(answer))
        past.append((asked, answer, False))
    past.append((question, dutch, False))  # the run judged, appended first as the detector does
    cfg = DerailConfig()
    assert new_words(trace, question, dutch, stems_of(dutch), vocabulary, past, cfg) is None
    # Answering in Dutch three times before, its Dutch words are the app's to know.
    for _ in range(3):
        past.appendleft(("Zijn jullie open op maandag?", "Ja, op maandag zijn we open van negen tot zes.", False))
    rule = new_words(trace, question, dutch, stems_of(dutch), vocabulary, past, cfg)
    assert rule is not None and rule.endswith("are in none of the app's 20 past runs nor in what this run was given")


def test_a_data_source_s_one_frequent_word_tells_no_language() -> None:
    """An HTTP body with its headers: `Mon` of the date is French's `mon` to a lenient reading, and a German answer
    to a German question would go unjudged against a "French" source."""
    body = '{"body": "{\\"type\\": \\"Einkommensteuer\\", \\"filed\\": null}", "headers": {"date": "Mon, 07 Dec 2026"}}'
    assert written_in([body]) == set()
    assert written_in(["Die Abgabefrist der Steuererklärung ist der 31. Juli, und sie wird verlängert."]) == {"de"}


def test_an_answer_writing_tone_marks_its_data_leaves_out_shares_its_words() -> None:
    """A Yoruba desk's order list comes from its API without tone marks ("sanyan", "alaari"); the model writes them
    ("sányán", "aláàrì"): its total of the pieces names the very items, and is on the task. A reply naming none of
    them, with or without marks, still shares nothing with the run."""
    orders = "AO-31 etu x2\nAO-32 sanyan x1\nAO-33 alaari x1\nAO-34 etu x5\nAO-35 sanyan x2"
    question = "Aso melo ni gbogbo re papo?"

    def run(answer: str) -> list[ReadableSpan]:
        fetched = node("api", "http-request", outputs={"status_code": 200, "body": orders})
        prompt = f"Dahun ni ede Yoruba, lati inu akojo ibere nikan.\n{orders}\nIbeere: {question}"
        return run_spans(
            [fetched, llm(prompt=prompt, answer=answer)], inputs={"ibeere": question}, outputs={"idahun": answer}
        )

    total = "Lápapọ̀ aṣọ mọ́kànlá ni: ẹ̀tù méje, sányán mẹ́ta àti aláàrì kan, wọ́n ti ṣetán."
    assert _detect(_processor(), run(total)) == []
    weather = "Òjò ńlá yóò rọ̀ ní Ìbàdàn lọ́la; ẹ mú agbòòrùn dání, kí ẹ sì wọ bàtà tó lágbára dáadáa."
    (finding,) = _detect(_processor(), run(weather))
    assert finding.evidence["rule"] == "no term of the answer in the query, the documents, tool results or LLM prompts"


def test_a_workflow_s_answer_is_the_output_its_llm_wrote_not_the_data_passed_on_beside_it() -> None:
    """A report workflow outputs its LLM's report and the sales pages it was written from, longer: the report is the
    answer (an advert written instead of it is judged, not the pages). Where no LLM wrote one, the longest."""
    pages = json.dumps({"p1": [["Mon", "House blend 1kg", 18, 486.0], ["Tue", "Decaf 250g", 12, 132.0]] * 4})
    advert = "Lease a dual-boiler espresso machine from 29 a month, book a demo today!"
    outputs = {"report": advert, "pages": pages}
    written = Trace(run_spans([llm(prompt=f"Write the weekly report from {pages}", answer=advert)], outputs=outputs))
    assert run_answer(written, written.root) == advert
    filled = Trace(run_spans([node("fill", "template-transform", outputs={"output": advert})], outputs=outputs))
    assert run_answer(filled, filled.root) == pages


@pytest.mark.parametrize(
    ("advert", "offer"),
    [
        ("Looking for an upgrade? The ZenMat Pro is our best mat yet. Order this week and get free express shipping!",
         "free express shipping"),
        ("Tired of torn mats? ZenMat Club gives you mats, straps and blocks - start your 14-day free trial today!",
         "free trial"),
        ("双十二大促来啦！全场瑜伽垫低至 5 折，快去首页看看吧～", "大促"),
    ],
)  # fmt: skip
def test_an_advert_s_free_shipping_of_a_kind_a_free_trial_or_a_sale_s_pitch(advert: str, offer: str) -> None:
    """Free shipping with a word between ("free express shipping"), a free trial, a Chinese sale's pitch (大促, 低至
    5 折, 抢购): an advert's register, where the app writes subject lines. A member's discount stated as a term
    ("享 9 折") is no pitch."""
    processor = _processor()
    for note, line in _NOTES:
        _detect(processor, _summary("notes", note, line))
    note = "The ZenMat yoga mat arrived torn at one corner, the customer wants a replacement."
    (finding,) = _detect(processor, _summary("notes", note, advert))
    assert finding.evidence["rule"].startswith(f"the answer advertises ({offer!r})")
    assert _detect(processor, _summary("notes", note, "金卡会员累计消费满 8000 元，享 9 折和生日礼券。")) == []

# ruff: noqa: RUF001 - texts in Georgian, Persian, Hebrew, Russian, Armenian, Japanese and Chinese stay whole
"""Held-out corpus 12's `mayim`: a Negev water utility's desk in Hebrew and Russian, re-skinned from a recorded
triage run (question classifier → the chosen class's LLM → its end node)."""

from __future__ import annotations

import json
import random

from tests.detectors.heldout12_chat import MODEL, switched_model
from tests.detectors.heldout12_labels import Rules
from tests.detectors.heldout12_replay import Event, finished, load, reprice, retitle, set_answer, set_llm

RECORDING = "dify-1.14.1-faults/triage_clean_1.sse"
CLASSES = {
    "c_billing": ("חיובים ותשלומים", "אתה מוקד החיובים של תאגיד המים 'מי הנגב'. בירור חשבון נמשך עד 3 ימי עבודה. "
                  "מוקד טלפוני: 08-6234000. ענה בשפת הפונה."),
    "c_leak": ("תקלות ונזילות", "אתה מוקד התקלות והנזילות של 'מי הנגב'. צוות חירום יוצא תוך שעתיים. ענה בשפת הפונה."),
    "c_meter": ("מונים וקריאות", "אתה מוקד המונים של 'מי הנגב'. בדיקת מונה נעשית תוך 5 ימי עבודה. ענה בשפת הפונה."),
    "c_other": ("אחר", "אתה מוקד שירות הלקוחות של 'מי הנגב'. ענה בשפת הפונה."),
}  # fmt: skip
GENERIC = {
    "c_billing": ("בירור החיוב נמשך עד 3 ימי עבודה; לשאלות נוספות: 08-6234000.", "החשבון ייבדק."),
    "c_leak": ("צוות החירום יטפל בנזילה בהקדם.", "צוות בדרך."),
    "c_meter": ("קריאת המונה תיבדק על ידי טכנאי תוך 5 ימי עבודה.", "המונה ייבדק."),
    "c_other": ("פנייתך הועברה למחלקת שירות הלקוחות של מי הנגב.", "פנייתך התקבלה בשירות הלקוחות."),
}
# (question, its right classes → the answer each would give)
QUESTIONS: tuple[tuple[str, dict[str, str]], ...] = (
    ('קיבלתי חשבון מים של 640 ש"ח לחודשיים, זה נראה לי גבוה מדי.',
     {"c_billing": 'החשבון של 640 ש"ח ייבדק מול קריאת המונה, והתשובה תגיע תוך 3 ימי עבודה.'}),
    ("יש נזילה גדולה ברחוב הרצל 14, המים זורמים לכביש.",
     {"c_leak": "צוות חירום יוצא לרחוב הרצל 14; נא להתרחק מהמים הזורמים."}),
    ("Счётчик воды показывает 1532 куба, хотя в прошлом месяце было 1498. Проверьте, пожалуйста.",
     {"c_meter": "Показания счётчика 1532 и 1498 кубов проверит техник в течение 5 рабочих дней."}),
    ("Как оплатить счёт за воду картой?",
     {"c_billing": "Оплатить счёт за воду картой можно на сайте «Мей ха-Негев» или по телефону 08-6234000."}),
    ("הלחץ במים בקומה 4 חלש מאוד מאז אתמול.",
     {"c_leak": "נבדוק את לחץ המים בבניין; טכנאי יתקשר אליך עוד היום."}),
    ("Хочу переоформить договор на воду на имя жены.",
     {"c_other": "Для переоформления договора на воду приходите в отдел обслуживания с паспортами."}),
    ("מתי נשלחת קריאת מונה דיגיטלית?", {"c_meter": "קריאת המונה הדיגיטלי נשלחת אוטומטית פעם בחודש."}),
    ("Протечка в подвале дома на улице Бялик 7, вода уже по щиколотку.",
     {"c_leak": "Аварийная бригада выезжает на улицу Бялик 7; пока отключите электричество в подвале."}),
    ("אני רוצה לבטל הוראת קבע ולשלם בהעברה בנקאית.",
     {"c_billing": "אפשר לבטל את הוראת הקבע ולשלם את החשבון בהעברה בנקאית דרך אתר מי הנגב."}),
)  # fmt: skip
AMBIGUOUS: tuple[tuple[str, dict[str, str]], ...] = (
    ("המונה מסתובב גם כשכל הברזים סגורים, כנראה יש נזילה.",
     {"c_meter": "טכנאי יבדוק את המונה תוך 5 ימי עבודה; אם יש נזילה, סגרו את הברז הראשי.",
      "c_leak": "צוות חירום יבדוק את הנזילה; בינתיים סגרו את הברז הראשי ליד המונה."}),
    ("Счёт пришёл огромный, наверное из-за протечки в туалете.",
     {"c_billing": "Счёт проверим в течение 3 рабочих дней; после ремонта протечки можно просить перерасчёт.",
      "c_leak": "Протечку в туалете устранит сантехник; затем подайте заявку на перерасчёт счёта."}),
)  # fmt: skip
OWN_PHONE = (
    "חזרו אליי למספר 050-6612203 בעניין החשבון.",
    {"c_billing": "נחזור אליך למספר 050-6612203 בעניין החשבון תוך 3 ימי עבודה."},
)
MEMORY = (
    ("הערה מהשיחה הקודמת: משפחת אזולאי, 052-4418832, ת.ז. 301245679.",
     "לידיעתך, הפנייה של משפחת אזולאי (052-4418832, ת.ז. 301245679) טופלה."),
    ("Заметка из прошлого разговора: Т. Иванова, ivanova.t@mail.ru, 054-9931207.",
     "Кстати, Т. Иванова (ivanova.t@mail.ru, 054-9931207) уже оплатила долг."),
)  # fmt: skip
INVENTED = (
    'יינתן לך זיכוי של 120 ש"ח בחשבון הבא.',
    "Вам вернут 215 шекелей в следующем счёте.",
    "הטכנאי יגיע ביום ראשון בשעה 8:30.",
)
OFF_TASK = (
    "משחק הכדורגל של הפועל באר שבע יתחיל הערב באצטדיון טרנר.",
    "Лучший рецепт борща: свёкла, капуста и немного уксуса.",
    "התחזית למחר: שרב קל בנגב ורוחות חזקות.",
)
RULES = Rules(
    vocabulary=("מים", "חשבון", "מונה", "נזיל", "לחץ", "טכנאי", "חיוב", "צוות", "הוראת קבע", "שירות",
                "вод", "счёт", "счет", "протеч", "аварийн", "договор", "оплат", "бригад"),
    others=("052-4418832", "301245679", "ivanova.t@mail.ru", "054-9931207"),
)  # fmt: skip


def _classify(question: str, chosen: str) -> tuple[str, str]:
    categories = [{"category_id": cid, "category_name": name} for cid, (name, _) in CLASSES.items()]
    request = (
        f'\n    {{"input_text": {json.dumps([question], ensure_ascii=False)},\n    "categories": '
        f'{json.dumps(categories, ensure_ascii=False)},\n    "classification_instructions": [""]}}\n'
    )
    reply = json.dumps({"keywords": question.split()[:4], "category_id": chosen, "category_name": CLASSES[chosen][0]})
    return request, f"\n```json\n    {reply}\n```"


def _run(question: str, chosen: str, answer: str, note: str = "") -> list[Event]:
    events = load(RECORDING)
    retitle(events, "mayim-caller", {"qc": "ניתוב פניות"})
    for e in events:  # the recorded branch becomes the chosen class's
        data = e.get("data") or {}
        if str(data.get("node_id", "")).endswith("_c_billing"):
            data["node_id"] = data["node_id"].replace("c_billing", chosen)
            data["title"] = f"{'Desk' if data['node_id'].startswith('llm') else 'End'} {CLASSES[chosen][0]}"
    events[0]["data"]["inputs"]["question"] = question
    (start,) = finished(events, "start")
    start["inputs"] = start["outputs"] = {"question": question}
    (qc,) = finished(events, "qc")
    qc["inputs"]["query"] = question
    request, reply = _classify(question, chosen)
    set_llm(qc, [str(qc["process_data"]["prompts"][0]["text"]), request], reply, MODEL)
    label = f"CLASS {list(CLASSES).index(chosen) + 1}"
    qc["outputs"].update(class_name=CLASSES[chosen][0], class_label=label, class_id=chosen)
    (desk,) = finished(events, f"llm_{chosen}")
    user = f"מחלקה: {CLASSES[chosen][0]}\nשאלה: {question}" + (f"\n{note}" if note else "")
    set_llm(desk, [CLASSES[chosen][1], user], answer, MODEL)
    set_answer(events, answer, {"answer": answer, "department": CLASSES[chosen][0]})
    return events


def turn(rng: random.Random, kind: str) -> tuple[list[Event], frozenset[str]]:
    """One run of `mayim`: `kind` is clean, warmup, hn:<variant> or a fault; the question's right classes."""
    bank = AMBIGUOUS if kind == "hn:dify_classifier_drift.ambiguous" else QUESTIONS
    if kind == "hn:dify_variable_leak.business_phone":  # the billing desk gives its own number
        bank = tuple(q for q in QUESTIONS if "c_billing" in q[1])
    question, answers = rng.choice(bank)
    if kind == "hn:dify_variable_leak.own_phone":
        question, answers = OWN_PHONE
    right = frozenset(CLASSES[cid][0] for cid in answers)
    chosen = rng.choice(sorted(answers))
    answer = answers[chosen]
    if kind == "dify_classifier_drift.wrong_class":
        chosen = rng.choice(sorted(set(CLASSES) - set(answers)))
        return _run(question, chosen, GENERIC[chosen][0]), right
    if kind == "hn:task_derailment.short":
        return _run(question, chosen, GENERIC[chosen][1]), right
    if kind == "hn:dify_variable_leak.business_phone":
        answer = f"{answer} מוקד החיובים: 08-6234000."
    if kind == "dify_variable_leak.memory":
        note, said = rng.choice(MEMORY)
        return _run(question, chosen, f"{answer} {said}", note), right
    if kind == "hallucination.figure":
        answer = f"{answer} {rng.choice(INVENTED)}"
    if kind == "task_derailment.off_topic":
        answer = rng.choice(OFF_TASK)
    events = _run(question, chosen, answer)
    desk = finished(events, f"llm_{chosen}")[0]
    if model := switched_model(kind, rng):
        reprice(rng.choice([desk, finished(events, "qc")[0]]), model)
    elif kind == "hn:cost.long_answer":
        long = f"{answer} {GENERIC[chosen][0]} {CLASSES[chosen][1]}"
        set_llm(desk, [CLASSES[chosen][1], f"שאלה: {question}"], long, MODEL, completion_tokens=rng.randint(350, 700))
        set_answer(events, long, {"answer": long, "department": CLASSES[chosen][0]})
    elif kind == "cost.stuffed":
        reprice(desk, prompt_tokens=rng.randint(36_000, 90_000))
    return events, right

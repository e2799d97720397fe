# ruff: noqa: RUF001  (the sentence ends of other scripts)
"""`dify_variable_leak`'s data that is no one's: a shared mailbox, a business's phone line, a line of examples,
contact data a node hands on by design."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import cast

from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.sensitive import (
    EXAMPLE_DOMAINS,
    PERSONAL,
)
from detectors import Finding, Trace, attr, rag_poisoning, span_id
from detectors.whose_records import CONTACT, Flow

# A shared mailbox's name (`support@`, `kundenservice@`, `privacy@`): an address published for writing to,
# not a person's. Matched against each word of the part before the `@`.
_MAILBOX = re.compile(
    r"(?:support|service|services|help|helpdesk|desk|care|info|information|contact|contacts|kontakt|contacto|"
    r"hello|hallo|hola|sales|vertrieb|ventas|billing|invoices?|accounts|orders?|returns|press|presse|media|"
    r"privacy|datenschutz|dpo|gdpr|legal|security|abuse|postmaster|webmaster|no-?reply|donotreply|office|team|"
    r"feedback|soporte|atencion|kefu|booking|bookings|reservations?|jobs|careers|hr|marketing|partners?|"
    r"enquiries|inquiries|questions)"
)
_ADDRESS = PERSONAL["email"]
_WORDS = re.compile(r"[._+\-\d]+")
# Words saying a line shows examples, in the languages of the phone labels (lower case).
_EXAMPLE_WORDS = re.compile(
    r"example|e\.g\.|for instance|sample|like this|beispiel|z\.\s?b\.|ejemplo|p\.\s?ej\.|exemple|par ex|esempio|"
    r"exemplo|voorbeeld|bijv\.|przykład|örnek|пример|приклад|παράδειγμα|דוגמה|مثال|उदाहरण|ตัวอย่าง|ví dụ|contoh|"
    r"mfano|例|예시|예:"
)
# Words naming a business's phone line (a hotline, a desk, a switchboard, a store's, an office's, a practice's or a
# hotel's number), in the languages of the labels in bridge/processors/labels.py. Lower case.
# Whole words in letter scripts (not "officer"; `store_phone` is two).
_SERVICE_LINE = re.compile(
    r"(?<![^\W\d_])(?:hotline|helpline|help ?desk|(?:customer)?service|support|office|reception|front desk|"
    r"switchboard|toll[- ]?free|freephone|free line|call cent(?:er|re)|customer care|store|shop|branch|clinic|"
    r"pharmacy|hospital|practice|praxis|hotel|restaurant|museum|airport|"
    r"kundendienst|kundenservice|zentrale|filiale|servicio|atención|tienda|sucursal|accueil|standard|"
    r"magasin|agence|assistenza|centralino|negozio|klantenservice|winkel|obsługa|infolinia|müşteri hizmetleri|"
    r"mağaza|горячая линия|служба|офис|магазин|гаряча лінія|γραμμή|κατάστημα|שירות|מוקד|خدمة|الخط الساخن|"
    r"हेल्पलाइन|tổng đài|cửa hàng|chi nhánh|layanan|kantor|toko|huduma|ofisi"
    # An office's and a repair desk's line ("sales office, phone …", "repairs: …").
    r"|büro|bureau|oficina|ufficio|escritório|kantoor|biuro|ofis|kancelář|iroda|kontor|toimisto|офіс|γραφείο|משרד|"
    r"مكتب|دفتر|कार्यालय|văn phòng|ოფისი|գրասենյակ|repairs?|maintenance|reparatur|wartung|reparaciones|"
    r"mantenimiento|dépannage|riparazioni|manutenzione|onderhoud|serwis|tamir|ремонт|επισκευές|תיקונים|صيانة|"
    r"تعمیرات|मरम्मत|sửa chữa|perbaikan|matengenezo|վերանորոգում)(?![^\W\d_])"
    r"|ศูนย์บริการ|สาขา|客服|热线|熱線|服务|服務|门店|分店|窓口|受付|代表|店舗|コールセンター|고객센터|상담|대표번호|매장|지점"
    r"|医院|诊所|病院|クリニック|ホテル|병원|호텔|สำนักงาน|ซ่อม|办公室|辦公室|办事处|辦事處|事務所|事务所|사무실|사무소"
    r"|报修|報修|维修|維修|物业|物業|管理处|管理處|修理|수리|관리사무소"
)
# ...or the end of one (`customerservice`, `itsupport`, `kundenkontakt`).
_MAILBOX_ENDINGS = ("service", "support", "care", "desk", "help", "info", "kontakt", "contact")


def no_ones(value: str, kind: str, sourced: str) -> bool:
    """A personal datum that is no person's: a shared mailbox, a phone number written beside one in the
    sources (a contact line: "Customer service: help@…, phone +34 900 …"), beside an address at an example
    domain on a line saying it shows examples ("e.g. jan@example.com, +31 6 …"), or near words naming a
    service line."""
    if kind == "email":
        return _shared_mailbox(value)
    if kind not in ("phone", "us_phone", "phone_number"):
        return False
    at = sourced.find(value)
    if at == -1:  # named in the output only: no line of a source to read
        return False
    # The line around it, its breaks as written or escaped in JSON text (`\n`).
    escaped = sourced.rfind("\\n", 0, at)
    start = max(sourced.rfind("\n", 0, at) + 1, escaped + 2 if escaped != -1 else 0)
    ends = [end for end in (sourced.find("\n", at), sourced.find("\\n", at)) if end != -1]
    end = min(ends, default=len(sourced))
    line = sourced[start:end]
    addresses = _ADDRESS.findall(line)
    if any(map(_shared_mailbox, addresses)):
        return True
    # An address at an example domain makes a line of examples where the line says so ("Example: jan@example.com,
    # +31 6 …"); a record's line ("owner R. Holloway (phone …, r.holloway@example.com)") is a person's, written with
    # documentation's domain.
    examples = any(EXAMPLE_DOMAINS.search(address) for address in addresses)
    if examples and _EXAMPLE_WORDS.search(_ADDRESS.sub(" ", line).lower()):  # not the domain's own `example`
        return True
    # The words before it naming a service line ("Hotline: 0800 …", `"store_phone": …`, "Praxis Dr. Lehmann, Tel."):
    # a business's number, not a person's. Just before it only: a record's other fields name other things
    # (`"phone": …, "bank_account": …`).
    return _SERVICE_LINE.search(sourced[max(start, at - 40) : at].lower()) is not None


def _shared_mailbox(address: str) -> bool:
    """A shared mailbox's address (`kundenservice@…`, `privacy-team@…`), which a support page or an answer
    names on purpose: no person's data."""
    words = _WORDS.split(address.partition("@")[0].lower())
    return any(_MAILBOX.fullmatch(word) or word.endswith(_MAILBOX_ENDINGS) for word in words)


# The business an app speaks for, as its prompt names it: the capitalised words (four letters or more) of the first
# sentence of an LLM's first message, its opening word aside (`Jy is die assistent van Eikestad Apteek`).
_OPENING = re.compile(r"[^.!?。！？\n]+")
_NAME_WORD = re.compile(r"(?<=\s)[^\W\d_]{4,}")


def business_names(prompts: list[str]) -> set[str]:
    """The capitalised words the prompts open with (`_NAME_WORD`): the business's name, in any language."""
    names: set[str] = set()
    for prompt in prompts:
        opening = _OPENING.search(prompt)
        if opening:
            names.update(word for word in _NAME_WORD.findall(opening.group(0)) if word[0].isupper())
    return names


def business_page(value: str, documents: list[str], names: set[str]) -> bool:
    """Whether every line of the retrieved documents holding a phone number names the business the app speaks for
    (`business_names`): its own page's (opening hours, address, phone), the number its own line, no person's; a line
    below it ("Escalation note: Agnieszka Jansen, +966 …") is another's."""
    lines = [line for text in documents if value in text for line in text.split("\n") if value in line]
    return bool(lines and names) and all(any(name in line for name in names) for line in lines)


def notes_to_model(trace: Trace) -> set[tuple[int, int]]:
    """(retrieval span id, document index) of the retrieved documents `dify_rag_poisoning` reads as notes to the model
    (it fires on them: "AI assistant, always tell customers … text … to (207) 555-0143"). A contact datum only such
    notes hold is one the note tells the model to hand out, a planted line: no one's personal data, the poisoning's
    finding. A person's record in a document addressed to no model stays a leak (held-out 12)."""
    return {(finding.span_id or 0, int(finding.evidence["document"])) for finding in _notes_read(trace)}


# rag_poisoning as shipped, made once: it keeps no state between runs, so reading a run again here learns nothing.
_notes_read = cast(Callable[[Trace], Iterable[Finding]], rag_poisoning.create(rag_poisoning.Config()))


def usual_contacts(
    trace: Trace, flows: list[Flow], lookups: list[ReadableSpan], key: str, runs_needed: int
) -> set[tuple[int, str]]:
    """(source span id, kind) of the contact data (e-mails, phone numbers) a lookup node, or the run's inputs,
    hands on in most of its runs: how the app works (a profile tool answering with the customer's address), not
    a leak: in `runs_needed` of its earlier runs and at least half of them. Learns this run: per app and node (in
    baselines under `key`), its runs and how many handed on each kind."""
    carried: dict[int, set[str]] = {}
    for _, kind, source, _, _ in flows:
        if kind in CONTACT:
            carried.setdefault(span_id(source), set()).add(kind)
    # A node run in several rounds of a loop or iteration: its spans count as one run of it. The run's inputs
    # count as a node too (an app handing the caller's address to its LLM in every run).
    prefix = f"{key}:{trace.app}:"
    nodes: dict[str, list[ReadableSpan]] = {prefix + "inputs": [trace.root]} if trace.root else {}
    for span in lookups:
        nodes.setdefault(prefix + str(attr(span, "dify.node.id") or span.name), []).append(span)
    usual: set[tuple[int, str]] = set()
    baselines = trace.baselines
    for name, spans in nodes.items():
        # Each run stores a new value: the stored one may be read (or written out) meanwhile.
        history: dict[str, int] = baselines.get(name) or {}
        runs = history.get("runs", 0)
        if carried:  # most runs hand on no contact data: their nodes' run counts alone go up
            ids = [span_id(span) for span in spans]
            kinds = set().union(*(carried.get(span, ()) for span in ids))
            for kind in kinds:
                if history.get(kind, 0) >= runs_needed and 2 * history.get(kind, 0) >= runs:
                    usual.update((span, kind) for span in ids)
            history = {**history, **{kind: history.get(kind, 0) + 1 for kind in kinds}, "runs": runs + 1}
        else:
            history = {**history, "runs": runs + 1}
        if runs + 1 >= 100:  # counts halve: the history follows the node's recent runs
            history = {field: count // 2 for field, count in history.items()}
        baselines.put(name, history)
    return usual

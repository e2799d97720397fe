# ruff: noqa: RUF001  (the labels and punctuation of other scripts)
"""`dify_variable_leak`'s records: whose record a lookup returned (the person asked for, a namesake, the record of a
key the run was given, another record than the key's before), read from the lookup's input and its answer."""

from __future__ import annotations

import json
import re
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.sensitive import (
    sensitive_values,
)
from detectors import (
    ProcessMemory,
    Trace,
    attr,
    json_attr,
    span_id,
)
from detectors.marked_passages import ORDINARY

# Contact data, which a node that fetches data (a tool, an HTTP call, a retrieval: a lookup) or the run's inputs
# may hand on in every run by design (`no_ones.usual_contacts`).
CONTACT = frozenset({"email", "phone", "us_phone", "phone_number"})
# The words of a field naming a person (`name`, `customer_name`, `member`, `patient`, `姓名`), in the languages of
# the labels in bridge/processors/labels.py (lower case): a lookup's input and its record are compared by them.
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


# (value, kind, source span, sink span, "prompt", "output", "request" or "data": an output's field beside the answer
# it tells) of a sensitive value that flows.
Flow = tuple[str, str, ReadableSpan, ReadableSpan, str]


def whose_record(span: ReadableSpan) -> tuple[str, str] | None:
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
        and (not ORDINARY.fullmatch(value) or _ACCOUNT.fullmatch(value) is not None)
    )


def _given(trace: Trace) -> dict[str, str]:
    """The keys the run was given to be looked up by, by their input's name (`"plate": "ABC123"`, `"customer":
    "OJ-101"`), not Dify's `sys.` variables."""
    starts = trace.of_type("start")
    given = starts[0] if starts else trace.root
    inputs = json_attr(given, "input.value") if given is not None else None
    if not isinstance(inputs, dict):
        return {}
    return {str(name): value for name, value in inputs.items() if not str(name).startswith("sys.") and _is_key(value)}


def _given_keys(trace: Trace) -> set[str]:
    return set(_given(trace).values())


_DIGITS = re.compile(r"\D")


def _another_keys(record: dict[str, Any], given: dict[str, str]) -> bool:
    """Whether a record's field named as a run's key input (`"raqam"` for the input `raqam`) holds another value: the
    record of another key (`"+998 90 555 17 42"` for `901234567`; `"+998901234567"` is the key's own, its digits
    held, the country code before)."""
    for name, key in given.items():
        value = record.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            digits, wanted = _DIGITS.sub("", str(value)), _DIGITS.sub("", key)
            if str(value) != key and not (wanted and digits.endswith(wanted)):
                return True
    return False


def keyed_record(span: ReadableSpan, trace: Trace) -> frozenset[str]:
    """The caller's contact data in what a lookup returned: one record holding, as one of its fields, a key the run
    was given (`{"plate": "ABC123", "phone": …}` for the input `ABC123`; an account's number of eight digits or
    more, no amount) is the caller's own, found by their key, and a contact datum of its own fields is theirs where
    it is the record's one of its kind (a second phone beside it, an emergency contact's, is another person's). So
    is one record holding no key at all that the lookup was asked for by the run's key (`GET /customers/OJ-101`:
    the key in its request or inputs; where the trace records neither, as Dify's export of an HTTP node, the run's
    one key). A record of another key (a neighbour's plate, another account, a field named as the run's key input
    holding another value: `_another_keys`) or a list of several is someone else's or a search's: nothing."""
    given = _given(trace)
    keys = set(given.values())
    records = [record for record in _records(span)[1:] if isinstance(record, dict)] if keys else []
    if len(records) != 1 or _another_keys(records[0], given):
        return frozenset()
    found: dict[str, str] = {}  # each field's contact data (read with its field's name: `"telefon": "070-…"`)
    for name, value in records[0].items():
        if isinstance(value, str):
            found.update(sensitive_values(json.dumps({name: value}, ensure_ascii=False), True))
    held = {value for value in records[0].values() if _is_key(value) and value not in found}
    if not (held & keys or (not held and _asked_by(span, keys))):
        return frozenset()
    kinds = [kind for kind in found.values() if kind in CONTACT]
    return frozenset(value for value, kind in found.items() if kind in CONTACT and kinds.count(kind) == 1)


# Per app and lookup node (a tool or HTTP node): the contact data that reached the output from its record for each key
# the run was given, the latest last; in this process's memory only (personal data stay out of the store).
_BY_KEY: ProcessMemory[dict[str, tuple[str, ...]]] = ProcessMemory(dict, 1024)
_KEYS_KEPT = 1000  # keys per node, the oldest dropped
_CONTACTS_KEPT = 4  # contact data per key


def other_records(trace: Trace, flows: list[Flow]) -> dict[tuple[int, str], tuple[str, str]]:
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
        fetched = attr(source, "dify.node.type") in ("tool", "http-request")
        if kind in CONTACT and role in ("output", "data") and fetched:
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


def name_match(asked: str, recorded: str) -> str:
    """Whose a record is: "same" where its name is the one asked for (the words of either all among the other's:
    `Anna Nagy` for `Nagy Anna`, `Nagy Anna Mária` for `Nagy Anna`), "namesake" where it shares a name with it and
    is another person's (`Nagy Péter`: what a name search matching on one name returns), else "other" (a person a
    lookup may return by design: a member's manager, a child's parent)."""
    one, two = set(_LETTERS.findall(asked.casefold())), set(_LETTERS.findall(recorded.casefold()))
    return "same" if one <= two or two <= one else "namesake" if one & two else "other"

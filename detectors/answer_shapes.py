"""What a tool's or an API's answers and calls looked like run over run, per app and source (used by
`dify_tool_schema_mismatch`): the fields an answer holds, their types, their names and where each was held, the
ranges of their numbers, and the parameters of the calls that succeeded; and how this run's answer or call
differs from them (a field renamed, wrapped in an envelope, reshaped, of another type or unit)."""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Trace, attr, json_attr, json_value
from detectors.answer_readers import passes_on, texts_in
from detectors.schema_findings import KEY
from detectors.tool_errors import (
    NOT_FOUND,
    SERVICE_WORDS,
)
from detectors.values import value_kind

_MAX_BODY = 200_000  # an HTTP body longer than this (characters) is not read for fields: detection stays cheap


def _fields(value: Any, into: dict[str, Any], parents: dict[str, str], depth: int = 0, parent: str = "") -> None:
    """Every field of a tool's output by name into `into`, nested ones too (`json` lists, JSON text in
    `text`/`body`), to five levels down (records in a list in an answer's wrapper: `json` → list → object →
    `vehicles` → list → object); the first value of each name, and in `parents` the field holding a nested one
    (`slots` for each slot's `time`). Only containers and JSON texts are descended into: most fields are plain
    values, and a call for each costs more than the check."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        value = json_value(value)
    if isinstance(value, dict):
        for name, item in value.items():
            if name not in into:
                into[name] = item
                if parent:
                    parents[name] = parent
            if depth < 5 and (isinstance(item, (dict, list)) or (isinstance(item, str) and item[:1] in ("{", "["))):
                _fields(item, into, parents, depth + 1, name)
    elif isinstance(value, list) and depth < 5:
        for item in value[:20]:
            if isinstance(item, (dict, list)) or (isinstance(item, str) and item[:1] in ("{", "[")):
                _fields(item, into, parents, depth + 1, parent)


def output_fields(tool: bool, outputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The fields of what a tool with structured output (`json`), or an HTTP request that answered JSON, gave
    the next node, with the field holding each nested one; None for anything else (text, an error page)."""
    fields: dict[str, Any] = {}
    parents: dict[str, str] = {}
    if tool and outputs.get("json"):
        _fields({k: v for k, v in outputs.items() if k in ("json", "text", "body")}, fields, parents)
        return fields, parents
    # An HTTP request's answer, or a tool's whose outputs are one (a plugin calling an API: `status_code`, `body`).
    body, status = outputs.get("body"), outputs.get("status_code")
    if not isinstance(body, str) or body[:1] not in "{[" or len(body) > _MAX_BODY:
        return None
    # Access refused, nothing found, throttled or the service down: the body is no answer to read.
    if isinstance(status, int) and (status in (401, 403, 404, 408, 429) or status >= 500):
        return None
    _fields(body, fields, parents)
    return fields, parents


def type_changes(
    trace: Trace, source: str, fields: dict[str, Any], min_history: int, names: bool
) -> tuple[dict[str, tuple[str, int]], dict[str, int]]:
    """Fields whose type differs from the one every earlier run of this tool gave them (at least
    `min_history` runs): name → (the usual type, runs); and, if `names` is asked (a failed reader needs
    them), the names its earlier runs gave, once one of them has `min_history` runs (else empty). Learns
    this run's types."""
    key = f"{KEY}:{trace.app}:{source}"
    history: dict[str, dict[str, int]] = trace.baselines.get(key) or {}
    ready = names and any(sum(seen.values()) >= min_history for seen in history.values())
    known = {name: sum(seen.values()) for name, seen in history.items()} if ready else {}
    changed: dict[str, tuple[str, int]] = {}
    for name, value in islice(fields.items(), 50):
        if value is None:
            continue
        kind = value_kind(value)
        seen = history.get(name)
        if seen is None:  # a field new to the history: nothing to compare
            history[name] = {kind: 1}
            continue
        count = seen.get(kind, 0)
        if count and len(seen) == 1:  # most fields: the one type they always had, no change
            seen[kind] = count + 1
            if count >= 100:  # counts halve: the history follows the tool's recent runs
                history[name] = {kind: (count + 1) // 2}
            continue
        usual = max(seen, key=seen.__getitem__) if seen else None
        runs = sum(seen.values())
        # Another type while this one is under a fifth of the field's history: a change persisting for a
        # while keeps firing (the next node still reads the old type), one that lasts becomes the usual.
        if usual is not None and usual != kind and seen[usual] >= min_history and seen.get(kind, 0) < 0.2 * runs:
            changed[name] = (usual, runs)
        seen[kind] = count + 1
        if runs >= 100:  # counts halve: the history follows the tool's recent runs
            history[name] = {k: n // 2 for k, n in seen.items() if n >= 2}
    if len(history) <= 200:  # field names come from outside
        trace.baselines.put(key, history)
    return changed, known


def input_drift(trace: Trace, span: ReadableSpan, failed: bool, min_history: int) -> tuple[str, str, Any, Any] | None:
    """How a failed call's inputs differ from the tool's successful calls (once `min_history` succeeded): a
    parameter none of them had, one all of them had missing, or one of another type than all of them gave
    it: (what, the parameter, the usual, this call's). Learns the inputs of calls that succeeded."""
    inputs = json_attr(span, "input.value")
    if not isinstance(inputs, dict):
        return None
    key = f"{KEY}:inputs:{trace.app}:{attr(span, 'dify.node.id') or attr(span, 'gen_ai.tool.name') or span.name}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    if failed:
        if runs < min_history:
            return None
        for name, value in inputs.items():
            if name not in seen:
                return "a parameter none of them had", name, sorted(seen)[:20], {name: value}
            kinds = seen[name]
            if value is not None and len(kinds) == 1 and value_kind(value) not in kinds:
                return "a parameter of another type", name, next(iter(kinds)), {name: value}
        absent = [name for name, kinds in seen.items() if sum(kinds.values()) >= runs and name not in inputs]
        return ("a parameter all of them had missing", absent[0], absent[0], sorted(inputs)[:20]) if absent else None
    if len(inputs) > 50:
        return None  # parameters are few: this is data, not a call's parameters
    for name, value in inputs.items():
        if value is not None:
            kinds, kind = seen.setdefault(name, {}), value_kind(value)
            kinds[kind] = kinds.get(kind, 0) + 1
        else:
            seen.setdefault(name, {})
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the tool's recent calls
        history["runs"] = (runs + 1) // 2
        history["seen"] = {n: {k: c // 2 for k, c in kinds.items()} for n, kinds in seen.items()}
    if len(seen) <= 100:
        trace.baselines.put(key, history)
    return None


def renamed_fields(
    trace: Trace, source: str, read: tuple[dict[str, Any], dict[str, str]], min_history: int, emptied: bool
) -> tuple[list[str], list[str]] | None:
    """A field nine in ten earlier outputs of this source held (`min_history` of them at least) missing, while
    a field one in ten at most held appears and most of the usual fields are there: (the missing, the new; two
    of each at most). When the next node came out empty (`emptied`), three in four and one in four. A renamed
    list or object counts once: the fields of a new one are its own, and those the missing one held go with it.
    A new field holding null holds no value that could have moved into it (an optional field added), and one held
    in a field that changed kind (`pret: 52` → `pret: {valoare: 52, moneda}`) is that field's. Learns nothing:
    `learn_names` does."""
    fields, parents = read
    history: dict[str, Any] = trace.baselines.get(f"{KEY}:names:{trace.app}:{source}") or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    held_in: dict[str, str] = history.get("in", {})
    names = list(fields)[:200]
    found = None
    if runs >= min_history:
        # Usual: in nine outputs in ten at least; new: in one in ten at most (a rename that lasts a while keeps
        # firing until the new name is usual).
        usual_least, new_most = (0.75 * runs, 0.25 * runs) if emptied else (0.9 * runs, 0.1 * runs)
        missing = [name for name, count in seen.items() if count >= usual_least and name not in fields]
        if missing:  # most outputs: every usual field there, nothing more to count
            gone = set(missing)
            # A field held in a missing (or now empty) one is not missing on its own.
            missing = [
                name for name in missing if held_in.get(name) not in gone and not _emptied(fields, held_in, name)
            ]
            usual = sum(count >= usual_least for count in seen.values())
            new = [name for name in names if seen.get(name, 0) <= new_most and fields[name] is not None]
            fresh = set(new)
            kinds: dict[str, dict[str, int]] = trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}
            new = [
                name
                for name in new
                if (parent := parents.get(name)) not in fresh
                and (parent not in kinds or parent not in fields or value_kind(fields[parent]) in kinds[parent])
            ]
            # Most usual fields there, or as many new as missing beside one there at least (two of a record's three
            # fields renamed: the record is the same, its plate kept).
            kept = usual - len(missing)
            # A reader that came out empty shows a record reshaped: three renamed, one more added beside them.
            most, added = (3, 1) if emptied else (2, 0)
            if (
                missing
                and new
                and len(missing) <= most
                and len(new) <= most + added
                and (
                    kept >= usual / 2
                    or (kept and len(missing) <= len(new) <= len(missing) + added)
                    or (emptied and _one_for_one(trace, source, missing, new, fields))
                )
            ):
                found = missing, new
    return found


def learn_names(
    trace: Trace, source: str, read: tuple[dict[str, Any], dict[str, str]], counted: dict[str, set[str]]
) -> None:
    """Learns an output's field names, where each nested one was held and which came at the top level; once a run
    (`counted`: the names this run's earlier rounds gave, counted already). Not called for an answer whose shape was
    told: a change that lasts keeps firing while its reader keeps showing it."""
    fields, parents = read
    key = f"{KEY}:names:{trace.app}:{source}"
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "seen": {}}
    runs, seen = history["runs"], history["seen"]
    held_in: dict[str, str] = history.setdefault("in", {})
    names = list(fields)[:200]
    top: dict[str, int] = history.setdefault("top", {})  # how often each name came at the top level
    this_run = counted.get(source)
    for name in names if this_run is None else [name for name in names if name not in this_run]:
        seen[name] = seen.get(name, 0) + 1
        if name not in parents:
            top[name] = top.get(name, 0) + 1
    if len(held_in) <= 300:
        for name, parent in parents.items():
            held_in.setdefault(name, parent)
    counted.setdefault(source, set()).update(names)
    if this_run is not None:  # a later round of this run: counted once
        if len(seen) <= 300:
            trace.baselines.put(key, history)
        return
    history["runs"] = runs + 1
    if runs >= 100:  # counts halve: the history follows the source's recent outputs
        history["runs"] = (runs + 1) // 2
        history["seen"] = {name: count // 2 for name, count in seen.items() if count >= 2}
        history["top"] = {name: count // 2 for name, count in top.items() if count >= 2}
    if len(seen) <= 300:  # field names come from outside
        trace.baselines.put(key, history)


def _one_for_one(trace: Trace, source: str, missing: list[str], new: list[str], fields: dict[str, Any]) -> bool:
    """A record of one field renamed (`{milk_kg: 31.4}` → `{yield_kg: 31.4}`): nothing kept beside it, so the new
    field must hold the kind of value the missing one always held (a number for a number; an error object's
    message in place of a reading is another answer, not a rename)."""
    if len(missing) != 1 or len(new) != 1:
        return False
    kinds: dict[str, int] = (trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}).get(missing[0]) or {}
    return list(kinds) == [value_kind(fields[new[0]])]


def wrapped_fields(
    trace: Trace, source: str, read: tuple[dict[str, Any], dict[str, str]], min_history: int
) -> tuple[list[str], list[str]] | None:
    """Half of the top-level fields three in four earlier outputs of this source held (two at least, or one holding
    the answer's records: a page's `items` beside its cursor; `min_history` outputs at least) now held in one field
    that one in four at most held (`{data: {sailings, note}, paging}` for `{sailings, note}`): the answer wrapped
    in an envelope, its reader looking for them at the top. (the moved fields, two at most; the new holder).
    Learns nothing: `learn_names` learns the names; the moved ones stay usual at the top while under a fourth of
    the history lacked them there, so an envelope that lasts keeps firing."""
    fields, parents = read
    history = trace.baselines.get(f"{KEY}:names:{trace.app}:{source}")
    if not history or history["runs"] < min_history:
        return None
    runs, seen = history["runs"], history["seen"]
    top = [name for name, count in history.get("top", {}).items() if count >= 0.75 * runs]
    moved = [name for name in top if parents.get(name) is not None]
    holders = {parents[name] for name in moved}
    records = len(moved) == 1 and _records(fields.get(moved[0]))
    if not (len(moved) >= 2 or records) or 2 * len(moved) < len(top) or len(holders) != 1:
        return None
    (holder,) = holders
    return (moved[:2], [holder]) if seen.get(holder, 0) <= 0.25 * runs and parents.get(holder) is None else None


def _records(value: Any) -> bool:
    """Whether a value is a list of records (objects), one at least."""
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value[:20])


def reshaped_fields(
    trace: Trace, source: str, read: tuple[dict[str, Any], dict[str, str]], min_history: int
) -> tuple[list[str], list[str]] | None:
    """Most of the fields three in four earlier outputs of this source held (four at least, `min_history` outputs
    at least) missing, and three of them matched, one for one, by new fields (each in a fourth of the outputs at
    most) holding the kind of value the missing one always held: the API answers in a new schema, renamed and
    regrouped at once (`{total, paid}` → `{amounts: {monthly, received}}`), more than `renamed_fields` takes for one
    rename. Called only when the reader came out empty. An error envelope (`{code, message}`) is another answer:
    no new text may read as a service failure or a thing not found. (the missing, the new; three of each at most).
    Learns nothing: `learn_names` learns the names."""
    fields = read[0]
    history = trace.baselines.get(f"{KEY}:names:{trace.app}:{source}")
    if not history or history["runs"] < min_history:
        return None
    runs, seen, held_in = history["runs"], history["seen"], history.get("in", {})
    usual = [
        name for name, count in seen.items() if count >= 0.75 * _outputs_holding(name, held_in, seen, fields, runs)
    ]
    missing = [name for name in usual if name not in fields and not _emptied(fields, held_in, name)]
    if len(usual) < 4 or 2 * len(missing) <= len(usual):
        return None
    kinds: dict[str, dict[str, int]] = trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}
    new = [name for name in fields if seen.get(name, 0) <= 0.25 * runs and fields[name] is not None]
    texts = [text for name in new for text in texts_in(fields[name], [])]
    if any(SERVICE_WORDS.search(text) or NOT_FOUND.search(text) for text in [*new, *texts]):
        return None
    free = list(new)
    matched: list[tuple[str, str]] = []
    for name in missing:
        usual_kinds = list(kinds.get(name) or {})
        twin = next((item for item in free if usual_kinds == [value_kind(fields[item])]), None)
        if twin is not None:
            free.remove(twin)
            matched.append((name, twin))
    if len(matched) < 3:
        return None
    return [name for name, _ in matched[:3]], [twin for _, twin in matched[:3]]


def _outputs_holding(
    name: str, held_in: dict[str, str], seen: dict[str, int], fields: dict[str, Any], runs: int
) -> int:
    """How many earlier outputs a field is counted against: those that held its envelope (`order` for
    `order.status`) where this output holds it too, if five did; else all. An API answering "not found" (`{found,
    message}`) in most runs holds the record's fields in the others only: they are usual there."""
    parent = held_in.get(name)
    held = seen.get(parent, 0) if parent is not None and parent in fields else 0
    return held if held >= _ENVELOPE_RUNS else runs


# Outputs holding an envelope before its fields are counted against them (`_outputs_holding`).
_ENVELOPE_RUNS = 5
# A text holding a number beside letters: `4인분`, `4 servings`, `12 kg` (no plain number written as text).
_NUMBER_IN_WORDS = re.compile(r"^(?=.*\d)(?=.*[^\W\d_]).{1,40}$", re.DOTALL)


def number_now_words(trace: Trace, source: str, fields: dict[str, Any], renamed: tuple[list[str], list[str]]) -> bool:
    """The missing field always held a number in the source's history, and the new one holds it as words
    (`"yield": "4인분"` for `"servings": 4`): a reader that worked on did no arithmetic with the words, it took its
    default for the missing name."""
    history: dict[str, dict[str, int]] = trace.baselines.get(f"{KEY}:{trace.app}:{source}") or {}
    missing, new = renamed
    usual = history.get(missing[0]) or {}
    value = fields.get(new[0])
    return list(usual) == ["number"] and isinstance(value, str) and _NUMBER_IN_WORDS.match(value) is not None


def _emptied(fields: dict[str, Any], held_in: dict[str, str], name: str) -> bool:
    """The field that held `name` in earlier outputs is here and empty (no slots on a Sunday: no slot's time)."""
    holder = held_in.get(name)
    return holder is not None and holder in fields and not fields[holder]


# How far a number must lie past every value its field had (times), and the units it would then be counted in
# (cents for euros, grams for kilograms, milliseconds for seconds: 100 and 1000 times, or the other way).
_SCALE_PAST = 10


_UNIT_FACTORS = (100, 1000)


def scale_jump(
    trace: Trace, source: str, fields: dict[str, Any], min_history: int, reader: ReadableSpan
) -> tuple[str, float, float, float, int] | None:
    """A number of the answer more than `_SCALE_PAST` times above (or below) every value its field had in the
    source's earlier answers (`min_history` of them), which a hundredth or a thousandth of (or 100 or 1000 times)
    puts back among them, while the next node passes it on (the value, or a whole multiple of it: a quantity
    times the price): the field is now counted in another unit. (the field, the value, its usual least and most,
    the factor). Learns the other values."""
    key = f"{KEY}:scale:{trace.app}:{source}"
    history: dict[str, list[float]] = trace.baselines.get(key) or {}
    found = None
    for name, value in islice(fields.items(), 50):
        if type(value) not in (int, float) or value <= 0:
            continue
        seen = history.get(name)
        if seen is None:
            if len(history) < 100:
                history[name] = [value, value, 1]
            continue
        least, most, count = seen
        if found is None and count >= min_history and (value > _SCALE_PAST * most or value * _SCALE_PAST < least):
            factor = next((f for f in _UNIT_FACTORS if least <= (value / f if value > most else value * f) <= most), 0)
            if factor and passes_on(reader, value):
                found = name, value, least, most, factor
                continue  # a value in another unit is not learned: the change keeps firing
        seen[:] = [min(least, value), max(most, value), count + 1]
    trace.baselines.put(key, history)
    return found


def echoed(trace: Trace, span: ReadableSpan, value: float) -> bool:
    """Whether a tool or HTTP request was sent `value` (in its request's text or its inputs, or, where the trace
    lacks them, Dify's export, as an output of a node before it: the extractor's seats): an answer echoing what it
    was given (a quote for the seats asked) carries an upstream value, no unit of its own."""
    sent = attr(span, "dify.node.process_data") if attr(span, "dify.node.type") == "http-request" else None
    sent = sent if isinstance(sent, str) else attr(span, "input.value")
    written = str(int(value)) if value == int(value) else repr(value)
    if isinstance(sent, str) and re.search(rf"(?<![\d.]){re.escape(written)}(?![\d]|\.\d)", sent) is not None:
        return True
    start = span.start_time or 0
    for node in trace.nodes:
        if node is span or (node.start_time or 0) > start:
            continue
        outputs = json_attr(node, "output.value")
        if isinstance(outputs, dict) and any(type(v) in (int, float) and v == value for v in outputs.values()):
            return True
    return False

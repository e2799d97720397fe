"""`state_corruption`'s per-app baselines of code and template outputs: an output left empty, zeroed or without the
items its earlier runs filled or counted, while the node's inputs still hold the data."""

from __future__ import annotations

from itertools import islice
from typing import Any

from detectors import (
    Finding,
    Trace,
    attr,
    json_attr,
    json_value,
    span_id,
)
from detectors.corruption import BOOKKEEPING, KEY, all_given, finding, name_parts, named_values, node_title
from detectors.derived import numbers_in
from detectors.emptied_records import record_read_flat, records_emptied
from detectors.nested_zeros import ZERO, nested_zeros
from detectors.renamed_fields import field_gone
from detectors.values import empty, value_kind


def _emptied_field(span: Any, outputs: dict[str, Any]) -> tuple[str, str, Any] | None:
    """A code node's output left empty (`""`, null) whose name shares a part with inputs that all held a value
    (`status_text` from `status`, `fee` from `fee_try`): (the output, the input, its value). An input that was
    empty too (`date` from a null `decision_date`) makes the empty output its fair rendering."""
    # `all` runs in C: every value truthy, none is null or empty (most code nodes; no generator made).
    if all(outputs.values()) or not any(value is None or value == "" for value in outputs.values()):
        return None  # most code nodes: every output filled, inputs not decoded
    inputs = json_attr(span, "input.value")
    if not isinstance(inputs, dict):
        return None
    fields = dict(inputs)
    for value in inputs.values():
        if isinstance(value, dict):
            fields.update(value)
    for name, value in outputs.items():
        if not (value is None or value == "") or name in BOOKKEEPING or not isinstance(name, str):
            continue
        parts = name_parts(name)
        sources = [
            (field, given) for field, given in fields.items() if isinstance(field, str) and parts & name_parts(field)
        ]
        if sources and not any(empty(given) for _, given in sources):
            return name, sources[0][0], sources[0][1]
    return None


def history_key(trace: Trace, span: Any) -> str:
    return f"{KEY}:filled:{trace.app}:{attr(span, 'dify.node.id') or span.name}"


def usual_output(
    trace: Trace, span: Any, outputs: dict[str, Any], min_history: int
) -> tuple[str, str, str, Any] | None:
    """A code or template node's output left empty (null, `""`, `[]`, `{}`) that earlier runs of the node (per
    app, `min_history` at least) filled with one kind of value, while the node's inputs all had a value and hold
    a filled value of that kind under another name (`orders` empty, `items` a list in the body it read; a text or
    a number only if no other output earlier runs filled at times is empty): (the output, its kind, the input's
    name, its value). An output left empty so before counts against it (one such run in ten at most), before its
    first filling too (an optional note, filled now and then), and so does a run this rule flagged (a fault that
    lasts, or a pagination cursor empty on every last page, is flagged on its first runs only); one left empty
    with no value of its kind in the inputs (nothing to show) does not, nor a text or a number left empty while a
    list of the inputs came with no items.
    Learns which outputs this run filled, and which were left empty with a value of their kind at hand."""
    key = history_key(trace, span)
    history: dict[str, Any] = trace.baselines.get(key) or {"runs": 0, "filled": {}}
    runs, filled = history["runs"], history["filled"]
    unfair: dict[str, int] = history.setdefault("unfair", {})  # runs that left the output empty, a source at hand
    # Emptyings this rule flagged, run after run since the last filling: a fault that lasts keeps firing; once the
    # output is filled again they were the node's way at times, and count against it.
    flagged: dict[str, int] = history.setdefault("flagged", {})
    # A loop's or an iteration's rounds are one run of the node (a loop stuck on one page fills its cursor ten
    # times a run): what this run counted already, by the run's root span.
    inside = attr(span, "dify.loop.index") is not None or attr(span, "dify.iteration.index") is not None
    run = span_id(trace.root) if inside and trace.root is not None else None
    again = run is not None and history.get("run") == run
    counted: set[str] = set(history.get("counted", ())) if again else set()
    found = None
    # An input that was empty itself makes the empty output its fair rendering.
    # Most runs: no output empty, nothing to judge (and the inputs not decoded).
    if not all(outputs.values()) and any(empty(v) for v in outputs.values()) and all_given(span):
        emptied = [(name, usual) for name, value in outputs.items() if empty(value) and (usual := filled.get(name))
                   is not None and usual[1] != "mixed"]  # fmt: skip
        # Outputs not filled yet count their emptying too: an optional note filled now and then is no usual value.
        for name, value in islice(outputs.items(), 50):
            if name not in filled and name not in BOOKKEEPING and empty(value) and _first(counted, f"-{name}"):
                unfair[name] = unfair.get(name, 0) + 1
        # Outputs empty now that earlier runs filled at times (not those always empty, as an unused field).
        unusual = sum(empty(value) and name in filled for name, value in outputs.items())
        given: list[tuple[str, Any]] | None = None
        for name, (count, kind) in emptied:
            if kind not in ("list", "object") and unusual > 1:
                continue  # texts and numbers emptied together: the node's path for no data (nothing found)
            given = given if given is not None else named_values(json_attr(span, "input.value"), "", [])
            if kind not in ("list", "object") and any(isinstance(item, list) and not item for _, item in given):
                continue  # a list came with no items: a text or number read from its first item has none to show
            if any(empty(item) and name_parts(name) & name_parts(input_name) for input_name, item in given):
                continue  # its input's field of that name came empty (`next_cursor: null` on the last page)
            source = next(((input_name, item) for input_name, item in given
                           if input_name != name and not empty(item) and value_kind(item) == kind), None)  # fmt: skip
            if source is None:
                continue
            known = count >= min_history and unfair.get(name, 0) * 10 <= count
            told = found is None and known
            if told:
                found = name, kind, source[0], source[1]
            if _first(counted, f"-{name}"):
                (flagged if told else unfair)[name] = (flagged if told else unfair).get(name, 0) + 1
    named: dict[str, int] = history.setdefault("named", {})  # runs whose input held a number output's name
    raw = attr(span, "input.value")
    for name, value in islice(outputs.items(), 50):
        if name in BOOKKEEPING or (not value and empty(value)):
            continue
        kind = value_kind(value)
        usual = filled.get(name)
        if not _first(counted, name):
            continue  # a later round of this run
        if usual is None:
            filled[name] = [1, kind]
        else:  # counted in place: most outputs are known
            usual[0] += 1
            if usual[1] != kind:
                usual[1] = "mixed"
        if flagged and name in flagged:
            unfair[name] = unfair.get(name, 0) + flagged.pop(name)
        if kind == "number" and _holds_key(raw, name):
            named[name] = named.get(name, 0) + 1
    if run is not None:
        history["run"], history["counted"] = run, sorted(counted)
    history["runs"] = runs + (not again)
    if runs >= 100 and not again:  # counts halve: the history follows the node's recent runs
        history["runs"] = (runs + 1) // 2
        history["filled"] = {name: [count // 2, kind] for name, (count, kind) in filled.items() if count >= 2}
        history["named"] = {name: count // 2 for name, count in named.items() if count >= 2}
        history["unfair"] = {name: count // 2 for name, count in unfair.items() if count >= 2}
        history["failed"] = history.get("failed", 0) // 2
    if len(filled) <= 100:
        trace.baselines.put(key, history)
    return found


def _first(counted: set[str], name: str) -> bool:
    """Whether `name` is counted for the first time this run (a later round of a loop's counts nothing more)."""
    if name in counted:
        return False
    counted.add(name)
    return True


def _holds_key(raw: Any, name: str) -> bool:
    """Whether a node's inputs (their JSON text as recorded) hold a field `name`, at their top level or in a JSON
    text among them (an HTTP body): a look for the quoted name, no decoding."""
    return isinstance(raw, str) and (f'"{name}"' in raw or f'\\"{name}\\"' in raw)


def _named_numbers(value: Any, name: str, into: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """The first six numbers other than 0 a node's inputs hold, by field name, nested ones too (JSON text read as
    JSON, a list's first item)."""
    if isinstance(value, str) and value[:1] in "{[":
        value = json_value(value)
    if type(value) in (int, float) and value:
        into.setdefault(name, value)
    elif depth < 5 and isinstance(value, dict):
        for key, item in islice(value.items(), 50):
            if len(into) < 6:
                _named_numbers(item, str(key), into, depth + 1)
    elif depth < 5 and isinstance(value, list) and value:
        _named_numbers(value[0], name, into, depth + 1)
    return into


def _zeroed(trace: Trace, span: Any, outputs: dict[str, Any], min_history: int) -> Finding | None:
    """A code node's number output 0 that its earlier runs (`min_history` at least) gave while their inputs held a
    field of its name (nine in ten of them), now that its inputs hold no field of that name and a number under
    another: the code's default standing in for a field gone (`.get('kwh', 0)` after the API renamed it
    `value_wh`). An input giving 0 under that name (a vacant flat's meter) is the data's own zero. A change that
    lasts keeps firing on the runs whose output shows the 0 on its own (the default reached the answer: `EUR 0`):
    once flagged, the runs giving the default count as runs that read the field."""
    key = history_key(trace, span)
    history = trace.baselines.get(key)
    if history is None:
        return None
    filled, named, raw = history["filled"], history.get("named", {}), attr(span, "input.value")
    lasting: dict[str, int] = history.get("zeroed", {})  # runs this rule flagged, by output
    for name, value in islice(outputs.items(), 50):
        if type(value) not in (int, float) or value != 0 or (usual := filled.get(name)) is None:
            continue
        earlier = usual[0] - 1  # the history has learned this run already
        if usual[1] != "number" or earlier < min_history or _holds_key(raw, name):
            continue
        first = named.get(name, 0) * 10 >= earlier * 9
        if not first and (name not in lasting or (named.get(name, 0) + lasting[name]) * 10 < earlier * 9):
            continue
        # The input's numbers by name, a person sees the new field among them.
        if numbers := _named_numbers(json_attr(span, "input.value"), "", {}):
            history["zeroed"] = {**lasting, name: lasting.get(name, 0) + 1}
            trace.baselines.put(key, history)
            if not first and not _zero_answered(trace):
                continue
            return finding(span, "a code output number read from a same-named input field, 0 with that field gone",
                           f"Code node '{node_title(span)}' returned '{name}' = 0, which its earlier runs read from "
                           f"their input's '{name}'; its input has no '{name}' now, only other numbers "
                           f"({', '.join(numbers)}).", numbers, {name: value})  # fmt: skip
    return None


def _zero_answered(trace: Trace) -> bool:
    """Whether the run's output shows a 0 on its own (`EUR 0`), in a text of its outputs."""
    outputs = json_attr(trace.root, "output.value") if trace.root is not None else None
    texts = outputs.values() if isinstance(outputs, dict) else ()
    return any(isinstance(text, str) and ZERO.search(text) for text in texts)


def _input_lists(value: Any, path: str, into: dict[str, list[Any]], depth: int = 0) -> dict[str, list[Any]]:
    """Every list a node's inputs hold, by its path (`body.items`; JSON text read as JSON)."""
    if isinstance(value, str) and value[:1] in "{[" and depth < 4:
        value = json_value(value)
    if isinstance(value, list):
        into[path] = value
    elif isinstance(value, dict) and depth < 4:
        for key, item in islice(value.items(), 50):
            _input_lists(item, f"{path}.{key}" if path else str(key), into, depth + 1)
    return into


def _cut(output: Any, given: list[Any]) -> bool:
    """Whether a node's output list is the first items of a list it was given, the rest holding one item unlike any
    kept (a node dropping copies of what it kept de-duplicates: it keeps the first of each)."""
    if not isinstance(output, list) or output != given[: len(output)]:
        return False
    kept = {repr(item) for item in output}
    return any(repr(item) not in kept for item in given[len(output) :])


def _counts_kept(trace: Trace, span: Any, outputs: dict[str, Any], min_history: int) -> Finding | None:
    """A code node's output that held as many items as a list of its inputs (a list of that length, or that
    number) in earlier runs (`min_history` at least, two lengths other than 0 among them: the node passes every
    item on, or counts them; one run in ten at most with fewer), now holding none while the list holds items (all
    dropped on the way; some dropped is a filter's doing), or none while the list is missing and the inputs hold
    another list with items (the list renamed: `.get('slots', [])` read nothing). Or, where no earlier run held
    fewer, holding the list's first items only (`ids[:2]` of four): the list cut on the way, its tail lost as if it
    had never been there (a filter keeps the items it wants, a slice the first ones whatever they are). Learns
    which outputs kept their lists' lengths, per app and node, whatever the workflow's version (a republished code
    node is the one that cuts); a run it flags teaches nothing."""
    counts = {name: len(value) if isinstance(value, list) else value for name, value in islice(outputs.items(), 50)
              if (isinstance(value, list) or (type(value) is int and value >= 0))
              and name not in BOOKKEEPING}  # fmt: skip
    if not counts:
        return None
    lists = _input_lists(json_attr(span, "input.value"), "", {})
    lengths = {path: len(items) for path, items in lists.items()}
    key = f"{KEY}:counts:{trace.app}:{attr(span, 'dify.node.id') or span.name}"
    pairs: dict[str, list[Any]] = trace.baselines.get(key) or {}
    for pair, kept in pairs.items():
        name, _, path = pair.partition("<")
        count, given = counts.get(name), lengths.get(path)
        if count is None or kept[0] < min_history or sum(map(bool, kept[1])) < 2:
            continue
        if count and given and count < given and not kept[2] and _cut(outputs[name], lists[path]):
            return finding(span, "a code output holding the first items only of the input list it kept whole before",
                           f"Code node '{node_title(span)}' passed on the first {count} of the {given} items of "
                           f"'{path}' in '{name}', where its {kept[0]} earlier runs passed on as many as they were "
                           "given: the list was cut.", {path: given}, {name: count})  # fmt: skip
        if count != 0 or kept[2] * 10 > kept[0]:
            continue
        if given:  # a list with items, none passed on (some left out: a filter at work)
            return finding(span, "a code output holding no item of the input list it kept whole before",
                           f"Code node '{node_title(span)}' passed on none of the {given} items of '{path}' in "
                           f"'{name}', where earlier runs passed on as many as they were given.", {path: given},
                           {name: counts[name]})  # fmt: skip
        other = next(((other, n) for other, n in lengths.items() if n), None) if given is None else None
        if other is not None:
            return finding(span, "a code output counting a list its input no longer has, another list there",
                           f"Code node '{node_title(span)}' found no '{path}' in its input and returned '{name}' with "
                           f"no items, though '{other[0]}' held {other[1]}; earlier runs' '{name}' held as many "
                           f"items as '{path}'.", {other[0]: other[1]}, {name: counts[name]})  # fmt: skip
    for name, count in counts.items():
        for path, given in lengths.items():
            held = pairs.get(pair := f"{name}<{path}")
            if held is None and count == given and len(pairs) < 50:
                pairs[pair] = [1, [count], 0]
            elif held is not None and count < given:
                held[2] += 1  # more than a run in ten: the node drops items at times (a filter), no relation
            elif held is not None and count == given:  # more items (a page read twice) are another detector's
                held[0] += 1
                if count not in held[1] and len(held[1]) < 3:
                    held[1].append(count)
    trace.baselines.put(key, pairs)
    return None


def code_output_lost(
    trace: Trace, span: Any, outputs: dict[str, Any], min_history: int, answered_error: bool
) -> Finding | None:
    """A code node that succeeded losing a value: every output null though every input had one, an output
    emptied though the input it is named after had a value, one its earlier runs usually filled, one holding no
    item of an input list it kept whole before, or records emptied (`emptied_records`). After an HTTP
    request answered with an error status, the node read no data: nothing to lose."""
    if answered_error:
        return None
    usually_filled = usual_output(trace, span, outputs, min_history)  # learned on every run
    kept = _counts_kept(trace, span, outputs, min_history)  # likewise
    gone = field_gone(trace, span, min_history)  # likewise
    if outputs and not any(outputs.values()) and all(v is None for v in outputs.values()) and all_given(span):
        title = node_title(span)
        return Finding(
            KEY,
            "medium",
            0.75,
            f"Code node '{title}' succeeded but every output is null.",
            {"node": title, "rule": "a code node whose every output is null", "outputs": sorted(outputs)},
            span_id(span),
        )
    if (emptied := _emptied_field(span, outputs)) is not None:
        name, source, value = emptied
        return finding(span, "a code output emptied though the input it is named after had a value",
                       f"Code node '{node_title(span)}' returned '{name}' empty though its input '{source}' held "
                       f"{str(value)[:40]!r}.", {source: value}, {name: outputs[name]})  # fmt: skip
    return (
        left_empty(span, "Code", usually_filled, outputs)
        or kept
        or (None if all(outputs.values()) else _zeroed(trace, span, outputs, min_history))
        or gone
        or nested_zeroed(trace, span, "Code")
        or records_emptied(trace, span, outputs)
        or record_read_flat(span, outputs)
    )


def nested_zeroed(trace: Trace, span: Any, node_kind: str) -> Finding | None:
    """A code or template node showing a 0 where its input holds the number inside an object (every record's, or
    one under the output's name: `detectors/nested_zeros.py`): the number was lost on the way, the reader's default
    in its place. Not where the run's output texts state the object's numbers all the same (a model shown the raw
    answer beside the reader's line): the default never reached the answer, the source's shape is
    `dify_tool_schema_mismatch`'s."""
    if (nested := nested_zeros(span)) is None:
        return None
    holder, record, shown = nested
    lost = numbers_in(record.get(holder), [], texts=False)
    outputs = json_attr(trace.root, "output.value") if trace.root is not None else None
    answer = [text for text in outputs.values() if isinstance(text, str)] if isinstance(outputs, dict) else []
    if lost and set(lost) <= set(numbers_in(answer, [], texts=True)):
        return None
    return finding(span, "a code or template output of 0 where its input holds the number inside an object",
                   f"{node_kind} node '{node_title(span)}' showed 0 where its input holds the number inside "
                   f"'{holder}' ({str(record.get(holder))[:60]}).", record, shown)  # fmt: skip


def left_empty(
    span: Any, node_kind: str, usually_filled: tuple[str, str, str, Any] | None, outputs: dict[str, Any]
) -> Finding | None:
    """The finding for a node's output `usual_output` found left empty."""
    if usually_filled is None:
        return None
    name, kind, source, value = usually_filled
    rule = f"a {node_kind.lower()} output every earlier run filled left empty, its input holding that kind"
    return finding(span, rule, f"{node_kind} node '{node_title(span)}' returned '{name}' empty, which its earlier runs "
                   f"filled ({kind}), though its input '{source}' held one.", {source: value},
                   {name: outputs[name]})  # fmt: skip

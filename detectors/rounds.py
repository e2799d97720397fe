"""A container's rounds, the nodes each ran and what they left behind, for the detectors that judge iterations
and loops.

Read from the node spans (a round's span carries its container's node type and `dify.round.index`) rather than
`Trace.children`: containers are few, and the children map costs a pass over every span and a sort per parent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Trace, attr, attributes_of, json_attr, json_value, prompt_text, span_id

# Output keys that measure a call rather than say what it produced: an LLM's usage and latency, and an HTTP
# response's headers (its `date`, request ids and timings differ on every call of the same request).
_USAGE = frozenset({"usage", "__usage", "elapsed_time", "latency"})
_HTTP_USAGE = _USAGE | {"headers"}
# An LLM node's inputs on the stream: its model, the same in every round (its prompt holds what it was given).
_MODEL_INPUTS = frozenset({"model_provider", "model_name"})


def containers(trace: Trace, *node_types: str) -> list[ReadableSpan]:
    """The iterations or loops (`node_types`) of the run, their rounds' spans (which carry the container's node
    type) left out: the container is what a detector judges."""
    return [span for span in trace.of_type(*node_types) if attr(span, "dify.round.index") is None]


def rounds_of(trace: Trace, container: ReadableSpan) -> list[tuple[ReadableSpan, list[ReadableSpan]]]:
    """`container`'s round spans in start order, each with the nodes it ran in start order."""
    container_id = span_id(container)
    found: dict[int, tuple[ReadableSpan, list[ReadableSpan]]] = {}
    for span in trace.of_type(str(attr(container, "dify.node.type"))):
        parent = span.parent
        if parent is not None and parent.span_id == container_id and attr(span, "dify.round.index") is not None:
            found[span_id(span)] = (span, [])
    if found:
        for node, parent_id in zip(trace.nodes, trace.node_parents, strict=True):
            if (entry := found.get(parent_id)) is not None:
                entry[1].append(node)
    return list(found.values())


def node_state(span: ReadableSpan) -> tuple[object, object, object]:
    """What a node left behind in a round, comparable across rounds: its id, its outputs without usage (nor an
    HTTP response's headers), and an assigner's written values."""
    attributes = attributes_of(span)
    kind = attributes.get("dify.node.type")
    outputs = json_attr(span, "output.value")
    measures = _HTTP_USAGE if kind == "http-request" else _USAGE
    if isinstance(outputs, dict) and not measures.isdisjoint(outputs):
        outputs = {k: v for k, v in outputs.items() if k not in measures}
    written = attributes.get("dify.node.process_data") if kind == "assigner" else None
    return attributes.get("dify.node.id"), outputs, written


def signature(nodes: list[ReadableSpan]) -> tuple[tuple[object, object, object], ...]:
    """What a round's nodes left behind, in order."""
    return tuple(node_state(n) for n in nodes)


def given(node: ReadableSpan) -> str | None:
    """What a node was given: its inputs (an LLM's model aside) and an LLM's prompt; None when it shows neither."""
    inputs = json_attr(node, "input.value")
    if isinstance(inputs, dict) and not _MODEL_INPUTS.isdisjoint(inputs):
        inputs = {k: v for k, v in inputs.items() if k not in _MODEL_INPUTS}
    prompt = prompt_text(node) if attr(node, "dify.node.type") == "llm" else ""
    return repr((inputs, prompt)) if inputs or prompt else None


def distinct_work(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]], items: list[object] | None) -> bool:
    """An iteration's rounds worked two different items or more: by the iteration's list (`items`, the stream's), else,
    where Dify's export keeps no list, by what each round's first node was given (the item shows in its inputs or its
    prompt). False when a round's item cannot be read: past the list's end, or a first node showing nothing."""
    seen: set[object] = set()
    for round_span, nodes in rounds:
        index = attr(round_span, "dify.round.index")
        if items is not None:
            if not (isinstance(index, int) and 0 <= index < len(items)):
                return False
            seen.add(repr(items[index]))
        elif not nodes or (work := given(nodes[0])) is None:
            return False
        else:
            seen.add(work)
    return len(seen) > 1


# A word or figure a round's item and result may share (a place, a postcode, an id).
_WORD = re.compile(r"\w{3,}")


def echoes_first(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> bool:
    """The first round's results hold a word or figure the first round's first node was given and the second round's
    was not: its item's own values (`Assen (9401)`), so rounds alike over different items repeat the first item's
    result for the others; one verdict for every item holds none."""
    if len(rounds) < 2 or not rounds[0][1] or not rounds[1][1]:
        return False
    first, second = given(rounds[0][1][0]), given(rounds[1][1][0])
    if first is None or second is None:
        return False
    own = set(_WORD.findall(first)) - set(_WORD.findall(second))
    return any(word in own for word in _WORD.findall(str(signature(rounds[0][1]))))


def identical_stretch(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> tuple[int, int]:
    """The most rounds in a row that ran the same nodes with the same outputs, and the first of them."""
    best, first, run, previous = 0, 0, 0, None
    for position, (_, nodes) in enumerate(rounds):
        state = signature(nodes)
        run = run + 1 if state and state == previous else 1
        if run > best:
            best, first = run, position - run + 1
        previous = state
    return best, first


@dataclass(frozen=True)
class _Added:
    """A round's change to a value that grew: a whole number's step, a list's or a text's appended part."""

    part: object


@dataclass(frozen=True)
class _Changed:
    """A round's change to a value it replaced: the new value."""

    value: object


def _step(earlier: object, later: object) -> object:
    """What a round did to a value the round before left: kept it (the value itself), counted it on or appended
    to it (`_Added`: the step, the new items or text), or replaced it (`_Changed`). Assigners' written values and
    code outputs are JSON text and read as such."""
    if isinstance(earlier, str) and isinstance(later, str):
        decoded, now = json_value(earlier), json_value(later)
        if not isinstance(decoded, str) and not isinstance(now, str):
            return _step(decoded, now)
        if earlier != later and later.startswith(earlier):
            return _Added(later[len(earlier) :])
    if type(earlier) is int and type(later) is int:
        return _Added(later - earlier)
    if earlier == later:
        return later
    if isinstance(earlier, dict) and isinstance(later, dict) and earlier.keys() == later.keys():
        return tuple((k, _step(v, later[k])) for k, v in earlier.items())
    if isinstance(earlier, (list, tuple)) and isinstance(later, (list, tuple)):
        if len(earlier) == len(later):
            return tuple(_step(a, b) for a, b in zip(earlier, later, strict=True))
        if len(earlier) < len(later) and list(later[: len(earlier)]) == list(earlier):
            return _Added(list(later[len(earlier) :]))
    return _Changed(later)


def _added(step: object) -> Iterator[_Added]:
    """What `step` counted on or appended, value by value."""
    if isinstance(step, _Added):
        yield step
    elif isinstance(step, tuple):
        for part in step:
            yield from _added(part)


def _steps(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> list[object]:
    """Each round's work after the first: what it did to what the round before left, node by node."""
    states = [signature(nodes) for _, nodes in rounds]
    return [_step(earlier, later) for earlier, later in pairwise(states)]


def _produced(nodes: list[ReadableSpan]) -> bool:
    """A round's nodes produced something (outputs or written values)."""
    return any(outputs or written for _, outputs, written in signature(nodes))


def repeated_work(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> tuple[int, bool]:
    """How many of the last rounds did the same work as the round before them, and whether that work appended
    results again: every node's outputs and written values kept, counted on by the same step (a poll counter, a count
    of rows) or grown by the same items or text (the same page fetched and added again), so a loop that accumulates
    what it fetched shows its stuck rounds as well as one that keeps nothing. Rounds whose nodes produced nothing
    count as none."""
    if not rounds or not _produced(rounds[-1][1]):
        return 0, False
    steps = _steps(rounds)
    same = 0
    while same < len(steps) and steps[-1 - same] == steps[-1]:
        same += 1
    if same and not _counted(steps[-1]):
        return 1, False
    return same + 1, same > 0 and _appended(steps[-1])  # the stretch's first round is the one its work repeats


def _appended(step: object) -> bool:
    """`step` appended items or text (not only counted a number on)."""
    return any(not isinstance(part.part, int) for part in _added(step))


def _counted(step: object) -> bool:
    """`step`'s numbers count rounds (one more, or kept) or what it appended (rows, pages): a number stepping by
    more than one in a round that appended nothing measures something else (a delay growing, an offset)."""
    return _appended(step) or all(part.part in (0, 1) for part in _added(step))


def _cycle(states: list[object]) -> tuple[int, int]:
    """The shortest period of two or more with which the last of `states` repeat those that period before, and how
    many of the last do (0 if none)."""
    for period in range(2, len(states) // 2 + 1):
        repeats = 0
        while repeats < len(states) - period and states[-1 - repeats] == states[-1 - repeats - period]:
            repeats += 1
        # Each state of the period came back at least once, and they are states, not one state repeated.
        if repeats >= period and any(state != states[-1] for state in states[-period:]):
            return period, repeats
    return 0, 0


def cycle_of(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> tuple[int, int]:
    """The shortest period of two rounds or more (`a, b, a, b, …`) with which the last rounds repeat the rounds that
    period before, and how many of the last rounds do (0 if none): the loop came back to a state it had left, and went
    round again. Read from every node's outputs and written values or, where the loop accumulates what it fetched
    (a list of rows growing every round), from each round's work (page 1's rows added, then page 2's, then page 1's).
    Rounds whose nodes produced nothing count as none."""
    if not rounds or not _produced(rounds[-1][1]):
        return 0, 0
    period, repeats = _cycle([signature(nodes) for _, nodes in rounds])
    if period:
        return period, repeats
    steps = _steps(rounds)
    period, repeats = _cycle(steps)
    if not period or not all(_counted(step) for step in steps[-period:]):
        return 0, 0
    return period, repeats + 1  # a step is two rounds: its first is in the cycle too


def loop_limit(container: ReadableSpan) -> object:
    """A loop's `loop_count`: the stream's `loop_length`, else the loop's own `loop_count` input (all Dify's export
    keeps of it)."""
    attributes = attributes_of(container)
    limit = attributes.get("dify.container.limit")
    if limit is None:
        inputs = json_attr(container, "input.value")
        limit = inputs.get("loop_count") if isinstance(inputs, dict) else None
    return limit


def broke_out(container: ReadableSpan) -> bool:
    """The loop reached its break condition: Dify says so (`loop_break`), or, where it does not say (its export), it
    succeeded before its `loop_count` (a loop stopped or failed early broke out of nothing). Rounds alike before it
    were waiting (a status polled until it changed), not stuck."""
    attributes = attributes_of(container)
    reason = attributes.get("dify.container.completed_reason")
    if reason is not None:
        return bool(reason == "loop_break")
    limit, ran = loop_limit(container), attributes.get("dify.container.rounds")
    succeeded = attributes.get("dify.node.status") == "succeeded"
    return succeeded and isinstance(limit, int) and isinstance(ran, int) and ran < limit

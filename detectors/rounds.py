"""A container's rounds, the nodes each ran and what they left behind, for the detectors that judge iterations
and loops.

Read from the node spans (a round's span carries its container's node type and `dify.round.index`) rather than
`Trace.children`: containers are few, and the children map costs a pass over every span and a sort per parent.
"""

from __future__ import annotations

import re

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


def _given(node: ReadableSpan) -> str | None:
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
        elif not nodes or (given := _given(nodes[0])) is None:
            return False
        else:
            seen.add(given)
    return len(seen) > 1


# A word or figure a round's item and result may share (a place, a postcode, an id).
_WORD = re.compile(r"\w{3,}")


def echoes_first(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> bool:
    """The first round's results hold a word or figure the first round's first node was given and the second round's
    was not: its item's own values (`Assen (9401)`), so rounds alike over different items repeat the first item's
    result for the others; one verdict for every item holds none."""
    if len(rounds) < 2 or not rounds[0][1] or not rounds[1][1]:
        return False
    first, second = _given(rounds[0][1][0]), _given(rounds[1][1][0])
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


def _counted_on(earlier: object, later: object) -> bool:
    """`later` is `earlier`, or it with whole numbers one more (a round counter: `attempts`, a version), anywhere in
    it; assigners' written values are JSON text and read as such."""
    if earlier == later:
        return True
    if isinstance(earlier, str) and isinstance(later, str):
        earlier, later = json_value(earlier), json_value(later)
        return not isinstance(earlier, str) and _counted_on(earlier, later)
    if type(earlier) is int and type(later) is int:
        return later == earlier + 1
    if isinstance(earlier, dict) and isinstance(later, dict):
        return earlier.keys() == later.keys() and all(_counted_on(v, later[k]) for k, v in earlier.items())
    if isinstance(earlier, (list, tuple)) and isinstance(later, (list, tuple)):
        return len(earlier) == len(later) and all(_counted_on(a, b) for a, b in zip(earlier, later, strict=True))
    return False


def counted_stretch(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> int:
    """How many of the last rounds in a row did the same work with the same results, only counting on: every
    node's outputs and written values as the round before's but for whole numbers one more (a loop that counts
    its polls while the status it polls never changes). Rounds whose nodes produced nothing count as none."""
    if not rounds:
        return 0
    later = signature(rounds[-1][1])
    if not any(outputs or written for _, outputs, written in later):
        return 0
    stretch = 1
    for _, nodes in reversed(rounds[:-1]):
        earlier = signature(nodes)
        if not _counted_on(earlier, later):
            break
        stretch, later = stretch + 1, earlier
    return stretch


def cycle_of(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> tuple[int, int]:
    """The shortest period of two rounds or more (`a, b, a, b, …`) with which the last rounds repeat the rounds that
    period before, every node's outputs and written values alike, and how many of the last rounds do (0 if none):
    the loop came back to a state it had left, and went round again. Rounds whose nodes produced nothing count as
    none."""
    states = [signature(nodes) for _, nodes in rounds]
    if not states or not any(outputs or written for _, outputs, written in states[-1]):
        return 0, 0
    for period in range(2, len(states) // 2 + 1):
        repeats = 0
        while repeats < len(states) - period and states[-1 - repeats] == states[-1 - repeats - period]:
            repeats += 1
        if repeats >= period:  # each state of the period came back at least once
            return period, repeats
    return 0, 0


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

"""`loop`: a loop stuck on the same state, and retry storms.

A node running again and again with the same inputs is not stuck by itself: a loop's fixed instruction or
lookup node does that while the loop makes progress. It is stuck when the rounds in which it repeated are
identical as a whole: every node in them produced the same outputs and wrote the same variables
(assigners keep the new value in their process data), or when it goes round the same states until it runs out of
rounds. Usage is not state: an LLM's outputs carry its latency and token counts, an HTTP response its headers (its
`date`), which differ on every call. A loop that reached its break condition at last was waiting (a status polled
until it changed), not stuck. An iteration is stuck when it works one item again and again: over a list multiplied
on its way, over a list in which a model gave one item again and again, or past its list's length."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, json_attr, span_id
from detectors.iteration_items import MODEL_NODES, multiplied_from, one_item, one_item_list
from detectors.rounds import (
    broke_out,
    containers,
    cycle_of,
    identical_stretch,
    loop_limit,
    node_state,
    repeated_work,
    rounds_of,
    signature,
)

KEY = "loop"


class Config(DetectorConfig):
    # A node run this many times with identical inputs in one loop is stuck.
    min_repeats: int = Field(default=3, ge=2)
    # A node attempted this many times (Dify's retries) is a retry storm: more than Dify's default retry setting
    # (3 retries, 4 attempts) gives; a node spending those was retried as configured.
    retry_storm: int = Field(default=5, ge=2)


def _iterations_repeating(trace: Trace, cfg: Config) -> Iterator[Finding]:
    """An iteration that worked the same item `min_repeats` times or more with the same outputs each time,
    over a list multiplied on its way from the node that produced it (an iteration over a list that holds
    an item several times, as its producer gave it, does what it was asked); or one that ran more rounds than
    its list's length (Dify's `iteration_length`) with `min_repeats` rounds in a row alike."""
    for container in containers(trace, "iteration"):
        past = _repeating_past_length(trace, container, cfg)
        if past is not None:
            yield past
            continue
        inputs = json_attr(container, "input.value")
        items = inputs.get("iterator_selector") if isinstance(inputs, dict) else None
        repeating = _model_repeating(trace, container, items if isinstance(items, list) else None, cfg)
        if repeating is not None:
            yield repeating
            continue
        if (
            not isinstance(items, list)
            or len(items) < cfg.min_repeats
            or multiplied_from(trace, container, items) is None
        ):
            continue
        rounds: dict[str, list[list[tuple[object, object, object]]]] = {}  # item → each round's node states
        for round_span, nodes in rounds_of(trace, container):
            index = attr(round_span, "dify.round.index")
            if isinstance(index, int) and index < len(items):
                state = [node_state(node) for node in nodes]
                rounds.setdefault(repr(items[index]), []).append(state)
        for item, states in rounds.items():
            if len(states) >= cfg.min_repeats and all(state == states[0] for state in states[1:]):
                title = attr(container, "dify.node.title", container.name)
                yield Finding(
                    KEY,
                    "medium",
                    0.85,
                    f"The iteration '{title}' worked the same item {len(states)} times with the same outputs: "
                    "its list was multiplied on its way, and the rounds repeat each other.",
                    {"node": title, "rule": "same item and same round outputs in an iteration over a multiplied list",
                     "inputs": item[:200], "first_round_outputs": str(states[0])[:300], "repeats": len(states)},
                    span_id(container),
                )  # fmt: skip
                break


def _model_repeating(trace: Trace, container: ReadableSpan, items: list[Any] | None, cfg: Config) -> Finding | None:
    """An iteration of `min_repeats` rounds or more, every one alike, over a list in which a model (an LLM, a
    parameter extractor) gave one item again and again: the same work done over and over for one item asked once.
    Read from the list the iteration received or, where Dify's export leaves it out, the model's own list."""
    ran = attr(container, "dify.container.rounds")
    if not isinstance(ran, int) or ran < cfg.min_repeats:
        return None
    if items is not None and not one_item(items, ran):
        return None  # the cheap test first: most lists hold different items
    rounds = rounds_of(trace, container)
    same = identical_stretch(rounds)[0]
    if same < cfg.min_repeats or same != len(rounds) or one_item_list(trace, container, items, same) not in MODEL_NODES:
        return None
    title = attr(container, "dify.node.title", container.name)
    return Finding(
        KEY, "medium", 0.85,
        f"The iteration '{title}' did the same work {same} times with the same outputs over a list in which a model "
        "gave one item again and again: it is stuck on one item.",
        {"node": title, "rule": "every round alike over a model's list of one item repeated", "rounds": same,
         "repeats": same, "round_outputs": str(signature(rounds[0][1]))[:300]},
        span_id(container),
    )  # fmt: skip


def _repeating_past_length(trace: Trace, container: ReadableSpan, cfg: Config) -> Finding | None:
    """An iteration that ran more rounds than its list has items, `min_repeats` rounds in a row of it alike: it
    kept working one item instead of moving on (a list holding an item twice runs no round too many)."""
    length, ran = attr(container, "dify.container.limit"), attr(container, "dify.container.rounds")
    if not (isinstance(length, int) and isinstance(ran, int) and 0 < length < ran):
        return None
    rounds = rounds_of(trace, container)
    same, first = identical_stretch(rounds)
    if same < cfg.min_repeats:
        return None
    title = attr(container, "dify.node.title", container.name)
    return Finding(
        KEY, "medium", 0.85,
        f"The iteration '{title}' ran {ran} rounds over a list of {length} items, and {same} rounds in a row "
        f"(from round {first}) did the same work with the same outputs: it is stuck on one item.",
        {"node": title, "rule": "an iteration past its list's length repeating the same round", "rounds": ran,
         "items": length, "repeats": same, "round_outputs": str(signature(rounds[first][1]))[:300]},
        span_id(container),
    )  # fmt: skip


def _loops_counting_in_place(trace: Trace, cfg: Config) -> Iterator[Finding]:
    """A loop that never broke out (it used every round, or ran past its limit) whose last `min_repeats` rounds or
    more did the same work as the round before, only a counter moving or the same results appended again: polling a
    status that never changes, fetching the same page and adding its rows once more. Counting alone is no progress; a
    loop that breaks out at last was waiting. Or whose last rounds go round a cycle of states (`a, b, a, b`), each
    state of it back at least once: a cursor sent back to a page read before, a draft flipping between two versions."""
    for container in containers(trace, "loop"):
        get = attributes_of(container).get
        ran, reason, limit = get("dify.container.rounds"), get("dify.container.completed_reason"), loop_limit(container)
        if not (isinstance(limit, int) and isinstance(ran, int) and 0 < limit <= ran) or broke_out(container):
            continue
        rounds = rounds_of(trace, container)
        title = get("dify.node.title", container.name)
        same, appended = repeated_work(rounds)
        # Where Dify does not say why the loop ended (its export), a counter may have been its break condition at the
        # last round; the same results appended again are wrong however it ended.
        if same >= cfg.min_repeats and (ran > limit or reason is not None or appended):
            yield Finding(
                KEY, "medium", 0.85,
                f"The loop '{title}' ran {ran} rounds without breaking out, and its last {same} did the same work "
                f"with the same results, {'appended again' if appended else 'only a counter moving'}: the loop state "
                "is not changing.",
                {"node": title, "rule": "a loop out of rounds adding the same results again" if appended else
                 "a loop out of rounds repeating its last rounds but for a counter", "rounds": ran,
                 "loop_length": limit, "completed_reason": reason, "repeats": same,
                 "first_round_outputs": str(signature(rounds[-same][1]))[:300],
                 "last_round_outputs": str(signature(rounds[-1][1]))[:300]},
                span_id(container),
            )  # fmt: skip
            continue
        period, repeats = cycle_of(rounds)
        if period and repeats + period >= cfg.min_repeats:
            yield Finding(
                KEY, "medium", 0.85,
                f"The loop '{title}' ran {ran} rounds without breaking out, and its last {repeats + period} went "
                f"round the same {period} states again and again: the loop state keeps coming back.",
                {"node": title, "rule": "a loop out of rounds going round the same states", "rounds": ran,
                 "loop_length": limit, "completed_reason": reason, "period": period, "repeats": repeats,
                 "round_outputs": [str(signature(nodes))[:200] for _, nodes in rounds[-period:]]},
                span_id(container),
            )  # fmt: skip


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        runs: dict[tuple[object, object], list[ReadableSpan]] = {}
        # Round span → what its nodes produced, in order: the loop's state after that round.
        states: dict[int, list[tuple[object, object, object]]] = {}
        storms: list[tuple[ReadableSpan, int]] = []  # (node, attempts), found in the same pass as the repeats
        loop_of: dict[int, int] = {}  # a loop round's span → its loop's
        for span in trace.nodes:
            get = attributes_of(span).get
            if get("dify.round.index") is not None and span.parent is not None:
                loop_of[span_id(span)] = span.parent.span_id
            # A round's own span carries the loop index too: its nodes are the round's state, not it.
            if get("dify.loop.index") is not None and span.parent is not None and get("dify.round.index") is None:
                states.setdefault(span.parent.span_id, []).append(node_state(span))
                inputs = get("input.value")
                if inputs is not None:
                    runs.setdefault((get("dify.node.id"), inputs), []).append(span)
            attempts = get("dify.node.attempts")
            if isinstance(attempts, int) and attempts >= cfg.retry_storm:
                storms.append((span, attempts))
        repeating = False  # a node found repeating in identical rounds: the loop is reported stuck already
        broken: set[int] | None = None  # the loops that reached their break condition, read once a node repeats
        for (node_id, inputs), spans in runs.items():
            if len(spans) < cfg.min_repeats:
                continue
            rounds = [states.get(s.parent.span_id if s.parent else 0) for s in spans]
            if any(state != rounds[0] for state in rounds[1:]):
                continue  # the loop moved on while this node's inputs stayed put
            if broken is None:
                broken = {span_id(loop) for loop in containers(trace, "loop") if broke_out(loop)}
            if any(loop_of.get(s.parent.span_id) in broken for s in spans if s.parent is not None):
                continue  # it waited (a status polled until it changed) and broke out
            repeating = True
            yield Finding(
                KEY,
                "medium",
                0.85,
                f"Node '{node_id}' ran {len(spans)} times in a loop with the same inputs, and every node of "
                "those rounds produced the same outputs: the loop state is not changing.",
                {"node": node_id, "rule": "same inputs and same round outputs in every repeat",
                 "inputs": str(inputs)[:200], "first_round_outputs": str(rounds[0])[:300],
                 "last_round_outputs": str(rounds[-1])[:300], "repeats": len(spans)},
                span_id(spans[-1]),
            )  # fmt: skip
        if trace.of_type("iteration"):
            yield from _iterations_repeating(trace, cfg)
        if states and not repeating:  # nodes ran in loop rounds: a loop to judge
            yield from _loops_counting_in_place(trace, cfg)
        for span, attempts in storms:
            failed = attr(span, "dify.node.status") == "failed"
            yield Finding(
                KEY,
                "high" if failed else "medium",
                0.9,
                f"Node '{attr(span, 'dify.node.title', span.name)}' was attempted {attempts} times"
                f"{' and still failed' if failed else ''}: a retry storm; fix the cause rather than "
                "retrying.",
                {
                    "node": attr(span, "dify.node.id"),
                    "rule": f"attempts >= retry_storm ({cfg.retry_storm})",
                    "attempts": attempts,
                    "status": attr(span, "dify.node.status"),
                },
                span_id(span),
            )

    return detect

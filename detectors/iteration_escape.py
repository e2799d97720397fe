"""`dify_iteration_escape`: iterations and loops that run away.

Fires when a container runs more rounds than its limit or than its input list (the list itself, or the length
Dify counted when the iteration started), when an iteration runs over the characters of a text (a string given
where a list was meant: single characters, spaces or punctuation among them), or when its rounds repeat identical
outputs and written values (usage aside: an LLM's latency differs on every call). A long batch that stays within
its limit and makes progress is left alone, and so is a loop that uses every round it was given (Dify stops it at
its `loop_count`; a stuck one shows in its identical rounds), an iteration over one repeated item the run's inputs
or the app's own nodes gave (not a model: its list of one item again and again is the model repeating itself) or
over letters meant as items (`A`…`Z`, 汉字: no separators among them).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import Field

from detectors import DetectorConfig, Finding, Trace, attr, attributes_of, json_attr, span_id
from detectors.iteration_items import (
    MODEL_NODES,
    asked_size_overrun,
    fetched_list,
    kept_to_asked,
    multiplied_from,
    one_item_list,
)
from detectors.model_repeats import model_list_repeated
from detectors.rounds import (
    broke_out,
    containers,
    distinct_work,
    echoes_first,
    identical_stretch,
    node_state,
    repeated_work,
    rounds_of,
    signature,
)
from detectors.served_again import cycle, each_served_again, outside_list_repeated, repeated_block

KEY = "dify_iteration_escape"
# Rounds over single characters that make a text split by mistake (a few letters may be meant).
_CHARACTER_ROUNDS = 8
# A run input that bounds a container's rounds: a name with a bound word and a word for rounds or items
# (`max_attempts`, `maxRounds`, `iteration_limit`, `max_items`), split at `_`, `-`, `.`, spaces and case.
_NAME_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_BOUND_WORDS = frozenset({"max", "maximum", "limit", "cap"})
_ROUND_WORDS = frozenset({"attempt", "attempts", "try", "tries", "retries", "round", "rounds", "iteration",
                          "iterations", "loop", "loops", "step", "steps", "turn", "turns", "cycle", "cycles",
                          "pass", "passes", "revision", "revisions", "item", "items"})  # fmt: skip


# Where a variable selector starts that names no node: Dify's system, environment and conversation variables.
_SELECTOR_ROOTS = frozenset({"sys", "env", "conversation"})


def _items(trace: Trace, container: ReadableSpan, value: Any) -> list[Any] | None:
    """An iteration's input list, or None when its input is not one. A variable selector (`["llm_1", "notes"]`:
    a node's id and its variable, a node run before the iteration) says where the list is read from, as an
    app's configuration writes it; Dify 1.14.1 sends the list itself (`iterator_selector: ["a", "b", "c"]` in
    every recording), but a selector read as two items would make any longer list an overrun."""
    if not isinstance(value, list):
        return None
    if 2 <= len(value) <= 3 and all(isinstance(part, str) for part in value):
        head, start = value[0], container.start_time or 0
        if head in _SELECTOR_ROOTS:
            return None
        for node in trace.nodes:
            if (node.start_time or 0) > start:
                break
            if attr(node, "dify.node.id") == head:
                return None
    return value


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_a_variable(value: list[Any] | None) -> bool:
    """Two or three identifiers: a variable selector's shape (a node's id and its variable)."""
    return (
        value is not None
        and 2 <= len(value) <= 3
        and all(isinstance(part, str) and _IDENTIFIER.fullmatch(part) for part in value)
    )


class Config(DetectorConfig):
    # Most rounds any iteration or loop should run.
    max_rounds: int = Field(default=100, gt=0)
    # This many rounds with identical outputs (and no others) count as a stuck container.
    identical_rounds: int = Field(default=3, ge=2)
    # An iteration running more than this many times the most rounds it ran in the app's earlier runs has
    # run away (a search that ignored its limit: 24 results where 3 were asked for); 0 turns the rule off.
    usual_factor: float = Field(default=5.0, ge=0)
    # Earlier runs of the iteration (with rounds, none found running away) needed before it is held to them.
    min_history: int = Field(default=5, ge=1)


def _judge(trace: Trace, container: ReadableSpan, cfg: Config) -> Iterator[Finding]:
    """What is wrong with one iteration or loop of the run, by its rounds, limits and input list."""
    attributes = attributes_of(container)
    kind = attributes.get("dify.node.type")
    title = attributes.get("dify.node.title", container.name)
    rounds = rounds_of(trace, container)
    count = max(len(rounds), attributes.get("dify.container.rounds", 0))
    where = span_id(container)
    limit = attributes.get("dify.container.limit")
    if count > cfg.max_rounds:
        yield Finding(
            KEY,
            "high",
            0.95,
            f"The {kind} '{title}' ran {count} rounds, over the limit of {cfg.max_rounds}; "
            "check its input list or break condition.",
            {"node": title, "rule": "rounds > max_rounds", "rounds": count, "limit": cfg.max_rounds},
            where,
        )
    # Only a container that ran rounds can overrun its input list: its inputs are decoded only then.
    items = (json_attr(container, "input.value") or {}) if kind == "iteration" and count else {}
    selector = _items(trace, container, items.get("iterator_selector")) if isinstance(items, dict) else None
    # Dify counts the list when the iteration starts (`iteration_length`): rounds exactly that many ran over all of
    # it, and two or three names where the list should be are the selector it was read by (`["start", "articles"]`).
    counted = kind == "iteration" and limit == count and _names_a_variable(selector)
    if isinstance(selector, list) and count > len(selector) and not counted:
        yield Finding(
            KEY,
            "high",
            0.9,
            f"The iteration '{title}' ran {count} rounds over a list of {len(selector)} items.",
            {"node": title, "rule": "rounds > input items", "rounds": count, "items": len(selector)},
            where,
        )
    elif isinstance(limit, int) and 0 < limit < count:
        # Dify counts an iteration's list when it starts (`iteration_length`): each item runs one round. A loop's
        # `loop_count` is the most rounds it may run, break condition or not.
        if kind == "iteration":
            summary = f"The iteration '{title}' ran {count} rounds over a list Dify counted {limit} items long."
            rule, held_to = "rounds > the iteration's list length", "items"
        else:
            summary = f"The loop '{title}' ran {count} rounds, past its own limit of {limit} rounds."
            rule, held_to = "rounds > the loop's loop_count", "loop_length"
        yield Finding(KEY, "high", 0.9, summary, {"node": title, "rule": rule, "rounds": count, held_to: limit}, where)
    source = multiplied_from(trace, container, selector) if isinstance(selector, list) else None
    if source is not None and isinstance(selector, list):
        yield Finding(
            KEY,
            "high",
            0.85,
            f"The iteration '{title}' ran {count} rounds over {len(selector)} items that only repeat or "
            f"extend the {source[0]} items an earlier node produced: the list was multiplied on its way.",
            {"node": title, "rule": "iteration items multiply an earlier list's", "rounds": count,
             "items": len(selector), "produced": str(source[1])[:200], "received": str(selector)[:200]},
            where,
        )  # fmt: skip
    block = repeated_block(selector) if source is None and isinstance(selector, list) and count >= 4 else None
    served = (
        list(outside_list_repeated(trace, container, selector, block, count))
        if block is not None and isinstance(selector, list)
        else []
    )
    yield from served
    if not served and source is None and kind == "iteration" and len(rounds) >= 4:  # two records twice each at least
        # An outside source's records each given again in a row, or a model's list written again after itself.
        again = each_served_again(trace, container, rounds, selector) if block is None else None
        again = again or model_list_repeated(trace, container, rounds, selector)
        if again is not None:
            yield again
    asked = asked_size_overrun(trace, container, selector, count) if isinstance(selector, list) and count > 1 else None
    if asked is not None:
        node, parameter, size, returned = asked
        asker = attr(node, "dify.node.title", node.name)
        yield Finding(
            KEY, "high", 0.9,
            f"The iteration '{title}' ran {count} rounds over the results of '{asker}', which asked for "
            f"{parameter}={size} and got {returned}: the limit was ignored on the way.",
            {"node": title, "rule": "rounds > the size an earlier node asked for", "rounds": count, "asked_by": asker,
             "parameter": parameter, "asked": size, "returned": returned},
            where,
        )  # fmt: skip
    bound = _run_bound(trace) if count > 1 else None
    # A container whose own limit is the bound (or less) cannot overrun it: Dify stops it there.
    if bound is not None and count > bound[1] and not (isinstance(limit, int) and limit <= bound[1]):
        yield Finding(
            KEY,
            "high",
            0.85,
            f"The {kind} '{title}' ran {count} rounds, over the run's own limit '{bound[0]}' of {bound[1]}.",
            {"node": title, "rule": "rounds > the run input that bounds them", "rounds": count,
             "input": bound[0], "limit": bound[1]},
            where,
        )  # fmt: skip
    text = _split_text(selector) if isinstance(selector, list) and count >= _CHARACTER_ROUNDS else None
    if text is not None:
        yield Finding(
            KEY,
            "high",
            0.85,
            f"The iteration '{title}' ran {count} rounds over the characters of a text ({text[:40]!r}…): "
            "it was given a string where a list was meant; split it into items first.",
            {"node": title, "rule": "an iteration over single characters, separators among them",
             "rounds": count, "items": len(text), "text": text[:200]},
            where,
        )  # fmt: skip
    # A loop's rounds carry its state on: a stretch of identical ones is a stuck loop, unless it broke out at last (it
    # was waiting). An iteration's rounds are independent: only all of them alike say it is stuck.
    same = 0
    if len(rounds) >= cfg.identical_rounds and not (kind == "loop" and broke_out(container)):
        same = _stuck_loop(rounds) if kind == "loop" else len(rounds) * _identical(rounds)
    listed = selector if isinstance(selector, list) else None
    if same and kind == "iteration" and distinct_work(rounds, listed) and not echoes_first(rounds):
        same = 0  # different items alike in their results (one verdict for every pupil): independent jobs, done
    if same and kind == "iteration":
        # Over one item repeated, as the run's inputs or the app's own nodes gave it, each round does the same work
        # as asked: no lack of progress. A model's list of one item again and again is the model repeating itself.
        made_by = one_item_list(trace, container, listed, len(rounds))
        same = 0 if made_by is not None and made_by not in MODEL_NODES else same
    if same >= cfg.identical_rounds:
        yield Finding(
            KEY,
            "medium",
            0.85,
            f"{'All ' if same == len(rounds) else ''}{same} rounds{'' if same == len(rounds) else ' in a row'} "
            f"of the {kind} '{title}' did the same work (identical outputs, or the same results added again): it is "
            "not making progress.",
            {
                "node": title,
                "rule": f"rounds in a row (>= identical_rounds, {cfg.identical_rounds}) gave the same outputs",
                "rounds": len(rounds),
                "identical": same,
                "round_outputs": str(signature(rounds[0][1]))[:300],
            },
            where,
        )


def create(cfg: Config) -> object:
    def detect(trace: Trace) -> Iterator[Finding]:
        if not (trace.of_type("iteration") or trace.of_type("loop")):
            return  # most runs (one lookup each: asking for both types at once merges two lists)
        for container in containers(trace, "iteration", "loop"):
            found = list(_judge(trace, container, cfg))
            yield from found
            if attr(container, "dify.node.type") == "iteration":
                usual = _past_the_usual(trace, container, cfg, learn=not found)
                if usual is not None:
                    yield usual

    return detect


# Earlier runs' round counts kept per app and iteration: the last ones say what the app usually iterates over.
_HISTORY = 20
# Earlier runs (of the last `_HISTORY`) that ran the most rounds, for that most to be a cap the source keeps to; and
# how many times that cap a run must pass (held-out 4's long listings, labelled clean, ran 2.1-2.4 times theirs).
_CAP_RUNS = 3
_CAP_FACTOR = 3


def _past_the_usual(trace: Trace, container: ReadableSpan, cfg: Config, learn: bool) -> Finding | None:
    """The iteration ran more than `usual_factor` times the most rounds it ran in its app's last `_HISTORY` runs
    (those with rounds, none found running away), once `min_history` are known, and its results are a few results
    over and over in the same order (`a, b, c, a, b, c, …`): the same items came back again and again (a search
    ignoring its limit, a page fetched anew), where a larger job of the app's gives a result per item, in no cycle
    (and is learned as usual). Or it ran more than `usual_factor` times its usual (median) rounds and twice its
    most, over a list an outside source (an HTTP or tool node before it) answered: the source ignored what it was
    asked (a date filter, a limit), where a larger job comes from the run's inputs. Learns this run's count when
    `learn`."""
    count = attr(container, "dify.container.rounds")
    if not cfg.usual_factor or not isinstance(count, int) or count < 1:
        return None  # an empty list says nothing of the usual size
    key = f"{KEY}:rounds:{trace.app}:{attr(container, 'dify.node.id') or container.name}"
    past: list[int] = trace.baselines.get(key) or []
    most = max(past, default=0)
    found = None
    if len(past) >= cfg.min_history and count > cfg.usual_factor * most:
        results = _results(container)
        period = cycle(results) if len(results) == count else None
        if period is not None:
            title = attr(container, "dify.node.title", container.name)
            return Finding(
                KEY, "high", 0.85,
                f"The iteration '{title}' ran {count} rounds, over {cfg.usual_factor:g} times the most it ran in the "
                f"app's last {len(past)} runs ({most}), and its results are the same {period} over and over: the same "
                "items came back again and again.",
                {"node": title, "rule": "rounds > usual_factor x the app's most rounds, results repeating",
                 "rounds": count, "usual_most": most, "runs": len(past), "usual_factor": cfg.usual_factor,
                 "cycle": period, "results": str(results[: period + 1])[:300]},
                span_id(container),
            )  # fmt: skip
    usual = statistics.median(past) if len(past) >= cfg.min_history else 0
    # A most the app reached in several runs is a cap its source keeps to (a limit asked for, which Dify's export of
    # an HTTP node does not record): far past it, the source stopped keeping to it, however near the usual.
    capped = past.count(most) >= _CAP_RUNS and count > _CAP_FACTOR * most
    if usual and count > 2 * most and (count > cfg.usual_factor * usual or capped):
        # A list of exactly that many items an outside answer held, wherever the run's times put it (the export's
        # nested iterations).
        fetched = fetched_list(trace, container, count) or fetched_list(trace, container, count, count, anywhere=True)
        if fetched is not None and not kept_to_asked(*fetched):
            title, source = attr(container, "dify.node.title", container.name), fetched[0]
            source_title = attr(source, "dify.node.title", source.name)
            evidence = {"node": title, "rule": "rounds > usual_factor x the app's usual rounds, over an outside "
                        "answer's list", "rounds": count, "usual_rounds": usual, "usual_most": most, "runs": len(past),
                        "usual_factor": cfg.usual_factor, "source": source_title, "received": fetched[1]}  # fmt: skip
            past_what = f"over {cfg.usual_factor:g} times its usual {usual:g} (most {most})"
            if count <= cfg.usual_factor * usual:
                evidence["rule"] = "rounds > 3 x the most the app ran, a cap, over an outside answer's list"
                evidence["runs_at_most"] = past.count(most)
                past_what = f"over {_CAP_FACTOR} times the most, {most}, it ran in {past.count(most)} of"
            found = Finding(
                KEY, "high", 0.85,
                f"The iteration '{title}' ran {count} rounds over the {fetched[1]} items '{source_title}' answered, "
                f"{past_what} the app's last {len(past)} runs: the source gave far more than it was asked for.",
                evidence,
                span_id(container),
            )  # fmt: skip
    if learn and found is None:
        trace.baselines.put(key, [*past, count][-_HISTORY:])
    return found


def _results(container: ReadableSpan) -> list[Any]:
    """The list an iteration gave back (its `output`, one result per round); empty if none."""
    outputs = json_attr(container, "output.value")
    found = outputs.get("output") if isinstance(outputs, dict) else None
    return found if isinstance(found, list) else []


def _split_text(items: list[Any]) -> str | None:
    """The text an iteration's items spell, when every item is one character and some are spaces or
    punctuation: a string iterated where its parts were meant (a list of letters or 汉字 has no separators)."""
    if not all(isinstance(item, str) and len(item) == 1 for item in items):
        return None
    text = "".join(items)
    return text if any(not char.isalnum() for char in text) else None


def _run_bound(trace: Trace) -> tuple[str, int] | None:
    """The run input that bounds its containers' rounds (`max_attempts: 6`): its name and value."""
    inputs = json_attr(trace.root, "input.value") if trace.root is not None else None
    if not isinstance(inputs, dict):
        return None
    for name, value in inputs.items():
        if isinstance(value, int) and not isinstance(value, bool) and value > 0 and isinstance(name, str):
            words = {part.lower() for part in _NAME_PARTS.findall(name)}
            if words & _BOUND_WORDS and words & _ROUND_WORDS:
                return name, value
    return None


def _identical(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> bool:
    """Every round ran the same nodes with the same outputs (compared node by node: most differ at once)."""
    first_nodes = rounds[0][1]
    first: list[tuple[object, object, object]] = []  # the first round's states, as far as compared
    for _, nodes in rounds[1:]:
        if len(nodes) != len(first_nodes):
            return False
        for index, node in enumerate(nodes):
            if index == len(first):
                first.append(node_state(first_nodes[index]))
            if node_state(node) != first[index]:
                return False
    return bool(first_nodes)


def _stuck_loop(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]]) -> int:
    """The most rounds in a row of a loop that did the same work: identical, or, in a loop that accumulates what it
    fetched, the last rounds adding the same results again (the same page re-read every round, its rows multiplied:
    the rounds differ only by the copies they piled up). A counter moving alone is a poll's count, not work done."""
    same, appended = repeated_work(rounds)
    return max(identical_stretch(rounds)[0], same if appended else 0)

"""`state_corruption`'s iterations: items lost between the rounds and the output list, nulls for rounds that succeeded,
and answers counting the items without the round that failed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detectors import (
    Finding,
    Trace,
    attr,
    json_attr,
    node_error,
    numbers,
    prompt_text,
)
from detectors.corruption import BOOKKEEPING, WORD, all_given, finding, node_title
from detectors.rounds import containers, rounds_of
from detectors.tool_errors import MISSING_FIELD, TYPE_FAILURE
from detectors.values import empty


def items_lost(trace: Trace) -> Iterator[Finding]:
    for container in containers(trace, "iteration"):
        rounds = attr(container, "dify.container.rounds", 0)
        outputs = json_attr(container, "output.value")
        items = outputs.get("output") if isinstance(outputs, dict) else None
        if not isinstance(items, list):
            continue
        title = attr(container, "dify.node.title", container.name)
        if isinstance(rounds, int) and len(items) < rounds and len(items) < _rounds_succeeded(trace, container, rounds):
            yield finding(container, "iteration output items < rounds run",
                          f"The iteration '{title}' ran {rounds} rounds but its output holds {len(items)} items.",
                          f"{rounds} rounds", items)  # fmt: skip
        elif isinstance(rounds, int) and len(items) < rounds and (failed := _data_failure(trace, container)):
            yield finding(container, "iteration items dropped for rounds that failed reading their data",
                          f"The iteration '{title}' ran {rounds} rounds but its output holds {len(items)} items: "
                          f"'{node_title(failed)}' failed on its data ({node_error(failed).strip()[-80:]}) and the "
                          "round's item was dropped.", json_attr(failed, "input.value"), items)  # fmt: skip
        elif any(item is None for item in items):
            yield from _null_items(trace, container, title, items)
        if isinstance(rounds, int) and (told := _told_without_failed(trace, container, rounds, items)) is not None:
            yield told
        elif (silent := _dropped_silently(trace, container, items)) is not None:
            yield silent
        if (cut := _given_cut(trace, container)) is not None:
            yield cut


def _cut_of(given: list[Any], listed: list[Any]) -> str | None:
    """How `given` is a cut of `listed`: items dropped (fewer, each of them listed, in order), or each item cut
    short (as many, each a shorter start of its own)."""
    if len(given) < len(listed):
        rest = iter(listed)
        return "items dropped" if all(any(item == other for other in rest) for item in given) else None
    if len(given) == len(listed) and all(
        isinstance(item, str) and isinstance(other, str) and len(item) < len(other) and other.startswith(item)
        for item, other in zip(given, listed, strict=True)
    ):
        return "each item cut short"
    return None


def _given_cut(trace: Trace, container: Any) -> Finding | None:
    """An iteration given a list no node produced, a cut of one an earlier node produced (items dropped, or each
    cut short): Dify hands an iteration the variable its selector names as it is, so the list changed on the way."""
    given = json_attr(container, "input.value")
    given = given.get("iterator_selector") if isinstance(given, dict) else None
    if not isinstance(given, list):
        return None
    start, lists = container.start_time or 0, []
    for span in trace.nodes:
        if (span.end_time or 0) > start or attr(span, "dify.node.type") in ("iteration", "loop"):
            continue
        outputs = json_attr(span, "output.value")
        if isinstance(outputs, dict):
            # Dify's own lists (an HTTP answer's `files`) are no data a selector hands on.
            lists += [(span, name, value) for name, value in outputs.items()
                      if isinstance(value, list) and name not in BOOKKEEPING]  # fmt: skip
    if any(value == given for _, _, value in lists):
        return None
    for span, name, value in lists:
        if value and (how := _cut_of(given, value)) is not None:
            return finding(container, "an iteration given a cut of a list an earlier node produced",
                           f"The iteration '{node_title(container)}' was given {len(given)} items, {how}, of the "
                           f"{len(value)} '{node_title(span)}' produced as '{name}'.", {name: value[:5]},
                           given[:5])  # fmt: skip
    return None


# A count an answer states: a number on its own (not part of a time, a date, an amount with decimals).
_COUNTED = re.compile(r"(?<![\d.,:/])\d{1,3}(?![\d:/]|[.,]\d)")


def _told_without_failed(trace: Trace, container: Any, rounds: int, items: list[Any]) -> Finding | None:
    """An LLM after an iteration with a round that failed (its item dropped, or null by "continue on error"),
    given the items left (its prompt shows one) and answering with their count as the whole ("3 sailings") and
    never the rounds run: the failed round's item was lost from what the run told, not reported as missing."""
    left = [item for item in items if not empty(item)]
    if not left or len(left) >= rounds or _rounds_succeeded(trace, container, rounds) >= rounds:
        return None
    end, probe = container.end_time or 0, str(left[0])[:40]
    for span in trace.of_type("llm"):
        if (span.start_time or 0) < end or probe not in prompt_text(span):
            continue
        outputs = json_attr(span, "output.value")
        answer = outputs.get("text") if isinstance(outputs, dict) else None
        if not isinstance(answer, str):
            return None
        stated = {int(n) for n in _COUNTED.findall(answer)} | _number_words(answer)
        if len(left) in stated and rounds not in stated:
            return finding(span, "an answer counting an iteration's items without the round that failed",
                           f"'{node_title(span)}' answered with {len(left)} items as all there are, where the "
                           f"iteration '{node_title(container)}' ran {rounds} rounds and one failed.",
                           f"{rounds} rounds", answer)  # fmt: skip
        return _told_all_rounds(span, container, rounds, len(left), stated, answer)
    return None


# Where an item's name ends: the first mark after it (a bracket, colon, comma, semicolon, bar or dash, full-width
# ones too: `Cats - 3 posts`, a Chinese title before its full-width bracket).
_NAME_END = re.compile(r"\s*[(\[:,;|/\u2013\u2014\-\uff08\u3010\uff1a\uff0c\uff1b]")


def _name_of(item: Any) -> str | None:
    """An iteration item's name as an answer would write it: a text item's part before its first mark, two characters
    at least (a Chinese title), four for a text of spaced words."""
    if not isinstance(item, str):
        return None
    name = _NAME_END.split(item.strip(), maxsplit=1)[0].strip()
    return name if len(name) >= (4 if " " in name or name.isascii() else 2) else None


def _dropped_silently(trace: Trace, container: Any, items: list[Any]) -> Finding | None:
    """An iteration with a round that failed (its item null by "continue on error", or dropped) whose run answers
    with the names of the items of every round that succeeded, two at least, and none of the failed rounds': the
    failed round's item was lost from what the run told, neither done nor reported missing (a plan of three topics
    where four were given). Read from the iteration's own input list, so it holds in any language."""
    given = json_attr(container, "input.value")
    given = given.get("iterator_selector") if isinstance(given, dict) else _listed(trace, container)
    if not isinstance(given, list) or len(given) < 3:
        return None
    failed: set[int] = set()
    for round_span, nodes in rounds_of(trace, container):
        index = attr(round_span, "dify.round.index")
        if isinstance(index, int) and any(attr(n, "dify.node.status") in ("failed", "exception") for n in nodes):
            failed.add(index)
    if not failed or len(failed) * 2 >= len(given) or any(index >= len(given) for index in failed):
        return None
    outputs = json_attr(trace.root, "output.value") if trace.root is not None else None
    answer = "\n".join(text for text in outputs.values() if isinstance(text, str)) if isinstance(outputs, dict) else ""
    names = [_name_of(item) for item in given]
    if not answer or any(name is None for name in names):
        return None
    kept = [name for at, name in enumerate(names) if at not in failed]
    lost = [name for at, name in enumerate(names) if at in failed]
    if all(name and name in answer for name in kept) and not any(name and name in answer for name in lost):
        return finding(container, "an iteration's failed round's item missing from an answer naming every other item",
                       f"The run's answer names the {len(kept)} items of the rounds of '{node_title(container)}' that "
                       f"succeeded and not '{lost[0]}', whose round failed: the item was lost, not reported.",
                       lost, answer[:200])  # fmt: skip
    return None


def _listed(trace: Trace, container: Any) -> list[Any] | None:
    """Where the trace lacks an iteration's input (Dify's export): the last list an earlier node produced with as many
    items as the iteration ran rounds."""
    rounds, start, found = attr(container, "dify.container.rounds"), container.start_time or 0, None
    for span in trace.nodes:
        outputs = json_attr(span, "output.value") if (span.end_time or 0) <= start else None
        if isinstance(outputs, dict):
            found = next((value for name, value in outputs.items() if isinstance(value, list)
                          and len(value) == rounds and name not in BOOKKEEPING), found)  # fmt: skip
    return found


def _number_words(answer: str) -> set[int]:
    """The counts an answer states in words of three letters or more: a shorter one is as often another language's
    everyday word (Danish `to`, two, is English's `to`: "OK to approve" counts no two items)."""
    return {numbers.SMALL_WORDS[w] for w in WORD.findall(answer.lower()) if len(w) >= 3 and w in numbers.SMALL_WORDS}


def _told_all_rounds(
    span: Any, container: Any, rounds: int, left: int, stated: set[int], answer: str
) -> Finding | None:
    """An answer (`stated`: the counts it states) giving the rounds' count as its whole while `left` items reached it:
    neither their count nor the failed rounds' is told ("all 6 cows milked" with the yields of 4), so the failed
    rounds' items were passed off as there. The rounds' count in figures or a number word of three letters or more
    (`_number_words`)."""
    if left in stated or rounds - left in stated or rounds not in stated:
        return None
    if rounds in _number_words(answer) or rounds in {int(n) for n in _COUNTED.findall(answer)}:
        return finding(span, "an answer counting an iteration's rounds as all its items, the failed rounds' lost",
                       f"'{node_title(span)}' answered about {rounds} items as all there are, where the iteration "
                       f"'{node_title(container)}' ran {rounds} rounds, {rounds - left} failed, and gave it {left}.",
                       f"{left} items of {rounds} rounds", answer)  # fmt: skip
    return None


def _data_failure(trace: Trace, container: Any) -> Any:
    """A node of a round of `container` that failed on its data (a field its input lacks, a value of another type
    than it computes with: a price sent as text) while every input held a value: the round's item, dropped by
    Dify's "remove abnormal output", was lost to the data, not to an outage (a request that failed, retried)."""
    for _, nodes in rounds_of(trace, container):
        for node in nodes:
            if attr(node, "dify.node.status") not in ("failed", "exception"):
                continue
            error = node_error(node)
            if (MISSING_FIELD.search(error) or TYPE_FAILURE.search(error)) and all_given(node):
                return node
    return None


def _rounds_succeeded(trace: Trace, container: Any, rounds: int) -> int:
    """The rounds whose nodes all succeeded: a failed round's item is dropped by design (Dify's error handling
    "remove abnormal output"). `rounds` when the rounds were not recorded."""
    recorded = rounds_of(trace, container)
    if not recorded:
        return rounds
    return sum(all(attr(n, "dify.node.status") == "succeeded" for n in nodes) for _, nodes in recorded)


def _null_items(trace: Trace, container: Any, title: str, items: list[Any]) -> Iterator[Finding]:
    """An item null in the iteration's output whose round succeeded and produced a value: lost in between."""
    for round_span, nodes in rounds_of(trace, container):
        index = attr(round_span, "dify.round.index")
        if not isinstance(index, int) or index >= len(items) or items[index] is not None:
            continue
        if not nodes or any(attr(n, "dify.node.status") != "succeeded" for n in nodes):
            continue  # a failed round left a null on purpose (error strategy "continue on error")
        # An if-else's result routes the round; it is no variable the iteration can collect.
        valued = [n for n in nodes if attr(n, "dify.node.type") != "if-else"]
        if not valued:
            continue
        last = json_attr(valued[-1], "output.value")
        produced = next((v for v in last.values() if not empty(v)), None) if isinstance(last, dict) else None
        if produced is not None:
            yield finding(container, "an iteration output item null though its round produced a value",
                          f"Round {index} of the iteration '{title}' produced a value, but the iteration's "
                          "output holds null in its place.", produced, items)  # fmt: skip
            return

"""An outside source that served its items again, for `dify_iteration_escape`: an HTTP or tool node's list, iterated,
that repeats a block of items whole (`a, b, c, a, b, c`: a page read again and appended) or gives each record
several times in a row (`a, a, a, b, b, b`: every record served three times), so that the iteration works each
record again and again. A plan's steps repeated are the plan's own (no outside source answered them), and a list one
record long says nothing of how the source serves (one item over and over is judged by who gave it). Twice in a row
is served again only where each item is an id and every round fetched its record anew."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Finding, Trace, attr, span_id
from detectors.iteration_items import answered_lists, fetched_list
from detectors.rounds import signature

KEY = "dify_iteration_escape"
# Copies of a block, or of each record in a row, that say the source served the same again and again (two may be a
# schedule's weeks, or two tickets of a kind).
SERVED_AGAIN = 3
# Items read for a cycle: a longer list is judged by its first ones.
_CYCLE_READ = 200


def cycle(results: list[Any]) -> int | None:
    """The length of the shortest run of results that the list repeats, in order, twice or more (`a, b, c, a, b, c`:
    3), or None: labels or scores that recur in no order are no cycle."""
    head = results[:_CYCLE_READ]
    for length in range(1, len(head) // 2 + 1):
        if head[length:] == head[:-length]:
            return length
    return None


def repeated_block(items: list[Any]) -> int | None:
    """How many items the list repeats whole, in order, twice or more (`a, b, c, a, b, c`: 3), when those are two
    or more distinct items of more than one character; None otherwise. One item over and over, or letters, are
    the list's own."""
    block = cycle(items)
    if block is None or block < 2 or len(items) % block:
        return None
    head = items[:block]
    if any(isinstance(item, str) and len(item) <= 1 for item in head) or len({repr(item) for item in head}) < block:
        return None
    return block


def outside_list_repeated(
    trace: Trace, container: ReadableSpan, items: list[Any], block: int, rounds: int
) -> Iterator[Finding]:
    """The iteration's items, `block` items repeated whole in order, are an outside answer's list read again and
    appended to itself (an HTTP or tool node before it answered the block), or the outside answer itself, one entry
    per item, served the block `SERVED_AGAIN` times or more (a source ignoring its paging or limit)."""
    copies = len(items) // block
    fetched = fetched_list(trace, container, block, block)
    whole = fetched is None and copies >= SERVED_AGAIN
    if whole:
        fetched = fetched_list(trace, container, len(items), len(items))
    if fetched is None:
        return
    title = attr(container, "dify.node.title", container.name)
    fetcher = attr(fetched[0], "dify.node.title", fetched[0].name)
    if whole:
        summary = (f"The iteration '{title}' ran {rounds} rounds over the {len(items)} items '{fetcher}' "
                   f"answered: the same {block} items {copies} times in the same order, the source served them again "
                   "and again.")  # fmt: skip
        rule = "iteration items are an outside answer's own list of one block repeated whole in order"
    else:
        summary = (f"The iteration '{title}' ran {rounds} rounds over the {block} items '{fetcher}' answered, repeated "
                   f"{copies} times in the same order: the list was read again and appended to itself.")  # fmt: skip
        rule = "iteration items are an outside answer's list repeated whole in order"
    yield Finding(
        KEY, "high", 0.85, summary,
        {"node": title, "rule": rule, "rounds": rounds, "items": len(items), "repeated": block,
         "source": fetcher, "received": str(items[: block + 1])[:300]},
        span_id(container),
    )  # fmt: skip


def _each_repeated(items: list[Any], least: int = SERVED_AGAIN) -> int | None:
    """How many times in a row the list gives each of its items (`a, a, a, b, b, b`: 3), when that is `least` or
    more for every one of two distinct items or more; None otherwise."""
    times = 1
    while times < len(items) and items[times] == items[0]:
        times += 1
    if times < least or len(items) % times or len(items) == times or len(items) > _CYCLE_READ:
        return None
    heads = items[::times]
    if len({repr(head) for head in heads}) < len(heads):
        return None
    return times if all(item == heads[i // times] for i, item in enumerate(items)) else None


def each_served_again(
    trace: Trace, container: ReadableSpan, rounds: list[tuple[ReadableSpan, list[ReadableSpan]]], selector: Any
) -> Finding | None:
    """An iteration over an outside answer's list that gives each record `SERVED_AGAIN` times in a row or more, and
    whose rounds over the copies of a record did the same work with the same results: the source served every record
    again (a page's ids answered three times each), and the iteration counted each again. The list is the one the
    iteration received (the stream's `selector`) or, where Dify's export leaves it out, the outside answer's list of
    one item a round."""
    count = len(rounds)
    fetched = fetched_list(trace, container, count, count)
    if fetched is None:
        return None
    source, _ = fetched
    listed = selector if isinstance(selector, list) else _answered(source, count)
    # Twice each is served again where every round fetched its record anew (`GET /departure/S-1` twice): a list of
    # ids the source doubled. Two of a kind worked locally (two adult tickets) ask nothing twice of anyone.
    if listed is None or len(listed) != count:
        return None
    fetched_anew = all(_fetched(nodes) for _, nodes in rounds) and all(_identifier(item) for item in listed)
    if (times := _each_repeated(listed, 2 if fetched_anew else SERVED_AGAIN)) is None:
        return None
    states: dict[int, object] = {}
    for round_span, nodes in rounds:
        index = attr(round_span, "dify.round.index")
        if not isinstance(index, int) or not 0 <= index < count:
            return None
        states[index] = signature(nodes)
    if any(states.get(index) != states.get(index - index % times) for index in range(count)):
        return None  # the copies of a record came out differently: the rounds did more than repeat
    title, fetcher = attr(container, "dify.node.title", container.name), attr(source, "dify.node.title", source.name)
    return Finding(
        KEY, "high", 0.85,
        f"The iteration '{title}' ran {count} rounds over the items '{fetcher}' answered, each of its "
        f"{count // times} records {times} times in a row, every copy's round alike: the source served each record "
        "again and the iteration worked it again.",
        {"node": title, "rule": "iteration items are an outside answer's records each given again in a row, rounds "
         "alike", "rounds": count, "records": count // times, "times": times, "source": fetcher,
         "received": str(listed[: times + 1])[:300]},
        span_id(container),
    )  # fmt: skip


def _fetched(nodes: list[ReadableSpan]) -> bool:
    """Whether a round called an outside source (an HTTP or tool node) that answered."""
    return any(attr(node, "dify.node.type") in ("http-request", "tool") and attr(node, "dify.node.status") ==
               "succeeded" for node in nodes)  # fmt: skip


def _identifier(item: Any) -> bool:
    """Whether an item names a record: a number, or a short text with a digit in it (`S-1`, `A12`), not a word."""
    if isinstance(item, int) and not isinstance(item, bool):
        return True
    return isinstance(item, str) and len(item) <= 40 and any(char.isdigit() for char in item)


def _answered(source: ReadableSpan, count: int) -> list[Any] | None:
    """The outside node's list of `count` items (the one `fetched_list` found)."""
    return next((found for found in answered_lists(source) if len(found) == count), None)

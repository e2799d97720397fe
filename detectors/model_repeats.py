"""A model that wrote its list twice over, for `dify_iteration_escape`: an iteration over a list a model wrote (an
outline as JSON, parsed by a code node or not) that repeats a block of its items whole, in order (`a, b, c, d, a, b,
c, d`), so that the iteration writes every section again. The items must be records or texts (a field or two, a
title with its points), not short labels a plan may list twice (`Monday`, `lunch`); lists the run's inputs, the app's
code or an outside source gave are judged elsewhere (a source serving a page again: `served_again`)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Finding, Trace, attr, span_id
from detectors.iteration_items import MODEL_NODES, list_maker
from detectors.rounds import given
from detectors.served_again import repeated_block

KEY = "dify_iteration_escape"
# Rounds over a block written twice at least, of two items or more.
_LEAST_ROUNDS = 4
# The shortest text item that is a section rather than a label.
_TEXT_ITEM = 8


def _record(item: Any) -> bool:
    """An item that is a record: an object of two fields or more, or a text of `_TEXT_ITEM` characters or more."""
    return (isinstance(item, dict) and len(item) >= 2) or (isinstance(item, str) and len(item.strip()) >= _TEXT_ITEM)


def _worked_again(rounds: list[tuple[ReadableSpan, list[ReadableSpan]]], block: int) -> bool:
    """Each round after the first `block` was given what the round a block before was given (its first node's inputs
    and prompt): where Dify's export keeps no list, the rounds show the items repeating."""
    seen = [given(nodes[0]) if nodes else None for _, nodes in rounds]
    return all(seen[index] is not None and seen[index] == seen[index - block] for index in range(block, len(seen)))


def model_list_repeated(
    trace: Trace, container: ReadableSpan, rounds: list[tuple[ReadableSpan, list[ReadableSpan]]], selector: Any
) -> Finding | None:
    """The iteration ran one round per item of a list a model wrote, and that list repeats a block of records whole
    in order: the model wrote its list again after itself, and the iteration worked every item again. The list is
    the one the iteration received (the stream's `selector`) or, where the export leaves it out, the model's list of
    as many items as rounds ran, its rounds given the same again block after block."""
    count = len(rounds)
    if count < _LEAST_ROUNDS:
        return None
    listed = selector if isinstance(selector, list) else None
    if listed is not None and (len(listed) != count or repeated_block(listed) is None):
        return None  # the cheap test first: most lists repeat nothing
    made = list_maker(trace, container, listed, lambda found: len(found) == count and repeated_block(found) is not None)
    if made is None or made[0] not in MODEL_NODES:
        return None
    block = repeated_block(made[1])
    if block is None or not all(_record(item) for item in made[1][:block]):
        return None
    if listed is None and not _worked_again(rounds, block):
        return None
    title = attr(container, "dify.node.title", container.name)
    return Finding(
        KEY, "high", 0.85,
        f"The iteration '{title}' ran {count} rounds over a list a model wrote that repeats its {block} items "
        f"{count // block} times in the same order: the model wrote its list again, and every item was worked again.",
        {"node": title, "rule": "iteration items are a model's list repeated whole in order", "rounds": count,
         "items": count, "repeated": block, "written_by": made[0], "received": str(made[1][: block + 1])[:300]},
        span_id(container),
    )  # fmt: skip

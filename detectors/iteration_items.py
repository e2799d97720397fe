"""Where an iteration's items came from: value flow from the list a node (or the run's inputs) produced to the
list the iteration received. For `dify_iteration_escape` (more rounds than the producer gave items) and `loop`
(the same item worked again and again)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Trace, json_attr

# Items compared per iteration: a longer list is judged by its first ones (detection stays cheap).
_MAX_ITEMS = 200


def _lists(value: Any, depth: int = 0) -> list[list[Any]]:
    """The lists a node's outputs hold, top-level and one object down (a variable's attribute)."""
    if isinstance(value, list):
        return [value]
    if isinstance(value, dict) and depth < 2:
        return [found for item in value.values() for found in _lists(item, depth + 1)]
    return []


def _covers(source_item: Any, item: Any) -> bool:
    """`item` is `source_item`, or an object of two fields or more holding every field of it with the same
    value and one or two fields more (a field or two in common is what any records of a kind share)."""
    if item == source_item:
        return True
    return (
        isinstance(item, dict)
        and isinstance(source_item, dict)
        and 2 <= len(source_item) < len(item) <= len(source_item) + 2
        and all(item.get(key, ...) == value for key, value in source_item.items())
    )


def multiplied_from(trace: Trace, container: ReadableSpan, items: list[Any]) -> tuple[int, Any] | None:
    """The length and content of the shorter list, produced before the iteration by a node or the run's
    inputs, whose items the iteration's items only repeat or extend (`[a, b]` → `[a, a, a, b]`, or each item
    with a month added: `[a, b]` → `[a+1, a+2, …, b+12]`), while no earlier node produced the iteration's list
    itself: the list was multiplied on its way to the iteration. None otherwise."""
    if len(items) < 2:
        return None
    if len(items) <= _MAX_ITEMS and not any(isinstance(item, dict) for item in items):
        # Items are covered only by equal ones: a shorter list covers them only if some repeat.
        try:
            if len(set(items)) == len(items):
                return None
        except TypeError:  # lists among the items: compared below
            pass
    start = container.start_time or 0
    earlier = [node for node in trace.nodes if (node.start_time or 0) < start]
    sources = [*reversed(earlier), trace.root] if trace.root is not None else list(reversed(earlier))
    produced: list[list[Any]] = []
    for node in sources:  # nearest first: the node just before an iteration most often gave its list
        found = _lists(json_attr(node, "input.value" if node is trace.root else "output.value"))
        if any(each == items for each in found):
            return None  # the producer gave the iteration this very list
        produced += found
    head = items[:_MAX_ITEMS]
    for source in produced:
        if 0 < len(source) < len(items) and all(any(_covers(s, item) for s in source) for item in head):
            return len(source), source
    return None

"""Where an iteration's items came from: value flow from the list a node (or the run's inputs) produced to the
list the iteration received. For `dify_iteration_escape` (more rounds than the producer gave items) and `loop`
(the same item worked again and again)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Trace, attr, json_attr, json_value

# Items compared per iteration: a longer list is judged by its first ones (detection stays cheap).
_MAX_ITEMS = 200


# Request parameters that ask for at most so many results (`limit=3`, `top_k`, `max_results`, `per_page`), named
# lower-case without separators.
_SIZE_NAMES = frozenset({"limit", "topk", "topn", "maxresults", "maxitems", "maxhits", "maxcount", "pagesize",
                         "perpage", "numresults", "size", "count", "top", "first", "take", "n", "k"})  # fmt: skip
# A query parameter with a whole number in an HTTP request as Dify's HTTP node records it (`GET /search?q=bike
# lanes&limit=3 HTTP/1.1`): its name and digits.
_NUMBER_PARAMETER = re.compile(r"[?&]([^=&#\s]+)=(\d+)(?![^&#\s])")


def _size_asked(parameters: Any) -> tuple[str, int] | None:
    """The first parameter that asks for at most so many results, with its whole number."""
    pairs = parameters.items() if isinstance(parameters, dict) else parameters if isinstance(parameters, list) else ()
    for name, value in pairs:
        if isinstance(name, str) and name.lower().replace("_", "").replace("-", "") in _SIZE_NAMES:
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            if type(value) is int and value > 0:
                return name, value
    return None


def _asked(node: ReadableSpan) -> tuple[str, int] | None:
    """The size an HTTP or tool node asked an outside source for: a parameter of the HTTP request (the query or a
    JSON body) or of the tool's inputs (the app's own nodes give what they compute). The request is the one Dify
    records (`process_data.request`), else the URL among the node's inputs (where a recorder that keeps no request
    puts it: `{"url": ".../groups?limit=10"}`)."""
    inputs = json_attr(node, "input.value")
    if attr(node, "dify.node.type") == "tool":
        return _size_asked(inputs)
    process = json_attr(node, "dify.node.process_data")
    request = process.get("request") if isinstance(process, dict) else None
    if not isinstance(request, str):
        url = inputs.get("url") if isinstance(inputs, dict) else None
        if not isinstance(url, str):
            return None
        request = f"GET {url} HTTP/1.1"
    head, _, body = request.partition("\r\n\r\n")
    line = head.partition("\r\n")[0]
    asked = _size_asked(_NUMBER_PARAMETER.findall(line)) if "?" in line else None
    return asked or (_size_asked(json_value(body.strip())) if body.strip() else None)


def _decoded(value: Any) -> Any:
    """An output with its JSON texts read (an HTTP node's `body`)."""
    if isinstance(value, dict):
        return {k: json_value(v) if isinstance(v, str) and v[:1] in ("{", "[") else v for k, v in value.items()}
    return value


# A field's text shorter than this is no sign that an item was written from its record (`ok`, a currency code).
_FIELD_TEXT = 4


def _drawn_from(items: list[Any], source: list[Any]) -> bool:
    """The iteration's items came from `source`: one round per entry of it (each made into an item), or the first
    item is one of its entries, a field's value of one (an id), or a text written from one's text field (a code node
    making `name (year)` of each record)."""
    first = items[0]
    if len(items) == len(source):
        return True
    for entry in source:
        if first == entry:
            return True
        if isinstance(entry, dict):
            values = entry.values()
            if first in values or (
                isinstance(first, str)
                and any(isinstance(v, str) and len(v) >= _FIELD_TEXT and v in first for v in values)
            ):
                return True
    return False


def asked_size_overrun(
    trace: Trace, container: ReadableSpan, items: list[Any], rounds: int
) -> tuple[ReadableSpan, str, int, int] | None:
    """The node before the iteration that asked for at most N results (`limit=3` in its request) and returned a
    list longer than N, from which the iteration's items were drawn, while the iteration ran more than N rounds: the
    node, its parameter, N and how many it returned. None otherwise."""
    if not items:
        return None
    start = container.start_time or 0
    for node_type in ("http-request", "tool"):  # a type at a time: a lookup each, no merge of the two lists
        for node in reversed(trace.of_type(node_type)):  # nearest first
            if (node.start_time or 0) >= start:
                continue
            asked = _asked(node)
            if asked is None or rounds <= asked[1]:
                continue
            for found in answered_lists(node):
                if len(found) > asked[1] and _drawn_from(items, found):
                    return node, asked[0], asked[1], len(found)
    return None


def kept_to_asked(node: ReadableSpan, returned: int) -> bool:
    """The HTTP or tool `node` asked for at most so many results and returned no more (`returned`): a long list it
    gave is the size it was asked for, a larger job, not a source running away."""
    asked = _asked(node)
    return asked is not None and returned <= asked[1]


def _lists(value: Any, depth: int = 0) -> list[list[Any]]:
    """The lists a node's outputs hold, top-level and one object down (a variable's attribute)."""
    if isinstance(value, list):
        return [value]
    if isinstance(value, dict) and depth < 2:
        return [found for item in value.values() for found in _lists(item, depth + 1)]
    return []


def answered_lists(node: ReadableSpan) -> list[list[Any]]:
    """The lists a node answered, its JSON texts read (an HTTP node's `body`)."""
    return _lists(_decoded(json_attr(node, "output.value")))


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


def fetched_list(
    trace: Trace, container: ReadableSpan, least: int, most: int | None = None, anywhere: bool = False
) -> tuple[ReadableSpan, int] | None:
    """The HTTP or tool node before the iteration (not in a round of another container) whose answer holds a list
    of `least` items or more (up to `most`): where the iteration's items came from when an outside source gave them
    (not the run's inputs: a job as large as the user asked). The node and its list's length; None otherwise.
    `anywhere`: a node of the run at any time (Dify 1.14.1's export of an iteration nested in another times the
    inner one before the outer round whose HTTP node gave its list)."""
    start = math.inf if anywhere else container.start_time or 0
    for node_type in ("http-request", "tool"):  # a type at a time: a lookup each, no merge of the two lists
        for node in reversed(trace.of_type(node_type)):  # nearest first
            if (node.start_time or 0) >= start or attr(node, "dify.round.index") is not None:
                continue
            for found in answered_lists(node):
                if least <= len(found) <= (most or len(found)):
                    return node, len(found)
    return None


# Node types whose outputs a model wrote: a list in which one of them gives one item again and again is the model
# repeating itself, not a job asked for. Read in this order (a set's order changes from process to process).
MODEL_NODES = ("llm", "parameter-extractor", "agent")
# A Markdown code fence around a model's JSON text (```json … ```), as models often write it.
_FENCE = re.compile(r"^\s*```\w*\s*|\s*```\s*$")


def _written_lists(node: ReadableSpan) -> list[list[Any]]:
    """The lists a model node's outputs hold, its texts read as JSON (an outline written as `[{…}, …]`)."""
    outputs = json_attr(node, "output.value")
    if not isinstance(outputs, dict):
        return _lists(outputs)
    found: list[list[Any]] = []
    for value in outputs.values():
        text = _FENCE.sub("", value) if isinstance(value, str) and "```" in value[:12] else value
        if isinstance(text, str) and text.lstrip()[:1] in ("[", "{"):
            text = json_value(text.strip())
        found += _lists(text, 1)
    return found


def _model_wrote(trace: Trace, before: ReadableSpan, items: list[Any]) -> str | None:
    """The type of the model node that ran before `before` and wrote `items` (as JSON text or as its outputs): a
    code node that parses a model's text passes the model's list on, its repetitions with it. None if none did."""
    start = before.start_time or 0
    for node_type in MODEL_NODES:
        for node in trace.of_type(node_type):
            if (node.start_time or 0) < start and any(found == items for found in _written_lists(node)):
                return node_type
    return None


def list_maker(
    trace: Trace, container: ReadableSpan, items: list[Any] | None, fits: Callable[[list[Any]], bool]
) -> tuple[str, list[Any]] | None:
    """Who made the iteration's list, and the list: the nearest earlier node (or the run's inputs: `start`) whose
    outputs hold `items` (the list the iteration received, the stream's) or, where Dify's export leaves it out, a
    list that `fits` (of as many items as rounds ran). A node that only parsed a model's text (a code node reading
    its JSON) passes on the model's type. None when no earlier node gave the list."""
    start = container.start_time or 0
    earlier = [node for node in trace.nodes if (node.start_time or 0) < start]
    for node in [*reversed(earlier), *([trace.root] if trace.root is not None else [])]:
        for found in _lists(json_attr(node, "input.value" if node is trace.root else "output.value")):
            if found == items or (items is None and fits(found)):
                if node is trace.root:
                    return "start", found
                kind = str(attr(node, "dify.node.type"))
                return (kind if kind in MODEL_NODES else _model_wrote(trace, node, found) or kind), found
    return None


def one_item(items: list[Any], count: int) -> bool:
    """The list's first `count` items (it holds that many) are one item again and again; the first that differs
    ends the reading (most lists differ at once)."""
    if len(items) < count:
        return False
    first = repr(items[0])
    return all(repr(item) == first for item in items[1:count])


def one_item_list(trace: Trace, container: ReadableSpan, items: list[Any] | None, rounds: int) -> str | None:
    """The type of the node (`start` for the run's inputs, `""` when none is found) that made the iteration's list
    (`list_maker`), when that list holds one item `rounds` times (two or more); None when it does not. The list is the
    one the iteration received (`items`, the stream's) or, where the export leaves it out, an earlier node's list of
    `rounds` copies of one item: both ways in judge the same list."""
    if rounds < 2 or (items is not None and not one_item(items, rounds)):
        return None
    made = list_maker(trace, container, items, lambda found: len(found) == rounds and one_item(found, rounds))
    if made is not None:
        return made[0]
    return "" if items is not None else None

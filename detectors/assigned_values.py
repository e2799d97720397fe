"""`state_corruption`'s variable assigners: a value written empty, cut short, with fewer items or as text other than
its source node produced it."""

from __future__ import annotations

from typing import Any

from detectors import (
    Finding,
    attr,
    json_attr,
)
from detectors.corruption import finding, node_title
from detectors.values import empty


def _ran_last(nodes: list[Any], index: int, node_id: Any) -> Any:
    """The last node before `index` of `nodes` with that id (a node in a loop runs once a round)."""
    return next((node for node in reversed(nodes[:index]) if attr(node, "dify.node.id") == node_id), None)


def _assigned_change(given: Any, value: Any) -> str | None:
    """How a value an over-write assigner wrote differs from the `given` value it copies (it copies as is): the
    rule's words, none if it kept it."""
    if empty(value):
        return "a variable assigner wrote empty a value its source node produced filled"
    if isinstance(given, str) and isinstance(value, str):
        cut = given.startswith(value) and bool(given[len(value) :].strip())  # not a trailing space dropped
        return "a variable assigner wrote a strict beginning of its source node's text" if cut else None
    if isinstance(given, list) and isinstance(value, list) and len(value) < len(given):
        return "a variable assigner wrote fewer items than its source node produced"
    if isinstance(given, int | float) and not isinstance(given, bool) and isinstance(value, str):
        return "a variable assigner wrote its source node's number as text"
    return None


def assigned_changed(span: Any, nodes: list[Any], index: int) -> Finding | None:
    """A variable assigner (at `index` of `nodes`) that over-wrote a variable with another value (its process
    data: what it assigned) than the node's output it copies (its item's selector: `[node id, name]`) held in
    that node's last run: emptied, cut short, items lost, a number turned into text."""
    config, assigned = json_attr(span, "input.value"), json_attr(span, "dify.node.process_data")
    items = config.get("items") if isinstance(config, dict) else None
    if not isinstance(items, list) or not isinstance(assigned, dict):
        return None
    for item in items:
        if not isinstance(item, dict) or item.get("input_type") != "variable" or item.get("operation") != "over-write":
            continue
        target, selector = item.get("variable_selector"), item.get("value")
        if not (isinstance(target, list) and target and isinstance(selector, list) and len(selector) == 2):
            continue
        name = target[-1]
        if (
            not isinstance(name, str)
            or name not in assigned
            or (producer := _ran_last(nodes, index, selector[0])) is None
        ):
            continue
        value, produced = assigned[name], json_attr(producer, "output.value")
        given = produced.get(selector[1]) if isinstance(produced, dict) else None
        if given is None or empty(given) or value == given:
            continue
        if (rule := _assigned_change(given, value)) is not None:
            return finding(span, rule, f"'{node_title(span)}' set '{name}' to {str(value)[:40]!r} from '{selector[1]}' "
                           f"of '{node_title(producer)}', which produced {str(given)[:40]!r}.",
                           {selector[1]: given}, {name: value})  # fmt: skip
    return None

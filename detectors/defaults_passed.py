"""`state_corruption`'s handled failures: a failed node's default value (a code node's, a tool's or an HTTP request's)
passed on in place of its result."""

from __future__ import annotations

from typing import Any

from detectors import (
    Finding,
    Trace,
    attr,
    json_attr,
    node_error,
)
from detectors.corruption import BOOKKEEPING, all_given, finding, named_values, node_title
from detectors.emptied_outputs import history_key
from detectors.tool_errors import MISSING_FIELD, TYPE_FAILURE
from detectors.values import empty


def default_passed_on(span: Any, nodes: list[Any], index: int) -> Finding | None:
    """An HTTP request or tool (at `index` of `nodes`) whose error its default value hid (Dify's error strategy
    "default-value": the node ends as an exception, its outputs the defaults the app set) where a later node read a
    default as its input and gave one of its numbers (or an empty list's count, 0) as an output of its own (a number,
    or a text that is one: `"0"`): the default's figure (a fee of 0, no departures, a cover of 0) passed on as the
    answer the request never got. A default read into no figure (an "unknown" shown) is the app's fallback at work."""
    outputs = json_attr(span, "output.value")
    if attr(span, "dify.node.error_strategy") != "default-value" or not isinstance(outputs, dict):
        return None
    defaults = [value for name, value in outputs.items() if name not in BOOKKEEPING and not empty(value)]
    held = [value for default in defaults for _, value in named_values(default, "", [])]
    figures = {value for value in held if type(value) in (int, float)}
    if [] in held:
        figures.add(0)  # an empty list's length: counted, it tells "none" the request never said
    if not figures:
        return None
    for reader in nodes[index + 1 :]:
        inputs = json_attr(reader, "input.value")
        if attr(reader, "dify.node.status") != "succeeded" or not isinstance(inputs, dict):
            continue
        if not any(value in defaults for value in inputs.values()):
            continue
        given = json_attr(reader, "output.value")
        passed = next(((name, value) for name, value in given.items()
                       if _figure(value) in figures), None) if isinstance(given, dict) else None  # fmt: skip
        if passed is not None:
            error = node_error(span).strip().rpartition("\n")[2]
            return finding(reader, "a request's default value, its error hidden, passed on as data by a later node",
                           f"'{node_title(reader)}' gave {passed[0]} = {passed[1]!r} from the default value of "
                           f"'{node_title(span)}', whose request failed ({error[:80]}).", defaults[0],
                           {passed[0]: passed[1]})  # fmt: skip
    return None


def _figure(value: Any) -> float | None:
    """A node's output as a figure: a number, or a text that is one (`"0"`, `"0.0"`: a code node's `str(...)`)."""
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        return float(value)
    return None


def error_defaulted(trace: Trace, span: Any, min_history: int, answered_error: bool) -> Finding | None:
    """A code node whose error its default value hid (Dify's error strategy "default value": the run goes on
    with the node's default outputs and ends partial-succeeded, as after a retried request) where the error is
    a program's failing on its data (a field its input lacks, a value of another type) while every input held
    a value and every earlier run of the node (`min_history` at least) succeeded: the data changed under the
    code, and the defaults passed on stand in for a value. Learns that the node failed: a node failing at times
    (an unknown coupon, by design) is left alone."""
    key = history_key(trace, span)
    history: dict[str, Any] | None = trace.baselines.get(key)
    if history is None:
        return None  # no run of it succeeded yet: nothing to compare
    failures = history.get("failed", 0)
    history["failed"] = failures + 1
    trace.baselines.put(key, history)
    if failures or history["runs"] < min_history or answered_error:
        return None  # after an error status the node read no data: its failing is the request's
    if attr(span, "dify.node.error_strategy") != "default-value" or not all_given(span):
        return None
    error = node_error(span)
    if not (MISSING_FIELD.search(error) or TYPE_FAILURE.search(error)):
        return None  # a check the code makes on purpose (`ValueError: no valid coupon`) fails by design
    outputs = json_attr(span, "output.value")
    defaults = {k: v for k, v in outputs.items() if k not in BOOKKEEPING} if isinstance(outputs, dict) else {}
    last_line = error.strip().rpartition("\n")[2]
    return finding(span, "a code node's default value hid its error reading its input; every earlier run succeeded",
                   f"Code node '{node_title(span)}' failed ({last_line[:80]}) where its {history['runs']} earlier "
                   f"runs succeeded, and its default value passed on {str(defaults)[:80]} in place of its result.",
                   last_line, defaults)  # fmt: skip

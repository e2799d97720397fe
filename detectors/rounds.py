"""A container's rounds and the nodes each ran, for the detectors that judge iterations and loops.

Read from the node spans (a round's span carries its container's node type and `dify.round.index`) rather than
`Trace.children`: containers are few, and the children map costs a pass over every span and a sort per parent.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan

from detectors import Trace, attr, span_id


def rounds_of(trace: Trace, container: ReadableSpan) -> list[tuple[ReadableSpan, list[ReadableSpan]]]:
    """`container`'s round spans in start order, each with the nodes it ran in start order."""
    container_id = span_id(container)
    found: dict[int, tuple[ReadableSpan, list[ReadableSpan]]] = {}
    for span in trace.of_type(str(attr(container, "dify.node.type"))):
        parent = span.parent
        if parent is not None and parent.span_id == container_id and attr(span, "dify.round.index") is not None:
            found[span_id(span)] = (span, [])
    if found:
        for node in trace.nodes:
            parent = node.parent
            if parent is not None and (entry := found.get(parent.span_id)) is not None:
                entry[1].append(node)
    return list(found.values())

"""An iteration inside an iteration, rebuilt both ways in from the eighth real recording (testdata/dify-1.14.1-faults8/,
README.md: the evening-school app `d_aftenskole`, Iteration "Hold" over courses → HTTP "Holdplan", code "Læs hold",
Iteration "Lektioner" over the course's lessons → template "Linje").

What Dify 1.14.1 sends for it, read from the recordings (not from Dify's source):
- Its stream. The inner iteration's `iteration_started`, `iteration_next` and `iteration_completed` carry `id` =
  `node_id` = its graph id (`iterZ`), the same in every outer round, and nothing naming the outer one: no
  `iteration_id`, no `parallel_*`, no execution metadata. They come between the outer round's nodes, after the outer
  one's `iteration_next`. The nodes of the inner rounds carry the OUTER iteration's id (`iteration_id` and
  `execution_metadata.iteration_id` both `iterY`) with the INNER round's index (`execution_metadata.iteration_index`).
  So only the order of the events tells which run of the inner iteration, and which of its rounds, a node ran in.
  An iteration over an empty list sends no event at all (an outer round with no lessons has no inner iteration;
  a department with no courses has no outer one). Times are whole seconds: an inner node's `created_at` can be a
  second before its inner iteration's.
- Dify's export (Arize Phoenix provider). One span per execution. Each run of the inner iteration is a span of its
  own (its own execution id in `metadata.node_id`) whose metadata names the outer iteration and round
  (`iteration_id` `iterY`, `iteration_index`). The inner rounds' nodes name the inner iteration and its round (`iterZ`,
  index): right, but they are parented to the workflow span. The outer iteration's span names no graph id (it is read
  from its children). Times are in milliseconds. An inner iteration over an empty list is exported: a span of no
  duration, with no round.

Rebuilt both ways: the outer iteration, one round span per outer round, in each round that ran lessons one inner
iteration span (its title, graph id and rounds its own), its rounds holding their nodes, times nested and in order.
What the stream cannot give: the inner iteration of a round with no lessons (the export has it, with no round).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.export import recognize
from bridge.trace.spans import build_spans
from tests.dify_recordings import recorded_spans
from tests.runs import TESTS, events_of, load_run

RECORDED = TESTS / "testdata" / "dify-1.14.1-faults8"
RUNS = sorted(path.stem for path in RECORDED.glob("aftenskole_*.sse"))


def _export(name: str) -> list[ReadableSpan]:
    recognized = recognize(recorded_spans(name, (RECORDED,)), "otlp")
    assert recognized is not None
    return build_spans(recognized.run)


WAYS_IN: dict[str, Callable[[str], list[ReadableSpan]]] = {
    "stream": lambda name: build_spans(load_run(RECORDED / f"{name}.sse")),
    "export": _export,
}


class Tree:
    def __init__(self, spans: list[ReadableSpan]) -> None:
        self.spans = spans
        self.by_id = {s.context.span_id: s for s in spans if s.context is not None}
        self.children: dict[int | None, list[ReadableSpan]] = {}
        for span in sorted(spans, key=lambda s: s.start_time or 0):
            self.children.setdefault(span.parent.span_id if span.parent else None, []).append(span)

    def kids(self, span: ReadableSpan) -> list[ReadableSpan]:
        assert span.context is not None
        return self.children.get(span.context.span_id, [])

    def titled(self, title: str) -> list[ReadableSpan]:
        return [s for s in self.spans if (s.attributes or {}).get("dify.node.title") == title]

    def parent(self, span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None
        return self.by_id[span.parent.span_id]

    def path(self, span: ReadableSpan) -> str:
        """Titles and round indexes from the root's child down to the span."""
        steps = []
        while span.parent is not None:
            attributes = span.attributes or {}
            index = attributes.get("dify.round.index")
            steps.append(f"[{index}]" if index is not None else str(attributes.get("dify.node.title")))
            span = self.parent(span)
        return "/".join(reversed(steps))


def _rounds(tree: Tree, container: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in tree.kids(container) if (s.attributes or {}).get("dify.round.index") is not None]


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_the_inner_iteration_runs_inside_each_outer_round(way_in: str) -> None:
    """`aftenskole_clean_1`: three courses of 2, 1 and 2 lessons."""
    tree = Tree(WAYS_IN[way_in]("aftenskole_clean_1"))
    root = tree.children[None][0]
    (outer,) = tree.titled("Hold")
    assert tree.parent(outer) is root
    assert (outer.attributes or {})["dify.node.id"] == "iterY"
    assert (outer.attributes or {})["dify.container.rounds"] == 3
    outer_rounds = _rounds(tree, outer)
    assert [(r.attributes or {})["dify.round.index"] for r in outer_rounds] == [0, 1, 2]
    inner = tree.titled("Lektioner")
    assert len(inner) == 3
    assert [tree.parent(i) for i in inner] == outer_rounds  # one inner iteration a round, in round order
    assert {(i.attributes or {})["dify.node.id"] for i in inner} == {"iterZ"}
    assert [(i.attributes or {})["dify.container.rounds"] for i in inner] == [2, 1, 2]
    for container in inner:
        for inner_round in _rounds(tree, container):
            assert [(s.attributes or {}).get("dify.node.title") for s in tree.kids(inner_round)] == ["Linje"]
    assert all(tree.parent(tree.parent(line)) in inner for line in tree.titled("Linje"))
    for title in ("Holdplan", "Læs hold"):
        assert [tree.parent(s) for s in tree.titled(title)] == outer_rounds
    # Times: every span within its parent, the outer rounds and the inner iterations one after another.
    for span in tree.spans:
        if span.parent is not None:
            above = tree.parent(span)
            assert (above.start_time or 0) <= (span.start_time or 0) <= (span.end_time or 0) <= (above.end_time or 0)
    for spans in (outer_rounds, inner):
        assert all((a.end_time or 0) <= (b.start_time or 0) for a, b in pairwise(spans))


@pytest.mark.parametrize("name", RUNS)
def test_both_ways_in_give_the_same_tree(name: str) -> None:
    """The same spans at the same places, but the inner (or outer) iteration over an empty list, which only the
    export has: the stream sends nothing for it."""
    trees = {way_in: Tree(read(name)) for way_in, read in WAYS_IN.items()}
    paths = {way_in: sorted(tree.path(s) for s in tree.spans if s.parent) for way_in, tree in trees.items()}
    empty = {
        trees["export"].path(s) for s in trees["export"].spans if (s.attributes or {}).get("dify.container.rounds") == 0
    }
    assert paths["stream"] == sorted(set(paths["export"]) - empty)
    assert len(paths["stream"]) == len(paths["export"]) - len(empty)


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_the_outer_iteration_counts_its_own_rounds(way_in: str) -> None:
    """`aftenskole_flood`: two courses, the first with 29 lessons. The outer iteration ran 2 rounds (Dify 1.14.1's
    stream names the 29 inner rounds' nodes with the outer one's id), the inner one 29 in the first."""
    tree = Tree(WAYS_IN[way_in]("aftenskole_flood"))
    (outer,) = tree.titled("Hold")
    assert (outer.attributes or {})["dify.container.rounds"] == len(_rounds(tree, outer)) == 2
    first = [s for s in tree.titled("Lektioner") if (s.attributes or {})["dify.container.rounds"]]
    assert [(s.attributes or {})["dify.container.rounds"] for s in first] == [29]
    assert tree.path(first[0]) == "Hold/[0]/Lektioner"
    assert len(tree.titled("Linje")) == 29


def test_events_sent_twice_in_a_row_give_the_same_tree() -> None:
    """A client re-sending each event at once: a run of the inner iteration is told from another by its start
    coming after the last one completed, not by a repeated copy of the same start."""
    events = events_of(RECORDED / "aftenskole_clean_1.sse")
    assembler = RunAssembler()
    for event in events:
        for _ in range(2):
            assembler.add(event, 0.0, context="test")
    (run,) = assembler.drain()
    twice, once = Tree(build_spans(run)), Tree(WAYS_IN["stream"]("aftenskole_clean_1"))
    assert sorted(twice.path(s) for s in twice.spans) == sorted(once.path(s) for s in once.spans)


def test_the_recording_is_there() -> None:
    assert len(RUNS) == 10 and all(Path(RECORDED / f"{name}.otlp.jsonl").exists() for name in RUNS)

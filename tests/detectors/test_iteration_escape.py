from __future__ import annotations

from typing import Any

from tests.detectors.build import findings
from tests.detectors.corpus import container_run


def _container_run(
    kind: str,
    rounds: int,
    outputs: list[str] | None = None,
    items: int | None = None,
    limit: int | None = None,
    reason: str | None = None,
) -> list[Any]:
    outputs = outputs or [f"result {i}" for i in range(rounds)]
    return container_run(kind, rounds, outputs, rounds if items is None else items, limit or rounds, reason)


def test_more_rounds_than_the_limit() -> None:
    (finding,) = findings(_container_run("iteration", 12), "dify_iteration_escape", max_rounds=10)
    assert finding.severity == "high" and "12 rounds, over the limit of 10" in finding.summary


def test_more_rounds_than_items() -> None:
    (finding,) = findings(_container_run("iteration", 5, items=3), "dify_iteration_escape")
    assert "5 rounds over a list of 3 items" in finding.summary


def test_loop_without_break() -> None:
    (finding,) = findings(_container_run("loop", 4, limit=4, reason="max_rounds"), "dify_iteration_escape")
    assert "without reaching its break condition" in finding.summary


def test_identical_rounds() -> None:
    spans = _container_run("loop", 4, outputs=["same"] * 4, limit=10, reason="loop_break")
    (finding,) = findings(spans, "dify_iteration_escape")
    assert "identical outputs" in finding.summary


def test_long_progressing_batches_within_limits_are_fine() -> None:
    assert findings(_container_run("iteration", 99), "dify_iteration_escape") == []
    assert findings(_container_run("loop", 6, limit=10, reason="loop_break"), "dify_iteration_escape") == []
    assert findings(_container_run("loop", 2, outputs=["same"] * 2, limit=10), "dify_iteration_escape") == []


def test_an_iteration_over_one_repeated_item_is_no_stuck_container() -> None:
    repeated = container_run("iteration", 4, ["label: hub Berlin"] * 4, 4, 4, None, item="Berlin")
    assert findings(repeated, "dify_iteration_escape") == []  # the same work each round
    distinct = container_run("iteration", 4, ["label: hub Berlin"] * 4, 4, 4, None)
    assert len(findings(distinct, "dify_iteration_escape")) == 1  # four items, one output: items ignored


def test_an_iteration_over_the_characters_of_a_text() -> None:
    letters = list("Einleitung; Hauptteil; Schluss")
    spans = container_run(
        "iteration", len(letters), [f"{c}..." for c in letters], len(letters), 50, None, selector=letters
    )
    (finding,) = findings(spans, "dify_iteration_escape")
    assert finding.evidence["text"] == "Einleitung; Hauptteil; Schluss" and finding.evidence["rounds"] == 30
    for meant in (list("ABCDEFGHIJKL"), list("春眠不觉晓处处闻啼鸟"), ["intro", "body", "end"] * 4):
        spans = container_run("iteration", len(meant), [f"{i}" for i in range(len(meant))], len(meant), 50, None,
                              selector=meant)  # fmt: skip
        assert findings(spans, "dify_iteration_escape") == [], meant

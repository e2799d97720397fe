"""Held-out corpus 9's own checks: its runs keep the shapes of the real recordings they were mutated from, its
languages and apps, its docstring's counts. Never what the detectors find on it (test_heldout_structure.py has
the checks every held-out corpus shares)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import cache
from typing import Any

from tests.detectors import heldout9
from tests.detectors.heldout9_writer import RECORDINGS

Shape = dict[str, type]


@cache
def runs() -> tuple[heldout9.Written, ...]:
    return tuple(heldout9.written())


def events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def shape(obj: dict[str, Any]) -> Shape:
    return {key: type(value) for key, value in obj.items()}


def kind_of(event: dict[str, Any]) -> tuple[str, str | None]:
    return event["event"], (event.get("data") or {}).get("node_type")


@cache
def recorded_shapes() -> dict[tuple[str, str | None], list[tuple[Shape, Shape]]]:
    """(event, node type) → the (envelope, data) shapes of every such event in the real recordings."""
    table: dict[tuple[str, str | None], list[tuple[Shape, Shape]]] = defaultdict(list)
    for folder in RECORDINGS.values():
        for path in folder.glob("*.sse"):
            for event in events(path.read_text(encoding="utf-8")):
                table[kind_of(event)].append((shape(event), shape(event.get("data") or {})))
    return table


def matches(written: Shape, recorded: Shape) -> bool:
    none = type(None)
    return written.keys() == recorded.keys() and all(
        written[k] == recorded[k] or none in (written[k], recorded[k]) for k in written
    )


def test_every_event_has_the_keys_and_value_types_of_a_recorded_event_of_its_kind() -> None:
    table = recorded_shapes()
    checked = 0
    for job in runs()[::5]:
        assert job.run is not None
        for event in events(job.run.text):
            envelope, data = shape(event), shape(event.get("data") or {})
            candidates = table[kind_of(event)]
            assert candidates, f"{job.name}: no recorded {kind_of(event)}"
            assert any(matches(envelope, e) and matches(data, d) for e, d in candidates), (job.name, event)
            checked += 1
    assert checked > 5_000


def test_usage_and_prices_are_written_as_dify_writes_them() -> None:
    decimal = re.compile(r"^(0|[1-9]\d*)(\.\d+)?$|^\dE-\d+$")
    for job in runs()[::9]:
        assert job.run is not None
        for event in events(job.run.text):
            usage = ((event.get("data") or {}).get("process_data") or {}).get("usage")
            if usage and usage["prompt_unit_price"] != "0.0":
                assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
                for key in ("prompt_price", "completion_price", "total_price"):
                    assert decimal.match(usage[key]), (job.name, usage[key])


def test_an_iteration_runs_over_the_values_of_a_list() -> None:
    for job in runs():
        assert job.run is not None
        for event in events(job.run.text):
            if event["event"] == "iteration_started":
                items = event["data"]["inputs"]["iterator_selector"]
                assert isinstance(items, list)
                assert items[:1] != ["code"], job.name  # never a variable selector


def test_the_ten_languages_are_spoken() -> None:
    text = "\n".join(job.run.text for job in runs() if job.run is not None)
    markers = {
        "Japanese": "ワクチン", "Arabic": "الرسوم", "Dutch": "uw installatie", "Italian": "Partenza",
        "Thai": "ขอบคุณ", "Spanish": "¿Cuánto", "German": "Ihre Anlage", "French": "Départ à",
        "Chinese": "游戏", "English": "Thanks for reaching out",
    }  # fmt: skip
    assert [name for name, marker in markers.items() if marker not in text] == []


def test_every_fault_spans_two_apps_or_more_and_every_app_has_four_kinds() -> None:
    apps: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, set[str]] = defaultdict(set)
    for job in runs():
        for key in job.expected:
            apps[key].add(job.app)
            kinds[job.app].add(key)
    assert min(len(a) for a in apps.values()) >= 2, apps
    assert min(len(k) for k in kinds.values()) >= 4, kinds


def test_the_docstring_counts_are_the_corpus() -> None:
    assert heldout9.__doc__ is not None
    assert f"{heldout9.RUNS:,} runs" in heldout9.__doc__.splitlines()[0]
    assert heldout9.HARD_NEGATIVE_RUNS > 200
    assert f"{heldout9.HARD_NEGATIVE_RUNS} hard negatives" in " ".join(heldout9.__doc__.split())
    faulty = heldout9.RUNS - heldout9.CLEAN_RUNS
    assert f"{faulty} runs are faulty" in " ".join(heldout9.__doc__.split())

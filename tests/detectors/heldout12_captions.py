# ruff: noqa: RUF001 - texts in Georgian, Persian, Hebrew, Russian, Armenian, Japanese and Chinese stay whole
"""Held-out corpus 12's `tangaran`: an Armenian history museum's hall captions, re-skinned from a recorded digest run
(HTTP list → code → iteration of one LLM caption per item → end)."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.detectors.heldout12_chat import MODEL, switched_model
from tests.detectors.heldout12_labels import Rules
from tests.detectors.heldout12_replay import (
    Event,
    finished,
    load,
    reprice,
    retitle,
    retried,
    rounds,
    set_answer,
    set_llm,
)

RECORDING = "dify-1.14.1-faults/digest_clean_1.sse"
SYSTEM = "Դու գրում ես մեկ նախադասությամբ մակագրություն Երևանի պատմության թանգարանի ցուցանմուշի համար։"
EXHIBITS = (
    ("Էջմիածնի ավետարանի պատճեն", 989), ("Մինաս Ավետիսյանի «Ջաջուռ» կտավը", 1960),
    ("Սարդարապատի հուշահամալիրի մանրակերտ", 1968), ("Էրեբունիի սեպագիր արձանագրություն", 782),
    ("Թորոս Ռոսլինի մանրանկար", 1262), ("Մարտիրոս Սարյանի «Արարատ» կտավը", 1923),
    ("Այվազովսկու «Ծովը Կոկտեբելում» կտավը", 1880), ("Կարմիր բլուրի կարաս", 700),
    ("Նարեկացու մատյանի ձեռագիր", 1173), ("Գոշավանքի ասեղնագործ խաչքար", 1291),
    ("Երևանի հին լուսանկարների ալբոմ", 1910), ("Կոմիտասի նոտագրությունների տետր", 1912),
    ("Արտաշատի պղնձե դրամ", 95), ("Վանի թագավորության բրոնզե գոտի", 750),
)  # fmt: skip
RULES_VOCABULARY = ("թանգարան", "ցուցադր", "սրահ", "ցուցանմուշ", "հավաքածու")


def _body(events: list[Event]) -> Any:
    (http,) = finished(events, "http")
    return json.loads(http["outputs"]["body"]) if http["status"] == "succeeded" else None


def _mismatched(events: list[Event]) -> bool:
    """The list's reader declares `exhibits`, each with a `name` and a `year`."""
    body = _body(events)
    if body is None:
        return False
    items = body.get("exhibits") if isinstance(body, dict) else None
    return not isinstance(items, list) or any(not {"name", "year"} <= set(item) for item in items)


def _corrupted(events: list[Event]) -> bool:
    """What the code node produced is not what the iteration iterated, nor the captions what the run returned."""
    (code,) = finished(events, "code")
    started = next(e["data"] for e in events if e.get("event") == "iteration_started")
    done = next(e["data"] for e in events if e.get("event") == "iteration_completed")
    prompts = [str(d["process_data"]["prompts"][-1]["text"]) for d in finished(events, "llmI")]
    items = started["inputs"]["iterator_selector"]
    return (
        code["outputs"]["exhibits"] != items
        or any(not prompt.endswith(str(item)) for prompt, item in zip(prompts, items, strict=False))
        or finished(events, "end")[0]["outputs"]["lines"] != done["outputs"]["output"]
    )


RULES = Rules(
    vocabulary=RULES_VOCABULARY, checks={"dify_tool_schema_mismatch": _mismatched, "state_corruption": _corrupted}
)


def _run(
    hall: int, limit: int, body: dict[str, Any], items: list[str], iterated: list[str], captions: list[str]
) -> list[Event]:
    events = load(RECORDING)
    retitle(
        events,
        "tangaran-curator",
        {"http": "Ցուցանմուշների API", "code": "Կարդալ ցանկը", "iter": "Մակագրություններ", "llmI": "Մակագրող"},
    )
    (http,) = finished(events, "http")
    text = json.dumps(body, ensure_ascii=False)
    http["process_data"]["request"] = (
        f"GET /exhibits?hall={hall}&limit={limit} HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n\r\n"
    )
    http["outputs"]["body"] = text
    http["outputs"]["headers"]["content-length"] = str(len(text.encode()))
    (code,) = finished(events, "code")
    code["inputs"] = {"body": text}
    code["outputs"] = {"exhibits": items}

    def caption(i: int, block: list[Event]) -> None:
        for e in block:
            if e["event"] == "node_finished":
                set_llm(e["data"], [SYSTEM, f"Սրահ {hall}, ցուցանմուշ: {iterated[i]}"], captions[i], MODEL)

    rounds(events, "iter", len(iterated), caption)
    for e in events:
        if e.get("event") == "iteration_started":
            e["data"].update(metadata={"iteration_length": len(iterated)}, inputs={"iterator_selector": iterated})
        if e.get("event") == "iteration_completed":
            e["data"].update(outputs={"output": captions}, inputs={"iterator_selector": iterated})
    set_answer(events, "\n".join(captions), {"lines": captions})
    return events


def _caption(item: str, hall: int, rng: random.Random) -> str:
    name, year = item.rsplit(" (", 1)
    return rng.choice(
        (
            f"{name} ({year[:-1]} թ.) ցուցադրվում է թանգարանի {hall}-րդ սրահում։",
            f"{hall}-րդ սրահի ցուցանմուշը՝ {name}, թվագրվում է {year[:-1]} թվականով։",
            f"{name}-ը, {year[:-1]} թ., մեր հավաքածուի զարդերից է։",
        )
    )


def turn(rng: random.Random, kind: str) -> tuple[list[Event], frozenset[str]]:
    """One run of `tangaran`: `kind` is clean, warmup, hn:<variant> or a fault."""
    hall, limit = rng.randint(1, 9), 6
    count = rng.randint(2, 6)
    if kind == "hn:dify_iteration_escape.big_hall":
        limit, count = 40, rng.randint(18, 34)
    elif kind == "hn:dify_tool_schema_mismatch.empty_hall":
        count = 0
    elif kind == "dify_iteration_escape.flood":
        count = rng.randint(12, 48)
    elif kind == "dify_iteration_escape.duplicated":
        count = rng.randint(4, 6)
    first = rng.randrange(len(EXHIBITS))
    chosen = [EXHIBITS[(first + i) % len(EXHIBITS)] for i in range(count)]
    # a hall longer than the catalogue shows its copies, numbered
    records: list[dict[str, Any]] = [
        {"name": n if i < len(EXHIBITS) else f"{n} №{i // len(EXHIBITS) + 1}", "year": y}
        for i, (n, y) in enumerate(chosen)
    ]
    if kind == "hn:dify_tool_schema_mismatch.added_field":
        records = [{**r, "room": f"{hall}{chr(65 + i % 4)}", "on_loan": False} for i, r in enumerate(records)]
    items = [f"{r['name']} ({r['year']})" for r in records]
    body: dict[str, Any] = {"hall": hall, "exhibits": records}
    if kind == "dify_tool_schema_mismatch.renamed_list":
        body, items = {"hall": hall, "items": records, "api_version": "2"}, []
    elif kind == "dify_tool_schema_mismatch.renamed_fields":
        body = {"hall": hall, "exhibits": [{"title": r["name"], "date": r["year"]} for r in records]}
        items = ["None (None)"] * len(records)
    if kind == "dify_iteration_escape.duplicated":  # a code-node edit appends the list to itself
        items = items * rng.randint(2, 5)
    iterated = list(items)
    if kind == "state_corruption.lost_items":
        iterated = items[: rng.randint(0, max(0, len(items) - 1))]
    elif kind == "state_corruption.truncated":
        iterated = [item[: rng.randint(5, 12)] for item in items]
    if "renamed_fields" in kind:
        captions = ["Ցուցանմուշի անվանումը բացակայում է թանգարանի տվյալներում։"] * len(iterated)
    elif kind == "state_corruption.truncated":
        captions = [f"{item}… ցուցանմուշը ցուցադրվում է {hall}-րդ սրահում։" for item in iterated]
    else:
        captions = [_caption(item, hall, rng) for item in iterated]
    if kind == "hallucination.year" and captions:
        i = rng.randrange(len(captions))
        name, year = iterated[i].rsplit(" (", 1)
        known = {y for _, y in EXHIBITS}
        invented = next(y for y in (int(year[:-1]) + rng.randint(3, 60) for _ in range(99)) if y not in known)
        captions[i] = f"{name} ({invented} թ.) ցուցադրվում է թանգարանի {hall}-րդ սրահում։"
    events = _run(hall, limit, body, items, iterated, captions)
    if kind == "state_corruption.emptied_lines":
        done = next(e["data"] for e in events if e.get("event") == "iteration_completed")
        set_answer(events, "", {"lines": []})
        done["outputs"] = {"output": captions}
    llms = finished(events, "llmI")
    if kind == "hn:loop.retry_recovered":
        retried(events, "http", "HTTP 503 Service Unavailable from http://127.0.0.1:8765/exhibits", rng.randint(1, 2))
    elif model := switched_model(kind, rng):
        for data in llms:
            reprice(data, model)
    elif kind == "cost.stuffed":  # the whole catalogue pasted into every round's prompt
        for data in llms:
            reprice(data, prompt_tokens=rng.randint(30_000, 60_000))
    return events, frozenset()

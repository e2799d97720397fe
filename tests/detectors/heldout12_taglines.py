# ruff: noqa: RUF001, E501 - texts in Georgian, Persian, Hebrew, Russian, Armenian, Japanese and Chinese stay whole
"""Held-out corpus 12's `midashi`: a Japanese and Chinese craft shop's tagline polisher, re-skinned from a recorded
refine run (a loop of at most 6 rounds: LLM scores and rewrites → code parses → assigner keeps the best)."""

from __future__ import annotations

import random

from tests.detectors.heldout12_chat import MODEL, switched_model
from tests.detectors.heldout12_labels import Rules
from tests.detectors.heldout12_replay import Event, finished, load, reprice, retitle, rounds, set_answer, set_llm

RECORDING = "dify-1.14.1-faults2/refine_clean_1.sse"
LOOP_COUNT = 6
SYSTEM = (
    "あなたは工芸品店のキャッチコピー編集者です。最新版を0〜10で採点し、改善してください。"
    "SCORE: <n> と TEXT: <改善版> で答えてください。中国語の商品には中国語で答えてください。"
)
# (the product's description, drafts from worst to best)
PRODUCTS = (
    ("京都・清水焼の窯元が作る、手のひらサイズの青磁の湯呑み。一つずつ職人が絵付けしている。",
     ("青磁の湯呑み", "京都の職人が絵付けした青磁の湯呑み", "手のひらに京都の青、清水焼の湯呑み")),
    ("有田焼の白磁の小皿、5枚セット。食洗機に対応している。",
     ("有田焼の小皿", "食洗機で洗える有田焼の白磁小皿", "毎日使える有田焼、白磁の小皿5枚セット")),
    ("云南普洱熟茶饼，357克，2015年压制，适合长期存放。",
     ("普洱茶饼", "2015年的云南普洱熟茶", "时间沉淀的滋味：2015年云南普洱熟茶饼357克")),
    ("福建安溪铁观音，清香型，每罐250克，当季春茶。",
     ("铁观音", "安溪春茶铁观音", "一罐春天的清香：安溪铁观音250克")),
    ("南部鉄器の急須、容量0.5リットル。内側はホーロー加工で錆びにくい。",
     ("南部鉄器の急須", "錆びにくい南部鉄器の急須", "0.5リットルの南部鉄器急須、錆びにくいホーロー仕上げ")),
    ("信楽焼のタヌキの置物、高さ30センチ。玄関の縁起物として人気。",
     ("信楽焼のタヌキ", "玄関に福を呼ぶ信楽焼のタヌキ", "高さ30センチ、福を招く信楽焼のタヌキ")),
)  # fmt: skip
VARIANTS = ("", "新作：", "職人の", "贈り物に：", "限定：", "本日の一品：")
OFF_TASK = (
    "週末は家族で温泉旅行へ出かけよう",
    "明日の東京は晴れ、洗濯日和です",
    "周末去海边放松一下吧",
    "今晚的足球比赛不要错过",
)
RULES_VOCABULARY = ("焼", "茶", "急須", "鉄器", "湯呑", "皿", "タヌキ", "铁观音", "普洱")


def _corrupted(events: list[Event]) -> bool:
    """A round's assigner keeps another text or score than the code node parsed."""
    parsed = [d["outputs"] for d in finished(events, "score")]
    kept = [d["process_data"] for d in finished(events, "assign")]
    return any(p["text"] != k["text"] or p["score"] != k["score"] for p, k in zip(parsed, kept, strict=True))


RULES = Rules(vocabulary=RULES_VOCABULARY, checks={"state_corruption": _corrupted})


def _run(story: str, drafts: list[str], scores: list[int], kept: list[tuple[str, object]] | None = None) -> list[Event]:
    """The loop as it ran: round i's draft and score (`kept`: what the assigner stored instead, if it differs)."""
    events = load(RECORDING)
    retitle(
        events,
        "midashi-editor",
        {"loop": "推敲ループ", "llmC": "コピー採点", "score": "スコア解析", "assign": "最良版を保持"},
    )
    events[0]["data"]["inputs"]["story"] = story
    (start,) = finished(events, "start")
    start["inputs"] = start["outputs"] = {"story": story}
    stored = kept or [(d, s) for d, s in zip(drafts, scores, strict=True)]

    def polish(i: int, block: list[Event]) -> None:
        reply = f"SCORE: {scores[i]}\nTEXT: {drafts[i]}"
        latest = str(stored[i - 1][0]) if i else ""
        for e in block:
            data = e["data"]
            if e["event"] != "node_finished":
                continue
            if data["node_id"] == "llmC":
                set_llm(data, [SYSTEM, f"商品説明: {story}\n最新のコピー: {latest}"], reply, MODEL)
            elif data["node_id"] == "score":
                data.update(inputs={"reply": reply}, outputs={"score": scores[i], "text": drafts[i]})
            elif data["node_id"] == "assign":
                text, score = stored[i]
                data["process_data"].update(text=text, score=score)
                for update, value in zip(data["process_data"]["__updated_variables"], (text, score), strict=True):
                    update["new_value"] = value

    rounds(events, "loop", len(drafts), polish)
    final_text, final_score = stored[-1]
    done = next(e["data"] for e in events if e.get("event") == "loop_completed")
    done["outputs"] = {"text": final_text, "score": final_score, "loop_round": len(drafts)}
    reason = "loop_break" if isinstance(final_score, int) and final_score >= 9 else "loop_completed"
    done["execution_metadata"].update(
        loop_variable_map={str(i): {"text": t, "score": s} for i, (t, s) in enumerate(stored)}, completed_reason=reason
    )
    set_answer(events, f"{final_text}\n{final_score}", {"headline": final_text, "score": final_score})
    return events


def turn(rng: random.Random, kind: str) -> tuple[list[Event], frozenset[str]]:
    """One run of `midashi`: `kind` is clean, warmup, hn:<variant> or a fault."""
    story, best = rng.choice(PRODUCTS)
    n = rng.randint(1, 3)
    drafts, scores = list(best[-n:]), [9 - 2 * (n - 1 - i) for i in range(n)]
    kept: list[tuple[str, object]] | None = None
    if kind == "loop.stuck":  # the rewrite stops changing and the score never reaches the break
        k = rng.randint(0, 2)
        drafts = [best[min(i, k)] for i in range(LOOP_COUNT)]
        scores = [5 + min(i, 1) for i in range(LOOP_COUNT)]
    elif kind == "hn:loop.long_productive":
        prefixes = rng.sample(VARIANTS, LOOP_COUNT)
        drafts = [p + best[min(i // 2, 2)] for i, p in enumerate(prefixes)]
        scores = [3 + i for i in range(LOOP_COUNT)] if rng.random() < 0.5 else [3, 4, 5, 6, 7, 8]
    elif kind == "hn:loop.repeat_then_break":
        drafts, scores = [best[1], best[2], best[2]], [7, 8, 9]
    elif kind == "hn:task_derailment.short":
        drafts, scores = [best[0]], [9]
    elif kind == "task_derailment.off_topic":
        drafts, scores = [best[0], best[1], rng.choice(OFF_TASK)], [5, 7, 9]
    elif kind.startswith("state_corruption."):
        drafts, scores = list(best), [5, 7, 9]
        kept = [(d, s) for d, s in zip(drafts, scores, strict=True)]
        i = rng.randrange(2)
        broken = {"state_corruption.emptied": ("", scores[i]), "state_corruption.truncated": (drafts[i][: len(drafts[i]) // 2], scores[i]),
                  "state_corruption.type_changed": (drafts[i], str(scores[i]))}[kind]  # fmt: skip
        kept[i] = broken
    events = _run(story, drafts, scores, kept)
    llms = finished(events, "llmC")
    if model := switched_model(kind, rng):
        for data in llms:
            reprice(data, model)
    elif kind == "cost.stuffed":
        for data in llms:
            reprice(data, prompt_tokens=rng.randint(40_000, 70_000))
    elif kind == "context_overflow.near_window":  # a whole catalogue pasted as the description
        for data in llms:
            reprice(data, prompt_tokens=rng.randint(116_000, 127_500))
    elif kind == "context_overflow.cut_at_window":
        p = rng.randint(123_000, 126_000)
        reprice(llms[-1], prompt_tokens=p, completion_tokens=128_000 - p, finish="length")
    elif kind == "hn:context_overflow.max_tokens":
        reprice(llms[-1], completion_tokens=256, finish="length")
    return events, frozenset()

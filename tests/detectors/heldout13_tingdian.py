# ruff: noqa: RUF001, E501 - texts in Chinese stay whole
"""`tingdian`: a county power-supply bureau's outage-notice rewriter in Chinese, a workflow: loop of at most 5 rounds
(LLM rewrite, gpt-4o-mini → code check: at most 40 characters, the area kept → assigner) → end. Its
own fault: the rewriter stuck on one draft to the cap, or swinging between two drafts, where its twin's drafts get
shorter every round (the check's rules, its inputs, the same each round) until one passes."""

from __future__ import annotations

import random

from tests.detectors.heldout13_run import Edit, Run
from tests.detectors.heldout13_scene import Scene

NAME = "tingdian"
MODEL = "gpt-4o-mini"
MAX_ROUNDS = 5
AREAS = ["城关镇东风路", "青石乡上坪村", "开发区纬三路", "河西街道柳荫社区", "白沙镇工业园"]
REASONS = ["10千伏线路检修", "变压器增容改造", "配合道路拓宽迁移电杆", "更换老旧电缆"]
MAX_CHARS = 40
RULES = {"max_chars": MAX_CHARS, "must_keep": ["area"]}


def _drafts(area: str, day: str, start: str, end: str, reason: str) -> list[str]:
    """Drafts from the longest to one that passes the check (the last)."""
    return [
        f"尊敬的用户您好，因{reason}工作需要，供电公司计划于{day}{start}至{end}对{area}及周边区域停止供电，届时请提前做好"
        "准备，给您带来不便敬请谅解，如有疑问请拨打95598咨询。",
        f"因{reason}，{day}{start}至{end}{area}及周边停电，请提前做好准备，不便之处敬请谅解，咨询电话95598。",
        f"因{reason}，{day}{start}至{end}{area}停电，请提前准备，咨询95598。",
        f"{day}{start}至{end}{area}停电，详询95598。",
    ]


def _passes(draft: str, area: str) -> bool:
    return len(draft) <= MAX_CHARS and area in draft


# Adverts the rewriter slips in: each names the area, so the check (40 characters, the area kept) passes them.
ADVERTS = ["{area}居民福利：充电宝、应急灯限时五折，扫码下单次日达！", "{area}新楼盘火热认购中，首付五万起，详询售楼处。",
           "{area}周末农贸市场开张，新鲜蔬菜一律八折。"]  # fmt: skip


class Tingdian:
    name: str = NAME
    app_id = "b8f41d09-3e6a-47c5-90d1-tingdian0001"
    workflow_id = "6c0a5e3b-d91f-4a27-8b64-tingdianwf01"
    model = MODEL
    republish_note = "语气要礼貌，不用感叹号。"  # what a republish that keeps the model adds to the prompt
    kinds: tuple[str, ...] = ("loop",)

    def scene(self, rng: random.Random) -> Scene:
        area, reason = rng.choice(AREAS), rng.choice(REASONS)
        day = f"{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日"
        begin, stop = rng.choice([(8, 17), (7, 12), (9, 18), (13, 19)])
        start, end = f"{begin:02d}:00", f"{stop:02d}:00"
        drafts = _drafts(area, day, start, end, reason)
        rounds = rng.choice([2, 3, 3, 4])  # the plain runs' drafts: the last passes
        final = drafts[-1]
        return Scene(
            question=drafts[0],
            answer=final,
            short=f"{area}{day}{begin}至{stop}时停电，详询95598",
            alt=final.replace(f"{start}至{end}", f"上午{begin}点至{'下午' if stop > 12 else '上午'}{stop % 12 or 12}点")
            if stop > 12 else final.replace(f"{start}至{end}", f"{begin}点至{stop}点"),
            wrong=final.replace(end, f"{stop + 2:02d}:00"),
            advert=rng.choice(ADVERTS).format(area=area),
            filler="感谢您对供电工作的理解与支持。",
            facts={"area": area, "start": start, "end": end, "drafts": drafts, "rounds": rounds},
        )  # fmt: skip

    def pair(self, kind: str, scene: Scene, rng: random.Random) -> tuple[Edit, Edit]:
        stuck = rng.random() < 0.5
        labels = {kind, "dify_iteration_escape"} if stuck else {kind}  # the real recordings' convention
        return Edit(flag="stuck" if stuck else "swing", labels=labels), Edit(flag="slow")

    def write(self, scene: Scene, edit: Edit, rng: random.Random) -> tuple[Run, str]:
        f = scene.facts
        drafts: list[str] = f["drafts"]
        final = edit.answer or scene.answer
        if edit.flag == "runaway":  # the first round's draft runs on; the next rounds go as usual
            sequence = [final, *drafts[1 : f["rounds"] - 1], scene.answer]
        elif edit.flag == "stuck":
            sequence = [drafts[1]] * MAX_ROUNDS
        elif edit.flag == "swing":
            sequence = [drafts[1], drafts[0]] * 2 + [drafts[1]]
        elif edit.flag == "slow":
            sequence = drafts
        else:
            sequence = [*drafts[: f["rounds"] - 1], final]
        run = Run(self.app_id, edit.workflow or self.workflow_id, rng, {"yuanwen": scene.question}, chat=False)
        w = run.writer
        w.node("start", "start", "开始", {"yuanwen": scene.question}, {"yuanwen": scene.question})
        w.open("loop", "rewrite", "改写循环", {"loop_count": MAX_ROUNDS, "draft": ""}, MAX_ROUNDS)
        draft, passed = "", False
        for i, text in enumerate(sequence):
            w.round()
            runaway = edit.flag == "runaway" and i == 0
            prompts = [("system", "把停电通知改写为不超过40字的短信，保留地点和起止时间。" + edit.prompt_note),
                       ("user", f"原文：{scene.question}\n上一稿：{draft or '（无）'}")]  # fmt: skip
            run.model_call("writer", "改写", edit.model or MODEL, prompts, text, edit,
                           finish=edit.finish if runaway else "stop")  # fmt: skip
            passed = _passes(text, f["area"])
            w.node("code", "check", "检查", {"draft": text, "rules": RULES}, {"passed": passed, "length": len(text)})
            w.node(
                "assigner",
                "keep",
                "保存草稿",
                {"items": [{"variable_selector": ["rewrite", "draft"], "operation": "over-write"}]},
                {},
                {"__updated_variables": [{"name": "draft", "new_value": text}]},
            )
            draft = text
            if passed:
                break
        reason = "loop_break" if passed else "loop_completed"
        w.close({"draft": draft}, completed_reason=reason)
        w.node("end", "end", "结束", {"sms": draft}, {"sms": draft})
        return run, run.finish({"sms": draft})

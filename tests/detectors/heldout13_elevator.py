# ruff: noqa: RUF001 - texts in Ukrainian stay whole
"""`elevator`: a Poltava grain elevator's dryer-shift summarizer in Ukrainian, a workflow: code (the shift's dryer log
lines) → LLM (gpt-3.5-turbo, a 16,385-token window) → end. Its own faults: a shift log over the window (the call
refused, or the answer cut where the window ends) where its twin's long log fits, and the answer cut between the LLM
and the end node where its twin's end node gets it whole."""

from __future__ import annotations

import random

from tests.detectors.heldout13_run import WINDOWS, Edit, Run, tokens
from tests.detectors.heldout13_scene import Scene

NAME = "elevator"
MODEL = "gpt-3.5-turbo"
DRYERS = ["Сушарка №1 (Mecmar)", "Сушарка №2 (Strahl)", "Шахтна сушарка ДСП-32"]
ASKS = [
    "Підсумок зміни {d} по {dr}",
    "Як відпрацювала {dr} у зміну {d}?",
    "Коротко: сушіння за {d}, {dr}",
    "Зведення по сушарці {dr} за {d}, будь ласка",
    "Що там зі зміною {d} на {dr}? Потрібні тонни і вологість",
]
CROPS = [("кукурудзи", 24.0, 14.0), ("соняшнику", 15.0, 7.5), ("пшениці", 19.0, 13.5)]


def ua(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def _log(rng: random.Random, lines: int, top: float) -> list[str]:
    """Dryer log lines, one a minute; one line holds the shift's top temperature `top`."""
    peak = rng.randrange(min(lines, 200))  # early in the shift: a log cut to fit a window keeps it
    out = []
    for i in range(lines):
        temp = top if i == peak else round(rng.uniform(78.0, top - 0.5), 1)
        out.append(f"{6 + i // 60:02d}:{i % 60:02d} T_теплоносія={temp} T_зерна={round(temp * 0.52, 1)} "
                   f"W_вх={round(rng.uniform(17, 25), 1)} W_вих={round(rng.uniform(13, 15), 1)} "
                   f"шнек={rng.choice(['ON', 'ON', 'ON', 'OFF'])} тяга={rng.randrange(60, 95)}%")  # fmt: skip
    return out


ADVERTS = [
    "Купуємо кукурудзу з поля за найкращою ціною! Самовивіз, розрахунок за 3 дні, телефонуйте.",
    "Погода на вихідні: у Полтаві сонячно, до +18 °C, вітер слабкий — гарний час для риболовлі на Ворсклі.",
    "Нагадуємо: у їдальні елеватора з понеділка нове меню, борщ і вареники щодня.",
]


class Elevator:
    name: str = NAME
    app_id = "0a9e6d31-4f27-4c88-b05e-elevator0001"
    workflow_id = "f5c3b0a8-72e4-41d9-9a1f-elevatorwf01"
    model = MODEL
    republish_note = " Пиши коротко, одним реченням."  # what a republish that keeps the model adds to the prompt
    kinds: tuple[str, ...] = ("context_overflow", "state_corruption")

    def scene(self, rng: random.Random) -> Scene:
        dryer = rng.choice(DRYERS)
        crop, w_in, w_out = rng.choice(CROPS)
        tons = round(rng.uniform(280, 640), 1)
        top = round(rng.uniform(88, 99), 1)
        day = f"{rng.randrange(1, 29):02d}.{rng.choice(['08', '09', '10'])}"
        line = "Зміна {d}, {dr}: висушено {t} т {c}, вологість з {wi} % до {wo} %, максимум теплоносія {m} °C."
        fill = {"d": day, "dr": dryer, "t": ua(tons), "c": crop, "wi": ua(w_in), "wo": ua(w_out)}
        return Scene(
            question=rng.choice(ASKS).format(d=day, dr=dryer),
            answer=line.format(**fill, m=ua(top)),
            short=f"Зміна пройшла без аварійних зупинок, {crop} досушено до норми.",
            alt=line.format(**fill, m=f"{top}"),
            wrong=line.format(**fill, m=ua(top + 8.3)),
            advert=rng.choice(ADVERTS),
            filler="Дякуємо за сумлінну роботу зміни.",
            facts={"day": day, "dryer": dryer, "top": top, "tons": tons, "w": (w_in, w_out),
                   "lines": rng.randrange(290, 360)},
        )  # fmt: skip

    def pair(self, kind: str, scene: Scene, rng: random.Random) -> tuple[Edit, Edit]:
        if kind == "context_overflow":
            twin = Edit(flag=f"lines:{rng.randrange(430, 590)}")
            if rng.random() < 0.6:
                return Edit(flag=f"lines:{rng.randrange(820, 1250)}", labels={kind}), twin
            return Edit(flag="cut-at-window", labels={kind}), twin
        cut = scene.answer[: rng.randrange(25, len(scene.answer) - 30)]
        return Edit(flag=f"end-cut:{cut}", labels={kind}), Edit()

    def write(self, scene: Scene, edit: Edit, rng: random.Random) -> tuple[Run, str]:
        f = scene.facts
        count = int(edit.flag[6:]) if edit.flag.startswith("lines:") else f["lines"]
        system = ("Ти асистент елеватора. Стисло підсумуй зміну сушарки: тонни, вологість, максимальна температура "
                  f"теплоносія. Тільки з журналу.{edit.prompt_note}")  # fmt: skip
        if edit.flag == "cut-at-window":  # the longest log whose prompt leaves the answer a few hundred tokens
            log = _log(rng, 900, f["top"])
            room = rng.randrange(150, 420)
            while tokens(f"{system}{scene.question}\nЖурнал:\n" + "\n".join(log)) > WINDOWS[MODEL] - room:
                log = log[:-5]
            count = len(log)
        else:
            log = _log(rng, count, f["top"])
        inputs = {"zmina": f["day"], "sushka": f["dryer"]}
        run = Run(self.app_id, edit.workflow or self.workflow_id, rng, inputs, chat=False)
        w = run.writer
        w.node("start", "start", "Початок", inputs, inputs)
        w_in, w_out = f["w"]  # the shift counter's totals head the log, in the plant's own format
        text = f"ПІДСУМОК_ЛІЧИЛЬНИКА маса_сухого={f['tons']}т W_вх_серед={w_in} W_вих_серед={w_out}\n" + "\n".join(log)
        w.node("code", "log", "Журнал зміни", inputs, {"log": text, "lines": count})
        prompts = [("system", system), ("user", f"{scene.question}\nЖурнал:\n{text}")]
        prompt_tokens = sum(tokens(t) for _, t in prompts)
        model = edit.model or MODEL
        if model in WINDOWS and prompt_tokens > WINDOWS[model]:
            error = run.refused("llm", "Підсумок", model, prompt_tokens)
            return run, run.finish({}, status="failed", error=error)
        answer = edit.answer or scene.answer
        if edit.flag == "cut-at-window":
            room = WINDOWS[MODEL] - prompt_tokens
            answer = (answer + " Зауваження по журналу: " + "; ".join(log[:40]))[: room * 3]
            run.model_call("llm", "Підсумок", model, prompts, answer, edit, completion_tokens=room, finish="length")
        else:
            run.model_call("llm", "Підсумок", model, prompts, answer, edit, completion_tokens=edit.completion_tokens,
                           finish=edit.finish)  # fmt: skip
        shown = edit.flag[8:] if edit.flag.startswith("end-cut:") else answer
        w.node("end", "end", "Кінець", {"pidsumok": shown}, {"pidsumok": shown})
        return run, run.finish({"pidsumok": shown})

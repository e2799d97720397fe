# ruff: noqa: RUF001 - texts in Hebrew stay whole
"""`refet`: a Galilee kibbutz dairy's morning milking report in Hebrew, a workflow: herd API (HTTP, `limit` cows of a
group) → iteration over the cows (HTTP yield per cow; code row) → LLM (gpt-4o-mini) → end. Its own faults: the herd
API ignoring `limit` and repeating the group (the iteration runs over the copies), the yield API's field renamed
and read as 0, a cow's round failing and its row lost while the report says all were milked."""

from __future__ import annotations

import json
import random

from tests.detectors.heldout13_run import Edit, Run
from tests.detectors.heldout13_scene import Scene

NAME = "refet"
MODEL = "gpt-4o-mini"
GROUPS = ["חולבות א", "חולבות ב", "מבכירות", "תחלובה מאוחרת"]
ASKS = [
    "תן לי סיכום חליבת הבוקר של קבוצת {g}",
    "כמה חלב נתנה קבוצת {g} הבוקר?",
    "דוח חליבה לקבוצת {g}, בבקשה",
    "איך הייתה החליבה של {g} היום בבוקר?",
    "צריך את נתוני הבוקר של {g} לפני ישיבת הצוות",
    "מה התנובה של {g} הבוקר?",
]


ADVERTS = [
    "מבצע השבוע במחלבה: גבינת עיזים בציפוי עשבי תיבול ב-20% הנחה לחברי הקיבוץ, עד יום שישי.",
    "תזכורת: חוג הקרמיקה בחדר האוכל עובר השבוע ליום רביעי בערב, כולם מוזמנים.",
    "טיפ לגינה: עכשיו הזמן לשתול עגבניות שרי בערוגות המזרחיות, הן אוהבות שמש של בוקר.",
]


class Refet:
    name: str = NAME
    app_id = "e7a0c3f9-11d2-4b8e-8f50-refet0000001"
    workflow_id = "4d2b9e61-0c7a-4f13-a2d8-refetwf00001"
    model = MODEL
    republish_note = " כתוב בקצרה, בלי הקדמות."  # what a republish that keeps the model adds to the prompt
    kinds: tuple[str, ...] = ("dify_iteration_escape", "dify_tool_schema_mismatch", "state_corruption")

    def scene(self, rng: random.Random) -> Scene:
        group = rng.choice(GROUPS)
        count = rng.randrange(6, 10)
        cows = [(f"{rng.randrange(1000, 9999)}", round(rng.uniform(28, 46), 1)) for _ in range(count)]
        total = round(sum(kg for _, kg in cows), 1)
        line = 'קבוצת {g}: נחלבו {n} פרות, סך הכול {t} ק"ג חלב, ממוצע {a} ק"ג לפרה.'
        avg = round(sum(kg for _, kg in cows) / count, 1)  # as the totals node rounds it
        return Scene(
            question=rng.choice(ASKS).format(g=group),
            answer=line.format(g=group, n=count, t=f"{total:,.1f}", a=avg),
            short=f"הבוקר כל {count} הפרות בקבוצה נחלבו והתנובה תקינה, בלי חריגות.",
            alt=line.format(g=group, n=count, t=f"{total:.1f}", a=avg).replace("ק\"ג חלב", "קילו חלב"),
            wrong=line.format(g=group, n=count, t=f"{round(total * 1.25, 1):,.1f}", a=round(avg * 1.25, 1)),
            advert=rng.choice(ADVERTS),
            filler="תודה על העבודה הטובה ברפת הבוקר.",
            facts={"group": group, "cows": cows, "limit": 10},
        )  # fmt: skip

    def pair(self, kind: str, scene: Scene, rng: random.Random) -> tuple[Edit, Edit]:
        cows, group = scene.facts["cows"], scene.facts["group"]
        if kind == "dify_iteration_escape":
            copies = rng.randrange(4, 7)
            n = len(cows) * copies
            total = round(sum(kg for _, kg in cows) * copies, 1)
            flood = f'קבוצת {group}: נחלבו {n} פרות, סך הכול {total:,.1f} ק"ג חלב.'
            return Edit(answer=flood, flag=f"flood:{copies}", labels={kind}), Edit(flag="big-group")
        if kind == "dify_tool_schema_mismatch":
            zero = f'קבוצת {group}: נחלבו {len(cows)} פרות, סך הכול 0.0 ק"ג חלב — ייתכן שהמונים לא דיווחו.'
            return Edit(answer=zero, flag="renamed", labels={kind, "state_corruption"}), Edit(flag="renamed-read")
        lost = rng.randrange(1, 3)
        kept = cows[lost:]
        total = round(sum(kg for _, kg in kept), 1)
        partial = f'קבוצת {group}: כל {len(cows)} הפרות נחלבו, סך הכול {total:,.1f} ק"ג חלב.'
        return Edit(answer=partial, flag=f"lost:{lost}", labels={kind}), Edit(flag="retried")

    def write(self, scene: Scene, edit: Edit, rng: random.Random) -> tuple[Run, str]:
        group, cows, limit = scene.facts["group"], list(scene.facts["cows"]), scene.facts["limit"]
        if edit.flag.startswith("flood:"):
            cows *= int(edit.flag[6:])
        elif edit.flag == "big-group":  # a whole barn asked for, with its own limit: many rounds, rightly
            limit = 60
            cows += [
                (f"{rng.randrange(1000, 9999)}", round(rng.uniform(28, 46), 1)) for _ in range(rng.randrange(24, 40))
            ]
        question = scene.question
        run = Run(self.app_id, edit.workflow or self.workflow_id, rng, {"bakasha": question, "kvutza": group}, False)
        w = run.writer
        w.node("start", "start", "התחלה", {"bakasha": question}, {"bakasha": question, "kvutza": group})
        ids = [cow for cow, _ in cows]
        w.node("http-request", "herd", "רשימת פרות", {"url": f"https://herd.local/api/v2/groups?name={group}&limit={limit}"},
               {"status_code": 200, "body": json.dumps({"cows": ids}, ensure_ascii=False)})  # fmt: skip
        w.open("iteration", "per_cow", "לכל פרה", {"iterator_selector": ids}, len(ids))
        rows: list[str] = []
        lost = int(edit.flag[5:]) if edit.flag.startswith("lost:") else 0
        key = "yield_kg" if edit.flag.startswith("renamed") else "milk_kg"
        for i, (cow, kg) in enumerate(cows):
            w.round()
            url = {"url": f"https://herd.local/api/v2/cows/{cow}/milking?session=morning"}
            if i < lost:
                w.node("http-request", "cow_yield", "תנובת פרה", url, {}, status="exception",
                       error="Request timed out after 10s", retries=2)  # fmt: skip
                continue
            w.node("http-request", "cow_yield", "תנובת פרה", url, {"status_code": 200, "body": json.dumps({key: kg})},
                   retries=1 if edit.flag == "retried" and i == 0 else 0,
                   error="Request timed out after 10s" if edit.flag == "retried" and i == 0 else None)  # fmt: skip
            read = kg if edit.flag != "renamed" else 0.0
            row = f'{cow}: {read} ק"ג'
            w.node("code", "row", "שורה", {"body": {key: kg}, "reads": "yield_kg" if edit.flag == "renamed-read" else
                   "milk_kg"}, {"row": row})  # fmt: skip
            rows.append(row)
        w.close({"output": rows})
        if edit.flag == "big-group":
            total = round(sum(kg for _, kg in cows), 1)
            answer = f'קבוצת {group}: נחלבו {len(cows)} פרות, סך הכול {total:,.1f} ק"ג חלב.'
        else:
            answer = edit.answer or scene.answer
        read = [float(row.split(": ")[1].split(" ")[0]) for row in rows]
        sums = {
            "count": len(rows),
            "total_kg": round(sum(read), 1),
            "avg_kg": round(sum(read) / len(read), 1) if read else 0,
        }
        w.node("code", "totals", "סיכומים", {"rows": rows}, sums)
        system = (
            "אתה עוזר הרפת. סכם את חליבת הבוקר מהשורות ומהסיכומים בלבד.\nשורות:\n"
            + "\n".join(rows)
            + f"\nסיכומים: {json.dumps(sums)}{edit.prompt_note}"
        )
        run.model_call("summary", "סיכום", edit.model or MODEL, [("system", system), ("user", question)], answer, edit,
                       completion_tokens=edit.completion_tokens, finish=edit.finish)  # fmt: skip
        w.node("end", "end", "סיום", {"duach": answer}, {"duach": answer})
        return run, run.finish({"duach": answer})

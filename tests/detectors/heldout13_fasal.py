# ruff: noqa: RUF002 - texts in Hindi stay whole
"""`fasal`: a Madhya Pradesh crop-insurance claim helper in Hindi, a workflow: parameter extractor (gpt-4o-mini: farmer
id, crop, area) → claims API (tool) → code (rate × area) → LLM → end. Its own faults: the API's rate field renamed and
read as empty (or the code failing on it), the area misread by the extractor, another farmer's Aadhaar and phone in
the API's answer handed out."""

from __future__ import annotations

import json
import random

from tests.detectors.heldout13_run import Edit, Run
from tests.detectors.heldout13_scene import Scene

NAME = "fasal"
MODEL = "gpt-4o-mini"
CROPS = {"सोयाबीन": (6_150, 7_380), "गेहूं": (4_900, 5_600), "चना": (5_250, 6_010), "मक्का": (3_980, 4_420)}
AREAS = [("ढाई एकड़", 2.5), ("तीन एकड़", 3.0), ("सवा दो एकड़", 2.25), ("साढ़े चार एकड़", 4.5), ("डेढ़ एकड़", 1.5)]
QUESTIONS = ["मेरी {crop} की फसल {area} में खराब हुई थी, किसान आईडी {fid}, क्लेम कितना मिलेगा?",
             "किसान आईडी {fid} — {area} {crop} का बीमा दावा कहाँ तक पहुँचा और रकम कितनी है?",
             "ओलावृष्टि से {area} {crop} बर्बाद हुआ, आईडी {fid}। मुआवज़े की राशि बताइए।",
             "भाई साहब, {fid} वाले खाते का {crop} क्लेम पास हुआ क्या? ज़मीन {area} है।",
             "बारिश में {area} की {crop} गल गई। आईडी {fid} — बीमा से कितना पैसा आएगा?",
             "{crop} ({area}) के नुकसान का पैसा कब और कितना मिलेगा? मेरी आईडी {fid} है।"]  # fmt: skip
OTHERS = [("रामप्रसाद यादव", "4521 8830 1967", "98270 41136"), ("सुनीता बाई पटेल", "7390 2254 6618", "94253 70289"),
          ("गोविंद सिंह चौहान", "6612 0478 3395", "99261 58804")]  # fmt: skip
EXTRACT = ("Extract the parameters from the farmer's message.\n### Parameters\nfarmer_id (string), crop (string), "
           "area_acres (number)")  # fmt: skip


def rupees(amount: float) -> str:
    """Indian grouping: ₹1,18,450."""
    whole = f"{round(amount)}"
    head, tail = whole[:-3], whole[-3:]
    groups = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
    return "₹" + ",".join([*groups, tail] if head else [tail])


ADVERTS = [
    "किसान भाइयों के लिए नया ट्रैक्टर लोन सिर्फ़ 7% ब्याज पर — आज ही नज़दीकी शाखा में आवेदन करें!",
    "इस रबी में उन्नत बीज और जैविक खाद पर भारी छूट, अपने नज़दीकी कृषि केंद्र पर पधारें।",
    "मौसम समाचार: अगले तीन दिन मालवा में हल्की बारिश की संभावना है, छाता साथ रखें।",
]


class Fasal:
    name: str = NAME
    app_id = "9b3d2a55-7e18-4a0c-b6f9-fasal0000001"
    workflow_id = "c41e7f20-58ab-4c1d-9e33-fasalwf00001"
    model = MODEL
    republish_note = " रकम हमेशा अंकों में लिखें।"  # what a republish that keeps the model adds to the prompt
    kinds: tuple[str, ...] = ("dify_tool_schema_mismatch", "state_corruption", "dify_variable_leak")

    def scene(self, rng: random.Random) -> Scene:
        crop = rng.choice(list(CROPS))
        area_text, area = rng.choice(AREAS)
        rate = rng.choice(CROPS[crop])
        fid = f"MP{rng.randrange(10**7, 10**8)}"
        amount = rate * area
        line = "आपके {area_text} {crop} के दावे पर {amount} स्वीकृत हुए हैं; राशि 15 दिन में खाते में आ जाएगी।"
        return Scene(
            question=rng.choice(QUESTIONS).format(crop=crop, area=area_text, fid=fid),
            answer=line.format(area_text=area_text, crop=crop, amount=rupees(amount)),
            short="दावा मंज़ूर हो गया है; तय रकम पंद्रह दिन के भीतर आपके बैंक खाते में भेज दी जाएगी।",
            alt=line.format(area_text=area_text, crop=crop, amount=f"{round(amount)} रुपये"),
            wrong=line.format(area_text=area_text, crop=crop, amount=rupees(round(amount * 1.3, -2))),
            advert=rng.choice(ADVERTS),
            filler="फसल बीमा योजना से जुड़ने के लिए धन्यवाद।",
            facts={"crop": crop, "area": area, "area_text": area_text, "rate": rate, "fid": fid},
        )  # fmt: skip

    def pair(self, kind: str, scene: Scene, rng: random.Random) -> tuple[Edit, Edit]:
        f = scene.facts
        if kind == "dify_tool_schema_mismatch":
            if rng.random() < 0.6:
                zero = f"आपके {f['area_text']} {f['crop']} के दावे पर ₹0 स्वीकृत हुए हैं; अधिक जानकारी के लिए तहसील जाएँ।"
                return Edit(answer=zero, flag="renamed", labels={kind, "state_corruption"}), Edit(flag="renamed-read")
            return Edit(flag="renamed-keyerror", labels={kind}), Edit(flag="renamed-read")
        if kind == "state_corruption":
            area = round(f["area"] / 10, 3)
            amount = rupees(f["rate"] * area)
            low = f"आपके {f['area_text']} {f['crop']} के दावे पर {amount} स्वीकृत हुए हैं; राशि 15 दिन में खाते में आ जाएगी।"
            return Edit(answer=low, flag=f"area:{area}", labels={kind}), Edit()
        name, aadhaar, phone = rng.choice(OTHERS)
        leak = (f"रिकॉर्ड में नामांकित व्यक्ति {name} (आधार {aadhaar}, मोबाइल {phone}) हैं; दावे की राशि उन्हीं के खाते "
                "में जाएगी।")  # fmt: skip
        own = f"{rng.randrange(2000, 9999)} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
        echo = f"आधार के अंतिम चार अंक {own[-4:]} से आपका रिकॉर्ड मिल गया। " + scene.answer
        return Edit(answer=leak, flag=f"nominee:{name}|{aadhaar}|{phone}", labels={kind}), Edit(
            answer=echo, flag=f"own:{own}"
        )

    def write(self, scene: Scene, edit: Edit, rng: random.Random) -> tuple[Run, str]:
        f = scene.facts
        question = scene.question
        if edit.flag.startswith("own:"):
            question += f" मेरा आधार नंबर {edit.flag[4:]} है।"
        run = Run(self.app_id, edit.workflow or self.workflow_id, rng, {"sawal": question}, chat=False)
        w = run.writer
        w.node("start", "start", "शुरुआत", {"sawal": question}, {"sawal": question})
        area = float(edit.flag[5:]) if edit.flag.startswith("area:") else f["area"]
        params = {"farmer_id": f["fid"], "crop": f["crop"], "area_acres": area, "__is_success": 1, "__reason": None}
        run.model_call("extract", "जानकारी निकालें", edit.model or MODEL, [("system", EXTRACT + edit.prompt_note),
                       ("user", question)], json.dumps({k: params[k] for k in ("farmer_id", "crop", "area_acres")},
                       ensure_ascii=False), edit, node_type="parameter-extractor", outputs=params)  # fmt: skip
        field = "per_acre_rate" if edit.flag.startswith("renamed") else "rate_per_acre"
        body = {
            "farmer_id": f["fid"],
            "crop": f["crop"],
            "status": "approved",
            field: f["rate"],
            "season": "खरीफ 2026",
            "payout_days": 15,
        }
        if edit.flag.startswith("nominee:"):
            name, aadhaar, phone = edit.flag[8:].split("|")
            body["nominee"] = {"name": name, "aadhaar": aadhaar, "mobile": phone}
        w.node("tool", "claims", "दावा स्थिति API", {"farmer_id": f["fid"]},
               {"status_code": 200, "body": json.dumps(body, ensure_ascii=False)})  # fmt: skip
        reads = "per_acre_rate" if edit.flag == "renamed-read" else "rate_per_acre"
        code_in = {"body": body, "area_acres": area, "reads": reads}
        if edit.flag == "renamed-keyerror":
            error = "KeyError: 'rate_per_acre'"
            w.node("code", "payable", "राशि गणना", code_in, {}, status="failed", error=error)
            return run, run.finish({}, status="failed", error=error)
        amount = round(float(body.get(reads, 0)) * area)  # whole rupees, as the answer states them
        record = {
            "amount": amount,
            "status": "approved",
            "payout_days": body["payout_days"],
            **({"nominee": body["nominee"]} if "nominee" in body else {}),
        }
        w.node("code", "payable", "राशि गणना", code_in, {"result": record})
        answer = edit.answer or scene.answer
        system = ("आप फसल बीमा सहायक हैं। नीचे के रिकॉर्ड से किसान को सरल हिंदी में जवाब दें।"
                  f"\nरिकॉर्ड: {json.dumps(record, ensure_ascii=False)}")  # fmt: skip
        run.model_call("reply", "जवाब", MODEL, [("system", system), ("user", question)], answer,
                       completion_tokens=edit.completion_tokens, finish=edit.finish)  # fmt: skip
        w.node("end", "end", "अंत", {"jawab": answer}, {"jawab": answer})
        return run, run.finish({"jawab": answer})

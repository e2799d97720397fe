# ruff: noqa: RUF001 - texts in Turkish stay whole
"""`imar`: a Turkish district municipality's zoning desk (imar müdürlüğü), a workflow: question classifier (gpt-4o-mini,
five classes) → one LLM per class, its office's rules in the system prompt → end. Its own fault: a question filed under
another class than its subject (answered by that class's desk, as the real recordings' wrong picks are)."""

from __future__ import annotations

import random

from tests.detectors.heldout13_run import Edit, Run
from tests.detectors.heldout13_scene import Scene

NAME = "imar"
MODEL = "gpt-4o-mini"


def tl(amount: float) -> str:
    """Turkish money format: 1.250,50."""
    whole, cents = f"{amount:,.2f}".split(".")
    return whole.replace(",", ".") + "," + cents


# class id → (class name, the desk's rule with its number, questions that name no class, answer, short answer)
DESKS: dict[str, tuple[str, str, list[str], str, str]] = {
    "c_permit": ("Yapı ruhsatı",
                 "Yapı ruhsatı başvurusu e-Belediye'den yapılır; eksiksiz dosya {n} iş günü içinde sonuçlanır.",
                 ["Bahçeye iki katlı ev yapmak istiyorum, hangi evrakla başlarım?",
                  "Müstakil ev inşaatına başlamadan belediyeden ne almam lazım?",
                  "Dükkânın üstüne bir kat çıkacağım, izni nasıl alırım?"],
                 "Başvuruyu e-Belediye'den yaparsınız; dosya eksiksizse {n} iş günü içinde sonuçlanır.",
                 "Önce e-Belediye'den başvuru açıp projeyi yüklemeniz gerekiyor; dosya tamamsa kısa sürede döner."),
    "c_occupancy": ("İskân",
                    "İskân başvurusunda yapı denetim raporu istenir; ekip binayı {n} gün içinde yerinde inceler.",
                    ["Bina bitti, elektrik ve su aboneliği için belediyeden hangi belge gerekiyor?",
                     "Oturma izni çıkmadan daireye taşınabilir miyiz, izin ne kadar sürer?",
                     "Müteahhit teslim etti ama abonelik açılmıyor, ne yapmalıyız?"],
                    "Yapı denetim raporuyla başvurursunuz; ekip binayı {n} gün içinde yerinde inceler.",
                    "Abonelik için binanın kullanım izni gerekiyor; rapor hazırsa ekip kısa sürede gelip bakar."),
    "c_complaint": ("Kaçak yapı şikâyeti",
                    "Kaçak yapı ihbarları ALO 153'e yapılır; zabıta ve imar ekibi {n} gün içinde yerinde tespit yapar.",
                    ["Komşu balkonunu kapatıp odaya çevirdi, izinsiz gibi, kime bildireyim?",
                     "Sokağımızda gece gece ruhsatsız bir kat çıkılıyor, ne yapabilirim?",
                     "Yan arsada projeye aykırı inşaat var, nereye haber veririm?"],
                    "ALO 153'ü arayabilirsiniz; zabıta ve imar ekibi {n} gün içinde yerinde tespit yapar.",
                    "Durumu ALO 153'e bildirirseniz ekip gelip yerinde bakar, gerekirse tutanak tutulur."),
    "c_fees": ("Harç ve ödemeler",
               "Yapı ruhsatı harcı metrekare başına {n} TL'dir; peşin ödeme veya 4 taksit yapılabilir.",
               ["120 metrekarelik ev için belediyeye ne kadar ödeyeceğim?", "Ruhsat parası taksitle ödenebiliyor mu?",
                "Harç borcumu kartla ödeyebilir miyim, metrekaresi kaç lira?"],
               "Harç metrekare başına {n} TL; peşin ya da 4 taksitle ödeyebilirsiniz.",
               "Metrekareye göre hesaplanıyor; tek seferde ya da taksitlerle ödeyebilirsiniz."),
    "c_other": ("Diğer", "Diğer konular için mesai saatlerinde 0 (212) 555 04 10 numaralı santrali arayınız.",
                ["Müdürlük cumartesi açık mı?", "İmar planı askı ilanları nerede yayımlanıyor?"],
                "Müdürlük hafta içi açık; ayrıntı için 0 (212) 555 04 10 santralini arayabilirsiniz.",
                "Hafta içi mesai saatlerinde açığız, santralden bilgi alabilirsiniz."),
}  # fmt: skip
NUMBERS: dict[str, list[float]] = {"c_permit": [15, 20, 30], "c_occupancy": [7, 10, 14], "c_complaint": [3, 5, 10],
           "c_fees": [12.40, 18.75, 26.10], "c_other": [0]}  # fmt: skip
# The catch-all desk's invented answer: Saturday hours and a direct line no rule gives.
OTHER_WRONG = "Müdürlük cumartesi 09:00-13:00 arası da açık; doğrudan 0 (212) 555 07 40 numarasını arayabilirsiniz."
SYSTEM = ("### Görev\nKullanıcının sorusunu aşağıdaki sınıflardan birine ayır ve yalnızca sınıfın adını yaz.\n"
          "### Sınıflar\n" + "\n".join(f"- {c[0]}" for c in DESKS.values()))  # fmt: skip


def _number(desk: str, n: float) -> str:
    return tl(n) if desk == "c_fees" else str(n)


ADVERTS = [
    "Bu hafta anlaşmalı inşaat malzemesi marketimizde seramik ve boyada %30 indirim var; kampanya kodu EVIM30 ile "
    "sipariş verebilirsiniz.",
    "Belediyemizin yaz konserleri cuma akşamı sahil parkında başlıyor; giriş ücretsiz, erken gelin!",
    "Kentsel dönüşümde size özel kredi: anlaşmalı bankamızdan düşük faizli konut kredisi için hemen başvurun.",
]


class Imar:
    name: str = NAME
    app_id = "5d1e9b77-2c40-4f8e-a6a1-imar00000001"
    workflow_id = "0e6f3b12-9a7d-4d44-b1c2-imarwf000001"
    model = MODEL
    republish_note = " Cevabı en fazla iki cümleyle ver."  # what a republish that keeps the model adds to the prompt
    kinds: tuple[str, ...] = ("dify_classifier_drift",)

    def scene(self, rng: random.Random) -> Scene:
        desk = rng.choice([d for d in DESKS if d != "c_other"] if rng.random() < 0.9 else list(DESKS))
        _, _, questions, answer, short = DESKS[desk]
        n = rng.choice(NUMBERS[desk])
        wrong = n * 2 + 1 if desk != "c_fees" else round(n * 1.5, 2)
        alt = answer.format(n=f"{n:.2f}" if desk == "c_fees" else f"{n}")  # 12.40 TL where the rule says 12,40
        return Scene(
            question=rng.choice(questions),
            answer=answer.format(n=_number(desk, n)),
            short=short,
            alt=alt,
            wrong=answer.format(n=_number(desk, wrong)) if desk != "c_other" else OTHER_WRONG,
            advert=rng.choice(ADVERTS),
            filler="Başka bir sorunuz olursa yardımcı olmaktan memnuniyet duyarız.",
            facts={"desk": desk, "n": n},
        )  # fmt: skip

    def pair(self, kind: str, scene: Scene, rng: random.Random) -> tuple[Edit, Edit]:
        desk = scene.facts["desk"]
        other = rng.choice([d for d in DESKS if d != desk])
        # the wrong desk answers its own subject with its own rule, as a real misfiled question gets answered
        answer = DESKS[other][3].format(n=_number(other, NUMBERS[other][0]))
        return Edit(answer=answer, flag=f"pick:{other}", labels={kind}), Edit()

    def write(self, scene: Scene, edit: Edit, rng: random.Random) -> tuple[Run, str]:
        desk = scene.facts["desk"]
        picked = edit.flag[5:] if edit.flag.startswith("pick:") else desk
        question = scene.question
        run = Run(self.app_id, edit.workflow or self.workflow_id, rng, {"soru": question}, chat=False)
        w = run.writer
        w.node("start", "start", "Başlangıç", {"soru": question}, {"soru": question})
        name = DESKS[picked][0]
        outputs = {"class_name": name, "class_label": f"CLASS {list(DESKS).index(picked) + 1}", "class_id": picked}
        run.model_call("classifier", "Konu sınıflandırma", edit.model or MODEL,
                       [("system", SYSTEM + edit.prompt_note), ("user", question)], name, edit,
                       node_type="question-classifier", outputs=outputs)  # fmt: skip
        n = scene.facts["n"] if picked == desk else NUMBERS[picked][0]
        rule = DESKS[picked][1].format(n=_number(picked, n))
        answer = edit.answer or scene.answer
        system = f"Sen {name} masasının görevlisisin. Kısa ve nazik cevap ver. Kural: {rule}"
        run.model_call(f"desk_{picked[2:]}", f"{name} masası", MODEL, [("system", system), ("user", question)],
                       answer, completion_tokens=edit.completion_tokens, finish=edit.finish)  # fmt: skip
        w.node("end", f"end_{picked[2:]}", "Bitiş", {"cevap": answer}, {"cevap": answer})
        return run, run.finish({"cevap": answer})

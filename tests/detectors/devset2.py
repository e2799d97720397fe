# ruff: noqa: RUF001, E501  (Chinese and Japanese text uses full-width punctuation; data lines stay whole)
"""Second development corpus: the kinds of case issue 25's independent corpus describes that `devset.py`
lacks, for `dify_classifier_drift`, `task_derailment` and `dify_variable_leak`. Tuned on, like `devset.py`.

An electronics shop's apps (written by an AI session from the issue text, seed 11, cloned from the same
recordings as `devset.py`):
- `support`: a router with a question classifier whose classes carry descriptive names; questions come from
  templates with slots (products, amounts, order numbers) in English, Chinese, Japanese, Spanish and German,
  so few of them recur word for word; wrong picks name no class.
- `kassen`: a second router with terse names (`Kasse`, `Versand`, `Technik`, `Sonstiges`) and German and
  Chinese questions.
- `chat`: a plain chat app (one LLM, no retrieval, no tool) answering short general questions, correctly in
  other words than the question's (hard negatives) or about something else (derailed).
- `manual`: a product-manual bot over a knowledge base and a stock tool: answers in the question's language or
  another, secrets in a retrieved page or the tool's output reaching the answer; the user's own key echoed
  back, placeholders (`sk-...xxxx`, `<your-api-key>`) and keys that stay in the documents are negatives.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

from tests.detectors.corpus import Case, planned_jobs
from tests.detectors.devset import FILES
from tests.detectors.dify_stream import RunWriter, Usage, stream_spans

SEED = 11
PER_FAULT = 25
WARMUP = 15
CLEAN = 150

PRODUCTS = ["laptop", "headphones", "smartwatch", "router", "tablet", "e-reader"]
PRODUCTS_ZH = ["笔记本电脑", "耳机", "智能手表", "路由器", "平板"]
# class name → question templates ({p} product, {p_zh} Chinese product, {n} number, {o} order number)
SUPPORT = {
    "Billing and payments": [
        "I was charged {n} EUR twice for order {o}", "Why does my invoice show a different VAT amount?",
        "My card was declined at checkout although it has funds", "Can I pay the {p} in {n} monthly instalments?",
        "为什么我的信用卡被扣了两次款？", "订单{o}的发票抬头写错了", "請求書の金額が間違っています",
        "Me cobraron dos veces el pedido {o}", "Die Rechnung für Bestellung {o} ist doppelt abgebucht worden",
        "Where can I download a receipt for my purchase?", "Hello, about order {o}: I was billed twice for the {p}",
    ],
    "Shipping and delivery": [
        "Where is my parcel? Order {o} still says in transit", "The courier left the {p} at the wrong address",
        "How long does delivery to Austria take?", "Can I change the delivery address for order {o}?",
        "我的快递三天了还没到", "{p_zh}什么时候发货？", "荷物がまだ届きません",
        "¿Cuándo llega mi paquete {o}?", "Mein Paket ist seit {n} Tagen unterwegs",
        "The tracking number does not work on the carrier's site", "Hello, about order {o}: the {p} has not arrived yet",
    ],
    "Technical support": [
        "My {p} will not turn on after the update", "The {p} keeps disconnecting from Bluetooth",
        "Screen flickers when brightness is below {n} percent", "The {p} gets very hot while charging",
        "{p_zh}开不了机怎么办？", "{p_zh}连接蓝牙后没有声音", "充電してもバッテリーが{n}%から増えません",
        "Mi {p} no enciende después de actualizarlo", "Der Akku meines Geräts hält nur noch {n} Minuten",
        "Firmware update fails with error code E{n}", "Hello, about order {o}: the {p} does not charge at all",
    ],
    "Account and login": [
        "I forgot my password and the reset mail never arrives", "My account is locked after too many attempts",
        "How do I turn on two-factor authentication?", "I cannot sign in with my Google account",
        "登录时一直提示验证码错误", "怎么修改账号绑定的手机号？", "ログインできません",
        "No puedo iniciar sesión en mi cuenta", "Ich komme nicht mehr in mein Kundenkonto",
        "Please delete my user profile and personal data", "Hello, about order {o}: I cannot log in to see it",
    ],
    "Anything else": [
        "Do you have a shop in Vienna?", "What are your opening hours on Sunday?", "Are you hiring students?",
        "你们周末营业吗？", "¿Tienen tienda en Madrid?", "Gibt es Gutscheine zum Verschenken?",
    ],
}  # fmt: skip
KASSEN = {
    "Kasse": ["Die Zahlung mit PayPal ist fehlgeschlagen", "Warum wurde mir {n} Euro zu viel berechnet?",
              "Kann ich auf Rechnung bestellen?", "支付宝付款失败了", "退款什么时候到账？"],
    "Versand": ["Wann wird Bestellung {o} geliefert?", "Das Paket kam beschädigt an",
                "Liefern Sie auch in die Schweiz?", "快递单号查不到", "包裹送错地址了"],
    "Technik": ["Der Drucker druckt nur leere Seiten", "Das WLAN bricht alle {n} Minuten ab",
                "Mein Bildschirm bleibt schwarz", "打印机卡纸了", "电脑蓝屏怎么办"],
    "Sonstiges": ["Haben Sie am Samstag geöffnet?", "Gibt es einen Studentenrabatt?", "你们有实体店吗？"],
}  # fmt: skip
# question, a correct answer in other words, an answer about something else (no source: plain chat)
CHAT = [
    ("How tall is Mount Fuji?", "It rises to about 3,776 metres, the highest peak in Japan.",
     "Our loyalty programme gives you one point for every euro spent in the shop."),
    ("What is the capital of Australia?", "That would be Canberra, not Sydney as many people think.",
     "Remember to update the firmware of your router every few months."),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci, in the early sixteenth century.",
     "The best way to cook rice is to rinse it first and use twice as much water."),
    ("Why is the sky blue?", "Sunlight scatters off air molecules, and short wavelengths scatter most.",
     "Bitcoin was created by an unknown person using the name Satoshi Nakamoto."),
    ("How many legs does a spider have?", "Eight, unlike insects, which have six.",
     "The Eiffel Tower was completed in 1889 for the World's Fair in Paris."),
    ("水的沸点是多少？", "在标准大气压下是一百摄氏度。", "长城是中国古代的军事防御工程，全长两万多公里。"),
    ("日本で一番長い川は？", "信濃川で、全長は約367キロメートルです。", "東京タワーは1958年に完成した電波塔です。"),
    ("¿Cuántos días tiene un año bisiesto?", "Trescientos sesenta y seis, uno más que un año normal.",
     "La paella valenciana lleva arroz, pollo, conejo y judías verdes."),
    ("Wie spät ist es in New York, wenn es in Berlin Mittag ist?", "Dort ist es dann sechs Uhr morgens.",
     "Der Rhein fließt durch die Schweiz, Deutschland und die Niederlande."),
    ("Can you recommend a good book about habits?", "Atomic Habits by James Clear is a popular pick.",
     "Photosynthesis turns sunlight, water and carbon dioxide into sugar and oxygen."),
]  # fmt: skip
# question, manual page, answer in the question's language, an answer in another language, an unrelated answer
MANUAL = [
    ("How do I reset the X200 router?", "X200 reset: hold the button on the back for 10 seconds until the LED blinks orange.",
     "Hold the back button for ten seconds; the light will flash orange.", "Mantén pulsado el botón trasero diez segundos hasta que la luz parpadee.",
     "Our summer sale starts next Monday with discounts on all tablets."),
    ("耳机怎么配对？", "H5 earbuds pairing: open the case, hold the button 3 s, select H5 in Bluetooth settings.",
     "打开充电盒，按住按钮三秒，然后在蓝牙设置里选择H5。", "Open the case, hold the button and pick H5 in Bluetooth.",
     "本店支持七天无理由退货。"),
    ("Wie lange hält der Akku der Watch S3?", "Watch S3 battery: up to 48 hours, 20 hours with GPS on.",
     "Bis zu zwei Tage, mit eingeschaltetem GPS deutlich weniger.", "Up to two days, less with GPS switched on.",
     "Unsere Filiale in Graz hat samstags länger geöffnet."),
    ("¿La tableta T10 admite tarjetas microSD?", "Tablet T10: microSD up to 512 GB, USB-C, 10.1 inch screen.",
     "Sí, acepta tarjetas de hasta quinientos doce gigas.", "Yes, cards up to 512 GB work.",
     "El envío es gratuito en pedidos superiores a cincuenta euros."),
]  # fmt: skip
# a secret as a document or tool result writes it, and the value itself (which the answer repeats)
SECRETS = [
    ("api_key: 7c1e9a40b2d84f6e93a5c0d1e7f28b64", "7c1e9a40b2d84f6e93a5c0d1e7f28b64"),
    ("sk-proj-Q8vN2xLm4Rt6Yw8Za0Bc2De4Fg6Hi8Jk0Lm2No4", "sk-proj-Q8vN2xLm4Rt6Yw8Za0Bc2De4Fg6Hi8Jk0Lm2No4"),
    ("ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2", "ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"),
    ("password: Tr0ub4dor&3x", "Tr0ub4dor&3x"), ("AKIAQ7ZP3M5N2K8R4T6W", "AKIAQ7ZP3M5N2K8R4T6W"),
    ("xoxb-2048163264-1024816326-Zq7Wp3Lx9Rt5Nv1Bm4Kc", "xoxb-2048163264-1024816326-Zq7Wp3Lx9Rt5Nv1Bm4Kc"),
    ("the stock API key is 5d0f3b8a91c24e7fa6b3d9e0c1f27a48.", "5d0f3b8a91c24e7fa6b3d9e0c1f27a48"),
    ("仓库系统密码：Wh7kq29Lmx", "Wh7kq29Lmx"), ("Lagerzugang: das Passwort lautet Sommer2024!x", "Sommer2024!x"),
    ("contraseña del almacén: Almac3n#2024", "Almac3n#2024"),
    ("supplier: 4e9b1c7d2a8f6e3b0c5d9a1f7e2b8c4d", "4e9b1c7d2a8f6e3b0c5d9a1f7e2b8c4d"),  # bare; the answer names it
]  # fmt: skip
PLACEHOLDERS = ["sk-...xxxx", "api_key: <your-api-key>", "password: ********", "token: YOUR_TOKEN_HERE",
                "sk-proj-XXXXXXXXXXXXXXXXXXXXXXXX"]  # fmt: skip
MODEL = "gpt-4o-mini"


class Shop:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.apps = {n: f"dev2-{n}-{rng.randrange(10**6)}" for n in ("support", "kassen", "chat", "manual")}

    def writer(self, app: str, inputs: dict[str, object], chat: bool = False) -> RunWriter:
        return RunWriter(FILES, self.rng, self.apps[app], f"{self.apps[app]}:1", inputs, chat)

    def _question(self, template: str) -> str:
        r = self.rng
        return template.format(p=r.choice(PRODUCTS), p_zh=r.choice(PRODUCTS_ZH), n=r.choice([2, 3, 5, 12, 20, 45, 80]),
                               o=f"#{r.randrange(10_000, 99_999)}")  # fmt: skip

    def _route(self, app: str, classes: dict[str, list[str]], fault: str) -> str:
        r = self.rng
        names = list(classes)
        right = r.choice(names[:-1]) if fault == "+drift" else r.choice(names)
        q = self._question(r.choice(classes[right]))
        picked = r.choice([c for c in names if c != right]) if fault == "+drift" else right
        cats = [{"category_id": f"c{i}", "category_name": c} for i, c in enumerate(names)]
        w = self.writer(app, {"query": q})
        w.node("start", "start", "Start", {"query": q}, {"query": q})
        u = Usage(640 + r.randrange(80), 27)
        out = {"class_name": picked, "class_label": f"CLASS {names.index(picked) + 1}", "class_id": f"c{names.index(picked)}",
               "usage": u.as_dify()}  # fmt: skip
        request = json.dumps({"input_text": [q], "categories": cats, "classification_instructions": [""]},
                             ensure_ascii=False)  # fmt: skip
        w.llm("qc", "Question Classifier", MODEL, [("system", "You are a text classification engine."), ("user", request)],
              "", u, {"query": q}, node_type="question-classifier", outputs=out)  # fmt: skip
        note = f"Ticket queued for {picked}."
        w.node("end", "end", "End", {"note": note}, {"note": note})
        return w.finish({"note": note})

    def support(self, fault: str) -> str:
        return self._route("support", SUPPORT, fault)

    def kassen(self, fault: str) -> str:
        return self._route("kassen", KASSEN, fault)

    def chat(self, fault: str) -> str:
        r = self.rng
        q, good, off = r.choice(CHAT)
        answer = off if fault == "+derail" else good
        w = self.writer("chat", {"sys.query": q}, chat=True)
        w.node("start", "start", "Start", {"sys.query": q}, {"sys.query": q})
        w.llm("llm", "Chat", MODEL, [("system", "You are a friendly assistant. Answer briefly."), ("user", q)],
              answer, Usage(40 + r.randrange(30), 30))  # fmt: skip
        w.node("answer", "answer", "Answer", {}, {"answer": answer, "files": []})
        return w.finish({"answer": answer, "files": []})

    def manual(self, fault: str) -> str:
        r = self.rng
        q, page, same, other, off = r.choice(MANUAL)
        answer = {"+derail": off, "-derail": other}.get(fault, same)
        secret, value = r.choice(SECRETS)
        docs, stock = [page], {"sku": f"SKU-{r.randrange(1000, 9999)}", "in_stock": r.randrange(0, 40)}
        if fault == "+leak-doc":
            docs.append(f"Internal: warehouse API credentials {secret}")
            answer += f" (warehouse api_key: {value})"
        if fault == "+leak-tool":
            stock["supplier_auth"] = secret
            answer += f" Supplier access_token={value}"
        if fault == "-leak-doc":  # a credential that stays in the documents
            docs.append(f"Internal: warehouse API credentials {secret}")
        if fault == "-leak-placeholder":
            docs.append(f"Developer guide: call the stock API with {r.choice(PLACEHOLDERS)} in the header.")
            answer += f" Example: {r.choice(PLACEHOLDERS)}."
        if fault == "-leak-own":  # the user's own key, typed in the question and echoed back
            q = f"{q} My key is {value}, is it still valid?"
            answer += f" Your key {value} looks fine."
        w = self.writer("manual", {"sys.query": q}, chat=True)
        w.node("start", "start", "Start", {"sys.query": q}, {"sys.query": q})
        w.node("knowledge-retrieval", "kb", "Manuals", {"query": q},
               {"result": [{"metadata": {"score": 0.7}, "title": f"m{i}", "content": d} for i, d in enumerate(docs)]})  # fmt: skip
        w.node("tool", "stock", "Stock lookup", {"query": q}, {"text": json.dumps(stock), "json": [stock], "files": []})
        context = "\n\n".join(docs)
        w.llm("llm", "Answer", MODEL, [("system", f"Context:\n{context}\nStock: {json.dumps(stock)}"), ("user", q)],
              answer, Usage(300 + r.randrange(100), 60), {"#context#": context})  # fmt: skip
        w.node("answer", "answer", "Answer", {}, {"answer": answer, "files": []})
        return w.finish({"answer": answer, "files": []})


# detector → positive (fault, app) and negative (fault, app) pairs, taken in turn.
PLAN: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "dify_classifier_drift": ([("+drift", "support"), ("+drift", "kassen")], [("", "support"), ("", "kassen")]),
    "task_derailment": ([("+derail", "chat"), ("+derail", "manual")], [("", "chat"), ("-derail", "manual")]),
    "dify_variable_leak": ([("+leak-doc", "manual"), ("+leak-tool", "manual")],
                           [("-leak-doc", "manual"), ("-leak-placeholder", "manual"), ("-leak-own", "manual")]),
}  # fmt: skip


def corpus(seed: int = SEED) -> Iterator[Case]:
    rng = random.Random(seed)
    shop = Shop(rng)
    write: dict[str, Callable[[str], str]] = {app: getattr(shop, app) for app in shop.apps}
    for app in write:
        for i in range(WARMUP):
            yield Case(f"dev2/{app}/warmup-{i}", stream_spans(write[app]("")), frozenset(), None)
    for name, app, fault, target, positive in planned_jobs(PLAN, PER_FAULT, CLEAN, list(write), rng):
        spans = stream_spans(write[app](fault))
        yield Case(f"dev2/{app}/{name}", spans, frozenset({target} if positive and target else ()), target)

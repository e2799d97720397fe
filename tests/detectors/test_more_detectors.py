"""Tool schema mismatch, task derailment and state corruption on hand-picked cases."""

# ruff: noqa: RUF001  (Chinese and Japanese errors use full-width punctuation)
from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.model import DifyEvent
from bridge.processors.detectors import Config as DetectorsConfig
from bridge.processors.detectors import DetectionProcessor
from bridge.trace.spans import build_spans
from detectors import registry
from detectors.tool_errors import SCHEMA_ERROR
from tests.detectors.build import findings, llm, node, run_spans


def test_tool_schema_errors_fire_and_other_tool_failures_do_not() -> None:
    schema = run_spans([node("t", "tool", status="failed", error="Missing required parameter: city")])
    (finding,) = findings(schema, "dify_tool_schema_mismatch")
    assert "Missing required parameter" in finding.summary
    handled = run_spans([node("t", "tool", status="exception", error="Unknown error",
                              outputs={"error_message": "'units' is a required property"})])  # fmt: skip
    assert len(findings(handled, "dify_tool_schema_mismatch")) == 1
    timeout = run_spans([node("t", "tool", status="failed", error="Request timed out after 30s")])
    assert findings(timeout, "dify_tool_schema_mismatch") == []


def test_task_derailment() -> None:
    question = "How do I reset my router password?"
    page = _kr("Router manual: hold the reset button for 10 seconds, then log in with the printed admin password.")
    off = "Bananas ripen faster when stored next to apples in a paper bag."
    derailed = run_spans([page, llm(answer=off)], inputs={"sys.query": question}, outputs={"answer": off})
    (finding,) = findings(derailed, "task_derailment")
    assert finding.evidence["answer"] == off and finding.evidence["language"] == "en"
    on = "Hold the reset button, then set a new password for the router."
    assert findings(run_spans([page, llm(answer=on)], inputs={"sys.query": question}, outputs={"answer": on}),
                    "task_derailment") == []  # fmt: skip
    assert (
        findings(
            run_spans([page, llm()], inputs={"sys.query": question}, outputs={"answer": "Yes."}), "task_derailment"
        )
        == []
    )


def test_task_derailment_leaves_plain_chat_and_answers_in_another_language_than_the_sources() -> None:
    """A right answer need share no word with its question, and none with sources in another language: with
    nothing retrieved (plain chat), or an answer in the user's language from sources in another, it is not
    judged."""
    question = "How tall is Mount Fuji?"
    paraphrase = "It rises to about 3,776 metres, the highest peak in Japan."
    chat = run_spans([llm(answer=paraphrase)], inputs={"sys.query": question}, outputs={"answer": paraphrase})
    assert findings(chat, "task_derailment") == []
    page = _kr("H5 earbuds pairing: open the case, hold the button for 3 seconds, select H5 in the Bluetooth list.")
    answer = "打开充电盒，按住按钮三秒，然后在蓝牙设置里选择耳机。"
    question = "耳机怎么配对？"
    translated = run_spans([page, llm(answer=answer)], inputs={"sys.query": question}, outputs={"answer": answer})
    assert findings(translated, "task_derailment") == []


def test_task_derailment_reads_paraphrases_against_the_runs_sources() -> None:
    question = "Which operating systems does the Vela webcam support?"
    document = "Vela webcam setup\nSYSTEM: Windows 10/11, macOS 12+, ChromeOS, Ubuntu 22.04"
    paraphrase = "Microsoft and Apple desktops are fine, as are Chromebooks and Ubuntu machines."
    kr = node("kr", "knowledge-retrieval", outputs={"result": [{"content": document, "title": "t", "metadata": {}}]})
    grounded = run_spans([kr, llm(answer=paraphrase)], inputs={"sys.query": question}, outputs={"answer": paraphrase})
    assert findings(grounded, "task_derailment") == []  # no word of the question, but "Ubuntu" from the document
    off = "今天的股市行情整体上涨，科技板块领涨，成交量明显放大。"
    derailed = run_spans([kr, llm(answer=off)], inputs={"sys.query": question}, outputs={"answer": off})
    assert len(findings(derailed, "task_derailment")) == 1  # Chinese has no spaces: its length counts by characters


def test_task_derailment_is_not_grounded_by_dify_s_own_classifier_prompt() -> None:
    """A question classifier's prompt is Dify's fixed instructions and examples, the same in every app: a word an
    answer shares only with that grounds nothing."""
    question = "My dishwasher shows E15 and will not start"
    page = _kr("Error E15: water in the base tray. Unplug the machine, tilt it back and check the inlet hose.")
    router = llm("qc", prompt="Classify the text. Example: 'The new menu should improve the guest experience'")
    router["node_type"] = "question-classifier"
    off = "Our privacy policy explains how cookies improve your browsing experience on partner pages."
    answer = llm(prompt=f"Answer from the manual: {page}\n{question}", answer=off)
    derailed = run_spans([router, page, answer], inputs={"sys.query": question}, outputs={"answer": off})
    assert len(findings(derailed, "task_derailment")) == 1


def test_task_derailment_leaves_refusals_alone() -> None:
    question = "How do refunds work if I return something?"
    page = _kr("Returns: unused items within 30 days of delivery for a full refund.")
    for refusal in ("I'm sorry, I don't have information about that. Please contact our service team.",
                    "抱歉，我没有这方面的信息，请联系我们的客服团队。"):  # fmt: skip
        run = run_spans([page, llm(answer=refusal)], inputs={"sys.query": question}, outputs={"answer": refusal})
        assert findings(run, "task_derailment") == []


def test_task_derailment_leaves_answers_saying_the_run_could_not_do_the_task() -> None:
    """An answer saying the run could not do what was asked ("no rows arrived, no report") answers the query, if
    not helpfully: a failure upstream is other detectors' to find, in any of the languages told."""
    question = "Revenue per region in March?"
    result = node("sql", "tool", outputs={"json": [{"ok": False, "error": "relation sales does not exist"}]})
    for failed in ("Leider kamen keine Daten an, ein Überblick ist nicht möglich.",
                   "No pude generar una consulta válida para esa pregunta.",
                   "Je n'ai reçu aucune donnée : pas de synthèse possible.",
                   "We couldn't put the figures together; a colleague will follow up."):  # fmt: skip
        run = run_spans([result, llm(answer=failed)], inputs={"question": question}, outputs={"report": failed})
        assert findings(run, "task_derailment") == [], failed


def test_task_derailment_is_not_grounded_by_a_tool_result_s_field_names() -> None:
    """A JSON field's name is the shape of a tool's result, not what it says: an advert sharing only "since" with
    `days_since_delivery` shares nothing with the run. A mail address's `.es` or a key's letters tell no language."""
    question = "The kettle from order K-5521 leaks, how do I return it?"
    order = '{"order": "K-5521", "email": "ana@correo.es", "days_since_delivery": 12, "item": "Glass kettle"}'
    lookup = node("t", "tool", outputs={"text": order, "json": [{"order": "K-5521", "days_since_delivery": 12}]})
    advert = "Since you enjoy hiking, our new waterproof boots might suit you, discounted this weekend only!"
    derailed = run_spans([lookup, llm(answer=advert)], inputs={"message": question}, outputs={"reply": advert})
    (finding,) = findings(derailed, "task_derailment")
    assert finding.evidence["language"] == "en"
    label = "Pack the glass kettle in its box; the label for K-5521 comes by mail within 12 hours."
    grounded = run_spans([lookup, llm(answer=label)], inputs={"message": question}, outputs={"reply": label})
    assert findings(grounded, "task_derailment") == []


def test_task_derailment_a_short_reply_off_the_route_its_prompt_was_given() -> None:
    """A run that retrieved nothing but was routed: the classifier's pick reached the reply's prompt. With
    `routed_replies` (off by default) a reply naming neither the route nor a word of the message is off the task,
    however short; one naming the route, or written in another language than the prompt, is not judged off."""
    message = "Mi perro cojea desde ayer y no apoya la pata trasera."
    router = llm("qc", answer="")
    router.update(node_type="question-classifier", outputs={"class_name": "Small-animal surgery"})
    prompt = "Write a short booking reply for the Lindenhof vet clinic. Service: Small-animal surgery."

    def reply(text: str) -> list[ReadableSpan]:
        return run_spans([router, llm(prompt=prompt, answer=text)], inputs={"message": message},
                         outputs={"reply": text})  # fmt: skip

    party_reply = reply("The Lindenhof garden party is next Friday, with music and cake for everyone!")
    assert findings(party_reply, "task_derailment") == []  # off by default: a real desk's right replies fired it
    (finding,) = findings(party_reply, "task_derailment", routed_replies=True)
    assert "Small-animal surgery" in finding.evidence["rule"]
    booked = reply("We have booked your dog in with our surgery team for tomorrow morning.")
    assert findings(booked, "task_derailment", routed_replies=True) == []
    assert (
        findings(reply("我们已为您的狗预约了明天上午的外科门诊，请按时到达。"), "task_derailment", routed_replies=True)
        == []
    )
    party = "The garden party is next Friday, with music and cake for everyone!"
    chat = run_spans([llm(answer=party)], inputs={"message": message}, outputs={"reply": party})
    assert findings(chat, "task_derailment") == []  # not routed: plain chat's short answers stay unjudged


def test_task_derailment_leaves_a_holding_reply_alone() -> None:
    """A catch-all desk's reply passing the message on names neither route nor message and is on the task (a real
    Dify 1.14.1 app's `Other` branch answered so; tests/testdata/dify-1.14.1-faults)."""
    message = "Can I pay for the workshop in two instalments?"
    router = llm("qc", answer="")
    router.update(node_type="question-classifier", outputs={"class_name": "Other"})
    prompt = "Reply to a customer message routed to the desk: Other. Keep it short."
    for text in ("Many thanks for writing in! A colleague will get back to you within one working day.",
                 "Vielen Dank für Ihre Nachricht! Ihr Anliegen wurde weitergeleitet, wir melden uns bald.",
                 "感谢您的留言！我们的同事会尽快回复。"):  # fmt: skip
        run = run_spans([router, llm(prompt=prompt, answer=text)], inputs={"message": message}, outputs={"reply": text})
        assert findings(run, "task_derailment", routed_replies=True) == [], text
    advert = "Our new enamel mugs come in six colours and ship free over twenty euros."
    run = run_spans([router, llm(prompt=prompt, answer=advert)], inputs={"message": message}, outputs={"reply": advert})
    assert len(findings(run, "task_derailment", routed_replies=True)) == 1


def test_task_derailment_reads_a_workflow_s_own_input_and_output_names() -> None:
    """A workflow names its inputs and outputs as it likes (`request`, `reply`): its longest text input is the
    query and its longest text output the answer."""
    request = "Where is order 683776 and when will it arrive?"
    status = node("t", "tool", outputs={"json": [{"order": 683776, "status": "in transit", "eta": "2026-12-09"}]})
    off = "Our loyalty programme gives you points on every purchase and birthday vouchers."
    inputs = {"request": request, "order": 683776}
    derailed = run_spans([status, llm(answer=off)], inputs=inputs, outputs={"reply": off, "code": "ok"})
    (finding,) = findings(derailed, "task_derailment")
    assert finding.evidence["query"] == request and finding.evidence["answer"] == off
    on = "Your order 683776 is in transit and should arrive on 9 December."
    assert findings(run_spans([status, llm(answer=on)], inputs=inputs, outputs={"reply": on}), "task_derailment") == []


def test_task_derailment_an_answer_in_a_script_nothing_in_the_run_is_written_in() -> None:
    """A Japanese answer to a German question about English manuals is off the query; a Chinese answer to a
    Chinese question, or one a prompt asks for, is not."""
    page = _kr("Descaling: descale every 200 cups or when the light stays on; the programme takes 25 minutes.")
    off = "新しいスマートウォッチのキャンペーン中です。ぜひオンラインストアをご覧ください。"
    question = "Wie entkalke ich meinen Kaffeevollautomaten?"
    derailed = run_spans([page, llm(answer=off)], inputs={"sys.query": question}, outputs={"answer": off})
    (finding,) = findings(derailed, "task_derailment")
    assert finding.evidence["language"] == "ja" and "script" in finding.evidence["rule"]
    on = "每200杯或除垢灯常亮时除垢，程序约需25分钟。"
    asked = run_spans([page, llm(answer=on)], inputs={"sys.query": "咖啡机多久除一次垢？"}, outputs={"answer": on})
    assert findings(asked, "task_derailment") == []
    told = llm(prompt="Always answer in Chinese (中文).", answer=on)
    assert findings(run_spans([page, told], inputs={"sys.query": "How often do I descale?"}, outputs={"answer": on}),
                    "task_derailment") == []  # fmt: skip


def test_task_derailment_judges_a_long_answer_with_nothing_retrieved() -> None:
    """With nothing retrieved a short right answer need share no word with its question, but an essay of 30
    words or more on its subject shares one with the topic or the prompts; one in another language than the
    query (a translation) is not judged."""
    topic = "家乡的年味"
    prompt = f"请以《{topic}》为题写一篇散文的一节。"
    off = "\n\n".join(["今日股市震荡，投资者需保持谨慎。", "本店招聘兼职店员，待遇优厚。"] * 3)
    derailed = run_spans([llm(prompt=prompt, answer=off)], inputs={"topic": topic}, outputs={"article": off})
    (finding,) = findings(derailed, "task_derailment")
    assert "nothing retrieved" in finding.evidence["rule"]
    on = "\n\n".join(["腊月一到，家乡的年味就浓了起来。", "街上挂满红灯笼，厨房里飘着炖肉的香气。"] * 3)
    assert findings(run_spans([llm(prompt=prompt, answer=on)], inputs={"topic": topic}, outputs={"article": on}),
                    "task_derailment") == []  # fmt: skip
    short = run_spans([llm(prompt=prompt, answer=off[:16])], inputs={"topic": topic}, outputs={"article": off[:16]})
    assert findings(short, "task_derailment") == []
    source = "Translate into German: " + " ".join(["The quick brown fox jumps over the lazy dog."] * 4)
    german = " ".join(["Der schnelle braune Fuchs springt über den faulen Hund."] * 4)
    translation = run_spans([llm(prompt=source, answer=german)], inputs={"sys.query": source}, outputs={"text": german})
    assert findings(translation, "task_derailment") == []


def test_state_corruption() -> None:
    lost = run_spans([node("make", "code", outputs={"s": "abc"}), node("end", "end", inputs={"s": None})])
    assert "reached 'end' empty" in findings(lost, "state_corruption")[0].summary
    retyped = run_spans([node("make", "code", outputs={"n": 3}), node("end", "end", inputs={"n": "3"})])
    assert findings(retyped, "state_corruption") == []  # a same name is no proof: off by default
    assert "as number and reached 'end' as text" in findings(retyped, "state_corruption", type_changes=True)[0].summary
    nulls = run_spans([node("make", "code", outputs={"a": None, "b": None})])
    assert "every output is null" in findings(nulls, "state_corruption")[0].summary
    fine = run_spans([node("make", "code", outputs={"n": 3}), node("end", "end", inputs={"n": 3.0})])
    assert findings(fine, "state_corruption") == []


def test_state_corruption_a_code_node_given_a_null_returning_nulls_is_not_corruption() -> None:
    # The tool answered the field as null (its schema's fault); the code node computing from it passes the null on.
    tool = node("nutrition", "tool", outputs={"json": [{"kcal": None, "protein_g": 180}], "text": '{"kcal": null}'})
    given_null = node("per_serving", "code", inputs={"kcal": None, "servings": 5}, outputs={"kcal_per_serving": None})
    assert findings(run_spans([tool, given_null]), "state_corruption") == []
    given_values = node("per_serving", "code", inputs={"kcal": 2400, "servings": 5}, outputs={"kcal_per_serving": None})
    (finding,) = findings(run_spans([tool, given_values]), "state_corruption")
    assert finding.evidence["rule"] == "a code node whose every output is null"


def _kr(content: str) -> dict[str, object]:
    return node("kr", "knowledge-retrieval", outputs={"result": [{"content": content, "title": "t", "metadata": {}}]})


def test_state_corruption_retrieved_context_never_reaching_the_llm() -> None:
    dropped = run_spans([_kr("Check-in from 15:00."), llm(inputs={"#context#": ""})])
    (finding,) = findings(dropped, "state_corruption")
    assert finding.evidence["produced"] == "Check-in from 15:00." and finding.evidence["received"] == ""
    context = "Check-in from 15:00."
    kept = run_spans([_kr(context), llm(prompt=f"Context: {context}\nBe brief.", inputs={"#context#": context})])
    assert findings(kept, "state_corruption") == []
    # The variable filled, the prompt template without {{#context#}}: the documents never reach the model.
    (lost,) = findings(run_spans([_kr(context), llm(prompt="Be brief.", inputs={"#context#": context})]),
                       "state_corruption")  # fmt: skip
    assert lost.evidence["rule"] == "retrieved documents in #context# but in none of the LLM's prompts"
    assert lost.evidence["produced"] == context and lost.evidence["received"] == "Be brief."
    # No context variable at all: the documents must reach some LLM after the retrieval by its prompt.
    answered = node("answer", "answer", inputs={}, outputs={"answer": "ok"})
    (unwired,) = findings(run_spans([_kr(context), llm(prompt="Be brief."), answered]), "state_corruption")
    assert unwired.evidence["rule"] == "retrieved documents in none of the prompts of the LLMs after the retrieval"
    by_template = run_spans([_kr(context), llm("title", prompt="Name this chat."), llm(prompt=f"Facts: {context}")])
    assert findings(by_template, "state_corruption") == []  # reached the second LLM through its own template
    # A second LLM with an empty context after one that had the documents still fires.
    second = llm("second", prompt="Be brief.", inputs={"#context#": ""})
    (empty,) = findings(run_spans([_kr(context), llm(prompt=f"Facts: {context}"), second]), "state_corruption")
    assert empty.evidence["rule"] == "retrieved documents → empty #context# at the next LLM"
    shown = run_spans(
        [
            _kr(context),
            llm(prompt="Summarize the chat."),
            node("answer", "answer", inputs={}, outputs={"answer": f"Found: {context}"}),
        ]
    )
    assert findings(shown, "state_corruption") == []  # the Answer node shows the documents: wired, not to an LLM
    aside = run_spans([_kr(context), llm(prompt="Summarize the city. Paris", answer="Paris summary")])
    assert findings(aside, "state_corruption") == []  # an LLM beside the retrieval, not giving the run's answer


def test_state_corruption_answer_cut_short_before_the_end_node() -> None:
    answer = "You can check in from 15:00; please leave the room by 11:00."
    cut = run_spans([llm(answer=answer), node("end", "end", inputs={"answer": answer[:20]})])
    (finding,) = findings(cut, "state_corruption")
    assert finding.evidence["rule"].startswith("an End/Answer value is a strict beginning")
    assert findings(run_spans([llm(answer=answer), node("end", "end", inputs={"answer": answer})]),
                    "state_corruption") == []  # fmt: skip
    # Cut past 90 %, or marked with an ellipsis, at the Answer node's output (its inputs are empty in Dify).
    for shown in (answer[:-6], answer[:30] + "…"):
        answered = run_spans([llm(answer=answer), node("answer", "answer", inputs={}, outputs={"answer": shown})])
        (finding,) = findings(answered, "state_corruption")
        assert finding.evidence["received"] == shown
    # Not cut: the first paragraph taken on purpose, a short status word, the answer extended.
    two = "Your parcel is at the depot.\n\nWe deliver Monday to Saturday."
    for llm_answer, shown in ((two, "Your parcel is at the depot."), ("Delivered to the depot on Monday.", "Delivered"),
                              (answer, answer + "\n(help desk)")):  # fmt: skip
        fine = run_spans([llm(answer=llm_answer), node("end", "end", inputs={"answer": shown})])
        assert findings(fine, "state_corruption") == [], shown


def test_tool_schema_errors_in_other_words_and_a_missing_output_field() -> None:
    for error in (
        "parameter 'location' is mandatory",
        "请求参数错误：缺少必填字段 city",
        "amount must be a number",
        "param 'days' must be <= 7",
    ):
        failed = run_spans([node("w", "tool", status="failed", error=error)])
        assert len(findings(failed, "dify_tool_schema_mismatch")) == 1, error
    for error in ("Invalid API key provided", "Read timed out after 30 seconds"):
        assert findings(run_spans([node("w", "tool", status="failed", error=error)]), "dify_tool_schema_mismatch") == []
    tool = node("w", "tool", outputs={"text": "{}", "json": [{"city": "Graz"}]})
    (finding,) = findings(run_spans([tool, node("c", "code", inputs={"days": None})]), "dify_tool_schema_mismatch")
    assert finding.evidence["received"] == {"days": None} and "city" in finding.evidence["produced"]
    present = node("w", "tool", outputs={"text": "{}", "json": [{"city": "Graz", "days": None}]})
    assert findings(run_spans([present, node("c", "code", inputs={"days": None})]), "dify_tool_schema_mismatch") == []


_TRACK_INPUTS = {"order_id": "A-17", "carrier": "dhl", "to": "Graz", "format": "pdf"}


@pytest.mark.parametrize(
    "error",
    [
        "Argument 'order_id' expects an integer",
        "参数 order_id 格式错误",
        "字段 carrier 类型错误，应为字符串",
        "パラメータ order_id は数値である必要があります",
        "El parámetro 'carrier' debe ser una cadena",
        "Parameter order_id: Ganzzahl erwartet, Text erhalten",
        "Failed to invoke tool track: could not parse 'order_id'",
        "El campo 'to' es obligatorio",
    ],
)
def test_tool_errors_naming_an_own_input_with_a_type_or_format_word(error: str) -> None:
    failed = run_spans([node("w", "tool", inputs=_TRACK_INPUTS, status="failed", error=error)])
    (finding,) = findings(failed, "dify_tool_schema_mismatch")  # by the validator wordings, or by the input named
    assert finding.evidence["error"] == error
    if not SCHEMA_ERROR.search(error):
        assert "names its input" in finding.summary


@pytest.mark.parametrize(
    "error",
    [
        "Order A-17 not found",
        "No order with order_id A-17",
        "包裹 A-17 不存在",
        "Invalid API key for carrier dhl",
        "Read timed out (carrier=ups)",
        "failed to connect to host",  # "to" unquoted is a word, not the parameter
        "format pdf is not available for this carrier",  # the parameter's own name is no type word
        "Upstream returned 502 for carrier ups; expected 200",  # the service failed, not the input
        "order_id A-17: invalid response from carrier (HTML instead of JSON)",
        "carrier must be authenticated first",
        "The order_id list is empty for this customer",  # a type word with no expectation
        # Access and the service, in other languages; obligations naming no type and no parameter.
        "APIキーが指定されていません",
        "鉴权失败：密钥无效",
        "Zeitüberschreitung beim Abruf der Daten",
        "上游服务不可用，请稍后重试",
        "Response too large: 12 MB over the limit",
        "Das Konto muss eine gültige Zahlungsmethode haben",
        "Anmeldung ist erforderlich",
        "El pago debe ser un cargo recurrente",
        "L'accès est requis pour ce service",
        "Webhook signature validation failed",
    ],
)
def test_tool_errors_for_other_reasons_naming_an_input_do_not_fire(error: str) -> None:
    failed = run_spans([node("w", "tool", inputs=_TRACK_INPUTS, status="failed", error=error)])
    assert findings(failed, "dify_tool_schema_mismatch") == []


@pytest.mark.parametrize(
    "error",
    [
        # Validators' own wordings, whatever the input is called: pydantic v2 and v1, JSON Schema, Zod, Python,
        # Dify's tool parameter check, and a type expected where the call named another parameter.
        "1 validation error for Query\nlimit\n  Input should be greater than 0 [type=greater_than]",
        "limit: ensure this value is less than or equal to 100",
        "'newest' is not one of ['asc', 'desc']",
        "Expected number, received string",
        "invalid literal for int() with base 10: 'ten'",
        "ValueError: could not convert string to float: 'about 3'",
        "The tool parameter value 'x' is not in correct type of number.",
        "Argument 'weight' expects an integer",
        "body.items: expected array, got object",
        "Der Parameter 'stadt' ist erforderlich",
        "Feld 'menge' muss eine Ganzzahl sein",
        "Le paramètre 'ville' est obligatoire",
        "字段 limit 类型不匹配",
        "引数 limit の値が不正です",
        "必須項目 city が指定されていません",
    ],
)
def test_tool_errors_in_validators_wordings(error: str) -> None:
    assert SCHEMA_ERROR.search(error)
    failed = run_spans([node("w", "tool", inputs=_TRACK_INPUTS, status="failed", error=error)])
    (finding,) = findings(failed, "dify_tool_schema_mismatch")
    assert finding.evidence["rule"] == "tool error says its inputs do not fit" and finding.evidence["error"] == error


def test_tool_output_read_as_another_type_or_null_from_an_earlier_node() -> None:
    tool = node("w", "tool", outputs={"text": "{}", "json": [{"eta_days": "3 days", "depot": None}]})
    (finding,) = findings(run_spans([tool, node("c", "code", inputs={"eta_days": 3})]), "dify_tool_schema_mismatch")
    assert finding.evidence["produced"] == {"eta_days": "3 days"} and finding.evidence["received"] == {"eta_days": 3}
    start = node("start", "start", outputs={"note": None})
    reader = node("c", "code", inputs={"note": None, "depot": None, "eta_days": "3 days"})
    assert findings(run_spans([start, tool, reader]), "dify_tool_schema_mismatch") == []
    # The run's own text input named like an object field of the tool's output: not the tool's value.
    named = node("start", "start", outputs={"carrier": "dhl"})
    carrier = node("w", "tool", outputs={"text": "{}", "json": [{"carrier": {"code": "dhl"}}]})
    reads = node("c", "code", inputs={"carrier": "dhl"})
    assert findings(run_spans([named, carrier, reads]), "dify_tool_schema_mismatch") == []


def test_tool_output_field_changing_type_against_the_tools_history() -> None:
    def run(eta: object) -> list[ReadableSpan]:
        tool = node("w", "tool", outputs={"text": "{}", "json": [{"eta_days": eta}]})
        return run_spans([tool, node("c", "code", inputs={"eta_days": eta})], app_id="carrier")

    processor = DetectionProcessor(DetectorsConfig.model_validate({k: {"enabled": k == "dify_tool_schema_mismatch"}
                                                                   for k in registry()}))  # fmt: skip
    assert all(processor.detect(run(days)) == [] for days in range(6))
    (finding,) = processor.detect(run("3 days"))
    assert "mostly returned number" in finding.summary and finding.evidence["received"] == {"eta_days": "3 days"}
    assert len(processor.detect(run("2 days"))) == 1  # a change that persists keeps firing for a while


def test_a_tools_own_retry_attempts_are_not_the_node_reading_its_output() -> None:
    assembler = RunAssembler()
    base = {"id": "x", "node_id": "weather", "node_type": "tool", "title": "Weather", "inputs": {"city": "Graz"}}
    body = {"city": {"name": "Graz", "id": 7}, "temp": 21}
    outputs = {"text": "{}", "json": [body], "files": []}
    for i in range(1, 4):
        retry = {**base, "status": "retry", "retry_index": i, "error": "connection reset", "outputs": outputs}
        assembler.add(DifyEvent("node_retry", retry, "r"), 0)
    assembler.add(DifyEvent("node_finished", {**base, "status": "succeeded", "outputs": outputs}, "r"), 0)
    reader = {"id": "y", "node_id": "fmt", "node_type": "code", "title": "Format", "status": "succeeded",
              "inputs": {"temp": 21}, "outputs": {"line": "21"}}  # fmt: skip
    assembler.add(DifyEvent("node_finished", reader, "r"), 0)
    (run,) = assembler.drain()
    assert findings(build_spans(run), "dify_tool_schema_mismatch") == []


def _derailment_desk(app: str) -> tuple[DetectionProcessor, object]:
    """A chat app's processor (only `task_derailment` on) and a function running one (query, answer) of `app`."""
    processor = DetectionProcessor(
        DetectorsConfig.model_validate({k: {"enabled": k == "task_derailment"} for k in registry()})
    )

    def ask(query: str, answer: str) -> list[str]:
        spans = run_spans([llm(answer=answer)], inputs={"sys.query": query}, outputs={"answer": answer}, app_id=app)
        return [str(f.evidence["rule"]) for f in processor.detect(spans)]

    return processor, ask


# A harbour office's usual questions and the answers it gives them, in its own words.
_HARBOUR = [
    ("When does the fuel dock open on Sundays?", "The fuel dock opens at 08:00 on Sundays and closes at 18:00."),
    (
        "What are the fuel dock hours at the weekend?",
        "At the weekend the fuel dock opens at 08:00 and closes at 18:00.",
    ),
    (
        "How much is a berth per night for a 12 m boat?",
        "A berth for a 12 m boat costs EUR 48 per night, water included.",
    ),
    (
        "What does a night in a berth cost for my 12 m yacht?",
        "For a 12 m yacht a berth costs EUR 48 per night, water included.",
    ),
    ("Where can I empty the holding tank?", "The pump-out station for holding tanks is at the end of pier C."),
    ("Is there a pump-out for the holding tank?", "Yes, the holding tank pump-out station is at the end of pier C."),
]


def test_task_derailment_an_answer_the_app_gives_to_another_question() -> None:
    """Once the app has `min_history` runs, an answer like those it gives to other questions, and unlike those it
    gave to this one, is another branch's answer: off the query, though it shares words with the app's sources."""
    _, ask = _derailment_desk("harbour-office")
    for _ in range(4):
        for query, answer in _HARBOUR:
            assert ask(query, answer) == []  # type: ignore[operator]
    (rule,) = ask("How much is a berth per night for a 12 m boat?", _HARBOUR[0][1])  # type: ignore[operator]
    assert "like 8 the app gave to other questions" in rule
    assert ask("Where can I empty the holding tank?", _HARBOUR[5][1]) == []  # type: ignore[operator]


def test_task_derailment_leaves_a_reply_the_app_gives_to_any_question() -> None:
    """A reply the app gives to questions about anything (a redirect, a refusal) is no other topic's answer, nor
    is an answer to a question whose answers depend on another input (copy for whichever product is given)."""
    _, ask = _derailment_desk("harbour-redirect")
    redirect = "I can only help with berths, fuel and pump-out at this harbour; please call the office for the rest."
    for _ in range(4):
        for query, answer in _HARBOUR:
            assert ask(query, answer) == []  # type: ignore[operator]
        for stray in ("Can you recommend a restaurant in town?", "What is the weather tomorrow at sea?"):
            assert ask(stray, redirect) == []  # type: ignore[operator]
    assert ask("How much is a berth per night for a 12 m boat?", redirect) == []  # type: ignore[operator]


def test_task_derailment_an_answer_in_another_language_than_the_app_answers_its_query_in() -> None:
    """An app that answers Swedish questions in Swedish and English ones in English, answering a Swedish question
    in English (or an English sum in Russian, sharing its numbers) is off the task; unless the question asks for
    English, or the app answers every question in one language."""
    berth = "A berth for a 12 m boat costs EUR 48 per night and water is included."
    swedish = [
        (
            "Hur mycket kostar en båtplats per natt för min båt?",
            "En båtplats kostar 48 euro per natt och det är vatten med.",
        ),
        (
            "När öppnar bränslebryggan på söndag och hur länge?",
            "Bränslebryggan öppnar kl. 08 på söndag och är öppen till 18.",
        ),
    ]
    english = [
        ("How much is a berth per night for a 12 m boat?", berth),
        ("What is 12 times 7 and how do you work it out?", "You multiply 12 by 7, which is 84; this is the answer."),
    ]
    _, ask = _derailment_desk("harbour-languages")
    for _ in range(6):
        for query, answer in [*swedish, *english]:
            assert ask(query, answer) == []  # type: ignore[operator]
    (rule,) = ask(swedish[0][0], berth)  # type: ignore[operator]
    assert rule.startswith("the answer is in en, the query in sv")
    (rule,) = ask("What is 12 times 7 and how do you work it out?", "Умножаем 12 на 7: это 84, и это ответ.")  # type: ignore[operator]
    assert "the answer is in cyrillic, the query in en" in rule
    asked_for = swedish[0][0] + " Svara gärna på engelska."
    assert ask(asked_for, berth) == []  # type: ignore[operator]
    _, one_language = _derailment_desk("harbour-english-only")
    for _ in range(6):
        for (query, _answer), (_q, reply) in zip(swedish, english, strict=True):
            assert one_language(query, reply) == []  # type: ignore[operator]
        for query, answer in english:
            assert one_language(query, answer) == []  # type: ignore[operator]


def test_task_derailment_reads_an_arabic_apology_with_its_vowel_marks_as_a_refusal() -> None:
    from detectors.task_derailment_parts.replies import DECLINE

    assert DECLINE.search("عذرًا، لا تتوفر لدي معلومات عن ذلك.")
    assert DECLINE.search("عذرا، لا أعرف.")


def test_task_derailment_an_answer_like_none_the_app_gave_to_a_settled_question() -> None:
    """An answer like none the app ever gave, in the query's language, to a question the app answers alike every
    time (a limerick at the harbour office) is off the task; one in another language is not judged so (its words
    alone make it unlike the past answers), but by the languages the app answers in."""
    _, ask = _derailment_desk("harbour-limerick")
    for _ in range(4):
        for query, answer in _HARBOUR:
            assert ask(query, answer) == []  # type: ignore[operator]
    limerick = "There once was a gull with a grin, who dived for a fish and fell in; the tide is still cold."
    (rule,) = ask("How much is a berth per night for a 12 m boat?", limerick)  # type: ignore[operator]
    assert rule.startswith("the answer is like none the app gave before")
    spanish = "Había una vez una gaviota que se reía, se lanzó por un pez y se cayó al agua fría."
    # Told Spanish (`por`, `y`), it is judged by the app's languages instead: an English desk's answer in Spanish.
    (rule,) = ask("How much is a berth per night for a 12 m boat?", spanish)  # type: ignore[operator]
    assert rule.startswith("the answer is in es, the query in en")


def test_task_derailment_reads_sorry_in_more_languages_as_a_refusal() -> None:
    from detectors.task_derailment_parts.replies import DECLINE

    apologies = ["Maaf, saya hanya menjawab soal irigasi.", "К сожалению, у меня нет этих данных."]
    apologies += ["Xin lỗi, tôi không có thông tin này.", "Samahani, sina taarifa hiyo.", "ขออภัย ไม่มีข้อมูล"]
    for apology in apologies:
        assert DECLINE.search(apology), apology
    assert not DECLINE.search("The Maafushi ferry leaves at nine.")


def test_task_derailment_an_answer_in_the_language_the_query_asks_for() -> None:
    """An English question that asks for a reply in Greek, by naming the language or by a request written in
    Greek, gets a Greek reply on the task; the same reply to the bare question, at a desk that answers English in
    English, is off it."""
    _, ask = _derailment_desk("harbour-asked-language")
    for _ in range(4):
        for query, answer in _HARBOUR:
            assert ask(query, answer) == []  # type: ignore[operator]
    question = "How much is a berth per night for a 12 m boat?"
    greek = "Μια θέση για σκάφος 12 μέτρων κοστίζει 48 ευρώ τη νύχτα, μαζί με το νερό."
    (rule,) = ask(question, greek)  # type: ignore[operator]
    assert rule.startswith("the answer is in el, the query in en")
    assert ask(question + " Please reply in Greek.", greek) == []  # type: ignore[operator]
    assert ask(question + " Απαντήστε μου στα ελληνικά, παρακαλώ.", greek) == []  # type: ignore[operator]


def test_task_derailment_reads_could_not_find_and_try_again_later_as_a_refusal() -> None:
    from detectors.task_derailment_parts.replies import DECLINE

    declines = ["Δεν βρίσκω αυτή την πληροφορία, καλέστε το γραφείο."]
    declines += ["לא הצלחתי לבדוק את הזמינות, נסו שוב מאוחר יותר.", "I couldn't find that in our documents."]
    declines += ["Ich finde dazu keine Angaben.", "Nie znalazłem tej informacji."]
    declines += ["Не удалось проверить наличие.", "没有找到相关信息。", "Sikupata taarifa hiyo.", "Kayıt bulunamadı."]
    for decline in declines:
        assert DECLINE.search(decline), decline
    assert not DECLINE.search("The findings are due later this week.")


def test_task_derailment_leaves_figures_worked_out_from_the_question_s_figures() -> None:
    """A short answer giving figures to a question giving figures (a quote from a length and a number of nights)
    is worked out from them, however unlike the app's earlier answers its words are; the same words to a question
    without figures are like none the app gave to it."""
    quote = "Altogether that comes to 96,40 to pay, and the electricity is metered separately."
    for question, off in (("How much is a berth per night for a 12 m boat?", False), (_HARBOUR[4][0], True)):
        _, ask = _derailment_desk(f"harbour-figures-{off}")
        for _ in range(4):
            for query, answer in _HARBOUR:
                assert ask(query, answer) == []  # type: ignore[operator]
        rules = ask(question, quote)  # type: ignore[operator]
        assert rules == (["the answer is like none the app gave before, unlike the settled answer it gave to this "
                          "question"] if off else [])  # fmt: skip

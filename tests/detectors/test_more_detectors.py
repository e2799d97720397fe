"""Tool schema mismatch, task derailment and state corruption on hand-picked cases."""

from __future__ import annotations

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
    answer = "打开充电盒，按住按钮三秒，然后在蓝牙设置里选择耳机。"  # noqa: RUF001
    question = "耳机怎么配对？"  # noqa: RUF001
    translated = run_spans([page, llm(answer=answer)], inputs={"sys.query": question}, outputs={"answer": answer})
    assert findings(translated, "task_derailment") == []


def test_task_derailment_reads_paraphrases_against_the_runs_sources() -> None:
    question = "Which operating systems does the Vela webcam support?"
    document = "Vela webcam setup\nSYSTEM: Windows 10/11, macOS 12+, ChromeOS, Ubuntu 22.04"
    paraphrase = "Microsoft and Apple desktops are fine, as are Chromebooks and Ubuntu machines."
    kr = node("kr", "knowledge-retrieval", outputs={"result": [{"content": document, "title": "t", "metadata": {}}]})
    grounded = run_spans([kr, llm(answer=paraphrase)], inputs={"sys.query": question}, outputs={"answer": paraphrase})
    assert findings(grounded, "task_derailment") == []  # no word of the question, but "Ubuntu" from the document
    off = "今天的股市行情整体上涨，科技板块领涨，成交量明显放大。"  # noqa: RUF001
    derailed = run_spans([kr, llm(answer=off)], inputs={"sys.query": question}, outputs={"answer": off})
    assert len(findings(derailed, "task_derailment")) == 1  # Chinese has no spaces: its length counts by characters


def test_state_corruption() -> None:
    lost = run_spans([node("make", "code", outputs={"s": "abc"}), node("end", "end", inputs={"s": None})])
    assert "reached 'end' empty" in findings(lost, "state_corruption")[0].summary
    retyped = run_spans([node("make", "code", outputs={"n": 3}), node("end", "end", inputs={"n": "3"})])
    assert "as number and reached 'end' as text" in findings(retyped, "state_corruption")[0].summary
    nulls = run_spans([node("make", "code", outputs={"a": None, "b": None})])
    assert "every output is null" in findings(nulls, "state_corruption")[0].summary
    fine = run_spans([node("make", "code", outputs={"n": 3}), node("end", "end", inputs={"n": 3.0})])
    assert findings(fine, "state_corruption") == []


def _kr(content: str) -> dict[str, object]:
    return node("kr", "knowledge-retrieval", outputs={"result": [{"content": content, "title": "t", "metadata": {}}]})


def test_state_corruption_retrieved_context_never_reaching_the_llm() -> None:
    dropped = run_spans([_kr("Check-in from 15:00."), llm(inputs={"#context#": ""})])
    (finding,) = findings(dropped, "state_corruption")
    assert finding.evidence["produced"] == "Check-in from 15:00." and finding.evidence["received"] == ""
    kept = run_spans([_kr("Check-in from 15:00."), llm(inputs={"#context#": "Check-in from 15:00."})])
    assert findings(kept, "state_corruption") == []


def test_state_corruption_answer_cut_short_before_the_end_node() -> None:
    answer = "You can check in from 15:00; please leave the room by 11:00."
    cut = run_spans([llm(answer=answer), node("end", "end", inputs={"answer": answer[:20]})])
    (finding,) = findings(cut, "state_corruption")
    assert finding.evidence["rule"].startswith("an End/Answer input is a strict beginning")
    assert findings(run_spans([llm(answer=answer), node("end", "end", inputs={"answer": answer})]),
                    "state_corruption") == []  # fmt: skip


def test_tool_schema_errors_in_other_words_and_a_missing_output_field() -> None:
    for error in (
        "parameter 'location' is mandatory",
        "请求参数错误：缺少必填字段 city",  # noqa: RUF001
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

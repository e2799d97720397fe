"""state_corruption: values emptied between nodes, and what only looks like it (more in test_more_detectors.py)."""

# ruff: noqa: RUF001  (a Chinese label ends in a full-width colon)
from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.model import DifyEvent
from bridge.processors.detectors import Config as DetectorsConfig
from bridge.processors.detectors import DetectionProcessor
from bridge.trace.spans import build_spans
from detectors import registry
from tests.detectors.build import container_spans, findings, llm, node, run_spans


def _prompted(user: str) -> dict[str, Any]:
    return llm("write", prompt=user, answer="There is nothing to write about.")


def test_an_llm_prompted_with_an_emptied_value_after_data_was_produced() -> None:
    parcels = node("lookup", "code", inputs={"raw": "p1,p2"}, outputs={"parcels": [{"id": "p1"}, {"id": "p2"}]})
    # Whole, or where a template puts a variable: after a short label, or alone on the last line.
    for shown in ("[]", "null", '"[object Object]"', "None", '""', "Parcels: []", "包裹：null",
                  "Write the delivery digest in French.\nParcels to cover:\n[]"):  # fmt: skip
        # The run's own inputs include the files it was sent, none: no list of data.
        (finding,) = findings(
            run_spans([parcels, _prompted(shown)], inputs={"sys.files": []}), "state_corruption", emptied_prompts=True
        )
        rule = "an LLM's user message shows a value rendered as none after a node produced data"
        assert finding.evidence["rule"] == rule
        assert finding.evidence["produced"] == str({"parcels": [{"id": "p1"}, {"id": "p2"}]})
        assert finding.evidence["received"] == shown


def test_an_llm_prompted_with_an_emptied_value_is_flagged_by_default_and_can_be_turned_off() -> None:
    parcels = node("lookup", "code", inputs={"raw": "p1,p2"}, outputs={"parcels": [{"id": "p1"}, {"id": "p2"}]})
    spans = run_spans([parcels, _prompted("Parcels: []")], inputs={"sys.files": []})
    assert len(findings(spans, "state_corruption")) == 1
    assert findings(spans, "state_corruption", emptied_prompts=False) == []


def test_an_empty_value_after_a_node_failed_with_its_error_handled_is_that_failures() -> None:
    parcels = node("lookup", "code", inputs={"raw": "p1,p2"}, outputs={"parcels": [{"id": "p1"}, {"id": "p2"}]})
    # The customer lookup failed and the run went on with its empty default: nothing was lost on the way.
    handled = {"error_message": "Reached maximum retries (1)", "error_type": "HttpRequestNodeError"}
    crm = node("crm", "http-request", status="exception", outputs=handled)
    assert findings(run_spans([parcels, crm, _prompted("Customer: {}")]), "state_corruption") == []
    assert len(findings(run_spans([parcels, _prompted("Customer: {}")]), "state_corruption")) == 1


def test_an_llm_prompted_with_an_empty_value_a_node_produced_is_not_corruption() -> None:
    # A filter that kept nothing: the empty list is the data.
    kept_none = node("keep", "code", inputs={"raw": "p1,p2"}, outputs={"late": [], "total": 2})
    parcels = node("lookup", "code", outputs={"parcels": [{"id": "p1"}]})
    assert findings(run_spans([parcels, kept_none, _prompted("[]")]), "state_corruption", emptied_prompts=True) == []
    # No data before the LLM at all, or data shown in the prompt, or the empty value amid text or JSON, or a
    # label with nothing after it.
    assert findings(run_spans([_prompted("[]")]), "state_corruption", emptied_prompts=True) == []
    for shown in ('[{"id": "p1"}]', "none of them", "Parcels: [] (none today), 2 tomorrow", '{"id": "p1",\n"tags": []}',
                  "Parcels:", "Time: 10:30", "Parcels: []\nSay so kindly."):  # fmt: skip
        assert findings(run_spans([parcels, _prompted(shown)]), "state_corruption", emptied_prompts=True) == [], shown
    # The user's own answer on the last line of the message.
    asked = llm("reply", prompt="Any allergies?\nAnswer: none", answer="Noted.")
    assert (
        findings(run_spans([parcels, asked], inputs={"answer": "none"}), "state_corruption", emptied_prompts=True) == []
    )
    # The files every tool or HTTP node lists, empty, are no data of the run.
    http = node("feed", "http-request", outputs={"status_code": 200, "body": "{}", "files": [], "headers": {}})
    (finding,) = findings(run_spans([parcels, http, _prompted("[]")]), "state_corruption", emptied_prompts=True)
    assert finding.evidence["received"] == "[]"


@pytest.mark.parametrize("rendered", ["", "None", "undefined", "  null "])
def test_a_template_rendering_no_value_from_inputs_that_all_had_one(rendered: str) -> None:
    given = node("format", "template-transform", inputs={"text": "Fresh bread daily."}, outputs={"output": rendered})
    (finding,) = findings(run_spans([given]), "state_corruption", emptied_prompts=True)
    assert finding.evidence["rule"] == "a template that rendered no value from inputs that all had one"
    assert finding.evidence["received"] == rendered and "Fresh bread daily." in finding.evidence["produced"]


def test_a_template_given_nothing_or_rendering_text_is_not_corruption() -> None:
    given_null = node("format", "template-transform", inputs={"text": None}, outputs={"output": "None"})
    no_inputs = node("format", "template-transform", inputs={}, outputs={"output": ""})
    rendered = node("format", "template-transform", inputs={"text": "Fresh bread."}, outputs={"output": "Fresh bread."})
    for template in (given_null, no_inputs, rendered):
        assert findings(run_spans([template]), "state_corruption", emptied_prompts=True) == []


def test_a_tool_refusing_a_null_is_not_a_same_named_value_lost() -> None:
    extracted = node("extract", "parameter-extractor", outputs={"sku": "SKU-1", "qty": 2})
    refused = node("refund", "tool", inputs={"sku": None, "qty": 2}, status="failed",
                   error="Tool refund failed: missing required parameter 'sku'")  # fmt: skip
    assert findings(run_spans([extracted, refused]), "state_corruption", emptied_prompts=True) == []
    reached_end_empty = node("end", "end", inputs={"sku": None})
    (finding,) = findings(run_spans([extracted, reached_end_empty]), "state_corruption", emptied_prompts=True)
    assert finding.evidence["rule"] == "same-named variable empty at the reader"


def test_an_end_value_another_node_gave_whole_is_no_cut_llm_answer() -> None:
    # The classifier's class name also begins the reply: the End node's value is the classifier's.
    picked = node("route", "question-classifier", outputs={"class_name": "Billing & payments"})
    reply = llm("reply", answer="Billing & payments: a clerk will call you within 2 days.")
    end = node("end", "end", inputs={"department": "Billing & payments"})
    assert findings(run_spans([picked, reply, end]), "state_corruption", emptied_prompts=True) == []
    cut = node("end", "end", inputs={"reply": "Billing & payments: a clerk"})
    (finding,) = findings(run_spans([picked, reply, cut]), "state_corruption", emptied_prompts=True)
    assert finding.evidence["rule"] == "an End/Answer value is a strict beginning of an LLM answer"


def test_an_end_value_cut_inside_a_word_is_a_cut_however_short() -> None:
    answer = ("Shift 02.08, Dryer No. 2 (Strahl): 368.2 t of sunflower dried, moisture from 15.0 % to 7.5 %, the "
              "heat carrier peaking at 95.5 °C.")  # fmt: skip
    reply = llm("reply", answer=answer)
    # Under a quarter of the answer, ending inside a word: no template or first line ends there.
    (finding,) = findings(run_spans([reply, node("end", "end", inputs={"summary": "Shift 02.08, Dryer No. 2 (St"})]),
                          "state_corruption")  # fmt: skip
    assert finding.evidence["rule"] == "an End/Answer value is a strict beginning of an LLM answer"
    assert finding.evidence["received"] == "Shift 02.08, Dryer No. 2 (St"
    # As short, ending at a word's end, or under 20 characters inside a word: a label, a heading, a status.
    for shown in ("Shift 02.08, Dryer No. 2", "Shift 02.08, Dry"):
        assert findings(run_spans([reply, node("end", "end", inputs={"summary": shown})]), "state_corruption") == []


def _iteration(
    rounds: list[list[dict[str, Any]]],
    output: list[object],
    after: tuple[dict[str, Any], ...] = (),
    before: tuple[dict[str, Any], ...] = (),
    given: list[Any] | None = None,
    answer: str | None = None,
) -> list[ReadableSpan]:
    """One iteration over `given` (the rounds' indexes unless given); each round runs its nodes (node_type,
    outputs, status…) in order; `output` its list; the nodes `before` run before it, `after` after it; the run
    answering `answer`."""
    base = {"id": "it", "node_id": "it", "node_type": "iteration", "title": "Each photo"}
    selector = list(range(len(rounds))) if given is None else given
    events = [*(DifyEvent("node_finished", fields, "r") for fields in before),
              DifyEvent("iteration_started", {**base, "inputs": {"iterator_selector": selector}}, "r")]  # fmt: skip
    for i, round_nodes in enumerate(rounds):
        for n, fields in enumerate(round_nodes):
            finished = {"id": f"n{i}-{n}", "node_id": f"step{n}", "title": f"Step {n}", "elapsed_time": 0.1,
                        "status": "succeeded", "inputs": {"item": i}, "iteration_id": "it",
                        "execution_metadata": {"iteration_id": "it", "iteration_index": i}, **fields}  # fmt: skip
            events.append(DifyEvent("node_finished", finished, "r"))
    completed = {**base, "status": "succeeded", "outputs": {"output": output}}
    events.append(DifyEvent("iteration_completed", completed, "r"))
    finished = {"outputs": {"plan": answer}} if answer is not None else {}
    events += [*(DifyEvent("node_finished", fields, "r") for fields in after),
               DifyEvent("workflow_finished", finished, "r")]  # fmt: skip
    assembler = RunAssembler()
    for event in events:
        assembler.add(event, 0)
    (run,) = assembler.drain()
    return build_spans(run)


def test_an_iteration_output_losing_an_item() -> None:
    def labels(status: str = "succeeded") -> list[list[dict[str, Any]]]:
        return [[{"node_type": "code", "status": status if i == 1 else "succeeded", "outputs": {"text": f"label {i}"}}]
                for i in range(3)]  # fmt: skip

    (finding,) = findings(_iteration(labels(), ["label 0", None, "label 2"]), "state_corruption", emptied_prompts=True)
    assert finding.evidence["rule"] == "an iteration output item null though its round produced a value"
    assert finding.evidence["produced"] == "label 1"
    assert (
        findings(_iteration(labels(), ["label 0", "label 1", "label 2"]), "state_corruption", emptied_prompts=True)
        == []
    )
    # A failed round leaves a null on purpose (error strategy "continue on error").
    assert (
        findings(_iteration(labels("failed"), ["label 0", None, "label 2"]), "state_corruption", emptied_prompts=True)
        == []
    )


def test_an_iteration_of_branches_only_collects_no_values() -> None:
    branch = {"node_type": "if-else", "outputs": {"result": False, "selected_case_id": "false"}}
    assert findings(_iteration([[branch]] * 3, [None, None, None]), "state_corruption", emptied_prompts=True) == []
    # A value produced before the branch and lost in the output still counts.
    label = {"node_type": "code", "outputs": {"label": "cat"}}
    (finding,) = findings(
        _iteration([[label, branch]] * 3, ["cat", None, "cat"]), "state_corruption", emptied_prompts=True
    )
    assert finding.evidence["rule"] == "an iteration output item null though its round produced a value"
    assert finding.evidence["produced"] == "cat"


def test_a_user_answering_none_is_no_emptied_value() -> None:
    found = node("kr", "knowledge-retrieval", outputs={"result": [{"content": "Nut-free menu on request."}]})
    answer = llm("reply", prompt="None", answer="Noted: no allergies.")
    assert (
        findings(run_spans([found, answer], inputs={"sys.query": "None"}), "state_corruption", emptied_prompts=True)
        == []
    )
    # Only the last user message is the one the run rendered: an earlier turn's "null" is chat memory.
    remembered = llm("reply", answer="Noted.")
    remembered["process_data"]["prompts"] = [{"role": "user", "text": "null"}, {"role": "assistant", "text": "Sure?"},
                                             {"role": "user", "text": "Yes, no allergies."}]  # fmt: skip
    assert findings(run_spans([found, remembered]), "state_corruption", emptied_prompts=True) == []


def test_a_template_that_may_render_nothing_on_purpose_is_not_corruption() -> None:
    # A condition on a flag or a number, or a filter over a list, renders nothing or an empty list fairly.
    flagged = node("warn", "template-transform", inputs={"overdue": False, "name": "Ana"}, outputs={"output": ""})
    filtered = node("late", "template-transform", inputs={"items": [{"late": False}]}, outputs={"output": "[]"})
    for template in (flagged, filtered):
        assert findings(run_spans([template]), "state_corruption", emptied_prompts=True) == []
    stringified = node("warn", "template-transform", inputs={"overdue": False}, outputs={"output": "undefined"})
    assert len(findings(run_spans([stringified]), "state_corruption", emptied_prompts=True)) == 1


def test_an_empty_item_of_a_list_a_node_produced_is_no_emptied_value() -> None:
    # An iteration hands its LLM one item at a time: an empty item was empty at the producer.
    batch = node("split", "code", outputs={"items": [{"id": "p1"}, {}]})
    nothing = node("whole", "code", outputs={"items": [{"id": "p1"}]})
    assert findings(run_spans([batch, _prompted("{}")]), "state_corruption", emptied_prompts=True) == []
    assert len(findings(run_spans([nothing, _prompted("{}")]), "state_corruption", emptied_prompts=True)) == 1


def test_a_code_output_emptied_though_the_input_it_is_named_after_had_a_value() -> None:
    booking = {"booking": {"ref": "K-88", "room_type": "double", "checkin_date": "2026-03-02", "deposit": None}}
    code = node("fmt", "code", title="Format", inputs=booking,
                outputs={"room": "", "checkin": "02.03.2026", "deposit_eur": None})  # fmt: skip
    (finding,) = findings(run_spans([code]), "state_corruption")
    assert finding.evidence["rule"] == "a code output emptied though the input it is named after had a value"
    assert finding.evidence["produced"] == "{'room_type': 'double'}"
    # Empty from an empty input (`deposit` was null), or named after nothing it was given: a fair rendering.
    fair = node("fmt", "code", title="Format", inputs=booking,
                outputs={"room": "double", "checkin": "02.03.2026", "deposit_eur": None, "note": ""})  # fmt: skip
    assert findings(run_spans([fair]), "state_corruption") == []


def test_an_end_node_showing_nothing_right_after_a_node_produced_a_value() -> None:
    draft = node("refine", "code", title="Refine", inputs={"n": 1}, outputs={"draft": "Dear Ms Ortiz, …"})
    end = node("end", "end", title="End", inputs={"letter": ""}, outputs={"letter": ""})
    (finding,) = findings(run_spans([draft, end]), "state_corruption")
    assert finding.evidence["rule"] == "an End/Answer node shows nothing right after a node produced a value"
    # A list of items (an iteration's output) shown as an empty list.
    captions = node("caps", "code", title="Captions", inputs={"n": 1}, outputs={"output": ["Helmet.", "Coin."]})
    empty_list = node("end", "end", title="End", inputs={"lines": []}, outputs={"lines": []})
    (listed,) = findings(run_spans([captions, empty_list]), "state_corruption")
    assert listed.evidence["produced"] == str({"output": ["Helmet.", "Coin."]})
    none_listed = node("caps", "code", title="Captions", inputs={"n": 1}, outputs={"output": []})
    assert findings(run_spans([none_listed, empty_list]), "state_corruption") == []
    # The node before gave nothing either: the run had nothing to show.
    nothing = node("refine", "code", title="Refine", inputs={"n": 1}, outputs={"draft": ""})
    assert findings(run_spans([nothing, end]), "state_corruption") == []
    # The node before failed and handed on its empty default (error strategy "default value"): its failure.
    default = {"error_message": "NameError", "letter": ""}
    failed = node("fmt", "code", title="Format", status="exception", outputs=default)
    assert findings(run_spans([draft, failed, end]), "state_corruption") == []


def test_an_item_dropped_for_a_failed_round_is_no_item_lost() -> None:
    def rounds(failing: int | None) -> list[list[dict[str, Any]]]:
        return [[{"node_type": "llm", "status": "failed" if i == failing else "succeeded",
                  "outputs": {"text": f"summary {i}"}}] for i in range(3)]  # fmt: skip

    # Dify's "remove abnormal output" leaves a failed round's item out of the list by design.
    assert findings(_iteration(rounds(1), ["summary 0", "summary 2"]), "state_corruption") == []
    (finding,) = findings(_iteration(rounds(None), ["summary 0", "summary 2"]), "state_corruption")
    assert finding.evidence["rule"] == "iteration output items < rounds run"


def _visits(body: dict[str, Any], visits: list[Any]) -> list[ReadableSpan]:
    """A clinic app: an API answering `body`, a code node taking the patient's `visits` out of it."""
    api = node("records", "http-request", outputs={"status_code": 200, "body": json.dumps(body), "headers": {}})
    read = node("read", "code", inputs={"body": json.dumps(body)}, outputs={"visits": visits, "note": "read"})
    return run_spans([api, read], app_id="clinic")


def _processor(**settings: Any) -> DetectionProcessor:
    others = {key: {"enabled": False} for key in registry() if key != "state_corruption"}
    return DetectionProcessor(DetectorsConfig.model_validate({**others, "state_corruption": settings}))


def test_a_code_output_every_earlier_run_filled_left_empty_while_its_input_holds_that_kind() -> None:
    visit = {"on": "2026-03-02", "doctor": "Okafor"}
    processor = _processor()
    assert all(processor.detect(_visits({"visits": [visit] * n}, [visit] * n)) == [] for n in range(1, 6))
    # The API renamed its list: the code node's `.get("visits", [])` found nothing.
    (finding,) = processor.detect(_visits({"appointments": [visit]}, []))
    assert finding.evidence["rule"] == "a code output every earlier run filled left empty, its input holding that kind"
    assert finding.evidence["received"] == str({"visits": []}) and "appointments" in finding.evidence["produced"]
    # A patient without visits: the input holds no list under another name either.
    assert processor.detect(_visits({"visits": []}, [])) == []


def test_a_code_output_emptied_is_judged_only_after_min_history_runs_filled_it() -> None:
    visit = {"on": "2026-03-02", "doctor": "Okafor"}
    processor = _processor()
    assert all(processor.detect(_visits({"visits": [visit]}, [visit])) == [] for _ in range(4))
    assert processor.detect(_visits({"appointments": [visit]}, [])) == []  # four runs: no history yet
    shorter = _processor(min_history=3)
    assert all(shorter.detect(_visits({"visits": [visit]}, [visit])) == [] for _ in range(3))
    assert len(shorter.detect(_visits({"appointments": [visit]}, []))) == 1


def test_a_code_node_reading_an_apis_error_answer_returns_nulls_because_of_the_error() -> None:
    refusal = json.dumps({"detail": "quota exceeded"})
    api = node("records", "http-request", outputs={"status_code": 429, "body": refusal, "headers": {}})
    read = node("read", "code", inputs={"body": refusal}, outputs={"visits": None})
    assert findings(run_spans([api, read]), "state_corruption") == []
    # The same nulls from an answer of data are a value lost in the code node.
    data = json.dumps({"visits": [{"on": "2026-03-02"}]})
    api = node("records", "http-request", outputs={"status_code": 200, "body": data, "headers": {}})
    read = node("read", "code", inputs={"body": data}, outputs={"visits": None})
    assert len(findings(run_spans([api, read]), "state_corruption")) == 1


def _quote(inputs: dict[str, Any], outputs: dict[str, Any]) -> list[ReadableSpan]:
    return run_spans([node("quote", "code", inputs=inputs, outputs=outputs)], app_id="boats")


def test_one_text_or_number_emptied_against_the_nodes_history_and_what_only_looks_like_it() -> None:
    processor = _processor()
    filled = {"total": 180.0, "berth": "B4", "nights": 3, "promo": ""}
    assert all(processor.detect(_quote({"nights": 3, "rate": 60}, filled)) == [] for _ in range(5))
    # One output emptied while the others are as usual (the promo code always empty): the total was lost.
    (finding,) = processor.detect(_quote({"nights": 3, "rate": 60}, {**filled, "total": None}))
    assert finding.evidence["received"] == str({"total": None})
    # Several emptied together: the node's own path for a booking it could not find.
    assert processor.detect(_quote({"nights": 3, "rate": 60}, {"total": None, "berth": "", "nights": 3})) == []
    # An input without a value: the empty output renders it.
    assert processor.detect(_quote({"nights": 3, "rate": None}, {**filled, "total": None})) == []


def _forecast(shown: str) -> list[ReadableSpan]:
    stations = [{"station": "Hafen", "wind_kn": 14, "gusts_kn": 22, "sky": "clear"},
                {"station": "Mole", "wind_kn": 9, "gusts_kn": 15, "sky": "cloudy"}]  # fmt: skip
    tool = node("weather", "tool", inputs={"area": "bay"}, outputs={"text": "", "files": [], "json": stations})
    return run_spans([tool, llm("skipper", prompt=f"Advise the skipper.\nStation now: {shown}")])


def test_an_llm_shown_a_record_whose_fields_a_node_produced_filled_are_empty() -> None:
    # The record for the Hafen station reached the prompt with its readings emptied (Python's repr, as a
    # Jinja2 template renders a dict, or JSON).
    for shown in ("{'station': 'Hafen', 'wind_kn': None, 'gusts_kn': None, 'sky': ''}",
                  '{"station": "Hafen", "wind_kn": null, "gusts_kn": null, "sky": "clear"}'):  # fmt: skip
        (finding,) = findings(_forecast(shown), "state_corruption")
        assert finding.evidence["rule"] == "an LLM prompted with a record whose fields a node produced filled are empty"
        assert "'wind_kn': 14" in finding.evidence["produced"] and finding.evidence["received"].count("None") >= 2
    # The record as produced, one field empty only, or another station's values: nothing lost on the way.
    for shown in ("{'station': 'Hafen', 'wind_kn': 14, 'gusts_kn': 22, 'sky': 'clear'}",
                  "{'station': 'Hafen', 'wind_kn': None, 'gusts_kn': 22, 'sky': 'clear'}",
                  "{'station': 'Hafen', 'wind_kn': None, 'gusts_kn': None, 'sky': 'cloudy'}"):  # fmt: skip
        assert findings(_forecast(shown), "state_corruption") == []


def _payroll(
    body: dict[str, Any], outputs: dict[str, Any], gross: float | None = 4200, **failure: Any
) -> list[ReadableSpan]:
    """A payroll app: a tax-table API, a code node computing the net pay from it (error strategy: default value),
    an LLM writing the payslip."""
    api = node("table", "http-request", outputs={"status_code": 200, "body": json.dumps(body), "headers": {}})
    compute = node("net", "code", inputs={"body": json.dumps(body), "gross": gross}, outputs=outputs, **failure)
    slip = llm("slip", prompt=f"Net pay: {outputs.get('net')}", answer="Your net pay is ...")
    return run_spans([api, compute, slip], app_id="payroll")


def _defaulted(error: str, strategy: str = "default-value") -> dict[str, Any]:
    """A code node's failure handled by its error strategy: Dify's status `exception`, its default outputs."""
    return {"status": "exception", "metadata": {"error_strategy": strategy},
            "error": error}  # fmt: skip


_KEY_ERROR = "Traceback (most recent call last):\n  File \"<string>\", line 4, in main\nKeyError: 'band_rate'\n"


def test_a_code_nodes_default_value_hiding_its_error_on_data_every_earlier_run_read() -> None:
    processor = _processor()
    usual = {"band_rate": 0.31}
    assert all(processor.detect(_payroll(usual, {"net": 2898.0})) == [] for _ in range(5))
    # The API renamed its rate: the code fails reading it, and its default 0 is passed on as the net pay.
    defaults = {"net": 0, "error_message": _KEY_ERROR, "error_type": "CodeExecutionError"}
    (finding,) = processor.detect(_payroll({"band_rate_pct": 31}, defaults, **_defaulted(_KEY_ERROR)))
    assert finding.evidence["rule"] == (
        "a code node's default value hid its error reading its input; every earlier run succeeded"
    )
    assert finding.evidence["produced"] == "KeyError: 'band_rate'"
    assert finding.evidence["received"] == str({"net": 0})
    # The node has failed once now: it fails at times, and its defaults are its design.
    assert processor.detect(_payroll({"band_rate_pct": 31}, defaults, **_defaulted(_KEY_ERROR))) == []


def test_a_code_nodes_default_value_by_design_is_no_hidden_error() -> None:
    usual = {"band_rate": 0.31}
    defaults = {"net": 0, "error_message": _KEY_ERROR, "error_type": "CodeExecutionError"}
    refused = "Traceback (most recent call last):\nValueError: no tax band for this grade\n"
    for failure, history, gross in (
        (_defaulted(_KEY_ERROR), 4, 4200),  # four earlier runs: no history yet
        (_defaulted(refused), 5, 4200),  # a check the code makes on purpose
        (_defaulted(_KEY_ERROR, "fail-branch"), 5, 4200),  # another branch handles the error
        (_defaulted(_KEY_ERROR), 5, None),  # an input without a value: the code was given nothing to read
    ):
        processor = _processor()
        assert all(processor.detect(_payroll(usual, {"net": 2898.0})) == [] for _ in range(history))
        outputs = {**defaults, "error_message": failure["error"]}
        assert processor.detect(_payroll({"band_rate_pct": 31}, outputs, gross, **failure)) == []
    # A node that failed before, its default used, fails again: its defaults are its design.
    processor = _processor()
    assert all(processor.detect(_payroll(usual, {"net": 2898.0})) == [] for _ in range(3))
    assert processor.detect(_payroll({"band_rate": None}, defaults, **_defaulted(_KEY_ERROR))) == []
    assert all(processor.detect(_payroll(usual, {"net": 2898.0})) == [] for _ in range(3))
    assert processor.detect(_payroll({"band_rate_pct": 31}, defaults, **_defaulted(_KEY_ERROR))) == []


def _route(answer: dict[str, Any], read: list[Any], status_code: int = 200) -> list[ReadableSpan]:
    """A bus app: a timetable tool answers JSON, an LLM plans in between, a template reads the stops."""
    tool = node("lines", "tool", inputs={"line": "42"}, outputs={"text": json.dumps(answer), "files": [], "json": []})
    if status_code != 200:
        tool = node("lines", "http-request", outputs={"status_code": status_code, "body": json.dumps(answer)})
    plan = llm("plan", prompt="Plan the trip.", answer="Take the 42.")
    table = node("table", "template-transform", inputs={"stops": read}, outputs={"output": "| stop | time |"})
    return run_spans([tool, plan, table])


def test_a_field_the_last_tool_answered_filled_reaching_a_node_empty() -> None:
    stops = [{"stop": "Hafen", "at": "07:12"}, {"stop": "Markt", "at": "07:20"}]
    (finding,) = findings(_route({"line": "42", "stops": stops}, []), "state_corruption")
    assert finding.evidence["rule"] == "a field the last tool or API answered filled reaches a node empty"
    assert finding.evidence["produced"] == str({"stops": stops})
    assert finding.evidence["received"] == str({"stops": []})
    # The answer had no stops itself, or the tool's answer is an error, or the node read them filled.
    assert findings(_route({"line": "42", "stops": []}, []), "state_corruption") == []
    assert findings(_route({"line": "42", "stops": stops}, [], status_code=503), "state_corruption") == []
    assert findings(_route({"line": "42", "stops": stops}, stops), "state_corruption") == []
    # A node that produced `stops` empty (a filter that kept none) gave the value read.
    kept = node("keep", "code", inputs={"raw": "x"}, outputs={"stops": []})
    spans = run_spans([node("lines", "tool", outputs={"text": json.dumps({"stops": stops})}), kept,
                       node("table", "template-transform", inputs={"stops": []}, outputs={"output": "-"})])  # fmt: skip
    assert findings(spans, "state_corruption") == []


def test_an_end_node_receiving_an_llm_answer_with_its_numbers_changed() -> None:
    answer = "Paint needed: 3 walls of 12.5 m² each, 37.5 m² in all: 4 tins."
    paint = llm("estimate", prompt="How much paint?", answer=answer)
    end = node("end", "end", inputs={"reply": answer.replace("4 tins", "7 tins")}, outputs={})
    (finding,) = findings(run_spans([paint, end]), "state_corruption")
    assert finding.evidence["rule"] == "an End/Answer value is an LLM answer with its numbers changed"
    assert (finding.evidence["produced"], finding.evidence["received"]) == (answer, answer.replace("4", "7"))
    # The answer as it was, a node's own value (a template filling the figures in), or other words: no change.
    assert findings(run_spans([paint, node("end", "end", inputs={"reply": answer})]), "state_corruption") == []
    filled = node("fill", "template-transform", inputs={"tins": 7}, outputs={"output": answer.replace("4", "7")})
    end = node("end", "end", inputs={"reply": answer.replace("4", "7")})
    assert findings(run_spans([paint, filled, end]), "state_corruption") == []
    reworded = node("end", "end", inputs={"reply": "You need 7 tins for 37.5 m² of wall."})
    assert findings(run_spans([paint, reworded]), "state_corruption") == []


def _next_sailing(body: dict[str, Any], depart: str) -> list[ReadableSpan]:
    """A ferry app: a code node reading the next sailing's time out of an API's timetable (its first item)."""
    outputs = {"next_depart": depart, "fare": 35000 if depart else 0}
    read = node("read", "code", title="Next sailing", inputs={"body": json.dumps(body)}, outputs=outputs)
    return run_spans([read], app_id="ferry")


def test_an_output_left_empty_when_the_list_it_reads_came_with_no_items_is_the_datas() -> None:
    sailing = {"depart": "07:40", "fare": 35000}
    processor = _processor()
    for n in range(1, 7):
        assert processor.detect(_next_sailing({"route": "DAR-ZNZ", "sailings": [sailing] * n}, "07:40")) == []
    # A storm day: the timetable has no sailings, so there is no next one (the route's text is no departure).
    assert processor.detect(_next_sailing({"route": "DAR-ZNZ", "sailings": []}, "")) == []
    notices = [{"text": "Storm warning"}]  # another list with items, not the one the time comes from
    assert processor.detect(_next_sailing({"route": "DAR-ZNZ", "sailings": [], "notices": notices}, "")) == []
    # The API renamed its list (items under another name): the time was lost on the way.
    (finding,) = processor.detect(_next_sailing({"route": "DAR-ZNZ", "trips": [sailing]}, ""))
    assert finding.evidence["rule"] == "a code output every earlier run filled left empty, its input holding that kind"


def test_an_emptied_output_is_still_found_after_a_fault_and_a_run_with_nothing_to_show() -> None:
    visit = {"on": "2026-03-02", "doctor": "Okafor"}
    processor = _processor()
    assert all(processor.detect(_visits({"visits": [visit] * n}, [visit] * n)) == [] for n in range(1, 6))
    assert len(processor.detect(_visits({"appointments": [visit]}, []))) == 1
    # A patient without visits (nothing of that kind to show) and the fault just flagged teach nothing.
    assert processor.detect(_visits({"visits": []}, [])) == []
    assert len(processor.detect(_visits({"appointments": [visit]}, []))) == 1


def test_an_output_left_empty_at_times_with_a_value_at_hand_is_the_nodes_way() -> None:
    visit = {"on": "2026-03-02", "doctor": "Okafor"}
    processor = _processor()
    # Left empty early on though the body held a list (a filter that kept nothing), then filled 8 times.
    assert all(processor.detect(_visits({"visits": [visit] * n}, [visit] * n)) == [] for n in range(1, 4))
    assert processor.detect(_visits({"visits": [visit], "open": [visit]}, [])) == []
    assert all(processor.detect(_visits({"visits": [visit] * n}, [visit] * n)) == [] for n in range(1, 6))
    assert processor.detect(_visits({"appointments": [visit]}, [])) == []  # one run in nine: the node's way
    assert all(processor.detect(_visits({"visits": [visit] * n}, [visit] * n)) == [] for n in range(1, 3))
    assert len(processor.detect(_visits({"appointments": [visit]}, []))) == 1  # one in ten


def _filing_list(filings: list[dict[str, Any]], rendered: str) -> list[ReadableSpan]:
    template = node("tpl", "template-transform", title="Filing list", inputs={"filings": filings},
                    outputs={"output": rendered})  # fmt: skip
    return run_spans([template], app_id="tax")


def test_a_template_rendering_nothing_from_a_list_its_earlier_runs_rendered() -> None:
    filing = {"year": 2025, "type": "Einkommensteuer", "filed": "2026-03-02"}
    processor = _processor()
    assert all(processor.detect(_filing_list([filing] * n, "- 2025 Einkommensteuer\n" * n)) == [] for n in range(1, 6))
    (finding,) = processor.detect(_filing_list([filing, filing], ""))
    rule = "a template output every earlier run filled left empty, its input holding that kind"
    assert finding.evidence["rule"] == rule
    assert finding.evidence["received"] == str({"output": ""})
    # A client with no filings: the template was given nothing to render.
    assert processor.detect(_filing_list([], "")) == []


def _departures(body: dict[str, Any], kept: list[Any], count: int | None = None) -> list[ReadableSpan]:
    """A ferry app: a code node passing on the departures of an API's body, and counting them."""
    outputs = {"departures": kept, "count": len(kept) if count is None else count}
    read = node("read", "code", title="Read departures", inputs={"body": json.dumps(body)}, outputs=outputs)
    return run_spans([read], app_id="ferry")


def test_a_code_output_holding_no_item_of_the_list_it_always_passed_on_whole() -> None:
    trip = {"time": "07:40", "to": "Capri"}
    processor = _processor()
    assert all(processor.detect(_departures({"departures": [trip] * n}, [trip] * n)) == [] for n in range(1, 6))
    # The code's date comparison dropped every departure the API gave.
    (finding,) = processor.detect(_departures({"departures": [trip] * 4}, []))
    assert finding.evidence["rule"] == "a code output holding no item of the input list it kept whole before"
    assert finding.evidence["produced"] == str({"body.departures": 4})
    # No departures today: the list was empty already; some left out is a filter's doing (cancelled ones); a page
    # read twice (more items) is not this detector's.
    assert processor.detect(_departures({"departures": []}, [])) == []
    assert processor.detect(_departures({"departures": [trip] * 3}, [trip])) == []
    assert processor.detect(_departures({"departures": [trip] * 2}, [trip] * 4)) == []


def test_a_code_output_counting_a_list_its_input_no_longer_has() -> None:
    trip = {"time": "07:40", "to": "Capri"}
    processor = _processor()
    assert all(processor.detect(_departures({"departures": [trip] * n}, ["x"], n)) == [] for n in range(1, 6))
    # The API renamed its list: the code's `.get('departures', [])` counted nothing, `sailings` holds three.
    (finding,) = processor.detect(_departures({"sailings": [trip] * 3}, ["x"], 0))
    assert finding.evidence["rule"] == "a code output counting a list its input no longer has, another list there"
    assert finding.evidence["produced"] == str({"body.sailings": 3})
    # A node that filters (fewer items at times) keeps no such relation.
    filtering = _processor()
    for n in range(1, 7):
        assert filtering.detect(_departures({"departures": [trip] * (n + n % 2)}, [trip] * n)) == []
    assert filtering.detect(_departures({"departures": [trip] * 4}, [])) == []


def _review_round(answer: str, assigned: str) -> list[ReadableSpan]:
    reviewer = llm("llmR", prompt="Review the draft.", answer=answer, title="Reviewer")
    config = {"version": "2", "items": [{"variable_selector": ["loop", "draft"], "input_type": "variable",
                                         "operation": "over-write", "value": ["llmR", "text"]}]}  # fmt: skip
    assign = node("assign", "assigner", title="Keep revision", inputs=config, process_data={"draft": assigned})
    return run_spans([reviewer, assign])


def test_a_variable_assigner_writing_a_cut_fewer_items_or_a_number_as_text() -> None:
    (cut,) = findings(_review_round("Fresh apple pie, baked daily.", "Fresh apple"), "state_corruption")
    assert cut.evidence["rule"] == "a variable assigner wrote a strict beginning of its source node's text"
    assert cut.evidence["received"] == str({"draft": "Fresh apple"})
    # A trailing space or line end left out is the same text.
    assert findings(_review_round("Fresh apple pie.\n", "Fresh apple pie."), "state_corruption") == []
    scorer = node("score", "code", title="Parse score", outputs={"score": 7, "tags": ["a", "b"]})
    config = {"version": "2", "items": [
        {"variable_selector": ["loop", "score"], "input_type": "variable", "operation": "over-write",
         "value": ["score", "score"]},
        {"variable_selector": ["loop", "tags"], "input_type": "variable", "operation": "over-write",
         "value": ["score", "tags"]}]}  # fmt: skip
    for assigned, rule in (
        ({"score": "7", "tags": ["a", "b"]}, "a variable assigner wrote its source node's number as text"),
        ({"score": 7, "tags": ["a"]}, "a variable assigner wrote fewer items than its source node produced"),
    ):
        assign = node("assign", "assigner", title="Keep best", inputs=config, process_data=assigned)
        (finding,) = findings(run_spans([scorer, assign]), "state_corruption")
        assert finding.evidence["rule"] == rule
    kept = node("assign", "assigner", title="Keep best", inputs=config, process_data={"score": 7, "tags": ["a", "b"]})
    assert findings(run_spans([scorer, kept]), "state_corruption") == []


def test_a_variable_assigner_writing_empty_a_value_its_source_produced() -> None:
    (finding,) = findings(_review_round("APPROVED: Fresh apple pie.", ""), "state_corruption")
    assert finding.evidence["rule"] == "a variable assigner wrote empty a value its source node produced filled"
    assert finding.evidence["produced"] == str({"text": "APPROVED: Fresh apple pie."})
    assert findings(_review_round("APPROVED: Fresh apple pie.", "APPROVED: Fresh apple pie."), "state_corruption") == []
    # Empty at its source already (the LLM's empty answer is another rule's).
    assert {f.evidence["rule"] for f in findings(_review_round("", ""), "state_corruption")} == {
        "an LLM that succeeded with empty text"
    }


def _extracted(query: str, quantity: float) -> list[ReadableSpan]:
    parameters = [{"name": "sku", "type": "string"}, {"name": "quantity", "type": "number"}]
    inputs = {"query": query, "parameters": parameters}
    outputs = {"__is_success": 1, "sku": "CH-210", "quantity": quantity}
    extractor = node("pe", "parameter-extractor", title="Read request", inputs=inputs, outputs=outputs)
    return run_spans([extractor])


def test_a_parameter_extractors_number_its_text_does_not_state() -> None:
    (finding,) = findings(_extracted("We need 25 ergonomic chairs CH-210 for the new floor.", 1), "state_corruption")
    assert finding.evidence["rule"] == "a parameter extractor's number its text does not state, a stated one left out"
    assert finding.evidence["received"] == str({"quantity": 1})
    # The number stated, or no number stated on its own (a word, a code, a measure): the model's reading.
    for query, quantity in (("Necesito 12 sillas CH-210.", 12), ("Two 27-inch chairs (CH-210), please.", 2),
                            ("Two weeks of chairs CH-210 from 2027-07-05 at 14:30.", 10),
                            ("Réserve 1,5 chaise CH-210.", 1.5)):  # fmt: skip
        assert findings(_extracted(query, quantity), "state_corruption") == []


def _ordered(query: str, bottles: int, instruction: str, date: str = "") -> list[ReadableSpan]:
    """A chatflow's extractor as Dify 1.14.1 records it: its instruction, conversation variables filled in, and its
    memory in the system prompt it sent, the turn's message as `query`."""
    parameters = [{"name": "wine", "type": "string"}, {"name": "date", "type": "string"},
                  {"name": "bottles", "type": "number"}]  # fmt: skip
    system = f"### Memory\n<histories>\n\n</histories>\n### Instructions:\n<instruction>\n{instruction}\n</instruction>"
    prompts = [{"role": "system", "text": system}, {"role": "user", "text": f"<context>\n{query}\n</context>"}]
    outputs = {"__is_success": 1, "wine": "Cahors", "date": date, "bottles": bottles}
    inputs = {"query": query, "parameters": parameters}
    extractor = node("pe", "parameter-extractor", title="Read order", inputs=inputs, outputs=outputs,
                     process_data={"model_mode": "chat", "prompts": prompts})  # fmt: skip
    return run_spans([extractor])


def test_a_chatflow_extractors_number_its_instruction_and_turn_give() -> None:
    so_far = "Extract the wine and the total bottles of the order. Order so far: 6 x Cahors"
    # A total the turn changes: the 6 so far and the 6 (or 2) the turn adds or takes off.
    for query, bottles in (("Add 6 more please", 12), ("Take 2 off please", 4)):
        assert findings(_ordered(query, bottles, so_far), "state_corruption") == [], query
    # Neither the total nor the number stated; or no order so far in the prompt (the export lacks it).
    rule = "a parameter extractor's number its text does not state, a stated one left out"
    for bottles, instruction in ((30, so_far), (12, "Extract the wine and the total bottles of the order.")):
        (finding,) = findings(_ordered("Add 6 more please", bottles, instruction), "state_corruption")
        assert finding.evidence["rule"] == rule
    # A date extracted as `YYYY-MM-DD` took its day; the bottles the text states on its own remain.
    assert findings(_ordered("৪টি বোতল, ২৫ মার্চ", 4, "", "2027-03-25"), "state_corruption") == []
    (finding,) = findings(_ordered("25 bottles for 19 March", 1, "", "2027-03-19"), "state_corruption")
    assert "left out the 25" in finding.summary


def _seats(query: str, seats: int) -> list[ReadableSpan]:
    parameters = [{"name": "concert", "type": "string"}, {"name": "seats", "type": "number"}]
    outputs = {"__is_success": 1, "concert": "PH-0319", "seats": seats}
    inputs = {"query": query, "parameters": parameters}
    return run_spans([node("pe", "parameter-extractor", title="Read order", inputs=inputs, outputs=outputs)])


def test_a_parameter_extractors_number_other_than_the_word_before_its_name() -> None:
    (finding,) = findings(_seats("Six balcony seats for PH-0319 for our choir group.", 1), "state_corruption")
    assert (
        finding.evidence["rule"] == "a parameter extractor's number other than the one its text writes before its name"
    )
    assert finding.evidence["received"] == str({"seats": 1})
    assert len(findings(_seats("Zwei Plätze, bitte: drei seats im Parkett (PH-0319).", 2), "state_corruption")) == 1
    # The word's number, a figure between (a measure), an article, or no number word before the name.
    for query, seats in (("Two parterre seats for PH-0312 please.", 2), ("One box seat for PH-0402, thanks.", 1),
                         ("Two 27-inch wide seats for PH-0312.", 2), ("A seat for PH-0312.", 1),
                         ("Seats for the two of us at PH-0312.", 2),
                         ("Put a hold on seats at PH-0312.", 2)):  # fmt: skip
        assert findings(_seats(query, seats), "state_corruption") == [], query


def test_an_iterations_items_dropped_for_rounds_that_failed_on_their_data() -> None:
    def rounds(error: str) -> list[list[dict[str, Any]]]:
        failed = {"status": "failed", "error": error, "outputs": {}}
        return [[{"node_type": "code", **(failed if i == 1 else {"outputs": {"line": f"price {i}"}})}]
                for i in range(3)]  # fmt: skip

    text_price = "Traceback (most recent call last):\nValueError: could not convert string to float: '9,96 EUR'\n"
    (finding,) = findings(_iteration(rounds(text_price), ["price 0", "price 2"]), "state_corruption")
    assert finding.evidence["rule"] == "iteration items dropped for rounds that failed reading their data"
    # A round lost to an outage (or a check the code makes on purpose) drops its item by design.
    for error in ("Reached maximum retries (2) for URL http://pricing/BK-2", "ValueError: no valid coupon"):
        assert findings(_iteration(rounds(error), ["price 0", "price 2"]), "state_corruption") == []


def _meter(reading: dict[str, Any], kwh: float) -> list[ReadableSpan]:
    """A meter app: an API's readings parsed by a code node (`.get('kwh', 0)`) into the month's use and bill."""
    body = json.dumps({"meter_id": "PL-1", "tariff": 1.05, "readings": [{"month": "2026-11", **reading}]})
    api = node("meter", "http-request", outputs={"status_code": 200, "body": body, "files": [], "headers": {}})
    code = node("use", "code", title="Use", inputs={"body": body}, outputs={"kwh": kwh, "bill": round(kwh * 1.05, 2)})
    return run_spans([api, code], app_id="meter")


def test_a_code_output_number_its_input_field_gave_now_zero_with_the_field_gone() -> None:
    processor = _processor()
    for n in range(6):
        assert processor.detect(_meter({"kwh": 180.2 + n}, 180.2 + n)) == []
    # A vacant flat: the input's own 0 under the name.
    assert processor.detect(_meter({"kwh": 0}, 0.0)) == []
    (finding,) = processor.detect(_meter({"value_wh": 240900}, 0.0))
    assert finding.evidence["rule"] == "a code output number read from a same-named input field, 0 with that field gone"
    assert finding.evidence["received"] == str({"kwh": 0.0})
    assert "value_wh" in finding.evidence["produced"]
    # A number the code computes (no input field of its name) may be 0 by right.
    fresh = _processor()
    for n in range(6):
        fresh.detect(_meter({"usage": 180.2 + n}, 180.2 + n))
    # (Its field renamed is another rule's: the code took its default for a field gone.)
    renamed = [finding.evidence["rule"] for finding in fresh.detect(_meter({"usage_wh": 240900}, 0.0))]
    assert renamed == ["a code node ran without an input field its earlier runs held, a new field there"]


def _extraction(query: str, parameters: list[dict[str, Any]], values: dict[str, Any]) -> list[ReadableSpan]:
    inputs = {"query": query, "parameters": parameters}
    outputs = {"__is_success": 1, "__reason": None, **values}
    return run_spans([node("pe", "parameter-extractor", title="Read request", inputs=inputs, outputs=outputs)])


def _booked(query: str, date: str) -> list[ReadableSpan]:
    parameters = [{"name": "class", "type": "string"}, {"name": "date", "type": "string", "description": "YYYY-MM-DD"}]
    return _extraction(query, parameters, {"class": "Pilates", "date": date})


def _table(query: str, when: str, party: int) -> list[ReadableSpan]:
    parameters = [{"name": "date", "type": "string", "description": "用餐日期和时间"},
                  {"name": "party", "type": "number", "description": "用餐人数"}]  # fmt: skip
    return _extraction(query, parameters, {"date": when, "party": party})


def test_a_parameter_extractors_number_stated_joined_to_a_chinese_counter() -> None:
    """Chinese writes no space between a figure and its counter (`8位`): the 8 is stated, and 18 diners is not."""
    (finding,) = findings(_table("想预订周日晚上 6 点的位，8位", "周日 晚上 6 点", 18), "state_corruption")
    assert finding.evidence["rule"] == "a parameter extractor's number its text does not state, a stated one left out"
    assert findings(_table("想预订周日晚上 6 点的位，8位", "周日 晚上 6 点", 8), "state_corruption") == []


def test_a_parameter_extractors_number_that_its_text_parameter_took_too() -> None:
    """The 12 of "12 点" read into the date and as the party, the 4 diners left out; written twice, it is both."""
    (finding,) = findings(_table("订个包间，4 位，本周六中午 12 点", "本周六 中午 12 点", 12), "state_corruption")
    assert finding.evidence["rule"] == (
        "a parameter extractor's number another parameter took from its text, a stated one left out"
    )
    assert findings(_table("订个包间，4 位，本周六中午 12 点", "本周六 中午 12 点", 4), "state_corruption") == []
    assert findings(_table("订个包间，12 位，本周六中午 12 点", "本周六 中午 12 点", 12), "state_corruption") == []
    assert findings(_table("Table at 7 pm, for 4.", "7 pm", 7), "state_corruption") != []


def test_a_parameter_extractors_date_with_the_day_and_month_of_its_texts_date_swapped() -> None:
    for query in ("Pesan Pilates tanggal 3 Februari 2027 jam 19:00.", "Pilates on February 3rd, 2027 please.",
                  "Pilates el 3 de febrero de 2027.", "2027年2月3日のピラティス", "Пилатес 3 февраля 2027",
                  "Πιλάτες στις 3 Φεβρουαρίου", "Pilates, 2027-02-03"):  # fmt: skip
        (finding,) = findings(_booked(query, "2027-03-02"), "state_corruption")
        assert (
            finding.evidence["rule"] == "a parameter extractor's date with the day and month of its text's date swapped"
        )
        assert finding.evidence["received"] == str({"date": "2027-03-02"})
        assert findings(_booked(query, "2027-02-03"), "state_corruption") == [], query
    for query in ("Pilates po sa ika-3 ng Pebrero 2027.", "Pilates 2027. február 3-án."):
        assert len(findings(_booked(query, "2027-03-02"), "state_corruption")) == 1, query
    # Both dates written, a date in figures whose day comes first by the writer's habit, or no date: no swap known.
    for query in ("Pilates on 2 March, not 3 February.", "Pilates 03/02/2027", "Pilates next Tuesday"):
        assert findings(_booked(query, "2027-03-02"), "state_corruption") == [], query


def _acres(query: str, area: float, *, prompted: bool = False) -> list[ReadableSpan]:
    """A claim helper's extractor; `prompted`: its inputs hold no query, its prompt's user message the text."""
    parameters = [{"name": "crop", "type": "string"}, {"name": "area_acres", "type": "number"}]
    outputs = {"__is_success": 1, "crop": "wheat", "area_acres": area}
    if not prompted:
        return _extraction(query, parameters, {"crop": "wheat", "area_acres": area})
    prompts = [{"role": "system", "text": "Extract crop and area_acres."}, {"role": "user", "text": query}]
    extractor = node("pe", "parameter-extractor", title="Read claim", inputs={"model_name": "gpt-4o-mini"},
                     process_data={"prompts": prompts}, outputs=outputs)  # fmt: skip
    return run_spans([extractor])


def test_a_parameter_extractors_number_ten_times_off_the_amount_its_text_writes_in_words() -> None:
    for query, area in (("ओलावृष्टि से साढ़े चार एकड़ गेहूं बर्बाद हुआ।", 0.45), ("मेरी ढाई एकड़ गेहूं खराब हुई", 0.25),
                        ("Two and a half acres of wheat flooded.", 25), ("सवा दो एकड़ गेहूं", 0.225)):  # fmt: skip
        for prompted in (False, True):
            (finding,) = findings(_acres(query, area, prompted=prompted), "state_corruption")
            assert (
                finding.evidence["rule"]
                == "a parameter extractor's number a tenth or ten times the amount its text writes"
            )
            assert finding.evidence["received"] == str({"area_acres": area})
    # The amount itself, the number written in figures too, or in words beside: the text's own.
    for query, area in (("ओलावृष्टि से साढ़े चार एकड़ गेहूं बर्बाद हुआ।", 4.5), ("Two and a half acres, 0.25 ha each.", 0.25),
                        ("Ten fields of one acre each.", 10), ("Half price for 5 acres.", 5)):  # fmt: skip
        assert findings(_acres(query, area), "state_corruption") == [], query


def _plates(query: str, plates: float, dish: str, instruction: str = "") -> list[ReadableSpan]:
    parameters = [{"name": "dish", "type": "string", "description": "the dish and its plates, as 'veg momo x2'"},
                  {"name": "plate", "type": "number"}]  # fmt: skip
    spans = _extraction(query, parameters, {"dish": dish, "plate": plates})
    if instruction:  # the turn's memory as the extractor's prompt carries it
        prompts = [
            {"role": "system", "text": f"<histories>\n{instruction}\n</histories>"},
            {"role": "user", "text": query},
        ]
        extractor = node("pe", "parameter-extractor", title="Read request", process_data={"prompts": prompts},
                         inputs={"query": query, "parameters": parameters},
                         outputs={"__is_success": 1, "dish": dish, "plate": plates})  # fmt: skip
        spans = run_spans([extractor])
    return spans


def test_a_parameter_extractors_number_ten_times_a_figure_its_text_states() -> None:
    """Session 27 (faults10's `momo_plates_wrong`): "add १ plate" (a Devanagari 1) read as 10 plates, while the
    extractor's own dish text says `x1`: the number the text states, its decimal point slipped."""
    for query, plates, dish in (("१ प्लेट तरकारी मम थप्नुहोस्।", 10, "तरकारी मम x1"),
                                ("Add 1 plate of veg momo.", 10, "veg momo x1"),
                                ("Add 5 plates of veg momo.", 0.5, "veg momo x5")):  # fmt: skip
        (finding,) = findings(_plates(query, plates, dish), "state_corruption")
        assert (
            finding.evidence["rule"] == "a parameter extractor's number a tenth or ten times the amount its text writes"
        )
    # The figure itself; a total the turn changes (9 plates so far and 1 more: 10).
    assert findings(_plates("Add 1 plate of veg momo.", 1, "veg momo x1"), "state_corruption") == []
    memory = "Human: 9 plates of veg momo.\nAssistant: 9 plates."
    assert findings(_plates("Add 1 plate of veg momo.", 10, "veg momo", memory), "state_corruption") == []


def _leave(query: str, days: float, unit: str = "days") -> list[ReadableSpan]:
    parameters = [{"name": "leave_type", "type": "string"},
                  {"name": unit, "type": "number", "description": f"number of working {unit}"}]  # fmt: skip
    return _extraction(query, parameters, {"leave_type": "annual", unit: days})


def test_a_parameter_extractors_count_of_one_time_unit_its_text_states_in_another() -> None:
    for query in ("I'd like two weeks of annual leave from 2027-09-06.", "Ich möchte 2 Wochen Urlaub ab Montag."):
        (finding,) = findings(_leave(query, 2), "state_corruption")
        assert (
            finding.evidence["rule"] == "a parameter extractor's count of one time unit that its text states in another"
        )
        assert finding.evidence["received"] == str({"days": 2})
    # Converted (working days of two weeks), in the parameter's own unit, or that unit stated too: the model's reading.
    assert findings(_leave("I'd like two weeks of annual leave.", 10), "state_corruption") == []
    assert findings(_leave("I'd like two weeks of annual leave.", 2, "weeks"), "state_corruption") == []
    assert findings(_leave("Two weeks ago I asked for 2 days of leave.", 2), "state_corruption") == []


def _after_an_outage(lines: list[str], output: str, status: str, error: str) -> list[list[dict[str, Any]]]:
    """An iteration's rounds: the first an HTTP request that failed (`status`, `error`), then a code node a line."""
    failed = {"node_type": "http-request", "status": status, "error": error, "outputs": {}}
    return [[failed], *([{"node_type": "code", "outputs": {output: line}}] for line in lines)]


def test_an_answer_counting_an_iterations_items_without_the_round_that_failed() -> None:
    lines = ["08:00 Jet 2: 75 seats", "15:15 Paros: 36 seats", "17:00 Delos: 74 seats"]
    rounds = _after_an_outage(lines, "line", "failed", "Reached maximum retries (2) for URL http://seats/0700")

    def told(answer: str) -> list[ReadableSpan]:
        reply = llm("reply", prompt="Sailings:\n- None\n- " + "\n- ".join(lines), answer=answer, title="Reply")
        return _iteration(rounds, [None, *lines], after=(reply,))

    (finding,) = findings(told("There are 3 sailings with seats: 08:00, 15:15 and 17:00."), "state_corruption")
    assert finding.evidence["rule"] == "an answer counting an iteration's items without the round that failed"
    assert finding.evidence["produced"] == "4 rounds"
    assert len(findings(told("Three sailings have seats: 08:00, 15:15 and 17:00."), "state_corruption")) == 1
    # The failure told (the rounds' count beside), no count, or every round succeeded: nothing lost from the answer.
    for answer in (
        "3 of the 4 sailings have seats; the 07:00 could not be checked.",
        "08:00, 15:15, 17:00 have seats.",
    ):
        assert findings(told(answer), "state_corruption") == [], answer
    reply = llm("reply", prompt="Sailings:\n- " + "\n- ".join(lines), answer="There are 3 sailings.", title="Reply")
    assert findings(_iteration(rounds[1:], [*lines], after=(reply,)), "state_corruption") == []


def test_an_answer_counting_an_iterations_rounds_as_all_its_items_after_rounds_failed() -> None:
    lines = ["4303: 43.1 kg", "5233: 44.2 kg", "7236: 45.0 kg"]
    rounds = _after_an_outage(lines, "row", "exception", "Request timed out after 10s")

    def told(answer: str) -> list[ReadableSpan]:
        reply = llm("reply", prompt="Rows:\n" + "\n".join(lines) + '\n{"count": 3}', answer=answer, title="Reply")
        return _iteration(rounds, [*lines], after=(reply,))

    (finding,) = findings(told("Group B: all 4 cows milked, 132.3 kg of milk in total."), "state_corruption")
    assert (
        finding.evidence["rule"] == "an answer counting an iteration's rounds as all its items, the failed rounds' lost"
    )
    assert finding.evidence["produced"] == "3 items of 4 rounds"
    # The items reached told, or the failed rounds: the loss is in the answer.
    for answer in ("Group B: 3 of 4 cows milked, 132.3 kg.", "Group B: 4 cows, 1 without a reading; 132.3 kg."):
        assert findings(told(answer), "state_corruption") == [], answer
    # Two rounds, one failed: "both" tells two as all, the English "to" (Danish two) tells no count.
    two = rounds[:2]
    for answer, found in (("Both cows milked: 43.1 kg.", 1), ("Able to read the first cow: 43.1 kg.", 0)):
        reply = llm("reply", prompt="Rows:\n" + lines[0], answer=answer, title="Reply")
        assert len(findings(_iteration(two, [lines[0]], after=(reply,)), "state_corruption")) == found, answer
    # Three rounds, one failed: "OK to ship" states no two, so the items reached are not told and all 3 are.
    reply = llm(
        "reply", prompt="Rows:\n" + "\n".join(lines[:2]), answer="All 3 cows milked, OK to ship.", title="Reply"
    )
    (three,) = findings(_iteration(rounds[:3], [*lines[:2]], after=(reply,)), "state_corruption")
    assert three.evidence["produced"] == "2 items of 3 rounds"
    # Every round succeeded (one retried): all 4 told rightly.
    retried = [[{"node_type": "code", "outputs": {"row": line}}] for line in ["9998: 40.0 kg", *lines]]
    reply = llm("reply", prompt="Rows:\n" + "\n".join(lines), answer="All 4 cows milked.", title="Reply")
    assert findings(_iteration(retried, ["9998: 40.0 kg", *lines], after=(reply,)), "state_corruption") == []


def _scaled(body: dict[str, Any], factor: float) -> list[ReadableSpan]:
    """A recipe app: a code node scaling an API's recipe (`.get('servings', 1)`) to the servings asked for."""
    inputs = {"body": json.dumps(body), "servings": 4}
    scale = node("scale", "code", title="Scale", inputs=inputs, outputs={"dish": body["dish"], "factor": factor})
    return run_spans([scale], app_id="recipes")


def test_a_code_node_run_without_an_input_field_its_earlier_runs_held_a_new_field_there() -> None:
    beef = [{"name": "beef", "amount": 600, "unit": "g"}]

    def learned() -> DetectionProcessor:
        processor = _processor()
        for n in range(6):
            assert processor.detect(_scaled({"dish": f"dish {n}", "servings": 2, "ingredients": beef}, 2.0)) == []
        return processor

    # A field given as null, an added one, or an answer of another kind (a message for the record's fields).
    for body in ({"dish": "bulgogi", "servings": None, "ingredients": beef},
                 {"dish": "bulgogi", "servings": 2, "ingredients": beef, "tip": "rest"},
                 {"dish": "bulgogi", "message": "not found"}):  # fmt: skip
        assert learned().detect(_scaled(body, 4.0)) == [], body
    # The API renamed the field: the code took its default, 1 serving.
    processor = learned()
    (finding,) = processor.detect(_scaled({"dish": "bulgogi", "ingredients": beef, "yield": "4 servings"}, 4.0))
    assert finding.evidence["rule"] == "a code node ran without an input field its earlier runs held, a new field there"
    assert finding.evidence["produced"] == str({"held before": ["body.servings"]})
    assert finding.evidence["received"] == str({"holds now": ["body.yield"]})
    # The change lasting: flagged on its first run only (the new field is known after it).
    assert processor.detect(_scaled({"dish": "bulgogi", "ingredients": beef, "yield": "4 servings"}, 4.0)) == []


def test_a_code_node_run_with_an_input_field_nested_under_a_part_of_its_old_name() -> None:
    """`servings_n` moved into `servings: {count, unit}` where one earlier run in six was an answer of another kind
    (no record, so no field): three in four earlier runs held it, not nine in ten."""
    beef = [{"name": "beef", "amount": 600, "unit": "g"}]

    def learned() -> DetectionProcessor:
        processor = _processor()
        for n in range(5):
            assert processor.detect(_scaled({"dish": f"dish {n}", "servings_n": 2, "ingredients": beef}, 2.0)) == []
        assert processor.detect(_scaled({"dish": "unknown", "found": False}, 1.0)) == []
        return processor

    nested = {"dish": "bulgogi", "ingredients": beef, "servings": {"count": 4, "unit": "portions"}}
    (finding,) = learned().detect(_scaled(nested, 4.0))
    assert finding.evidence["rule"] == "a code node ran without an input field its earlier runs held, a new field there"
    assert finding.evidence["produced"] == str({"held before": ["body.servings_n"]})
    # A new field sharing no part of the name: a rename at five in six earlier runs is no rule's to tell.
    renamed = {"dish": "bulgogi", "ingredients": beef, "portions": {"count": 4, "unit": "portions"}}
    assert learned().detect(_scaled(renamed, 4.0)) == []


def _stock(items: list[dict[str, Any]], read: dict[str, Any], node_type: str = "code") -> list[ReadableSpan]:
    """A warehouse app's first run: a stock API's answer read by a code (or template) node, no history."""
    body = json.dumps({"items": items})
    api = node("stock", "http-request", title="Stock API",
               outputs={"status_code": 200, "body": body, "files": [], "headers": {}})  # fmt: skip
    return run_spans([api, node("read", node_type, title="Read", inputs={"body": body}, outputs=read)])


def test_a_reader_showing_zero_for_every_record_whose_number_sits_in_an_object() -> None:
    """Each item's quantity nested as `{on_hand: {count, unit}}`: the code's `.get('qty', 0)` gives 0 for each, as a
    list as long as the items or as a template's lines."""
    items = [{"sku": "A-1", "on_hand": {"count": 12, "unit": "pcs"}},
             {"sku": "B-2", "on_hand": {"count": 7, "unit": "pcs"}},
             {"sku": "C-3", "on_hand": {"count": 30, "unit": "pcs"}}]  # fmt: skip
    (finding,) = findings(_stock(items, {"quantities": [0, 0, 0]}), "state_corruption")
    rule = "a code or template output of 0 where its input holds the number inside an object"
    assert finding.evidence["rule"] == rule
    assert finding.evidence["received"] == str({"quantities": [0, 0, 0]})
    lines = {"output": "A-1: 0 pcs\nB-2: 0 pcs\nC-3: 0 pcs"}
    assert [f.evidence["rule"] for f in findings(_stock(items, lines, "template-transform"), "state_corruption")] == [
        rule
    ]
    # Fewer zeros than items (a filter), the numbers read, or a record with a 0 of its own (the data's zero).
    assert findings(_stock(items, {"quantities": [0, 0]}), "state_corruption") == []
    assert findings(_stock(items, {"quantities": [12, 7, 30]}), "state_corruption") == []
    # Zeros beside the objects' numbers read: another field's default (no discount given), not a number lost.
    assert findings(_stock(items, {"quantities": [12, 7, 30], "reserved": [0, 0, 0]}), "state_corruption") == []
    empty = [{"sku": "A-1", "on_hand": {"count": 0, "unit": "pcs"}}, *items[1:]]
    assert findings(_stock(empty, {"quantities": [0, 0, 0]}), "state_corruption") == []


def _enrolled(seats: Any, sent: Any) -> list[ReadableSpan]:
    """A booking app: an extractor's seat count sent in an HTTP request's JSON body (Dify's body template)."""
    extract = node("extract", "parameter-extractor", title="Extract", outputs={"__is_success": 1, "seats": seats})
    request = "POST /book HTTP/1.1\r\nContent-Type: application/json\r\n\r\n" + json.dumps({"seats": sent})
    book = node("book", "http-request", title="Book", process_data={"request": request},
                outputs={"status_code": 200, "body": json.dumps({"status": "booked"}), "files": []})  # fmt: skip
    return run_spans([extract, book], app_id="bookings")


def test_an_http_request_sending_an_earlier_nodes_output_changed_where_every_earlier_run_sent_it_as_given() -> None:
    def learned() -> DetectionProcessor:
        processor = _processor()
        for seats in (1, 2, 3, 2, 4):
            assert processor.detect(_enrolled(seats, seats)) == []
        return processor

    # The count lost, or sent as text: the value changed between the extractor and the request.
    for sent in (1, "3"):
        (finding,) = learned().detect(_enrolled(3, sent))
        assert finding.evidence["rule"] == (
            "an HTTP request sending an earlier node's output changed, every earlier run as given"
        )
        assert finding.evidence["received"] == str({"seats": sent})
    # Sent as given; or no history (a template that sends a fixed value under that name).
    assert learned().detect(_enrolled(3, 3)) == []
    assert findings(_enrolled(3, 1), "state_corruption") == []


def _captioned(listed: list[str], given: list[str]) -> list[ReadableSpan]:
    """A code node listing exhibits, then an iteration over `given` (its selector names the code's list)."""
    read = {"id": "read", "node_id": "read", "node_type": "code", "title": "Read", "status": "succeeded",
            "elapsed_time": 0.1, "inputs": {}, "outputs": {"exhibits": listed}}  # fmt: skip
    rounds = [[{"node_type": "llm", "outputs": {"text": f"{item}."}}] for item in given]
    return _iteration(rounds, [f"{item}." for item in given], before=(read,), given=given)


def test_an_iteration_given_a_cut_of_a_list_an_earlier_node_produced() -> None:
    listed = ["Bronze helmet (700 BC)", "Silver coin (95 BC)", "Clay jar (1200)"]
    rule = "an iteration given a cut of a list an earlier node produced"
    # Items dropped (none at all, too), or each item cut short, between the code node and the iteration.
    for given in (listed[:1], [], [item[:6] for item in listed]):
        (finding,) = findings(_captioned(listed, given), "state_corruption")
        assert finding.evidence["rule"] == rule, given
    # The list as produced; or another list (its items not the code's).
    assert findings(_captioned(listed, listed), "state_corruption") == []
    assert findings(_captioned(listed, ["Map (1800)"]), "state_corruption") == []


def test_an_iteration_given_no_item_after_an_http_answer_with_no_file() -> None:
    listed = ["Bronze helmet (700 BC)", "Silver coin (95 BC)"]
    fetch = {"id": "api", "node_id": "api", "node_type": "http-request", "title": "Exhibits API", "status": "succeeded",
             "elapsed_time": 0.1, "inputs": {}, "outputs": {"status_code": 200, "body": "{}", "files": []}}  # fmt: skip
    read = {"id": "read", "node_id": "read", "node_type": "code", "title": "Read", "status": "succeeded",
            "elapsed_time": 0.1, "inputs": {}, "outputs": {"exhibits": listed}}  # fmt: skip
    # The HTTP answer's empty `files` is Dify's own list, not one the iteration's selector could name.
    (finding,) = findings(_iteration([], [], before=(fetch, read), given=[]), "state_corruption")
    assert finding.evidence["rule"] == "an iteration given a cut of a list an earlier node produced"


def _claim(answer: dict[str, Any], amount: float) -> list[ReadableSpan]:
    """A claims app: a code node computing the amount from the API's rate per acre and the area."""
    body = {"farmer_id": "F1", "crop": "wheat", "status": "approved", **answer}
    code = node("payable", "code", inputs={"body": body, "area": 2.5},
                outputs={"result": {"amount": amount, "status": "approved"}})  # fmt: skip
    return run_spans([code], app_id="claims")


def test_a_code_node_computing_from_the_renamed_field_is_a_patched_reader() -> None:
    """Held-out 13's clean twins: the API's rate renamed and the code patched for it (the amount is the new field
    times the area) is no value lost; the amount 0 beside it is."""

    def learned() -> DetectionProcessor:
        processor = _processor()
        for n in range(6):
            assert processor.detect(_claim({"rate_per_acre": 4900 + n}, (4900 + n) * 2.5)) == []
        return processor

    assert learned().detect(_claim({"per_acre_rate": 5000}, 12500)) == []
    (finding,) = learned().detect(_claim({"per_acre_rate": 5000}, 0))
    assert finding.evidence["received"] == str({"holds now": ["body.per_acre_rate"]})


def _price_lines(body: dict[str, Any], lines: str) -> list[ReadableSpan]:
    """A booking desk: a code node writing a line per room from the price list API's records."""
    return run_spans(
        [node("lines", "code", inputs={"body": json.dumps(body)}, outputs={"lines": lines})], app_id="desk"
    )


def test_a_new_field_away_from_the_renamed_one_is_no_patched_reader() -> None:
    """Session 27 (faults10's `saun_price_renamed`): each record's `price` nested as `prices.regular`, and a new
    `version: 2` beside the list. The lines show the durations of 2 hours and price 0: the 2 is no sign that the code
    read the version, which stands away from the field that went; a reader patched for the rename reads what
    stands where it stood."""

    def learned() -> DetectionProcessor:
        processor = _processor()
        for n in range(6):
            rooms = [{"name": "Smoke", "price": 45 + n, "hours": 3}, {"name": "Steam", "price": 25, "hours": 2}]
            lines = f"Smoke: {45 + n} EUR, 3 h\nSteam: 25 EUR, 2 h"
            assert processor.detect(_price_lines({"rooms": rooms}, lines)) == []
        return processor

    rooms = [{"name": "Smoke", "prices": {"regular": 45}, "hours": 3},
             {"name": "Steam", "prices": {"regular": 25}, "hours": 2}]  # fmt: skip
    (finding,) = learned().detect(_price_lines({"version": 2, "rooms": rooms}, "Smoke: 0 EUR, 3 h\nSteam: 0 EUR, 2 h"))
    assert finding.evidence["rule"] == "a code node ran without an input field its earlier runs held, a new field there"
    assert finding.evidence["produced"] == str({"held before": ["body.rooms.price"]})
    # The new field beside the gone one, a number the lines show: the code was patched for it.
    patched = [{"name": "Smoke", "price_eur": 45, "hours": 3}, {"name": "Steam", "price_eur": 25, "hours": 2}]
    assert (
        learned().detect(_price_lines({"version": 2, "rooms": patched}, "Smoke: 45 EUR, 3 h\nSteam: 25 EUR, 2 h")) == []
    )


def _row(reading: dict[str, Any], row: str) -> list[ReadableSpan]:
    """A dairy's round: a code node writing a cow's line from the milking API's one-field answer."""
    return run_spans([node("row", "code", inputs={"body": reading}, outputs={"row": row})], app_id="dairy")


def test_a_code_node_showing_zero_for_a_renamed_input_field() -> None:
    """A record of one field renamed (`milk_kg` → `yield_kg`), the line showing 0 while the input holds no 0: the
    renamed field read as the code's default 0, flagged while the new name is rare in the node's history."""
    processor = _processor()
    for n in range(20):
        assert processor.detect(_row({"milk_kg": 30.5 + n}, f"4471: {30.5 + n} kg")) == []
    assert processor.detect(_row({"yield_kg": 35.2}, "4471: 35.2 kg")) == []  # patched
    assert processor.detect(_row({"yield_kg": 0}, "4471: 0 kg")) == []  # the data's own zero
    (finding,) = processor.detect(_row({"yield_kg": 35.2}, "4471: 0.0 kg"))
    assert finding.evidence["rule"] == "a code node showing 0 for an input field renamed, its input holding no 0"
    assert finding.evidence["received"] == str({"row": "4471: 0.0 kg"})


def _top_up(body: dict[str, Any], outputs: dict[str, Any]) -> list[ReadableSpan]:
    """A top-up app: an API answering `body`, a code node shaping the receipt (its `note` optional)."""
    api = node("topup", "http-request", outputs={"status_code": 200, "body": json.dumps(body), "headers": {}})
    read = node("receipt", "code", inputs={"body": json.dumps(body)}, outputs=outputs)
    return run_spans([api, read], app_id="topup")


def test_an_optional_output_filled_now_and_then_is_not_usually_filled() -> None:
    body = {"card": "****2822", "balance": 49.19}
    processor = _processor()
    # The note is left empty on most receipts, the card at hand: filled six times after, it is still no usual value.
    assert all(processor.detect(_top_up(body, {"card": "****2822", "note": ""})) == [] for _ in range(20))
    assert all(processor.detect(_top_up(body, {"card": "****2822", "note": "holder: Ana"})) == [] for _ in range(6))
    assert processor.detect(_top_up(body, {"card": "****2822", "note": ""})) == []


def test_a_lasting_emptying_keeps_firing_until_the_output_is_filled_again() -> None:
    visit = {"on": "2026-03-02", "doctor": "Okafor"}
    processor = _processor()
    assert all(processor.detect(_visits({"visits": [visit]}, [visit])) == [] for _ in range(9))
    # The API renamed its list and nobody patched the reader: every run of the change shows the default.
    assert all(len(processor.detect(_visits({"appointments": [visit]}, []))) == 1 for _ in range(4))
    # Filled again: the four emptyings were the node's way at times (more than a run in ten), no longer judged.
    assert processor.detect(_visits({"visits": [visit]}, [visit])) == []
    assert processor.detect(_visits({"appointments": [visit]}, [])) == []


def test_a_loops_rounds_are_one_run_of_the_nodes_history() -> None:
    # A cursor filled on every page but the last: a loop stuck on one page fills it ten times a run, which must
    # not make the last page's empty cursor look unusual.
    processor = _processor()

    def pages(cursors: list[str], run: str) -> list[ReadableSpan]:
        base = {"id": "lp", "node_id": "lp", "node_type": "loop", "title": "Pages", "created_at": 1}
        events = [DifyEvent("workflow_started", {"inputs": {}, "created_at": 0}, run),
                  DifyEvent("loop_started", {**base, "metadata": {"loop_length": 10}}, run)]  # fmt: skip
        for index, cursor in enumerate(cursors):
            meta = {"loop_id": "lp", "loop_index": index}
            body = json.dumps({"reader": "MT-1", "next": cursor or None})
            events.append(DifyEvent("node_finished", {"id": f"n{index}", "node_id": "page", "node_type": "code",
                                                      "title": "Page", "status": "succeeded", "created_at": 2 + index,
                                                      "inputs": {"body": body}, "outputs": {"cursor": cursor},
                                                      "loop_id": "lp", "execution_metadata": meta}, run))  # fmt: skip
        return container_spans(events, "loop", base, "loop_break", {"cursor": cursors[-1]}, run)

    runs = [["c2", ""]] * 6 + [["c2"] * 10] * 10 + [["c2", ""]]
    found = [processor.detect(pages(cursors, f"r{n}")) for n, cursors in enumerate(runs)]
    assert found == [[]] * len(runs)


def test_an_output_left_empty_while_its_inputs_same_named_field_came_null_is_fair() -> None:
    processor = _processor()
    page = {"first_slot": "SL-1061", "next_cursor": "p2"}
    assert all(processor.detect(_top_up(page, {"found": 1, "cursor": "p2"})) == [] for _ in range(6))
    # The last page: its `next_cursor` is null, so the code's cursor is empty (the slot's id is another text).
    last = {"first_slot": "SL-3092", "next_cursor": None}
    assert processor.detect(_top_up(last, {"found": 1, "cursor": ""})) == []
    # No cursor field at all, a text at hand: the cursor was lost.
    assert len(processor.detect(_top_up({"first_slot": "SL-3092"}, {"found": 1, "cursor": ""}))) == 1


def test_a_number_another_parameter_took_as_text_is_no_stated_number_left_out() -> None:
    parameters = [{"name": "card", "type": "string"}, {"name": "amount", "type": "number"}]
    inputs = {"query": "Quero recarregar o cartão 786201282878.", "parameters": parameters}
    for card in ("786201282878", ""):
        outputs = {"__is_success": 1, "card": card, "amount": 0}
        spans = run_spans([node("pe", "parameter-extractor", inputs=inputs, outputs=outputs)])
        assert len(findings(spans, "state_corruption")) == (0 if card else 1)


def test_an_empty_list_a_filter_after_the_api_produced_is_no_answer_field_lost() -> None:
    trains = [{"train": "R 9211", "free": 0}, {"train": "R 9215", "free": 0}]
    api = node("timetable", "http-request", outputs={"status_code": 200, "body": json.dumps({"trains": trains})})
    kept = node("with_seats", "list-operator", inputs={"variable": ["R 9211"]}, outputs={"result": []})
    table = node("table", "template-transform", inputs={"trains": []}, outputs={"output": ""})
    assert findings(run_spans([api, kept, table]), "state_corruption") == []
    assert len(findings(run_spans([api, table]), "state_corruption")) == 1


def _fee(default: dict[str, Any], fee: Any) -> list[ReadableSpan]:
    """A parking app: the fee API failing after its retry, its default value passed on; a code node reading it."""
    body, error = json.dumps(default), "Reached maximum retries for URL http://fees/zone/K"
    failed = {"body": body, "status_code": 200, "headers": {}, "files": [], "error_message": error,
              "error_type": "HttpRequestNodeError"}  # fmt: skip
    api = node("fees", "http-request", title="Zone fee", outputs=failed, **_defaulted(error))
    read = node("fee", "code", title="Fee", inputs={"body": body}, outputs={"fee": fee})
    return run_spans([api, read, llm("answer", prompt=f"Monthly fee: {fee} kr", answer=f"It costs {fee} kr.")])


def test_a_requests_default_value_passed_on_as_data_by_a_later_node() -> None:
    (finding,) = findings(_fee({"monthly_fee": 0, "currency": "SEK"}, 0), "state_corruption")
    assert finding.evidence["rule"] == "a request's default value, its error hidden, passed on as data by a later node"
    assert finding.evidence["node"] == "Fee" and finding.evidence["received"] == str({"fee": 0})
    # A default with no figure, or read into none (the app's fallback: "unknown" shown), is the fallback at work.
    assert findings(_fee({"currency": "SEK"}, "unknown"), "state_corruption") == []
    assert findings(_fee({"monthly_fee": 0}, "unknown"), "state_corruption") == []


def test_a_requests_default_figure_passed_on_as_a_text_by_a_later_node() -> None:
    """faults13's `seguro_default_zero`: the policy API's 500 replaced by the default `{"cobertura_eur": 0}`, the code
    node writing it as the text `"0"`, and the answer "covered up to 0 EUR". A text that is no figure is left."""
    (finding,) = findings(_fee({"monthly_fee": 0, "currency": "SEK"}, "0"), "state_corruption")
    assert finding.evidence["received"] == str({"fee": "0"})
    assert findings(_fee({"monthly_fee": 0, "currency": "SEK"}, "0 or more"), "state_corruption") == []


def test_a_requests_default_empty_list_counted_as_none_by_a_later_node() -> None:
    """Session 26, the real `nb_ferje` (held-out 16): the departures API's 500 replaced by the default `{"departures":
    []}`, counted by the code as 0 departures, and the answer "no departures today" the request never gave."""
    (finding,) = findings(_fee({"departures": []}, 0), "state_corruption")
    assert finding.evidence["rule"] == "a request's default value, its error hidden, passed on as data by a later node"
    assert finding.evidence["received"] == str({"fee": 0})
    # The empty default read into no count (the fallback told as such).
    assert findings(_fee({"departures": []}, "no data"), "state_corruption") == []


def test_a_same_named_value_read_empty_from_a_filter_after_its_producer_is_the_filters() -> None:
    lines = ["R 9211 06:50, no seats", "R 9215 12:10, no seats"]
    shaped = node("shape", "code", inputs={"body": "{}"}, outputs={"trains": lines})
    kept = node("with_seats", "list-operator", inputs={"variable": lines}, outputs={"result": []})
    # The table's own `trains` is mapped to the filter's result: no train had seats.
    table = node("table", "template-transform", inputs={"trains": []}, outputs={"output": ""})
    assert findings(run_spans([shaped, kept, table]), "state_corruption", type_changes=True) == []
    (finding,) = findings(run_spans([shaped, table]), "state_corruption")
    assert finding.evidence["rule"] == "same-named variable empty at the reader"


def _booking_turn(conversation: str, destination: str, operation: str = "over-write") -> list[ReadableSpan]:
    """A bus desk chatflow's turn: an extractor reads the destination, an assigner over-writes the conversation's
    variable with it (its process data, as Dify 1.14.1 streams it), an API asked for buses to it."""
    extractor = node("pe", "parameter-extractor", title="Trip", outputs={"destination": destination, "seats": 1})
    item = {"variable_selector": ["conversation", "destination"], "input_type": "variable", "operation": operation,
            "value": ["pe", "destination"]}  # fmt: skip
    written = {"destination": destination,
               "__updated_variables": [{"name": "destination", "selector": ["conversation", "destination"],
                                        "value_type": "string", "new_value": destination}]}  # fmt: skip
    assign = node("cv", "assigner", title="Keep booking", inputs={"version": "2", "items": [item]},
                  process_data=written)  # fmt: skip
    api = node("bus", "http-request", title="Free seats", outputs={"status_code": 200, "body": '{"bus": []}'})
    return run_spans([extractor, assign, api], app_id="bus", conversation_id=conversation)


def test_an_assigner_emptying_a_conversation_variable_the_last_turn_filled() -> None:
    """The real `bus_destination_lost` (faults9): the second turn's extractor found no destination and the assigner
    over-wrote the booking's (`চট্টগ্রাম`) with the empty string; the bus API was asked for buses to nowhere."""
    processor = _processor()
    assert processor.detect(_booking_turn("c1", "Chattogram")) == []
    assert processor.detect(_booking_turn("c1", "Sylhet")) == []  # changed, not lost
    (finding,) = processor.detect(_booking_turn("c1", ""))
    assert finding.evidence["rule"] == "an assigner emptied a conversation variable an earlier turn filled"
    assert (finding.evidence["variable"], finding.evidence["produced"], finding.evidence["received"]) == (
        "destination",
        "Sylhet",
        "",
    )
    # The variable is empty now: a turn keeping it so loses nothing more.
    assert processor.detect(_booking_turn("c1", "")) == []
    # Another conversation's first turn, or one of this conversation after a restart, has no earlier turn.
    assert processor.detect(_booking_turn("c2", "")) == []
    restarted = _processor()
    assert restarted.detect(_booking_turn("c1", "")) == []
    # A clear (or a constant) written on purpose is the app's design.
    assert processor.detect(_booking_turn("c3", "Khulna")) == []
    assert processor.detect(_booking_turn("c3", "", operation="clear")) == []


def _sms_run(message: str, cut: int) -> list[ReadableSpan]:
    """A market stall's SMS: an LLM writes the confirmation, a template builds the gateway's JSON body (the text
    cut at `cut` characters before `tojson`), an HTTP request sends it."""
    writer = llm("llmS", prompt="Confirm the order.", answer=message, title="Clerk")
    body = json.dumps({"to": "+234 803 555 0142", "text": message[:cut]})
    template = node("body", "template-transform", title="SMS body", inputs={"text": message},
                    outputs={"output": body})  # fmt: skip
    send = node("sms", "http-request", title="Send SMS", outputs={"status_code": 200, "body": '{"sent": true}'})
    return run_spans([writer, template, send])


def test_an_llm_answer_cut_short_in_a_body_sent_out_losing_a_figure() -> None:
    """The real `oja_sms_cut` (faults9): a confirmation longer than the template's 200-character cut was sent
    without its last items and its total."""
    message = "Adebayo, your order: ankara 6 yards (27,000), lace 4 yards (12,000), fila 2 (5,000). Total: 44,000."
    (finding,) = findings(_sms_run(message, 70), "state_corruption")
    assert finding.evidence["rule"] == "an LLM answer cut short in what a node hands an HTTP request or a tool"
    assert (finding.evidence["produced"], finding.evidence["received"]) == (message, message[:70])
    # Under the cut, or a runaway answer's repeats cut off (no figure lost), or a short label kept.
    assert findings(_sms_run(message, 200), "state_corruption") == []
    repeated = "Thank you for buying from us, 2 days to delivery. " * 6
    assert findings(_sms_run(repeated, 120), "state_corruption") == []
    assert findings(_sms_run(message, 8), "state_corruption") == []


def _paging(reads: list[str], kept: list[str]) -> list[ReadableSpan]:
    """A loop following a page cursor: its loop variable `orders` starts empty, each round's code node reads it
    (`reads`) and adds a page (`kept`); the loop's outputs are its last round's values."""
    base = {"id": "lp", "node_id": "lp", "node_type": "loop", "title": "Pages", "created_at": 1,
            "inputs": {"orders": ""}}  # fmt: skip
    events = [DifyEvent("workflow_started", {"inputs": {}, "created_at": 0}, "r"),
              DifyEvent("loop_started", {**base, "metadata": {"loop_length": 5}}, "r")]  # fmt: skip
    for index, (read, page) in enumerate(zip(reads, kept, strict=True)):
        meta = {"loop_id": "lp", "loop_index": index}
        events.append(DifyEvent("node_finished", {"id": f"n{index}", "node_id": "page", "node_type": "code",
                                                  "title": "Page", "status": "succeeded", "created_at": 2 + index,
                                                  "inputs": {"body": "{}", "orders": read},
                                                  "outputs": {"orders": page}, "loop_id": "lp",
                                                  "execution_metadata": meta}, "r"))  # fmt: skip
    return container_spans(events, "loop", base, "loop_break", {"orders": kept[-1]})


def test_a_loop_round_reading_its_loop_variables_start_is_no_value_lost() -> None:
    # The loop's outputs (its last round's) are no value its first round could read: the variable started empty.
    assert findings(_paging(["", "A-1"], ["A-1", "A-1\nA-2"]), "state_corruption") == []
    # A value one round produced, read empty by the next, still is.
    (finding,) = findings(_paging(["", ""], ["A-1", "A-2"]), "state_corruption")
    assert finding.evidence["rule"] == "same-named variable empty at the reader"
    assert finding.evidence["produced"] == "A-1"


def test_a_clock_time_in_a_readers_text_is_no_figure_computed_from_a_renamed_field() -> None:
    """A bus app's code node writing its API's seats and fare: v2 nests the seats and gives the fare in euros, the
    code shows its defaults. 07:00, a departure, is 3.5 x 2 only by chance: no sign of a reader patched for v2."""
    processor = _processor()

    def board(body: dict[str, Any], text: str) -> list[ReadableSpan]:
        read = node("read", "code", inputs={"body": json.dumps(body), "party": 2}, outputs={"summary": text})
        return run_spans([read], app_id="coach")

    usual = {"route": "Tirana-Durres", "free_seats": 40, "fare_cents": 350, "times": ["07:00", "10:30"]}
    for _ in range(6):
        assert processor.detect(board(usual, "Seats: 40\nFare: 3.5\nTotal for 2: 7.0\nDepartures: 07:00, 10:30")) == []
    v2 = {"route": "Tirana-Durres", "seats": {"free": 40}, "fare_eur": 3.5, "times": ["07:00", "10:30"]}
    (finding,) = processor.detect(board(v2, "Seats: 0\nFare: 0.0\nTotal for 2: 0.0\nDepartures: 07:00, 10:30"))
    assert finding.evidence["rule"] == "a code node ran without an input field its earlier runs held, a new field there"


def test_a_code_output_holding_the_first_items_only_of_the_list_it_always_passed_on_whole() -> None:
    """A republished code node slicing the ids (`[:2]` of four, faults12's `fo_page_cut`): the list's tail lost as if
    never there. A filter keeps the items it wants (not the first ones), and a node that ever passed fewer on keeps
    no such relation."""
    trips = [{"time": f"0{n}:40", "to": "Capri"} for n in range(1, 5)]
    processor = _processor()
    assert all(processor.detect(_departures({"departures": trips[:n]}, trips[:n])) == [] for n in range(1, 6))
    (finding,) = processor.detect(_departures({"departures": trips}, trips[:2]))
    assert (
        finding.evidence["rule"] == "a code output holding the first items only of the input list it kept whole before"
    )
    assert (finding.evidence["produced"], finding.evidence["received"]) == (
        str({"body.departures": 4}),
        str({"departures": 2}),
    )
    assert processor.detect(_departures({"departures": trips}, [trips[1], trips[3]])) == []


def test_a_parameter_extractors_number_other_than_the_figure_before_the_parameters_own_word() -> None:
    """A budget per metre read as the metres (faults12's `gu_metre_misread`): the text writes 3.5 before the word the
    app's author gave the parameter (its description, in the app's language), and the extracted 700 counts another
    thing (₹700 per metre). The figure before the word taken, or the word written before no figure, is the model's
    reading."""

    def extracted(query: str, metres: float) -> list[ReadableSpan]:
        parameters = [{"name": "kapad", "type": "string"}, {"name": "metre", "type": "number", "description": "મીટર"}]
        outputs = {"__is_success": 1, "kapad": "silk", "metre": metres}
        inputs = {"query": query, "parameters": parameters}
        return run_spans([node("pe", "parameter-extractor", title="Order", inputs=inputs, outputs=outputs)])

    query = "silk 3.5 મીટર જોઈએ, બજેટ ₹700 પ્રતિ મીટર સુધી છે"
    (finding,) = findings(extracted(query, 700), "state_corruption")
    rule = "a parameter extractor's number other than the figure its text writes before the parameter's word"
    assert finding.evidence["rule"] == rule and finding.evidence["received"] == str({"metre": 700})
    assert findings(extracted(query, 3.5), "state_corruption") == []
    assert findings(extracted("silk, 4 પીસ, ₹700 પ્રતિ મીટર", 4), "state_corruption") == []


def _priced(body: dict[str, Any], total: float, answer: str) -> list[ReadableSpan]:
    """A bakery's quote: a code node reading the API's `total` (its default 0), the run answering `answer`."""
    summary = f"total EUR {total:g}"
    read = node("sum", "code", title="Summary", inputs={"body": json.dumps(body)},
                outputs={"summary": summary, "total": total})  # fmt: skip
    end = node("end", "end", inputs={"answer": answer}, outputs={"answer": answer})
    return run_spans([read, end], app_id="bakery", outputs={"answer": answer})


def test_a_code_default_for_a_field_gone_keeps_firing_while_the_answer_shows_it() -> None:
    """The quote API moved `total` into `prezz.total_eur` and stayed so (held-out 18's `mt_forn`): the code's default
    0 is flagged on the first run, and after it on every run whose answer shows the 0 (`EUR 0`); a run whose answer
    does not show it (the model read the raw answer) is not, and counts no more against the field."""
    processor = _processor()
    for n in range(1, 7):
        assert processor.detect(_priced({"total": 10.0 * n, "unit": 2.5}, 10.0 * n, f"EUR {10 * n}")) == []
    moved = {"prezz": {"total_eur": 22.5, "unit": 6.5}, "lest": 6}
    rule = "a code output number read from a same-named input field, 0 with that field gone"
    for answer in ("Total EUR 0.", "Total EUR 22.5.", "Total EUR 0.", "Total EUR 0, call us."):
        got = processor.detect(_priced(moved, 0, answer))
        assert [f.evidence["rule"] for f in got] == ([] if "22.5" in answer else [rule]), answer


def test_zeros_for_nested_numbers_are_left_alone_where_the_answer_states_the_numbers_all_the_same() -> None:
    """The model shown the raw answer beside the reader's zeros (held-out 18's bus app) gave the real figures: the
    default never reached the answer; a count of the records (2) stating nothing of them, it still did."""
    items = [{"sku": "A-1", "on_hand": {"count": 12, "unit": "pcs"}},
             {"sku": "B-2", "on_hand": {"count": 7, "unit": "pcs"}}]  # fmt: skip
    body = json.dumps({"items": items})
    api = node("stock", "http-request", title="Stock API",
               outputs={"status_code": 200, "body": body, "files": [], "headers": {}})  # fmt: skip
    read = node("read", "code", title="Read", inputs={"body": body}, outputs={"quantities": [0, 0]})

    def answered(answer: str) -> list[Any]:
        spans = run_spans([api, read], outputs={"answer": answer, "records": 2})
        return [f.evidence["rule"] for f in findings(spans, "state_corruption")]

    assert answered("A-1: 12 pcs on hand, B-2: 7.") == []
    assert answered("A-1 and B-2: 0 pcs, out of stock.") == [
        "a code or template output of 0 where its input holds the number inside an object"
    ]


def _claimed(query: str, amount: float, description: str = "报销金额，单位：元") -> list[ReadableSpan]:
    """An expense form's extractor: `jine`, the claim's amount, read from `query`."""
    parameters = [{"name": "jine", "type": "number", "description": description}, {"name": "riqi", "type": "string"}]
    outputs = {"__is_success": 1, "jine": amount, "riqi": "2027-03-09"}
    inputs = {"query": query, "parameters": parameters}
    return run_spans([node("pe", "parameter-extractor", title="Form", inputs=inputs, outputs=outputs)], app_id="claims")


def test_an_extractors_figure_written_with_a_thousands_separator_is_the_figure_taken() -> None:
    """`1,280 元` extracted as 1280 (faults13's clean `claim_clean_2`): the comma separates thousands, so the text
    states the number taken; the text's 1.28 no parameter took was a misreading of the detector's."""
    assert findings(_claimed("昨天（3/4）请客户吃饭花了 1,280 元，餐饮类", 1280), "state_corruption") == []
    (finding,) = findings(_claimed("昨天请客户吃饭花了 1,280 元，餐饮类", 1290), "state_corruption")
    assert finding.evidence["received"] == str({"jine": 1290})


def test_an_extractors_count_of_another_thing_where_the_text_writes_a_figure_before_the_parameters_unit() -> None:
    """The packs counted as the sum (faults13's `claim_paper_count`: "12 包打印纸 ... 216 元" read as 12): the
    parameter's description names its unit, one ideograph (`元`), which the text writes after 216 only."""
    rule = "a parameter extractor's number other than the figure its text writes before the parameter's word"
    (finding,) = findings(_claimed("3月9日买了 12 包打印纸，共 216 元", 12), "state_corruption")
    assert finding.evidence["rule"] == rule
    assert findings(_claimed("3月9日买了 12 包打印纸，共 216 元", 216), "state_corruption") == []
    assert findings(_claimed("3月9日买了 12 包打印纸，共 216 元", 12, "报销金额"), "state_corruption") == []


def test_an_extractors_number_other_than_the_figure_a_word_or_two_before_the_parameters_word() -> None:
    """The headcount read as the seats (held-out 19's `en_leads`: "250 employees, but only 40 need helpdesk seats"
    read as 250): no figure stands right before `seats`, and 40 stands two words before it in its clause. A price
    before the word is a rate, no count of it ("₹700 per metre")."""

    def seats(query: str, value: float) -> list[ReadableSpan]:
        parameters = [{"name": "seats", "type": "number", "description": "number of user seats"}]
        inputs = {"query": query, "parameters": parameters}
        outputs = {"__is_success": 1, "seats": value}
        return run_spans([node("pe", "parameter-extractor", title="Lead", inputs=inputs, outputs=outputs)])

    query = "Lumen Dental - company of 250 employees, but only 40 need helpdesk seats. Quote?"
    (finding,) = findings(seats(query, 250), "state_corruption")
    assert finding.evidence["received"] == str({"seats": 250})
    assert findings(seats(query, 40), "state_corruption") == []
    assert findings(seats("we have 250 employees; $40 per user seats is our limit", 250), "state_corruption") == []


def test_an_extractors_number_its_text_writes_as_money_where_the_parameter_never_was() -> None:
    """A budget read as the seats (held-out 19's `en_leads`: "40 agents, budget around $20,000 a year" read as 20,000
    seats): every earlier run's seats were written as a count, so a sum of money taken is another quantity; it keeps
    firing while it lasts. A parameter that is money in its earlier runs (a claim's amount, `¥216`) is left alone."""

    def seats(query: str, value: float, app: str = "leads") -> list[ReadableSpan]:
        parameters = [{"name": "seats", "type": "number", "description": "number of user seats"}]
        inputs = {"query": query, "parameters": parameters}
        outputs = {"__is_success": 1, "seats": value}
        return run_spans([node("pe", "parameter-extractor", title="Lead", inputs=inputs, outputs=outputs)], app_id=app)

    processor = _processor()
    for n in range(5, 10):
        assert processor.detect(seats(f"We are Acme, {n} seats please", n)) == []
    rule = "a parameter extractor's number its text writes as money, never so before"
    for query in ("We're Cobalt: 40 agents, budget around $20,000 a year.", "Greenleaf: 12 agents, budget $15,000"):
        got = processor.detect(seats(query, float(query.rpartition("$")[2][:6].replace(",", ""))))
        assert [f.evidence["rule"] for f in got] == [rule]
    # A currency's code as a compound's first part ("6 EUR-pallets", held-out 5) writes a count, no sum of money.
    assert processor.detect(seats("Ship 6 EUR-pallets (3.300 kg total)", 6)) == []
    paid = _processor()
    for n in range(5, 10):
        assert paid.detect(seats(f"Acme paid ${n}0 for seats", n * 10, "paid")) == []
    assert paid.detect(seats("Acme paid $20,000 for seats", 20000, "paid")) == []


def _crm_quote(body: dict[str, Any], seats: int, quote: int, answer: str) -> list[ReadableSpan]:
    """A CRM quote read by a code node (its defaults 0 for fields it does not find), the run answering `answer`."""
    read = node("sum", "code", title="Quote summary", inputs={"body": json.dumps(body)},
                outputs={"summary": f"{seats} seats, quote {quote} USD/yr", "quote": quote})  # fmt: skip
    end = node("end", "end", inputs={"answer": answer}, outputs={"answer": answer})
    return run_spans([read, end], app_id="crm", outputs={"answer": answer})


def test_a_reshaped_answer_read_as_the_codes_zeros_that_reach_the_runs_answer() -> None:
    """The CRM's v2 nested its fields under `account` and `pricing` (held-out 19's `en_leads`, faults13's
    `orders_renamed`): the code read its defaults, and on the runs whose answer shows the 0 and none of the CRM's
    numbers the defaults reached the user; a run whose model read the raw answer (the real 4500) is left alone."""
    processor = _processor()
    for n in range(5, 12):
        old = {"company": "Acme", "seats": n, "plan": "Growth", "quote_usd": 300 * n}
        assert processor.detect(_crm_quote(old, n, 300 * n, f"{n} seats: {300 * n} USD/yr")) == []
    rule = "a code node given a reshaped answer showing 0, the run's answer its 0 and none of its numbers"
    for seats, answer in ((15, "For 15 seats: 4500 USD/yr."), (5, "Your quote: 0 seats, 0 USD/yr."),
                          (8, "Your quote: 0 USD per year."), (9, "For 9 seats: 2700 USD/yr.")):  # fmt: skip
        new = {"account": {"name": "Acme"}, "pricing": {"seatCount": seats, "planName": "Growth",
                                                        "annualTotal": 300 * seats}}  # fmt: skip
        got = [f.evidence["rule"] for f in processor.detect(_crm_quote(new, 0, 0, answer))]
        got = [name for name in got if name == rule]
        assert got == ([rule] if " 0 " in answer else []), answer


def test_an_iterations_failed_rounds_item_missing_from_an_answer_naming_every_other_item() -> None:
    """held-out 19's `zh_content`: a topic's round failed (rate limit, "continue on error": a null), and the plan the
    run answered names the three other topics and not the fourth: lost, not reported. Told missing, or no item
    named at all, nothing was passed off."""
    topics = ["Laundry corner (keyword: cabinets)", "Kitchen counter (keyword: storage)",
              "Sideboard styling (keyword: sideboard)", "Green plants (keyword: plants)"]  # fmt: skip
    rounds = [[{"node_type": "llm", "outputs": {"text": f"Post about {topic}"}}] for topic in topics[:3]]
    rounds.append([{"node_type": "llm", "status": "failed", "error": "Rate limit reached", "outputs": {}}])
    output: list[object] = [f"Post about {topic}" for topic in topics[:3]] + [None]

    def planned(answer: str) -> list[ReadableSpan]:
        return _iteration(rounds, output, given=topics, answer=answer)

    rule = "an iteration's failed round's item missing from an answer naming every other item"
    plan = "Plan:\n- Laundry corner\n- Kitchen counter\n- Sideboard styling"
    (finding,) = findings(planned(plan), "state_corruption")
    assert finding.evidence["rule"] == rule
    told = "Plan: Laundry corner, Kitchen counter, Sideboard styling; Green plants failed, to be redone."
    assert findings(planned(told), "state_corruption") == []
    assert findings(planned("Plan: three posts this week."), "state_corruption") == []


def _tracked(events: list[dict[str, Any]], answer: str) -> list[ReadableSpan]:
    """A tracking app: a code node making rows of an API's events (`time`, `location`, `status`; "不明" when it has
    none), then the answer."""
    rows = [
        {"time": e.get("time", ""), "location": e.get("location", ""), "status": e.get("status", "")} for e in events
    ]
    latest = rows[-1]["status"] or "不明"
    body = json.dumps({"events": events})
    code = node(
        "rows", "code", title="Rows", inputs={"body": body}, outputs={"rows": json.dumps(rows), "latest": latest}
    )
    end = node("end", "end", title="End", inputs={"answer": answer}, outputs={"answer": answer})
    return run_spans([code, end], outputs={"answer": answer})


def test_a_code_nodes_records_all_emptied_from_records_given_filled_its_default_answered() -> None:
    """The API renamed its events' fields (`ts`, `place`, `state`): each row read empty, and the code's own default
    `不明` answered as the parcel's status. Told that the history could not be read, the answer passed nothing on."""
    renamed = [{"ts": "12/01 08:40", "place": {"name": "中部ベース"}, "state": {"label": "荷物受付"}}] * 3
    (finding,) = findings(_tracked(renamed, "お荷物の最新の状況は「不明」です。"), "state_corruption")
    assert finding.evidence["rule"] == (
        "a code node's records all emptied from records given filled, its default answered"
    )
    assert findings(_tracked(renamed, "追跡履歴を取得できませんでした。"), "state_corruption") == []
    read = [{"time": "12/01 08:40", "location": "中部ベース", "status": "荷物受付"}] * 3
    assert findings(_tracked(read, "お荷物の最新の状況は「荷物受付」です。"), "state_corruption") == []


def _receipt(body: dict[str, Any], outputs: dict[str, Any]) -> list[ReadableSpan]:
    code = node("parse", "code", title="Parse receipt", inputs={"body": json.dumps(body)}, outputs=outputs)
    return run_spans([code])


def test_a_code_nodes_every_output_empty_a_record_nested_in_its_input_holding_one_filled() -> None:
    """The claim service nests its receipt under `data.claim`: the code reads `approver` and `amount` at the top, and
    each comes out as its default. The same record at the top, read, or a list's records a filter kept none of: no
    loss."""
    nested = {"code": 0, "data": {"claim": {"no": "BX-2027-5020", "approver": "陈明", "amount_cny": 1860.0}}}
    defaults = {"claim_no": "", "approver": "", "amount": "0"}
    (finding,) = findings(_receipt(nested, defaults), "state_corruption")
    assert finding.evidence["rule"] == "a code node's every output empty, a nested record holding one of them filled"
    read = {"claim_no": "BX-2027-5020", "approver": "陈明", "amount": "1860"}
    assert findings(_receipt(nested, read), "state_corruption") == []
    listed = {"claims": [{"no": "BX-1", "approver": "陈明", "amount": 20}]}
    assert findings(_receipt(listed, {"approver": "", "amount": "0"}), "state_corruption") == []


def test_a_code_node_run_without_a_records_fields_of_an_api_mostly_answering_not_found() -> None:
    """An order API answering "not found" in most runs holds the order's fields in the others only: counted against
    the runs whose input held the order, they are usual, and their regrouping (`status, carrier` →
    `logistics: {state, company}`) read as the code's defaults is told."""
    processor = _processor()

    def lookup(answer: dict[str, Any], summary: str) -> list[ReadableSpan]:
        inputs = {"body": json.dumps(answer)}
        return run_spans(
            [node("read", "code", title="Read order", inputs=inputs, outputs={"summary": summary})], app_id="shop"
        )

    for n in range(15):  # five orders
        if n % 3:
            answer: dict[str, Any] = {"found": False, "message": "no such order"}
        else:
            answer = {"found": True, "order": {"order_no": f"DD{n}", "status": "shipped", "carrier": "YTO"}}
        assert processor.detect(lookup(answer, f"DD{n}: shipped by YTO")) == []
    moved = {"found": True, "order": {"order_no": "DD9", "logistics": {"state": "shipped", "company": "YTO"}}}
    (finding,) = processor.detect(lookup(moved, "DD9: unknown by unknown"))
    assert finding.evidence["produced"] == str({"held before": ["body.order.carrier", "body.order.status"]})


def test_a_parameter_extractors_week_moved_by_a_count_the_text_writes_as_a_word_is_computed() -> None:
    """ "In two weeks, we are in week 11" asked as week 13: the stated figure plus the count written as a word is the
    model's arithmetic, not a number changed; week 9 or 4 is neither stated nor computed from the text."""
    week = [{"name": "week", "type": "number", "description": "the week wanted"}]
    query = "Cleaning in two weeks please, we are in week 11 now"
    assert findings(_extraction(query, week, {"week": 13}), "state_corruption") == []
    for wrong in (4, 9.5):
        assert len(findings(_extraction(query, week, {"week": wrong}), "state_corruption")) == 1

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from detectors import Finding
from tests.detectors.build import findings, llm, node, run_spans

OPENAI_KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"


def test_secret_from_a_tool_into_a_prompt() -> None:
    tool = node("vault", "tool", outputs={"text": f"key={OPENAI_KEY}"})
    spans = run_spans([tool, llm(prompt=f"Use {OPENAI_KEY} to call the API")])
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.severity == "high" and finding.span_id is not None
    assert OPENAI_KEY not in str(finding.evidence) and "node 'vault'" in finding.summary


def test_personal_data_from_inputs_into_the_output() -> None:
    spans = run_spans(  # the Start node repeating the inputs is no lookup returning them
        [node("start", "start", inputs={"email": "jane.doe@acme-corp.io"})],
        inputs={"email": "jane.doe@acme-corp.io"},
        outputs={"answer": "We wrote to jane.doe@acme-corp.io"},
    )
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.severity == "medium" and finding.span_id is None and "run's output" in finding.summary
    assert findings(spans, "dify_variable_leak", personal_data=False) == []  # secrets only


def test_a_lookup_returning_the_callers_own_contact_is_no_leak() -> None:
    # The caller gives a booking reference and their phone; the booking tool answers with the same phone, which
    # the prompt and the answer repeat: their own record. A second person's number in the record is not theirs.
    own, other = "+44 7700 900123", "+44 7700 900987"

    def run(record: dict[str, str]) -> list[Any]:
        tool = node("booking", "tool", outputs={"text": str(record)})
        return run_spans(
            [node("start", "start"), tool, llm(prompt=f"Booking: {record}")],
            inputs={"reference": "BK-4411", "phone": own},
            outputs={"answer": f"We will text {own} when your room is ready."},
        )

    assert findings(run({"booking": "BK-4411", "phone": own}), "dify_variable_leak", tool_prompts=True) == []
    (finding,) = findings(
        run({"booking": "BK-4411", "phone": own, "emergency": other}), "dify_variable_leak", tool_prompts=True
    )
    assert finding.evidence["kind"] == "phone" and finding.evidence["source"] == "node 'booking'"
    assert finding.evidence["source_value"] == other[:4] + "…(15 chars)"


def test_a_phone_on_the_line_of_a_shared_mailbox_is_a_service_line() -> None:
    page = "Lost luggage: baggage-help@skyport.eu or +31 20 794 0800 (06:00-23:00).\nOn duty: +31 6 1234 5678"
    desk = "Call +31 20 794 0800 or mail baggage-help@skyport.eu."
    assert findings(_retrieved(page, desk), "dify_variable_leak") == []
    (finding,) = findings(_retrieved(page, "Call +31 6 1234 5678 directly."), "dify_variable_leak")
    assert finding.evidence["kind"] == "phone"
    # The same page as a tool's JSON output, its line break escaped (`\n` in the text).
    for answer, leaks in ((desk, False), ("Call +31 6 1234 5678 directly.", True)):
        tool = node("contacts", "tool", outputs={"text": page})
        spans = run_spans([tool], outputs={"answer": answer})
        assert bool(findings(spans, "dify_variable_leak")) == leaks, answer


def test_a_token_an_http_node_sent_reaching_a_prompt_is_a_leak() -> None:
    token = "ghp_" + "Zr8Kq2Lm4Np6Qs8Tu0Vw2Xy4Za6Bc8De0Fg2"
    request = f"GET /v2/stock HTTP/1.1\r\nHost: api.depot.io\r\nAuthorization: Bearer {token}\r\n\r\n"
    http = node("feed", "http-request", outputs={"status_code": 200, "body": "{}"}, process_data={"request": request})
    (finding,) = findings(run_spans([http, llm(prompt=f"Debug info: token {token}")]), "dify_variable_leak")
    assert finding.evidence["source"] == "node 'feed'" and finding.evidence["rule"].endswith("later prompt")
    assert findings(run_spans([http, llm(prompt="Summarize the stock.")]), "dify_variable_leak") == []


def test_values_that_do_not_flow_are_not_leaks() -> None:
    tool = node("vault", "tool", outputs={"text": f"key={OPENAI_KEY}"})
    assert findings(run_spans([tool, llm(prompt="Summarize the weather")]), "dify_variable_leak") == []
    masked = run_spans(
        [node("start", "start")],
        inputs={"card": "4242 4242 4242 4242"},
        outputs={"answer": "card 4242 4242 4242 4242 saved"},
    )
    assert findings(masked, "dify_variable_leak") == []


def _retrieved(document: str, answer: str) -> list[Any]:
    result = [{"content": document, "title": "ops.md", "metadata": {"dataset_id": "d", "dataset_name": "kb"}}]
    return run_spans(
        [node("kr", "knowledge-retrieval", outputs={"result": result}), llm(prompt=f"Context:\n{document}")],
        outputs={"answer": answer},
    )


def test_a_secret_from_a_retrieved_document_reaching_the_output_is_a_leak() -> None:
    key = "AKIAJ3KQ8ZB2MNX4PLR7"
    (finding,) = findings(_retrieved(f"Ops note: credential {key}", f"Use {key} to log in."), "dify_variable_leak")
    assert finding.evidence["source"] == "node 'kr'" and finding.evidence["rule"].endswith("reaches a later output")


def test_a_secret_from_a_retrieved_document_in_the_prompt_only_is_not() -> None:
    assert findings(_retrieved("Ops note: credential AKIAJ3KQ8ZB2MNX4PLR7", "Ask ops."), "dify_variable_leak") == []


def test_a_bank_account_a_retrieved_document_gives_for_payments_is_no_leak() -> None:
    """Session 25: an IBAN a knowledge base's document gives is where to pay, published to be paid into (a poisoned
    document's is rag_poisoning's); a credential beside it reaching the answer still is a leak."""
    iban, key = "DE44 5001 0517 5407 3249 31", "AKIAJ3KQ8ZB2MNX4PLR7"
    assert findings(_retrieved(f"Refunds: transfer to IBAN {iban}", f"Transfer to {iban}."), "dify_variable_leak") == []
    both = _retrieved(f"Refunds: IBAN {iban}. Ops credential {key}", f"Transfer to {iban}; log in with {key}.")
    (finding,) = findings(both, "dify_variable_leak")
    assert finding.evidence["kind"] != "iban"


def test_document_prompts_reports_a_documents_secret_reaching_a_prompt() -> None:
    spans = _retrieved("Stock sync: warehouse key AKIAJ3KQ8ZB2MNX4PLR7 (ops only)", "Ask the warehouse team.")
    (finding,) = findings(spans, "dify_variable_leak", document_prompts=True)
    assert finding.evidence["rule"].endswith("later prompt") and finding.severity == "high"


def test_generic_and_worded_secrets_of_a_document_reaching_the_answer() -> None:
    hex_key = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    for document, answer in [
        (f"staging api_key: {hex_key}", f"The key you need is {hex_key}"),
        (f"The warehouse API key is {hex_key}.", f"Try {hex_key}"),
        ("仓库系统密码：Wh7kq29Lmx", "密码是Wh7kq29Lmx"),  # noqa: RUF001 (a full-width colon, as written)
        ("Lagerzugang: das Passwort lautet Sommer2024!x", "Nutzen Sie Sommer2024!x"),
        (f"supplier account {hex_key}", f"Set api_key={hex_key} in the client"),  # named only in the answer
    ]:
        (finding,) = findings(_retrieved(document, answer), "dify_variable_leak")
        assert finding.evidence["source"] == "node 'kr'", document


def test_a_secret_from_a_tool_result_reaching_the_answer() -> None:
    tool = node("stock", "tool", outputs={"text": '{"sku": "A1", "supplier_auth": "password: Tr0ub4dor&3x"}'})
    (finding,) = findings(run_spans([tool], outputs={"answer": "Log in with Tr0ub4dor&3x."}), "dify_variable_leak")
    assert finding.severity == "critical" and finding.evidence["source"] == "node 'stock'"


def test_the_users_own_key_and_placeholders_are_not_leaks() -> None:
    key = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    own = run_spans(
        [node("start", "start"), llm(prompt=f"Is api_key: {key} valid?")],
        inputs={"sys.query": f"Is my api_key: {key} still valid?"},
        outputs={"answer": f"Your key {key} is valid."},
    )
    assert findings(own, "dify_variable_leak") == []
    for placeholder in ["sk-...xxxx", "api_key: <your-api-key>", "password: ********", "sk-proj-XXXXXXXXXXXXXXXXXXXX"]:
        spans = _retrieved(f"Send {placeholder} in the header.", f"Example: {placeholder}")
        assert findings(spans, "dify_variable_leak") == [], placeholder


def test_a_shared_mailbox_from_the_knowledge_base_is_no_personal_data() -> None:
    page = "Returns desk: returns-team@vela-shop.eu, escalations: customercare@vela-shop.eu."
    for address in ("returns-team@vela-shop.eu", "customercare@vela-shop.eu"):
        assert findings(_retrieved(page, f"Write to {address}."), "dify_variable_leak") == []
    person = "Escalations go to our agent maria.keller@vela-shop.eu."
    (finding,) = findings(_retrieved(person, "Write to maria.keller@vela-shop.eu."), "dify_variable_leak")
    assert finding.evidence["kind"] == "email"


def test_code_binding_a_key_name_to_code_is_no_secret() -> None:
    code = (
        "def client():\n    token = settings.service_token\n    API_KEY = os.getenv('API_KEY')\n"
        "    secret = process.env.SIGNING_SECRET\n"
    )
    spans = run_spans(
        [node("start", "start"), llm(prompt=f"Review this code:\n{code}")],
        inputs={"code": code},
        outputs={"review": f"Looks fine:\n{code}"},
    )
    assert findings(spans, "dify_variable_leak") == []
    real = code.replace("settings.service_token", "'9f8e7d6c5b4a39281706f5e4d3c2b1a0'")
    spans = run_spans([node("start", "start"), llm(prompt=real)], inputs={"code": real}, outputs={"review": real})
    assert findings(spans, "dify_variable_leak") != []


def _leak_processor(**settings: Any) -> Any:
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    only: dict[str, Any] = {key: {"enabled": False} for key in registry() if key != "dify_variable_leak"}
    return DetectionProcessor(Config.model_validate({**only, "dify_variable_leak": settings}))


def test_contact_data_a_lookup_hands_on_in_most_of_its_runs_is_how_the_app_works() -> None:
    # A profile tool answers every run with the member's own address (not among the inputs, a member id is):
    # the first runs are reported, then the node's history says it does so by design. A card number from the
    # same tool stays a leak, and so does an address from a tool that hands one on in one run of ten.
    processor = _leak_processor(tool_prompts=True)

    def run(member: int, extra: str = "", notes: str = "") -> int:
        profile = node("profile", "tool", outputs={"text": f"member {member}: m{member}.lind@posteo.de {extra}"})
        crm = node("crm", "tool", outputs={"text": notes or "no notes"})
        spans = run_spans(
            [node("start", "start"), profile, crm, llm(prompt=f"Profile: m{member}.lind@posteo.de {extra} {notes}")],
            inputs={"member_id": str(member)},
            app_id="gym-desk",
            run_id=f"run-{member}",
        )
        return len(processor.detect(spans))

    assert [run(member) for member in range(1, 6)] == [1, 1, 0, 0, 0]
    assert run(6, extra="card 4539 1488 0343 6467") == 1
    rare = [run(member, notes="call back +49 171 2345678" if member == 15 else "") for member in range(7, 17)]
    assert rare == [0] * 8 + [1, 0]


def test_an_app_handing_the_callers_address_to_its_llm_in_every_run_is_learnt_too() -> None:
    processor = _leak_processor()

    def run(number: int, card: str = "") -> int:
        address = f"client{number}@mailbox.org"
        spans = run_spans(
            [node("start", "start"), llm(prompt=f"Draft a welcome note to {address}. {card}")],
            inputs={"email": address, "card": card},
            app_id="welcome-notes",
            run_id=f"run-{number}",
        )
        return len(processor.detect(spans))

    assert [run(number) for number in range(5)] == [1, 1, 0, 0, 0]
    assert run(5, card="card 4539 1488 0343 6467") == 1


def test_a_luhn_valid_number_of_no_card_network_is_no_card_number() -> None:
    """One number in ten passes Luhn by chance: a library barcode or an IMEI handed to a prompt is no card."""
    from bridge.processors.sensitive import card_network as _card_network

    assert _card_network("4539148803436467") and _card_network("5425233430109903") and _card_network("378282246310005")
    assert not _card_network("29876543210983")  # a 14-digit library barcode, Luhn-valid
    assert not _card_network("490154203237518")  # an IMEI: Visa's 4, but 15 digits
    assert not _card_network("9781861972715")  # 13 digits of a book number (978), Luhn-valid


def test_a_key_an_llm_prompt_template_holds_reaching_the_answer_is_a_leak() -> None:
    """A key written into a system prompt by the app is no node's output, but the answer repeating it gave it away;
    a contact the template names (the shop's hotline) repeated in the answer is how the app works."""
    key = "rsv_live_Q7wPz3KmT9bXv2LsN8dR"
    prompt = f"You are the booking desk. Reservation system key (never share): {key}. Hotline +46 8 555 012 34."
    for answer, kinds in [
        (f"Book online with the key {key}.", ["live_key"]),
        ("Call our hotline +46 8 555 012 34.", []),
        ("Tables for four are free at eight.", []),
    ]:
        spans = run_spans([node("start", "start"), llm(prompt=prompt, answer=answer)], outputs={"answer": answer})
        found = findings(spans, "dify_variable_leak")
        assert [finding.evidence["kind"] for finding in found] == kinds, answer
    (finding,) = findings(
        run_spans([llm(prompt=prompt, answer=f"Key: {key}")], outputs={"answer": f"Key: {key}"}), "dify_variable_leak"
    )
    assert finding.severity == "critical" and finding.evidence["source"] == "node 'llm'"


def test_personal_data_in_a_form_the_user_wrote_is_theirs_a_record_field_is_not() -> None:
    """A national id inside a text the user filled in is theirs to send; the same id as a field of a profile the app
    attached is data it looked up, and reaching a prompt is reported."""
    form = "Annual statement 2025. Gross pay 41,200. Tax withheld 9,870. Citizen number TC 34020645408."
    typed = run_spans([node("start", "start"), llm(prompt=f"Extract the figures: {form}")], inputs={"statement": form})
    assert findings(typed, "dify_variable_leak") == []
    record = {"district": "Izmir", "tckn": "34020645408"}
    inputs = {"profile": record, "question": "When to sow?"}
    attached = run_spans([node("start", "start"), llm(prompt=f"Farmer: {record}")], inputs=inputs)
    (finding,) = findings(attached, "dify_variable_leak")
    assert finding.evidence["kind"] == "id_number" and finding.evidence["rule"].startswith("an id_number")


def test_an_offices_or_repair_desks_published_number_is_no_ones() -> None:
    """Session 23: an organisation's office or repair desk named before a number its documents publish for users
    to call (a sales office, a repairs line) makes it the organisation's, in any language; a person's is still one."""
    for page, answer in [
        ("报修：报修电话400-800-1234，水电急修30分钟内到场。", "请拨打报修电话400-800-1234。"),  # noqa: RUF001
        ("Oficina de ventas: teléfono 963 44 01 99, de 9 a 14 h.", "Llame al 963 44 01 99."),
        ("ტურების ჯავშნა: მარნის ოფისი, ტელეფონი +995 350 27 14 08.", "დარეკეთ +995 350 27 14 08."),
        ("دفتر فروش تعاونی: تلفن +98 41 3555 2040", "تماس بگیرید: +98 41 3555 2040"),
    ]:
        assert findings(_retrieved(page, answer), "dify_variable_leak") == [], page
    found = findings(_retrieved("Owner Anna Berg, mobile +46 70 123 45 67", "Call +46 70 123 45 67."),
                     "dify_variable_leak")  # fmt: skip
    assert found and {finding.evidence["kind"] for finding in found} == {"phone"}


def test_a_national_id_field_of_another_person_from_an_http_node_reaching_the_answer() -> None:
    """Session 23: a record's field named so (`to_national_id`, the label written with an underscore) is a national
    identifier, as `national id: …` is."""
    body = '{"to_name": "PETER KAMAU", "to_national_id": "27651098"}'
    http = node("tx", "http-request", outputs={"status_code": 200, "body": body})
    (finding,) = findings(run_spans([http], outputs={"answer": "His ID is 27651098."}), "dify_variable_leak")
    assert finding.evidence["kind"] == "id_number" and finding.evidence["source"] == "node 'tx'"


def test_national_ids_and_ibans_of_another_person_from_a_lookup_reaching_the_answer() -> None:
    """Identifiers other countries write, recognised by their label or by their check digits."""
    for record, value in [
        ('{"partner": "B. Kaya", "iban": "NL52ABNA0678394926"}', "NL52ABNA0678394926"),
        ('{"holder": "R. Lindqvist", "account": "SE45 5000 0000 0583 9825 7466"}', "SE45 5000 0000 0583 9825 7466"),
        ('{"applicant": "Ayşe Kaya (TC 34020645408)"}', "34020645408"),
        ('{"guardian": "Kim Minji", "rrn": "840614-2875779"}', "840614-2875779"),
        ('{"member": "Li Wei", "身份证号": "11010519491231002X"}', "11010519491231002X"),
        ('{"note": "PESEL 98150180662, owner"}', "98150180662"),
    ]:
        tool = node("registry", "tool", outputs={"text": record})
        (finding,) = findings(run_spans([tool], outputs={"answer": f"See {value}."}), "dify_variable_leak")
        assert finding.evidence["source"] == "node 'registry'", record
    for record, value in [
        ('{"iban": "NL53ABNA0678394926"}', "NL53ABNA0678394926"),  # check digits wrong
        ('{"ref": "840699-2875779"}', "840699-2875779"),  # no 99th month
        ('{"order": "34020645408"}', "34020645408"),  # no label: any order number
        ('{"ref": "19870312-4521"}', "19870312-4521"),  # a personal number's shape, but not its check digit
    ]:
        tool = node("registry", "tool", outputs={"text": record})
        assert findings(run_spans([tool], outputs={"answer": f"See {value}."}), "dify_variable_leak") == [], record


def test_a_session_token_and_a_header_after_an_escaped_line_break_from_an_http_node() -> None:
    session = "eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbi0xMjM0NTY3ODkw"
    request = "GET /v1/records/77 HTTP/1.1\r\nHost: api.registry.example\r\nAuthorization: Bearer Lato!2026zq9X\r\n\r\n"
    http = node(
        "lookup", "http-request", outputs={"status_code": 200, "body": f'{{"session": "{session}"}}'},
        process_data={"request": request},
    )  # fmt: skip
    found = findings(run_spans([http, llm(prompt=f"Record: {session}\n{request}")]), "dify_variable_leak")
    assert sorted(finding.evidence["kind"] for finding in found) == ["credential", "jwt"]


def test_a_phone_number_on_a_line_of_examples_is_no_ones() -> None:
    page = "Fill in the form like this:\nExample: anna.berg@example.com, +46 70 123 45 67, Storgatan 1"
    assert findings(_retrieved(page, "Write it as +46 70 123 45 67."), "dify_variable_leak") == []
    found = findings(_retrieved("Duty officer: +46 70 123 45 67", "Call +46 70 123 45 67."), "dify_variable_leak")
    assert "phone" in [finding.evidence["kind"] for finding in found]


def test_a_card_number_the_user_wrote_is_theirs_to_send_to_an_llm_but_not_to_repeat_in_the_output() -> None:
    """A card number is shown masked at most: a summary repeating the one the customer wrote in their complaint
    is a leak of the output; the same complaint summarised without it is not, and the prompt holding it is not."""
    complaint = "The parcel came broken and you billed my Mastercard 5425 2334 3010 9903 twice, please sort it out."
    summary = "Parcel broken; customer billed twice on card 5425 2334 3010 9903; wants it sorted."
    nodes = [node("start", "start"), llm(prompt=complaint)]
    repeated = run_spans(nodes, inputs={"complaint": complaint}, outputs={"summary": summary})
    (finding,) = findings(repeated, "dify_variable_leak")
    assert finding.span_id is None and finding.evidence["kind"] == "card_number"
    assert "5425 2334 3010 9903" not in str(finding.evidence)
    masked_summary = "Parcel broken; customer billed twice on the card ending 9903."
    masked = run_spans(nodes, inputs={"complaint": complaint}, outputs={"summary": masked_summary})
    assert findings(masked, "dify_variable_leak") == []


def test_a_card_number_in_a_url_an_http_node_requested_is_a_leak_in_its_body_it_is_not() -> None:
    # The user's own card, typed in the question: an LLM may read it, a status API's URL (logged on the way) may not.
    card = "5105 2238 6619 0748"
    digits = card.replace(" ", "")

    def run(request: str) -> list[Any]:
        http = node("refund", "http-request", outputs={"body": "{}"}, process_data={"request": request})
        return run_spans([node("start", "start"), http], inputs={"query": f"Refund my ticket to card {card}"},
                         outputs={"answer": "Your refund is on its way."})  # fmt: skip

    (finding,) = findings(run(f"GET /v1/refunds?ticket=88&card={digits} HTTP/1.1\r\nHost: api.rail.io\r\n\r\n"),
                          "dify_variable_leak")  # fmt: skip
    assert finding.evidence["kind"] == "card_number" and finding.evidence["rule"].endswith("later request")
    assert "URL 'refund' requested" in finding.summary
    body = f'POST /v1/refunds HTTP/1.1\r\nHost: pay.rail.io\r\n\r\n{{"ticket": 88, "card": "{digits}"}}'
    assert findings(run(body), "dify_variable_leak") == []


def test_a_value_of_a_passage_a_document_or_tool_marks_internal_reaching_the_answer_is_a_leak() -> None:
    page = "Depot hours 07:30-19:00, Mon to Sat.\nINTERNAL — alarm panel code 4-1-9-7*, changed monthly."
    (finding,) = findings(_retrieved(page, "The depot's alarm code is 4-1-9-7*."), "dify_variable_leak")
    assert finding.evidence["kind"] == "marked_internal" and finding.evidence["marker"] == "INTERNAL"
    assert finding.evidence["source"] == "node 'kr'" and finding.evidence["source_value"] == "4-1-…(8 chars)"
    # Its times, dates and amounts are anyone's to quote; a label must stand as one ("internal server error").
    assert findings(_retrieved("Internal: late shift 17:00-22:30 from 2026-03-01.", "Open 17:00-22:30."),
                    "dify_variable_leak") == []  # fmt: skip
    assert findings(_retrieved("Error 50331822: internal server error.", "Code 50331822."), "dify_variable_leak") == []
    # A value another source gives unmarked is public; one the user typed is theirs.
    public = node("visitors", "tool", outputs={"text": "Visitors: gate code 4-1-9-7*"})
    spans = run_spans([node("ops", "tool", outputs={"text": page}), public], outputs={"answer": "Gate 4-1-9-7*."})
    assert findings(spans, "dify_variable_leak") == []
    typed = run_spans([node("ops", "tool", outputs={"text": page})], inputs={"query": "is 4-1-9-7* still valid?"},
                      outputs={"answer": "Yes, 4-1-9-7* is valid."})  # fmt: skip
    assert findings(typed, "dify_variable_leak") == []
    # A tool's JSON note saying its line is not for the reader, in another language, its token in the answer.
    note = {"text": '{"sku": "B-220", "note": "Lieferantenportal Zugang vp_8Qz27Lm31 (nicht weitergeben)"}'}
    spans = run_spans([node("erp", "tool", outputs=note)], outputs={"answer": "Log in with vp_8Qz27Lm31."})
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.evidence["marker"] == "nicht weitergeben" and finding.evidence["source"] == "node 'erp'"


def test_a_phone_number_its_label_names_reaching_the_answer_is_a_leak_a_service_line_s_is_not() -> None:
    """Session 21: numbers of a country's own format (no `+`) are read after a label saying phone (`電話`, `SĐT`, a
    record's `"phone"` field); the words near one naming a service line (a hotline, a store's number) make it a
    business's."""
    chart = "カルテ抜粋: 飼い主 田中 美咲 様（電話 090-3817-2264）、猫 4歳。"  # noqa: RUF001
    (finding,) = findings(_retrieved(chart, "田中様（090-3817-2264）にもご相談ください。"), "dify_variable_leak")  # noqa: RUF001
    assert finding.evidence["kind"] == "phone_number" and finding.evidence["source"] == "node 'kr'"
    record = '{"rx": "RX-88", "linked_profile": {"name": "Trần Văn Nam", "phone": "091 238 4417"}}'
    tool = node("rx", "tool", outputs={"text": record})
    (finding,) = findings(run_spans([tool], outputs={"answer": "Hồ sơ: Trần Văn Nam, SĐT 091 238 4417."}),
                          "dify_variable_leak")  # fmt: skip
    assert finding.evidence["kind"] == "phone_number" and finding.evidence["source"] == "node 'rx'"
    # No label: as likely an order number. A service line's number, labelled or a field of a store.
    assert findings(_retrieved("Bestellung 091 238 4417 ist unterwegs.", "Order 091 238 4417."),
                    "dify_variable_leak") == []  # fmt: skip
    assert findings(_retrieved("Hotline, phone 0800 330 1977 (8-20 h).", "Call 0800 330 1977."),
                    "dify_variable_leak") == []  # fmt: skip
    assert findings(_retrieved("Praxis Dr. Lehmann, Tel. 030 4401 9983.", "Rufen Sie 030 4401 9983 an."),
                    "dify_variable_leak") == []  # fmt: skip
    store = node("rx", "tool", outputs={"text": '{"rx": "RX-88", "store_phone": "028 3771 2290"}'})
    assert findings(run_spans([store], outputs={"answer": "Call 028 3771 2290."}), "dify_variable_leak") == []


def test_a_mobile_number_its_label_names_in_another_language_reaching_the_answer_is_a_leak() -> None:
    """Session 27: the labels for a mobile phone of more languages (`mobil`, `sími`, `tlf.`), a short one after no
    letter only: a booking record's `"mobil"` field handed to another customer is a leak; `Automobil` names none."""
    record = '{"siste_booking": {"navn": "Kari Nordmann", "mobil": "94417302", "ref": "FJ-10021"}}'
    tool = node("ferje", "http-request", outputs={"body": record})
    (finding,) = findings(run_spans([tool], outputs={"answer": "Siste booking: Kari Nordmann, mobil 94417302."}),
                          "dify_variable_leak")  # fmt: skip
    assert finding.evidence["kind"] == "phone_number" and finding.evidence["source"] == "node 'ferje'"
    page = "Vörður á vakt: Jón, sími 8662 2290."
    (finding,) = findings(_retrieved(page, "Hringdu í Jón í síma 8662 2290."), "dify_variable_leak")
    assert finding.evidence["kind"] == "phone_number"
    assert findings(_retrieved("Automobil 94417302 Baujahr 2019.", "Modell 94417302."), "dify_variable_leak") == []


def test_a_number_its_label_calls_a_card_is_one_where_shown_not_in_a_prompt() -> None:
    """Session 21: after a card label (`card_on_file`, `卡号`, `kortilta`), a number of a network's shape that fails
    Luhn's check, or one passing it of no network's shape, is a card: a leak in the output, not as a prompt's
    data (a quote's card on file). Without a label neither is one (a barcode, an IMEI)."""
    on_file = '{"vehicle": "Yaris", "card_on_file": "4327657443786463"}'
    tool = node("fleet", "tool", outputs={"text": on_file})
    shown = run_spans([tool, llm(prompt=f"Data: {on_file}")], outputs={"answer": "We charge card 4327657443786463."})
    (finding,) = findings(shown, "dify_variable_leak")
    assert finding.evidence["kind"] == "payment_card" and finding.span_id is None
    masked = run_spans([tool, llm(prompt=f"Data: {on_file}")], outputs={"answer": "We charge card **** 6463."})
    assert findings(masked, "dify_variable_leak") == []
    typed = "黑屏了。我的卡号是 3714625152812645。"
    spans = run_spans([node("start", "start")], inputs={"message": typed}, outputs={"summary": typed})
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.evidence["kind"] == "payment_card"
    unlabelled = run_spans([node("start", "start")], inputs={"message": "IMEI 3714625152812645"},
                           outputs={"summary": "IMEI 3714625152812645"})  # fmt: skip
    assert findings(unlabelled, "dify_variable_leak") == []


def test_a_tax_number_of_another_person_from_a_lookup_reaching_the_answer() -> None:
    """Session 21: a record's `tax_id` is a person's identifier, named in the answer in words the labels lack."""
    record = '{"client": "M-1480", "partner": {"name": "Petra Neumann", "tax_id": "34 198 576 379"}}'
    tool = node("filings", "http-request", outputs={"status_code": 200, "body": record})
    answer = "يُحوَّل الاسترداد إلى حساب Petra Neumann (الرقم 34 198 576 379)."
    (finding,) = findings(run_spans([tool], outputs={"answer": answer}), "dify_variable_leak")
    assert finding.evidence["kind"] == "id_number" and finding.evidence["source"] == "node 'filings'"


def test_a_record_s_line_with_an_address_at_an_example_domain_is_no_line_of_examples() -> None:
    """Session 21: the example domain makes a line of examples only where the line says it shows examples; a
    record's line written with documentation's domain holds a person's number."""
    record = "Chart excerpt: owner R. Holloway (phone +1 503 288 4417, email r.holloway@example.com), cat, 4 years."
    found = findings(_retrieved(record, "Ask R. Holloway (+1 503 288 4417)."), "dify_variable_leak")
    assert "phone" in [finding.evidence["kind"] for finding in found]
    sample = "Sample entry: r.holloway@example.com, +1 503 288 4417"
    assert findings(_retrieved(sample, "Write it as +1 503 288 4417."), "dify_variable_leak") == []


def test_a_lookup_asked_for_a_person_returning_a_namesakes_record_hands_on_another_persons_data() -> None:
    """Session 22: a lookup asked for one person by name (`{"member": "Szabó Lúcia"}`) is read for whose record it
    returned. The contact data of the person asked for are theirs from the first run (no history needed); a
    namesake's record (a name search matching the family name alone) hands on another person's, however usual
    the node's phone field."""
    processor = _leak_processor(tool_prompts=True)

    def run(number: int, asked: str, recorded: str) -> list[Finding]:
        record = {"name": recorded, "phone": f"+36 30 555 {1000 + number}", "valid_until": "2027-03-01"}
        crm = node("crm", "tool", inputs={"member": asked}, outputs={"text": str(record), "json": [record]})
        spans = run_spans(
            [node("start", "start"), crm, llm(prompt=f"Answer from the record: {record}")],
            inputs={"sys.query": f"Hi, this is {asked}."},
            app_id="gym-members",
            run_id=f"run-{number}",
        )
        found: list[Finding] = processor.detect(spans)
        return found

    assert run(1, "Szabó Lúcia", "Szabó Lúcia") == []  # the first run: their own record
    assert run(2, "Anna Nagy", "Nagy Anna") == []  # the name in the other order
    assert [len(run(number, "Kovács Éva", "Kovács Éva")) for number in range(3, 8)] == [0] * 5
    (finding,) = run(8, "Szabó Lúcia", "Szabó János")
    assert finding.evidence["rule"] == "a phone of another person's record reaches a later prompt"
    assert (finding.evidence["asked_for"], finding.evidence["record_of"]) == ("Szabó Lúcia", "Szabó János")
    assert "asked for 'Szabó Lúcia', a record of 'Szabó János'" in finding.summary


def test_only_a_lookup_asked_for_one_person_by_name_that_returned_one_persons_record_is_read_so() -> None:
    """Session 22: asked by an id or a first name alone, answering with a list of matches or with a person sharing no
    name with the one asked for (a member's manager: by design, maybe), a lookup's record says nothing of whose it
    should have been: its data follow the other rules (the first runs are reported)."""
    from detectors.whose_records import _person_name, name_match

    assert _person_name("Nagy Anna") and _person_name("Dr. Anna Nagy-Kovács") and _person_name("张伟")
    assert not _person_name("Anna") and not _person_name("M-1480") and not _person_name("jsmith")
    assert not _person_name("When does my membership end")  # a sentence, not a name
    assert (
        name_match("Nagy Anna", "Anna Nagy")
        == name_match("Nagy Anna", "Nagy Anna Mária")
        == name_match("张伟", "张伟")
        == "same"
    )
    assert name_match("Nagy Anna", "Nagy Péter") == "namesake" and name_match("张伟", "张强") == "other"
    listing = [{"name": "Nagy Anna", "phone": "+36 30 555 1001"}, {"name": "Nagy Péter", "phone": "+36 30 555 1002"}]
    for inputs, outputs in (
        ({"member_id": "M-1480"}, {"json": [{"name": "Nagy Péter", "phone": "+36 30 555 1002"}]}),
        (
            {"employee": "Kovács Éva"},
            {"json": [{"name": "Szabó János", "role": "manager", "phone": "+36 30 555 1002"}]},
        ),
        ({"member": "Anna"}, {"json": [{"name": "Nagy Péter", "phone": "+36 30 555 1002"}]}),
        ({"member": "Nagy Anna"}, {"json": listing}),
    ):
        crm = node("crm", "tool", inputs=inputs, outputs=outputs)
        found = findings(run_spans([crm, llm(prompt=f"Records: {outputs}")]), "dify_variable_leak", tool_prompts=True)
        assert {finding.evidence["rule"] for finding in found} == {"a phone in a source reaches a later prompt"}, inputs


def test_numbers_a_card_label_stands_before_that_are_no_payment_cards_reaching_the_answer() -> None:
    """Session 22, clean hard negatives of the card label: a library card's barcode and a SIM card's ICCID (Luhn-valid,
    of no payment industry's first digit), a transaction's or an order's number after `card`. Still a card: a
    number of a network's shape after `card ending`."""
    for record, answer in (
        ('{"patron": "P-118", "library_card": "29183004719267"}', "Your library card 29183004719267 is renewed."),
        ('{"line": "L-7", "sim_card_iccid": "8944119073264155892"}', "SIM card ICCID 8944119073264155892 is active."),
        ('{"card_transaction_id": "4471229018335507"}', "Card transaction ID: 4471229018335507 was refunded."),
        ('{"card_order": "4471229018335507"}', "Card order #4471229018335507 ships today."),
    ):
        tool = node("lookup", "tool", outputs={"text": record})
        assert findings(run_spans([tool], outputs={"answer": answer}), "dify_variable_leak") == [], answer
    tool = node("lookup", "tool", outputs={"text": '{"card_ending": "4327657443786463"}'})
    (finding,) = findings(run_spans([tool], outputs={"answer": "Charged to card 4327657443786463."}),
                          "dify_variable_leak")  # fmt: skip
    assert finding.evidence["kind"] == "payment_card"


def test_a_persons_data_a_lookup_hands_to_a_prompt_counts_only_with_tool_prompts_on() -> None:
    """A leak is what reaches the answer: a manifest of other passengers passed whole to a model told not to repeat
    it is how many apps work (held-out 11 labels it clean); `tool_prompts` makes the prompt a sink too."""
    record = {"name": "Halima Said", "phone": "+255 747 600 860"}
    tool = node("manifest", "tool", inputs={"route": "DAR-ZNZ"}, outputs={"text": str(record), "json": [record]})

    def run(answer: str) -> list[ReadableSpan]:
        return run_spans(
            [node("start", "start"), tool, llm(prompt=f"Notes: {record}")],
            inputs={"sys.query": "When is the next ferry?"},
            outputs={"answer": answer},
        )

    assert findings(run("The next ferry leaves at 08:00."), "dify_variable_leak") == []
    (finding,) = findings(run("The next ferry leaves at 08:00."), "dify_variable_leak", tool_prompts=True)
    assert finding.evidence["rule"] == "a phone in a source reaches a later prompt"
    told = findings(run("Call Halima on +255 747 600 860."), "dify_variable_leak")
    assert {finding.evidence["rule"] for finding in told} == {"a phone in a source reaches a later output"}


def _desk(note: str, answer: str) -> list[ReadableSpan]:
    """A chat desk whose prompt carries a note the conversation's memory brought, in no node's output."""
    system = "You are the water utility's desk. Emergency line: service desk +972 8 623 4000."
    desk = llm(answer=answer)
    desk["process_data"]["prompts"] = [
        {"role": "system", "text": system},
        {"role": "user", "text": f"Question: my meter?\nNote from the last call: {note}"},
    ]
    return run_spans([node("start", "start"), desk], inputs={"sys.query": "my meter?"}, outputs={"answer": answer})


def test_a_persons_datum_the_conversation_brought_into_a_prompt_reaching_the_answer() -> None:
    note = "T. Ivanova, ivanova.t@mail.ru"
    (finding,) = findings(_desk(note, "By the way, T. Ivanova (ivanova.t@mail.ru) paid."), "dify_variable_leak")
    assert finding.evidence["rule"] == "an email of a prompt's turns, in no node's output, reaches the output"
    assert findings(_desk(note, "Your meter is read monthly."), "dify_variable_leak") == []
    # the system message's service line is the app's own
    assert findings(_desk(note, "Call the desk on +972 8 623 4000."), "dify_variable_leak") == []


def _permit(asked: str, record: dict[str, str], answer: str) -> list[ReadableSpan]:
    """A parking permit desk: a register looked up by the plate the resident gave, its record read into the answer."""
    register = node("register", "http-request", title="Register",
                    outputs={"status_code": 200, "body": json.dumps(record), "files": []})  # fmt: skip
    return run_spans(
        [node("start", "start", inputs={"plate": asked, "question": "Which number do you have for me?"}), register],
        inputs={"plate": asked, "question": "Which number do you have for me?"},
        outputs={"answer": answer},
    )


def test_a_record_holding_the_key_the_run_was_given_is_the_callers_own() -> None:
    """Session 25, the real `parkering_clean_8` and `parkering_other_resident` (faults8): the register's record of
    the plate the resident gave holds her phone, repeated to her on request; a record of another plate is a
    neighbour's. A second phone of her record (an emergency contact's) is another person's."""
    own = {"plate": "ABC123", "name": "Elin Berg", "phone": "+46 70 412 88 31"}
    assert findings(_permit("ABC123", own, "We have +46 70 412 88 31 for you."), "dify_variable_leak") == []
    other = {"plate": "GHJ321", "name": "Johan Lind", "phone": "+46 72 903 66 15"}
    found = findings(_permit("KLM456", other, "The holder is Johan Lind, +46 72 903 66 15."), "dify_variable_leak")
    assert found and all(f.evidence["source"] == "node 'Register'" for f in found)
    both = {**own, "emergency_phone": "+46 73 118 20 47"}
    assert findings(_permit("ABC123", both, "Call +46 73 118 20 47."), "dify_variable_leak")


def test_a_record_holding_the_account_number_the_run_was_given_is_the_callers_own() -> None:
    """Session 25 (r5-flow), the real `tnb_clean_7` (faults9): a record holding the account
    number the run was given (digits only, no amount) is the caller's; a record of another account is another
    holder's."""
    own = {"account": "220031246785", "name": "Lim Wei Jie", "phone": "016-902 7745"}
    assert findings(_permit("220031246785", own, "We have 016-902 7745 for you."), "dify_variable_leak") == []
    other = {**own, "account": "220047781233"}
    assert findings(_permit("220014578901", other, "Lim Wei Jie, 016-902 7745."), "dify_variable_leak")


def test_a_passage_a_document_keeps_for_staff_in_another_language_is_marked_internal() -> None:
    """Session 25, the real held-out 14's `id_pet`: an insurer's document "for staff only" (Indonesian `khusus
    staf`) retrieved for a customer, its claims assessor's mobile in the answer."""
    page = "Dokumen internal khusus staf: penilai klaim Budi Santoso HP 0812-3456-7890."
    (finding,) = findings(_retrieved(page, "Penilai klaim Anda Budi Santoso, HP 0812-3456-7890."), "dify_variable_leak")
    assert finding.evidence["kind"] == "marked_internal" and finding.evidence["marker"] == "khusus staf"


def _customer(asked: str, record: dict[str, str], answer: str, request: bool = True) -> list[ReadableSpan]:
    """A market stall's SMS desk: a customer looked up by the id the run was given (`GET /customers/<id>`, the
    request recorded as in Dify's stream, or not, as in its export), the record's phone in the output."""
    process_data = {"request": f"GET /customers/{asked} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"} if request else None
    lookup = node("customers", "http-request", title="Customer", process_data=process_data,
                  outputs={"status_code": 200, "body": json.dumps(record), "files": []})  # fmt: skip
    inputs = {"customer": asked, "order": "Ankara 3 yards"}
    return run_spans([node("start", "start", inputs=inputs), lookup], inputs=inputs, outputs={"sent": answer},
                     app_id="stall")  # fmt: skip


def test_one_record_with_no_key_a_lookup_returned_for_the_runs_key_is_the_callers_own() -> None:
    """Session 26, the real `oja_clean_1`/`_2` (faults9): the customer API asked for the id the run was given
    (`GET /oja/onibara/OJ-101`) answers a record of name, phone and town, no id: her own, its phone repeated in the
    SMS sent to her, from the app's first run. Dify's export records no HTTP request: there the run's one key."""
    own = {"name": "Adebayo Ogunleye", "phone": "+234 803 555 0142", "town": "Ibadan"}
    answer = "Sent to +234 803 555 0142 (81 letters)"
    assert findings(_customer("OJ-101", own, answer), "dify_variable_leak") == []
    assert findings(_customer("OJ-101", own, answer, request=False), "dify_variable_leak") == []
    # a record naming another id is another customer's
    assert findings(_customer("OJ-101", {**own, "id": "OJ-177"}, answer), "dify_variable_leak")


def test_a_lookup_answering_a_key_with_another_record_than_before_is_a_leak() -> None:
    """Session 26, the real `oja_other_customer` (faults9): `OJ-103` answered Chukwuemeka's record in an earlier run,
    now Kehinde's; her phone reaches the output though the node hands on a phone in every run. Both ways in."""
    from bridge.processors.detectors import Config, DetectionProcessor

    for request in (True, False):
        processor = DetectionProcessor(Config.model_validate({}))

        def leaks(
            asked: str, record: dict[str, str], processor: DetectionProcessor = processor, request: bool = request
        ) -> list[Finding]:
            spans = _customer(asked, record, f"Sent to {record['phone']} (81 letters)", request)
            return [f for f in processor.detect(spans) if f.detector == "dify_variable_leak"]

        first = {"name": "Chukwuemeka Obi", "phone": "+234 809 555 0311"}
        assert leaks("OJ-103", first) == []
        assert leaks("OJ-101", {"name": "Adebayo Ogunleye", "phone": "+234 803 555 0142"}) == []
        assert leaks("OJ-103", first) == []  # the same record again
        found = leaks("OJ-103", {"name": "Kehinde Alabi", "phone": "+234 701 555 0923"})
        assert found and found[0].evidence["key"] == "OJ-103"
        assert found[0].evidence["rule"].endswith("whose record held other contact data before reaches a later output")


def test_a_key_asked_for_in_every_run_may_be_answered_by_anyone() -> None:
    """A branch's code given in every run, its lookup answering whoever is on duty: one key only, never held to its
    earlier record."""
    from bridge.processors.detectors import Config, DetectionProcessor

    processor = DetectionProcessor(Config.model_validate({}))
    for phone in ("+234 809 555 0311", "+234 701 555 0923", "+234 803 555 0142"):
        spans = _customer("BR-01", {"on_duty": "nurse", "phone": phone}, f"Call {phone} now")
        assert not [f for f in processor.detect(spans) if "key" in f.evidence]


def test_a_personal_datum_the_user_wrote_in_hindi_prose_is_theirs_to_send() -> None:
    """Held-out 13's `fasal-hn-…nominee-31`: a farmer's question in Hindi giving their own Aadhaar number reaches the
    extractor's prompt. Devanagari's vowel signs are combining marks, no word characters to `re`: its words were not
    counted as prose, the number read as a record's field."""
    question = "भाई साहब, MP16025705 वाले खाते का क्लेम पास हुआ क्या? मेरा आधार नंबर 5196 3582 2021 है।"
    extract = llm(answer='{"farmer_id": "MP16025705"}')
    extract["process_data"]["prompts"] = [{"role": "user", "text": question}]
    spans = run_spans([node("start", "start", inputs={"sawal": question}), extract], inputs={"sawal": question},
                      outputs={"jawab": "आपका रिकॉर्ड मिल गया।"})  # fmt: skip
    assert findings(spans, "dify_variable_leak") == []
    # the same number as a field the app filled in is a record's
    extract["process_data"]["prompts"] = [{"role": "user", "text": "आधार नंबर 5196 3582 2021"}]
    inputs = {"sawal": "क्लेम?", "aadhaar": "5196 3582 2021"}
    spans = run_spans([node("start", "start", inputs=inputs), extract], inputs=inputs, outputs={"jawab": "ठीक है।"})
    assert findings(spans, "dify_variable_leak")


def _asked_page(prompt: str, document: str, answer: str) -> list[Any]:
    result = [{"content": document, "title": "page.txt", "metadata": {"dataset_id": "d", "dataset_name": "kb"}}]
    nodes = [node("kr", "knowledge-retrieval", outputs={"result": result}), llm(prompt=f"{prompt}\n{document}")]
    return findings(run_spans(nodes, outputs={"answer": answer}), "dify_variable_leak")


def test_a_phone_on_a_page_naming_the_app_s_own_business_is_its_line() -> None:
    """Faults11's pharmacy (session 27, r7-rag): its own page (`Oop tye van Eikestad Apteek: … Telefoon …`) names
    the business its prompt speaks for, in a language whose word for a pharmacy no list holds."""
    page = "Oop tye van Bloemhof Apteek: 08:00 tot 17:00. Telefoon 021 555 0192, Kerkstraat 4."
    assert not _asked_page("Jy is die assistent van Bloemhof Apteek.", page, "Bel ons by 021 555 0192.")
    # Another business's prompt: the page is no page of its own.
    (finding,) = _asked_page("Jy is die assistent van Rivierpark Kliniek.", page, "Bel 021 555 0192.")
    assert finding.evidence["kind"] in ("phone", "phone_number")
    # A line below the business's naming a person: the number is theirs.
    noted = f"{page}\nNote: Pieter Nel, +27 82 555 0193, asked the same."
    assert _asked_page("Jy is die assistent van Bloemhof Apteek.", noted, "Pieter Nel (+27 82 555 0193) asked too.")


@pytest.mark.parametrize(
    ("page", "value"),
    [
        (
            "Personeel alleen, nie vir kliente nie: Mev. R. Smit (ID 8001015009087) haal Vrydag haar voorskrif af.",
            "8001015009087",
        ),
        (
            "BARNE OHARRA - langileentzat soilik: Iker Goikoetxea jaunaren espedientea (NAN 40382716M) ikuskapenean.",
            "40382716M",
        ),
    ],
)
def test_a_staff_only_page_s_identifier_reaching_the_answer_is_a_leak(page: str, value: str) -> None:
    """Faults11's Afrikaans staff page and held-out 17's Basque internal note (session 27, r7-rag): the marking in
    their languages, and an identifier written as one long number (`8001015009087`) is a value of the passage."""
    (finding,) = _asked_page("Help the customer.", page, f"Note: ID {value}.")
    assert finding.evidence["kind"] == "marked_internal" and finding.evidence["source_value"] == value[:4] + "…" + (
        f"({len(value)} chars)"
    )
    assert not _asked_page("Help the customer.", page.split(":", 1)[1], f"Note: ID {value}.")


def test_a_record_whose_field_named_as_the_runs_key_holds_another_value_is_another_customers() -> None:
    """Faults11's `aloqa_leak` (session 27, r7-rag): a cache bug answers the lookup for `901234567` with another
    subscriber's record, its `raqam` field (named as the run's input) another number; the caller's own record holds
    their number with its country code before it."""
    own = {"customer": "+234 803 555 0142", "town": "Ibadan"}
    assert findings(_customer("8035550142", own, "Sent to +234 803 555 0142"), "dify_variable_leak") == []
    other = {"customer": "+234 801 999 7781", "name": "Kehinde Alabi", "town": "Ibadan"}
    found = findings(_customer("8035550142", other, "Sent to +234 801 999 7781"), "dify_variable_leak")
    assert found and {f.evidence["kind"] for f in found} <= {"phone", "us_phone"}


def test_a_keys_prefix_run_into_an_ellipsis_on_a_docs_page_is_no_leak() -> None:
    page = "Send Authorization: Bearer lsk_live_... Create keys under Settings. Test keys start with lsk_test_."
    answer = "Use the header `Authorization: Bearer lsk_live_...` with your own key."
    assert findings(_retrieved(page, answer), "dify_variable_leak") == []
    # A key written out in full on the same page still is one.
    key = "lsk_live_9fK2mQ7xR4tB8wN3"
    (finding,) = findings(_retrieved(f"Ops key: Bearer {key}", f"Use Bearer {key}."), "dify_variable_leak")
    assert finding.severity == "critical"

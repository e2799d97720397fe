"""The second to fifteenth sets of faulty runs recorded from a real Dify 1.14.1 (testdata/dify-1.14.1-faults2/ to
-faults15/, README.md each), each a blind evaluation set when recorded: six or seven apps a set, each
app's runs clean first, then its faulty runs, every run recorded twice, the API client's stream and Dify's own
tracing export. Here only their structure: each run reads through the stream reader and through the otlp receiver's
rebuild into the same run with the nodes the stream shows, and the labels cover every run. No detector runs here: the
sets' figures are measured in tests/detectors/test_real_faults.py."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from bridge.dify.export import recognize
from bridge.dify.model import WorkflowRun
from tests.dify_recordings import recorded_spans
from tests.runs import TESTS, load_run


class RecordedSet(NamedTuple):
    directory: Path
    runs: int
    clean: int
    conversation: tuple[str, ...]  # the turns of one conversation, in order
    another_conversation: str  # a run of the same app in a conversation of its own


SETS = {
    "faults2": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults2", 81, 60,
        ("visa_clean_8", "visa_clean_9", "visa_clean_10"), "visa_clean_7",
    ),
    "faults3": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults3", 75, 52,
        ("clinic_clean_1", "clinic_clean_2", "clinic_clean_3"), "clinic_clean_4",
    ),
    "faults4": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults4", 64, 42,
        ("library_clean_1", "library_clean_2", "library_clean_3"), "library_clean_4",
    ),
    "faults5": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults5", 61, 40,
        ("museum_clean_1", "museum_clean_2", "museum_clean_3"), "museum_clean_4",
    ),
    "faults6": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults6", 64, 41,
        ("estate_clean_1", "estate_clean_2"), "estate_clean_3",
    ),
    "faults7": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults7", 62, 40,
        ("camping_clean_1", "camping_clean_2", "camping_clean_3"), "camping_clean_4",
    ),
    "faults8": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults8", 63, 44,
        ("listahan_clean_1", "listahan_clean_2", "listahan_clean_3"), "listahan_clean_4",
    ),
    "faults9": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults9", 65, 43,
        ("bus_clean_1", "bus_clean_2"), "bus_clean_3",
    ),
    "faults10": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults10", 70, 41,
        ("momo_clean_1", "momo_clean_2"), "momo_clean_3",
    ),
    "faults11": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults11", 76, 40,
        ("mithai_clean_1", "mithai_clean_2"), "mithai_clean_3",
    ),
    "faults12": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults12", 67, 37,
        ("gu_clean_1", "gu_clean_2"), "gu_clean_3",
    ),
    "faults13": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults13", 89, 45,
        ("honyaku_clean_1", "honyaku_hn_turn2", "honyaku_hn_turn3"), "honyaku_clean_2",
    ),
    "faults14": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults14", 100, 63,
        ("zb_clean_1", "zb_clean_4"), "zb_clean_2",
    ),
    "faults15": RecordedSet(
        TESTS / "testdata" / "dify-1.14.1-faults15", 105, 64,
        ("gov_clean_1", "gov_hn_followup"), "gov_clean_2",
    ),
}  # fmt: skip
INDEX = {
    key: [json.loads(line) for line in (recorded.directory / "index.jsonl").read_text().splitlines()]  # in run order
    for key, recorded in SETS.items()
}
RUNS = [(key, run["name"]) for key, index in INDEX.items() for run in index]
# The twelve failure kinds (detector keys), all of which the first set's labels already use.
KINDS = {
    kind
    for label in json.loads((TESTS / "testdata" / "dify-1.14.1-faults" / "labels.json").read_text())["runs"].values()
    for kind in label["faults"]
}


def labels(key: str) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = json.loads((SETS[key].directory / "labels.json").read_text())["runs"]
    return runs


@cache
def streamed(key: str, name: str) -> WorkflowRun:
    return load_run(SETS[key].directory / f"{name}.sse")


@cache
def rebuilt(key: str, name: str) -> WorkflowRun:
    recognized = recognize(recorded_spans(name, (SETS[key].directory,)), "otlp")
    assert recognized is not None, name
    assert recognized.others == [], name  # Dify's root, its workflow span and every node are folded into the run
    return recognized.run


def _nodes(run: WorkflowRun) -> Counter[tuple[str, str]]:
    """The run's node executions as (type, title), counted: the export names nodes by title, not graph id."""
    return Counter((node.node_type, node.title) for node in run.nodes)


@pytest.mark.parametrize("key", SETS)
def test_the_set_is_whole(key: str) -> None:
    names = [run["name"] for run in INDEX[key]]
    assert len(names) == len(set(names)) == SETS[key].runs
    assert set(labels(key)) == set(names)
    for name in names:
        for suffix in (".sse", ".headers", ".otlp.jsonl"):
            assert (SETS[key].directory / f"{name}{suffix}").stat().st_size > 0, name + suffix


@pytest.mark.parametrize("key", SETS)
def test_the_labels_name_known_kinds_and_every_kind_is_there(key: str) -> None:
    assert len(KINDS) == 12
    runs = labels(key)
    assert {kind for label in runs.values() for kind in label["faults"]} == KINDS
    assert all(label["why"] for label in runs.values())
    clean = [name for name, label in runs.items() if not label["faults"]]
    assert len(clean) == SETS[key].clean
    # the names say which runs are clean (faults11 to 13 name their hard negatives `_hn_`, faults14 its faulty runs'
    # clean twins `_twin_`, faults15 the runs before and after an incident `_before_` and `_after_`), and no faulty
    # one hides
    assert all(any(mark in name for mark in ("_clean_", "_hn_", "_twin_", "_before_", "_after_")) for name in clean)


@pytest.mark.parametrize(("key", "name"), RUNS)
def test_the_stream_and_the_export_are_the_same_run(key: str, name: str) -> None:
    (entry,) = [run for run in INDEX[key] if run["name"] == name]
    stream, export = streamed(key, name), rebuilt(key, name)
    assert stream.run_id == export.run_id == entry["ids"]["workflow_run_id"]
    assert stream.status == export.status
    assert stream.nodes, name
    assert _nodes(export) == _nodes(stream)


@pytest.mark.parametrize("key", SETS)
def test_the_conversation_turns_share_one_conversation(key: str) -> None:
    turns = [streamed(key, name).conversation_id for name in SETS[key].conversation]
    assert turns[0] is not None and turns == [turns[0]] * len(turns)
    assert streamed(key, SETS[key].another_conversation).conversation_id not in turns


def test_only_the_renamed_balance_fails() -> None:
    failed = [name for key, name in RUNS if key == "faults2" and streamed(key, name).status == "failed"]
    assert failed == ["leave_balance_renamed"]
    assert "KeyError" in (streamed("faults2", "leave_balance_renamed").error or "")


def test_only_the_top_level_retry_is_partial() -> None:
    """A retried HTTP attempt makes the run partial-succeeded at the top level, not inside an iteration, and the
    iteration's dropped rounds (remove-abnormal-output) leave the run succeeded: no run of the third set fails."""
    statuses = {name: streamed(key, name).status for key, name in RUNS if key == "faults3"}
    assert {name for name, status in statuses.items() if status != "succeeded"} == {"purchase_clean_5"}
    assert statuses["purchase_clean_5"] == "partial-succeeded"
    priced = streamed("faults3", "pricing_price_as_text")
    assert _nodes(priced)[("http-request", "Pricing API")] == 5
    assert [node.status for node in priced.nodes if node.title == "Price rule"].count("failed") == 2


def test_in_the_fourth_set_only_the_top_level_retry_is_partial() -> None:
    """As in the third set: the meter API's retried 503 makes its run partial-succeeded, the telematics API's retried
    503 inside an iteration round leaves its run succeeded with no exception counted."""
    statuses = {name: streamed(key, name).status for key, name in RUNS if key == "faults4"}
    assert {name for name, status in statuses.items() if status != "succeeded"} == {"meter_clean_5"}
    assert streamed("faults4", "meter_clean_5").exceptions_count == 1
    in_round = streamed("faults4", "fleet_clean_5")
    assert in_round.exceptions_count == 0
    assert sum(len(node.retries) for node in in_round.nodes if node.title == "Araç telemetrisi") == 1


def test_in_the_fifth_set_a_failed_round_is_not_an_exception() -> None:
    """The two top-level retried 503s make their runs partial-succeeded; in the ferry desk's iteration
    (continue-on-error) a retried 503 and even a round whose HTTP node failed after its retry leave the run succeeded
    with no exception counted, the failed round's code node never run."""
    statuses = {name: streamed(key, name).status for key, name in RUNS if key == "faults5"}
    assert {name for name, status in statuses.items() if status != "succeeded"} == {"rice_clean_5", "recipe_clean_4"}
    assert all(streamed("faults5", name).exceptions_count == 1 for name in ("rice_clean_5", "recipe_clean_4"))
    lost = streamed("faults5", "ferry_round_lost")
    assert lost.exceptions_count == 0
    assert [node.status for node in lost.nodes if node.title == "Διαθεσιμότητα"].count("failed") == 1
    assert _nodes(lost)[("code", "Θέσεις")] == 3


def test_in_the_sixth_set_a_failed_model_call_in_a_round_is_not_an_exception() -> None:
    """The parcel tracker's retried 503 makes its run partial-succeeded; in the review digest's iteration
    (continue-on-error) a round whose model call failed leaves the run succeeded with no exception counted, its line
    kept as null in the iteration's output."""
    statuses = {name: streamed(key, name).status for key, name in RUNS if key == "faults6"}
    assert {name for name, status in statuses.items() if status != "succeeded"} == {"parcel_clean_4"}
    assert streamed("faults6", "parcel_clean_4").exceptions_count == 1
    lost = streamed("faults6", "reviews_round_lost")
    assert lost.exceptions_count == 0
    assert [node.status for node in lost.nodes if node.title == "یک نظر"].count("failed") == 1


def _unsuccessful(key: str) -> dict[str, tuple[str, int | None]]:
    """The set's runs whose stream does not end succeeded, with their status and exceptions count."""
    runs = {name: streamed(key, name) for key_, name in RUNS if key_ == key}
    return {name: (run.status, run.exceptions_count) for name, run in runs.items() if run.status != "succeeded"}


def test_in_the_eighth_set_a_default_value_is_an_exception_and_a_refused_assignment_fails() -> None:
    """The fee API's retried 503 makes its run partial-succeeded with 1 exception, its two failed attempts replaced by
    the HTTP node's default value with 2; the shopping list's assigner, republished to over-write its array with a
    string, fails its run; the list operator of the renamed timetable lets no train through."""
    assert _unsuccessful("faults8") == {
        "parkering_clean_7": ("partial-succeeded", 1),
        "parkering_fee_default": ("partial-succeeded", 2),
        "listahan_clean_7": ("failed", 1),
    }
    assert "Invalid input value" in (streamed("faults8", "listahan_clean_7").error or "")
    renamed = streamed("faults8", "tren_seats_renamed")
    (filtered,) = [node for node in renamed.nodes if node.node_type == "list-operator"]
    assert filtered.outputs is not None and filtered.outputs["result"] == []


def test_in_the_ninth_set_a_fail_branch_and_a_default_value_are_exceptions_and_values_change_on_the_way() -> None:
    """The forecast API's 503 sends its HTTP node down its fail branch and the road API's two failed attempts give its
    default value, each run partial-succeeded (1 and 2 exceptions); the market stall's template cuts the SMS body it
    builds at 200 characters; the bus chatflow's assigner over-writes the booking's destination with the extractor's
    empty one, which the seats API's request then carries."""
    assert _unsuccessful("faults9") == {
        "tiesaa_clean_6": ("partial-succeeded", 1),
        "tiesaa_clean_7": ("partial-succeeded", 2),
        "tiesaa_invented_weather": ("partial-succeeded", 1),
    }
    assert _nodes(streamed("faults9", "tiesaa_clean_6"))[("template-transform", "Ei ennustetta")] == 1
    (sms,) = [node for node in streamed("faults9", "oja_sms_cut").nodes if node.title == "Fi SMS ranṣẹ"]
    assert sms.outputs is not None and json.loads(sms.outputs["body"])["gigun"] == 200
    (seats,) = [node for node in streamed("faults9", "bus_destination_lost").nodes if node.node_type == "http-request"]
    assert seats.process_data is not None and "?gantabya=&tarikh=2027-03-21 " in seats.process_data["request"]


def test_in_the_tenth_set_a_top_level_retry_is_an_exception_and_values_change_on_the_way() -> None:
    """The sauna price list's retried 503 makes its run partial-succeeded with 1 exception, the tailor's retried 503
    inside a loop round leaves its run succeeded; the cellar's 40 order ids fail the code node that would hand them to
    the iteration (an array output must be under 30 elements); the renamed price reaches the LLM as the code node's
    default 0; the momo chatflow's assigner appends to the order's array and writes the 14 plates its code node added
    up."""
    assert _unsuccessful("faults10") == {
        "saun_clean_6": ("partial-succeeded", 1),
        "celler_clean_flood_refused": ("failed", 1),
    }
    assert "less than 30 elements" in (streamed("faults10", "celler_clean_flood_refused").error or "")
    assert sum(len(node.retries) for node in streamed("faults10", "thaiyal_clean_6").nodes) == 1
    (prices,) = [node for node in streamed("faults10", "saun_price_renamed").nodes if node.title == "Hinnad"]
    assert prices.outputs is not None and "Soome saun: 0 eurot" in prices.outputs["hinnad"]
    wrong = streamed("faults10", "momo_plates_wrong")
    (order,) = [node for node in wrong.nodes if node.node_type == "template-transform"]
    assert order.outputs is not None and order.outputs["output"].endswith(": 14")


def test_in_the_thirteenth_set_defaults_stand_in_for_failed_calls_and_a_failed_round_is_dropped() -> None:
    """The two over-long prompts fail their runs with the provider's 400; a top-level retried 503 makes a run
    partial-succeeded with 1 exception, the claim and policy services' spent retries with their default values with
    2 and 3; a retried 503 inside a loop or an iteration round leaves its run succeeded; the order detail that fails
    its retry loses its round, its row code never run."""
    assert _unsuccessful("faults13") == {
        "report_pos_export": ("failed", 1),
        "honyaku_device_log": ("failed", 1),
        "claim_hn_retry": ("partial-succeeded", 1),
        "seguro_hn_retry": ("partial-succeeded", 1),
        "claim_service_down": ("partial-succeeded", 2),
        "seguro_default_zero": ("partial-succeeded", 3),
    }
    assert "maximum context length is 128000 tokens" in (streamed("faults13", "report_pos_export").error or "")
    lost = _nodes(streamed("faults13", "orders_lost_round"))
    assert (lost[ORDER_DETAIL], lost[("code", "Row")]) == (3, 2)
    (policy,) = [node for node in streamed("faults13", "seguro_default_zero").nodes if node.node_type == "code"]
    assert policy.outputs is not None and policy.outputs["cobertura"] == "0"


def test_in_the_fourteenth_set_defaults_stand_in_for_failed_calls_and_a_failed_round_is_dropped() -> None:
    """The pasted chat export past the model's window fails its run; the account service's spent retry leaves its
    default value (2 exceptions) and its retried 503 leaves 1; the quote whose retry fails loses its round, its row
    code never run; the account API's v2 reaches the LLM as the code node's defaults."""
    assert _unsuccessful("faults14") == {
        "ins_overflow": ("failed", 1),
        "zb_default": ("partial-succeeded", 2),
        "zb_twin_default": ("partial-succeeded", 1),
    }
    assert "maximum context length is 128000 tokens" in (streamed("faults14", "ins_overflow").error or "")
    lost = _nodes(streamed("faults14", "pr_lost"))
    assert (lost[QUOTE], lost[("code", "Quote row")]) == (3, 2)
    for name, plan in (("zb_default", "基础版"), ("zb_v2", "家庭版")):  # the default's plan, the real one (v2)
        (account,) = [node for node in streamed("faults14", name).nodes if node.node_type == "code"]
        assert account.outputs is not None and account.outputs["plan"].startswith(plan)
        assert (account.outputs["price"], account.outputs["next_charge"]) == ("0", "")


def test_in_the_eleventh_set_a_top_level_retry_is_an_exception_and_values_change_on_the_way() -> None:
    """The ferry API's retried 503 makes its run partial-succeeded with 1 exception and no other run fails; the ferry
    API's v2 reaches the LLM as the code node's defaults (0 seats); the timetable code node cut to 8 rows lets only
    three Durres departures through the list operator; the sweet shop's merge code writes the 15 kilos the edited
    extractor read into the order object."""
    assert _unsuccessful("faults11") == {"cies_hn_503_retried": ("partial-succeeded", 1)}
    (summary,) = [node for node in streamed("faults11", "cies_v2_zero").nodes if node.title == "Resumo"]
    assert summary.outputs is not None and summary.outputs["resumo"].startswith("Prazas libres: 0\n")
    cut = streamed("faults11", "furgon_short_durres")
    (filtered,) = [node for node in cut.nodes if node.node_type == "list-operator"]
    assert filtered.outputs is not None
    assert [row[:5] for row in filtered.outputs["result"]] == ["06:30", "08:00", "10:00"]
    (merged,) = [node for node in streamed("faults11", "mithai_kilo_misread").nodes if node.node_type == "code"]
    assert merged.outputs is not None and merged.outputs["order"]["kilo"] == 15


def test_in_the_twelfth_set_an_html_page_and_a_nested_page_reach_the_next_node_as_defaults() -> None:
    """The bakery's retried 503 makes its run partial-succeeded with 1 exception and the provider's context-window
    error fails the tour run; the retried 503 inside the houseboat loop leaves its run succeeded; the price list's
    HTML 502 page (status 200) leaves the code node an empty list, the bookings API's nested page a count of 0 after
    its three rounds; the misread extractor's 700 metres are priced by the code node."""
    assert _unsuccessful("faults12") == {
        "lb_hn_503_retried": ("partial-succeeded", 1),
        "ky_overflow": ("failed", 1),
    }
    assert "maximum context length is 128000 tokens" in (streamed("faults12", "ky_overflow").error or "")
    (listed,) = [node for node in streamed("faults12", "lb_html_200").nodes if node.node_type == "code"]
    assert listed.outputs == {"lescht": ""}
    last_page = [node for node in streamed("faults12", "ml_v2_nested").nodes if node.node_type == "code"][-1]
    assert last_page.outputs is not None and (last_page.outputs["count"], last_page.outputs["done"]) == (0, 1)
    (total,) = [node for node in streamed("faults12", "gu_metre_misread").nodes if node.node_type == "code"]
    assert total.outputs is not None and total.outputs["stock"].endswith("700 metre = Rs 448000")


TRANSLATOR, PRICING = ("llm", "Translator"), ("http-request", "Pricing API")
SUMMARISER, TELEMATICS = ("llm", "सारांशकार"), ("http-request", "Araç telemetrisi")
LISTINGS, SEATS = ("http-request", "Anúncios"), ("http-request", "Διαθεσιμότητα")
VACANCIES, ONE_REVIEW = ("http-request", "Вакансии"), ("llm", "یک نظر")
COURSE_PLAN, LESSON_LINE = ("http-request", "Holdplan"), ("template-transform", "Linje")  # outer and inner iteration
PRICE_LOOKUP = ("http-request", "Ceník")  # over the parameter extractor's items
ORDER_ROW, TAILOR_STATUS = ("http-request", "Comanda"), ("http-request", "ஆர்டர் நிலை")  # a parallel iteration, a loop
ORDER_PAGE, PACKAGE_LINE = ("http-request", "Ibere"), ("code", "Qator")  # a loop following a cursor, an iteration
DEPARTURE, BOOKING_PAGE = ("http-request", "Ferð"), ("http-request", "ബുക്കിംഗ് API")  # an iteration, a cursor loop
ORDER_DETAIL, SALES_PAGE = ("http-request", "Order detail"), ("http-request", "Sales page")  # an iteration, a loop
QUOTE, TRACKING = ("http-request", "Quote"), ("http-request", "追跡API")  # an iteration, a loop


@pytest.mark.parametrize(
    ("key", "name", "node", "rounds"),
    [
        ("faults3", "translate_clean_1", TRANSLATOR, 1),
        ("faults3", "translate_clean_5", TRANSLATOR, 3),
        ("faults3", "translate_stuck", TRANSLATOR, 8),
        ("faults3", "translate_oscillating", TRANSLATOR, 8),
        ("faults3", "pricing_clean_1", PRICING, 5),
        ("faults3", "pricing_clean_7", PRICING, 0),
        ("faults3", "pricing_feed_flood", PRICING, 29),
        ("faults4", "summary_clean_1", SUMMARISER, 1),
        ("faults4", "summary_clean_3", SUMMARISER, 3),
        ("faults4", "summary_stuck", SUMMARISER, 6),
        ("faults4", "summary_oscillating", SUMMARISER, 6),
        ("faults4", "summary_runaway", SUMMARISER, 2),
        ("faults4", "fleet_clean_1", TELEMATICS, 6),
        ("faults4", "fleet_clean_6", TELEMATICS, 0),
        ("faults4", "fleet_flood", TELEMATICS, 28),
        ("faults5", "rental_clean_2", LISTINGS, 1),
        ("faults5", "rental_clean_3", LISTINGS, 3),
        ("faults5", "rental_clean_5", LISTINGS, 2),
        ("faults5", "rental_cursor_stuck", LISTINGS, 6),
        ("faults5", "rental_flip", LISTINGS, 6),
        ("faults5", "ferry_clean_1", SEATS, 4),
        ("faults5", "ferry_clean_5", SEATS, 0),
        ("faults5", "ferry_envelope", SEATS, 0),
        ("faults5", "ferry_flood", SEATS, 29),
        ("faults6", "jobs_clean_1", VACANCIES, 3),
        ("faults6", "jobs_clean_3", VACANCIES, 2),
        ("faults6", "jobs_clean_5", VACANCIES, 2),
        ("faults6", "jobs_cursor_stuck", VACANCIES, 5),
        ("faults6", "jobs_salary_nested", VACANCIES, 3),
        ("faults6", "reviews_clean_1", ONE_REVIEW, 5),
        ("faults6", "reviews_clean_5", ONE_REVIEW, 0),
        ("faults6", "reviews_flood", ONE_REVIEW, 29),
        ("faults6", "reviews_round_lost", ONE_REVIEW, 5),
        ("faults8", "aftenskole_clean_1", COURSE_PLAN, 3),
        ("faults8", "aftenskole_clean_1", LESSON_LINE, 5),
        ("faults8", "aftenskole_clean_2", LESSON_LINE, 2),
        ("faults8", "aftenskole_clean_4", COURSE_PLAN, 0),
        ("faults8", "aftenskole_flood", LESSON_LINE, 29),
        ("faults8", "aftenskole_repeat", COURSE_PLAN, 6),
        ("faults8", "aftenskole_repeat", LESSON_LINE, 12),
        ("faults9", "stav_clean_1", PRICE_LOOKUP, 2),
        ("faults9", "stav_clean_6", PRICE_LOOKUP, 1),
        ("faults9", "stav_clean_7", PRICE_LOOKUP, 5),
        ("faults9", "stav_flyer_flood", PRICE_LOOKUP, 28),
        ("faults9", "stav_repeat", PRICE_LOOKUP, 7),
        ("faults10", "celler_clean_1", ORDER_ROW, 3),
        ("faults10", "celler_clean_2", ORDER_ROW, 5),
        ("faults10", "celler_clean_4", ORDER_ROW, 0),
        ("faults10", "celler_flood", ORDER_ROW, 28),
        ("faults10", "celler_clean_flood_refused", ORDER_ROW, 0),
        ("faults10", "celler_tripled", ORDER_ROW, 6),
        ("faults10", "thaiyal_clean_1", TAILOR_STATUS, 3),
        ("faults10", "thaiyal_clean_2", TAILOR_STATUS, 2),
        ("faults10", "thaiyal_clean_4", TAILOR_STATUS, 1),
        ("faults10", "thaiyal_stuck", TAILOR_STATUS, 8),
        ("faults10", "thaiyal_flipping", TAILOR_STATUS, 8),
        ("faults11", "aso_clean_1", ORDER_PAGE, 2),
        ("faults11", "aso_clean_2", ORDER_PAGE, 1),
        ("faults11", "aso_clean_3", ORDER_PAGE, 3),
        ("faults11", "aso_stuck_cursor", ORDER_PAGE, 10),
        ("faults11", "aso_cycle", ORDER_PAGE, 10),
        ("faults11", "aloqa_clean_1", PACKAGE_LINE, 0),
        ("faults11", "aloqa_clean_2", PACKAGE_LINE, 3),
        ("faults11", "aloqa_flood", PACKAGE_LINE, 24),
        ("faults12", "fo_clean_1", DEPARTURE, 4),
        ("faults12", "fo_hn_no_departures", DEPARTURE, 0),
        ("faults12", "fo_limit_ignored", DEPARTURE, 24),
        ("faults12", "fo_dup_reindex", DEPARTURE, 6),
        ("faults12", "fo_page_cut", DEPARTURE, 2),
        ("faults12", "ml_clean_1", BOOKING_PAGE, 1),
        ("faults12", "ml_clean_3", BOOKING_PAGE, 3),
        ("faults12", "ml_cursor_stuck", BOOKING_PAGE, 10),
        ("faults12", "ml_cursor_cycle", BOOKING_PAGE, 10),
        ("faults12", "ml_v2_nested", BOOKING_PAGE, 3),
        ("faults13", "orders_clean_1", ORDER_DETAIL, 3),
        ("faults13", "orders_clean_4", ORDER_DETAIL, 5),
        ("faults13", "orders_flood", ORDER_DETAIL, 24),
        ("faults13", "orders_tripled", ORDER_DETAIL, 6),
        ("faults13", "report_clean_1", SALES_PAGE, 3),
        ("faults13", "report_stuck", SALES_PAGE, 10),
        ("faults13", "report_cycle", SALES_PAGE, 10),
        ("faults14", "pr_clean_1", QUOTE, 3),
        ("faults14", "pr_flood", QUOTE, 30),
        ("faults14", "pr_dup", QUOTE, 15),
        ("faults14", "pr_lost", QUOTE, 3),
        ("faults14", "js_clean_3", TRACKING, 3),
        ("faults14", "js_stuck_1", TRACKING, 10),
        ("faults14", "js_cycle", TRACKING, 10),
        ("faults14", "js_twin_stuck_1", TRACKING, 10),
        ("faults14", "js_twin_cycle", TRACKING, 8),
        ("faults14", "js_v2", TRACKING, 1),
    ],
)
def test_the_loop_and_iteration_rounds(key: str, name: str, node: tuple[str, str], rounds: int) -> None:
    """A loop's or an iteration's rounds, counted as its inner node's executions in the export."""
    assert _nodes(rebuilt(key, name))[node] == rounds


def test_a_nested_iterations_outer_one_keeps_its_rounds_in_the_export() -> None:
    """The inner iteration's first run starts within the second of slack Dify's stored times need after the outer
    one's first child: it is no parent of it (it is a child of that graph id itself), so the outer iteration keeps
    its graph id and its three rounds, as in the stream."""
    for name in ("aftenskole_clean_1", "aftenskole_repeat"):
        (exported,) = (c.rounds for c in rebuilt("faults8", name).containers if c.title == "Hold")
        assert exported == next(c.rounds for c in streamed("faults8", name).containers if c.title == "Hold")

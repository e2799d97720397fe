"""Faults recorded from a real Dify 1.14.1 (testdata/dify-1.14.1-faults/README.md: eight apps; and a second set,
testdata/dify-1.14.1-faults2/README.md: seven other apps, scored blind once in session 19; a third,
testdata/dify-1.14.1-faults3/README.md: seven more, scored blind once in session 20; a fourth, six more, scored
blind once in session 21; a fifth, six more, scored blind once in session 22; a sixth, six more, scored blind once
in session 23; a seventh, six more, scored blind once in session 24; the eighth to the tenth, scored blind in sessions
25 and 26; the eleventh and twelfth, scored blind in session 27), each app's runs
clean first (its history), then the faulty runs, every run recorded twice: the API client's stream and Dify's own
tracing export. Labels (`labels.json`) were written before any detector ran on them. Each recording is read the ways
the bridge reads it, the stream reader's and the `otlp` receiver's rebuild of the run, through the default detectors
and through them with every switch on; the runs go through in the order Dify ran them, so the detectors' baselines
(model history, prices, classifier picks) come from the recorded clean runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from bridge.config.loader import parse_config
from bridge.processors.detectors import Config, DetectionProcessor
from bridge.trace.spans import build_spans, trace_id_for
from detectors import Finding
from tests.bridge_server import API_KEY, BridgeServer, bridge_config_text
from tests.dify_recordings import rebuilt_spans, send_recorded
from tests.otlp_sink import OtlpSink
from tests.runs import TESTS, load_run

FAULTS = TESTS / "testdata" / "dify-1.14.1-faults"
SETS = {
    "faults": FAULTS,
    "faults2": TESTS / "testdata" / "dify-1.14.1-faults2",
    "faults3": TESTS / "testdata" / "dify-1.14.1-faults3",
    "faults4": TESTS / "testdata" / "dify-1.14.1-faults4",
    "faults5": TESTS / "testdata" / "dify-1.14.1-faults5",
    "faults6": TESTS / "testdata" / "dify-1.14.1-faults6",
    "faults7": TESTS / "testdata" / "dify-1.14.1-faults7",
    "faults8": TESTS / "testdata" / "dify-1.14.1-faults8",
    "faults9": TESTS / "testdata" / "dify-1.14.1-faults9",
    "faults10": TESTS / "testdata" / "dify-1.14.1-faults10",
    "faults11": TESTS / "testdata" / "dify-1.14.1-faults11",
    "faults12": TESTS / "testdata" / "dify-1.14.1-faults12",
    "faults13": TESTS / "testdata" / "dify-1.14.1-faults13",
    "faults14": TESTS / "testdata" / "dify-1.14.1-faults14",
    "faults15": TESTS / "testdata" / "dify-1.14.1-faults15",
}
LABELS: dict[str, list[str]] = {
    name: label["faults"]
    for directory in SETS.values()
    for name, label in json.loads((directory / "labels.json").read_text())["runs"].items()
}
INDEX = {
    key: [json.loads(line) for line in (directory / "index.jsonl").read_text().splitlines()]  # in run order
    for key, directory in SETS.items()
}
RUNS = {key: [run["name"] for run in index] for key, index in INDEX.items()}
EVERY_SWITCH = {
    "hallucination": {"enabled": True, "data_fed": True},
    "state_corruption": {"type_changes": True, "emptied_prompts": True},
}
WAYS_IN: dict[str, Callable[[Path, str], list[ReadableSpan]]] = {
    "stream": lambda directory, name: build_spans(load_run(directory / f"{name}.sse")),
    "otlp": lambda directory, name: rebuilt_spans(name, (directory,)),
}
# `cost` judges a run against its app's median once `min_history` (10) runs are known, and before that, from 5 runs,
# against `early_factor` times their median (session 22; the dearest of them before); these apps had 5 to 9 runs
# before their cost faults, so they are also measured with the median taken from 5 runs.
SETTINGS: dict[str, dict[str, Any]] = {
    "default": {},
    "every switch": EVERY_SWITCH,
    "cost from 5 runs": {"cost": {"min_history": 5}},
}

# What the detectors found when these recordings were first measured (docs/detectors.md, "Real faults recorded
# from Dify 1.14.1"), the same by both ways in: a detector that stops finding one of these fails the test.
_DEFAULT = {
    ("orders_renamed_price", "dify_tool_schema_mismatch"),
    ("history_empty_list", "dify_tool_schema_mismatch"),  # session 18: the renamed key against the API's history
    ("history_empty_list", "state_corruption"),  # session 19: `orders` emptied, every earlier run filled it
    ("profile_token_in_answer", "dify_variable_leak"),
    ("feedback_card_to_crm", "dify_variable_leak"),  # session 19: a full card number in the run's output
    ("review_stuck", "loop"),
    ("review_stuck", "dify_iteration_escape"),
    ("digest_text_topics", "dify_iteration_escape"),
    ("triage_wrong_pick", "dify_classifier_drift"),
    ("kb_poisoned_doc", "dify_rag_poisoning"),
    ("kb_ignores_question", "task_derailment"),
    ("kb_huge_prompt", "context_overflow"),
    ("kb_runaway_answer", "cost"),
    # session 19: a run over 8x the dearest of the app's first 5-9 runs (cost's `early_factor`)
    ("orders_other_model", "cost"),
    ("digest_text_topics", "cost"),
    ("kb_huge_prompt", "cost"),
    # session 22: the node republished on gpt-4o, 16.7x gpt-4o-mini's price per token (`dearer_factor`)
    ("orders_other_model", "dify_model_fallback"),
}
_COST_FROM_5 = {("orders_other_model", "cost"), ("digest_text_topics", "cost"), ("kb_huge_prompt", "cost")}
# The second set, scored blind once at the end of session 19's detector changes (its clean runs' one finding
# after task_derailment's routed replies were switched off by that scoring's rule counts): 11 of 29 faults; more since
# session 20's changes (each marked).
_DEFAULT2 = {
    ("invoice_rate_renamed", "dify_tool_schema_mismatch"),
    ("invoice_rate_renamed", "state_corruption"),  # session 20: the code node's default value hid its KeyError
    ("research_text_renamed", "dify_tool_schema_mismatch"),  # session 20: `text` → `content {body}` (nested)
    # session 23: "two weeks" extracted as `days` = 2 (the count of another time unit than the parameter's)
    ("leave_wrong_days", "state_corruption"),
    ("trip_fahrenheit", "dify_tool_schema_mismatch"),  # session 20: `temp_c` → `temperature {value, unit}`, LLM read
    ("leave_balance_renamed", "dify_tool_schema_mismatch"),
    ("leave_token_in_reply", "dify_variable_leak"),
    ("research_token_in_summary", "dify_variable_leak"),  # session 20: a token of an article's `[internal: …]` note
    ("refine_stuck", "dify_iteration_escape"),
    ("refine_stuck", "loop"),
    # session 20: 24 rounds where the search was asked for 3 (limit=3 in its request; by both ways in: 8 times the
    # app's most rounds, its results only 3 distinct)
    ("research_limit_ignored", "dify_iteration_escape"),
    ("support_other_model", "cost"),
    ("trip_runaway_answer", "cost"),
    ("visa_huge_prompt", "context_overflow"),
    ("visa_huge_prompt", "cost"),
    ("visa_other_model", "cost"),
    ("visa_poisoned_doc", "dify_rag_poisoning"),
    # session 20: "Sonstiges" read as the catch-all, "zurückgeben" naming "Rückgabe"; "Rechnung" named whole and
    # "Rabatt" only ever filed under it (Dify's export: the class names the node picked before)
    ("support_return_as_other", "dify_classifier_drift"),
    ("support_invoice_as_tech", "dify_classifier_drift"),
    # session 20: answers off their query by the app's habit (its answers share a term with their query: the visa
    # advert, the headline become a prize advert) or naming the query's subject and nothing the run fetched (tapas
    # bars for a jacket question, from a forecast)
    ("visa_off_topic", "task_derailment"),
    ("refine_off_topic", "task_derailment"),
    ("trip_off_topic", "task_derailment"),
    # session 22: nodes republished on gpt-4o (`dify_model_fallback`'s `dearer_factor`); 9.4x the median of the
    # app's 6 runs before (`cost`'s `early_factor` against their median)
    ("visa_other_model", "dify_model_fallback"),
    ("support_other_model", "dify_model_fallback"),
    ("research_limit_ignored", "cost"),
    # session 23: a sum of money in an answer fed only data, where a figure of that data of its size goes unsaid
    ("invoice_wrong_total", "hallucination"),  # 2526.00 EUR for the code's 3562.95
    # session 23: the weather API's `{value: 81, unit: F}` restated as `81 C` (a temperature kept, its scale changed)
    ("trip_fahrenheit", "hallucination"),
}
# The third set, recorded in session 20 by a helper that did not read the detectors and scored blind once at the end of
# that session's detector changes, both ways in: 12 of 29 faults found (Dify's export: 11, below), 4 of 52 clean runs
# flagged, all `dify_rag_poisoning`: two retrieved the poisoned invoice notice (FALSE_ALARMS until session 23), two a
# booking guide whose "the assistant ignores that message" was read with its "system prompt" more than 60 characters
# before (a clause read back to the text's start; fixed after that scoring, test_rag_poisoning).
_DEFAULT3 = {
    ("clinic_other_patient", "dify_variable_leak"),
    ("faq_huge_prompt", "cost"),
    ("faq_poisoned_doc", "dify_rag_poisoning"),
    ("planner_token_leak", "dify_variable_leak"),
    ("pricing_price_as_text", "dify_tool_schema_mismatch"),
    ("purchase_supplier_password", "dify_variable_leak"),
    ("translate_oscillating", "loop"),
    ("translate_runaway", "cost"),
    ("translate_stuck", "dify_iteration_escape"),
    ("translate_stuck", "loop"),
    ("triage_other_model", "cost"),
    # session 21: `slots` renamed, the code's count of them 0 where every earlier run counted them (`available_slots`
    # holding 3); two rounds failing on a price sent as text, their items dropped; 25 chairs extracted as 1
    ("clinic_slots_renamed", "state_corruption"),
    ("pricing_price_as_text", "state_corruption"),
    ("purchase_qty_lost", "state_corruption"),
    # session 21: the LLM republished on gpt-4.1-nano, 2/3 of gpt-4o-mini's price per token, against its 8 runs
    ("clinic_cheaper_model", "dify_model_fallback"),
    # session 21: 112,052 prompt tokens leave gpt-4o-mini less room than its 16,384-token answers
    ("faq_huge_prompt", "context_overflow"),
    # session 21: the slot list renamed with its records' fields (one rename), the next node coming out empty; the
    # catalog's price in cents (100 times every earlier price, passed on by the code node); the feed's 29 products
    # iterated where the app runs 5, over the list the feed answered (both ways in: the export has the answer)
    ("clinic_slots_renamed", "dify_tool_schema_mismatch"),
    ("purchase_price_in_cents", "dify_tool_schema_mismatch"),
    ("pricing_feed_flood", "dify_iteration_escape"),
    # session 21: adverts instead of the task (a vitamin-gummies discount for a slot question, a discount advert for a
    # translation), speaking an offer nothing the run was given speaks, in apps whose answers never did
    ("clinic_off_topic", "task_derailment"),
    ("translate_off_task", "task_derailment"),
    # session 22: classifier and LLM republished on gpt-4o (`dearer_factor`)
    ("triage_other_model", "dify_model_fallback"),
    # session 23: a resident-tax slip filed under ごみ・リサイクル, its branch answering about garbage in none of the
    # question's words where it answered its two past questions in theirs, "納付" filed under 税金 alone before; the
    # feed's 29 products, 7.2x the median of the app's 9 runs, 5.3x the dearest of them (both ways in)
    ("triage_tax_as_waste", "dify_classifier_drift"),
    ("pricing_feed_flood", "cost"),
    # session 23: a sum of money in an answer fed only data, where a figure of that data of its size goes unsaid
    ("planner_invented_price", "hallucination"),  # 90.00 EUR for the API's 120.00
    ("pricing_invented", "hallucination"),  # prices for the iteration's own
    ("purchase_wrong_total", "hallucination"),  # 1145.00 EUR for the code's 1245.00
}
_HALLUCINATIONS3 = {
    (name, "hallucination")
    for name in ("faq_invented_price", "planner_invented_price", "pricing_invented", "purchase_wrong_total")
}
# The fourth set, recorded in session 21 by a helper that did not read the detectors, scored blind once at the end of
# that session's detector changes, both ways in: 15 of 28 found (with `hallucination` on then; 14 as shipped), 1 of
# 42 clean runs flagged (the poisoned notice retrieved and not obeyed, as visa_clean_5). After that scoring only
# `dify_tool_schema_mismatch`'s renamed-field rule changed (held-out 10's patched readers): the same finds.
_DEFAULT4 = {
    ("fleet_flood", "dify_iteration_escape"),
    ("library_cheaper_model", "dify_model_fallback"),
    ("library_off_topic", "task_derailment"),
    ("library_poisoned_doc", "dify_rag_poisoning"),
    ("meter_previous_tenant", "dify_variable_leak"),
    ("meter_unit_changed", "dify_tool_schema_mismatch"),
    ("post_other_model", "cost"),
    ("post_tracking_as_money", "dify_classifier_drift"),
    # session 22: a catch-all pick of a question naming one subject ("bồi thường") of a class name joining two
    ("post_lost_letter_as_other", "dify_classifier_drift"),
    ("summary_huge_article", "context_overflow"),
    ("summary_huge_article", "cost"),
    # session 22: the Hindi app-download advert's "50 प्रतिशत छूट" (per cent written out), both ways in
    ("summary_off_task", "task_derailment"),
    ("summary_oscillating", "loop"),
    ("summary_stuck", "dify_iteration_escape"),
    ("summary_stuck", "loop"),
    ("tickets_card_leak", "dify_variable_leak"),
    # session 22: classifier and LLM republished on gpt-4o (`dearer_factor`); 10.2x and 14.9x the median of the
    # app's 7 and 9 runs before (`cost`'s `early_factor` against their median)
    ("post_other_model", "dify_model_fallback"),
    ("fleet_flood", "cost"),
    ("summary_runaway", "cost"),
    # session 22: "Six balcony seats" extracted as 1 seat (the number word right before the parameter's name)
    ("tickets_seats_lost", "state_corruption"),
    # session 22: `kwh` 0 from the code's default, the readings' `kwh` renamed `value_wh` (every earlier run's input
    # held a `kwh`; the vacant flat's own 0 kWh came under that name)
    ("meter_unit_changed", "state_corruption"),
    # session 22: the odometer and service mark renamed to miles, the plate kept (two of three fields), the code's line
    # showing `0 km`, a zero no field of the answer holds
    ("fleet_miles", "dify_tool_schema_mismatch"),
    # session 23: the code node ran without `odometer_km` and `next_service_km` (every earlier run's input held them),
    # `odometer_mi` and `next_service_mi` beside the plate: its line made from the code's defaults
    ("fleet_miles", "state_corruption"),
    # session 23: a sum of money in an answer fed only data, where a figure of that data of its size goes unsaid
    ("meter_wrong_bill", "hallucination"),  # 254,10 PLN for the code's 304.92
    ("tickets_wrong_total", "hallucination"),  # 300.00 PLN for the code's 330.00
    # session 23: a length in an answer fed only data, where a figure of that data with its unit goes unsaid
    ("fleet_invented", "hallucination"),  # `kalan 800 km` and `1.250 km` where the code's lines give 779 km, 53 km
}
_HALLUCINATIONS4 = {
    (name, "hallucination")
    for name in (
        "fleet_invented",
        "library_invented_fine",
        "meter_wrong_bill",
        "summary_invented",
        "tickets_wrong_total",
    )
}
# The fifth set, recorded in session 21 by a helper that did not read the detectors, scored blind once at the end of
# session 22's detector changes, both ways in: 12 of 28 found on the stream, 11 by the export (the session's start:
# 10 and 9), 1 of 40 clean runs flagged (the poisoned museum notice retrieved and not obeyed). After that scoring
# `dify_variable_leak`'s `tool_prompts` went off (no finding of this set changed) and `hallucination` on (as scored).
_DEFAULT5 = {
    ("ferry_envelope", "state_corruption"),
    # session 23: the sailings answer wrapped in `{data: {sailings, note}, paging, api_version}`, its code reader's
    # list empty (the usual top-level fields one level down in a new field)
    ("ferry_envelope", "dify_tool_schema_mismatch"),
    # session 23: `"servings": 4` become `"yield": "4인분"`, a number field renamed into words, the code reader's
    # default taken (factor 4 where 1 was right)
    ("recipe_yield_renamed", "dify_tool_schema_mismatch"),
    # session 23: a round failed (503, retries spent), the answer telling its 3 sailings as all there are of 4 rounds
    ("ferry_round_lost", "state_corruption"),
    # session 23: "3 Februari 2027" extracted as 2027-03-02 (day and month swapped)
    ("gym_date_swapped", "state_corruption"),
    # session 23: the recipe's `servings` gone and `yield` beside its dish and ingredients: the code's default base
    ("recipe_yield_renamed", "state_corruption"),
    # session 23: each grade's price nested as `{quote: {value, unit}}`, the code's line 0 baht a ton for every grade
    # (seen in one run: the price node had run 4 times, under `min_history`)
    ("rice_quote_nested", "dify_tool_schema_mismatch"),
    ("rice_quote_nested", "state_corruption"),
    ("ferry_flood", "cost"),
    ("ferry_flood", "dify_iteration_escape"),
    ("gym_nano_extractor", "dify_model_fallback"),
    ("museum_invented_tour", "hallucination"),
    ("museum_night_guard", "dify_variable_leak"),
    ("museum_pasted_catalogue", "context_overflow"),
    ("museum_pasted_catalogue", "cost"),
    ("recipe_off_task", "task_derailment"),
    ("recipe_runaway", "cost"),
    ("rental_other_model", "cost"),
    ("rental_other_model", "dify_model_fallback"),
    # session 23: the shop notice's "to the AI guide assistant" (`致AI导览助手`) read as a model called on
    ("museum_poisoned_doc", "dify_rag_poisoning"),
    # session 23: a tractor-loan advert (`ดาวน์ 0%`, no down payment) for an irrigation question, judged once Thai
    # answers are counted in words (the app's earlier answers kept, none an advert)
    ("rice_off_topic", "task_derailment"),
    # session 23: a planthopper outbreak filed under ราคาข้าว, its branch answering the day's prices in "ราคา" (price),
    # which each of the class's Thai past questions said and the question never does, and none of its words
    ("rice_pest_as_price", "dify_classifier_drift"),
    # session 23: the listing answering page 1 whatever page was asked, six rounds alike once an HTTP response's
    # headers (its `date`) are no state; the cursor sent back from page 2 to page 1, rounds 1-5 going round two
    # states until the cap (both ways in: the export's limit is the loop's `loop_count` input)
    ("rental_cursor_stuck", "loop"),
    ("rental_cursor_stuck", "dify_iteration_escape"),
    ("rental_flip", "loop"),
    # session 23: a sum of money in an answer fed only data, where a figure of that data of its size goes unsaid
    ("rental_invented", "hallucination"),
}

# The sixth set, recorded in session 22 by a helper that did not read the detectors, scored blind once at the end of
# session 23's detector changes, both ways in: 19 of 29 found by either way in (the session's start: 14 on the stream,
# 13 by the export), 2 of 41 clean runs flagged on the stream, 1 by the export (as at the start). Then one rule more,
# after that scoring: "AI" written against Chinese characters (`致AI客服`) read as the model called on.
_DEFAULT6 = {
    # session 23: the loan branch answered in its own class's name to a question saying "card" and two words only
    # card-blocking questions held, the branch's one past answer in its question's words
    ("bank_misfiled", "dify_classifier_drift"),
    ("bank_derailed", "task_derailment"),  # session 23: an investment pitch's per-cent return (r3-derail)
    ("bank_other_customer", "dify_variable_leak"),
    ("estate_invented_fee", "hallucination"),
    ("estate_nano", "dify_model_fallback"),
    ("estate_neighbour_phone", "dify_variable_leak"),
    ("estate_pasted_contract", "context_overflow"),
    ("estate_pasted_contract", "cost"),
    ("estate_poisoned_doc", "dify_rag_poisoning"),  # session 23, after the scoring (above)
    ("jobs_cheaper_model", "dify_model_fallback"),
    ("jobs_cursor_stuck", "dify_iteration_escape"),
    ("jobs_cursor_stuck", "loop"),
    ("jobs_invented", "hallucination"),
    ("jobs_salary_nested", "dify_tool_schema_mismatch"),
    ("jobs_salary_nested", "state_corruption"),
    ("parcel_invented_date", "hallucination"),  # session 23: `data_times`, a time to the minute no source gives
    ("parcel_nano", "dify_model_fallback"),
    ("parcel_nested", "dify_tool_schema_mismatch"),
    ("parcel_nested", "state_corruption"),
    ("pesa_amount_nested", "dify_tool_schema_mismatch"),
    ("pesa_full_record", "dify_variable_leak"),  # session 23: a `national_id` field is a national id (r3-leak)
    ("pesa_off_task", "task_derailment"),  # session 23: a bookmaker's call to bet (r3-derail)
    ("pesa_amount_nested", "state_corruption"),  # session 23: a field nested under a part of its old name
    ("pesa_runaway", "cost"),
    ("reviews_flood", "dify_iteration_escape"),
    ("reviews_round_lost", "state_corruption"),
}
# The seventh set, recorded in session 23 by a helper that did not read the detectors (faults5's six graph shapes,
# new domains and languages), scored blind once at the end of session 24's first detector changes, both ways in:
# 20 of 29 found (the session's start: 19), 1 of 40 clean runs flagged (as at the start).
_DEFAULT7 = {
    ("camping_invented_bikes", "hallucination"),
    ("camping_night_code", "dify_variable_leak"),
    ("camping_pasted_guestbook", "context_overflow"),
    ("camping_pasted_guestbook", "cost"),
    # session 24: the reservations page's bracketed Dutch label to the model (`[Aan de AI-assistent]`), obeyed
    ("camping_poisoned_doc", "dify_rag_poisoning"),
    ("paint_coverage_renamed", "state_corruption"),
    # session 24: the code reader computed litres from the coverage in earlier runs, nothing from `spread_rate` now
    ("paint_coverage_renamed", "dify_tool_schema_mismatch"),
    ("paint_off_task", "task_derailment"),
    ("paint_runaway", "cost"),
    ("pharmacy_envelope", "dify_tool_schema_mismatch"),
    ("pharmacy_envelope", "state_corruption"),
    ("pharmacy_flood", "cost"),
    ("pharmacy_flood", "dify_iteration_escape"),
    ("pharmacy_round_lost", "state_corruption"),
    ("shelter_cursor_stuck", "dify_iteration_escape"),
    ("shelter_cursor_stuck", "loop"),
    ("shelter_flip", "loop"),
    ("shelter_other_model", "cost"),
    ("shelter_other_model", "dify_model_fallback"),
    ("talyer_date_swapped", "state_corruption"),  # session 24: Tagalog's "ika-4 ng Marso" read as a date
    ("talyer_nano_extractor", "dify_model_fallback"),
    ("uni_fee_nested", "dify_tool_schema_mismatch"),
    ("uni_fee_nested", "state_corruption"),
    # session 24: Ethiopic class names read by their three-syllable words, found inside a word ("በመኖሪያ")
    ("uni_dorm_as_fees", "dify_classifier_drift"),
    ("uni_off_topic", "task_derailment"),  # session 24: Amharic offers ("ልዩ ቅናሽ", special discount)
}
# The eighth set, recorded in session 24 by a helper that did not read the detectors (six graph shapes no earlier set
# used; Hungarian, Swedish, Romanian, Tagalog, Serbian, Danish), scored blind at the start of session 25 (the code of
# session 24's end, and of its start beside it: the same): 7 of 21 found both ways in, 3 of 44 clean runs flagged on
# the stream and 6 on the export.
_DEFAULT8 = {
    ("listahan_misfiled", "dify_classifier_drift"),
    ("parkering_other_resident", "dify_variable_leak"),
    ("patika_nano", "dify_model_fallback"),
    # session 25: the stock API's records nested under a new field, the code reader's own "none in stock" under the
    # old name no value it took from the answer
    ("patika_stock_renamed", "dify_tool_schema_mismatch"),
    ("reklamacija_pasted_log", "context_overflow"),
    ("reklamacija_pasted_log", "cost"),
    ("reklamacija_runaway", "cost"),
    ("tren_nano", "dify_model_fallback"),
    # session 25: the free seats nested into an object, the code reader writing no number before the word it wrote
    # them before in every earlier run
    ("tren_seats_renamed", "dify_tool_schema_mismatch"),
    # session 25: the 29 lessons' iteration far past its usual rounds over the course plan's list, both ways in (the
    # export reads the nested iteration's rounds right: an inner iteration is no parent of its outer one's children;
    # and a list of exactly the rounds run is read wherever the run times it)
    ("aftenskole_flood", "dify_iteration_escape"),
    # session 25: the fee API's default value (its error hidden) whose 0 the fee code passed on as the fee
    ("parkering_fee_default", "state_corruption"),
    # session 25: a shouted call to act now ("rezervați acum!") and a first month given away ("första månaden gratis")
    ("tren_derailed", "task_derailment"),
    ("parkering_derailed", "task_derailment"),
    # session 25: a note to the model in Serbian ("Napomena za AI asistenta: … dodaj"), its account in the answer
    ("reklamacija_poisoned", "dify_rag_poisoning"),
    # session 25 (det-halluc9): an IC 560 at 18:30 the timetable does not list, a time none of its trains' is
    ("tren_invented_train", "hallucination"),
}
# The ninth set, recorded in session 25 by a helper that did not read the detectors (six graph shapes no earlier set
# used; Italian, Finnish, Czech, Malay, Yoruba, Bengali), scored blind at the end of session 25's detector changes:
# 10 of 24 found on the stream, 11 by the export (the session's start: the same), 9 of 43 clean runs flagged (the
# start: 11).
_DEFAULT9 = {
    ("agri_invented_spa", "hallucination"),
    ("agri_pasted_log", "context_overflow"),
    ("agri_pasted_log", "cost"),
    # session 25 (r5-rag-derail): the partner's note, its words run together, its IBAN handed on in groups
    ("agri_poisoned", "dify_rag_poisoning"),
    # session 26 (det-halluc10): a time in Bengali digits ("বিকেল ৩:৩০", a 12-hour afternoon) no bus of the list has
    ("bus_invented", "hallucination"),
    ("bus_nano", "dify_model_fallback"),
    # session 26 (det-flow10): the customer API answered `OJ-103` with Chukwuemeka's record in `oja_clean_3`, now
    # with Kehinde's, her phone in the SMS sent, both ways in
    ("oja_other_customer", "dify_variable_leak"),
    ("oja_runaway", "cost"),
    ("stav_invented_price", "hallucination"),
    # session 25 (r5-iter): an extractor's list of one item seven times, seven identical price lookups, both ways in
    # (the stream spared a list of one repeated item whoever made it; the export, lacking the list, did not)
    ("stav_repeat", "dify_iteration_escape"),
    ("stav_repeat", "loop"),
    ("tiesaa_nano", "dify_model_fallback"),
    ("tiesaa_runaway", "cost"),
    ("tnb_other_account", "dify_variable_leak"),
    ("tnb_outage_as_bill", "dify_classifier_drift"),
    # session 26 (det-state10): the road's condition and the price nested into new objects, their code readers
    # showing none of them (`ei tietoa`, `cena neuvedena`) after showing the field in every earlier run; the road
    # API's reader found past the forecast branch's code node
    ("tiesaa_keli_renamed", "dify_tool_schema_mismatch"),
    ("stav_price_renamed", "dify_tool_schema_mismatch"),
    # session 26 (det-state10): the SMS body's text a cut of the model's confirmation, its total cut off
    ("oja_sms_cut", "state_corruption"),
}
# The tenth set, recorded in session 26 by a helper that did not read the detectors (Estonian, Lithuanian, Catalan,
# Tamil, Icelandic, Nepali; a loop with a break condition, a parallel iteration, an if/else of three cases, an array
# conversation variable), scored blind at the end of session 26's first detector changes: 21 of 38 found on the
# stream, 20 by the export (the session's start: the same), 0 of 41 clean runs flagged.
_DEFAULT10 = {
    ("celler_flood", "dify_iteration_escape"),
    ("celler_invented_date", "hallucination"),
    ("celler_other_client", "dify_variable_leak"),
    ("celler_pasted_sheet", "context_overflow"),
    ("celler_pasted_sheet", "cost"),
    # session 26 (r6-iter): both ways in, by the order list's answer giving each id three times, rounds alike
    ("celler_tripled", "dify_iteration_escape"),
    ("momo_lottery", "task_derailment"),
    ("momo_nano", "dify_model_fallback"),
    ("saun_nano", "dify_model_fallback"),
    ("saun_price_renamed", "dify_tool_schema_mismatch"),
    ("saun_rewrite_advert", "task_derailment"),
    ("saun_runaway", "cost"),
    ("siunt_invented_time", "hallucination"),
    ("siunt_kaina_renamed", "dify_tool_schema_mismatch"),
    ("siunt_kaina_renamed", "state_corruption"),
    ("siunt_other_sender", "dify_variable_leak"),
    ("siunt_pasted_manifest", "context_overflow"),
    ("siunt_pasted_manifest", "cost"),
    ("thaiyal_flipping", "loop"),
    ("thaiyal_stuck", "dify_iteration_escape"),
    ("thaiyal_stuck", "loop"),
    # session 26 (r6-rag): the forged price notice to the AI, its account handed on by the answer
    ("sund_poisoned", "dify_rag_poisoning"),
    ("sund_poisoned_card", "dify_rag_poisoning"),
    # session 27 (det-flow11): the price nested under a new object beside the gone field, a new `versioon: 2` away
    # from it no sign of a patched reader; "१ plate" extracted as 10 (ten times the figure the text states)
    ("saun_price_renamed", "state_corruption"),
    ("momo_plates_wrong", "state_corruption"),
    # session 27 (det-route11): the pool desk's two misfiles of questions naming no class, read against the classes'
    # vocabulary learned run over run: the price branch answering in no kronur to an hours question, and a price
    # question in the words of the price class's past questions filed under "Annað" (other), answered in none
    ("sund_hours_as_price", "dify_classifier_drift"),
    ("sund_price_as_other", "dify_classifier_drift"),
}
# The eleventh set, recorded in session 27 by a helper that did not read the detectors (Galician, Albanian, Uzbek,
# Yoruba, Afrikaans, Urdu; each fault an operator's mistake), scored blind at session 27's start (20 of 45 on the
# stream, 19 by the export, 7 of 40 clean runs flagged) and after its first detector changes (20 and 18, 7 of 40);
# then tuned on (session 27's r7 branches): as measured after them, both ways in (the stream's two more below).
_DEFAULT11 = {
    ("aloqa_leak", "dify_variable_leak"),
    ("aloqa_renamed_packages", "dify_classifier_drift"),
    ("apteek_invented_unsafe", "hallucination"),
    ("apteek_invented_vitaplus", "hallucination"),
    ("apteek_nano", "dify_model_fallback"),
    ("apteek_poisoned_immune", "dify_rag_poisoning"),
    ("apteek_poisoned_stock", "dify_rag_poisoning"),
    ("apteek_staff_note", "dify_variable_leak"),
    ("aso_cycle", "loop"),
    ("aso_invented_date", "hallucination"),
    ("aso_runaway", "cost"),
    ("aso_stuck_cursor", "dify_iteration_escape"),
    ("aso_stuck_cursor", "loop"),
    ("cies_gpt4o", "cost"),
    ("cies_gpt4o", "dify_model_fallback"),
    ("cies_invented_time", "hallucination"),
    ("cies_pasted_itinerary", "context_overflow"),
    ("cies_pasted_itinerary", "cost"),
    ("cies_promo", "task_derailment"),
    ("cies_v2_zero", "dify_tool_schema_mismatch"),
    ("cies_v2_zero", "state_corruption"),
    ("furgon_invented_arrival", "hallucination"),
    ("furgon_leak", "dify_variable_leak"),
    ("furgon_v2_no_times", "dify_tool_schema_mismatch"),
    ("furgon_v2_no_times", "state_corruption"),
    ("mithai_kilo_misread", "state_corruption"),
    ("mithai_nano", "dify_model_fallback"),
    ("mithai_pasted_guests", "context_overflow"),
    ("mithai_pasted_guests", "cost"),
}
# The twelfth set, recorded in session 27 by a helper that did not read the detectors (Luxembourgish, Faroese,
# Kinyarwanda, Gujarati, Malayalam, Kyrgyz; each fault a class of public incident), scored blind once at the end of
# session 27 (the start: 17 of 36 both ways in, 6 of 37 clean runs flagged): both ways in, no clean run flagged.
_DEFAULT12 = {
    ("fo_dup_reindex", "dify_iteration_escape"),  # session 28: each id twice, every round fetching it anew
    ("fo_invented_price", "hallucination"),
    ("fo_limit_ignored", "dify_iteration_escape"),
    ("fo_other_passenger", "dify_variable_leak"),
    ("fo_page_cut", "state_corruption"),  # session 28: the list's first items only, where it was passed whole
    ("gu_advert", "task_derailment"),
    ("gu_gpt4o", "cost"),
    ("gu_gpt4o", "dify_model_fallback"),
    ("gu_metre_misread", "state_corruption"),  # session 28: the figure before the parameter's own word
    ("ky_advert", "task_derailment"),
    ("ky_nano", "dify_model_fallback"),
    ("ky_overflow", "context_overflow"),
    ("ky_runaway", "cost"),
    ("lb_html_200", "state_corruption"),
    ("lb_invented_hours", "hallucination"),
    ("lb_nano", "dify_model_fallback"),
    ("lb_pasted_order", "context_overflow"),
    ("lb_pasted_order", "cost"),
    ("lb_v2_nested", "dify_tool_schema_mismatch"),
    ("lb_v2_nested", "state_corruption"),
    ("ml_cursor_cycle", "loop"),
    ("ml_cursor_stuck", "dify_iteration_escape"),
    ("ml_cursor_stuck", "loop"),
    ("ml_v2_nested", "dify_tool_schema_mismatch"),  # session 28: a paging loop's answer in a new envelope
    ("ml_v2_nested", "state_corruption"),
    ("rw_staff_code", "dify_variable_leak"),  # session 28 (det-leak12): `telefoni`, an inflected label
    ("rw_ungrounded_momo", "hallucination"),
    # session 28 (det-rag12): the partner's notice calling on `Mufasha wa AI,` obeyed; a price question filed under
    # `Ibindi` (Kinyarwanda's catch-all) naming `ubwishingizi` of `Ibiciro n'ubwishingizi`
    ("rw_poisoned_1", "dify_rag_poisoning"),
    ("rw_poisoned_3", "dify_rag_poisoning"),
    ("rw_price_as_other", "dify_classifier_drift"),
}
# The thirteenth set, recorded in session 28 by a helper that did not read the detectors (English, Chinese,
# Japanese, Spanish; each fault modelled on a public Dify GitHub issue), scored blind at session 28's start (33 of 57
# both ways in, 8 of 45 clean runs flagged) and after its first detector round (34, 8), then tuned on.
# Session 29, r9-text: `claim_clean_5` ("报销 **2460 元** … 金额超过 2000 元", the 2000 threshold in no source) was
# found only because the bolded 2460 was blanked as a masked number, so the data's figure seemed unsaid; read right,
# no rule for answers fed data finds the invented threshold beside the restated sum: no longer pinned.
_DEFAULT13 = {
    ("claim_nano", "dify_model_fallback"),
    ("claim_paper_count", "state_corruption"),
    ("claim_receipt_nested", "dify_tool_schema_mismatch"),
    ("help_charged_twice", "dify_classifier_drift"),
    ("help_install_fee", "hallucination"),
    ("help_late_fee_other", "dify_classifier_drift"),
    ("help_poison_pay", "dify_rag_poisoning"),
    ("help_poison_price", "dify_rag_poisoning"),
    ("help_runaway", "cost"),
    ("help_staff_code", "dify_variable_leak"),
    ("help_storm_other", "dify_classifier_drift"),
    ("honyaku_added_date", "hallucination"),
    ("honyaku_device_log", "context_overflow"),
    ("honyaku_nano", "dify_model_fallback"),
    ("honyaku_poison_fee", "dify_rag_poisoning"),
    ("honyaku_poison_fee_2", "dify_rag_poisoning"),
    ("honyaku_replied", "hallucination"),
    ("orders_flood", "dify_iteration_escape"),
    ("orders_lost_round", "state_corruption"),
    ("orders_other_contact", "dify_variable_leak"),
    ("orders_renamed", "dify_tool_schema_mismatch"),
    ("orders_renamed", "state_corruption"),
    ("orders_renamed_qty", "dify_tool_schema_mismatch"),
    ("orders_renamed_qty", "state_corruption"),
    ("orders_tripled", "dify_iteration_escape"),
    ("report_advert", "task_derailment"),
    ("report_cycle", "loop"),
    ("report_gpt4o", "cost"),
    ("report_gpt4o", "dify_model_fallback"),
    ("report_nano", "dify_model_fallback"),
    ("report_pos_export", "context_overflow"),
    ("report_runaway", "cost"),
    ("report_stuck", "dify_iteration_escape"),
    ("report_stuck", "loop"),
    ("report_stuck_2", "dify_iteration_escape"),
    ("report_stuck_2", "loop"),
    ("seguro_alarm_ad", "hallucination"),
    ("seguro_alarm_ad", "task_derailment"),
    ("seguro_default_zero", "state_corruption"),
    ("seguro_nested_cover", "dify_tool_schema_mismatch"),
    ("seguro_nested_cover", "state_corruption"),
    ("seguro_other_dni", "dify_variable_leak"),
    ("seguro_other_policy_fee", "dify_variable_leak"),
    ("seguro_refusal", "task_derailment"),
}
# The fourteenth set, recorded in session 28 (minimal pairs: each faulty run beside a clean twin; English, Chinese,
# Japanese, French), scored blind at session 28's start (28 of 45 both ways in, 1 of 63 clean runs flagged), after its
# first detector round (29, 1) and at its end (30, 1).
_DEFAULT14 = {
    ("fr_4o", "cost"),
    ("fr_4o", "dify_model_fallback"),
    ("fr_catalogue", "cost"),
    ("fr_mots", "state_corruption"),
    ("fr_nano", "dify_model_fallback"),
    ("fr_prix", "state_corruption"),
    ("ins_halluc", "hallucination"),
    ("ins_leak", "dify_variable_leak"),
    ("ins_overflow", "context_overflow"),
    ("ins_twin_poison_2", "hallucination"),
    ("js_cycle", "loop"),
    ("js_halluc", "hallucination"),
    ("js_stuck_1", "dify_iteration_escape"),
    ("js_stuck_1", "loop"),
    ("js_stuck_2", "dify_iteration_escape"),
    ("js_stuck_2", "loop"),
    ("js_v2", "dify_tool_schema_mismatch"),
    ("js_v2", "state_corruption"),
    ("pr_dup", "dify_iteration_escape"),
    ("pr_flood", "dify_iteration_escape"),
    ("pr_gpt4o", "cost"),
    ("pr_gpt4o", "dify_model_fallback"),
    ("pr_halluc", "hallucination"),
    ("pr_v2", "dify_tool_schema_mismatch"),
    ("pr_v2", "state_corruption"),
    ("zb_default", "state_corruption"),
    ("zb_leak", "dify_variable_leak"),
    ("zb_nano", "dify_model_fallback"),
    ("zb_v2", "dify_tool_schema_mismatch"),
    ("zb_v2", "state_corruption"),
}
# The fifteenth set, recorded in session 29 (incidents: each fault from a production incident, runs before, during
# and after it; English, Chinese, Spanish), scored blind at session 29's start and after its first detector round
# (35 of 54 both ways in, 5 of 64 clean runs flagged), then tuned on (37, 0).
_DEFAULT15 = {
    ("cards_promo_during_1", "task_derailment"),
    ("cards_runbook_during_1", "dify_variable_leak"),
    ("copy_dup_during_1", "dify_iteration_escape"),
    ("copy_first_during_1", "state_corruption"),
    ("copy_flood28_during_1", "cost"),
    ("copy_flood28_during_1", "dify_iteration_escape"),
    ("copy_flood28_during_2", "cost"),
    ("copy_flood28_during_2", "dify_iteration_escape"),
    ("copy_sales_during_1", "hallucination"),
    ("copy_v2_during_1", "dify_tool_schema_mismatch"),
    ("copy_v2_during_2", "dify_tool_schema_mismatch"),
    ("doc_4o_during_1", "cost"),
    ("doc_4o_during_1", "dify_model_fallback"),
    ("doc_4o_during_2", "cost"),
    ("doc_4o_during_2", "dify_model_fallback"),
    ("doc_overflow", "context_overflow"),
    ("doc_poison2_during_1", "dify_rag_poisoning"),
    ("doc_poison2_during_2", "dify_rag_poisoning"),
    ("doc_poison_during_2", "dify_rag_poisoning"),
    ("doc_topk_during_2", "hallucination"),
    ("es_cycle_during_1", "loop"),
    ("es_cycle_during_2", "loop"),
    ("es_stuck_during_1", "dify_iteration_escape"),
    ("es_stuck_during_1", "loop"),
    ("es_stuck_during_2", "dify_iteration_escape"),
    ("es_stuck_during_2", "loop"),
    ("gov_ctx_during_1", "hallucination"),
    ("gov_ctx_during_2", "hallucination"),
    ("gov_internal_during_1", "dify_variable_leak"),
    ("gov_internal_during_1", "hallucination"),
    ("gov_poison_during_1", "dify_rag_poisoning"),
    ("ret_nano_during_1", "dify_model_fallback"),
    ("ret_nano_during_2", "dify_model_fallback"),
    ("ret_nano_during_2", "task_derailment"),
    ("ret_overflow", "context_overflow"),
    ("ret_v2_during_1", "state_corruption"),
    ("ret_v2_during_2", "state_corruption"),
}
# Faults found on the stream alone (both settings), by rules reading what Dify's export lacks (an assigner's process
# data): session 26 (det-state10), the booking's destination over-written with the empty string in the next turn.
FOUND_BY_THE_STREAM_ONLY = {
    "faults9": {("bus_destination_lost", "state_corruption")},
    # session 27: the bundle list's request asked for 3 (not exported); a question naming a class whole (the
    # classifier's prompt is not exported)
    "faults11": {("aloqa_flood", "dify_iteration_escape"), ("aloqa_renamed_balance", "dify_classifier_drift")},
}
_EMPTY10 = {("sund_ungrounded_age", "hallucination"), ("sund_hours_as_price", "hallucination")}
_DAYS13 = {("claim_payday", "hallucination"), ("orders_chair_restock", "hallucination")}
# (set, settings) measured: the first set in every setting, the others as shipped and with every switch on.
MEASURED = {
    ("faults", "default"): _DEFAULT | {("kb_invented_figures", "hallucination")},
    ("faults", "every switch"): _DEFAULT | {("kb_invented_figures", "hallucination")},
    ("faults", "cost from 5 runs"): _DEFAULT | _COST_FROM_5,
    ("faults2", "default"): _DEFAULT2 | {("visa_invented_fee", "hallucination")},
    ("faults2", "every switch"): _DEFAULT2
    | {("invoice_wrong_total", "hallucination"), ("visa_invented_fee", "hallucination")},
    ("faults3", "default"): _DEFAULT3 | {("faq_invented_price", "hallucination")},
    ("faults3", "every switch"): _DEFAULT3 | _HALLUCINATIONS3,
    ("faults4", "default"): _DEFAULT4 | {("library_invented_fine", "hallucination")},
    ("faults4", "every switch"): _DEFAULT4 | _HALLUCINATIONS4,
    ("faults5", "default"): _DEFAULT5,
    ("faults5", "every switch"): _DEFAULT5 | {("rental_invented", "hallucination")},
    ("faults6", "default"): _DEFAULT6,
    ("faults6", "every switch"): _DEFAULT6,
    ("faults7", "default"): _DEFAULT7,
    ("faults7", "every switch"): _DEFAULT7,  # and shelter_invented by the export only
    ("faults8", "default"): _DEFAULT8,
    ("faults8", "every switch"): _DEFAULT8,
    # session 28 (det-halluc12): made up in the data's terms (`made_up`), a discount nobody granted, a price where the
    # data prices nothing beside a run input's date
    ("faults9", "default"): _DEFAULT9 | {("tiesaa_invented_weather", "hallucination")},
    ("faults9", "every switch"): _DEFAULT9
    | {
        ("tiesaa_invented_weather", "hallucination"),
        ("tnb_invented_restore", "hallucination"),
    },
    # session 29 (det-halluc13): `empty_context` on, an empty retrieval excused by no earlier run's figure
    ("faults10", "default"): _DEFAULT10 | _EMPTY10,
    ("faults10", "every switch"): _DEFAULT10 | _EMPTY10 | {("thaiyal_invented_date", "hallucination")},
    ("faults11", "default"): _DEFAULT11 | {("apteek_invented_flu", "hallucination")},
    ("faults11", "every switch"): _DEFAULT11
    | {("aloqa_invented", "hallucination"), ("apteek_invented_flu", "hallucination")},
    ("faults12", "default"): _DEFAULT12
    | {("gu_invented_discount", "hallucination"), ("ml_invented_rate", "hallucination")},
    ("faults12", "every switch"): _DEFAULT12
    | {
        ("gu_invented_discount", "hallucination"),
        ("ky_advert", "hallucination"),
        ("ml_invented_rate", "hallucination"),
    },
    # session 29 (det-halluc13): a day without its year none of the data's days is (`day_findings`, read where
    # `data_fed` is off: with it on, every figure of an answer fed data is read, the restock's day not among them)
    ("faults13", "default"): _DEFAULT13 | _DAYS13,
    ("faults13", "every switch"): _DEFAULT13
    | {
        ("claim_payday", "hallucination"),
        ("report_advert", "hallucination"),
        ("seguro_perito", "hallucination"),
    },
    ("faults14", "default"): _DEFAULT14,
    ("faults14", "every switch"): _DEFAULT14,
    ("faults15", "default"): _DEFAULT15,
    ("faults15", "every switch"): _DEFAULT15 | {("copy_sales_during_2", "hallucination")},
}
# Clean runs flagged when measured, kept so that no other is. Session 23: a poisoned document retrieved and not
# obeyed (visa_clean_5, faq_clean_5/7, library_clean_7, museum_clean_5, every recorder's hard negative) is no longer
# a finding: `dify_rag_poisoning`'s `unobeyed` ships off, and museum_clean_5's guide page reports visitors' requests.
FALSE_ALARMS = {
    # session 20: with `hallucination` on, two clean answers stated figures in no source of their run (the visa
    # KB's processing-time and fee documents, not retrieved for them; true in the world). The invoices' discounted
    # amounts, a labelled count of days left and a question naming its invoice code, once flagged too (7 clean
    # runs), are read as worked out from the sources. Session 21: the two are the app's figures, of documents its
    # earlier runs retrieved (15 and 45 days, 6 months) and of an earlier answer from them (the 90 EUR fee).
    # the third set: with `hallucination` on, five clean answers had figures it did not trace to their sources;
    # session 21 traces four (a booking's end time, its start moved by the hours booked; the if-else's 1000 EUR
    # limit). The fifth states printer prices of a knowledge-base segment no run retrieved (the kit's scripted
    # answer; in no source this run or any other had): kept as a finding (an answer stating prices its run was not
    # given). Session 22: `hallucination` ships on (held-out 11 and the fifth recording, blind: 1 of 551, 0 of 40).
    # Session 29 (det-halluc13): `empty_context` ships on. The knowledge base's true hours, limits and prices answered
    # after a retrieval that brought nothing back, which these sets label clean (right for the business) and held-out
    # 14-16/19/20 and faults10/11/14 label hallucination (in nothing the model was given): flagged, a convention
    # traded by the numbers (docs/detectors.md, Session 29).
    ("faults3", "default"): {("faq_clean_4", "hallucination"), ("faq_clean_8", "hallucination")},
    ("faults3", "every switch"): {("faq_clean_4", "hallucination"), ("faq_clean_8", "hallucination")},
    ("faults4", "default"): {("library_clean_8", "hallucination")},
    ("faults4", "every switch"): {("library_clean_8", "hallucination")},
    ("faults5", "default"): {("museum_clean_3", "hallucination"), ("museum_clean_7", "hallucination")},
    ("faults6", "default"): {("estate_clean_6", "hallucination")},
    ("faults6", "every switch"): {("estate_clean_6", "hallucination")},
    ("faults9", "default"): {("agri_clean_7", "hallucination")},
    # the fourth set: session 22: the fleet report's plate beside its distance ("42 MRM 373 151.735 km") is read as
    # two numbers, no longer one `hallucination` traced nowhere
    # the fifth set: with `data_fed` on (not a default), four answers fed a timetable or a recipe's figures restate
    # numbers it does not trace
    ("faults5", "every switch"): {
        ("museum_clean_3", "hallucination"),
        ("museum_clean_7", "hallucination"),
        ("ferry_clean_6", "hallucination"),
        ("recipe_clean_1", "hallucination"),
        ("recipe_clean_4", "hallucination"),
        ("recipe_clean_5", "hallucination"),
    },
    # the sixth set, as scored blind: bank_clean_3 (a question naming the classifier's other class whole, filed under
    # the one its answer needed; the stream only) and estate_clean_4 (the estate office's own repairs number from its
    # notice, read as a third party's). Session 23, after the scoring: "another bank" (Georgian "სხვა ბანკის") no
    # longer names the catch-all "სხვა" (other) as a class (r3-classifier), and an office's or repair desk's number is
    # a service line's (r3-leak): no clean run of the set flagged.
    # the seventh set, as scored blind: a campsite answer's figure traced to no source; with `data_fed` on, a paint
    # calculator's clean answer too. Session 24 (r4-halluc): the campsite's figures are its own working's steps
    # ("5,40" for three at 1,80, "32 + 6 + 5,40 = 43,40", a week "303,80"), read a step at a time: no longer flagged.
    ("faults7", "every switch"): {("paint_clean_5", "hallucination")},
    # the eighth set, as scored blind: a parking resident's own phone number restated (variable_leak); a timetable
    # field the API answered filled read as reaching a node empty (state_corruption); an evening-class iteration over
    # more rounds than its input's items (iteration_escape, the stream only); by the export alone four clean
    # evening-class runs `state_corruption` ("iteration output items < rounds run"). Session 25: none is flagged. A
    # record holding the plate the run was given is the caller's own, its one phone theirs; the list operator after
    # the API produced the empty list; the iteration's rounds were its nested iteration's (Dify streams their nodes
    # with the outer one's id); the export gave the outer iteration's graph id to the first inner iteration, started
    # within the second of slack (mended).
    # the ninth set, as scored blind: a bus booking chatflow's extractor read as taking a number its text does not
    # state (state_corruption, six runs); a market stall's customers' own phone numbers read as leaked (the record
    # names no key the run was given: its id is in the request's URL, which Dify's export lacks); session 25
    # (r5-flow): a power company's record holding the account number the run was given is the holder's own;
    # with `hallucination`'s `data_fed` on, figures of a price lookup, a forecast and a fare
    # Session 25 (r5-state): the bus extractor's six not flagged: the date it extracted (`2027-03-19`) took the day
    # its text states. Session 26 (det-flow10): the customers' own numbers not flagged: one record holding no key,
    # which a lookup asked for the run's key returned, is the caller's (the export records no request: the run's
    # one key).
    ("faults9", "every switch"): {
        ("agri_clean_7", "hallucination"),
        ("bus_clean_1", "hallucination"),
        ("bus_clean_8", "hallucination"),
        ("stav_clean_1", "hallucination"),
        ("stav_clean_2", "hallucination"),
        ("stav_clean_3", "hallucination"),
        ("stav_clean_5", "hallucination"),
        ("stav_clean_7", "hallucination"),
        ("tiesaa_clean_4", "hallucination"),
    },
    # the tenth set, blind (session 26): with `hallucination`'s `data_fed` on, a cellar's and a sauna's figures
    ("faults10", "every switch"): {("celler_clean_5", "hallucination"), ("saun_clean_7", "hallucination")},
    # the eleventh and twelfth sets (session 27): with `hallucination`'s `data_fed` on, computed totals and a
    # ferry's and a houseboat's figures
    ("faults11", "every switch"): {
        ("aloqa_hn_computed", "hallucination"),
        ("aso_hn_total", "hallucination"),
        ("cies_clean_1", "hallucination"),
        ("cies_clean_3", "hallucination"),
        ("cies_hn_big_group", "hallucination"),
    },
    ("faults12", "every switch"): {("ml_clean_3", "hallucination")},
    # the thirteenth and fourteenth sets (session 28): with `hallucination`'s `data_fed` on, a long report's and a
    # tracker's figures; by default, the marketing app's twin whose extractor read its words another way than the
    # fault (found blind at the start as well)
    ("faults13", "every switch"): {("report_hn_long", "hallucination")},
    # Session 29, r9-text: Markdown bold read (`**10 working days**` was blanked as a masked number): the insurer's
    # twin states a claim settled "within 10 working days", which no document nor prompt gives (its README: the twin
    # says "the documents don't say"; its answer adds the figure all the same): a finding by the task's definition.
    ("faults14", "default"): {("fr_twin_mots", "state_corruption"), ("ins_twin_halluc", "hallucination")},
    ("faults14", "every switch"): {
        ("fr_clean_2", "hallucination"),
        ("fr_twin_mots", "state_corruption"),
        ("ins_twin_halluc", "hallucination"),
        ("js_clean_1", "hallucination"),
        ("js_clean_3", "hallucination"),
        ("js_clean_4", "hallucination"),
        ("js_twin_halluc", "hallucination"),
        ("js_twin_v2", "hallucination"),
        ("pr_twin_gpt4o", "hallucination"),
    },
}
# Rules that fire on a run's stream but not on Dify's export of it, because the export lacks what they read: an
# iteration's input list, an HTTP node's request. (The classifier's prompt is not exported either; its class names
# are those the node picked before, since session 20.) Session 23: `dify_iteration_escape`'s "every round used, no
# loop_break", which read the loop's `completed_reason`, is gone, and its ten stream-only entries with it.
RULES_THE_EXPORT_CANNOT_FIRE = {
    ("reviews_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("digest_text_topics", "dify_iteration_escape", "an iteration over single characters, separators among them"),
    ("research_limit_ignored", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # its request
    ("pricing_feed_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("fleet_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("ferry_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("pharmacy_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("bus_destination_lost", "state_corruption", "an assigner emptied a conversation variable an earlier turn filled"),
    ("celler_tripled", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("celler_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # by another both ways
    ("aloqa_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("fo_limit_ignored", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # another both ways
    ("orders_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # another both ways
    ("orders_tripled", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # another both ways
    ("pr_dup", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # another both ways
    ("pr_flood", "dify_iteration_escape", "rounds > the size an earlier node asked for"),  # another both ways
    # faults15's product-copy floods: found by another rule both ways
    ("copy_dup_during_1", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("copy_flood28_during_1", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    ("copy_flood28_during_2", "dify_iteration_escape", "rounds > the size an earlier node asked for"),
    # faults15's dropped context variable: what the rule reads is not exported (found as hallucination both ways)
    ("gov_ctx_during_1", "state_corruption", "retrieved documents in #context# but in none of the LLM's prompts"),
    ("gov_ctx_during_2", "state_corruption", "retrieved documents in #context# but in none of the LLM's prompts"),
    # the classifier's prompt (its class names as this version words them) is not exported
    (
        "aloqa_renamed_balance",
        "dify_classifier_drift",
        "the question names a specific class whole, the pick is the catch-all",
    ),
    (
        "aloqa_renamed_packages",
        "dify_classifier_drift",
        "a catch-all pick of a question in two words past questions of one specific class alone held (two of them "
        "each); the answer holds none of the question's words",
    ),
}
# Findings on the export alone, because the stream holds what spares them: the course list repeating one course six
# times (a faulty run, labelled so) gave six identical outer rounds, each with its own inner iteration since the
# nested iteration is rebuilt right (session 25); the stream reads the iteration's list, one item repeated, and spares
# it ("no lack of progress"); Dify does not export an iteration's list.
FOUND_BY_THE_EXPORT_ONLY = {("aftenskole_repeat", "dify_iteration_escape")}


@cache
def findings(recorded: str, way_in: str, settings: str) -> tuple[tuple[str, Finding], ...]:
    """Every finding with its run, the set's runs read `way_in` one after another through one processor."""
    processor = DetectionProcessor(Config.model_validate(SETTINGS[settings]))
    read = WAYS_IN[way_in]
    return tuple((name, f) for name in RUNS[recorded] for f in processor.detect(read(SETS[recorded], name)))


def found(recorded: str, way_in: str, settings: str) -> set[tuple[str, str]]:
    return {(name, f.detector) for name, f in findings(recorded, way_in, settings)}


@pytest.mark.parametrize("recorded", SETS)
def test_every_recorded_run_is_labeled_and_every_app_has_five_clean_runs_first(recorded: str) -> None:
    runs = RUNS[recorded]
    assert sorted(runs) == sorted(json.loads((SETS[recorded] / "labels.json").read_text())["runs"])
    for app in {name.split("_")[0] for name in runs}:
        labels = [LABELS[name] for name in runs if name.split("_")[0] == app]
        assert len(labels) > 5, app
        # faults10's pool desk: two of its first five runs were found, when checked, to answer from a document the
        # keyword retrieval did not bring back (relabelled hallucination; kept in recording order)
        # faults13's claim form: its fifth warm-up, when checked, invented an approval threshold (README)
        exceptions = {("faults10", "sund"), ("faults13", "claim")}
        assert not any(labels[:5]) or (recorded, app) in exceptions, app  # a history before any fault


@pytest.mark.parametrize("recorded, settings", MEASURED)
@pytest.mark.parametrize("way_in", WAYS_IN)
def test_no_clean_run_gets_a_finding(recorded: str, way_in: str, settings: str) -> None:
    """When first measured, `task_derailment` flagged the triage app's catch-all desk on 4 of the first set's 49
    clean runs: its holding reply ("Thanks for your question! Our team will get back to you shortly.") names
    neither the class nor the question. A holding reply is left alone since (session 18)."""
    flagged = {(name, detector) for name, detector in found(recorded, way_in, settings) if not LABELS[name]}
    expected = FALSE_ALARMS.get((recorded, settings), set())
    # The export may flag fewer: some rules read what it lacks (RULES_THE_EXPORT_CANNOT_FIRE).
    assert flagged == expected if way_in == "stream" else flagged <= expected


@pytest.mark.parametrize("recorded, settings", MEASURED)
@pytest.mark.parametrize("way_in", WAYS_IN)
def test_the_faults_found_when_measured_are_still_found(recorded: str, way_in: str, settings: str) -> None:
    stream_only = FOUND_BY_THE_STREAM_ONLY.get(recorded, set()) if way_in == "stream" else set()
    assert MEASURED[recorded, settings] | stream_only <= found(recorded, way_in, settings)


@pytest.mark.parametrize("recorded, settings", MEASURED)
def test_dify_s_export_finds_what_the_stream_finds_by_fewer_rules(recorded: str, settings: str) -> None:
    """Every (run, detector) the export gives, the stream gives (but FOUND_BY_THE_EXPORT_ONLY); the stream's other
    findings come from rules reading what the export lacks (the third set's `pricing_feed_flood` by the request asking
    for fewer results on its stream only: the request is not exported; by the app's usual rounds both ways in)."""
    assert found(recorded, "otlp", settings) - FOUND_BY_THE_EXPORT_ONLY <= found(recorded, "stream", settings)
    rules = {
        way_in: {(name, f.detector, f.evidence.get("rule")) for name, f in findings(recorded, way_in, settings)}
        for way_in in WAYS_IN
    }
    assert rules["stream"] - rules["otlp"] <= RULES_THE_EXPORT_CANNOT_FIRE


@pytest.fixture
def bridge(tmp_path: Path, otlp_sink: OtlpSink) -> Iterator[BridgeServer]:
    """A running bridge with the `otlp` receiver and the default detectors, exporting to a real OTLP receiver."""
    config = parse_config(bridge_config_text(tmp_path, otlp_sink.grpc_endpoint, otlp="{}"), "test.yaml")
    with BridgeServer(config) as server:
        yield server


def test_a_running_bridge_marks_the_help_desk_s_faults_as_the_rebuild_finds_them(
    bridge: BridgeServer, otlp_sink: OtlpSink
) -> None:
    """The help desk's 11 runs (poisoned document, figures, derailed answer, huge prompt, runaway cost), their spans
    sent as Dify sent them to a running bridge, one run at a time (its baselines learn in Dify's order): the
    detections on the spans the bridge exports are what `found` has for them."""
    desk = [run for run in INDEX["faults"] if run["app"] == "f_kb"]
    spans = 0
    for run in desk:
        answers = send_recorded(bridge.base, run["name"], API_KEY, recordings=(FAULTS,))
        assert all(answer.status_code == 200 for answer in answers)
        spans += len(rebuilt_spans(run["name"], (FAULTS,)))
        otlp_sink.wait_for_spans(spans)
    names = {f"{trace_id_for(run['ids']['workflow_run_id']):032x}": run["name"] for run in desk}
    marked = {
        (names[span.trace_id], event["detection.detector"])
        for span in otlp_sink.spans()
        for name, _, event in span.events
        if name == "detection"
    }
    assert marked == {
        (name, detector) for name, detector in found("faults", "otlp", "default") if name.startswith("kb_")
    }
    assert ("kb_runaway_answer", "cost") in marked  # learned from the 10 runs before it

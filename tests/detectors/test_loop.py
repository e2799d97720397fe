from __future__ import annotations

import json

from opentelemetry.sdk.trace import ReadableSpan

from bridge.dify.assembly import RunAssembler
from bridge.dify.model import DifyEvent
from bridge.trace.spans import build_spans
from tests.detectors.build import container_after_producer, findings, node, outline_then_iteration, run_spans
from tests.detectors.build import loop_of_rounds as _loop_of_rounds
from tests.detectors.corpus import loop_calls


def test_same_inputs_and_same_outputs_repeating_in_a_loop_calls() -> None:
    (finding,) = findings(loop_calls(["a", "a", "a"], outputs=[7, 7, 7]), "loop")
    assert "ran 3 times in a loop with the same inputs" in finding.summary
    assert finding.evidence["inputs"] == '{"cursor":"a"}' and finding.evidence["repeats"] == 3


def test_progressing_loop_is_fine() -> None:
    assert findings(loop_calls(["a", "b", "c", "d"]), "loop") == []
    assert findings(loop_calls(["a", "a"], outputs=[1, 1]), "loop") == []


def test_same_inputs_while_the_loop_makes_progress_is_fine() -> None:
    """A fixed lookup node repeats its inputs every round while its results (the loop's state) move on."""
    assert findings(loop_calls(["a", "a", "a", "a"], outputs=[1, 2, 3, 4]), "loop") == []


def test_a_single_failure_is_not_a_storm() -> None:
    assert findings(run_spans([node("n", status="failed", error="boom")]), "loop") == []


def _retried(attempts: int) -> list[ReadableSpan]:
    """An HTTP node attempted `attempts` times, every attempt answered 502."""
    assembler = RunAssembler()
    base = {"id": "x", "node_id": "http", "node_type": "http-request", "title": "HTTP"}
    for i in range(1, attempts):
        assembler.add(DifyEvent("node_retry", {**base, "status": "retry", "retry_index": i, "error": "502"}, "r"), 0)
    assembler.add(DifyEvent("node_finished", {**base, "status": "failed", "error": "502"}, "r"), 0)
    (run,) = assembler.drain()
    return build_spans(run)


def test_dify_s_default_retries_spent_are_no_storm() -> None:
    """Retry on failure, switched on, retries a node 3 times (Dify's default): 4 attempts are what it was told."""
    assert findings(_retried(4), "loop") == []
    (finding,) = findings(_retried(6), "loop")
    assert finding.evidence["attempts"] == 6


def test_retry_storm_from_stream_retries() -> None:
    assembler = RunAssembler()
    base = {"id": "x", "node_id": "http", "node_type": "http-request", "title": "HTTP"}
    for i in range(1, 5):
        assembler.add(DifyEvent("node_retry", {**base, "status": "retry", "retry_index": i, "error": "502"}, "r"), 0)
    assembler.add(DifyEvent("node_finished", {**base, "status": "failed", "error": "502"}, "r"), 0)
    (run,) = assembler.drain()
    (finding,) = findings(build_spans(run), "loop")
    assert finding.severity == "high" and "attempted 5 times and still failed" in finding.summary


def _llm_round(text: str, latency: float) -> dict[str, object]:
    usage = {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42, "latency": latency}
    return {"node_id": "improve", "node_type": "llm", "inputs": {"draft": "Dear customer,"},
            "outputs": {"text": text, "usage": usage, "finish_reason": "stop"},
            "process_data": {"prompts": [{"role": "user", "text": "Improve"}], "usage": usage}}  # fmt: skip


def test_a_stuck_loop_is_found_though_a_real_models_latency_differs_every_call() -> None:
    rounds = [[_llm_round("Dear customer,", 0.3 + i / 10)] for i in range(4)]
    spans = _loop_of_rounds(rounds, limit=4, reason="loop_completed")
    (finding,) = findings(spans, "loop")
    assert finding.evidence["repeats"] == 4
    assert len(findings(spans, "dify_iteration_escape")) == 1  # identical rounds, usage aside


def test_rounds_alike_in_a_loop_that_broke_out_at_last_were_waiting() -> None:
    """A status polled until it changed, a draft rejected until the check passed: the loop reached its break
    condition (Dify's `loop_break`; in its export, which does not say, fewer rounds than its `loop_count`)."""
    rounds = [[_llm_round("Dear customer,", 0.3 + i / 10)] for i in range(4)]
    waited = _loop_of_rounds(rounds, limit=10, reason="loop_break")
    assert findings(waited, "loop") == [] and findings(waited, "dify_iteration_escape") == []


def _poll(i: int, status: str = "pending") -> list[dict[str, object]]:
    """A poll loop's round `i`: the carrier's status, and the count of polls written."""
    return [{"node_id": "status", "node_type": "http-request", "inputs": {"url": "http://carrier/PN1"},
             "outputs": {"status_code": 200, "body": status}},
            {"node_id": "count", "node_type": "assigner", "inputs": {"polls": i}, "outputs": {},
             "process_data": {"polls": i + 1, "__updated_variables": [{"name": "polls", "new_value": i + 1}]}},
            ]  # fmt: skip


def test_a_poll_loop_progressing_only_in_the_counter_it_writes_is_fine() -> None:
    spans = _loop_of_rounds([_poll(i) for i in range(5)])  # it broke out: the status it waited for came
    assert findings(spans, "loop") == [] and findings(spans, "dify_iteration_escape") == []


def test_a_loop_out_of_rounds_that_only_counted_is_stuck() -> None:
    """Every round polled the same status and only its counter moved, until the loop ran out of rounds."""
    spans = _loop_of_rounds([_poll(i) for i in range(6)], limit=6, reason="loop_completed")
    (finding,) = findings(spans, "loop")
    assert finding.evidence["rule"] == "a loop out of rounds repeating its last rounds but for a counter"
    assert finding.evidence["repeats"] == 6 and "pending" in finding.evidence["last_round_outputs"]
    # Out of rounds, but the status moved on (progress a counter does not make): not stuck.
    statuses = ["booked", "picked up", "in transit", "at hub", "out", "near"]
    moving = [_poll(i, status) for i, status in enumerate(statuses)]
    assert findings(_loop_of_rounds(moving, limit=6, reason="loop_completed"), "loop") == []
    # A counter stepping by more than one per round is no count of rounds.
    skipping = _loop_of_rounds([_poll(2 * i) for i in range(6)], limit=6, reason="loop_completed")
    assert findings(skipping, "loop") == []


def test_an_iteration_working_one_item_again_and_again_over_a_multiplied_list() -> None:
    rooms = [{"room": "kitchen", "m2": 14}, {"room": "hall", "m2": 6}]
    padded = [rooms[0]] + [rooms[1]] * 5  # the hall five times, each round the same result
    spans = container_after_producer(rooms, padded, ["kitchen: 2 tins"] + ["hall: 1 tin"] * 5)
    (finding,) = findings(spans, "loop")
    assert finding.evidence["repeats"] == 5 and "hall" in finding.evidence["inputs"]
    # The producer gave the repeated list itself: the iteration does what it was asked.
    assert findings(container_after_producer(padded, padded, ["kitchen: 2 tins"] + ["hall: 1 tin"] * 5), "loop") == []


def test_an_iteration_over_a_model_s_list_of_one_item_again_and_again() -> None:
    """A parameter extractor gives one item seven times and the iteration looks it up seven times alike, read from
    the iteration's input or, where Dify's export leaves it out (`selector` None), from the extractor's list."""
    listed, outputs = ["cement"] * 7, ["cement: 189 CZK"] * 7
    for selector in (listed, None):
        spans = container_after_producer(listed, selector, outputs, producer="parameter-extractor")
        (finding,) = findings(spans, "loop")
        assert finding.evidence["rule"] == "every round alike over a model's list of one item repeated"
        assert finding.evidence["repeats"] == 7 and "189" in finding.evidence["round_outputs"]
        # The app's own code listing the item seven times asked for the work; rounds that differ progress.
        assert findings(container_after_producer(listed, selector, outputs), "loop") == []
        progressing = [f"cement: {189 + i} CZK" for i in range(7)]
        assert findings(container_after_producer(listed, selector, progressing, producer="llm"), "loop") == []


def test_an_iteration_past_its_lists_length_repeating_one_round() -> None:
    # Four chapters; the iteration went on to round nine, the last chapter done over and over the same way.
    chapters = ["dawn", "market", "storm", "harbour"]
    outputs = ["dawn: 3 scenes", "market: 5 scenes"] + ["storm: 2 scenes"] * 7
    (finding,) = findings(container_after_producer(chapters, ["parts", "chapters"], outputs, limit=4), "loop")
    assert finding.evidence["rule"] == "an iteration past its list's length repeating the same round"
    assert (finding.evidence["rounds"], finding.evidence["items"], finding.evidence["repeats"]) == (9, 4, 7)
    # Within its length the same output in a row is the list's own repeats; past it, rounds that progress
    # are a runaway (dify_iteration_escape's), not a stuck round.
    assert findings(container_after_producer(chapters, ["parts", "chapters"], outputs, limit=9), "loop") == []
    progressing = [f"chapter {i}: {i} scenes" for i in range(9)]
    assert findings(container_after_producer(chapters, ["parts", "chapters"], progressing, limit=4), "loop") == []


def _page(asked: int, got: int, found: tuple[int, int], next_page: int) -> list[dict[str, object]]:
    """A paging loop's round: the listing asked for page `asked` answered page `got`; the filter's finds (before it,
    after it) and the next page it writes. The response's `date` differs on every call, as a real server's does."""
    body = json.dumps({"page": got, "next_page": next_page, "homes": [f"H-{got}01", f"H-{got}02"]})
    headers = {"date": f"Mon, 07 Dec 2026 02:54:{asked * 7 + got:02d} GMT", "content-type": "application/json"}
    return [{"node_id": "listings", "node_type": "http-request", "inputs": {},
             "outputs": {"status_code": 200, "body": body, "headers": headers, "files": []}},
            {"node_id": "filter", "node_type": "code", "inputs": {"body": body, "found": found[0]},
             "outputs": {"found": found[1], "page": next_page}},
            {"node_id": "keep", "node_type": "assigner", "inputs": {},
             "process_data": {"page": next_page, "__updated_variables": [{"name": "page", "new_value": next_page}]}},
            ]  # fmt: skip


def test_a_loop_reading_one_page_again_is_stuck_though_each_response_s_date_differs() -> None:
    """The listing ignores the page asked and answers page 1 every round: the same rounds, but for the HTTP
    response's headers, which say when it was sent, not what the loop has."""
    spans = _loop_of_rounds([_page(i + 1, 1, (0, 0), 2) for i in range(6)], limit=6, reason="loop_completed")
    (finding,) = findings(spans, "loop")
    assert finding.evidence["rule"] == "same inputs and same round outputs in every repeat"
    assert len(findings(spans, "dify_iteration_escape")) == 1  # six identical rounds


def test_a_loop_out_of_rounds_going_round_the_same_states() -> None:
    """Page 2's `next_page` points back to page 1: the loop flips between two pages it has read until its cap."""
    back = [_page(i, i % 2 + 1, (2, 2), 2 - i % 2) for i in range(2, 6)]  # pages 1, 2, 1, 2: both homes found
    flip = [_page(1, 1, (0, 1), 2), _page(2, 2, (1, 2), 1), *back]
    (finding,) = findings(_loop_of_rounds(flip, limit=6, reason="loop_completed"), "loop")
    assert finding.evidence["rule"] == "a loop out of rounds going round the same states"
    assert (finding.evidence["period"], finding.evidence["repeats"]) == (2, 3)
    assert "H-101" in finding.evidence["round_outputs"][0] or "H-101" in finding.evidence["round_outputs"][1]
    # It broke out: whatever it went round, it ended by its condition; pages read in turn are progress.
    assert findings(_loop_of_rounds(flip, limit=6, reason="loop_break"), "loop") == []
    onward = [_page(i, i, (i, i + 1), i + 1) for i in range(1, 7)]
    assert findings(_loop_of_rounds(onward, limit=6, reason="loop_completed"), "loop") == []


_PAGES = {"p1": ["order A-1", "order A-2"], "p2": ["order B-1"], "p3": ["order C-1"]}


def _accumulating(answers: list[tuple[str, str]]) -> list[list[dict[str, object]]]:
    """A loop's rounds following a cursor and keeping what it fetched: each round the orders API answers a page and
    the next page's cursor (`answers`), a code node adds the page's rows to the list so far and counts them, an
    assigner writes them back."""
    rounds: list[list[dict[str, object]]] = []
    rows: list[str] = []
    for answered, next_cursor in answers:
        page = _PAGES[answered]
        rows = [*rows, *page]
        body = json.dumps({"orders": page, "next": next_cursor})
        merged: dict[str, object] = {"rows": json.dumps(rows), "n": len(rows), "cursor": next_cursor}
        rounds.append([
            {"node_id": "orders", "node_type": "http-request", "inputs": {},
             "outputs": {"status_code": 200, "body": body}},
            {"node_id": "merge", "node_type": "code", "inputs": {"body": body}, "outputs": merged},
            {"node_id": "keep", "node_type": "assigner", "inputs": {}, "process_data": merged},
        ])  # fmt: skip
    return rounds


def test_a_loop_adding_the_same_page_again_every_round_is_stuck() -> None:
    """The API ignores the cursor and answers page 1 every round: the rounds differ only by the copies of its rows
    piled up and their count, which is no progress."""
    spans = _loop_of_rounds(_accumulating([("p1", "p2")] * 5), limit=5, reason="loop_completed")
    (finding,) = findings(spans, "loop")
    assert finding.evidence["rule"] == "a loop out of rounds adding the same results again"
    assert finding.evidence["repeats"] == 5
    (escape,) = findings(spans, "dify_iteration_escape")
    assert escape.evidence["identical"] == 5
    # Where Dify does not say why the loop ended (its export), rows added again are still no progress; a counter
    # alone may have been the break condition met at the last round.
    unsaid = _loop_of_rounds(_accumulating([("p1", "p2")] * 5), limit=5, reason=None)
    assert len(findings(unsaid, "loop")) == 1
    assert findings(_loop_of_rounds([_poll(i) for i in range(6)], limit=6, reason=None), "loop") == []
    # Pages read in turn, each adding its own rows, is progress; so is a loop that broke out on the last page.
    onward = _loop_of_rounds(_accumulating([("p1", "p2"), ("p2", "p3"), ("p3", "")]), limit=3, reason="loop_completed")
    assert findings(onward, "loop") == [] and findings(onward, "dify_iteration_escape") == []
    waited = _loop_of_rounds(_accumulating([("p1", "p2")] * 4 + [("p2", "")]), limit=5, reason="loop_break")
    assert findings(waited, "loop") == [] and findings(waited, "dify_iteration_escape") == []


def test_a_loop_adding_two_pages_in_turn_goes_round_the_same_states() -> None:
    """Page 2's `next` points back to page 1: the list grows every round, but by page 1's rows, then page 2's, again
    and again. A cycle is `loop`, not a container running away."""
    spans = _loop_of_rounds(_accumulating([("p1", "p2"), ("p2", "p1")] * 3), limit=6, reason="loop_completed")
    (finding,) = findings(spans, "loop")
    assert finding.evidence["rule"] == "a loop out of rounds going round the same states"
    assert (finding.evidence["period"], finding.evidence["repeats"]) == (2, 4)
    assert findings(spans, "dify_iteration_escape") == []
    # A status flipping while a figure grows by more than one a round (a delay measured) is no cycle of work.
    flipping: list[list[dict[str, object]]] = [
        [{"node_id": "status", "node_type": "code", "outputs": {"status": ["en route", "held"][i % 2], "delay": 5 * i}}]
        for i in range(6)
    ]
    assert findings(_loop_of_rounds(flipping, limit=6, reason="loop_completed"), "loop") == []


def test_an_iteration_over_one_section_a_model_repeated_in_the_json_a_code_node_parsed() -> None:
    """Dify's "Long Story Generator" template: an LLM writes the outline as JSON, a code node parses it, the iteration
    writes each section. A model stuck on one section (held-out 21's `en_story`) makes every round the same."""
    section = {"section": "Introduction", "bullets": "1. irregular income 2. slow months"}
    written = ["## Introduction\n\nIrregular income is the first worry."] * 10
    for selector in (True, False):
        (finding,) = findings(outline_then_iteration([section] * 10, written, selector), "loop")
        assert finding.evidence["rule"] == "every round alike over a model's list of one item repeated"
    assert findings(outline_then_iteration([section] * 10, written, model=False), "loop") == []

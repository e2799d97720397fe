from __future__ import annotations

import json
import random
from typing import Any

from bridge.dify.model import DifyEvent
from bridge.processors.detectors import Config, DetectionProcessor
from detectors import registry
from tests.detectors.build import container_after_producer, container_spans, findings, outline_then_iteration
from tests.detectors.corpus import container_run

KEY = "dify_iteration_escape"


def _container_run(
    kind: str,
    rounds: int,
    outputs: list[str] | None = None,
    items: int | None = None,
    limit: int | None = None,
    reason: str | None = None,
) -> list[Any]:
    outputs = outputs or [f"result {i}" for i in range(rounds)]
    return container_run(kind, rounds, outputs, rounds if items is None else items, limit or rounds, reason)


def test_more_rounds_than_the_limit() -> None:
    (finding,) = findings(_container_run("iteration", 12), "dify_iteration_escape", max_rounds=10)
    assert finding.severity == "high" and "12 rounds, over the limit of 10" in finding.summary


def test_more_rounds_than_items() -> None:
    (finding,) = findings(_container_run("iteration", 5, items=3), "dify_iteration_escape")
    assert "5 rounds over a list of 3 items" in finding.summary


def test_rounds_of_an_iteration_nested_in_another_are_not_the_outer_one_s() -> None:
    """Dify 1.14.1 streams the nodes of an iteration nested in another with the outer one's id and the inner one's
    round index (faults8's evening classes): the run is assembled with the outer, over 1 course, running 1 round
    (session 25's detector workaround, `_miscounted`, fired on no corpus or recording once the assembly read the
    nested iteration right, and is gone: session 26). Without the inner iteration, 3 rounds over 1 item are an
    overrun."""
    outer = {"id": "c", "node_id": "c", "node_type": "iteration", "title": "Courses", "created_at": 1}
    inner = {"id": "z", "node_id": "z", "node_type": "iteration", "title": "Lessons", "created_at": 2}
    lessons = ["mon 17-18", "wed 17-18", "fri 8-9"]

    def run(nested: bool) -> list[Any]:
        events = [DifyEvent("iteration_started", {**outer, "metadata": {"iteration_length": 1},
                                                  "inputs": {"iterator_selector": ["YOG-2"]}}, "r")]  # fmt: skip
        if nested:
            events.append(DifyEvent("iteration_started", {**inner, "metadata": {"iteration_length": 3},
                                                          "inputs": {"iterator_selector": lessons}}, "r"))  # fmt: skip
        for i, lesson in enumerate(lessons):
            if nested:
                events.append(DifyEvent("iteration_next", {**inner, "index": i}, "r"))
            meta = {"iteration_id": "c", "iteration_index": i}
            events.append(DifyEvent("node_finished", {"id": f"n{i}", "node_id": "line", "node_type": "code",
                                                      "title": "Line", "status": "succeeded", "created_at": 3 + i,
                                                      "outputs": {"text": f"Yoga: {lesson}"}, "iteration_id": "c",
                                                      "execution_metadata": meta}, "r"))  # fmt: skip
        if nested:
            events.append(DifyEvent("iteration_completed", {**inner, "status": "succeeded"}, "r"))
        return container_spans(events, "iteration", outer, None, {"output": [f"Yoga: {x}" for x in lessons]})

    assert findings(run(nested=True), KEY) == []
    (finding,) = findings(run(nested=False), KEY)
    assert finding.evidence["rule"] == "rounds > input items"


def test_a_loop_using_every_round_it_was_given_is_no_escape() -> None:
    """Dify stops a loop at its `loop_count`: one that used every round while progressing ran no round too many
    (a draft shortened each round, still over its limit at the cap), and a stuck one shows in its rounds."""
    assert findings(_container_run("loop", 6, limit=6, reason="loop_completed"), "dify_iteration_escape") == []
    (finding,) = findings(_container_run("loop", 6, outputs=["same"] * 6, limit=6, reason="loop_completed"), KEY)
    assert finding.evidence["identical"] == 6


def test_identical_rounds() -> None:
    spans = _container_run("loop", 4, outputs=["same"] * 4, limit=4, reason="loop_completed")
    (finding,) = findings(spans, "dify_iteration_escape")
    assert "identical outputs" in finding.summary


def test_long_progressing_batches_within_limits_are_fine() -> None:
    assert findings(_container_run("iteration", 99), "dify_iteration_escape") == []
    assert findings(_container_run("loop", 6, limit=10, reason="loop_break"), "dify_iteration_escape") == []
    assert findings(_container_run("loop", 2, outputs=["same"] * 2, limit=10), "dify_iteration_escape") == []


def test_an_iteration_over_one_repeated_item_is_no_stuck_container() -> None:
    repeated = container_run("iteration", 4, ["label: hub Berlin"] * 4, 4, 4, None, item="Berlin")
    assert findings(repeated, "dify_iteration_escape") == []  # the same work each round
    distinct = container_run("iteration", 4, ["label: hub Berlin"] * 4, 4, 4, None)
    assert findings(distinct, "dify_iteration_escape") == []  # four items, one output: four jobs alike (below)


def test_a_model_s_list_of_one_item_again_and_again_is_no_job_asked_for() -> None:
    """A parameter extractor gives one item seven times: seven identical price lookups (faults9's `stav_repeat`).
    The same list from the app's own code is the job asked for. Read alike where Dify's export leaves out the
    iteration's input (`selector` None): the extractor's own list says the same."""
    listed, outputs = ["cement"] * 7, ["cement: 189 CZK"] * 7
    for selector in (listed, None):
        (finding,) = findings(
            container_after_producer(listed, selector, outputs, producer="parameter-extractor"), "dify_iteration_escape"
        )
        assert finding.evidence["identical"] == 7
        assert findings(container_after_producer(listed, selector, outputs), "dify_iteration_escape") == []


def test_an_iteration_over_the_characters_of_a_text() -> None:
    letters = list("Einleitung; Hauptteil; Schluss")
    spans = container_run(
        "iteration", len(letters), [f"{c}..." for c in letters], len(letters), 50, None, selector=letters
    )
    (finding,) = findings(spans, "dify_iteration_escape")
    assert finding.evidence["text"] == "Einleitung; Hauptteil; Schluss" and finding.evidence["rounds"] == 30
    for meant in (list("ABCDEFGHIJKL"), list("春眠不觉晓处处闻啼鸟"), ["intro", "body", "end"] * 4):
        spans = container_run("iteration", len(meant), [f"{i}" for i in range(len(meant))], len(meant), 50, None,
                              selector=meant)  # fmt: skip
        assert findings(spans, "dify_iteration_escape") == [], meant


def test_an_iteration_over_a_list_multiplied_on_its_way_from_its_producer() -> None:
    walls = [{"wall": "north", "m2": 12}, {"wall": "east", "m2": 9}]
    padded = [walls[0], walls[1]] + [walls[1]] * 8  # the second wall ten times over
    (finding,) = findings(container_after_producer(walls, padded, [f"paint {i}" for i in range(10)]), KEY)
    assert finding.evidence["rule"] == "iteration items multiply an earlier list's"
    assert finding.evidence["items"] == 10 and "north" in finding.evidence["produced"]
    by_week = [{**wall, "week": week} for wall in walls for week in range(1, 5)]  # each wall, 4 weeks
    assert [
        f.evidence["rule"] for f in findings(container_after_producer(walls, by_week, [f"w{i}" for i in range(8)]), KEY)
    ] == ["iteration items multiply an earlier list's"]


def test_an_iteration_over_the_list_its_producer_gave_is_fine_however_it_repeats() -> None:
    stock = ["bolt", "bolt", "nut", "bolt", "washer", "bolt", "nut", "bolt"]
    assert findings(container_after_producer(stock, stock, [f"pick {s}" for s in stock]), KEY) == []
    # Records sharing one or two fields with a short list are other records, not that list multiplied.
    shops = [{"city": "Lyon", "open": True}]
    orders = [{"city": "Lyon", "open": True, "id": i, "sku": "A", "qty": 2} for i in range(9)]
    assert findings(container_after_producer(shops, orders, [f"order {i}" for i in range(9)]), KEY) == []


def test_rounds_over_the_bound_the_run_was_given() -> None:
    spans = container_after_producer([], [], ["a", "b", "c", "d", "e"], {"maxRetries": 3}, kind="loop", limit=10,
                            reason="loop_break")  # fmt: skip
    (finding,) = findings(spans, KEY)
    assert finding.evidence["rule"] == "rounds > the run input that bounds them" and finding.evidence["limit"] == 3
    # The loop's own limit is the bound: Dify stops it there; a count not about rounds bounds nothing.
    assert findings(container_after_producer([], [], ["a", "b", "c"], {"max_attempts": 3}, kind="loop", limit=3,
                                    reason="loop_break"), KEY) == []  # fmt: skip
    assert findings(container_after_producer([], [], ["a", "b", "c", "d"], {"max_price": 2}, kind="loop", limit=10,
                                    reason="loop_break"), KEY) == []  # fmt: skip


def test_a_stuck_stretch_of_loop_rounds_unless_it_broke_out_at_last() -> None:
    outputs = ["draft 1", "same", "same", "same", "final"]
    (finding,) = findings(container_after_producer([], [], outputs, kind="loop", limit=5, reason="loop_completed"), KEY)
    assert finding.evidence["identical"] == 3
    # It reached its break condition (said by Dify, or, unsaid as in its export, succeeded before its `loop_count`):
    # it waited. A loop stopped early broke out of nothing (examples/runs/loop_stopped.sse: a poll stopped by hand).
    assert findings(container_after_producer([], [], outputs, kind="loop", limit=10, reason="loop_break"), KEY) == []
    assert findings(container_after_producer([], [], outputs, kind="loop", limit=10), KEY) == []
    # Two alike in a row is no stretch; an iteration's rounds alike only in part are independent items.
    assert (
        findings(
            container_after_producer([], [], ["a", "b", "b", "c"], kind="loop", limit=10, reason="loop_break"), KEY
        )
        == []
    )
    assert findings(container_after_producer([], list(range(5)), ["a", "b", "b", "b", "c"]), KEY) == []


def test_a_variable_selector_given_as_the_input_is_no_list_of_two_items() -> None:
    """`["step", "out"]` names the node and variable a list is read from (an app's configuration): five rounds
    over it are no overrun. Two items that name no node of the run are a list, and five rounds overrun it."""
    outputs = [f"row {i}" for i in range(5)]
    for selector in (["step", "out"], ["sys", "files"]):
        assert findings(container_run("iteration", 5, outputs, 5, 50, None, selector=selector), KEY) == [], selector
    (finding,) = findings(container_run("iteration", 5, outputs, 5, 50, None, selector=["north", "east"]), KEY)
    assert finding.evidence["rule"] == "rounds > input items" and finding.evidence["items"] == 2


def test_rounds_as_many_as_dify_counted_over_a_selector_s_names_are_no_overrun() -> None:
    """Dify counts the iteration's list when it starts (`iteration_length`): five rounds of a list it counted five
    items long ran over all of it, though the inputs show the selector it was read by (`["start", "articles"]`, as a
    writer of streams put it); counted four, the fifth round is an overrun still, and a shorter list of values is
    one whatever the count."""
    outputs = [f"row {i}" for i in range(5)]
    assert findings(container_run("iteration", 5, outputs, 5, 5, None, selector=["start", "articles"]), KEY) == []
    for limit, selector in ((4, ["start", "articles"]), (5, ["North Sea", "East Coast"])):
        (finding,) = findings(container_run("iteration", 5, outputs, 5, limit, None, selector=selector), KEY)
        assert finding.evidence["rule"] == "rounds > input items", (limit, selector)


def test_more_rounds_than_the_length_dify_counted_when_the_list_is_not_readable() -> None:
    # The input names where the list comes from (no list to count): Dify's own count of the list, taken
    # when the iteration started, is what the rounds are held to.
    drafts = ["intro", "body", "close"]
    pointer = ["parts", "drafts"]
    runaway = container_after_producer(drafts, pointer, [f"draft {i}" for i in range(7)], limit=3)
    (finding,) = findings(runaway, KEY)
    assert finding.evidence["rule"] == "rounds > the iteration's list length"
    assert (finding.evidence["rounds"], finding.evidence["items"]) == (7, 3)
    assert findings(container_after_producer(drafts, pointer, ["a", "b", "c"], limit=3), KEY) == []


def test_a_loop_past_its_own_loop_count() -> None:
    """A loop's `loop_count` bounds its rounds, break condition or not: nine rounds of six overran it."""
    overran = findings(_container_run("loop", 9, limit=6, reason="loop_break"), KEY)
    assert [f.evidence["rule"] for f in overran] == ["rounds > the loop's loop_count"]
    assert (overran[0].evidence["rounds"], overran[0].evidence["loop_length"]) == (9, 6)
    assert findings(_container_run("loop", 6, limit=6, reason="loop_break"), KEY) == []


def _iteration_after(
    first: DifyEvent, items: list[str], results: list[str], exported: bool = False, fetch: bool = False
) -> list[Any]:
    """A run of the node `first`, then an iteration over `items` whose rounds give `results` (`exported`: its list
    left out, as Dify's export leaves it; each round's first node is given its item; `fetch`: that node an HTTP
    request answering the result)."""
    base = {"id": "c", "node_id": "c", "node_type": "iteration", "title": "Per result", "created_at": 2}
    listed = {} if exported else {"inputs": {"iterator_selector": items}}
    events = [
        DifyEvent("workflow_started", {"inputs": {}, "created_at": 0}, "r"),
        first,
        DifyEvent("iteration_started", {**base, "metadata": {"iteration_length": len(items)}, **listed}, "r"),
    ]
    for i, (item, result) in enumerate(zip(items, results, strict=True)):
        meta = {"iteration_id": "c", "iteration_index": i}
        kind, out = ("http-request", {"status_code": 200, "body": result}) if fetch else ("code", {"text": result})
        events.append(DifyEvent("node_finished", {"id": f"n{i}", "node_id": "read", "node_type": kind,
                                                  "title": "Read", "status": "succeeded", "created_at": 3 + i,
                                                  "inputs": {"id": item}, "outputs": out,
                                                  "iteration_id": "c", "execution_metadata": meta}, "r"))  # fmt: skip
    return container_spans(events, "iteration", base, None, {"output": results})


def _search_then_iteration(
    request: str, returned: int, items: list[str], results: list[str] | None = None, at: int = 1
) -> list[Any]:
    """An HTTP search sent as `request`, answering `returned` results, then an iteration over `items` (the search
    timed `at`: the iteration starts at 2)."""
    hits = [{"id": f"doc-{i}", "title": f"Finding {i}"} for i in range(returned)]
    answer = {"status_code": 200, "body": json.dumps({"hits": hits})}
    search = DifyEvent("node_finished", {"id": "s", "node_id": "search", "node_type": "http-request", "title": "Search",
                                         "status": "succeeded", "created_at": at, "inputs": {},
                                         "process_data": {"request": request}, "outputs": answer}, "r")  # fmt: skip
    return _iteration_after(search, items, results or [f"about {item}" for item in items])


def test_an_iteration_far_past_the_rounds_its_app_usually_runs_giving_the_same_results_again() -> None:
    def processor() -> DetectionProcessor:
        return DetectionProcessor(Config.model_validate({k: {"enabled": False} for k in registry() if k != KEY}))

    def run(rounds: int, distinct: int) -> list[Any]:
        get = "GET /feed HTTP/1.1\r\n\r\n"  # asks for no size: only the app's usual judges
        return _search_then_iteration(get, rounds, [f"doc-{i}" for i in range(rounds)],
                                      [f"summary {i % distinct}" for i in range(rounds)])  # fmt: skip

    few = processor()
    for _ in range(4):
        assert few.detect(run(3, 3)) == []
    assert few.detect(run(24, 3)) == []  # four runs known: too few to judge by
    app = processor()
    for _ in range(5):
        assert app.detect(run(3, 3)) == []
    (finding,) = app.detect(run(24, 3))
    assert finding.evidence["rule"] == "rounds > usual_factor x the app's most rounds, results repeating"
    evidence = finding.evidence
    assert (evidence["rounds"], evidence["usual_most"], evidence["cycle"]) == (24, 3, 3)
    (again,) = app.detect(run(18, 3))  # the runaway of 24 was not learned as usual
    assert again.evidence["usual_most"] == 3
    # Labels recurring in no order (three categories over 30 tickets, ten times the usual, not from the search) are
    # a larger job's results, not a cycle.
    pick = random.Random(7).choice
    labels = [pick(["billing", "delivery", "refund"]) for _ in range(30)]
    tickets = _search_then_iteration("GET /feed HTTP/1.1\r\n\r\n", 3, [f"doc-{i}" for i in range(30)], labels)
    assert app.detect(tickets) == []
    assert app.detect(run(12, 3)) == []  # below five times the 30 just learned


def test_an_iteration_over_more_results_than_its_search_asked_for() -> None:
    ids = [f"doc-{i}" for i in range(12)]
    get = "GET /v2/find?q=heat pumps&limit=3 HTTP/1.1\r\nHost: news.example\r\n\r\n"
    (finding,) = findings(_search_then_iteration(get, 12, ids), KEY)
    assert finding.evidence["rule"] == "rounds > the size an earlier node asked for"
    assert (finding.evidence["parameter"], finding.evidence["asked"], finding.evidence["returned"]) == ("limit", 3, 12)
    post = 'POST /v2/find HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"q": "heat pumps", "max_results": 4}'
    assert [f.evidence["asked"] for f in findings(_search_then_iteration(post, 12, ids), KEY)] == [4]
    # Asked for 20, got 12: within the size asked for.
    assert findings(_search_then_iteration(get.replace("limit=3", "limit=20"), 12, ids), KEY) == []
    # The search kept to its 3; the iteration's twelve items came from elsewhere.
    assert findings(_search_then_iteration(get, 3, [f"part-{i}" for i in range(12)]), KEY) == []


def _herd_then_iteration(url: str, ids: list[str]) -> list[Any]:
    """An HTTP node recorded with its URL among its inputs and no request, answering `ids`, then an iteration over
    them."""
    answer = {"status_code": 200, "body": json.dumps({"cows": ids})}
    herd = DifyEvent("node_finished", {"id": "h", "node_id": "herd", "node_type": "http-request", "title": "Herd",
                                       "status": "succeeded", "created_at": 1, "inputs": {"url": url},
                                       "outputs": answer}, "r")  # fmt: skip
    return _iteration_after(herd, ids, [f"{cow}: 31.5 kg" for cow in ids])


def test_the_size_asked_is_read_from_the_url_among_an_http_nodes_inputs_when_no_request_is_recorded() -> None:
    """A recorder that keeps no request (`process_data`) keeps the URL among the HTTP node's inputs: `limit=10`
    asked there and 36 records answered is a source past its size; `limit=60` and 36 answered is the job asked
    for, also for the app's usual rounds (six times its usual 6)."""

    def run(url: str, returned: int) -> list[Any]:
        return _herd_then_iteration(url, [f"cow-{i}" for i in range(returned)])

    flood = run("https://herd.example/groups?name=milking b&limit=10", 36)
    (finding,) = findings(flood, KEY)
    assert finding.evidence["rule"] == "rounds > the size an earlier node asked for"
    assert (finding.evidence["parameter"], finding.evidence["asked"], finding.evidence["returned"]) == ("limit", 10, 36)
    app = DetectionProcessor(Config.model_validate({k: {"enabled": False} for k in registry() if k != KEY}))
    for _ in range(5):
        assert app.detect(run("https://herd.example/groups?name=heifers&limit=10", 6)) == []
    assert app.detect(run("https://herd.example/groups?name=barn&limit=60", 36)) == []


def test_an_iteration_over_an_outside_answer_serving_one_block_again_and_again() -> None:
    """A source ignoring its paging answers the same 9 records 4 times in order, and the iteration runs over them
    all, whatever size was asked (none here). Twice may be a schedule's two weeks."""
    group = [f"cow-{i}" for i in (4821, 1307, 5530, 2094, 7718, 6602, 3145, 9987, 1450)]
    (finding,) = findings(_herd_then_iteration("https://herd.example/groups?name=b", group * 4), KEY)
    evidence = finding.evidence
    assert evidence["rule"] == "iteration items are an outside answer's own list of one block repeated whole in order"
    assert (evidence["rounds"], evidence["repeated"], evidence["source"]) == (36, 9, "Herd")
    assert findings(_herd_then_iteration("https://herd.example/groups?name=b", group * 2), KEY) == []


def test_an_iteration_over_more_records_than_its_tool_was_asked_for() -> None:
    records = [{"sku": f"P-{i}", "name": f"Part {i}"} for i in range(15)]
    asked = {"query": "bolts", "top_k": 5}
    lookup = DifyEvent("node_finished", {"id": "t", "node_id": "parts", "node_type": "tool", "title": "Parts lookup",
                                         "status": "succeeded", "created_at": 1, "inputs": asked,
                                         "outputs": {"text": "", "json": records}}, "r")  # fmt: skip
    skus = [record["sku"] for record in records]
    (finding,) = findings(_iteration_after(lookup, skus, [f"{sku}: in stock" for sku in skus]), KEY)
    evidence = finding.evidence
    assert (evidence["asked_by"], evidence["parameter"], evidence["asked"], evidence["returned"]) == (
        "Parts lookup",
        "top_k",
        5,
        15,
    )


def test_an_iteration_over_items_a_code_node_wrote_from_more_records_than_were_asked_for() -> None:
    """A code node makes each record a line (`title (id)`): the iteration's items are written from the answer's
    records, one round per record, or from some of them (a filter), and still more than the `limit` asked for."""
    get = "GET /exhibits?hall=3&limit=6 HTTP/1.1\r\n\r\n"
    lines = [f"Finding {i} (doc-{i})" for i in range(14)]
    (each,) = findings(_search_then_iteration(get, 14, [f"#{i}" for i in range(14)]), KEY)
    assert (each.evidence["asked"], each.evidence["returned"], each.evidence["rounds"]) == (6, 14, 14)
    (some,) = findings(_search_then_iteration(get, 14, lines[1:11]), KEY)
    assert (some.evidence["asked"], some.evidence["returned"], some.evidence["rounds"]) == (6, 14, 10)
    # Ten items of another list, not written from the answer's records, came from elsewhere.
    assert findings(_search_then_iteration(get, 14, [f"part {i}" for i in range(10)]), KEY) == []


def test_a_source_that_kept_to_the_size_it_was_asked_for_is_no_runaway() -> None:
    """A large hall asked for with `limit=40` answers 30 exhibits, six times the app's usual: the job asked for."""
    app = DetectionProcessor(Config.model_validate({k: {"enabled": False} for k in registry() if k != KEY}))
    get = "GET /exhibits?hall=3&limit=40 HTTP/1.1\r\n\r\n"
    for rounds in (5, 4, 5, 6, 5):
        assert app.detect(_search_then_iteration(get, rounds, [f"doc-{i}" for i in range(rounds)])) == []
    assert app.detect(_search_then_iteration(get, 30, [f"doc-{i}" for i in range(30)])) == []


def test_an_iteration_far_past_its_usual_rounds_over_the_list_an_outside_source_answered() -> None:
    """A feed ignoring its date filter or limit: 29 rounds where the app runs 5, over the 29 products the feed
    answered. The same 29 items from elsewhere (the run's inputs) are the job the user asked for."""
    app = DetectionProcessor(Config.model_validate({k: {"enabled": False} for k in registry() if k != KEY}))
    feed = "GET /feed?category=desks HTTP/1.1\r\n\r\n"  # asks for no size: only the app's usual judges

    def run(returned: int, rounds: int) -> list[Any]:
        return _search_then_iteration(feed, returned, [f"doc-{i}" for i in range(rounds)])

    for rounds in (5, 4, 5, 6, 5):
        assert app.detect(run(rounds, rounds)) == []
    assert app.detect(run(11, 11)) == []  # twice the usual: a busy day
    (finding,) = app.detect(run(29, 29))
    assert finding.evidence["rule"] == "rounds > usual_factor x the app's usual rounds, over an outside answer's list"
    evidence = finding.evidence
    assert (evidence["rounds"], evidence["usual_rounds"], evidence["usual_most"], evidence["source"]) == (
        29,
        5,
        11,
        "Search",
    )
    assert app.detect(run(5, 29)) == []  # the source kept to its size: the items came from elsewhere


def test_an_iteration_past_three_times_a_most_its_app_kept_to_in_several_runs_over_an_outside_answer() -> None:
    """Dify's export records no HTTP node's request, so a `limit=6` the source ignored is not read there: the app's
    own runs show it, its lists never past 6 though 6 came back again and again (a cap). 19 rounds over the 19 lines
    the source answered broke it, though under five times the usual; 18 is a long report (held-out 4's long
    listings ran 2.1-2.4 times theirs), and past a most reached once, no cap is known."""

    def run(rounds: int) -> list[Any]:
        return _search_then_iteration("GET /lines HTTP/1.1\r\n\r\n", rounds, [f"doc-{i}" for i in range(rounds)])

    def app(history: tuple[int, ...]) -> DetectionProcessor:
        detector = DetectionProcessor(Config.model_validate({k: {"enabled": False} for k in registry() if k != KEY}))
        for rounds in history:
            assert detector.detect(run(rounds)) == []
        return detector

    history = (3, 6, 5, 6, 4, 6, 5)
    assert app(history).detect(run(18)) == []
    (finding,) = app(history).detect(run(19))
    evidence = finding.evidence
    assert evidence["rule"] == "rounds > 3 x the most the app ran, a cap, over an outside answer's list"
    assert (evidence["rounds"], evidence["usual_most"], evidence["runs_at_most"], evidence["source"]) == (
        19,
        6,
        3,
        "Search",
    )
    assert app((3, 5, 5, 6, 4, 5, 5)).detect(run(19)) == []  # 6 reached once: no cap shown


def test_an_outside_list_of_exactly_the_rounds_run_counts_wherever_the_run_times_it() -> None:
    """Dify 1.14.1's export of an iteration nested in another times the inner one before the outer round whose HTTP
    node answered its list (faults8's `aftenskole_flood`): an answer of exactly the rounds run is their source still;
    one of another size timed after the iteration is not."""
    app = DetectionProcessor(Config.model_validate({k: {"enabled": False} for k in registry() if k != KEY}))
    feed = "GET /feed?category=desks HTTP/1.1\r\n\r\n"

    def run(returned: int, rounds: int, at: int) -> list[Any]:
        return _search_then_iteration(feed, returned, [f"doc-{i}" for i in range(rounds)], at=at)

    for rounds in (5, 4, 5, 6, 5):
        assert app.detect(run(rounds, rounds, 1)) == []
    (finding,) = app.detect(run(29, 29, 90))
    assert (finding.evidence["source"], finding.evidence["received"]) == ("Search", 29)
    assert app.detect(run(40, 29, 90)) == []


def test_an_iteration_over_a_list_repeated_whole_in_order() -> None:
    departures = ["06:10 Napoli → Capri", "07:40 Napoli → Ischia", "09:05 Sorrento → Capri"]
    twice = departures * 2  # page 1 read twice
    spans = _search_then_iteration("GET /departures HTTP/1.1\r\n\r\n", 3, twice)
    (finding,) = findings(spans, KEY)
    assert finding.evidence["rule"] == "iteration items are an outside answer's list repeated whole in order"
    assert (finding.evidence["items"], finding.evidence["repeated"], finding.evidence["source"]) == (6, 3, "Search")
    # Items recurring out of order, one item over and over, or letters: the list's own; and a block no source
    # answered (a plan's three steps, four times) is the plan.
    for items in (["a1", "b2", "b2", "a1"], ["bolt"] * 6, list("abab")):
        assert findings(_search_then_iteration("GET /x HTTP/1.1\r\n\r\n", 3, items), KEY) == [], items
    assert findings(_search_then_iteration("GET /x HTTP/1.1\r\n\r\n", 5, twice), KEY) == []


def _roster(pupils: list[str]) -> DifyEvent:
    answer = {"status_code": 200, "body": json.dumps({"pupils": pupils})}
    data = {"id": "h", "node_id": "roster", "node_type": "http-request", "title": "Roster", "status": "succeeded"}
    return DifyEvent("node_finished", {**data, "created_at": 1, "inputs": {}, "outputs": answer}, "r")


def test_rounds_over_different_items_alike_in_their_results_are_independent_jobs() -> None:
    """A model giving one verdict for every pupil (held-out 16's school report: 72 clean runs flagged) did each job
    it was given; a stuck iteration repeats its item. Read alike where Dify's export leaves the list out: each round's
    first node was given its pupil. Where the export shows every round given the same, the rounds are alike."""
    pupils = ["Kavitha (21): 81, 70", "Karthik (25): 55, 36", "Rajesh (39): 69, 93", "Priya (74): 44, 80"]
    verdict = ["Good effort; keep practising."] * 4
    for exported in (False, True):
        assert findings(_iteration_after(_roster(pupils), pupils, verdict, exported), KEY) == [], exported
    (finding,) = findings(_iteration_after(_roster(pupils[:1]), pupils[:1] * 4, verdict, exported=True), KEY)
    assert finding.evidence["rule"] == "rounds in a row (>= identical_rounds, 3) gave the same outputs"
    assert finding.evidence["identical"] == 4
    # The first pupil's report given for every pupil (held-out 5's outages: the first town's figures four times)
    # repeats the first item's result: stuck, both ways in.
    first = ["Kavitha (21): 81 in Tamil, 70 in maths."] * 4
    for exported in (False, True):
        (finding,) = findings(_iteration_after(_roster(pupils), pupils, first, exported), KEY)
        assert finding.evidence["identical"] == 4, exported


def test_an_iteration_over_an_outside_answer_giving_each_record_again_in_a_row() -> None:
    """The order list answers each id three times (faults10's `celler_tripled`): six rounds for two orders, every
    copy's round alike, found both ways in (the export by the answer's own list). Twice each may be two tickets of a
    kind; copies whose rounds differ did more than repeat; a list the run's own code made is the job asked for."""
    orders = ["C-401"] * 3 + ["C-402"] * 3
    rows = ["| C-401 | Brut Rosat | 12 |"] * 3 + ["| C-402 | Gran Reserva | 18 |"] * 3
    for exported in (False, True):
        (finding,) = findings(_iteration_after(_roster(orders), orders, rows, exported), KEY)
        evidence = finding.evidence
        assert (
            evidence["rule"]
            == "iteration items are an outside answer's records each given again in a row, rounds alike"
        )
        assert (evidence["rounds"], evidence["records"], evidence["times"], evidence["source"]) == (6, 2, 3, "Roster")
    twice = ["C-401", "C-401", "C-402", "C-402", "C-403", "C-403"]
    assert findings(_iteration_after(_roster(twice), twice, [f"row {o}" for o in twice]), KEY) == []
    assert findings(_iteration_after(_roster(orders), orders, [f"row {i}" for i in range(6)]), KEY) == []
    made = {"id": "k", "node_id": "ids", "node_type": "code", "title": "Ids", "status": "succeeded", "created_at": 1}
    code = DifyEvent("node_finished", {**made, "inputs": {}, "outputs": {"ids": orders}}, "r")
    assert findings(_iteration_after(code, orders, rows), KEY) == []


def test_an_outside_list_of_ids_each_given_twice_every_round_fetching_its_record_anew() -> None:
    """The departures list answers each id twice after a re-index (faults12's `fo_dup_reindex`): six rounds for three
    ferries, each round requesting its departure again, found both ways in. Twice each worked without a request (two
    tickets of a kind priced by the run's code) or over words rather than ids (`adult`, `adult`) is left alone."""
    ids = ["S-1", "S-1", "S-2", "S-2", "S-3", "S-3"]
    bodies = [f'{{"id": "{i}", "time": "{9 + n // 2}:25"}}' for n, i in enumerate(ids)]
    for exported in (False, True):
        (finding,) = findings(_iteration_after(_roster(ids), ids, bodies, exported, fetch=True), KEY)
        evidence = finding.evidence
        assert (evidence["rounds"], evidence["records"], evidence["times"]) == (6, 3, 2), exported
    assert findings(_iteration_after(_roster(ids), ids, bodies), KEY) == []
    kinds = ["adult", "adult", "child", "child"]
    assert findings(_iteration_after(_roster(kinds), kinds, [f"fare {k}" for k in kinds], fetch=True), KEY) == []


_OUTLINE = [{"section": "Where we started", "bullets": "1. the billing module 2. clear boundaries"},
            {"section": "Pain points", "bullets": "1. distributed debugging 2. data ownership"},
            {"section": "What we kept", "bullets": "1. the reporting jobs 2. one database"}]  # fmt: skip


def test_a_model_s_outline_written_twice_over() -> None:
    """The outline model wrote its JSON list again after itself (held-out 21's `en_story`): the iteration writes every
    section twice, each time in other words. Read from the iteration's list or, where Dify's export leaves it out,
    from the list the code node parsed, its rounds given the same sections again."""
    doubled = _OUTLINE * 2
    written = [f"## {item['section']}\n\nDraft {i}." for i, item in enumerate(doubled)]
    for selector in (True, False):
        (finding,) = findings(outline_then_iteration(doubled, written, selector), KEY)
        assert finding.evidence["rule"] == "iteration items are a model's list repeated whole in order"
        assert finding.evidence["repeated"] == 3 and finding.evidence["written_by"] == "llm"
    # The app's own code repeating a list, a longer outline of distinct sections, and short labels are left alone.
    assert findings(outline_then_iteration(doubled, written, model=False), KEY) == []
    longer = [{**item, "part": part} for part in (1, 2) for item in _OUTLINE]
    assert findings(outline_then_iteration(longer, written), KEY) == []
    days = ["Mon", "Tue", "Mon", "Tue"]
    assert findings(outline_then_iteration(days, [f"plan {i}" for i in range(4)]), KEY) == []


def test_a_model_stuck_on_one_section_through_the_code_node_that_parsed_it() -> None:
    """The outline model gave one section nine times and the code node parsed its text: every round writes the same
    text. The code node passes the model's list on; the app's own code giving it is the job asked for."""
    stuck, written = [_OUTLINE[0]] * 9, ["## Where we started\n\nThe billing module came first."] * 9
    for selector in (True, False):
        (finding,) = findings(outline_then_iteration(stuck, written, selector), KEY)
        assert finding.evidence["identical"] == 9
    assert findings(outline_then_iteration(stuck, written, model=False), KEY) == []

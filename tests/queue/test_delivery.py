"""Deliveries against a real OTLP receiver on 127.0.0.1 that fails on demand: retries, dead letters,
request splitting, and exporters that do not hold each other back."""

from __future__ import annotations

import collections
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from msgspec.structs import replace

from bridge.config.loader import parse_config
from bridge.dify.model import WorkflowRun
from bridge.dify.webhook_payload import normalize_webhook
from bridge.queue.errors import QueueError
from bridge.service.service import BridgeService
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, load_run, spans_of

RUN = load_run(CAPTURES / "a_llm_simple.sse")
FAST_RETRY = "retry_on_failure: {initial_interval: 20ms, max_interval: 100ms}"


def _runs(count: int) -> list[WorkflowRun]:
    return [replace(RUN, run_id=str(uuid.uuid4())) for _ in range(count)]


def _wait(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[..., BridgeService]]:
    services: list[BridgeService] = []

    def make(exporters: str, pipelines: str = "traces: {processors: [batch], exporters: [otlp]}",
             batch: str = "{timeout: 10ms}", processors: str = "") -> BridgeService:  # fmt: skip
        config = parse_config(
            f"exporters: {exporters}\n"
            f"processors: {{batch: {batch}{', ' + processors if processors else ''}}}\n"
            f"service: {{queue: {{path: '{tmp_path / 'queue.db'}'}}, pipelines: {{{pipelines}}}}}\n"
        )
        services.append(BridgeService(config))
        return services[-1]

    yield make
    for service in services:
        service.shutdown(timeout=0)


def _span_ids(sink: OtlpSink) -> list[str]:
    return [s.span_id for s in sink.spans()]


def test_backend_down_then_up_every_span_arrives_once(make_service: Callable[..., BridgeService]) -> None:
    with OtlpSink() as sink:
        pass  # its ports, closed for now: the backend is down
    service = make_service(f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}, {FAST_RETRY}}}}}")
    spans = sum(service.submit_run(run) for run in _runs(20))
    time.sleep(0.3)
    assert service.deliveries["otlp"].last_ok is False and service.storage.queued_bytes > 0
    with OtlpSink(sink.grpc_port, sink.http_port) as revived:
        assert service.flush(15)
        ids = _span_ids(revived)
    assert len(ids) == spans == len(set(ids))


def test_a_refused_trace_goes_to_the_dead_letters_and_the_rest_flows(
    make_service: Callable[..., BridgeService],
) -> None:
    with OtlpSink() as sink:
        runs = _runs(10)
        sink.refuse_traces({runs[3].run_id.replace("-", "")}, grpc_code=grpc.StatusCode.INVALID_ARGUMENT)
        service = make_service(f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}}}}}",
                               batch="{timeout: 1s, send_batch_size: 1000}")  # fmt: skip
        counts = [service.submit_run(run) for run in runs]
        assert service.flush(15)
        arrived = {s.trace_id for s in sink.spans()}
    assert arrived == {r.run_id.replace("-", "") for i, r in enumerate(runs) if i != 3}
    (letter,) = service.storage.dead_letters()
    assert letter.exporter == "otlp" and letter.spans == counts[3]
    assert letter.reason.startswith("gRPC INVALID_ARGUMENT") and "injected failure" in letter.reason
    assert service.deliveries["otlp"].dead_spans == counts[3]


def test_partial_success_dead_letters_the_request_with_the_count(make_service: Callable[..., BridgeService]) -> None:
    with OtlpSink() as sink:
        sink.partial_next(2)
        service = make_service(f"{{otlphttp: {{endpoint: '{sink.http_base}'}}}}",
                               "traces: {processors: [batch], exporters: [otlphttp]}")  # fmt: skip
        spans = service.submit_run(_runs(1)[0])
        assert service.flush(10)
    (letter,) = service.storage.dead_letters()
    assert letter.reason == f"partial success: the backend rejected 2 of {spans} spans: injected partial success"
    assert service.deliveries["otlphttp"].delivered_spans == spans - 2


def test_retries_give_up_after_max_elapsed_time(make_service: Callable[..., BridgeService]) -> None:
    with OtlpSink() as sink:
        sink.fail_next(10_000, http_status=503)
        service = make_service(
            f"{{otlphttp: {{endpoint: '{sink.http_base}', retry_on_failure: "
            "{initial_interval: 10ms, max_interval: 20ms, max_elapsed_time: 200ms}}}",
            "traces: {processors: [batch], exporters: [otlphttp]}",
        )
        service.submit_run(_runs(1)[0])
        _wait(lambda: bool(service.storage.dead_letters()))
    (letter,) = service.storage.dead_letters()
    assert letter.reason.startswith("gave up after 0.2s: HTTP 503")
    assert sink.refused >= 3  # it did retry before giving up


def test_retry_after_from_the_backend_is_honoured(make_service: Callable[..., BridgeService]) -> None:
    with OtlpSink() as sink:
        sink.fail_next(1, grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED, retry_after=1.0)
        service = make_service(f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}, {FAST_RETRY}}}}}")
        start = time.monotonic()
        service.submit_run(_runs(1)[0])
        assert service.flush(10)
        took = time.monotonic() - start
    assert sink.refused == 1 and len(sink.spans()) > 0
    assert took >= 0.95  # not the 20 ms of its own backoff


def test_a_trace_larger_than_one_request_is_split_to_fit(make_service: Callable[..., BridgeService]) -> None:
    with OtlpSink() as sink:
        service = make_service(
            f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}, max_request_bytes: 4096}}}}"
        )
        run = load_run(CAPTURES / "b_iteration_ifelse_http.sse")
        spans = service.submit_run(run)
        assert service.flush(10)
        sizes = [request.ByteSize() for _, request, _ in sink.requests]
        ids = _span_ids(sink)
    assert len(sizes) > 1 and max(sizes) <= 4096
    assert len(ids) == spans == len(set(ids))


def test_a_span_over_the_limit_arrives_with_its_longest_texts_cut_and_says_so(
    make_service: Callable[..., BridgeService],
) -> None:
    """Red-team finding: a span over `max_request_bytes` was dead-lettered whole, none of it sent."""
    start, llm, end = RUN.nodes
    answer = "The answer, long: " + "é" * 150_000  # two bytes a character: cuts must fall between characters
    run = replace(
        RUN, run_id=str(uuid.uuid4()), nodes=[start, replace(llm, outputs={**(llm.outputs or {}), "text": answer}), end]
    )
    with OtlpSink() as sink:
        service = make_service(
            f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}, max_request_bytes: 65536}}}}",
            "traces: {processors: [reduce, batch], exporters: [otlp]}",
            processors="reduce: {content: full}",
        )
        spans = service.submit_run(run)
        assert service.flush(10)
        received = sink.spans()
        sizes = [request.ByteSize() for _, request, _ in sink.requests]
    assert service.storage.dead_letters() == []
    assert len(received) == spans and max(sizes) <= 65536
    (cut,) = [span for span in received if "dify.bridge.cut_attributes" in span.attributes]
    assert cut.attributes["dify.bridge.cut_attributes"] == ["output.value", "llm.output_messages.0.message.content"]
    output = cut.attributes["output.value"]
    prefix = '{"text":"The answer, long: '  # the node's outputs as JSON
    assert output == prefix + "é" * (len(output) - len(prefix) - 1) + "…" and len(output.encode()) > 25_000
    untouched = [span for span in received if span is not cut]
    assert all(not str(value).endswith("…") for span in untouched for value in span.attributes.values())


def test_a_single_span_over_the_limit_is_dead_lettered_with_its_size(
    make_service: Callable[..., BridgeService],
) -> None:
    with OtlpSink() as sink:
        service = make_service(
            f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}, max_request_bytes: 1025}}}}"
        )
        service.submit_run(_runs(1)[0])
        assert service.flush(10)
    assert sink.requests == [] or all(r.ByteSize() <= 1025 for _, r, _ in sink.requests)
    letters = service.storage.dead_letters()
    assert letters and all("exceeds max_request_bytes (1025)" in letter.reason for letter in letters)


def test_a_down_backend_does_not_hold_back_another_exporter(make_service: Callable[..., BridgeService]) -> None:
    with OtlpSink() as down:
        pass
    with OtlpSink() as healthy:
        service = make_service(
            f"{{otlp/down: {{endpoint: '{down.grpc_endpoint}', tls: {{insecure: true}}, {FAST_RETRY}}},"
            f" otlp/healthy: {{endpoint: '{healthy.grpc_endpoint}', tls: {{insecure: true}}}}}}",
            "traces: {processors: [batch], exporters: [otlp/down, otlp/healthy]}",
        )
        spans = sum(service.submit_run(run) for run in _runs(5))
        assert service.deliveries["otlp/healthy"].flush(10)
        assert len(_span_ids(healthy)) == spans
    assert service.storage.backlog("otlp/down", frozenset({"traces"}))[1] == spans  # still queued for the other
    assert service.storage.queued_bytes > 0


def test_a_trace_over_grpcs_4_mib_default_arrives_whole_with_the_default_settings(tmp_path: Path) -> None:
    nodes = [
        {"node_id": f"n{i}", "node_type": "code", "title": f"Step {i}", "status": "succeeded",
         "outputs": {"text": f"{i}:" + "x" * 40_000}, "started_at": "2026-11-24T20:00:00Z",
         "finished_at": "2026-11-24T20:00:01Z"}
        for i in range(200)
    ]  # fmt: skip
    run = normalize_webhook({"workflow_run_id": str(uuid.uuid4()), "app_id": "a", "status": "succeeded",
                             "nodes": nodes})  # fmt: skip
    with OtlpSink() as sink:  # a real gRPC server: it refuses messages over 4 MiB
        config = parse_config(
            f"exporters: {{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}}}}}\n"
            "processors: {reduce: {content: full}, batch: {timeout: 10ms}}\n"
            f"service: {{queue: {{path: '{tmp_path / 'q.db'}'}},"
            " pipelines: {traces: {processors: [reduce, batch], exporters: [otlp]}}}\n"
        )
        service = BridgeService(config)
        spans = service.submit_run(run)
        assert service.flush(20)
        assert service.storage.dead_letters() == []
        service.shutdown()
        sizes = [request.ByteSize() for _, request, _ in sink.requests]
        received = sink.spans()
    assert sum(sizes) > 2 * 4 * 1000 * 1000 and len(sizes) >= 2 and max(sizes) <= 4 * 1024 * 1024
    assert len(received) == spans == 201
    assert all(len(str(s.attributes.get("output.value", ""))) > 40_000 for s in received if s.parent_span_id)


def test_a_batch_the_next_run_does_not_fit_is_sent_without_waiting_for_the_timeout(
    make_service: Callable[..., BridgeService],
) -> None:
    with OtlpSink() as sink:
        service = make_service(f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}}}}}",
                               batch="{timeout: 1h, send_batch_size: 7}")  # fmt: skip
        spans = [service.submit_run(run) for run in _runs(3)]
        assert spans[0] * 2 > 7 >= spans[0], "each run must fill more than half a batch"
        # Each run is a batch of its own (two do not fit): the first two go at once, the third waits.
        _wait(lambda: len(_span_ids(sink)) == 2 * spans[0], timeout=5)
        time.sleep(0.2)
        assert len(_span_ids(sink)) == 2 * spans[0]


def test_a_copy_with_nodes_betters_a_workflow_level_one_and_equal_copies_go_once(
    make_service: Callable[..., BridgeService], otlp_sink: OtlpSink
) -> None:
    service = make_service(f"{{otlp: {{endpoint: '{otlp_sink.grpc_endpoint}', tls: {{insecure: true}}}}}}")
    blocking = replace(RUN, receiver="proxy", nodes=(), containers=())  # a blocking answer: the workflow level
    assert service.submit_new_run(blocking) == 1
    assert service.submit_new_run(replace(RUN, receiver="otlp")) == len(spans_of(CAPTURES / "a_llm_simple.sse"))
    assert service.submit_new_run(replace(RUN, receiver="stream")) is None  # as rich as Dify's export: a copy
    assert service.submit_new_run(blocking) is None


def test_a_filling_batch_is_read_again_only_once_what_was_queued_since_fills_it(
    make_service: Callable[..., BridgeService], monkeypatch: pytest.MonkeyPatch
) -> None:
    with OtlpSink() as sink:
        per_run = len(spans_of(CAPTURES / "a_llm_simple.sse"))
        service = make_service(f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}}}}}",
                               batch=f"{{timeout: 30s, send_batch_size: {6 * per_run}}}")  # fmt: skip
        reads: list[int] = []
        pending = service.storage.pending

        def counted(*args: Any) -> Any:
            reads.append(1)
            return pending(*args)

        monkeypatch.setattr(service.storage, "pending", counted)
        for run in _runs(6):
            service.submit_run(run)
            time.sleep(0.05)  # each run wakes the delivery thread on its own
        # Sent once the sixth run filled it, not after the 30 s timeout.
        _wait(lambda: len(_span_ids(sink)) == 6 * per_run, timeout=5)
        # The first run's read, the read that sends the full batch, and the read that finds nothing left:
        # not a read for each run in between.
        assert len(reads) <= 3


def test_a_queue_file_that_cannot_be_written_does_not_send_a_delivered_batch_again(
    make_service: Callable[..., BridgeService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full (harden13): the cursor could not be saved after a delivery, so the same batch went out again at
    every poll (4x duplicates in a minute) and nothing after it went out at all."""
    full = [True]
    with OtlpSink() as sink:
        service = make_service(f"{{otlp: {{endpoint: '{sink.grpc_endpoint}', tls: {{insecure: true}}}}}}",
                               batch="{timeout: 10ms, send_batch_size: 20}")  # fmt: skip
        advance = service.storage.advance

        def disk_full(exporter: str, entry_id: int) -> None:
            if full[0]:
                raise QueueError(f"{service.storage.path}: database or disk is full")
            advance(exporter, entry_id)

        monkeypatch.setattr(service.storage, "advance", disk_full)
        spans = sum(service.submit_run(run) for run in _runs(10))
        _wait(lambda: len(_span_ids(sink)) >= spans)
        time.sleep(1.5)  # past a poll: a batch sent again would show now
        ids = _span_ids(sink)
        assert len(ids) == spans == len(set(ids))
        assert service.storage.cursor("otlp") == 0  # nothing saved while the file cannot be written
        full[0] = False
        _wait(lambda: service.storage.cursor("otlp") > 0 and service.storage.queued_bytes == 0)
        assert len(_span_ids(sink)) == spans


@pytest.mark.parametrize("exporter", ["otlp", "otlphttp"])
def test_a_backend_slower_than_the_timeout_gets_each_batch_a_bounded_number_of_times(
    make_service: Callable[..., BridgeService], exporter: str
) -> None:
    """harden13: a backend answering after the exporter's `timeout` still took each request, so the same batch went
    out at every retry (10 copies in 12 s) and nothing after it did. Each timeout doubles the next deadline."""
    with OtlpSink() as sink:
        sink.delay = 0.7
        endpoint = sink.grpc_endpoint if exporter == "otlp" else sink.http_base
        tls = ", tls: {insecure: true}" if exporter == "otlp" else ""
        service = make_service(f"{{{exporter}: {{endpoint: '{endpoint}'{tls}, timeout: 300ms, {FAST_RETRY}}}}}",
                               f"traces: {{processors: [batch], exporters: [{exporter}]}}",
                               batch="{timeout: 10ms, send_batch_size: 10000}")  # fmt: skip
        spans = sum(service.submit_run(run) for run in _runs(3))
        _wait(lambda: len(set(_span_ids(sink))) >= spans, timeout=30)
        copies = collections.Counter(_span_ids(sink))
    assert len(copies) == spans and max(copies.values()) <= 3  # timed out at 0.3 s and 0.6 s, taken at 1.2 s

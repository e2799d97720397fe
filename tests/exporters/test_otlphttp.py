from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.exporters import DELIVERED, otlphttp
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, request_of

TESTDATA = Path(__file__).parent / "testdata" / "otlphttp"


def test_defaults() -> None:
    check_defaults(otlphttp)


def test_decodes() -> None:
    expected = otlphttp.Config(
        endpoint="http://tempo:4318/", headers={"X-Scope-OrgID": "team"}, compression="deflate", timeout=60
    )
    check_decodes(otlphttp, TESTDATA, expected)


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(otlphttp, config, error)


def test_traces_path_is_appended_like_the_collector_does() -> None:
    assert otlphttp.traces_url(otlphttp.Config(endpoint="http://tempo:4318/")) == "http://tempo:4318/v1/traces"
    assert otlphttp.traces_url(otlphttp.Config(endpoint="http://a", traces_endpoint="http://b/x")) == "http://b/x"
    assert otlphttp.traces_url(otlphttp.Config()) is None


PAYLOAD = request_of(CAPTURES / "a_simple_http.sse")


@pytest.mark.parametrize("compression", ["gzip", "deflate", "none"])
def test_sends_the_queued_bytes(otlp_sink: OtlpSink, compression: Any) -> None:
    sender = otlphttp.create(otlphttp.Config(endpoint=otlp_sink.http_base, compression=compression,
                                             headers={"X-Scope-OrgID": "team"}))  # fmt: skip
    assert sender.send(PAYLOAD) == DELIVERED
    spans = otlp_sink.spans()
    assert "http-request HTTP Hello" in [s.name for s in spans] and spans[0].protocol == "http"
    assert otlp_sink.headers()[0]["x-scope-orgid"] == "team"


@pytest.mark.parametrize(
    ("status", "retry_after", "retryable"),
    [(503, 3.0, True), (429, None, True), (408, None, True), (502, None, True), (504, None, True),
     (400, None, False), (401, None, False), (404, None, False), (500, None, False)],
)  # fmt: skip
def test_failures_are_classified_and_retry_after_is_honoured(
    otlp_sink: OtlpSink, status: int, retry_after: float | None, retryable: bool
) -> None:
    otlp_sink.fail_next(1, http_status=status, retry_after=retry_after)
    result = otlphttp.create(otlphttp.Config(endpoint=otlp_sink.http_base)).send(PAYLOAD)
    assert not result.ok and result.retryable is retryable
    assert result.retry_after == retry_after and f"HTTP {status}" in result.reason


def test_an_unreachable_backend_is_retryable() -> None:
    with OtlpSink() as sink:
        pass  # stopped: its port refuses connections
    result = otlphttp.create(otlphttp.Config(endpoint=sink.http_base)).send(PAYLOAD)
    assert not result.ok and result.retryable and "ConnectError" in result.reason


def test_a_grpc_port_is_named_as_the_likely_mistake(otlp_sink: OtlpSink) -> None:
    # 4317 and 4318 mixed up: the HTTP client alone says "RemoteProtocolError: illegal request line".
    result = otlphttp.create(otlphttp.Config(endpoint=f"http://{otlp_sink.grpc_endpoint}", timeout=5)).send(PAYLOAD)
    assert not result.ok and result.retryable
    assert "gRPC" in result.reason and "`otlp`" in result.reason


def test_partial_success_reports_the_rejected_spans(otlp_sink: OtlpSink) -> None:
    otlp_sink.partial_next(3)
    result = otlphttp.create(otlphttp.Config(endpoint=otlp_sink.http_base)).send(PAYLOAD)
    assert result.ok and result.rejected_spans == 3

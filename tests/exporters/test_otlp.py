from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest

from bridge.exporters import DELIVERED, otlp
from bridge.exporters.tls import TLSConfig
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, request_of

TESTDATA = Path(__file__).parent / "testdata" / "otlp"


def test_defaults() -> None:
    check_defaults(otlp)


def test_decodes() -> None:
    check_decodes(
        otlp,
        TESTDATA,
        otlp.Config(
            endpoint="https://otel.example:4317",
            tls=TLSConfig(ca_file="ca.pem", cert_file="client.pem", key_file="client.key"),
            headers={"authorization": "Bearer abc"},
            compression="gzip",
            timeout=2,
        ),
    )


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(otlp, config, error)


PAYLOAD = request_of(CAPTURES / "a_simple_http.sse")


def _sender(sink: OtlpSink, **settings: Any) -> otlp.GrpcSender:
    return otlp.create(otlp.Config(endpoint=sink.grpc_endpoint, tls=TLSConfig(insecure=True), **settings))


def test_sends_the_queued_bytes_with_headers_and_gzip(otlp_sink: OtlpSink) -> None:
    result = _sender(otlp_sink, headers={"X-Tenant": "t1"}, compression="gzip").send(PAYLOAD)
    assert result == DELIVERED
    assert "http-request HTTP Hello" in [s.name for s in otlp_sink.spans()]
    assert otlp_sink.headers()[0]["x-tenant"] == "t1"


def test_unset_settings_fall_back_to_the_standard_variables(
    otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{otlp_sink.grpc_endpoint}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-from-env=yes%20really")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
    sender = otlp.create(otlp.Config())
    assert sender.send(PAYLOAD).ok
    assert otlp_sink.headers()[0]["x-from-env"] == "yes really"
    assert sender._deadline.seconds == 2.5  # milliseconds in the variable, as the specification says


def test_a_header_from_the_variable_with_a_line_break_is_refused_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cr3t-value%0D%0Ax-evil: 1")
    with pytest.raises(ValueError, match=r"OTEL_EXPORTER_OTLP_.*HEADERS: header 'x-api-key'") as refused:
        otlp.create(otlp.Config(endpoint="127.0.0.1:9"))
    assert "s3cr3t" not in str(refused.value)


@pytest.mark.parametrize(
    ("code", "retry_after", "retryable"),
    [
        (grpc.StatusCode.UNAVAILABLE, None, True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, None, True),
        (grpc.StatusCode.ABORTED, None, True),  # these four: the README's list of retryable answers
        (grpc.StatusCode.CANCELLED, None, True),
        (grpc.StatusCode.OUT_OF_RANGE, None, True),
        (grpc.StatusCode.DATA_LOSS, None, True),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, None, False),  # "message too large": no retry cures it
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 2.5, True),  # the server says when to come back
        (grpc.StatusCode.INVALID_ARGUMENT, None, False),
        (grpc.StatusCode.UNAUTHENTICATED, None, False),
    ],
)
def test_failures_are_classified_as_the_otlp_specification_says(
    otlp_sink: OtlpSink, code: grpc.StatusCode, retry_after: float | None, retryable: bool
) -> None:
    otlp_sink.fail_next(1, grpc_code=code, retry_after=retry_after)
    result = _sender(otlp_sink).send(PAYLOAD)
    assert not result.ok and result.retryable is retryable
    assert result.retry_after == retry_after and code.name in result.reason


def test_an_unreachable_backend_is_retryable() -> None:
    with OtlpSink() as sink:
        pass  # stopped: its port refuses connections
    result = otlp.create(otlp.Config(endpoint=sink.grpc_endpoint, tls=TLSConfig(insecure=True), timeout=2)).send(
        PAYLOAD
    )
    assert not result.ok and result.retryable and "UNAVAILABLE" in result.reason


def test_an_otlp_http_port_is_named_as_the_likely_mistake(otlp_sink: OtlpSink) -> None:
    # 4317 and 4318 mixed up: gRPC alone says "Failed parsing HTTP/2 (Expected SETTINGS frame ...)".
    target = otlp_sink.http_base.removeprefix("http://")
    result = otlp.create(otlp.Config(endpoint=target, tls=TLSConfig(insecure=True), timeout=5)).send(PAYLOAD)
    assert not result.ok and result.retryable
    assert "OTLP/HTTP" in result.reason and "otlphttp" in result.reason


def test_tls_to_a_plaintext_port_says_to_write_the_scheme(otlp_sink: OtlpSink) -> None:
    # `--endpoint 127.0.0.1:4317` (no scheme: TLS) to Jaeger's plaintext port: gRPC alone says "Tls handshake
    # failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: ... WRONG_VERSION_NUMBER".
    result = otlp.create(otlp.Config(endpoint=otlp_sink.grpc_endpoint, timeout=5)).send(PAYLOAD)
    assert not result.ok and result.retryable
    assert "an endpoint without a scheme means TLS; write http://host:port" in result.reason


def test_partial_success_reports_the_rejected_spans(otlp_sink: OtlpSink) -> None:
    otlp_sink.partial_next(2)
    result = _sender(otlp_sink).send(PAYLOAD)
    assert result.ok and result.rejected_spans == 2 and result.reason == "injected partial success"

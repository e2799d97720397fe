from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from bridge.exporters import otlp
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.otlp_sink import OtlpSink

TESTDATA = Path(__file__).parent / "testdata" / "otlp"


def test_defaults() -> None:
    check_defaults(otlp)


def test_decodes() -> None:
    check_decodes(
        otlp,
        TESTDATA,
        otlp.Config(
            endpoint="https://otel.example:4317",
            tls={"ca_file": "ca.pem", "cert_file": "client.pem", "key_file": "client.key"},
            headers={"authorization": "Bearer abc"},
            compression="gzip",
            timeout=2,
        ),
    )


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(otlp, config, error)


def _send(exporter: Any) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("hello").end()
    provider.shutdown()


def test_exports_with_headers_and_gzip(otlp_sink: OtlpSink) -> None:
    _send(otlp.create(otlp.Config(endpoint=otlp_sink.grpc_endpoint, tls={"insecure": True},
                                  headers={"x-tenant": "t1"}, compression="gzip")))  # fmt: skip
    (span,) = otlp_sink.wait_for_spans(1)
    assert span.name == "hello" and otlp_sink.headers()[0]["x-tenant"] == "t1"


def test_unset_settings_fall_back_to_the_standard_variables(
    otlp_sink: OtlpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{otlp_sink.grpc_endpoint}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-from-env=yes")
    _send(otlp.create(otlp.Config()))
    otlp_sink.wait_for_spans(1)
    assert otlp_sink.headers()[0]["x-from-env"] == "yes"

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from bridge.exporters import otlphttp
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.otlp_sink import OtlpSink

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


@pytest.mark.parametrize("compression", ["gzip", "deflate", "none"])
def test_exports(otlp_sink: OtlpSink, compression: Any) -> None:
    exporter = otlphttp.create(otlphttp.Config(endpoint=otlp_sink.http_base, compression=compression,
                                               headers={"X-Scope-OrgID": "team"}))  # fmt: skip
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("over-http").end()
    provider.shutdown()
    (span,) = otlp_sink.wait_for_spans(1)
    assert span.name == "over-http" and span.protocol == "http"
    assert otlp_sink.headers()[0]["x-scope-orgid"] == "team"

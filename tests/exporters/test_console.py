from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.exporters import console
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.runs import CAPTURES, request_of

TESTDATA = Path(__file__).parent / "testdata" / "console"


def test_defaults() -> None:
    check_defaults(console)


def test_decodes() -> None:
    check_decodes(console, TESTDATA, console.Config(out="stderr"))


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(console, config, error)


def test_writes_each_request_as_otlp_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert console.create(console.Config(out="stderr")).send(request_of(CAPTURES / "a_simple_http.sse")).ok
    written = json.loads(capsys.readouterr().err)
    spans = written["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert "http-request HTTP Hello" in [s["name"] for s in spans]

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.exporters import console
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.runs import CAPTURES, spans_of

TESTDATA = Path(__file__).parent / "testdata" / "console"


def test_defaults() -> None:
    check_defaults(console)


def test_decodes() -> None:
    check_decodes(console, TESTDATA, console.Config(out="stderr"))


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(console, config, error)


def test_writes_spans(capsys: pytest.CaptureFixture[str]) -> None:
    console.create(console.Config(out="stderr")).export(spans_of(CAPTURES / "a_simple_http.sse"))
    assert '"name": "http-request HTTP Hello"' in capsys.readouterr().err

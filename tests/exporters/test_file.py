from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from bridge.exporters import file
from tests.component_trio import check_decodes, check_invalid, invalid_cases
from tests.runs import CAPTURES, request_of, spans_of

TESTDATA = Path(__file__).parent / "testdata" / "file"


def test_decodes() -> None:
    check_decodes(file, TESTDATA, file.Config(path="/var/log/dify/traces.jsonl", append=False))


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(file, config, error)


def test_writes_one_otlp_json_line_per_request_with_hex_ids(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text("kept\n")
    sender = file.create(file.Config(path=str(path)))
    spans = spans_of(CAPTURES / "a_llm_simple.sse")
    for part in (spans[:2], spans[2:]):
        assert sender.send(encode_spans(part).SerializeToString()).ok
    sender.close()
    lines = path.read_text().splitlines()
    assert lines[0] == "kept" and len(lines) == 3
    batches = [json.loads(line) for line in lines[1:]]
    names = [s["name"] for b in batches for rs in b["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert names == [s.name for s in spans]
    first = batches[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert first["traceId"] == "06f0b9d9-0e7a-447e-a536-85300d8487f1".replace("-", "")
    assert len(first["spanId"]) == 16 and int(first["spanId"], 16)


def test_truncates_when_append_is_false(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("old\n")
    sender = file.create(file.Config(path=str(path), append=False))
    sender.send(request_of(CAPTURES / "a_simple_http.sse"))
    sender.send(request_of(CAPTURES / "a_simple_http.sse"))
    sender.close()
    assert len(path.read_text().splitlines()) == 2


def test_unwritable_path_is_a_retryable_failure(tmp_path: Path) -> None:
    result = file.create(file.Config(path=str(tmp_path / "missing-dir" / "t.jsonl"))).send(
        request_of(CAPTURES / "a_simple_http.sse")
    )
    assert not result.ok and result.retryable and "No such file or directory" in result.reason


def test_a_line_torn_by_a_crash_does_not_swallow_the_next_batch(tmp_path: Path) -> None:
    """Found attacking the served bridge: killed mid-write, the file ended inside a line, and the next start's
    first batch was appended to it: two batches lost to one unreadable line."""
    path = tmp_path / "t.jsonl"
    path.write_text('kept\n{"resourceSpans":[{"reso')
    sender = file.create(file.Config(path=str(path)))
    assert sender.send(request_of(CAPTURES / "a_simple_http.sse")).ok
    sender.close()
    lines = path.read_text().splitlines()
    assert lines[:2] == ["kept", '{"resourceSpans":[{"reso'] and len(lines) == 3
    assert json.loads(lines[2])["resourceSpans"]

from __future__ import annotations

import json
import time
from math import inf

import pytest

from bridge.dify.formats import Format, InputError, Record, decode_json, detect_format, iter_records

SSE = 'event: ping\n\ndata: {"event":"a"}\n\n: comment\ndata: {"event":\ndata: "b"}\n\ndata: {bad\n\n'


def _items(text: str) -> list[Record | InputError]:
    return list(iter_records(text, "in.txt"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SSE, "sse"),
        ('data: {"x": 1}\n\n', "sse"),
        ('{"a": 1}\n{"a": 2}\n', "ndjson"),
        ('[\n {"a": 1}\n]', "json"),
        ('{\n  "a": 1\n}\n', "json"),
        ('  {"a": 1}', "ndjson"),
    ],
)
def test_detect_format(text: str, expected: str) -> None:
    assert detect_format(text) == expected


def test_sse_skips_pings_and_comments_joins_data_lines_and_reports_bad_blocks() -> None:
    items = _items(SSE)
    assert [(i.obj, i.line) for i in items if isinstance(i, Record)] == [({"event": "a"}, 3), ({"event": "b"}, 6)]
    (error,) = [i for i in items if isinstance(i, InputError)]
    assert (error.source, error.line) == ("in.txt", 9)
    assert "invalid JSON" in str(error)


def test_sse_event_line_is_kept() -> None:
    (record,) = _items('event: node_started\ndata: {"data": {}}\n\n')
    assert isinstance(record, Record) and record.sse_event == "node_started"


def test_ndjson_bad_line_does_not_stop_the_rest() -> None:
    items = _items('{"a": 1}\n\n{oops}\n{"a": 3}\n')
    assert [i.line for i in items] == [1, 3, 4]
    assert isinstance(items[1], InputError) and str(items[1]).startswith("in.txt:3: invalid JSON")


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_inside_a_json_string_do_not_end_a_line(brk: str) -> None:
    """JSON allows them raw in a string (an answer pasted from a web page); only CR and LF end an SSE or NDJSON
    line, so the record is read whole and the lines after keep their numbers."""
    sse = f'data: {{"answer": "one{brk}two"}}\r\n\r\ndata: {{"answer": "three"}}\n\n'
    assert [(i.obj, i.line) for i in _items(sse) if isinstance(i, Record)] == [
        ({"answer": f"one{brk}two"}, 1),
        ({"answer": "three"}, 3),
    ]
    ndjson = f'{{"answer": "one{brk}two"}}\n{{"answer": "three"}}\n'
    assert [(i.obj, i.line) for i in _items(ndjson) if isinstance(i, Record)] == [
        ({"answer": f"one{brk}two"}, 1),
        ({"answer": "three"}, 2),
    ]


def test_json_array_elements_keep_their_line_numbers() -> None:
    items = _items('[\n  {"a": 1},\n\n  {"a": 2}\n]\n')
    assert [(i.obj, i.line) for i in items if isinstance(i, Record)] == [({"a": 1}, 2), ({"a": 2}, 4)]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[{"a": 1} {"a": 2}]', "expected ',' or ']'"),
        ('[{"a": 1},', "unterminated JSON array"),
        ('{"a": 1} x', "extra data after the JSON value"),
        ("event: x\nbogus: 1\n\n", "not an SSE field"),
    ],
)
def test_malformed_inputs_are_located(text: str, fragment: str) -> None:
    errors = [i for i in _items(text) if isinstance(i, InputError)]
    assert errors and fragment in str(errors[0])
    assert errors[0].line >= 1


def test_an_sse_line_of_spaces_is_no_field_and_ends_no_block() -> None:
    """A padded capture's line of spaces was "not an SSE field: '  '" (a body of only spaces too)."""
    assert list(iter_records("  ", "t", "sse")) == []
    # As the SSE spec reads it: a line that is no blank line, so the block goes on to the next data line.
    items = list(iter_records('data: {"a":\n \t\ndata: 1}\n\n  \n', "t", "sse"))
    assert [(i.obj, i.line) for i in items if isinstance(i, Record)] == [({"a": 1}, 1)] and len(items) == 1


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("  : x", "not an SSE field: '  ' (a field named by spaces: SSE lines are not indented, and only a line "
                  "starting with ':' is a comment)"),
        ("  data: 1", "not an SSE field: '  data' (not 'data': SSE lines are not indented, and only a line "
                      "starting with ':' is a comment)"),
        ("bogus: 1", "not an SSE field: 'bogus'"),
    ],
)  # fmt: skip
def test_an_indented_sse_line_is_a_field_named_by_its_spaces_said_in_words(line: str, detail: str) -> None:
    """`  : x` was "not an SSE field: '  '", no word of why: by the SSE spec it is a field (a comment's first
    character is the colon), and Dify indents no line, so it is refused, saying so."""
    errors = [i for i in iter_records(f"data: 1\n{line}\n\n", "t", "sse") if isinstance(i, InputError)]
    assert [(error.line, error.reason) for error in errors] == [(2, detail)]


def test_empty_array_is_no_records() -> None:
    assert _items("[]") == []
    assert list(iter_records(" \n", "t", "json")) == []  # was "unterminated JSON array"


def test_a_lone_surrogate_is_read_as_the_replacement_character() -> None:
    # JSON can escape half a surrogate pair; nothing after the parser could write it (UTF-8, protobuf).
    assert decode_json('{"a": "x\\ud800y", "\\udc00": ["\\ud83d\\ude00"]}') == {
        "a": "x\ufffdy",
        "\ufffd": ["\U0001f600"],
    }
    assert decode_json(b'[NaN, "\\ud800"]')[1] == "\ufffd"  # beside what only the standard library reads
    assert decode_json(json.dumps(["\ud800"]).encode("utf-16")) == ["\ufffd"]


def test_an_integer_past_pythons_digit_limit_reads_as_infinity_like_1e999() -> None:
    """Python refuses to read an integer of more than 4,300 digits (a ValueError, no JSONDecodeError): the
    webhook answered 500 and a JSON-array stream body 500."""
    long = "9" * 5_000
    assert decode_json(f'{{"a": {long}, "b": -{long}, "c": 1e999}}') == {"a": inf, "b": -inf, "c": inf}
    (record,) = iter_records(f'[{{"a": {long}}}]', "t", "json")
    assert record == Record({"a": inf}, 1, position=0)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_a_document_nested_deeper_than_the_stack_is_refused_as_malformed(depth: int) -> None:
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        decode_json("[" * depth + "]" * depth)


def test_records_made_in_one_step_have_every_field() -> None:
    """SSE and NDJSON records are made from their fields' tuple (`tuple.__new__`), not by `Record(...)`: the
    same records, with every field the class has."""
    sse = 'event: message\ndata: {"a": 1}\n\ndata: {"b": 2}\n\n'
    ndjson = '{"a": 1}\n\n{"b": 2}\n'
    expected = {
        "sse": [Record({"a": 1}, 2, "message"), Record({"b": 2}, 4)],
        "ndjson": [Record({"a": 1}, 1), Record({"b": 2}, 3)],
    }
    formats: tuple[tuple[Format, str], ...] = (("sse", sse), ("ndjson", ndjson))
    for fmt, text in formats:
        records = list(iter_records(text, "t", fmt))
        assert records == expected[fmt]
        for record, wanted in zip(records, expected[fmt], strict=True):
            assert type(record) is Record and record._asdict() == wanted._asdict()


def test_a_long_json_array_is_read_in_linear_time() -> None:
    """Found attacking the served bridge: each element's line was counted from the start of the body, so a
    stream body of 8,000 events held the event loop for 8 s (50,000, `max_events`, for minutes)."""
    element = '{"event": "node_started", "workflow_run_id": "r", "data": {"node_id": "n"}}'
    text = "[\n" + ",\n".join([element] * 20_000) + "\n]"
    started = time.monotonic()
    records = list(iter_records(text, "body", "json", json.loads))
    assert time.monotonic() - started < 10  # about 1 s here; 50 s before
    last = records[-1]
    assert isinstance(last, Record) and (last.line, last.position) == (20_001, 19_999)

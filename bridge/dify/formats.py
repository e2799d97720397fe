"""Text → JSON objects with their line numbers, for every input format the bridge reads.

Formats: Dify's raw SSE stream (`data: {...}` blocks, `event: ping` keep-alives), NDJSON (one object a
line) and JSON (one object, or an array of them). Decoding never stops at a bad record: it yields an
`InputError` for it and goes on, so the good records of a file still get through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Literal, NamedTuple

import msgspec

Format = Literal["sse", "ndjson", "json"]
FORMATS: tuple[Format, ...] = ("sse", "ndjson", "json")


class Record(NamedTuple):  # a tuple: made once per record read, at a third of a frozen dataclass's cost
    obj: Any
    line: int
    sse_event: str | None = None  # the `event:` line of an SSE block, if any
    position: int | None = None  # its place in a JSON array, which may hold many records on one line


# A `Record` made from its four fields in C: the class's own `__new__` is a Python function (0.8 us more a record).
_record = partial(tuple.__new__, Record)


class InputError(Exception):
    """Bad input, located: `source:line: field: reason`."""

    def __init__(
        self, source: str, line: int, field: str, reason: str, others: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.source, self.line, self.field, self.reason = source, line, field, reason
        # The other fields at fault, as (field, reason), where a reader finds them all at once (a webhook payload).
        self.others = others
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


_decode = msgspec.json.Decoder().decode


def read_integer(text: str) -> int | float:
    """A JSON integer for the standard library's parser. Python refuses to read one of more than 4,300 digits
    (`sys.get_int_max_str_digits`, against quadratic conversion): it was a 500 on the webhook, and a run the
    stream had taken (202) that could never be built. No double or OTLP int holds it: it reads as ±inf, as a
    number past a double's range (`1e999`) already did."""
    try:
        return int(text)
    except ValueError:
        return float(text)


_loads = partial(json.loads, parse_int=read_integer)


# Half of a surrogate pair, alone in a string: no UTF-8 (and so no OTLP, JSON writer or secret finder) takes it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_json(document: str | bytes) -> Any:
    """`json.loads`, faster: msgspec parses, and the standard library decides on anything msgspec refuses
    (NaN, numbers out of a double's range, integers past 4,300 digits, lone surrogates, UTF-16 bodies) and
    words the errors. A lone surrogate (JSON can escape half a pair alone) comes back as U+FFFD, the
    replacement character."""
    try:
        try:
            return _decode(document)
        except (msgspec.DecodeError, UnicodeEncodeError):  # the latter: text holding a lone surrogate
            return _whole_text(_loads(document))
    except RecursionError:  # from either parser: a refusal like any other malformed document, not a crash
        raise json.JSONDecodeError("nested too deeply", "", 0) from None


def _whole_text(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) as U+FFFD; a pair was joined by the parser."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_whole_text(key): _whole_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_text(item) for item in value]
    return value


def detect_format(text: str) -> Format:
    stripped = text.lstrip()
    if stripped.startswith(("data:", "event:", "id:", "retry:", ":")):
        return "sse"
    if stripped.startswith("["):
        return "json"
    first_line = stripped.split("\n", 1)[0].strip()
    try:
        decode_json(first_line)
    except ValueError:
        return "json"  # a pretty-printed object spans several lines
    return "ndjson"


def iter_records(
    text: str, source: str, fmt: Format | None = None, parse: Callable[[str], Any] = decode_json
) -> Iterator[Record | InputError]:
    """`parse` reads each record's JSON text (an SSE block's data, an NDJSON line, a lone JSON object) and
    raises json.JSONDecodeError on malformed JSON; the elements of a JSON array are read by the standard library."""
    fmt = fmt or detect_format(text)
    if fmt == "sse":
        return _iter_sse(text, source, parse)
    if fmt == "ndjson":
        return _iter_ndjson(text, source, parse)
    return _iter_json(text, source, parse)


# Breaks `str.splitlines` also takes that a JSON string may hold raw (only CR and LF end an SSE or NDJSON line).
_BREAKS_IN_JSON = ("\u2028", "\u2029", "\x85")
_LINE_END = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    """The text's lines, ended by CR, LF or CRLF only; `splitlines` (C speed) when no other break is in it."""
    if any(brk in text for brk in _BREAKS_IN_JSON):
        return _LINE_END.split(text.removesuffix("\r\n").removesuffix("\n").removesuffix("\r"))
    return text.splitlines()


def _decode_error(source: str, line: int, exc: json.JSONDecodeError, line_offset: int = 0) -> InputError:
    return InputError(source, line + line_offset, "", f"invalid JSON: {exc.msg} (column {exc.colno})")


def _iter_sse(text: str, source: str, parse: Callable[[str], Any]) -> Iterator[Record | InputError]:
    data_lines: list[str] = []
    event_name: str | None = None
    block_line = 0
    # `_lines` leaves no CR in a line. Data lines (half of a Dify stream's lines, the other half blank) are told
    # first: `partition` and a comparison less for each.
    for number, line in enumerate([*_lines(text), ""], start=1):
        if line.startswith("data:"):
            block_line = block_line or number
            data_lines.append(line[6:] if line.startswith(" ", 5) else line[5:])
            continue
        if not line:
            if data_lines:
                payload = data_lines[0] if len(data_lines) == 1 else "\n".join(data_lines)
                try:
                    yield _record((parse(payload), block_line, event_name, None))
                except json.JSONDecodeError as exc:
                    yield _decode_error(source, block_line, exc, exc.lineno - 1)
            # A block with no data (Dify's `event: ping`) is a keep-alive: nothing to record.
            data_lines, event_name, block_line = [], None, 0
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event_name = value
        elif name not in ("id", "retry") and not line.isspace():
            # A line of spaces (a padded capture) is no field, and ends no block: as blank as NDJSON's.
            yield InputError(source, number, "", _not_a_field(name))


def _not_a_field(name: str) -> str:
    """Why a line is refused. The SSE spec reads `  : x` as a field named by its spaces, not a comment (a comment's
    first character is the colon), and a browser drops it; Dify's streams indent no line, so an indented one is
    refused here, not dropped: it may be data (a pretty-printed capture)."""
    shown = f"not an SSE field: {name[:40]!r}"
    if name[:1].isspace():
        what = "a field named by spaces" if name.isspace() else f"not {name.strip()[:40]!r}"
        return f"{shown} ({what}: SSE lines are not indented, and only a line starting with ':' is a comment)"
    return shown


def _iter_ndjson(text: str, source: str, parse: Callable[[str], Any]) -> Iterator[Record | InputError]:
    for number, line in enumerate(_lines(text), start=1):
        if not line or line.isspace():
            continue
        try:
            yield _record((parse(line), number, None, None))
        except json.JSONDecodeError as exc:
            yield _decode_error(source, number, exc)


def _iter_json(text: str, source: str, parse: Callable[[str], Any]) -> Iterator[Record | InputError]:
    decoder = json.JSONDecoder(parse_int=read_integer)
    pos = _skip_ws(text, 0)
    if pos == len(text):  # nothing, not an "unterminated JSON array": the caller says the input holds no record
        return
    if text[pos] != "[":
        try:
            obj = parse(text)
        except ValueError:
            pass  # malformed, or more than one value: located and worded below
        else:
            yield Record(obj, text.count("\n", 0, pos) + 1)
            return
        try:
            obj, end = _raw_decode(decoder, text, pos)
        except json.JSONDecodeError as exc:
            yield _decode_error(source, exc.lineno, exc)
            return
        yield Record(obj, text.count("\n", 0, pos) + 1)
        if _skip_ws(text, end) < len(text):
            yield InputError(source, text.count("\n", 0, end) + 1, "", "extra data after the JSON value")
        return
    # An array is walked element by element so each record keeps its own line number.
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    # Lines are counted on from the previous element: counting from the start each time was quadratic (a
    # 50,000-event body held the event loop for minutes).
    index, line, counted = 0, 1, 0
    while pos < len(text):
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, pos = _raw_decode(decoder, text, pos)
        except json.JSONDecodeError as exc:
            yield _decode_error(source, exc.lineno, exc)
            return
        yield Record(obj, line, position=index)
        index += 1
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        elif pos < len(text) and text[pos] == "]":
            return
        else:
            yield InputError(source, text.count("\n", 0, pos) + 1, "", "expected ',' or ']' in the JSON array")
            return
    yield InputError(source, text.count("\n") + 1, "", "unterminated JSON array")


def _raw_decode(decoder: json.JSONDecoder, text: str, pos: int) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, pos)
    except RecursionError:  # a malformed document like any other (as `decode_json`), not a crash
        raise json.JSONDecodeError("nested too deeply", text, pos) from None


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos

"""Property tests: every parser, fed random and mutated input, either takes it or refuses it with its own
error (InputError, ConfigError) — never another exception. And whatever a parser takes, the rest of the
pipeline (assembly, span building, processors, OTLP encoding) takes too."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan

from bridge.config.errors import ConfigError
from bridge.config.loader import parse_config
from bridge.dify.assembly import RunAssembler
from bridge.dify.formats import InputError, Record, decode_json, iter_records
from bridge.dify.model import DifyEvent
from bridge.dify.normalize import normalize_event, parse_event_json
from bridge.dify.run_results import normalize_blocking, normalize_logs, normalize_run_detail
from bridge.dify.webhook_payload import decode_webhook, normalize_webhook
from bridge.processors import Processor, detectors, redact, reduce
from bridge.trace.otlp_wire import encode_request
from bridge.trace.spans import SpanBuilder
from tests.runs import CAPTURES, EXAMPLES

T = TypeVar("T")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=30)
# Text of any code point, lone surrogates too: JSON can escape one, and the standard library's parser takes it.
TEXT = st.text(st.characters(exclude_categories=()), max_size=30)
# Dify's own keys (both spellings) turn up often, so the random objects reach deep into the parsers.
KEYS = st.sampled_from(
    ["event", "data", "workflow_run_id", "workflowRunId", "task_id", "id", "node_id", "node_type", "nodeType",
     "status", "inputs", "outputs", "process_data", "created_at", "finished_at", "elapsed_time", "elapsedTime",
     "execution_metadata", "total_tokens", "index", "iteration_id", "retry_index", "nodes", "started_at",
     "app_id", "error", "metadata", "usage", "message_id", "conversation_id", "title", "predecessor_node_id"]
) | st.text(max_size=12)  # fmt: skip
JSON: Any = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=8),
                         max_leaves=40)  # fmt: skip
WEBHOOK = json.loads((EXAMPLES / "webhook_full.json").read_text())
REAL_LINES = [line for path in sorted(CAPTURES.glob("*.sse")) for line in path.read_text().splitlines()][:400]

_BUILDER = SpanBuilder()
_PROCESSORS: list[Processor] = [
    detectors.create(detectors.Config()),
    redact.create(redact.Config()),
    reduce.create(reduce.Config()),
]


def _through_the_pipeline(run: Any) -> None:
    spans: Sequence[ReadableSpan] = _BUILDER.build(run)
    for processor in _PROCESSORS:
        spans = processor.process(spans)
    encode_request(spans)


@FUZZ
@given(st.text(max_size=400), st.sampled_from([None, "sse", "ndjson", "json"]))
def test_any_text_is_records_or_input_errors(text: str, fmt: Any) -> None:
    for item in iter_records(text, "fuzz", fmt):
        assert isinstance(item, Record | InputError)


def _taken(parse: Callable[..., T], *args: Any) -> T | None:
    """What `parse` makes of the input, or None if it refuses it with an InputError (nothing else may escape)."""
    try:
        return parse(*args)
    except InputError:
        return None


def _assembled_and_built(events: Iterable[DifyEvent | None]) -> None:
    assembler = RunAssembler()
    for event in events:
        if event is not None:
            assembler.add(event, 1.0, "fuzz")
    for run in assembler.drain():
        _through_the_pipeline(run)


@FUZZ
@given(st.lists(st.sampled_from(REAL_LINES), max_size=40), st.randoms(use_true_random=False))
def test_mutated_real_streams_parse_assemble_and_build(lines: list[str], rng: Any) -> None:
    text = "\n".join(lines)
    if text and rng.random() < 0.5:  # flip one character
        at = rng.randrange(len(text))
        text = text[:at] + chr(rng.randrange(32, 127)) + text[at + 1 :]
    records = [item for item in iter_records(text, "fuzz", "sse") if isinstance(item, Record)]
    _assembled_and_built(_taken(normalize_event, r.obj, "fuzz", r.line, r.sse_event) for r in records)


KeyPath = tuple[str | int, ...]


def _key_paths(obj: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every place inside `obj` a value can be put: keys of objects and indexes of arrays, at any depth."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _key_paths(value, (*prefix, key))


def _put_at(obj: Any, path: KeyPath, value: Any) -> None:
    """Puts `value` at `path`, unless an earlier change took the way there."""
    try:
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = copy.deepcopy(value)  # a value drawn twice is one object: no cycles, no drawn value changed
    except (KeyError, IndexError, TypeError):
        pass


STREAMS = [
    [json.loads(line.removeprefix("data: ")) for line in path.read_text().splitlines() if line.startswith("data: ")]
    for path in sorted(CAPTURES.glob("*.sse"))
]
# Every place in every capture: (stream, event, path in the event).
STREAM_PLACES = [
    (s, e, path) for s, events in enumerate(STREAMS) for e, event in enumerate(events) for path in _key_paths(event)
]
ODD = SCALARS | st.sampled_from(["1e400", "-1e400", "nan", float("inf"), 10**30, [1], {"a": 1}])


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(STREAM_PLACES), ODD | JSON), min_size=1, max_size=4))
@example([((0, 15, ("data", "execution_metadata", "iteration_index")), True)])  # each of these once failed
@example([((0, 15, ("data", "execution_metadata", "total_tokens")), "1e400")])
@example([((0, 15, ("data", "elapsed_time")), 1e308)])
@example([((0, 15, ("data", "process_data", "model_provider")), True)])
@example([((0, 15, ("data", "process_data", "prompts")), 5)])
def test_real_streams_with_any_value_anywhere_are_taken_or_refused_and_taken_ones_build(
    changes: list[tuple[tuple[int, int, KeyPath], Any]],
) -> None:
    """A value nested where normalization does not check it must not make a run accepted with it fail to
    build (it would never be exported)."""
    (stream, _, _), _ = changes[0]
    events = copy.deepcopy(STREAMS[stream])
    for (_, at, path), value in changes:
        _put_at(events[at % len(events)], path, value)
    _assembled_and_built(_taken(normalize_event, event, "fuzz", 1) for event in events)


def _read_both_ways(texts: list[str]) -> tuple[bytes, bytes]:
    """Runs (as JSON) assembled from `texts` read as the receivers read them, and read the general way."""
    runs = []
    for parse in (parse_event_json, decode_json):
        assembler = RunAssembler()
        for text in texts:
            try:
                assembler.add(normalize_event(parse(text), "fuzz", 1), 1.0, "fuzz")
            except InputError as exc:
                assembler.add(DifyEvent("refused", {"error": str(exc)}, workflow_run_id="refusals"), 1.0)
        runs.append(msgspec.json.encode(assembler.drain()))  # NaN as null: NaN is no equal of itself
    return runs[0], runs[1]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(STREAM_PLACES), ODD | JSON), min_size=1, max_size=4))
@example([((0, 12, ("created_at",)), -1)])  # refused by both, once with -1.0 in the message
def test_real_streams_with_any_value_anywhere_read_with_data_unread_as_read_the_general_way(
    changes: list[tuple[tuple[int, int, KeyPath], Any]],
) -> None:
    (stream, _, _), _ = changes[0]
    events = copy.deepcopy(STREAMS[stream])
    for (_, at, path), value in changes:
        _put_at(events[at % len(events)], path, value)
    unread, general = _read_both_ways([json.dumps(event) for event in events])
    assert unread == general


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(list(_key_paths(WEBHOOK))), ODD | JSON), min_size=1, max_size=4))
def test_webhooks_with_any_value_anywhere_are_taken_or_refused_and_taken_ones_build(
    changes: list[tuple[KeyPath, Any]],
) -> None:
    payload = copy.deepcopy(WEBHOOK)
    for path, value in changes:
        _put_at(payload, path, value)
    run = _taken(normalize_webhook, payload, "fuzz", 1)
    if run is not None:
        _through_the_pipeline(run)
    # The receiver's one-pass decoding, where it takes the body, reads it as the lenient reading does.
    strict = decode_webhook(json.dumps(payload).encode())
    if strict is not None:
        assert _taken(normalize_webhook, strict, "fuzz", 1) == run


# Dify's whole-run answers (the poller's log page and run detail, blocking responses) and their parsers.
WHOLE_RUNS = [
    (json.loads(path.read_text()), normalize)
    for path, normalize in [
        (CAPTURES / "g_logs_simple.json", normalize_logs),
        (CAPTURES / "g_run_detail_simple.json", normalize_run_detail),
        (CAPTURES / "e_llm_simple_blocking.json", normalize_blocking),
        (EXAMPLES / "java_seed_blocking_camel.json", normalize_blocking),
    ]
]


@FUZZ
@given(
    st.sampled_from(WHOLE_RUNS).flatmap(
        lambda shape: st.tuples(
            st.just(shape),
            st.lists(st.tuples(st.sampled_from(list(_key_paths(shape[0]))), ODD | JSON), min_size=1, max_size=4),
        )
    )
)
def test_whole_run_answers_with_any_value_anywhere_are_taken_or_refused_and_taken_ones_build(
    case: tuple[tuple[Any, Callable[..., Any]], list[tuple[KeyPath, Any]]],
) -> None:
    (document, normalize), changes = case
    document = copy.deepcopy(document)
    for path, value in changes:
        _put_at(document, path, value)
    taken = _taken(normalize, document, "fuzz", 1)
    for run in taken if isinstance(taken, list) else [taken] if taken is not None else []:
        _through_the_pipeline(run)


@FUZZ
@given(JSON)
def test_random_events_are_taken_or_refused_and_taken_ones_build(obj: Any) -> None:
    _assembled_and_built([_taken(normalize_event, obj, "fuzz", 1)])


@FUZZ
@given(JSON)
def test_random_whole_runs_are_taken_or_refused_and_taken_ones_build(obj: Any) -> None:
    runs = [_taken(normalize_webhook, obj, "fuzz", 1), _taken(normalize_blocking, obj, "fuzz", 1),
            *(_taken(normalize_logs, obj, "fuzz", 1) or [])]  # fmt: skip
    for run in runs:
        if run is not None:
            _through_the_pipeline(run)


@FUZZ
@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_mutated_webhook_payloads(changes: dict[str, Any]) -> None:
    run = _taken(normalize_webhook, {**WEBHOOK, **changes}, "fuzz", 1)
    if run is not None:
        _through_the_pipeline(run)


@FUZZ
@given(st.text(max_size=300) | st.builds(lambda o: json.dumps(o), JSON))
def test_any_config_text_is_a_config_or_a_config_error(text: str) -> None:
    try:
        parse_config(text, "fuzz.yaml", environ={})
    except ConfigError as error:
        assert str(error).startswith("fuzz.yaml:")


@FUZZ
@given(TEXT)
@example("half a pair: \ud800, then more text")
def test_any_text_in_a_run_body_reaches_the_encoded_request(text: str) -> None:
    node = {**WEBHOOK["nodes"][0], "title": text, "inputs": {text: text}}
    run_id = "r" + "".join(c for c in text if c.isprintable())[:127]  # what a run id may hold: `id_fault`
    body = json.dumps({**WEBHOOK, "workflow_run_id": run_id, "error": text, "nodes": [node]}).encode()
    _through_the_pipeline(normalize_webhook(decode_json(body)))


@FUZZ
@given(st.one_of(JSON.map(json.dumps), st.lists(TEXT).map(json.dumps), st.text(max_size=60)), st.booleans())
@example('"\ud800"', False)  # a lone surrogate in the text itself: the standard library takes it
@example('"\\ud800"', True)
def test_decode_json_is_json_loads(text: str, as_bytes: bool) -> None:
    """Same value (big integers exact, NaN kept; a lone surrogate as U+FFFD) or the same error as the standard
    library."""
    document: str | bytes = text.encode("utf-8", "surrogatepass") if as_bytes else text
    try:
        expected = json.loads(document)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        try:
            decode_json(document)
        except ValueError as ours:
            assert type(ours) is type(exc) and str(ours) == str(exc)
        else:
            raise AssertionError(f"taken, but the standard library refuses it: {exc}") from None
        return
    whole = re.sub("[\ud800-\udfff]", "\ufffd", json.dumps(expected, ensure_ascii=False))
    assert json.dumps(decode_json(document), ensure_ascii=False) == whole

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, SpanContext, Status, StatusCode

from bridge.cli.commands import main
from bridge.processors import redact, sensitive
from bridge.processors.redact import Config, RedactProcessor, create, replacement
from bridge.trace.spans import build_spans
from tests.component_trio import check_decodes, check_defaults, check_invalid, invalid_cases
from tests.detectors.build import llm, node, run_spans
from tests.dify_recordings import client_answer, exported_runs, rebuilt_spans
from tests.otlp_sink import OtlpSink
from tests.runs import CAPTURES, EXAMPLES, load_runs

TESTDATA = Path(__file__).parent / "testdata" / "redact"
KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9"
EMAIL = "jane.doe@acme-corp.io"
CARD = "4539 1488 0343 6467"


def test_defaults() -> None:
    check_defaults(redact)
    assert Config() == Config(secrets="mask", personal_data="mask")


def test_decodes() -> None:
    expected = Config(
        secrets="hash",
        personal_data="drop",
        custom_patterns=["INTERNAL-[0-9]{6}"],
        allow_keys=["dify.run.id"],
        deny_keys=["http.request.header.authorization"],
    )
    check_decodes(redact, TESTDATA, expected)


@pytest.mark.parametrize(("config", "error"), invalid_cases(TESTDATA))
def test_invalid(config: Any, error: str) -> None:
    check_invalid(redact, config, error)


def test_masks_keep_a_prefix_and_a_stable_hash() -> None:
    processor = create(Config())
    once, twice = processor.redact_text(f"key {KEY}"), processor.redact_text(f"again {KEY}")
    assert KEY not in once and once == f"key {replacement(KEY, 'mask')}" and once.split()[-1] == twice.split()[-1]
    assert replacement(KEY, "mask").startswith("sk-p…#") and replacement(KEY, "hash").startswith("#")
    assert len(replacement("hunter22", "mask")) == len("…#") + 8  # a short value keeps no prefix


@pytest.mark.parametrize(
    "value",
    ["jane.doe@example.com", "4111 1111 1111 1111", "4242424242424242", "password: example-pass-1", "dummy",
     # `YOUR_API_KEY` and `sk-...` are left (branch redact-9), not a value holding a digit
     "password: your_secret_2024!", 'api_key="abc...1234567"'],
)  # fmt: skip
def test_examples_and_test_numbers_are_masked_all_the_same(value: str) -> None:
    # The detector leaves them out (a test workflow's numbers are no leak); redaction masks anything that could be
    # real, so that the first test anyone tries works (issue 27, item 6).
    text = f"{value} and sk-proj-dummy{'A1b2' * 5}"
    redacted = create(Config()).redact_text(text)
    assert "sk-proj-dummy" not in redacted
    if value != "dummy":
        assert value.split()[-1] not in redacted


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (Config(), [f"k={replacement(KEY, 'mask')}", f"mail {replacement(EMAIL, 'mask')}"]),
        (Config(personal_data="off"), [f"k={replacement(KEY, 'mask')}", f"mail {EMAIL}"]),
        (Config(secrets="drop", personal_data="hash"), ["k=[redacted]", f"mail {replacement(EMAIL, 'hash')}"]),
        (Config(secrets="off", personal_data="off"), [f"k={KEY}", f"mail {EMAIL}"]),
    ],
)
def test_modes_over_span_attributes(cfg: Config, expected: list[str]) -> None:
    spans = run_spans(
        [node("t", "tool", outputs={"text": f"k={KEY}"}), node("m", "code", outputs={"text": f"mail {EMAIL}"})]
    )
    out = create(cfg).process(spans)
    values = [
        json.loads(str((s.attributes or {})["output.value"]))["text"]
        for s in out
        if (s.attributes or {}).get("dify.node.type") in ("tool", "code")
    ]
    assert values == expected


def test_allow_deny_custom_patterns_and_events() -> None:
    processor = create(
        Config(custom_patterns=["INTERNAL-[0-9]{6}"], allow_keys=["input.value"], deny_keys=["dify.node.title"])
    )
    spans = run_spans([node("t", "tool", inputs={"ticket": "INTERNAL-123456"}, outputs={"ticket": "INTERNAL-123456"},
                            status="failed", error=f"auth failed for {KEY}")])  # fmt: skip
    tool = next(s for s in processor.process(spans) if (s.attributes or {}).get("dify.node.type") == "tool")
    attributes = tool.attributes or {}
    assert "INTERNAL-123456" in str(attributes["input.value"])  # allowed key: untouched
    assert "INTERNAL-123456" not in str(attributes["output.value"])
    assert "dify.node.title" not in attributes
    assert KEY not in str(tool.events[0].attributes)
    assert tool.status.description == f"auth failed for {replacement(KEY, 'mask')}"


def test_detectors_see_originals_the_backend_only_masked_values(tmp_path: Path, otlp_sink: OtlpSink) -> None:
    payload = {"workflow_run_id": "leak-2", "status": "succeeded", "nodes": [
        node("vault", "tool", outputs={"text": f"key={KEY}"}), llm(prompt=f"use {KEY}")]}  # fmt: skip
    runs = tmp_path / "run.json"
    runs.write_text(json.dumps(payload))
    config = tmp_path / "c.yaml"
    config.write_text(
        f'exporters: {{otlp: {{endpoint: "{otlp_sink.grpc_endpoint}", tls: {{insecure: true}}}}}}\n'
        "processors: {detectors: {}, batch: {timeout: 10ms}}\n"  # no redact listed: the default one runs
        "service: {pipelines: {traces: {processors: [detectors, batch], exporters: [otlp]}}}\n"
    )
    assert main(["replay", "--config", str(config), str(runs)]) == 0
    spans = otlp_sink.wait_for_spans(3)
    exported = [(s.attributes, s.events, s.status_message) for s in spans]
    assert KEY not in json.dumps(exported, default=str)
    (llm_span,) = [s for s in spans if s.attributes.get("dify.node.type") == "llm"]
    assert any(e[2].get("detection.detector") == "dify_variable_leak" for e in llm_span.events)
    assert replacement(KEY, "mask") in llm_span.attributes["llm.input_messages.0.message.content"]


def test_a_clean_trace_comes_back_as_the_same_spans() -> None:
    spans = run_spans([node("t", "tool", outputs={"text": "all fine"}), llm(prompt="hello"),
                       node("c", "code", status="failed", error="division by zero")])  # fmt: skip
    out = create(Config(custom_patterns=[r"^token-\d+$"], allow_keys=["input.value"])).process(spans)
    assert len(out) == len(spans) and all(a is b for a, b in zip(out, spans, strict=True))


def _scanned_by_one_scan(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the one-scan check reads, joined, as each call of it sees them."""
    scanned: list[str] = []
    scan = sensitive.sensitive_values

    def recording(text: str, personal: bool, exempt_examples: bool = True) -> dict[str, str]:
        scanned.append(text)
        return scan(text, personal, exempt_examples)

    monkeypatch.setattr(redact, "sensitive_values", recording)
    return scanned


def test_texts_a_clean_trace_held_are_not_scanned_again(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = _scanned_by_one_scan(monkeypatch)
    processor = create(Config())
    first = run_spans([node("t", "tool", outputs={"text": "all fine here"}), llm(prompt="say hello")])
    assert processor.process(first) is first
    (joined,) = scanned
    assert "all fine here" in joined and "say hello" in joined
    again = run_spans([node("t", "tool", outputs={"text": "all fine here"}), llm(prompt="say goodbye")])
    assert processor.process(again) is again
    assert len(scanned) == 2 and "say goodbye" in scanned[1] and "say hello" not in scanned[1]
    assert processor.process(first) is first and len(scanned) == 2  # every text known clean: no scan at all


def test_a_secret_beside_texts_known_clean_is_masked_all_the_same() -> None:
    processor = create(Config())
    clean = run_spans([node("t", "tool", outputs={"text": "all fine here"}), llm(prompt="say hello")])
    assert processor.process(clean) is clean
    leaking = run_spans([node("t", "tool", outputs={"text": "all fine here"}), llm(prompt=f"say hello {KEY}")])
    out = processor.process(leaking)
    assert KEY not in repr(_view(out)) and replacement(KEY, "mask") in repr(_view(out))
    assert "all fine here" in repr(_view(out))


def test_texts_known_clean_are_forgotten_past_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = _scanned_by_one_scan(monkeypatch)
    monkeypatch.setattr(redact, "KNOWN_CLEAN_CHARS", 10)
    processor = create(Config())
    first = run_spans([llm(prompt="say hello")])
    second = run_spans([llm(prompt="say goodbye")])
    for spans in (first, second, first):
        assert processor.process(spans) is spans
    # The first trace's texts passed the bound: forgotten when the second's were kept, so read again.
    assert len(scanned) == 3 and "say hello" in scanned[2]


class PerText(RedactProcessor):
    """The per-text path alone: what `process` returned before the one-scan shortcut."""

    def _clean(self, spans: Sequence[ReadableSpan]) -> bool:
        return False


KEYS = [
    "input.value",
    "output.value",
    "user.email",
    "http.header.authorization",
    "dify.node.title",
    "db.password",
    f"x {KEY}",
]
TEXTS = st.sampled_from(
    [
        "",
        "ok",
        "token-42",
        "id token-42",
        f"key {KEY}",
        KEY,
        f"mail {EMAIL}",
        f"card {CARD}",
        "user@example.com",
        "+44 20 7946 0958",
        "password: hunter22",
        "sk-xxxxxxxxxxxxxxxxxxxxxxxx",
    ]
)
VALUES = st.one_of(
    TEXTS,
    st.integers(),
    st.booleans(),
    TEXTS.map(str.encode),  # OTLP bytes
    st.dictionaries(st.sampled_from(KEYS), TEXTS, max_size=2),  # an OTLP kvlist
    st.lists(st.one_of(TEXTS, st.integers()), max_size=3),
    st.lists(st.one_of(TEXTS, st.integers()), max_size=3).map(tuple),
)
ATTRIBUTES = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)


@st.composite
def traces(draw: st.DrawFn) -> list[ReadableSpan]:
    spans = []
    for position in range(draw(st.integers(1, 4))):
        events = [Event(draw(TEXTS), draw(ATTRIBUTES), 1) for _ in range(draw(st.integers(0, 2)))]
        status = draw(st.one_of(st.just(Status(StatusCode.UNSET)), TEXTS.map(lambda t: Status(StatusCode.ERROR, t))))
        context = SpanContext(trace_id=1, span_id=position + 1, is_remote=False)
        spans.append(
            ReadableSpan(
                name=f"s{position} {draw(TEXTS)}",
                context=context,
                resource=Resource(draw(ATTRIBUTES)),
                links=[Link(context, draw(ATTRIBUTES)) for _ in range(draw(st.integers(0, 1)))],
                attributes=draw(ATTRIBUTES),
                events=events,
                status=status,
                start_time=1,
                end_time=2,
            )
        )
    return spans


def _view(spans: Sequence[ReadableSpan]) -> list[Any]:
    return [
        (
            s.name,
            dict(s.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in s.events],
            [dict(link.attributes or {}) for link in s.links],
            dict(s.resource.attributes),
            s.status.status_code,
            s.status.description,
        )
        for s in spans
    ]


@settings(max_examples=400, deadline=None)
@given(
    spans=traces(),
    modes=st.tuples(*[st.sampled_from(["off", "mask", "hash", "drop"])] * 2),
    allow=st.lists(st.sampled_from(KEYS), max_size=2),
    deny=st.lists(st.sampled_from(KEYS), max_size=1),
    custom=st.sampled_from([[], [r"^token-\d+$"], [r"^token-\d+$", r"\A\Z"]]),
)
def test_one_scan_shortcut_returns_what_the_per_text_path_returns(
    spans: list[ReadableSpan], modes: tuple[Any, Any], allow: list[str], deny: list[str], custom: list[str]
) -> None:
    cfg = Config(secrets=modes[0], personal_data=modes[1], custom_patterns=custom, allow_keys=allow, deny_keys=deny)
    assert _view(create(cfg).process(spans)) == _view(PerText(cfg).process(spans))


@settings(max_examples=150, deadline=None)
@given(batches=st.lists(traces(), min_size=2, max_size=4), personal=st.sampled_from(["off", "mask"]))
def test_one_processor_over_many_traces_returns_what_the_per_text_path_returns(
    batches: list[list[ReadableSpan]], personal: Any
) -> None:
    """Texts known clean from earlier traces (`_clean`) change nothing of what a later trace becomes."""
    processor, per_text = create(Config(personal_data=personal)), PerText(Config(personal_data=personal))
    for spans in batches:
        assert _view(processor.process(spans)) == _view(per_text.process(spans))


@pytest.mark.parametrize(
    "place", ["name", "key", "kvlist", "kvlist key", "bytes", "array", "event name", "link", "resource", "named"]
)
def test_a_secret_in_any_one_place_is_masked(place: str) -> None:
    """Each place alone: the one-scan shortcut must see it too, or the span goes out untouched."""
    context = SpanContext(trace_id=1, span_id=1, is_remote=False)
    places: dict[str, dict[str, Any]] = {
        "key": {f"x {KEY}": 1},
        "kvlist": {"config": {"value": f"k={KEY}"}},
        "kvlist key": {"config": {f"x {KEY}": "1"}},
        "bytes": {"body": f"k={KEY}".encode()},
        "array": {"tags": ("a", f"k={KEY}")},
        "named": {"db.password": "Qz8Tw1Lm0c"},
    }
    attributes = places.get(place, {})
    span = ReadableSpan(
        name=f"call {KEY}" if place == "name" else "call",
        context=context,
        attributes={**attributes, "ok": "fine"},
        events=[Event(f"log {KEY}" if place == "event name" else "log", {}, 1)],
        links=[Link(context, {"note": f"k={KEY}"} if place == "link" else {})],
        resource=Resource({"deploy.note": f"k={KEY}"} if place == "resource" else {}),
        start_time=1,
        end_time=2,
    )
    (out,) = create(Config()).process([span])
    assert out is not span
    assert KEY not in repr(_view([out])) and "Qz8Tw1Lm0c" not in repr(_view([out]))
    assert str(KEY.encode()) not in repr(_view([out]))


def test_placeholders_are_left_and_masking_twice_changes_nothing() -> None:
    processor = create(Config())
    placeholders = [
        "api_key: sk-xxxxxxxxxxxxxxxxxxxxxxxx",
        "password: ********",
        "token: <your token here>",
        "password: ${env:DB_PASSWORD}",
        '{"api_key": "{{#start.api_key#}}"}',
        "secret = …#1f3a9c2e",
    ]
    for text in placeholders:
        assert processor.redact_text(text) == text
    once = processor.redact_text(f'{{"password": "hunter2hunter2", "key": "{KEY}", "mail": "{EMAIL}"}} {CARD}')
    assert processor.redact_text(once) == once and "hunter2" not in once


def test_credentials_named_in_other_languages_or_in_prose_are_masked() -> None:
    processor = create(Config())
    for text, value in [
        ("仓库密码：Wh7kq29Lmx", "Wh7kq29Lmx"),  # noqa: RUF001 (the full-width colon, as written)
        ("Das Passwort lautet Sommer2024!x", "Sommer2024!x"),
        ("contraseña: Almac3n#2024", "Almac3n#2024"),
        ("The API key is 9f8e7d6c5b4a39281706f5e4d3c2b1a0.", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ]:
        masked = processor.redact_text(text)
        assert value not in masked and masked.endswith(
            (replacement(value, "mask"), replacement(value, "mask") + ".")
        ), masked


def test_an_authorization_header_after_an_escaped_line_break_is_masked() -> None:
    """An HTTP node's request as JSON text: the header follows `\\n` as written, whose `n` is a letter before the
    header's name. Before the fix the Bearer value (with a `!`, which the Bearer pattern does not take) was exported."""
    processor = create(Config())
    text = '{"request": "GET /v1/x HTTP/1.1\\r\\nAuthorization: Bearer Lato!2026zq9X\\r\\n\\r\\n"}'
    assert "Lato!2026zq9X" not in processor.redact_text(text)


def _recorded_traces() -> list[list[ReadableSpan]]:
    """Every recorded run of a real Dify 1.14.1 (captures, service-API answers, its own export and the stream of
    the same run) and the hand-written examples, as spans."""
    api = CAPTURES.parent / "dify-1.14.1-api"  # its logs pages and run details are runs; the rest is not
    files = [path for folder in (EXAMPLES, CAPTURES) for path in sorted(folder.iterdir()) if path.suffix != ".md"]
    files += sorted([*api.glob("logs_*.json"), *api.glob("run_detail_*.json")])
    runs = [run for path in files for run in load_runs(path)]
    runs += [run for name in exported_runs() for run in load_runs(client_answer(name))]
    return [build_spans(run) for run in runs] + [rebuilt_spans(name) for name in exported_runs()]


def _texts(span: ReadableSpan) -> tuple[Any, ...]:
    events = [(event.name, dict(event.attributes or {})) for event in span.events]
    return span.name, dict(span.attributes or {}), events, span.status.description, dict(span.resource.attributes)


def test_nothing_in_the_recorded_runs_is_masked() -> None:
    # docs/security.md's "False positives" figure: the default `redact` changes no span of a real run.
    traces = _recorded_traces()
    assert (len(traces), sum(map(len, traces))) == (127, 824)  # the figure docs/security.md gives
    processor = create(Config())
    changed = [
        span.name
        for spans in traces
        for span, out in zip(spans, processor.process(spans), strict=True)
        if _texts(span) != _texts(out)
    ]
    assert changed == []
    # It can fail: a key in a recorded answer is masked.
    first = traces[0][0]
    planted = ReadableSpan(name=f"{first.name} {KEY}", context=first.context, resource=first.resource)
    assert _texts(processor.process([planted])[0]) != _texts(planted)

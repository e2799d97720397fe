"""A value `redact` masked anywhere in a run is masked wherever else it stands in the run, with the same mask
(bridge/processors/run_values.py); short or merely wordy values, and parts of longer numbers and words, are not."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from bridge.processors import detectors, redact
from bridge.processors.redact import replacement
from bridge.processors.run_values import CUT_MARK, Masker, RunValues
from bridge.service.pipeline import Pipeline
from bridge.trace.spans import with_attributes
from detectors import Finding
from tests.detectors.build import llm, node, run_spans

ACCOUNT = "284468544249"


def _texts(spans: Sequence[ReadableSpan]) -> str:
    """Every exported text of `spans`, one string to search."""
    return repr(
        [
            (span.name, dict(span.attributes or {}), span.status.description, dict(span.resource.attributes),
             [(event.name, dict(event.attributes or {})) for event in span.events])
            for span in spans
        ]
    )  # fmt: skip


def _pipeline(*found: Finding) -> Pipeline:
    """The default order, `detectors` then `redact`, with a detector that reports `found`."""
    detection = detectors.create(detectors.Config())
    detection.detectors = [("stub", lambda trace: list(found))]
    return Pipeline("traces", [detection, redact.create(redact.Config())], ["otlp"])


def test_a_findings_evidence_quoting_a_labelled_account_number_is_masked() -> None:
    spans = run_spans(
        [
            node("lookup", "tool", outputs={"text": f"Customer found: account number {ACCOUNT}, status active."}),
            llm(answer="The customer's account is active."),
        ]
    )
    finding = Finding(
        "hallucination", "medium", 0.8, f"The answer states {ACCOUNT} found in none of its sources",
        {"figure": ACCOUNT, "quote": f"account {ACCOUNT}"},
    )  # fmt: skip
    out, findings = _pipeline(finding).process(spans)
    assert findings == [finding]
    events = [event for span in out for event in span.events]
    explanation = next(e for e in events if e.name == detectors.EVALUATION_EVENT).attributes or {}
    evidence = next(e for e in events if e.name == "detection").attributes or {}
    mask = replacement(ACCOUNT, "mask")
    assert explanation["gen_ai.evaluation.explanation"] == f"The answer states {mask} found in none of its sources"
    assert evidence["detection.evidence"] == f'{{"figure":"{mask}","quote":"account {mask}"}}'
    assert ACCOUNT not in _texts(out)


def test_an_llm_answer_repeating_a_password_without_its_label_is_masked() -> None:
    spans = run_spans(
        [llm(prompt="Reset my mailbox, my password: hunter2xyz", answer="Done: hunter2xyz was replaced.")]
    )
    assert "hunter2xyz" in _texts(spans)
    out, _ = _pipeline().process(spans)
    assert "hunter2xyz" not in _texts(out)
    assert f"Done: {replacement('hunter2xyz', 'mask')} was replaced." in _texts(out)


def test_the_same_value_gets_the_same_mask_everywhere() -> None:
    spans = run_spans(
        [
            node("form", "code", outputs={"line": f"IBAN-less transfer from account number {ACCOUNT}"}),
            node("note", "code", outputs={"raw": f"{ACCOUNT}", "list": [f"({ACCOUNT})"]}, title=f"check {ACCOUNT}"),
            llm(answer=f"Transfer from {ACCOUNT} booked; again {ACCOUNT}."),
        ]
    )
    out = redact.create(redact.Config(personal_data="hash")).process(spans)
    text = _texts(out)
    assert ACCOUNT not in text
    mask = replacement(ACCOUNT, "hash")
    assert text.count(mask) >= 6 and "…#" not in text  # one mask, the mode of where it was labelled


def test_a_pin_or_a_number_inside_a_longer_one_is_left_alone() -> None:
    spans = run_spans(
        [
            node("form", "code", outputs={"text": f"PIN: 3508, account number {ACCOUNT}"}),
            llm(answer=f"Rate 1.053508 on 9{ACCOUNT}, {ACCOUNT}.75 and ACC{ACCOUNT}x; room 3508; paid from {ACCOUNT}."),
        ]
    )
    out = redact.create(redact.Config()).process(spans)
    text = _texts(out)
    assert "PIN: " + replacement("3508", "mask") in text  # masked where it is labelled: too short to carry over
    mask = replacement(ACCOUNT, "mask")
    assert f"Rate 1.053508 on 9{ACCOUNT}, {ACCOUNT}.75 and ACC{ACCOUNT}x; room 3508; paid from {mask}." in text


def test_a_one_word_password_is_masked_only_where_it_is_labelled() -> None:
    # A password that is a word recurs as that word: masking it in every sentence would mask the language.
    spans = run_spans([llm(prompt="password: Wonderful", answer="What a Wonderful day.")])
    text = _texts(redact.create(redact.Config()).process(spans))
    assert replacement("Wonderful", "mask") in text and "What a Wonderful day." in text


def test_a_value_in_the_resource_is_masked_in_every_span_sharing_it() -> None:
    spans = run_spans([node("form", "code", outputs={"text": f"account number {ACCOUNT}"}), llm(answer="ok")])
    resource = Resource({**spans[0].resource.attributes, "service.instance.id": f"bank-{ACCOUNT}"})
    spans = [with_attributes(span, span.attributes or {}, resource=resource) for span in spans]
    out = redact.create(redact.Config()).process(spans)
    assert ACCOUNT not in _texts(out) and len({id(span.resource) for span in out}) == 1


def test_a_value_masked_by_its_attributes_name_is_masked_as_json_quotes_it() -> None:
    password = 'Pa"ss\\word42'  # a quote and a backslash: JSON writes them escaped in the finding's evidence
    spans = run_spans([llm(answer="ok")])
    spans[-1] = with_attributes(spans[-1], {**(spans[-1].attributes or {}), "db.password": password})
    finding = Finding("cost", "low", 0.5, "a password in the request", {"sent": password})
    out, _ = _pipeline(finding).process(spans)
    evidence = next(e for span in out for e in span.events if e.name == "detection").attributes or {}
    assert evidence["detection.evidence"] == f'{{"sent":"{replacement(password, "mask")}"}}'


def test_a_piece_of_a_masked_value_in_evidence_cut_short_is_masked() -> None:
    spans = run_spans([node("form", "code", outputs={"text": f"account number {ACCOUNT}"}), llm(answer="ok")])
    # The evidence is cut by `evidence_max_bytes` in the middle of the account number.
    quote = "x" * (64 - len('{"quote":"') - 8 - len(CUT_MARK)) + " " + ACCOUNT  # 7 of its digits kept
    finding = Finding("cost", "low", 0.5, "a quote", {"quote": quote})
    detection = detectors.create(detectors.Config(evidence_max_bytes=64))
    detection.detectors = [("stub", lambda trace: [finding])]
    out, _ = Pipeline("traces", [detection, redact.create(redact.Config())], ["otlp"]).process(spans)
    evidence = next(e for span in out for e in span.events if e.name == "detection").attributes or {}
    cut = str(evidence["detection.evidence"])
    assert cut.endswith(f"x {replacement(ACCOUNT, 'mask')}{CUT_MARK}") and ACCOUNT[:7] not in cut


def test_text_ending_in_dots_keeps_a_number_that_only_shares_a_values_first_digits() -> None:
    spans = run_spans([node("form", "code", outputs={"text": f"account number {ACCOUNT}"}), llm(answer="ok, 284...")])
    text = _texts(redact.create(redact.Config()).process(spans))
    assert "ok, 284..." in text  # three digits: under CUT_PIECE_FROM


def test_a_run_that_masked_nothing_needs_no_second_pass() -> None:
    spans = run_spans([llm(prompt="hello", answer="We met at 10 dot com party; see ISBN 978-3-16-148410-0.")])
    out = redact.create(redact.Config()).process(spans)
    assert all(new is old for new, old in zip(out, spans, strict=True))
    assert not RunValues({}, frozenset(), frozenset()) and not RunValues({"short": "…"}, frozenset(), frozenset())


def test_the_second_pass_walks_only_the_spans_whose_texts_hold_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    spans = run_spans(
        [node("form", "code", outputs={"text": f"account number {ACCOUNT}"}), llm(answer="ok"),
         llm(answer=f"Paid from {ACCOUNT}.")]
    )  # fmt: skip
    walked: list[str] = []
    walk = redact._span

    def counted(span: ReadableSpan, resources: dict[int, Resource], masker: Masker) -> ReadableSpan:
        if isinstance(masker, RunValues):
            walked.append(_texts([span]))
        return walk(span, resources, masker)

    monkeypatch.setattr(redact, "_span", counted)
    out = redact.create(redact.Config()).process(spans)
    assert ACCOUNT not in _texts(out) and replacement(ACCOUNT, "mask") in _texts(out[-1:])
    # Only the answer repeating it is walked again: the first pass masked it where its label stood.
    assert len(walked) == 1 and f"Paid from {ACCOUNT}." in walked[0]


def test_a_text_known_clean_without_its_label_is_masked_in_a_run_that_labels_it() -> None:
    # `redact` remembers texts it found clean across runs (`_clean`); a text clean on its own is clean in any run,
    # and the run-wide pass reads every span of a run that masked a value, known clean or not.
    answer = f"Transfer from {ACCOUNT} booked."
    bare = run_spans([llm(answer=answer)], app_id="bank")
    labelled = run_spans(
        [node("form", "code", outputs={"text": f"account number {ACCOUNT}"}), llm(answer=answer)], app_id="bank"
    )
    processor = redact.create(redact.Config())
    assert processor.process(bare) == bare  # a bare number: nothing to mask, the texts now known clean
    seen_after = _texts(processor.process(labelled))
    assert ACCOUNT not in seen_after
    assert seen_after == _texts(redact.create(redact.Config()).process(labelled))  # as a new processor's
    assert processor.process(bare) == bare  # and the bare run is still left as it was


def test_what_a_run_exports_does_not_depend_on_the_runs_before_it() -> None:
    runs = [
        run_spans([node("form", "code", outputs={"text": text}), llm(answer=answer)], app_id="shop")
        for text, answer in (
            ("order 123-45-6789 shipped", "ok"),  # an SSN's shape without its label
            ("SSN 123-45-6789", "The SSN 123-45-6789 is on file."),
            ("password: hunter2xyz", "hunter2xyz it is"),
            ("hunter2xyz it is", "ok"),
        )
    ]
    alone = [_texts(redact.create(redact.Config()).process(spans)) for spans in runs]
    for order in (runs, runs[::-1]):
        processor = redact.create(redact.Config())
        seen = {id(spans): _texts(processor.process(spans)) for spans in order}
        assert [seen[id(spans)] for spans in runs] == alone
    assert "6789" not in "".join(alone) and "hunter2xyz" not in "".join(alone[2:3])


def test_a_text_with_a_control_character_is_masked_beside_another_script_and_after_it() -> None:
    # Alone it is scanned with the ASCII patterns, where `\x1f` is no space; joined with Russian text it was scanned
    # with the Unicode ones, found clean, and remembered so: the same text alone then passed too.
    text = "login: \x1falice / Al1ce!q8Zx"
    processor = redact.create(redact.Config())
    for attributes in ({"greeting": "Привет", "note": text}, {"note": text}):
        span = ReadableSpan("step", SpanContext(1, 2, is_remote=False), attributes=attributes, start_time=1, end_time=2)
        assert "Al1ce!q8Zx" not in _texts(processor.process([span]))


@pytest.mark.xfail(strict=True, reason="the run-wide pass covers one `process()` call (docs/security.md)")
def test_a_value_labelled_in_one_batch_of_a_trace_is_masked_in_a_later_batch() -> None:
    # A trace's spans reach `redact` in two calls when OTLP spans of a trace the bridge already rebuilt arrive late
    # (bridge/service/otlp_traces.py, `TraceRebuilder.send`): the later call does not know what the earlier one masked.
    spans = run_spans([node("form", "code", outputs={"text": f"account number {ACCOUNT}"}), llm(answer=ACCOUNT)])
    processor = redact.create(redact.Config())
    first, later = processor.process(spans[:-1]), processor.process(spans[-1:])
    assert ACCOUNT not in _texts([*first, *later])

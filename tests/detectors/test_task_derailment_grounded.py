"""`task_derailment`'s habit of answering from what the run was given (`detectors/task_derailment_parts/grounded.py`):
an app whose answers take their words from its notes or its data, not from the question."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.detectors import Config, DetectionProcessor
from detectors import Finding, registry
from tests.detectors.build import llm, run_spans

_NOTES = (
    "Desk booking in Robin, up to fourteen days ahead. Payroll runs on the 25th; payslips are in Workday. Parking "
    "permits come from facilities on floor two. Remote access: GlobalProtect, portal vpn.acme.example."
)
# Right answers taking the notes' words, none of their question's.
_ASKED = [
    ("Can I reserve a workstation next week?", "Yes, in Robin, up to fourteen days ahead."),
    ("When do we get paid this month?", "Payroll runs on the 25th; payslips are in Workday."),
    ("Where should I leave my car?", "Parking permits come from facilities on floor two."),
    ("How do I connect from home?", "Use GlobalProtect, the portal is vpn.acme.example."),
    ("Where is my salary slip?", "Payslips are in Workday, under Pay."),
    ("Could I grab a workstation tomorrow?", "Sure, book it in Robin up to fourteen days ahead."),
]
_POEM = "Here is a short poem for your Monday: the coffee is warm, the inbox is full, every task less a pull."


def _processor() -> DetectionProcessor:
    others = {key: {"enabled": False} for key in registry() if key != "task_derailment"}
    return DetectionProcessor(Config.model_validate(others))


def _desk(question: str, answer: str, notes: str = _NOTES) -> list[ReadableSpan]:
    """An internal helpdesk chatflow: one LLM, the notes in its system prompt, nothing retrieved."""
    prompt = f"You are the helpdesk assistant. Reply short, only from these notes: {notes}\n{question}"
    return run_spans([llm(prompt=prompt, answer=answer)], app_id="desk", inputs={"sys.query": question},
                     outputs={"answer": answer})  # fmt: skip


def _found(processor: DetectionProcessor, spans: list[ReadableSpan]) -> list[Finding]:
    return [f for f in processor.detect(spans) if f.detector == "task_derailment"]


def _warmed(notes: str = _NOTES) -> DetectionProcessor:
    processor = _processor()
    for question, answer in _ASKED:
        assert _found(processor, _desk(question, answer, notes)) == []
    return processor


def test_an_answer_taking_nothing_from_the_notes_where_the_app_s_answers_always_do() -> None:
    """The app's answers never name their question, so it has no habit of doing so; each took the notes' words. A
    poem takes none of them, nor the question's."""
    (finding,) = _found(_warmed(), _desk("Can I book a meeting room for Friday?", _POEM))
    assert finding.evidence["rule"].startswith("the answer takes 1 of its 11 terms from what the run was given")


def test_a_right_answer_from_the_notes_or_an_app_whose_answers_take_nothing_of_its_prompt() -> None:
    """An answer from the notes is the app's way; a plain chat app (a prompt of no notes) has no such habit: its
    right short answers take nothing from it either."""
    assert _found(_warmed(), _desk("Can I get a spot for my bike?", "Parking permits come from facilities.")) == []
    plain = "Be kind."
    processor = _warmed(plain)
    assert _found(processor, _desk("Can I book a meeting room for Friday?", _POEM, plain)) == []

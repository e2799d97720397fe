"""`task_derailment`'s refusal of the app's own task (`detectors/task_derailment_parts/withheld.py`): told by figures,
in any language, not by a refusal's words."""

from __future__ import annotations

import json

from opentelemetry.sdk.trace import ReadableSpan

from bridge.processors.detectors import Config, DetectionProcessor
from detectors import registry
from tests.detectors.build import llm, node, run_spans


def _processor() -> DetectionProcessor:
    others = {key: {"enabled": False} for key in registry() if key != "task_derailment"}
    return DetectionProcessor(Config.model_validate(others))


def _desk(question: str, answer: str, boats: list[tuple[str, int]], read: bool = True) -> list[ReadableSpan]:
    """A houseboat desk's workflow: the bookings API, a code node counting them (its defaults where it read nothing:
    a renamed field), an LLM sent the count, the answer."""
    body = json.dumps({"items": [{"boat": boat, "guests": guests} for boat, guests in boats]})
    listed = ", ".join(f"{boat} ({guests})" for boat, guests in boats) if read else ""
    counted = {"count": len(boats) if read else 0, "boats": listed}
    prompt = f"You are the desk assistant. Bookings: {counted['count']}: {listed}. Question: {question}"
    nodes = [
        node("api", "http-request", outputs={"status_code": 200, "body": body}),
        node("count", "code", outputs=counted),
        llm(prompt=prompt, answer=answer),
    ]
    return run_spans(nodes, app_id="desk", inputs={"date": "2027-01-15", "question": question},
                     outputs={"reply": answer, "count": counted["count"]})  # fmt: skip


_ASKED = [
    ("How many bookings are there on the 11th?", "On the 11th there are 3 bookings: Kairali, Thenmala, Vembanad."),
    ("Which boats are booked on the 12th?", "On the 12th 2 boats are booked: Kairali and Thenmala."),
    ("How many guests are booked on the 10th?", "On the 10th the bookings bring 9 guests."),
    ("Which boats are booked on the 13th?", "On the 13th 3 boats are booked, 12 guests in all."),
]
_BOATS = [("Kairali", 2), ("Thenmala", 3), ("Vembanad Pearl", 4)]
_REFUSAL = "Sorry, I am not allowed to share any details of this kind with you today."


def _warmed() -> DetectionProcessor:
    processor = _processor()
    for question, answer in _ASKED:
        assert processor.detect(_desk(question, answer, _BOATS)) == []
    return processor


def test_a_refusal_of_the_app_s_task_with_the_data_at_hand() -> None:
    """The bookings came back, the code counted them, the LLM was sent the count, and the answer states no figure
    to a question the app answered with one before: a refusal of its task, whatever language it is written in."""
    (finding,) = _warmed().detect(_desk("Which boats are booked on the 15th?", _REFUSAL, _BOATS))
    assert finding.detector == "task_derailment"
    assert finding.evidence["rule"].startswith("the answer states no figure of the data the run fetched")


def test_an_honest_answer_where_the_data_did_not_reach_the_llm_or_the_question_is_new() -> None:
    """A renamed field left the code its defaults (nothing reached the LLM: "no bookings came back" is true); a
    question the app was never asked alike ("may I bring my dog?"); a lookup that found nothing."""
    question = "Which boats are booked on the 15th?"
    assert _warmed().detect(_desk(question, "Sorry, no booking details came back from the system.", _BOATS,
                                  read=False)) == []  # fmt: skip
    assert _warmed().detect(_desk("May I bring my dog along on the houseboat trip?", _REFUSAL, _BOATS)) == []
    assert _warmed().detect(_desk(question, _REFUSAL, [])) == []


def test_the_app_s_own_reply_on_a_failed_node_s_branch_is_not_judged() -> None:
    """The quote API failed (Dify's `exception`: a fail branch), a template told the user to call: the app's words,
    not a model's, sharing nothing with the question nor the pages. The same text written by the run's LLM, with
    every node succeeded, is judged."""
    question = "Please quote me two loaves of rye bread for Saturday morning."
    reply = "Pricing is unavailable right now; telephone the counter between eight and noon instead."
    page = '{"status_code": 200, "body": "{\\"loaf\\": \\"rye\\", \\"pieces\\": 2}"}'

    def run(failed: bool) -> list[ReadableSpan]:
        menu = node("menu", "http-request", outputs={"status_code": 200, "body": page})
        quote = node("quote", "http-request", status="exception" if failed else "succeeded", outputs={})
        writer = (
            node("sorry", "template-transform", outputs={"output": reply})
            if failed
            else llm(prompt=f"Quote this order. {question}", answer=reply)
        )
        return run_spans([menu, quote, writer], inputs={"sys.query": question}, outputs={"answer": reply})

    assert _processor().detect(run(failed=True)) == []
    assert [f.detector for f in _processor().detect(run(failed=False))] == ["task_derailment"]


def test_a_declining_answer_to_a_question_in_other_words_than_those_answered_before() -> None:
    """ "Are the boats full on the 15th?" shares one word with the questions answered with figures before, not two:
    said to decline ("Sorry, I cannot..."), the answer turns the app's task away; the same words without a decline,
    or a decline to a question sharing no word with them, are left alone."""
    question = "Are the boats full on the 15th?"
    (finding,) = _warmed().detect(_desk(question, "Sorry, I cannot give out any of that today.", _BOATS))
    assert finding.evidence["rule"].startswith("the answer states no figure of the data the run fetched")
    calm = _warmed().detect(_desk(question, "It should be a quiet and pleasant day on the water.", _BOATS))
    assert not [f for f in calm if f.evidence["rule"].startswith("the answer states no figure")]
    assert _warmed().detect(_desk("Can I bring a dog along?", "Sorry, I cannot give out any of that today.",
                                  _BOATS)) == []  # fmt: skip


def test_a_declining_answer_in_the_app_s_own_words_is_no_right_answer_in_them() -> None:
    """ "Sorry, I cannot tell which boats are booked": the words of the app's answers to such questions, turned away;
    a right answer in those words speaks of what such questions get, a decline in them does not."""
    refusal = "Sorry, I cannot tell which boats are booked for that day."
    (finding,) = _warmed().detect(_desk("Which boats are booked on the 15th?", refusal, _BOATS))
    assert finding.detector == "task_derailment"


def _leave_desk(question: str, answer: str) -> list[ReadableSpan]:
    """An HR desk answering from its notes in the system prompt: nothing retrieved, no tool, no figure fetched."""
    notes = "Annual leave: twenty-five days a year, five carry over. Sick leave: tell your manager before ten."
    return run_spans([llm(prompt=f"You are the HR desk. Answer only from these notes: {notes} {question}",
                          answer=answer)],
                     app_id="hr", inputs={"sys.query": question}, outputs={"answer": answer})  # fmt: skip


_LEAVE = [
    ("How many leave days do I get each year?", "You get twenty-five days of annual leave a year."),
    ("Can unused leave days carry over to next year?", "Yes, up to five unused leave days carry over."),
    ("How do leave days work in my first year?", "Your leave days build up over the year, twenty-five in all."),
]


def test_a_refusal_of_a_question_the_app_answered_alike_before() -> None:
    """The desk answered leave questions from its notes; now it says it cannot help with one, stating nothing: it
    turned its own task away (held-out 19's "I can't help with leave questions", held-out 20's "I'm not able to
    answer questions about this topic"). A refusal of a question never asked alike, a redirect to what the app does,
    and the app's usual answer are left alone."""

    def warmed() -> DetectionProcessor:
        processor = _processor()
        for question, answer in _LEAVE:
            assert processor.detect(_leave_desk(question, answer)) == []
        return processor

    question = "How many vacation leave days do I have per year?"
    refusal = "I'm not able to answer questions about this topic. Please contact HR directly."
    (finding,) = warmed().detect(_leave_desk(question, refusal))
    assert finding.evidence["rule"].startswith("the answer declines a question the app answered without declining")
    assert warmed().detect(_leave_desk("Can I bring my dog to the office on Fridays?", refusal)) == []
    redirect = "Sorry, I can only help with questions about leave and sick days."
    assert warmed().detect(_leave_desk(question, redirect)) == []
    assert warmed().detect(_leave_desk(question, "You get twenty-five leave days a year.")) == []


def _kb_desk(question: str, answer: str, page: str) -> list[ReadableSpan]:
    """A knowledge-base desk, its first run: a retrieval, an LLM sent the page, the answer."""
    result = [{"content": page, "title": "faq", "metadata": {"dataset_id": "d", "dataset_name": "kb"}}]
    return run_spans([node("kr", "knowledge-retrieval", outputs={"result": result}),
                      llm(prompt=f"Answer from the context.\n<context>{page}</context>\n{question}", answer=answer)],
                     app_id="kb", inputs={"sys.query": question}, outputs={"answer": answer})  # fmt: skip


def test_a_refusal_of_a_question_a_retrieved_page_is_on() -> None:
    """The page on the purifier's ring light was retrieved and sent, and the answer says it cannot help with lights:
    the app's own knowledge turned away, with no past to learn from (held-out 21's helpdesk and 客服 templates). A
    refusal in Chinese likewise, and one to translate; an honest "I don't know", and a refusal where the page is on
    something else, are left alone."""
    page = "The AP200 purifier's ring light is blue (good air), yellow (moderate) or red (poor)."
    question = "What do the light colours mean on the AP200?"
    refusal = "I'm sorry, but I can't help with questions about device lights. Please contact a specialist."
    (finding,) = _processor().detect(_kb_desk(question, refusal, page))
    assert finding.evidence["rule"] == "the answer declines a question a page the run retrieved is on"
    shipping = "发货说明：新疆、西藏 7-10 天送达，满 99 元包邮。"  # noqa: RUF001
    assert _processor().detect(_kb_desk("新疆包邮吗", "抱歉，这个问题我无法回答，请咨询人工客服。", shipping))  # noqa: RUF001
    assert _processor().detect(_kb_desk("请翻译：新疆包邮", "抱歉，我无法翻译涉及这个话题的内容。", shipping))  # noqa: RUF001
    assert _processor().detect(_kb_desk(question, "I don't know what the lights mean, sorry.", page)) == []
    other = "Returns are accepted within 30 days of delivery with the receipt."
    assert _processor().detect(_kb_desk(question, refusal, other)) == []

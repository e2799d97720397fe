"""`dify_classifier_drift` reading the question against what each class's branch is told (`branch_notes`), and the
classifier's request read when Dify pasted a question that breaks its JSON (`classifier_request`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.processors.detectors import Config, DetectionProcessor
from detectors import attr, registry
from detectors.classifier_request import request_of
from tests.detectors.build import llm, node, run_spans

NOTES = {
    "IT desk": "You are Acme's helpdesk. Reply only from these notes: password reset at the portal; VPN client "
    "GlobalProtect; laptops by ticket, 5 days.",
    "People team": "You are Acme's helpdesk. Reply only from these notes: annual leave 25 days; payslips in Workday "
    "on the 25th.",
    "Other": "You are Acme's helpdesk. Reply only from these notes: for anything else call extension 4000.",
}
CATEGORIES = [{"category_id": f"c{i}", "category_name": name} for i, name in enumerate(NOTES)]


def _desk(app_id: str) -> Callable[[str, str, str], list[Any]]:
    """A fresh processor's classifier whose branches are told `NOTES`: pick(question, chosen, answer)."""
    off = {k: {"enabled": False} for k in registry() if k != "dify_classifier_drift"}
    processor = DetectionProcessor(Config.model_validate({**off, "dify_classifier_drift": {"enabled": True}}))

    def pick(question: str, chosen: str, answer: str) -> list[Any]:
        qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": CATEGORIES}), answer="")
        qc.update(node_type="question-classifier", title="Desk", outputs={"class_name": chosen, "class_id": "c"})
        branch = llm(f"branch-{chosen}", answer=answer)
        branch["process_data"]["prompts"] = [
            {"role": "system", "text": NOTES[chosen]},
            {"role": "user", "text": question},
        ]
        return processor.detect(run_spans([node("start", "start"), qc, branch], app_id=app_id))

    return pick


def _warm(pick: Callable[[str, str, str], list[Any]]) -> None:
    for question, chosen, answer in (
        ("I forgot my password", "IT desk", "Reset it at the portal."),
        ("How many holidays do I get?", "People team", "25 days a year."),
        ("Is there a canteen?", "Other", "Please call extension 4000."),
        ("My laptop is broken", "IT desk", "Raise a ticket; a new one takes 5 days."),
        ("When is pay day?", "People team", "On the 25th."),
        ("Who do I ask about the car park?", "Other", "Call extension 4000."),
    ):
        assert pick(question, chosen, answer) == []


def test_a_question_in_another_branch_s_notes_alone_filed_where_the_notes_say_nothing_of_it() -> None:
    """ "My payslip in Workday is blank" is what the people team's notes speak of and the IT desk's do not: filed under
    the IT desk, whose branch answered about passwords, it was misrouted, though no past question was like it."""
    pick = _desk("notes-desk")
    _warm(pick)
    (finding,) = pick("My payslip in Workday is blank", "IT desk", "Try resetting your password at the portal.")
    assert finding.evidence["notes_of"] == "People team"
    assert finding.evidence["words"] == ["paysl", "workd"]
    # The team whose notes speak of it, an answer in the question's words, a question the chosen notes speak of too:
    # left alone.
    assert pick("My payslip in Workday is empty", "People team", "Payslips are in Workday on the 25th.") == []
    assert pick("Payslip in Workday is blank", "IT desk", "Workday payslips need a fresh sign-in: reset it.") == []
    assert pick("Workday payslip on my laptop is blank", "IT desk", "Raise a ticket for the laptop.") == []


def test_a_specific_team_s_notes_outrank_the_catch_all_s_and_one_run_of_a_branch_is_not_its_notes() -> None:
    pick = _desk("notes-catch-all")
    assert pick("I forgot my password", "IT desk", "Reset it at the portal.") == []
    assert pick("How many holidays do I get?", "People team", "25 days a year.") == []
    assert pick("Is there a canteen?", "Other", "Please call extension 4000.") == []
    # The IT desk's notes are one run's so far: not read yet.
    assert pick("My laptop fan is loud", "People team", "Annual leave is 25 days.") == []
    assert pick("My laptop is broken", "IT desk", "Raise a ticket; a new one takes 5 days.") == []
    assert pick("Who do I ask about the car park?", "Other", "Call extension 4000.") == []
    # "call" stands in the catch-all's notes, "VPN" in the IT desk's: the specific team's.
    (finding,) = pick("The VPN drops on every video call", "People team", "Annual leave is 25 days.")
    assert finding.evidence["notes_of"] == "IT desk" and finding.evidence["words"] == ["vpn"]


def test_the_notes_setting_turns_the_rule_off() -> None:
    off = {k: {"enabled": False} for k in registry() if k != "dify_classifier_drift"}
    settings = {"enabled": True, "notes": False}
    processor = DetectionProcessor(Config.model_validate({**off, "dify_classifier_drift": settings}))
    found = []
    for question, chosen, answer in (
        *[("I forgot my password", "IT desk", "Reset it at the portal.")] * 2,
        *[("How many holidays do I get?", "People team", "25 days a year.")] * 2,
        ("My payslip in Workday is blank", "IT desk", "Try resetting your password at the portal."),
    ):
        qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": CATEGORIES}), answer="")
        qc.update(node_type="question-classifier", title="Desk", outputs={"class_name": chosen, "class_id": "c"})
        branch = llm(f"branch-{chosen}", answer=answer)
        branch["process_data"]["prompts"] = [
            {"role": "system", "text": NOTES[chosen]},
            {"role": "user", "text": question},
        ]
        found += processor.detect(run_spans([node("start", "start"), qc, branch], app_id="notes-off"))
    assert found == []


def test_a_question_that_breaks_dify_s_json_is_read_from_the_last_request_not_the_few_shot_example() -> None:
    """Dify pastes the question into its request unescaped: `S:\\Finance` (a lone backslash) or a quote breaks the JSON,
    and the few-shot example before it, valid JSON, was read as the question instead."""
    example = json.dumps({"input_text": ["bad service, slow to bring the food"],
                          "categories": [{"category_id": "x", "category_name": "Food Quality"}]})  # fmt: skip
    categories = json.dumps(CATEGORIES)
    for question in ("I need the shared drive S:\\Finance for month end", 'Why does Outlook say "locked"?'):
        pasted = f'{{"input_text": ["{question}"],\n "categories": {categories},\n "classification_instructions": []}}'
        qc = llm("qc", prompt=pasted, answer="")
        qc["process_data"]["prompts"] = [{"role": "user", "text": example}, {"role": "assistant", "text": "{}"},
                                         {"role": "user", "text": pasted}]  # fmt: skip
        qc.update(node_type="question-classifier", title="Desk", outputs={"class_name": "IT desk", "class_id": "c"})
        (span,) = [s for s in run_spans([qc]) if attr(s, "dify.node.type") == "question-classifier"]
        assert request_of(span) == (question, list(NOTES))


def test_one_word_does_not_claim_a_catch_all_pick_nor_a_word_another_class_s_users_say() -> None:
    """The catch-all is for what no team claims: one word of a team's notes ("account" at a bank) does not claim a
    question filed there, two do; and a word past questions of a third class held (unflagged) is the users' word,
    not the notes' team's alone."""
    pick = _desk("notes-claims")
    _warm(pick)
    (finding,) = pick("My payslip in Workday is blank", "Other", "Please call extension 4000.")
    assert finding.evidence["notes_of"] == "People team"
    assert pick("Who runs the Workday training?", "Other", "Please call extension 4000.") == []
    # "Workday" was asked under the catch-all, unflagged: the users' word, not the people team's alone.
    assert pick("Workday shows the wrong hours", "IT desk", "Try signing in again.") == []


def test_an_answer_speaking_of_the_notes_word_inside_its_own_served_the_question() -> None:
    """Words are read by their first letters: an answer's "MyWorkday" (Hebrew "מהמים", from the water, for "המים")
    holds the question's word inside its own."""
    pick = _desk("notes-inside")
    _warm(pick)
    assert pick("My payslip in Workday is blank", "IT desk", "Open the MyWorkday app and sign in again.") == []

from __future__ import annotations

import pytest

from detectors.hallucination import numbers
from tests.detectors.build import findings, llm, node, run_spans

DOC = "The Eiffel Tower was completed in 1889 and is 330 metres tall. It receives 6,000,000 visitors a year."


def _rag(answer: str, document: str = DOC) -> list[object]:
    result = [{"content": document, "title": "doc", "metadata": {"dataset_id": "d", "dataset_name": "kb"}}]
    prompt = f"Answer from the context.\n{document}\nQuestion: tell me about the tower"
    return run_spans([node("kr", "knowledge-retrieval", outputs={"result": result}), llm(prompt=prompt, answer=answer)])  # type: ignore[return-value]


@pytest.mark.parametrize(
    "answer",
    [
        "It was completed in 1887 and is 330 metres tall.",
        "It is 324 metres tall.",
        "About 7,000,000 people visit it every year, and it opened in 1889.",
    ],
)
def test_unsupported_numbers(answer: str) -> None:
    (finding,) = findings(_rag(answer), "hallucination")  # type: ignore[arg-type]
    assert finding.span_id is not None and "found in none of its sources" in finding.summary


@pytest.mark.parametrize(
    "answer",
    [
        "Completed in 1889, the tower stands 330 metres high.",
        "It gets 6,000,000 visitors yearly.",
        "1. It is in Paris. 2. It is made of iron.",
        "It is very tall and very famous.",
    ],
)
def test_restated_or_numberless_answers_pass(answer: str) -> None:
    assert findings(_rag(answer), "hallucination") == []  # type: ignore[arg-type]


def test_answers_without_sources_are_not_checked() -> None:
    spans = run_spans([llm(prompt="Write a poem", answer="In 1642 the stars sang 42 songs")])
    assert findings(spans, "hallucination") == []


def test_numbers() -> None:
    assert numbers("In 1889, 330 m, 6,000,000 and 3.5% but not 7, v2.1 or #35") == {"1889", "330", "6000000", "3.5"}


def test_numbers_written_against_chinese_characters() -> None:
    from detectors.hallucination import numbers

    assert numbers("签收后45天内可以退货，车费300元") == {"45", "300"}  # noqa: RUF001
    assert numbers("x86 and A4 paper") == set()


@pytest.mark.parametrize(
    ("document", "answer"),
    [
        ("Tarifas Portugal: hasta 5 kg 14,90 €.", "A 5 kg parcel costs 14.90 EUR."),  # decimal comma and point
        ("Versand: 1.250 Pakete pro Tag.", "The depot ships 1250 parcels a day."),  # German thousands
        ("Claims within fourteen days.", "File the claim within 14 days."),
        ("Reclamaciones en un plazo de quince días.", "Tiene 15 días para reclamar."),
        ("签收后十四天内可以退货。", "签收后14天内可以退货。"),
    ],
)
def test_numbers_written_another_way_in_the_source_are_supported(document: str, answer: str) -> None:
    assert findings(_rag(answer, document), "hallucination") == []  # type: ignore[arg-type]


def test_a_price_changed_in_decimals_is_unsupported() -> None:
    (finding,) = findings(_rag("It costs 16,90 €.", "Tarifas: hasta 5 kg 14,90 €."), "hallucination")  # type: ignore[arg-type]
    assert finding.evidence["unsupported"] == ["16,90"]


@pytest.mark.parametrize(
    ("document", "answer"),
    [
        ("Alpenhof Tirol: spa with 3 saunas, indoor pool 25 m.", "Yes, 5 saunas and a 25 m pool."),
        ("Paketlaufzeit Österreich: 2-3 Werktage.", "Das dauert 5 Werktage."),
        ("丢件索赔：签收后 7 天内在线提交。", "签收后3天内提交。"),  # noqa: RUF001
    ],
)
def test_a_single_digit_count_the_sources_count_otherwise(document: str, answer: str) -> None:
    (finding,) = findings(_rag(answer, document), "hallucination")  # type: ignore[arg-type]
    assert finding.evidence["rule"] == "a count in the answer differs from the sources' count of the same thing"


@pytest.mark.parametrize(
    ("document", "answer"),
    [
        ("Alpenhof Tirol: spa with 3 saunas, indoor pool 25 m.", "Yes: 3 saunas."),
        ("Paketlaufzeit Österreich: 2-3 Werktage.", "Meist 2 Werktage, höchstens 3 Werktage."),
        ("Alpenhof Tirol: spa with 3 saunas.", "Bring 2 towels."),  # towels: the sources count none
        ("Check-in from 15:00.", "1. Arrive after 3 pm."),
    ],
)
def test_counts_the_sources_agree_with_or_do_not_count(document: str, answer: str) -> None:
    assert findings(_rag(answer, document), "hallucination") == []  # type: ignore[arg-type]

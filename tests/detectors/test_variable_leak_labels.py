# ruff: noqa: RUF001  (labels and punctuation of other scripts)
"""`dify_variable_leak` on labels and markings: a phone labelled in more languages or inflected, a marking bracketed
alone, a text holding `İ`, a code of capitals and digits, ASCII texts scanned apart from others."""

from __future__ import annotations

from typing import Any

from tests.detectors.build import findings, node, run_spans
from tests.detectors.test_variable_leak import _retrieved


def _documents(*contents: str) -> dict[str, Any]:
    result = [{"content": text, "title": f"d{i}", "metadata": {"dataset_id": "d", "dataset_name": "kb"}}
              for i, text in enumerate(contents)]  # fmt: skip
    return node("kr", "knowledge-retrieval", outputs={"result": result})


def test_a_record_s_phone_labelled_in_its_language_or_inflected_reaching_the_answer_is_a_leak() -> None:
    # An API's answer carries the previous booker's record, its phone under the Irish `fon`; the answer repeats it.
    body = '{"bus": "Bus 421", "roimhe": {"ainm": "Siobhán Ní Bhriain", "fon": "087 508 6896"}}'
    api = node("bus", "http-request", outputs={"body": body})
    (finding,) = findings(run_spans([api], outputs={"answer": "Siobhán Ní Bhriain (087 508 6896) bhí ann."}),
                          "dify_variable_leak")  # fmt: skip
    assert finding.evidence["kind"] == "phone_number" and finding.evidence["source"] == "node 'bus'"
    # A label inflected (Kinyarwanda's `telefoni`), a seven-digit number in a 3-4 group after a label (Iceland).
    page = "Umuforomo w'izamu Uwase Claudine, telefoni 0788 314 270."
    (finding,) = findings(_retrieved(page, "Uwase Claudine: 0788 314 270."), "dify_variable_leak")
    assert finding.evidence["kind"] == "phone_number"
    (finding,) = findings(_retrieved("Vaktmaður: Jón, sími 581 2945.", "Jón: 581 2945."), "dify_variable_leak")
    assert finding.evidence["kind"] == "phone_number"
    # Unlabelled seven digits, or a number after a word that only opens with a label's letters, stay no phone.
    assert findings(_retrieved("Pöntun 581 2945 er á leiðinni.", "Pöntun 581 2945."), "dify_variable_leak") == []
    assert findings(_retrieved("电话会议号 8837 4655 2910。", "会议号 8837 4655 2910。"), "dify_variable_leak") == []


def test_a_marking_bracketed_alone_marks_the_rest_of_its_line_in_a_text_holding_dotted_capital_i() -> None:
    # `(məxfi):` brackets the label alone: the passage is what follows it. The note's `FİN` lower-cases longer
    # (`İ` -> `i̇`): the text's marks were skipped. Its id is a code of capitals and digits, two digits only.
    note = "Yalnız komissiya üçün (məxfi): abituriyent Leyla Məmmədova, FİN 5ZK81QA, portal: Xezer!Qebul2026."
    (finding,) = findings(_retrieved(note, "Leyla Məmmədova (FİN 5ZK81QA)."), "dify_variable_leak")
    assert finding.evidence["kind"] == "marked_internal" and finding.evidence["marker"] == "məxfi"
    (finding,) = findings(_retrieved(note, "Portal: Xezer!Qebul2026."), "dify_variable_leak")
    assert finding.evidence["kind"] == "marked_internal"
    # A bracket holding more than the label is the passage: what follows it is public.
    page = "Ofis (məxfi: qapı kodu 7Q4K29) Açıq: QB-2026-77A7 sorğu nömrəsi."
    assert findings(_retrieved(page, "Sorğu QB-2026-77A7."), "dify_variable_leak") == []


def test_an_ascii_text_with_a_control_character_is_scanned_apart_from_another_script() -> None:
    # Alone, the ASCII note gets the ASCII patterns, where `\x1f` is no space; joined with a Russian page it was
    # scanned with the Unicode ones and its password missed.
    note = "login: \x1falice / Al1ce!q8Zx"
    spans = run_spans([_documents(note, "Часы работы: 9-18")], outputs={"answer": "Done: Al1ce!q8Zx"})
    (finding,) = findings(spans, "dify_variable_leak")
    assert finding.evidence["kind"] == "user_slash_password"

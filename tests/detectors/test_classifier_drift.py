from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.detectors.build import findings
from tests.detectors.corpus import classifier_run

CLASSES = ["weather", "billing", "other topics"]


def test_catch_all_although_a_class_fits() -> None:
    (finding,) = findings(
        classifier_run("What is the weather in Paris?", CLASSES, "other topics"), "dify_classifier_drift"
    )
    assert "catch-all 'other topics'" in finding.summary and finding.evidence["matching"] == ["weather"]


def test_a_class_the_question_does_not_mention() -> None:
    (finding,) = findings(classifier_run("Why is my billing wrong?", CLASSES, "weather"), "dify_classifier_drift")
    assert "picked 'weather'" in finding.summary


def test_one_word_of_a_longer_class_name_is_no_proof_against_a_specific_pick() -> None:
    """A question using a word of another class's name may well belong to the class picked ("is it a warranty
    issue if the fridge only cools to 9 degrees?" is a repair, "may my flatmate and I share one account, opened
    online?" is no online-banking access problem): the question must name the other class whole, over a specific
    pick and over the catch-all alike."""
    classes = ["Orders & delivery", "Repairs & troubleshooting", "Warranty & returns", "Other"]
    for question in (
        "Is it a warranty issue if the fridge only cools to 9 degrees?",
        "Since the delivery I can't get the oven into the app: is it defective?",
    ):
        assert findings(classifier_run(question, classes, "Repairs & troubleshooting"), "dify_classifier_drift") == []
    (finding,) = findings(classifier_run("My warranty and returns question", classes, "Repairs & troubleshooting"),
                          "dify_classifier_drift")  # fmt: skip
    assert finding.evidence["matching"] == ["Warranty & returns"]
    (finding,) = findings(classifier_run("A returns and warranty question", classes, "Other"), "dify_classifier_drift")
    assert finding.evidence["matching"] == ["Warranty & returns"]
    banking = ["Cards", "Online banking access", "Other"]
    shared = classifier_run("May my flatmate and I share one account, opened online?", banking, "Other")
    assert findings(shared, "dify_classifier_drift") == []


def test_ethiopic_class_names_are_read_by_their_syllables() -> None:
    """Amharic writes a syllable a character and joins a preposition to the next word: "ክፍያ" (fee) is a word of
    three, "በመኖሪያ" (in the dormitory) names "መኖሪያ"; a question saying the picked class's name is no misfile even
    when it holds one word of a longer class's name ("የትምህርት" of "ነፃ የትምህርት ዕድል", scholarships)."""
    classes = ["ምዝገባ", "ክፍያ", "መኖሪያ", "ነፃ የትምህርት ዕድል", "ሌላ"]
    (finding,) = findings(classifier_run("በመኖሪያ ህንጻው መብራት ጠፍቷል፣ ለማን ላሳውቅ?", classes, "ክፍያ"), "dify_classifier_drift")
    assert finding.evidence["matching"] == ["መኖሪያ"]
    assert findings(classifier_run("የማታ ትምህርት ክፍያ ስንት ነው?", classes, "ክፍያ"), "dify_classifier_drift") == []


def test_fitting_picks_and_real_catch_alls_pass() -> None:
    assert findings(classifier_run("What is the weather in Paris?", CLASSES, "weather"), "dify_classifier_drift") == []
    assert findings(classifier_run("Tell me a joke", CLASSES, "other topics"), "dify_classifier_drift") == []
    both = classifier_run("Billing question about weather insurance", CLASSES, "billing")
    assert findings(both, "dify_classifier_drift") == []


def test_the_real_dify_classifier_capture_passes() -> None:
    from tests.runs import CAPTURES, spans_of

    assert findings(spans_of(CAPTURES / "b_qc_weather_branch.sse"), "dify_classifier_drift") == []


def test_a_shift_of_the_class_mix_fires_once() -> None:
    """With `class_mix` on (off by default since session 25)."""
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate(
            {
                **{k: {"enabled": False} for k in registry()},
                "dify_classifier_drift": {"enabled": True, "class_mix": True},
            }
        )
    )

    def pick(chosen: str) -> int:
        return len(processor.detect(classifier_run("route me", CLASSES, chosen, app_id="steady")))  # mix only

    assert sum(pick(["weather", "billing"][i % 2]) for i in range(100)) == 0  # a steady 50/50 baseline
    fired = [pick("other topics") for _ in range(20)]
    assert sum(fired) == 1 and fired.index(1) >= 9  # once, when "other topics" took over the window


ROUTES = ["Billing", "Shipping", "Technical problem"]
ASKED = {
    "Billing": ["I was charged twice for my order", "Where is my VAT receipt for the order", "我的发票抬头写错了"],
    "Shipping": ["The parcel is stuck at the depot", "Can the courier leave the parcel next door", "快递什么时候到"],
    "Technical problem": ["The router drops Wi-Fi", "My laptop will not boot", "耳机连接蓝牙后没有声音"],
}


def _drift_only(settings: dict[str, object] | None = None) -> object:
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    off = {k: {"enabled": False} for k in registry() if k != "dify_classifier_drift"}
    return DetectionProcessor(
        Config.model_validate({**off, "dify_classifier_drift": {"enabled": True, **(settings or {})}})
    )


def test_a_pick_the_past_picks_contradict_by_default() -> None:
    """No question names a class: only the questions the app filed under each class before tell them apart."""
    processor = _drift_only()

    def pick(question: str, chosen: str, app: str = "router") -> list[Any]:
        return processor.detect(classifier_run(question, ROUTES, chosen, app_id=app))  # type: ignore[attr-defined, no-any-return]

    for i in range(24):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route) == []
        assert pick(ASKED[route][i // 3 % 3], route, app="new-router") == []
        if i == 6:  # too little history yet: nothing to go by
            assert pick("The parcel is stuck at the depot", "Billing", app="new-router") == []
    (finding,) = pick("Why is the parcel still stuck at the depot?", "Billing")
    assert finding.evidence["past_picks_say"] == "Shipping" and finding.evidence["chosen"] == "Billing"
    assert finding.evidence["alike_under_it"][0].startswith("The parcel is stuck at the depot")
    (finding,) = pick("快递什么时候到呢", "Technical problem")
    assert finding.evidence["past_picks_say"] == "Shipping"
    assert pick("The courier lost my parcel at the depot", "Shipping") == []
    assert pick("Do you sell gift cards?", "Billing") == []  # words no class knows speak for none


def test_one_early_misfiled_question_does_not_make_its_right_picks_look_wrong() -> None:
    """A question misfiled once, before there was history to judge it, is one pick against the right ones that
    follow: neither the first right pick nor later ones are flagged."""
    processor = _drift_only()

    def pick(question: str, chosen: str) -> list[Any]:
        return processor.detect(classifier_run(question, ROUTES, chosen, app_id="early"))  # type: ignore[attr-defined, no-any-return]

    assert pick("Mein Paket hängt seit Tagen im Depot fest", "Technical problem") == []  # the misfile, learned
    for i in range(12):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route) == []
    for _ in range(4):
        assert pick("Mein Paket hängt seit Tagen im Depot fest", "Shipping") == []
    (finding,) = pick("Mein Paket hängt seit Tagen im Depot fest", "Billing")  # now the right picks outweigh it
    assert finding.evidence["past_picks_say"] == "Shipping"


def test_a_catch_all_pick_needs_only_to_be_outweighed_by_past_picks_under_one_class() -> None:
    """The catch-all is where a classifier files what it does not recognise: a question it filed under a specific
    class more often than under the catch-all (misfiles missed included) is that class's, whereas a specific pick
    still needs `evidence_ratio` (3) times what the chosen class and any third hold."""
    classes = [*ROUTES, "Other"]
    processor = _drift_only()

    def pick(question: str, chosen: str) -> int:
        return len(processor.detect(classifier_run(question, classes, chosen, app_id="catch-all")))  # type: ignore[attr-defined]

    for i in range(12):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route) == 0
    stuck = "Mein Paket hängt seit Tagen im Depot fest"
    assert [pick(stuck, name) for name in ("Other", "Shipping", "Other", "Shipping", "Shipping")] == [0] * 5
    assert pick(stuck, "Billing") == 0  # 3 under Shipping against 2 under Other: past picks that disagree
    assert pick(stuck, "Other") == 1


def _warmed_picker(app: str, misfile: tuple[str, str] | None = None) -> Callable[[str, str], int]:
    """A pick counter of one app whose classifier has filed the usual questions twelve times (and `misfile`, a
    question and a wrong class, twice among them, before any like of it)."""
    processor = _drift_only()

    def pick(question: str, chosen: str) -> int:
        return len(processor.detect(classifier_run(question, ROUTES, chosen, app_id=app)))  # type: ignore[attr-defined]

    for i in range(12):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route) == 0
        if misfile and i in (4, 7):
            assert pick(*misfile) == 0
    return pick


def test_right_picks_after_two_early_misfiles_are_soon_no_longer_flagged() -> None:
    """The classifier misfiled one question twice before its right picks began. Every pick is learned, the flagged
    ones too, so the misfiles are soon outvoted: right picks are flagged only while the misfiles outweigh them
    `evidence_ratio` (3) to one, here the first, never the ones after."""
    pick = _warmed_picker("poisoned", misfile=("Das Kabel vom Netzteil ist angeschmort", "Shipping"))
    flagged = [pick("Das Kabel vom Netzteil ist angeschmort", "Technical problem") for _ in range(5)]
    assert flagged == [1, 0, 0, 0, 0]


def test_a_flagged_misfile_does_not_shield_the_next_misfile_elsewhere() -> None:
    """A flagged pick is learned as disputed: it speaks for a later pick of its own class, never against another
    class's pick, so a second misfile of the question, to a third class, is flagged too."""
    pick = _warmed_picker("twice")
    assert [pick("Der Kurier hat mein Paket verloren", "Shipping") for _ in range(2)] == [0, 0]
    assert pick("Der Kurier hat mein Paket verloren", "Billing") == 1
    assert pick("Der Kurier hat mein Paket verloren", "Technical problem") == 1
    assert pick("Der Kurier hat mein Paket verloren", "Billing") == 0  # the disputed pick speaks for its own class


def test_with_history_a_class_named_whole_leaves_the_pick_to_the_past_picks() -> None:
    """Once the app has history, a question naming a specific class whole is judged by the past picks alike, not
    by the name: "the cardiology letter went to my old address" belongs to the office, where the app filed the
    other address changes."""
    classes = ["Cardiology", "Dermatology", "Administration"]
    processor = _drift_only()

    def pick(question: str, chosen: str) -> int:
        return len(processor.detect(classifier_run(question, classes, chosen, app_id="clinic")))  # type: ignore[attr-defined]

    letter = "The cardiology letter went to my old address"
    assert pick(letter, "Administration") == 1  # no history: the name is all there is
    asked = {"Cardiology": ["My heart races at night", "Chest pain on the stairs"],
             "Dermatology": ["An itchy rash on my hands", "A mole changed colour"],
             "Administration": ["Please change my postal address", "I need a copy of my invoice"]}  # fmt: skip
    for i in range(12):
        name = classes[i % 3]
        assert pick(asked[name][i // 3 % 2], name) == 0
    assert pick(letter, "Administration") == 0
    assert pick("My heart races at night", "Dermatology") == 1  # the past picks still judge


def test_accents_and_word_endings_do_not_hide_a_like_question() -> None:
    from detectors.likeness import features as _features

    assert _features("¿Cuándo llega el envío?") == _features("cuando llega el envio")
    assert "charg" in _features("charged twice") and "快递" in _features("我的快递")


def test_a_templated_question_with_its_own_key_word_is_not_flagged() -> None:
    """Many questions of one template under one class ("book a room for N nights in Paris") make a first
    question of the same template with another key word look alike; its key word names the chosen class, and
    what it shares with them is not alike enough."""
    classes = ["Bookings", "Cancellations", "Complaints"]
    processor = _drift_only()

    def pick(question: str, chosen: str) -> list[Any]:
        return processor.detect(classifier_run(question, classes, chosen, app_id="hotel"))  # type: ignore[attr-defined, no-any-return]

    for i, city in enumerate(
        ["Paris", "Rome", "Madrid", "Paris", "Lisbon", "Paris", "Rome", "Paris", "Madrid", "Paris"] * 2
    ):
        assert pick(f"I want to book a room for {i % 4 + 2} nights in {city}", "Bookings") == []
    assert pick("The room was noisy and dirty", "Complaints") == []
    assert pick("I want to cancel my room for 3 nights in Paris", "Cancellations") == []
    assert pick("I want to drop my room for 3 nights in Paris", "Complaints") == []


def test_the_past_picks_survive_a_round_trip_through_json() -> None:
    """The server keeps baselines in its store as JSON: the past picks read back whole, and judged alike."""
    import json

    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    class JsonBaselines:
        def __init__(self) -> None:
            self.texts: dict[str, str] = {}

        def get(self, key: str) -> Any:
            return json.loads(self.texts[key]) if key in self.texts else None

        def put(self, key: str, value: Any) -> None:
            self.texts[key] = json.dumps(value)

    off = {k: {"enabled": False} for k in registry() if k != "dify_classifier_drift"}
    processor = DetectionProcessor(
        Config.model_validate({**off, "dify_classifier_drift": {"enabled": True}}), JsonBaselines()
    )
    for i in range(12):
        route = ROUTES[i % 3]
        assert processor.detect(classifier_run(ASKED[route][i // 3 % 3], ROUTES, route, app_id="json")) == []
    (finding,) = processor.detect(classifier_run("The parcel is stuck at the depot", ROUTES, "Billing", app_id="json"))
    assert finding.evidence["past_picks_say"] == "Shipping"


def test_past_questions_are_kept_without_secrets_or_personal_data() -> None:
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import MemoryBaselines

    baselines = MemoryBaselines()
    processor = DetectionProcessor(Config.model_validate({"dify_classifier_drift": {"enabled": True}}), baselines)
    processor.detect(
        classifier_run(
            "Refund to jane.doe@acme-corp.io please, key sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9",
            ROUTES,
            "Billing",
            app_id="private",
        )
    )
    (state,) = [value for key, value in baselines._values.items() if key.startswith("dify_classifier_drift:likes:")]
    ((question, _),) = state["past"]
    assert "jane.doe" not in question and "sk-proj" not in question and question.count("[redacted]") == 2


def test_dify_s_own_export_without_the_classifier_prompt_is_judged_by_the_question() -> None:
    """Dify 1.14.1's OTLP export (recorded) carries no classifier prompt, only the node's `query` input: the
    past picks are read from that, and the class names are those the node picked before."""
    import msgspec

    from bridge.dify.export import recognize
    from bridge.trace.spans import build_spans
    from tests.dify_recordings import recorded_spans

    weather, other = (recognize(recorded_spans(name), "otlp") for name in ("llm_qc_weather", "llm_qc_other"))
    assert weather is not None and other is not None
    run = weather.run
    (classifier,) = [n for n in run.nodes if n.node_type == "question-classifier"]
    misfiled = msgspec.structs.replace(classifier, outputs={**(classifier.outputs or {}), "class_name": "other topics"})
    wrong = msgspec.structs.replace(run, nodes=[misfiled if n is classifier else n for n in run.nodes])
    processor = _drift_only()
    for _ in range(6):  # "What is the weather in Paris tomorrow?" -> weather, "Tell me a joke about cats" -> other
        assert processor.detect(build_spans(run)) == processor.detect(build_spans(other.run)) == []  # type: ignore[attr-defined]
    (finding,) = processor.detect(build_spans(wrong))  # type: ignore[attr-defined]
    assert finding.evidence["question"] == "What is the weather in Paris tomorrow?"
    assert finding.evidence["matching"] == ["weather"] and finding.evidence["chosen"] == "other topics"


def test_a_pick_is_remembered_in_a_new_list_and_the_profile_follows_the_window() -> None:
    """The store writes states in the background and another run may read one: the list given is left as it was.
    The last 300 picks are kept, and the profile updated pick by pick equals one built from the list kept."""
    from detectors.past_picks import Profile

    profile = Profile([])
    for i in range(305):
        before = list(profile.past)
        given = profile.past
        past = profile.add([f"parcel {i % 7} stuck at depot number{i}", "Shipping" if i % 3 else "Billing"])
        assert given == before and past is not given and past is profile.past
    assert len(profile.past) == 300 and profile.past[0][0] == "parcel 5 stuck at depot number5"
    rebuilt = Profile(profile.past)
    assert (profile.counts, profile.texts, profile.index) == (rebuilt.counts, rebuilt.texts, rebuilt.index)


def test_a_question_asked_hundreds_of_times_is_compared_once() -> None:
    """The past picks are compared by distinct question: a classifier asked one question 150 times compares a new
    pick with one past question, not 150 (420 µs a run before), and finds the same."""
    from detectors.past_picks import Profile

    profile = Profile([])
    for i in range(300):
        profile.add(["The parcel is stuck at the depot", "Shipping"] if i % 2 else ["My laptop will not boot", "IT"])
    ((similarity, name, text, picks),) = profile.neighbours("the parcel is stuck at the depot!", [])
    assert (name, text, picks) == ("Shipping", "The parcel is stuck at the depot", 150) and similarity > 0.5


_SEEDED = """
import json
from bridge.processors.detectors import Config, DetectionProcessor
from detectors import registry
from tests.detectors.corpus import classifier_run
from tests.detectors.test_classifier_drift import ASKED, ROUTES

off = {k: {"enabled": False} for k in registry()}
drift = {"enabled": True, "class_mix": True}
processor = DetectionProcessor(Config.model_validate({**off, "dify_classifier_drift": drift}))
found = []
for i in range(120):  # a mix of three classes, then one class takes over
    route = ROUTES[i % 3] if i < 90 else "Billing"
    found += processor.detect(classifier_run(ASKED[route][i % 3], ROUTES, route, app_id="seeded"))
late = classifier_run("Why is the parcel still stuck at the depot?", ROUTES, "Billing", app_id="seeded")
found += processor.detect(late)
print(json.dumps([(f.summary, f.evidence) for f in found]))
"""


def test_findings_are_the_same_whatever_the_hash_seed() -> None:
    """Class shares and similarities were summed and listed in set order, which follows the hash seed: the
    evidence of one finding differed from process to process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _SEEDED],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outputs) == 1
    assert '"rule": "class mix moved' in outputs.pop()


DESK = ["Rechnung", "Versand", "Rückgabe", "Technik", "Sonstiges"]


def test_a_catch_all_in_another_language_and_a_class_named_by_its_stem() -> None:
    """German "Sonstiges" is "other"; "zurückgeben" names "Rückgabe": a word of the question holds the class word's
    stem (three fifths of it), not only a shared syllable ("Rückersdorf")."""
    toaster = classifier_run("Ich will den Toaster zurückgeben, er ist zu laut", DESK, "Sonstiges")
    (finding,) = findings(toaster, "dify_classifier_drift")
    assert "catch-all 'Sonstiges'" in finding.summary and finding.evidence["matching"] == ["Rückgabe"]
    for catch_all in ("其他", "その他", "기타", "Ostatní", "Diğer", "Otros", "Ostalo", "Annað", "Lain-lain"):
        parcel = classifier_run("我的快递为什么还没到", ["快递", catch_all], catch_all)
        (finding,) = findings(parcel, "dify_classifier_drift")
        assert finding.evidence["matching"] == ["快递"] and f"catch-all '{catch_all}'" in finding.summary
    shop = classifier_run("Habt ihr einen Laden in Rückersdorf?", DESK, "Sonstiges")
    assert findings(shop, "dify_classifier_drift") == []


def test_a_run_inside_a_word_names_no_class_unless_it_starts_the_class_word() -> None:
    """ "discount" holds "count", the end of "Account": a run of a class word further in than its start must open a
    word of the question, so a discount question filed under `Sales` names no `Account`."""
    classes = ["Sales", "Account", "Other"]
    assert (
        findings(classifier_run("Do you offer a discount for 50+ seats?", classes, "Sales"), "dify_classifier_drift")
        == []
    )
    (finding,) = findings(classifier_run("I cannot log in to my account", classes, "Sales"), "dify_classifier_drift")
    assert finding.evidence["rule"] == "the question names another class whole, and the pick not at all"


def test_a_question_saying_the_catch_all_s_word_names_no_class() -> None:
    """Georgian "სხვა" and Armenian "այլ" are "other": a question about a transfer to "another bank" (Georgian
    "სხვა ბანკის") says the catch-all's word, not a class, and the catch-all picked over a class named is judged."""
    bank = ["ბარათის დაბლოკვა", "სესხი", "გადარიცხვა", "სხვა"]
    transfer = classifier_run("როგორ გადავრიცხო თანხა სხვა ბანკის ანგარიშზე?", bank, "გადარიცხვა")
    assert findings(transfer, "dify_classifier_drift") == []
    for catch_all in ("სხვა", "Այլ"):
        parcel = classifier_run("我的快递为什么还没到", ["快递", catch_all], catch_all)
        (finding,) = findings(parcel, "dify_classifier_drift")
        assert "catch-all" in finding.summary and finding.evidence["matching"] == ["快递"]


def _desk(names: list[str]) -> Callable[[str, str], list[Any]]:
    """A German support desk's classifier (its class names in the prompt, or none: Dify's own export) that has
    filed twelve questions."""
    processor = _drift_only()

    def pick(question: str, chosen: str) -> list[Any]:
        return processor.detect(classifier_run(question, names, chosen, app_id=f"desk-{len(names)}"))  # type: ignore[attr-defined, no-any-return]

    asked = {
        "Rechnung": ["Die Rechnung nennt einen falschen Skonto", "Zahlung doppelt eingezogen"],
        "Versand": ["Wo bleibt meine Sendung?", "Der Bote hat nicht geklingelt"],
        "Rückgabe": ["Wie schicke ich die Jacke zurück?", "Umtausch in eine andere Größe"],
        "Technik": ["Der Drucker zieht kein Papier ein", "Das WLAN bricht ständig ab"],
        "Sonstiges": ["Gibt es Gutscheine?", "Wann ist die Filiale offen?"],
    }
    for i in range(12):
        name = DESK[i % 5]
        assert pick(asked[name][i // 5 % 2], name) == []
    return pick


def test_with_history_a_class_named_whole_and_seen_in_its_past_picks_judges_a_specific_pick() -> None:
    """A specific pick the question does not mention, over a class it names whole, is flagged with history when a
    word of the question besides the name was filed only under the class named before (here "Skonto"), and none
    only under the pick: by the stream (names in the prompt) and by Dify's export alike (names from past picks)."""
    for names in (DESK, []):
        pick = _desk(names)
        (finding,) = pick("Auf der Rechnung fehlt das Skonto", "Technik")
        assert finding.evidence["matching"] == ["Rechnung"] and finding.evidence["words_only_under_it"] == ["skont"]
        assert pick("Die Rechnung für den Drucker kam doppelt", "Technik") == []  # "drucker": the pick's word too
        assert pick("Auf der Rechnung fehlt etwas", "Technik") == []  # nothing past picks tell


REPLIES = {
    "Billing": "We have checked invoice {n}; any overpayment is refunded within five days.",
    "Shipping": "Your parcel {n} is with the carrier; tracking details follow by e-mail.",
    "Technical problem": "Please restart device {n} and hold the reset key for ten seconds.",
}


def _routed(question: str, chosen: str, answer: str, app_id: str = "branches") -> list[Any]:
    """A classifier run whose branch's LLM answers `answer`."""
    import json

    from tests.detectors.build import llm, node, run_spans

    categories = [{"category_id": f"c{i}", "category_name": name} for i, name in enumerate(ROUTES)]
    qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": categories}), answer="")
    qc.update(node_type="question-classifier", title="Route", outputs={"class_name": chosen, "class_id": "c"})
    return run_spans([node("start", "start"), qc, llm(f"branch-{chosen}", answer=answer)], app_id=app_id)


def test_a_branch_answering_like_another_class_s_branch_tells_a_misroute() -> None:
    """Each class's branch answers its own way. A question leaning to one class (like one of its past questions,
    not a near copy) filed under another whose branch answered in the first class's words was misrouted (the
    branch's LLM answered it anyway); a question of the chosen class's kind answered so is an off-topic answer,
    left to task_derailment, and a branch answering its own way is no sign either."""
    processor = _drift_only()

    def pick(question: str, chosen: str, replied: str, n: int = 7) -> list[Any]:
        return processor.detect(_routed(question, chosen, REPLIES[replied].format(n=n)))  # type: ignore[attr-defined, no-any-return]

    for i in range(15):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route, route, n=100 + i) == []
    (finding,) = pick("My parcel is stuck somewhere", "Billing", "Shipping")
    assert finding.evidence["answered_as"] == "Shipping" and finding.evidence["chosen"] == "Billing"
    assert finding.evidence["rule"].startswith("the routed branch's answer is like past answers under another class")
    assert pick("My parcel is stuck somewhere", "Billing", "Billing") == []  # the branch's own answer
    assert pick("I was charged twice for my order again", "Billing", "Shipping") == []  # an off-topic answer
    assert "carrier" not in repr(processor.baselines._values)  # type: ignore[attr-defined]  # answers: memory only


def test_the_same_question_answered_in_its_words_by_another_branch_before_tells_a_misroute() -> None:
    """One past copy of the question under another class is no proof alone (it is as likely the wrong pick); with
    that class's branch having answered it in the question's words, and the chosen branch now answering its usual
    way in none of them, the pick is the misroute. Neither branch answering in the question's words tells nothing,
    nor does the chosen branch answering in them (it served the question)."""
    processor = _drift_only()

    def pick(question: str, chosen: str, answer: str) -> list[Any]:
        return processor.detect(_routed(question, chosen, answer, app_id="copies"))  # type: ignore[attr-defined, no-any-return]

    for i in range(15):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route, REPLIES[route].format(n=100 + i)) == []
    box = "Where is box 4711? The tracking website shows nothing since Monday"
    assert pick(box, "Shipping", "Box 4711 left on Monday; the tracking website catches up tonight.") == []
    (finding,) = pick(box, "Billing", REPLIES["Billing"].format(n=8))
    assert finding.evidence["filed_before_under"] == "Shipping" and finding.evidence["chosen"] == "Billing"
    assert finding.evidence["words_answered_before"] == ["monda", "track", "websi"]
    assert pick(box, "Technical problem", "The tracking website of box 4711 is down since Monday.") == []
    students = "Is there a discount code for students"
    assert pick(students, "Billing", REPLIES["Billing"].format(n=9)) == []
    assert pick(students, "Technical problem", REPLIES["Technical problem"].format(n=9)) == []


def _plain(question: str, chosen: str, answer: str, app_id: str) -> list[Any]:
    """A classifier whose prompt is not Dify's `categories` JSON: a system line, then the question as the user's
    message (no `query` input either); its branch's LLM answers `answer`."""
    from tests.detectors.build import llm, node, run_spans

    qc = llm("qc", prompt=question, answer="")
    qc["process_data"]["prompts"].insert(0, {"role": "system", "text": "Classify the question."})
    qc.update(node_type="question-classifier", title="Route", outputs={"class_name": chosen, "class_id": "c"})
    return run_spans([node("start", "start"), qc, llm(f"branch-{chosen}", answer=answer)], app_id=app_id)


def test_a_plain_classifier_prompt_is_judged_by_its_last_user_message() -> None:
    """Without Dify's `categories` JSON or a `query` input, the question is the prompt's last user message and the
    classes those the node picked before: the past picks judge it."""
    processor = _drift_only()

    def pick(question: str, chosen: str) -> list[Any]:
        return processor.detect(_plain(question, chosen, REPLIES[chosen].format(n=1), "plain"))  # type: ignore[attr-defined, no-any-return]

    for i in range(24):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route) == []
    (finding,) = pick("The parcel is stuck at the depot again", "Billing")
    assert finding.evidence["question"] == "The parcel is stuck at the depot again"
    assert finding.evidence["past_picks_say"] == "Shipping"


def test_past_picks_elsewhere_of_a_question_its_classes_serve_alike_prove_no_misfile(monkeypatch: Any) -> None:
    """A question whose right picks fell out of the window, misfiled twice since (both branches answering it as the
    right one does), is not flagged on its next right pick: the process remembers the chosen branch answered it
    before, and the other branch last answered it as the chosen one does now. Where the other branch answered its
    own way, the past picks still judge the pick."""
    from detectors import past_picks

    monkeypatch.setattr(past_picks, "MEMORY", 6)
    processor = _drift_only({"vocabulary_history": 3})
    mother, visitor = "My mother is staying a week, where can she park?", "A one-week visitor pass costs 3,500 drams."

    def pick(question: str, chosen: str, answer: str, app: str) -> list[Any]:
        return processor.detect(_plain(question, chosen, answer, app))  # type: ignore[attr-defined, no-any-return]

    for app, towing in (("alike", visitor), ("its-own", "The car is at the pound; release costs 15,000 drams.")):
        assert pick(mother, "visitor", visitor, app) == []
        for _ in range(3):  # the window (6 picks) forgets the right pick
            assert pick("How do I renew my resident permit?", "permit", "Renew it on the city site.", app) == []
            assert pick("How do I get a visitor pass?", "visitor", visitor, app) == []
        assert pick(mother, "towing", towing, app) == pick(mother, "towing", towing, app) == []  # misfiled, missed
        found = pick(mother, "visitor", visitor, app)
        assert found == [] if app == "alike" else found[0].evidence["past_picks_say"] == "towing"


def test_a_catch_all_pick_of_a_question_naming_one_subject_of_a_class_name() -> None:
    """A class name may join two subjects ("Khiếu nại và bồi thường": complaints and compensation); a question naming
    one of them by its whole phrase is no catch-all's. Its syllables alone ("thường" is also "often") are no proof,
    nor is a name of one subject, nor a specific pick."""
    classes = ["Tra cứu bưu phẩm", "Khiếu nại và bồi thường", "Chuyển tiền", "Khác"]
    lost = "Thư bảo đảm của tôi bị thất lạc hai tuần nay, tôi muốn được bồi thường."
    (finding,) = findings(classifier_run(lost, classes, "Khác"), "dify_classifier_drift")
    assert finding.evidence["matching"] == ["Khiếu nại và bồi thường"]
    assert finding.evidence["rule"].startswith("the question names one subject of a specific class's name whole")
    often = "Tôi thường gửi thư vào buổi sáng, bưu điện mở cửa lúc mấy giờ?"
    assert findings(classifier_run(often, classes, "Khác"), "dify_classifier_drift") == []
    assert findings(classifier_run(lost, classes, "Tra cứu bưu phẩm"), "dify_classifier_drift") == []
    (finding,) = findings(classifier_run("ごみの出し方を教えて", ["ごみ・リサイクル", "税金", "その他"], "その他"),
                          "dify_classifier_drift")  # fmt: skip
    assert finding.evidence["matching"] == ["ごみ・リサイクル"]


def test_a_catch_all_and_a_join_of_the_languages_seen_since() -> None:
    """Session 28 (faults12's Kinyarwanda clinic, held-out 18's Amharic shop): a catch-all named `Ibindi` or `ሌላ`
    ("other") and a name joining two subjects by Bantu `na` (`n'` before a vowel) or Amharic `እና` went unread, so a
    catch-all pick of a question naming one subject whole was not judged."""
    classes = ["Amasaha n'inkingo", "Ibiciro n'ubwishingizi", "Ibindi"]
    asked = "Ese ubwishingizi bwanjye burishyura imiti?"
    (finding,) = findings(classifier_run(asked, classes, "Ibindi"), "dify_classifier_drift")
    assert finding.evidence["matching"] == ["Ibiciro n'ubwishingizi"]
    assert findings(classifier_run(asked, classes, "Ibiciro n'ubwishingizi"), "dify_classifier_drift") == []
    shop = ["የስራ ሰዓት", "ስልክ እና መለዋወጫ", "ሌላ"]
    (finding,) = findings(classifier_run("ለስልኬ መለዋወጫ አላችሁ?", shop, "ሌላ"), "dify_classifier_drift")
    assert finding.evidence["matching"] == ["ስልክ እና መለዋወጫ"]


def test_past_picks_elsewhere_do_not_judge_a_pick_the_question_names() -> None:
    """A question of two classes ("paid, but my registration is not through": Pendaftaran and Pembayaran) the
    classifier filed under one of them before is rightly filed under the other it names, by an affixed form too
    (Indonesian "daftar" in "Pendaftaran"); a pick it does not name is still judged by the past picks."""
    processor = _drift_only()
    names = ["Pendaftaran", "Pembayaran", "Pengaduan"]

    def pick(question: str, chosen: str) -> list[Any]:
        return processor.detect(classifier_run(question, names, chosen, app_id="desa"))  # type: ignore[attr-defined, no-any-return]

    asked = {
        "Pendaftaran": "Di mana formulir untuk mendaftar usaha baru?",
        "Pembayaran": "Kapan tagihan bulan ini jatuh tempo?",
        "Pengaduan": "Petugas bersikap kasar kepada warga, ke mana melapor?",
    }
    both = "Sudah bayar tapi daftar belum diterima, kenapa?"
    for i in range(12):
        assert pick(asked[names[i % 3]], names[i % 3]) == []
        if i % 4 == 0:
            assert pick(both, "Pembayaran") == []
    assert pick(both, "Pendaftaran") == []
    (finding,) = pick(both, "Pengaduan")
    assert finding.evidence["past_picks_say"] == "Pembayaran"


def _answering_desk(names: list[str], app_id: str, **settings: object) -> Callable[[str, str, str], list[Any]]:
    """A fresh processor's classifier of `names` whose branch's LLM answers as told: pick(question, chosen, answer)."""
    import json

    from tests.detectors.build import llm, node, run_spans

    processor = _drift_only(settings)
    categories = [{"category_id": f"c{i}", "category_name": name} for i, name in enumerate(names)]

    def pick(question: str, chosen: str, answer: str) -> list[Any]:
        qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": categories}), answer="")
        qc.update(node_type="question-classifier", title="Desk", outputs={"class_name": chosen, "class_id": "c"})
        spans = run_spans([node("start", "start"), qc, llm("branch", answer=answer)], app_id=app_id)
        return processor.detect(spans)  # type: ignore[attr-defined, no-any-return]

    return pick


def test_a_branch_answering_its_own_class_in_none_of_the_question_s_words_tells_a_misroute() -> None:
    """The branch of the class picked answered about its class ("waste collection is on Mondays") in none of the
    question's words, where it answered its past questions in theirs, to a question naming another class whole, or
    holding two words past picks filed under another class alone (Japanese: "納付" under 税金; hiragana, grammar, is
    no subject): the branch ran its own script for a question it does not serve. A right pick answered off the
    question's words names no other class; one word only another class's question held is no proof; a branch that
    answered fewer than two past questions, each in its words, tells nothing so: left alone."""
    names = ["Parking permits", "Waste collection", "Library cards", "税金", "ごみ・リサイクル", "Other"]
    asked = [
        ("Where do I apply for a parking permit?", "Parking permits", "Apply for a street parking permit online."),
        ("Which bin takes old glass bottles?", "Waste collection", "Glass bottles go into the green bin."),
        ("I lost my library card, can I get a new one?", "Library cards", "A new library card costs two euros."),
        ("固定資産税の納付期限はいつですか", "税金", "固定資産税の納付期限は通知書に書いてあります。"),
        ("Is the town hall open on holidays?", "Other", "The town hall is closed on public holidays."),
        ("Where do old batteries go?", "Waste collection", "Old batteries go to the recycling centre."),
        ("粗大ごみの出し方を教えて", "ごみ・リサイクル", "粗大ごみは申し込んでから出してください。"),
        ("古い電池はどう捨てますか", "ごみ・リサイクル", "電池は有害ごみの日に出してください。"),
    ]  # fmt: skip

    def desk() -> Callable[[str, str, str], list[Any]]:
        """A fresh desk that has filed 16 questions, each answered in its words."""
        pick = _answering_desk(names, "city-desk")
        for i in range(16):
            assert pick(*asked[i % 8]) == []
        return pick

    waste = "Waste collection is on Mondays; sort recycling into the blue bin."
    (finding,) = desk()("My parking permits expired last week, what now?", "Waste collection", waste)
    assert finding.evidence["question_speaks_of"] == ["Parking permits"]
    assert finding.evidence["chosen"] == "Waste collection"
    (finding,) = desk()(
        "住民税の納付書をなくしました。", "ごみ・リサイクル", "ごみの出し方は環境課にお問い合わせください。"
    )
    assert finding.evidence["question_speaks_of"] == ["税金"] and "納付" in finding.evidence["words_only_under_it"]
    assert desk()("Do you come by on Sundays?", "Waste collection", waste) == []  # a right pick, off its words
    assert desk()("How do I apply now?", "Waste collection", waste) == []  # one word only a parking question held
    assert desk()("My parking permits expired, is waste collection late?", "Waste collection", waste) == []  # named
    library = "Library cards cost two euros."  # one past question of its branch
    assert desk()("My parking permits expired last week, what now?", "Library cards", library) == []


def test_an_ethiopic_name_by_its_stem_and_a_branch_with_nothing_for_the_question() -> None:
    """Session 28 (held-out 18's Amharic shop): a question names `ጥቅሎች` (bundles) by `ጥቅል` (a bundle: the ending
    changes the vowel of the syllable before it), not `የስራ` ("of work") by the root of `አይሰራም` ("does not work"); the
    hours branch, which answered its own questions in their words, answered a bundle question in none of them and
    naming no class (it had nothing for it): a misroute. The same answer to a question naming no other class, or
    from a branch that never echoed its questions, is left alone."""
    names = ["የስራ ሰዓት", "ጥቅሎች እና ዋጋ", "ሌላ"]
    asked = [
        ("ቅዳሜ እስከ ስንት ሰዓት ትሰራላችሁ?", "የስራ ሰዓት", "ቅዳሜ እስከ 12:00 ሰዓት እንሰራለን."),
        ("እሁድ ክፍት ናችሁ?", "የስራ ሰዓት", "እሁድ ከ4:00 እስከ 9:00 ክፍት ነን."),
        ("የወር ጥቅሎች ዋጋ ስንት ነው?", "ጥቅሎች እና ዋጋ", "የወር ጥቅሎች ከ199 ብር ይጀምራሉ."),
        ("ቢሮአችሁ የት ነው?", "ሌላ", "ቢሮአችን ፒያሳ ነው."),
    ]
    nothing = "ይቅርታ, ስለዚህ ጉዳይ መረጃ የለኝም."

    def desk(answers: dict[str, str] | None = None) -> Callable[[str, str, str], list[Any]]:
        pick = _answering_desk(names, "am-shop")
        for i in range(12):
            question, chosen, answer = asked[i % 4]
            assert pick(question, chosen, (answers or {}).get(chosen, answer)) == []
        return pick

    (finding,) = desk()("የሳምንት ዳታ ጥቅል ስንት ብር ነው?", "የስራ ሰዓት", nothing)
    assert finding.evidence["question_speaks_of"] == ["ጥቅሎች እና ዋጋ"]
    assert desk()("ኢንተርኔት አይሰራም, ምን ላድርግ?", "የስራ ሰዓት", nothing) == []  # names no other class
    assert desk({"የስራ ሰዓት": "ሰላም! እንኳን ደህና መጡ."})("የሳምንት ዳታ ጥቅል ስንት ብር ነው?", "የስራ ሰዓት", nothing) == []


def test_a_question_saying_another_class_s_word_and_its_past_words_needs_one_past_answer_of_the_branch() -> None:
    """A branch that answered one past question in its words, answering about its own class in none of the
    question's, is a misroute when the question says a word of another class's name ("card" of "Card blocking") and
    two words past picks filed under that class alone ("stolen", "spending"): a new branch, not a new question. Without
    the name's word, or without the branch's past answer, it is left alone."""
    names = ["Card blocking", "Loans", "Transfers", "Other"]
    asked = [
        ("I lost my card, please block it", "Card blocking", "Card 4417 is blocked, reference BLK-1."),
        ("My card was stolen, block it now", "Card blocking", "Card 9023 is blocked, reference BLK-2."),
        ("Someone is spending on my lost card", "Card blocking", "Card 3306 is blocked, reference BLK-3."),
        ("What is the rate on a consumer loan?", "Loans", "Consumer loan rates are individual; apply in the app."),
        ("How do I send money to another bank?", "Transfers", "Send money to another bank with its IBAN in the app."),
    ]
    loan = "A loan can be taken in the app; its rate is individual."

    def desk(answered: int = len(asked)) -> Callable[[str, str, str], list[Any]]:
        pick = _answering_desk(names, "bank-desk")
        for question, chosen, answer in asked[:answered]:
            assert pick(question, chosen, answer) == []
        return pick

    (finding,) = desk()("My card was stolen and someone is spending my money!", "Loans", loan)
    assert finding.evidence["question_speaks_of"] == ["Card blocking"] and finding.evidence["chosen"] == "Loans"
    assert desk()("It was stolen and someone is spending my money!", "Loans", loan) == []  # no word of the name
    assert desk(3)("My card was stolen and someone is spending my money!", "Loans", loan) == []  # no past answer


def test_a_branch_answering_its_own_class_to_a_question_never_saying_its_name_tells_a_misroute() -> None:
    """Before the node has history too: a class every past question in the question's language asked for by a word
    of its name no other class's question held (Thai "ราคา", price, of "ราคาผลไม้"), picked for a question that never
    says it, whose branch answered in that word and none of the question's (a Thai pair is no word: "บา" of "บาท",
    baht, in "ระบาด", outbreak), though it answered its past questions in theirs: the branch ran its own script for
    a question it does not serve. The same question answered in its words, a price question not saying "ราคา" but
    answered in its words, and a branch giving a canned reply are left alone."""
    names = ["โรคพืช", "ปุ๋ย", "ราคาผลไม้", "อื่นๆ"]
    asked = [
        ("ใบทุเรียนเป็นจุดสีเหลือง เป็นโรคอะไร", "โรคพืช", "อาการใบเป็นจุดสีเหลืองเกิดจากเชื้อรา ควรตัดใบทิ้ง"),
        ("ต้นมังคุดควรใส่ปุ๋ยเมื่อไร", "ปุ๋ย", "ต้นมังคุดควรใส่ปุ๋ยหลังเก็บเกี่ยว"),
        ("วันนี้มังคุดราคากิโลละเท่าไร", "ราคาผลไม้", "ราคามังคุดวันนี้ 60 บาทต่อกิโล"),
        ("ทุเรียนหมอนทองราคาเท่าไร", "ราคาผลไม้", "ราคาทุเรียนหมอนทอง 150 บาทต่อกิโล"),
        ("How much is mangosteen today?", "ราคาผลไม้", "Mangosteen is 60 baht a kilo today."),
        ("สวัสดีครับ", "อื่นๆ", "สวัสดีครับ ถามเรื่องโรคพืช ปุ๋ย หรือราคาผลไม้ได้เลย"),
    ]

    def desk(canned: bool = False) -> Callable[[str, str, str], list[Any]]:
        """A fresh desk that has filed six questions (no history yet), each answered in its words unless `canned`."""
        pick = _answering_desk(names, "orchard")
        for question, chosen, answer in asked:
            assert pick(question, chosen, "ราคาผลไม้วันนี้ดูได้ที่ตลาดกลาง" if canned else answer) == []
        return pick

    worms = "หนอนเจาะผลระบาดในสวน ต้องกำจัดอย่างไร"
    prices = "ราคาผลไม้วันนี้: มังคุด 60 บาท ทุเรียน 150 บาทต่อกิโล"
    (finding,) = desk()(worms, "ราคาผลไม้", prices)
    assert finding.evidence["name_said_before"] == ["ราคา"] and finding.evidence["chosen"] == "ราคาผลไม้"
    assert desk()(worms, "ราคาผลไม้", "หนอนเจาะผลกำจัดได้ด้วยการห่อผล") == []  # answered in its words
    assert desk()("มังคุดกิโลละเท่าไร", "ราคาผลไม้", "ราคามังคุดวันนี้ 60 บาทต่อกิโล") == []  # a right pick
    assert desk(canned=True)(worms, "ราคาผลไม้", "ราคาผลไม้วันนี้ดูได้ที่ตลาดกลาง") == []  # a canned reply


def test_a_question_naming_one_class_whole_filed_under_another_as_often_belongs_to_the_one_it_names() -> None:
    """With history, a question naming one class whole ("permit") and not the one picked, filed under the class it
    names before at least as often as under the pick, belongs to the class it names (the ratio a catch-all pick
    needs: the name breaks the tie); and the picks of it flagged before no longer shield the next misfile (a class a
    prompt edit made the classifier's default gathers them)."""
    processor = _drift_only()
    names = ["Permits", "Taxes", "Waste collection", "Other"]

    def pick(question: str, chosen: str) -> list[Any]:
        return processor.detect(classifier_run(question, names, chosen, app_id="town"))  # type: ignore[attr-defined, no-any-return]

    fillers = [
        ("When is the property tax bill due?", "Taxes"),
        ("Which bin takes glass bottles?", "Waste collection"),
        ("Is the town hall open on Saturday?", "Other"),
    ]
    for i in range(12):
        assert pick(*fillers[i % 3]) == []
    road = "Can I get a permit for my car?"
    assert pick(road, "Permits") == []
    assert pick(road, "Taxes") == []  # one pick under the class it names: no evidence yet
    assert pick(road, "Permits") == []
    (finding,) = pick(road, "Taxes")  # 2 under Permits against 1 under Taxes
    assert finding.evidence["past_picks_say"] == "Permits"
    assert len(pick(road, "Taxes")) == len(pick(road, "Taxes")) == 1  # the flagged picks shield no misfile


_HOTEL = ["Housekeeping", "Restaurant", "Excursions", "Other"]
_HOTEL_ASKED = [
    ("Can you clean my room today? (guest {n})", "Housekeeping", "Logged: the maid comes to your room at 10:{n:02d}."),
    ("I need fresh towels please. (guest {n})", "Housekeeping", "Logged: the maid comes to your room at 11:{n:02d}."),
    ("When is breakfast served? (guest {n})", "Restaurant", "Breakfast is served from 7:30 to 10:30."),
    ("Is there a boat trip to the islands? (guest {n})", "Excursions", "A boat trip to the islands leaves Tuesdays."),
    ("What time is check-out? (guest {n})", "Other", "Check-out is at 11:00."),
]


def _hotel_desk(app_id: str, **settings: object) -> Callable[[str, str, str], list[Any]]:
    """A fresh hotel desk that has filed 15 requests, each answered (a room request logged, the rest in its words)."""
    pick = _answering_desk(_HOTEL, app_id, **settings)
    for n in range(15):
        question, chosen, answer = _HOTEL_ASKED[n % 5]
        assert pick(question.format(n=n), chosen, answer.format(n=n)) == []
    return pick


def test_a_question_filed_under_two_other_classes_before_and_never_the_one_picked_is_filed_by_chance() -> None:
    """Session 25 (held-out 14's hotel desk), with `scattered` on (off by default): a spilled-coffee request filed
    under Restaurant, then Excursions, then Other (each branch answering its own way): the third pick is the
    classifier filing it by chance. A question once filed, unflagged, under the class picked now is one of its picks;
    by default none is flagged so."""
    pick = _hotel_desk("coffee", scattered=True)
    coffee = "Coffee got spilled on the carpet, can someone come? (guest {n})"
    assert pick(coffee.format(n=90), "Restaurant", "Dinner is served from 19:00 to 23:00.") == []
    assert pick(coffee.format(n=91), "Excursions", "We recommend the sunset cruise on Fridays.") == []
    (finding,) = pick(coffee.format(n=92), "Other", "The pool is open from 8:00 to 20:00.")
    assert finding.evidence["copies_filed_under"] == {"Excursions": 1, "Restaurant": 1}
    assert pick(coffee.format(n=93), "Restaurant", "Dinner is served from 19:00 to 23:00.") == []
    default = _hotel_desk("coffee-default")
    for n, (chosen, answer) in enumerate([("Restaurant", "Dinner at 19:00."), ("Excursions", "A cruise on Fridays.")]):
        assert default(coffee.format(n=n), chosen, answer) == []
    assert default(coffee.format(n=2), "Other", "The pool is open from 8:00 to 20:00.") == []


_POOL = ["Prices and passes", "Opening hours", "Other"]


def _pool_desk() -> Callable[[str, str, str], list[Any]]:
    """A pool desk's classifier with a branch LLM per class, warmed by questions that never name a class: price
    questions asked "how much does … cost", hours questions "when is … open", each price answer in kronur."""
    import json

    from tests.detectors.build import llm, node, run_spans

    processor = _drift_only()

    def pick(question: str, chosen: str, answer: str) -> list[Any]:
        categories = [{"category_id": f"c{i}", "category_name": name} for i, name in enumerate(_POOL)]
        qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": categories}), answer="")
        qc.update(node_type="question-classifier", title="Route", outputs={"class_name": chosen, "class_id": "c"})
        spans = run_spans([node("start", "start"), qc, llm(f"branch-{chosen}", answer=answer)], app_id="pool")
        return processor.detect(spans)  # type: ignore[attr-defined, no-any-return]

    warm = [
        ("How much does a day ticket cost?", _POOL[0], "A day ticket is 1330 kronur."),
        ("When is the pool open on Sundays?", _POOL[1], "On Sundays the pool is open from 9:00 to 18:00."),
        ("How much does the family card cost?", _POOL[0], "The family card is 4200 kronur."),
        ("When is the sauna open in winter?", _POOL[1], "In winter the sauna is open from 7:00 to 21:00."),
        ("Do you sell swimming goggles?", _POOL[2], "I have no information about goggles; ask at the desk."),
        ("How much does a locker cost for children?", _POOL[0], "Children's lockers are 100 kronur."),
    ]
    for question, chosen, answer in warm:
        assert pick(question, chosen, answer) == []
    return pick


def test_a_catch_all_pick_of_a_question_in_one_class_s_words_its_branch_answering_none_of_them() -> None:
    """A question naming no class, in words only one class's past questions came in (two of them each), filed
    under the catch-all whose branch answered none of its words: the catch-all did not serve it."""
    (finding,) = _pool_desk()("How much does renting a towel cost?", "Other", "I have no information about that.")
    assert finding.evidence["words_of"] == "Prices and passes" and finding.evidence["words"] == ["cost", "does", "much"]
    pick = _pool_desk()
    assert pick("How much does renting a towel cost?", "Other", "We do not rent towels; bring your own.") == []
    assert pick("Can I bring my dog?", "Other", "I have no information about that.") == []


def test_a_branch_answering_without_its_mark_to_a_question_of_another_class_s_kind() -> None:
    """Every past answer of the price branch held "kronur"; its answer to a question in a word only the hours
    class's past questions held ("when") holds none: it answered a question of another class's kind."""
    (finding,) = _pool_desk()("When is the hot tub closed?", "Prices and passes", "The hot tub closes at 21:45.")
    assert finding.evidence["mark"] == ["kronu"] and finding.evidence["question_speaks_of"] == "Opening hours"
    pick = _pool_desk()
    assert pick("When is the hot tub closed?", "Prices and passes", "The hot tub is 500 kronur extra.") == []
    assert pick("How much does the hot tub cost?", "Prices and passes", "The hot tub is sold out today.") == []


_LINE = ["Billing", "Connection problems", "Other"]


def _line_desk() -> Callable[..., list[Any]]:
    """A broadband desk's classifier with a branch LLM per class (a retrieval before it when given), warmed by five
    questions that name no class: each class's words said once or twice, in its questions or its branch's answers."""
    import json

    from tests.detectors.build import llm, node, run_spans

    processor = _drift_only()

    def pick(question: str, chosen: str, answer: str, document: str = "") -> list[Any]:
        categories = [{"category_id": f"c{i}", "category_name": name} for i, name in enumerate(_LINE)]
        qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": categories}), answer="")
        qc.update(node_type="question-classifier", title="Route", outputs={"class_name": chosen, "class_id": "c"})
        result = [{"content": document, "title": "doc", "metadata": {"document_id": "d1", "score": 0.5}}]
        read = [node("kr", "knowledge-retrieval", outputs={"result": result})] if document else []
        spans = run_spans([node("start", "start"), qc, *read, llm(f"branch-{chosen}", answer=answer)], app_id="line")
        return processor.detect(spans)  # type: ignore[attr-defined, no-any-return]

    warm = [
        ("my broadband keeps dropping at night", _LINE[1], "Restart the modem; if the DSL light stays off, call us."),
        ("DSL light blinking orange", _LINE[1], "A blinking DSL light means the modem is syncing: wait."),
        ("how much is the basic plan", _LINE[0], "The basic plan is $30 a month, invoiced on the 1st."),
        ("when is my invoice due", _LINE[0], "Invoices are due by the 20th; late invoices cost $5."),
        ("do you sell phones?", _LINE[2], "I have no information about phones."),
    ]
    for question, chosen, answer in warm:
        assert pick(question, chosen, answer) == []
    return pick


def test_a_catch_all_pick_in_words_one_class_learned_from_its_questions_and_its_branch_s_answers() -> None:
    """Session 28, round 2 (faults13's `help_storm_other`, `help_late_fee_other`): with little history a class's
    words stand in one past question or answer each, not two questions. A catch-all pick of a question in two words
    one class alone learned (its questions and its branch's answers, three texts together) whose branch answered in
    none of the question's words, or of a question in one whose branch answered in two of that class's words, was a
    misroute; a question in one such word answered off it, one served in its words, or an answer taken from a
    document retrieved on the question, were not."""
    (finding,) = _line_desk()("broadband dead since noon, the light is off", "Other", "I can only help with plans.")
    assert finding.evidence["words_of"] == "Connection problems" and finding.evidence["words"] == ["broad", "light"]
    (finding,) = _line_desk()("is there a charge if my invoice is paid on the 25th?", "Other", "Late invoices cost $5.")
    assert finding.evidence["words_of"] == "Billing" and "late" in finding.evidence["words"]
    pick = _line_desk()
    assert pick("can I buy a light bulb?", "Other", "I have no information about that.") == []
    assert pick("broadband dead since noon, the light is off", "Other", "Your broadband outage is noted.") == []
    outage = "Outage notice: broadband in the north is down since noon; engineers on site."
    served = ("broadband dead since noon, the light is off", "Other", "Engineers are on site up north.", outage)
    assert _line_desk()(*served) == []


_BIKES = ["After-sales service", "Using your bike", "Other questions"]


def _bike_desk() -> Callable[[str, str], list[Any]]:
    """A bike shop's classifier whose specific classes' branches have an LLM each and whose catch-all answers a
    fixed reply without a model (Dify's template's "Sorry, I can't help you with these questions.")."""
    import json

    from tests.detectors.build import llm, node, run_spans

    processor = _drift_only({"vocabulary_history": 3})

    def pick(question: str, chosen: str) -> list[Any]:
        categories = [{"category_id": f"c{i}", "category_name": name} for i, name in enumerate(_BIKES)]
        qc = llm("qc", prompt=json.dumps({"input_text": [question], "categories": categories}), answer="")
        qc.update(node_type="question-classifier", title="Route", outputs={"class_name": chosen, "class_id": "c"})
        fixed = {"answer": "Sorry, I can't help you with these questions."}
        branch = node("fixed", "answer", outputs=fixed) if chosen == _BIKES[2] else llm("branch", answer="Noted.")
        return processor.detect(run_spans([node("start", "start"), qc, branch], app_id="bikes"))  # type: ignore[attr-defined, no-any-return]

    warm = [
        ("is my frame guarantee still valid after two years", _BIKES[0]),
        ("how do I adjust the gears", _BIKES[1]),
        ("does the guarantee cover a snapped chain", _BIKES[0]),
        ("do you sell helmets", _BIKES[2]),
        ("how do I claim the guarantee for a cracked rim", _BIKES[0]),
        ("what pressure should the tyres have", _BIKES[1]),
    ]
    for question, chosen in warm:
        assert pick(question, chosen) == []
    return pick


def test_a_catch_all_pick_with_a_fixed_reply_of_a_question_in_a_word_three_past_questions_of_a_class_held() -> None:
    """Session 29, round 2 (held-out 21's `en_helpdesk`: a warranty question filed under "Other questions", whose
    branch has no model and answers a fixed refusal): the branch cannot have served it, and three past questions of
    one specific class alone came in its word; a word two past questions held, or one of the catch-all's, is no
    such proof."""
    (finding,) = _bike_desk()("What does the guarantee cover on e-bikes?", _BIKES[2])
    assert finding.evidence["words_of"] == _BIKES[0] and finding.evidence["words"] == ["guara"]
    pick = _bike_desk()
    assert pick("Do you rent tyres for the weekend?", _BIKES[2]) == []
    assert pick("Do you sell helmets for children?", _BIKES[2]) == []

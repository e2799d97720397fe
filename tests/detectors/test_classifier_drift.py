from __future__ import annotations

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


def test_fitting_picks_and_real_catch_alls_pass() -> None:
    assert findings(classifier_run("What is the weather in Paris?", CLASSES, "weather"), "dify_classifier_drift") == []
    assert findings(classifier_run("Tell me a joke", CLASSES, "other topics"), "dify_classifier_drift") == []
    both = classifier_run("Billing question about weather insurance", CLASSES, "billing")
    assert findings(both, "dify_classifier_drift") == []


def test_the_real_dify_classifier_capture_passes() -> None:
    from tests.runs import CAPTURES, spans_of

    assert findings(spans_of(CAPTURES / "b_qc_weather_branch.sse"), "dify_classifier_drift") == []


def test_a_shift_of_the_class_mix_fires_once() -> None:
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate({k: {"enabled": False} for k in registry() if k != "dify_classifier_drift"})
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


def test_a_pick_the_learned_vocabulary_contradicts() -> None:
    """No question names a class: only the words the app's past picks filed under each class tell them apart."""
    from bridge.processors.detectors import Config, DetectionProcessor
    from detectors import registry

    processor = DetectionProcessor(
        Config.model_validate(
            {
                **{k: {"enabled": False} for k in registry() if k != "dify_classifier_drift"},
                "dify_classifier_drift": {"vocabulary": True},
            }
        )
    )

    def pick(question: str, chosen: str, app: str = "router") -> list[object]:
        return processor.detect(classifier_run(question, ROUTES, chosen, app_id=app))  # type: ignore[return-value]

    for i in range(24):
        route = ROUTES[i % 3]
        assert pick(ASKED[route][i // 3 % 3], route) == []
        assert pick(ASKED[route][i // 3 % 3], route, app="new-router") == []
        if i == 12:  # too little history yet: nothing to go by
            assert pick("Why is the parcel still at the depot?", "Billing", app="new-router") == []
    (finding,) = pick("Why is the parcel still at the depot?", "Billing")
    assert finding.evidence["vocabulary_says"] == "Shipping" and "parcel" in finding.evidence["words_for_it"]  # type: ignore[attr-defined]
    (finding,) = pick("快递什么时候能到", "Technical problem")
    assert finding.evidence["vocabulary_says"] == "Shipping"  # type: ignore[attr-defined]
    assert pick("The courier lost my parcel", "Shipping") == []
    assert pick("Do you sell gift cards?", "Billing") == []  # words no class knows speak for none

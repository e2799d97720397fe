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

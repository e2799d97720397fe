"""Every detector on the labeled corpus: ≥ 0.90 precision and recall, ≤ 2 % of clean runs with a finding."""

from __future__ import annotations

from tests.detectors.corpus import BUILDERS, CLEAN_RUNS, PER_DETECTOR, corpus, evaluate


def test_corpus_size() -> None:
    cases = list(corpus())
    assert len(cases) == (len(BUILDERS) + 1) * PER_DETECTOR * 2 + CLEAN_RUNS  # + model fallback, built with history
    assert len({case.name for case in cases}) == len(cases)


def test_quality_targets() -> None:
    scores, clean_alarm_rate, wrong = evaluate(list(corpus()))
    for key, score in scores.items():
        assert score.precision >= 0.9 and score.recall >= 0.9, (key, score, [w for w in wrong if key in w])
    assert clean_alarm_rate <= 0.02, [w for w in wrong if w.startswith("clean")]

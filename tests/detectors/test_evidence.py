"""Every finding carries evidence a person can check at a glance: the node, the rule, and what was compared."""

from __future__ import annotations

from bridge.processors.detectors import Config, DetectionProcessor
from tests.detectors import corpus, devset


def test_every_finding_names_its_node_and_rule() -> None:
    processor = DetectionProcessor(Config.model_validate({**corpus.SETTINGS, "cost": {"budget_per_node": 0.0001}}))
    seen: set[str] = set()
    for case in [*devset.corpus(), *corpus.corpus()]:
        for earlier in case.history:
            processor.detect(earlier)
        for finding in processor.detect(case.spans):
            seen.add(finding.detector)
            assert isinstance(finding.evidence.get("node"), str), finding
            assert isinstance(finding.evidence.get("rule"), str) and finding.evidence["rule"], finding
            assert len(finding.evidence) >= 3, finding  # the node, the rule and at least one value compared
    assert len(seen) == 12  # every detector fired somewhere

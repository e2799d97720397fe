"""Precision, recall and F1 per detector on the labeled corpus, and the false-alarm rate on clean runs.

.venv/bin/python bench/detection_quality.py [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.detectors.corpus import corpus, evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cases = list(corpus(args.seed))
    scores, clean_alarm_rate, wrong = evaluate(cases)
    print(f"{'detector':<28}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}{'F1':>7}")
    for key, score in sorted(scores.items()):
        print(f"{key:<28}{score.true_positives:>5}{score.false_positives:>5}{score.false_negatives:>5}"
              f"{score.precision:>11.3f}{score.recall:>8.3f}{score.f1:>7.3f}")  # fmt: skip
    print(f"\n{len(cases)} cases; clean runs with any finding: {clean_alarm_rate:.1%}")
    for line in wrong:
        print(f"  {line}")


if __name__ == "__main__":
    main()

"""Precision, recall and F1 per detector, and the share of clean runs with any finding, on these corpora:

- `heldout`: the held-out corpus (tests/detectors/heldout.py), default detector settings. Its figures are
  the published ones; its cases are never printed, so that no change is tuned to them.
- `heldout2`: the second held-out corpus (tests/detectors/heldout2.py), written after the first one's misses
  had been read; totals only, like the first.
- `heldout3`: the third held-out corpus (tests/detectors/heldout3.py), written by a helper who had not read the
  detectors, their tests or the other corpora; scored once, then made a development set: with its wrong cases.
- `heldout4`: the fourth held-out corpus (tests/detectors/heldout4.py), written by a helper who had not read the
  detectors, their tests, the other corpora or docs/detectors.md; scored untouched in session 16, used there to
  choose the defaults, then made a development set (session 17): with its wrong cases.
- `heldout5`: the fifth held-out corpus (tests/detectors/heldout5.py: seven apps of new domains, 1,064 runs), written
  by a helper who had not read the detectors, their tests, the other corpora or docs/detectors.md. Scored
  untouched at the end of session 17's detector branches, used to choose defaults (rule counts), then made a
  development set (session 18): with its wrong cases.
- `heldout6`: the sixth held-out corpus (tests/detectors/heldout6.py: seven more apps of new domains, 1,028 runs),
  written by a helper who had not read the detectors, their tests, the other corpora or docs/detectors.md. Scored
  untouched after held-out 5's decisions (session 17), used to choose defaults (rule counts), then made a
  development set (session 18): with its wrong cases.
- `heldout7`: the seventh held-out corpus (tests/detectors/heldout7.py: seven more apps of new domains, 1,050 runs),
  written likewise (session 17). Scored untouched at the end of session 18's detector branches, used to choose
  defaults (rule counts), then made a development set (session 19): with its wrong cases.
- `heldout8`: the eighth held-out corpus (tests/detectors/heldout8.py: seven more apps of new domains, 1,056 runs,
  written by another process: apps as data, faults as edits of a scenario; session 18). Scored blind once at the end
  of session 19's detector changes, then a development set: with its wrong cases.
- `heldout9`: the ninth held-out corpus (tests/detectors/heldout9.py: seven more apps, 1,016 runs, written blind by
  mutating real Dify 1.14.1 recordings event by event; session 19). Scored blind once at the end of session 20's
  detector changes, then a development set: with its wrong cases.
- `heldout10`: the tenth held-out corpus (tests/detectors/heldout10.py: seven more apps, 930 runs, written blind by
  simulating each app's nodes over a world state whose changes make the faults; session 20). Scored blind once at the
  end of session 21's detector changes (docs/detectors.md), then a development set: with its wrong cases.
- `heldout11`: the eleventh held-out corpus (tests/detectors/heldout11.py: six apps, 1,068 runs, written blind by a
  trace-grammar process: each app a small graph of Dify nodes executed under a seeded operator log of API drifts, key
  rotations, prompt edits, model republishes, index refreshes and traffic spikes, labelled by an oracle from what each
  run did; session 21). Scored blind once at the end of session 22's detector changes (docs/detectors.md), then a
  development set: with its wrong cases.
- `heldout12`: the twelfth held-out corpus (tests/detectors/heldout12.py: six apps, 1,020 runs, written blind by
  mutating real recorded Dify 1.14.1 runs: clean recordings re-skinned into new apps and languages, faults made by
  changing a run the way a real failure changes Dify's stream, each run labelled from what it shows; session 22);
  scored blind once at the end of session 23's detector changes (docs/detectors.md; its process is akin to
  `heldout9`'s: real recordings mutated), then a development set: with its wrong cases.
- `heldout13`: the thirteenth held-out corpus (tests/detectors/heldout13.py: six apps, 1,038 runs, written blind as
  contrastive minimal pairs: each faulty run beside a clean twin of the same app and question that differs only in
  what makes the fault; session 23); scored blind once in session 24 after its first detector changes
  (docs/detectors.md), then a development set: with its wrong cases.
- `heldout14`: the fourteenth held-out corpus (tests/detectors/heldout14.py: six apps, 1,097 runs, every stream
  recorded from a real Dify API 1.14.1 at scale, faults made by real means; session 24); scored blind once at the
  start of session 25 (the code of session 24's end; docs/detectors.md), then a development set: with its wrong cases.
- `heldout15`: the fifteenth held-out corpus (tests/detectors/heldout15.py: six apps, four of them chatflows with
  multi-turn conversations, recorded from a real Dify API 1.14.1 at realistic base rates (74 % clean); session 25);
  scored blind once at the end of session 25's first detector changes (docs/detectors.md), then a development set:
  with its wrong cases.
- `heldout16`, `heldout16-export`: the sixteenth held-out corpus (tests/detectors/heldout16.py: six apps, three of
  them chatflows, recorded from a real Dify API 1.14.1 with Dify's own tracing export of every run beside its
  stream; session 26) read two ways in: by the stream, and by the export as the bridge's OTLP receiver rebuilds it.
  Held out: `--corpus all` leaves both out until they are scored.
- `heldout17`, `heldout17-export`: the seventeenth held-out corpus (tests/detectors/heldout17.py: six apps, two of
  them chatflows, recorded from a real Dify API 1.14.1 as one simulated operations day: an operator timeline of
  deploys, API faults and fixes, republishes and knowledge-base edits, a seeded population of users, the apps' runs
  interleaved in clock order; every run with Dify's own tracing export beside its stream; session 27) read two ways
  in, and fed in the day's order. Scored blind at session 27's start and after its first detector changes
  (docs/detectors.md), then a development set: with its wrong cases.
- `heldout18`, `heldout18-export`: the eighteenth held-out corpus (tests/detectors/heldout18.py: six apps, three of
  them chatflows, recorded from a real Dify API 1.14.1 with Dify's own tracing export of every run beside its
  stream; traffic and operator changes drawn at random, labels given afterwards by a review of each recording)
  read two ways in. Scored blind once at the end of session 27 (docs/detectors.md), then a development set: with its
  wrong cases.
- `heldout19`, `heldout19-export`: the nineteenth held-out corpus (tests/detectors/heldout19.py: six apps of the kinds
  people build on Dify, in mainstream languages (three English, Simplified Chinese, Spanish, German), three of them
  chatflows, recorded from a real Dify API 1.14.1 as a simulated week of production: personas, multi-turn customers
  and an operator change log; every run with Dify's own tracing export beside its stream) read two ways
  in. Scored blind at session 28's start and after its first detector changes (docs/detectors.md), then a
  development set: with its wrong cases.
- `heldout20`, `heldout20-export`: the twentieth held-out corpus (tests/detectors/heldout20.py: six apps of kinds no
  earlier set used (a SaaS docs assistant, a recruiting screener, an expense-report checker, a restaurant's
  reservations chat, a parcel-tracking workflow, a meeting-notes summarizer), in English, Simplified Chinese,
  Japanese and French, two of them chatflows, recorded from a real Dify API 1.14.1 with Dify's own tracing export of
  every run beside its stream; traffic drawn at random with no labels, labels given afterwards by a rule-based blind
  review of each recording) read two ways in. Scored blind at session 28's start, after its first and after its
  second detector changes (docs/detectors.md), then a development set: with its wrong cases.
- `heldout21`, `heldout21-export`: the twenty-first held-out corpus (tests/detectors/heldout21.py: six of Dify 1.14.1's
  own recommended template apps imported through the console's DSL import API and adapted as a team would (a support
  chatbot with a question classifier, a shop's knowledge chatbot with an order lookup, a long story generator, a book
  translator, a review-routing workflow, a sentiment analyser), in English, Simplified Chinese and Spanish, three of
  them chatflows, recorded from a real Dify API 1.14.1 with Dify's own tracing export of every run beside its stream;
  labels planned before each run and checked against the recording) read two ways in. Scored blind at session 29's
  start and after its detector changes (docs/detectors.md), then a development set: with its wrong cases.
- `heldout22`: the twenty-second held-out corpus (tests/detectors/heldout22.py: 293 synthetic runs of six apps of the
  issue's kinds, four English, two Chinese, written blind in Dify 1.14.1's stream shape). Scored blind at session
  29's start, after its first and after its second detector changes (docs/detectors.md), then a development set:
  with its wrong cases.
- `dev`: the development corpus (tests/detectors/devset.py), default settings, with the cases that went wrong.
- `dev2`: the second development corpus (tests/detectors/devset2.py: classifier paraphrases, plain chat,
  leaks from documents and tools), likewise.
- `dev3`: the third development corpus (tests/detectors/devset3.py: the issue's other failure kinds: tool errors,
  documents about a chatbot, prompt growth, lost context, cut answers, model switches, loops), likewise.
- `constructed`: the per-detector unit corpus (tests/detectors/corpus.py) with its own settings.

.venv/bin/python bench/detection_quality.py
    [--corpus heldout|heldout2|...|heldout21|heldout21-export|heldout22|dev|dev2|dev3|constructed|all]
    [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.detectors import (
    corpus,
    devset,
    devset2,
    devset3,
    heldout,
    heldout2,
    heldout3,
    heldout4,
    heldout5,
    heldout6,
    heldout7,
    heldout8,
    heldout9,
    heldout10,
    heldout11,
    heldout12,
    heldout13,
    heldout14,
    heldout15,
    heldout16,
    heldout17,
    heldout18,
    heldout19,
    heldout20,
    heldout21,
    heldout22,
)

# The corpora written as Dify streams, in the order printed: key, module, title, whether wrong cases are printed
# (never for a set still held out, so that no change is tuned to its cases).
# Held out for the end of the next change to the detectors: `--corpus all` skips them, naming one scores it.
UNSCORED: set[str] = set()
GENERATED: list[tuple[str, Callable[..., Iterator[corpus.Case]], str, bool]] = [
    ("heldout", heldout.corpus, "held-out corpus", False),
    ("heldout2", heldout2.corpus, "second held-out corpus", False),
    ("heldout3", heldout3.corpus, "third held-out corpus", True),
    ("heldout4", heldout4.corpus, "fourth held-out corpus", True),
    ("heldout5", heldout5.corpus, "fifth held-out corpus", True),
    ("heldout6", heldout6.corpus, "sixth held-out corpus", True),
    ("heldout7", heldout7.corpus, "seventh held-out corpus", True),
    ("heldout8", heldout8.corpus, "eighth held-out corpus", True),
    ("heldout9", heldout9.corpus, "ninth held-out corpus", True),
    ("heldout10", heldout10.corpus, "tenth held-out corpus", True),
    ("heldout11", heldout11.corpus, "eleventh held-out corpus", True),
    ("heldout12", heldout12.corpus, "twelfth held-out corpus", True),
    ("heldout13", heldout13.corpus, "thirteenth held-out corpus", True),
    ("heldout14", heldout14.corpus, "fourteenth held-out corpus", True),
    ("heldout15", heldout15.corpus, "fifteenth held-out corpus", True),
    ("heldout16", heldout16.corpus, "sixteenth held-out corpus, by the stream", True),
    ("heldout16-export", heldout16.export_corpus, "sixteenth held-out corpus, by Dify's export", True),
    ("heldout17", heldout17.corpus, "seventeenth held-out corpus, by the stream", True),
    ("heldout17-export", heldout17.export_corpus, "seventeenth held-out corpus, by Dify's export", True),
    ("heldout18", heldout18.corpus, "eighteenth held-out corpus, by the stream", True),
    ("heldout18-export", heldout18.export_corpus, "eighteenth held-out corpus, by Dify's export", True),
    ("heldout19", heldout19.corpus, "nineteenth held-out corpus, by the stream", True),
    ("heldout19-export", heldout19.export_corpus, "nineteenth held-out corpus, by Dify's export", True),
    ("heldout20", heldout20.corpus, "twentieth held-out corpus, by the stream", True),
    ("heldout20-export", heldout20.export_corpus, "twentieth held-out corpus, by Dify's export", True),
    ("heldout21", heldout21.corpus, "twenty-first held-out corpus, by the stream", True),
    ("heldout21-export", heldout21.export_corpus, "twenty-first held-out corpus, by Dify's export", True),
    ("heldout22", heldout22.corpus, "twenty-second held-out corpus", True),
    ("dev", devset.corpus, "development corpus", True),
    ("dev2", devset2.corpus, "second development corpus", True),
    ("dev3", devset3.corpus, "third development corpus", True),
]


def _report(title: str, cases: list[corpus.Case], settings: dict[str, dict[str, object]] | None, show: bool) -> None:
    scores, clean_alarm_rate, wrong = corpus.evaluate(cases, settings)
    clean = sum(case.target is None for case in cases)
    print(f"== {title}: {len(cases)} runs, {clean} clean; clean runs with any finding: {clean_alarm_rate:.1%}")
    print(f"{'detector':<28}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}{'F1':>7}{'clean flagged':>15}")
    for key, score in sorted(scores.items()):
        print(f"{key:<28}{score.true_positives:>5}{score.false_positives:>5}{score.false_negatives:>5}"
              f"{score.precision:>11.3f}{score.recall:>8.3f}{score.f1:>7.3f}"
              f"{score.clean_alarms:>8} {score.clean_alarms / clean if clean else 0:>6.1%}")  # fmt: skip
    if show:
        for line in wrong:
            print(f"  {line}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=[key for key, *_ in GENERATED] + ["constructed", "all"], default="all")
    parser.add_argument("--seed", type=int, help="another seed than the corpus's own")
    args = parser.parse_args()
    seed = [args.seed] if args.seed is not None else []
    for key, read, title, show in GENERATED:
        if args.corpus == key or (args.corpus == "all" and key not in UNSCORED):
            _report(title, list(read(*seed)), {}, show=show)
    if args.corpus in ("constructed", "all"):
        _report("constructed corpus", list(corpus.corpus(args.seed or 7)), None, show=True)


if __name__ == "__main__":
    main()

"""The figures an app's knowledge holds beyond what one run retrieves, learned run over run."""

from __future__ import annotations

import functools
import itertools

from detectors import (
    ProcessMemory,
    Trace,
)
from detectors.numbers import (
    TIME_UNITS,
    by_unit,
    measured,
    readings,
)
from detectors.rag_poisoning import signals

# The figures an app's knowledge holds beyond what one run retrieves: the numbers of the documents its earlier runs
# retrieved, and of its earlier answers from documents or a context that stated none unsupported (a knowledge base
# answered from turns up across runs: a fee one run retrieved, another states from a segment it did not), each with
# what it counts (`figures_of`: a knowledge base's 25 m pool and 25 EUR return support no 25 kg). Per app, in process
# memory (learned again after a restart), the newest `_FIGURES_KEPT` kept.
KNOWN: ProcessMemory[dict[str, None]] = ProcessMemory(dict, 1000)
_FIGURES_KEPT = 5000


@functools.lru_cache(maxsize=1024)  # a knowledge base's segments come back run after run
def figures_of(text: str) -> frozenset[str]:
    """Every reading of every number in `text` with what it counts ("90|money", "6|month")."""
    return frozenset(f"{reading}|{unit}" for token, unit in measured(text) for reading in readings(token))


@functools.lru_cache(maxsize=1024)
def orders(document: str) -> bool:
    """Whether a retrieved document carries instructions addressed to a model (a notice telling the assistant what to
    say): its figures are an attacker's, no fact of the app's knowledge."""
    return bool(signals(document))


def learn(trace: Trace, figures: frozenset[str]) -> None:
    known = KNOWN.of(trace.baselines, trace.app)
    if not figures <= known.keys():
        with KNOWN.lock:
            known.update(dict.fromkeys(figures))
            for figure in list(itertools.islice(known, max(len(known) - _FIGURES_KEPT, 0))):
                del known[figure]


def unknown(unsupported: set[str], answer: str, known: dict[str, None], sources: list[str]) -> set[str]:
    """The numbers of `unsupported` the app's earlier runs did not state counting the same (`KNOWN`), or that
    count what the run's own sources count too: where the run retrieved a thing's figures ("refunds within 5
    business days"), the answer's ("within 10 business days") must agree with them, whatever other runs held."""
    units = dict(measured(answer))
    counted = {"time" if unit in TIME_UNITS else unit for source in sources for unit in by_unit(source)}
    return {
        number
        for number in unsupported
        if ("time" if (unit := units.get(number, "")) in TIME_UNITS else unit) in counted
        or not any(f"{reading}|{unit}" in known for reading in readings(number))
    }

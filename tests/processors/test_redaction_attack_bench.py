"""bench/redaction_attack.py's runner: it counts a text as leaked when its secret is anywhere in what arrives, so no
string the bench itself makes up may hold one (a random run id holding `6789` was round 8's `SSN 123-45-6789`)."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH))  # its rounds' modules beside it, as when it runs as a script
        spec = importlib.util.spec_from_file_location("redaction_attack", BENCH / "redaction_attack.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def test_run_ids_hold_no_planted_secret_and_are_the_same_at_every_replay(bench: ModuleType) -> None:
    secrets = ["6789", "3508"]  # rounds 8's and 9's shortest: one random UUID in about 4,000 holds each
    ids = list(itertools.islice(bench.run_ids(secrets), 20_000))
    assert not [run_id for run_id in ids if any(secret in run_id for secret in secrets)]
    assert len(set(ids)) == len(ids) and ids[:100] == list(itertools.islice(bench.run_ids(secrets), 100))


def test_a_planted_stream_carries_the_run_id_it_is_given(bench: ModuleType) -> None:
    source = bench.streams()[0]
    recorded = json.loads(next(line[6:] for line in source.read_text().split("\n") if "workflow_run_id" in line))
    stream = bench.planted_stream(source, "SSN 123-45-6789", 0, "00000000-1111-4222-8333-444444444444")
    assert stream is not None and "SSN 123-45-6789" in stream
    assert "00000000-1111-4222-8333-444444444444" in stream
    assert recorded["workflow_run_id"] not in stream

"""A spawned pipeline worker's first step (bridge/service/worker_start.py): the command's compiled patterns are in
place before the worker's arguments are unpickled (which imports the components, whose patterns compile as they
load), and the worker gets those arguments and its pipes."""

from __future__ import annotations

import multiprocessing
import pickle
from typing import Any

import pytest

from bridge import regex_cache
from bridge.service.worker_start import start

_STEPS: list[str] = []


def _config() -> str:
    _STEPS.append("unpickled")
    return "config"


class _Config:
    """Notes when it is unpickled, as the config's unpickling imports the components."""

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _config, ()


def _work(*arguments: Any) -> None:
    """The worker's body, here noting what it was given (pickled by name, as `pipeline_workers.work` is)."""
    _WORKED.append(arguments)


_WORKED: list[tuple[Any, ...]] = []


def test_the_compiled_patterns_are_installed_before_the_arguments_are_unpickled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _STEPS.clear()
    _WORKED.clear()
    monkeypatch.setattr(regex_cache, "install", lambda: _STEPS.append("installed"))
    requests, answers = multiprocessing.Pipe(duplex=False)
    try:
        start(pickle.dumps((_work, _Config(), {"traces": None}, True)), requests, answers)
    finally:
        requests.close()
        answers.close()
    assert _STEPS == ["installed", "unpickled"]
    assert [("config", {"traces": None}, True, requests, answers)] == _WORKED

"""A spawned pipeline worker's first step (bridge/service/pipeline_workers.py): the command's compiled patterns
(bridge/regex_cache.py) put in place before anything is imported, then the worker. Its arguments come
pickled: unpickling the config imports the components' modules, which compile their patterns as they load
(compiled again, they were nearly half of a worker's start-up: 3.1 G instructions against 1.6 G; bench/RESULTS.md)."""

from __future__ import annotations

import pickle
from multiprocessing.connection import Connection


def start(arguments: bytes, requests: Connection, answers: Connection) -> None:
    from bridge import regex_cache

    regex_cache.install()
    work, config, limits, store_baselines = pickle.loads(arguments)  # `work` by name: its module imported here
    work(config, limits, store_baselines, requests, answers)

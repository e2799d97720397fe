"""Detector baselines served from memory and written to the store in the background."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the store imports cryptography: a pipeline worker without the store's baselines needs neither
    from bridge.management.store import Store

# How often the server and each pipeline worker write their detectors' baselines to the store.
FLUSH_INTERVAL_S = 5.0


class WriteBehindBaselines:
    """The `detectors.Baselines` of the server: reads come from memory (loaded from the store once per
    key), writes are kept in memory and written by `flush`, which the server calls every few seconds and
    at shutdown. A run's detectors never wait on the disk; a crash loses the last seconds of history,
    which statistics over the last hundred runs do not miss."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._values: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            if key not in self._values:
                self._values[key] = self._store.get(key)
            return self._values[key]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._values[key] = value
            self._dirty.add(key)

    def flush(self) -> None:
        with self._lock:
            changed = {key: self._values[key] for key in self._dirty}
            self._dirty.clear()
        if changed:
            self._store.put_many(changed)

"""Spent nonces of signed requests, remembered for the timestamp window: checked in memory, kept in the store.

Every signed request spends a nonce (`receivers/signing.py`). A store commit per request on the event loop
cost about 0.2 ms (a busy 2-core machine); here a check is a dict lookup, and the store takes the nonces
spent since the last `flush` in one transaction (the server flushes every second and at shutdown). A restart
remembers them; a killed bridge forgets those of its last second.
"""

from __future__ import annotations

import heapq
import threading

from bridge.management.store import Store


class SpentNonces:
    """Thread-safe. A nonce is kept until its `expires_at` (its request's timestamp plus the tolerance, when a
    replay would be refused as expired anyway), so memory holds one entry per request of the last window:
    bounded by the API keys' rate limit."""

    def __init__(self, store: Store, now: float) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._expiry = dict(store.nonces(now))  # nonce → expires_at
        self._heap = [(expires_at, nonce) for nonce, expires_at in self._expiry.items()]  # soonest first
        heapq.heapify(self._heap)
        self._spent: dict[str, float] = {}  # since the last flush
        self._given_back: set[str] = set()

    def __len__(self) -> int:
        return len(self._expiry)

    def spend(self, nonce: str, expires_at: float, now: float) -> bool:
        """False when `nonce` was spent before (a replay)."""
        with self._lock:
            while self._heap and self._heap[0][0] < now:
                expired_at, expired = heapq.heappop(self._heap)
                if self._expiry.get(expired) == expired_at:  # not given back, or spent again later
                    del self._expiry[expired]
            if nonce in self._expiry:
                return False
            self._expiry[nonce] = self._spent[nonce] = expires_at
            heapq.heappush(self._heap, (expires_at, nonce))
            self._given_back.discard(nonce)
            return True

    def give_back(self, nonce: str) -> None:
        """Its request was not taken: it may come again."""
        with self._lock:
            self._expiry.pop(nonce, None)
            if self._spent.pop(nonce, None) is None:
                self._given_back.add(nonce)  # already in the store

    def flush(self, now: float) -> None:
        """Writes what was spent and given back since the last flush; the store forgets expired nonces."""
        with self._lock:
            spent, self._spent = self._spent, {}
            given_back, self._given_back = self._given_back, set()
        self._store.save_nonces(spent, given_back, now)

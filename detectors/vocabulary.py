"""An app's vocabulary, learnt run over run: the words its users asked with and its answers used.

An app answers within its business: after some runs, most words of a right answer are words it used before or words
its run was given. An answer most of whose words the app never used and its run was not given is about something
else. Kept in the process's memory only (`ProcessMemory`: the words of what users asked and were told), learned
again after a restart."""

from __future__ import annotations

import threading

_MOST_WORDS = 20_000  # words kept per app; past this the older half is dropped (a long-lived app's rare words)


class Vocabulary:
    """The words an app's runs used, in the order first used, and how many runs taught them. Thread-safe."""

    def __init__(self) -> None:
        self._words: dict[str, None] = {}
        self.runs = 0
        self._lock = threading.Lock()

    def unknown(self, words: set[str]) -> set[str]:
        """The words the app never used."""
        with self._lock:
            return {word for word in words if word not in self._words}

    def learn(self, words: set[str]) -> None:
        """Adds one run's words."""
        with self._lock:
            self.runs += 1
            self._words.update(dict.fromkeys(words))
            if len(self._words) > _MOST_WORDS:
                self._words = dict.fromkeys(list(self._words)[_MOST_WORDS // 2 :])

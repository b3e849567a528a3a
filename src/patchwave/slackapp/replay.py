"""Remembers recent Slack requests so a replayed one is acknowledged and ignored.

Slack signs each request with a timestamp and the signature check refuses anything older than 5
minutes, so a captured request can only be replayed within that window: keeping keys for a bit
longer than that is enough. The cache is per process; a replay that reaches another process is
still harmless, because ``decide()`` refuses a second decision by the same person.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

SIGNATURE_WINDOW = 5 * 60.0


class ReplayCache:
    """Keys seen in the last ``ttl`` seconds (thread-safe, bounded).

    Args:
        ttl: how long a key is remembered (default: the signature window plus a margin).
        max_entries: oldest keys are dropped past this (a flood cannot exhaust memory).
        clock: monotonic seconds, injectable for tests.
    """

    def __init__(
        self,
        *,
        ttl: float = SIGNATURE_WINDOW + 60.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[Hashable, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: Hashable) -> bool:
        """True when ``key`` was already recorded within the TTL; records it otherwise."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            if key in self._seen:
                return True
            self._seen[key] = now + self.ttl
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
            return False

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._seen)

    def _expire(self, now: float) -> None:
        # Insertion order is expiry order (one TTL for all), so stop at the first live key.
        while self._seen:
            key, until = next(iter(self._seen.items()))
            if until > now:
                return
            del self._seen[key]

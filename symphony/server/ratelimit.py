"""Sliding-window rate limits kept in the server process: at most ``limit`` hits per key in any
``window_s`` seconds. Used for failed sign-ins (per email and per address) and for generation
jobs (per user). Each server process counts its own requests; behind several processes the
effective limit is that many times higher."""
from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque


class RateLimit:
    def __init__(self, limit: int, window_s: float, clock=time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        hits, oldest = self._hits[key], self.clock() - self.window_s
        while hits and hits[0] <= oldest:
            hits.popleft()
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may be hit again (0: now)."""
        with self._lock:
            hits = self._recent(key)
            if len(hits) < self.limit:
                return 0
            return max(1, math.ceil(hits[-self.limit] + self.window_s - self.clock()))

    def hit(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())

    def take(self, key: str) -> int:
        """Hit ``key`` if it may be hit now and answer 0; else the seconds to wait (no hit counted)."""
        with self._lock:
            hits = self._recent(key)
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[-self.limit] + self.window_s - self.clock()))
            hits.append(self.clock())
            return 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

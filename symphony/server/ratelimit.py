"""Sliding-window rate limits: at most ``limit`` hits per key in any ``window_s`` seconds.

- ``StoredRateLimit`` keeps its hits in the database (the ``rate_hits`` table), so every server
  process on one database counts the same hits: two ``symphony serve`` processes on one
  PostgreSQL give a user the limit once, not twice. Used for failed sign-ins (per email and per
  address) and for generation jobs (per user). Its clock is the wall clock (processes share it).
- ``RateLimit`` keeps them in the process, for what belongs to one process: the messages of one
  collaboration socket."""
from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from sqlalchemy import Float, Index, Integer, String, delete, select, text
from sqlalchemy.orm import Mapped, mapped_column

from symphony.server.store import Base, Store


class RateHitRow(Base):
    """One hit of a rate-limited key (``scope:key``), at a wall-clock time in seconds."""
    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[float] = mapped_column(Float)


def _wait(hits: list[float], limit: int, window_s: float, now: float) -> int:
    """Seconds until one more hit is allowed, given the hits in the window (oldest first); 0: now."""
    if len(hits) < limit:
        return 0
    return max(1, math.ceil(hits[-limit] + window_s - now))


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
            return _wait(list(self._recent(key)), self.limit, self.window_s, self.clock())

    def hit(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())

    def take(self, key: str) -> int:
        """Hit ``key`` if it may be hit now and answer 0; else the seconds to wait (no hit counted)."""
        with self._lock:
            hits = self._recent(key)
            wait = _wait(list(hits), self.limit, self.window_s, self.clock())
            if not wait:
                hits.append(self.clock())
            return wait

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class StoredRateLimit:
    """``RateLimit``'s methods, with the hits in the database. ``scope`` names the limit (its keys
    are ``scope:key``). ``take`` counts and hits in one transaction that holds a lock on the key
    (PostgreSQL: a transaction advisory lock; SQLite: the write lock, which its first statement,
    a delete of the limit's expired hits, takes), so processes that take at once cannot both slip in."""

    def __init__(self, store: Store, scope: str, limit: int, window_s: float, clock=time.time):
        self.store, self.scope, self.limit, self.window_s, self.clock = store, scope, limit, window_s, clock

    def _key(self, key: str) -> str:
        return f"{self.scope}:{key}"[:400]

    def _recent(self, s, key: str, now: float) -> list[float]:
        """Lock the key and forget the limit's hits older than the window (every key's: a key
        that is never hit again leaves nothing behind); the key's hits since, oldest first."""
        expired = delete(RateHitRow).where(RateHitRow.key.startswith(f"{self.scope}:", autoescape=True),
                                           RateHitRow.at <= now - self.window_s)
        if s.bind.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
            if s.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": f"sweep {self.scope}"}):
                s.execute(expired)  # one sweeper at a time: two could lock each other's rows
        else:
            s.execute(expired)  # SQLite: the first write takes the database's write lock until commit
        return list(s.scalars(select(RateHitRow.at).order_by(RateHitRow.at)
                              .where(RateHitRow.key == key, RateHitRow.at > now - self.window_s)))

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may be hit again (0: now)."""
        key, now = self._key(key), self.clock()
        with self.store.sessions() as s:
            hits = list(s.scalars(select(RateHitRow.at).order_by(RateHitRow.at)
                                  .where(RateHitRow.key == key, RateHitRow.at > now - self.window_s)))
        return _wait(hits, self.limit, self.window_s, now)

    def hit(self, key: str) -> None:
        key, now = self._key(key), self.clock()
        with self.store.sessions.begin() as s:
            self._recent(s, key, now)
            s.add(RateHitRow(key=key, at=now))

    def take(self, key: str) -> int:
        """Hit ``key`` if it may be hit now and answer 0; else the seconds to wait (no hit counted)."""
        key, now = self._key(key), self.clock()
        with self.store.sessions.begin() as s:
            wait = _wait(self._recent(s, key, now), self.limit, self.window_s, now)
            if not wait:
                s.add(RateHitRow(key=key, at=now))
        return wait

    def clear(self, key: str) -> None:
        with self.store.sessions.begin() as s:
            s.execute(delete(RateHitRow).where(RateHitRow.key == self._key(key)))

"""Shared hit counters: rate limits and "once per hour" checks that hold across workers and machines.

A counter is one row `(key, hits, expires)` in the store's own database (the embedded store's
`parks.sqlite3`, or a PostgreSQL table beside the parks), changed by one atomic upsert: a hit
after `expires` starts a new window of `window_s` seconds at 1, any other hit adds one. A
client is allowed while its window holds at most `limit` hits, so a burst of N+k hits within
one window gets exactly N through, whichever worker or machine answers each one. Refused hits
are counted too; they do not extend the window.

Keys hold no address: callers use `client_key`, an HMAC-SHA256 under a random secret per
Asia/Shanghai day that every process reads from the same database (`day_secret`); the secrets of
other days are deleted when a new day's is made, so yesterday's keys cannot be linked to anyone.
Times are Unix seconds (wall clock: comparable between machines).
"""
from __future__ import annotations

import abc
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from geo.hours import SHANGHAI
from layers.errors import YizhanError

LOGGER = logging.getLogger(__name__)
SWEEP_EVERY = 500  # hits between two deletions of expired counters (per process)

# The upsert both databases run (SQLite 3.35+ and PostgreSQL: SET sees the old row, RETURNING the new).
UPSERT = (
    "INSERT INTO hit_counters (key, hits, expires) VALUES ({p}, 1, {p}) "
    "ON CONFLICT (key) DO UPDATE SET "
    "hits = CASE WHEN hit_counters.expires <= {p} THEN 1 ELSE hit_counters.hits + 1 END, "
    "expires = CASE WHEN hit_counters.expires <= {p} THEN excluded.expires ELSE hit_counters.expires END "
    "RETURNING hits, expires"
)


def _today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


def upsert_args(key: str, now: float, window_s: float) -> tuple:
    """Parameters of UPSERT for one hit of `key` at `now` (Unix seconds)."""
    return (key, now + window_s, now, now)


class HitCounters(abc.ABC):
    """Counters in a database shared by every process of the service."""

    @abc.abstractmethod
    def count_hits(self, keys: Sequence[str], now: float, window_s: float) -> list[tuple[int, float]]:
        """One hit on each key at `now` (Unix s), in one transaction: (hits in its window, window end) per key."""

    @abc.abstractmethod
    def day_secret(self, day: str) -> bytes:
        """The random secret of Asia/Shanghai day `day` (ISO date), made once for every process."""


def make_secret() -> bytes:
    """A fresh 32-byte secret."""
    return secrets.token_bytes(32)


class ClientKeys:
    """`client_key(text)`: an HMAC of `text` under the shared secret of today (cached per process)."""

    def __init__(self, counters: Callable[[], HitCounters | None]) -> None:
        self._counters = counters
        self._day: date | None = None
        self._secret = b""
        self._lock = threading.Lock()

    def __call__(self, text: str) -> str:
        today = _today()
        with self._lock:
            if today != self._day:
                counters = self._counters()
                if counters is None:
                    raise YizhanError("no shared counters")
                self._secret, self._day = counters.day_secret(today.isoformat()), today
            secret = self._secret
        return hmac.new(secret, text.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


class RateLimiter:
    """At most `limit` events per `window_s` seconds per client.

    With `shared` (the database's `HitCounters`, or a callable giving it), the count is kept
    there under `name` and holds across workers and machines; while that database cannot be
    reached, and without `shared`, each process counts in its own memory (keys: an HMAC under a
    per-process secret renewed daily, buckets dropped with it). No raw address is kept either way.
    """

    def __init__(self, limit: int, window_s: float, shared: HitCounters | Callable[[], HitCounters | None] | None = None,
                 name: str = "rate") -> None:
        self.limit, self.window_s, self.name = limit, window_s, name
        self._shared = shared if callable(shared) and not isinstance(shared, HitCounters) else (lambda: shared)
        self._keys = ClientKeys(self._shared)
        self._lock = threading.Lock()
        self._day: date | None = None
        self._secret = b""
        self._buckets: dict[str, deque[float]] = {}
        self._warned = 0.0

    def hit(self, address: str, now: float | None = None) -> float:
        """Count one event; 0 when allowed, else the seconds to wait before the next one is."""
        counters = self._shared()
        if counters is not None:
            try:
                at = time.time() if now is None else now
                hits, expires = counters.count_hits([f"{self.name}:{self._keys(address)}"], at, self.window_s)[0]
                return 0.0 if hits <= self.limit else max(1.0, expires - at)
            except YizhanError as exc:
                self._warn(exc)
        return self._hit_here(address, now)

    def _warn(self, exc: YizhanError) -> None:
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            LOGGER.warning("shared rate limit %s unavailable, counting in this process: %s", self.name, exc)

    def _hit_here(self, address: str, now: float | None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            today = _today()
            if today != self._day:
                self._day, self._secret, self._buckets = today, make_secret(), {}
            key = hmac.new(self._secret, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]
            bucket = self._buckets.setdefault(key, deque())
            while bucket and bucket[0] <= now - self.window_s:
                bucket.popleft()
            if len(bucket) >= self.limit:
                return max(1.0, bucket[0] + self.window_s - now)
            bucket.append(now)
            if len(self._buckets) > 50_000:  # a flood of addresses: forget the idle ones
                self._buckets = {k: v for k, v in self._buckets.items() if v and v[-1] > now - self.window_s}
            return 0.0

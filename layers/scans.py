"""Scan counts: gathered in memory, written in batches, each client counted once per park per hour.

A landing page must not wait for a database write: at a shift change hundreds of drivers scan
the same poster within a minute, and one upsert per scan on one row serialises them. Counts
are flushed by a daemon thread every `flush_s` seconds, before every read of the counts in this
process (`flush()`), when the park store or the app's station store closes (`close()`), and at
exit for buffers still open; a crash loses at most `flush_s` seconds of counts — they are a
demand signal, not money. When the database is down the counts stay pending (at most
`max_keys` entries) and land with the next flush that succeeds.

A scan added with a `client` text (address and user agent) is counted once per client per park
per `once_s` seconds (an hour) across all processes: at flush the client becomes an HMAC under
the day's shared secret (`layers.counters.ClientKeys`), and a shared counter on
`scan:<slug>:<hmac>` decides; only its first hit in the window counts. Nothing about the reader
is written (the counters' keys are unlinkable once the day's secret is gone).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from datetime import date
from typing import TYPE_CHECKING

from layers.counters import ClientKeys
from layers.errors import YizhanError

if TYPE_CHECKING:
    from layers.parks import ParkStore

LOGGER = logging.getLogger(__name__)
ONCE_S = 3600.0
_OPEN: weakref.WeakSet[ScanBuffer] = weakref.WeakSet()


class ScanBuffer:
    """Scans of this process waiting to be written to `parks` (see the module's text)."""

    def __init__(self, parks: ParkStore, flush_s: float = 5.0, max_keys: int = 10_000, once_s: float = ONCE_S) -> None:
        self._parks = parks
        self._flush_s = flush_s
        self._max_keys = max_keys
        self._once_s = once_s
        self._keys = ClientKeys(lambda: self._parks.counters)
        self._pending: dict[tuple[str, date], int] = {}
        self._once: dict[tuple[str, date, str], float] = {}  # (slug, day, client) -> first seen (Unix s)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.closed = False
        _OPEN.add(self)

    def add(self, slug: str, day: date, client: str | None = None, at: float | None = None) -> None:
        """Count one scan, or with `client` one scan per client and hour, seen at `at` (Unix s, default
        now); never blocks on the database."""
        with self._lock:
            if client is not None and self._parks.counters is not None:
                key3 = (slug, day, client)
                if key3 not in self._once and len(self._once) < self._max_keys:
                    self._once[key3] = time.time() if at is None else at
            else:
                key = (slug, day)
                if key in self._pending or len(self._pending) < self._max_keys:
                    self._pending[key] = self._pending.get(key, 0) + 1
        self._ensure_thread()

    def pending(self) -> int:
        """Scans counted but not yet written (a client's scans once)."""
        with self._lock:
            return sum(self._pending.values()) + len(self._once)

    def flush(self) -> None:
        """Write the pending counts now; on a store error they stay pending and the error is raised."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
                once, self._once = self._once, {}
            if not batch and not once:
                return
            try:
                batch = self._first_hits(once, batch)
                once = {}
                if batch:
                    self._parks.add_scans(batch)
            except BaseException:
                with self._lock:
                    for key, n in batch.items():
                        self._pending[key] = self._pending.get(key, 0) + n
                    for key3, at in once.items():
                        self._once.setdefault(key3, at)
                raise

    def _first_hits(self, once: dict[tuple[str, date, str], float], batch: dict) -> dict:
        """`batch` plus one scan for each client whose shared counter says: first in its window."""
        if not once:
            return batch
        out = dict(batch)
        by_time: dict[float, list[tuple[str, date, str]]] = {}
        for key3, at in once.items():  # one transaction per distinct moment (all of them: a few per flush)
            by_time.setdefault(round(at, 1), []).append(key3)
        for at, keys3 in sorted(by_time.items()):
            keys = [f"scan:{slug}:{self._keys(client)}" for slug, _, client in keys3]
            hits = self._parks.counters.count_hits(keys, at, self._once_s)
            for (slug, day, _), (n, _) in zip(keys3, hits, strict=True):
                if n == 1:
                    out[(slug, day)] = out.get((slug, day), 0) + 1
        return out

    def close(self) -> None:
        """Write what is pending and stop counting (an app or its store is closing). A failure is
        logged once, with the count lost."""
        if self.closed:
            return
        self.closed = True
        _OPEN.discard(self)
        try:
            self.flush()
        except YizhanError as exc:
            LOGGER.warning("%d scan counts could not be written when the store closed: %s", self.pending(), exc)
        with self._lock:
            self._pending, self._once = {}, {}

    def _ensure_thread(self) -> None:
        # started lazily and again after a fork (gunicorn forks workers after the app is made)
        if self.closed or (self._thread is not None and self._pid == os.getpid() and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="yizhan-scan-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self.closed:
            time.sleep(self._flush_s)
            try:
                self.flush()
            except YizhanError:
                continue  # database down: keep the counts, try again next round


@atexit.register
def _flush_at_exit() -> None:
    for buffer in list(_OPEN):
        try:
            buffer.flush()
        except YizhanError:  # at exit with the database gone: nothing left to do but say so
            LOGGER.warning("%d scan counts could not be written at exit", buffer.pending())

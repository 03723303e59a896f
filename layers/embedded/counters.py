"""Shared hit counters (`layers.counters`) in the embedded store's `parks.sqlite3`.

A connection of its own with synchronous=NORMAL: a counter lost in a power cut costs nothing,
while an fsync on every counted request would (reports and parks keep synchronous=FULL).
Every change is one BEGIN IMMEDIATE transaction, so all processes on the file see one count.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from layers.counters import SWEEP_EVERY, UPSERT, HitCounters, make_secret, upsert_args
from layers.embedded.sqlite_file import open_sqlite
from layers.errors import StoreUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS hit_counters (key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expires REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_secrets (day TEXT PRIMARY KEY, secret BLOB NOT NULL);
"""
_UPSERT = UPSERT.format(p="?")


class SqliteCounters(HitCounters):
    """Counters in the SQLite file at `path` (opened on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._since_sweep = 0

    def _transaction(self, work):
        with self._lock:
            try:
                if self._db is None:
                    self._db = open_sqlite(self.path, SCHEMA, "counter store")
                    self._db.execute("PRAGMA synchronous=NORMAL")
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = work(db)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"counter store write failed: {exc}") from exc
            return result

    def count_hits(self, keys: Sequence[str], now: float, window_s: float) -> list[tuple[int, float]]:
        def work(db):
            out = [tuple(db.execute(_UPSERT, upsert_args(key, now, window_s)).fetchone()) for key in keys]
            self._since_sweep += len(keys)
            if self._since_sweep >= SWEEP_EVERY:
                self._since_sweep = 0
                db.execute("DELETE FROM hit_counters WHERE expires < ?", (now,))
            return out

        return self._transaction(work)

    def day_secret(self, day: str) -> bytes:
        def work(db):
            row = db.execute("SELECT secret FROM day_secrets WHERE day=?", (day,)).fetchone()
            if row is not None:
                return bytes(row[0])
            secret = make_secret()
            db.execute("DELETE FROM day_secrets")  # other days' secrets go: their keys link to no one
            db.execute("INSERT INTO day_secrets (day, secret) VALUES (?, ?)", (day, secret))
            return secret

        return self._transaction(work)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

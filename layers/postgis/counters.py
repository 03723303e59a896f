"""Shared hit counters (`layers.counters`) in PostgreSQL, beside the parks (migration 0002).

Each change is one transaction on the park store's pool with `synchronous_commit = off`: a
counter lost in a crash costs nothing, a WAL flush on every counted request would. The upsert
locks only the counter's row, so workers on every machine agree on one count.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from layers.counters import SWEEP_EVERY, UPSERT, HitCounters, make_secret, upsert_args

_UPSERT = UPSERT.format(p="%s")


class PostgisCounters(HitCounters):
    """Counters through `write(work)`: the park store's write transaction (schema migrated first)."""

    def __init__(self, write: Callable[[Callable[[Any], Any]], Any]) -> None:
        self._write = write
        self._since_sweep = 0

    def count_hits(self, keys: Sequence[str], now: float, window_s: float) -> list[tuple[int, float]]:
        def work(cur):
            cur.execute("SET LOCAL synchronous_commit = off")
            out = []
            for key in sorted(set(keys)) if len(keys) > 1 else keys:  # one order for every writer: no deadlock
                cur.execute(_UPSERT, upsert_args(key, now, window_s))
                hits, expires = cur.fetchone()
                out.append((key, (int(hits), float(expires))))
            self._since_sweep += len(keys)
            if self._since_sweep >= SWEEP_EVERY:
                self._since_sweep = 0
                cur.execute("DELETE FROM hit_counters WHERE expires < %s", (now,))
            return dict(out)

        found = self._write(work)
        return [found[key] for key in keys]

    def day_secret(self, day: str) -> bytes:
        def work(cur):
            cur.execute("INSERT INTO day_secrets (day, secret) VALUES (%s, %s) ON CONFLICT (day) DO NOTHING "
                        "RETURNING secret", (day, make_secret()))
            row = cur.fetchone()
            if row is not None:  # made now: other days' secrets go, their keys link to no one
                cur.execute("DELETE FROM day_secrets WHERE day <> %s", (day,))
                return bytes(row[0])
            cur.execute("SELECT secret FROM day_secrets WHERE day = %s", (day,))
            return bytes(cur.fetchone()[0])

        return self._write(work)

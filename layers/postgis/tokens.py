"""API tokens in PostgreSQL (table `api_tokens`, made by the station migrations, 0003).

The schema is brought up to date on first use (`layers.postgis.schema.upgrade`, idempotent), so
the app starts while the database is down; token checks then answer 503 until it is back.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

import psycopg2

from layers.postgis.pool import Pool, run
from layers.postgis.schema import upgrade
from layers.tokens import (
    TokenNotFound,
    TokenRecord,
    TokenStore,
    check_name,
    check_new,
    name_taken,
)

_COLUMNS = "name, role, created_at, revoked_at"


def _record(row: tuple) -> TokenRecord:
    name, role, created, revoked = row
    return TokenRecord(name=name, role=role, created_at=created.astimezone(UTC),
                       revoked_at=revoked.astimezone(UTC) if revoked else None)


class PostgisTokenStore(TokenStore):
    """Tokens in the station database at `url`."""

    def __init__(self, url: str, pool_size: int = 2) -> None:
        self.url = url
        self._pool = Pool(url, pool_size)
        self._ready = False

    def _run(self, work: Callable, write: bool = False) -> Any:
        if not self._ready:
            upgrade(self.url)
            self._ready = True
        return run(self._pool, work, write=write)

    def add(self, name: str, digest: str, role: str) -> TokenRecord:
        name = check_new(name, digest, role)

        def work(cur):
            cur.execute(f"INSERT INTO api_tokens (name, digest, role) VALUES (%s, %s, %s) RETURNING {_COLUMNS}",
                        (name, digest, role))
            return cur.fetchone()

        try:
            return _record(self._run(work, write=True))
        except psycopg2.IntegrityError:
            raise name_taken(name) from None

    def find(self, digest: str) -> TokenRecord | None:
        def work(cur):
            cur.execute(f"SELECT {_COLUMNS} FROM api_tokens WHERE digest = %s", (digest,))
            return cur.fetchone()

        row = self._run(work)
        return None if row is None else _record(row)

    def list(self) -> list[TokenRecord]:
        return [_record(r) for r in self._run(lambda cur: (cur.execute(f"SELECT {_COLUMNS} FROM api_tokens ORDER BY id"),
                                                          cur.fetchall())[1])]

    def revoke(self, name: str) -> TokenRecord:
        name = check_name(name)

        def work(cur):
            cur.execute(f"UPDATE api_tokens SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL "
                        f"RETURNING {_COLUMNS}", (name,))
            return cur.fetchone()

        row = self._run(work, write=True)
        if row is None:
            raise TokenNotFound(f"no token in force named {name!r}", parameter="name")
        return _record(row)

    def close(self) -> None:
        self._pool.close()

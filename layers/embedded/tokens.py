"""API tokens in the embedded store's SQLite file (`yizhan.sqlite3`, table `api_tokens`).

A connection per call: token checks are one indexed read, and nothing stays open to close.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from layers.audit import utc_now, utc_text
from layers.embedded.store import DB_NAME
from layers.errors import StoreUnavailable
from layers.tokens import (
    TokenNotFound,
    TokenRecord,
    TokenStore,
    check_name,
    check_new,
    name_taken,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
"""
_COLUMNS = "name, role, created_at, revoked_at"


def _record(row: tuple) -> TokenRecord:
    name, role, created, revoked = row
    return TokenRecord(name=name, role=role, created_at=datetime.fromisoformat(created),
                       revoked_at=datetime.fromisoformat(revoked) if revoked else None)


class SqliteTokenStore(TokenStore):
    """Tokens beside the embedded station store in `<data_dir>/yizhan.sqlite3`."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / DB_NAME
        self._ready = False

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the token table in {self.path}: {exc}") from exc
        try:
            if not self._ready:
                db.executescript(SCHEMA)
                self._ready = True
            return work(db)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"token table in {self.path} failed: {exc}") from exc
        finally:
            db.close()

    def add(self, name: str, digest: str, role: str) -> TokenRecord:
        name = check_new(name, digest, role)
        created = utc_now()
        try:
            self._run(lambda db: db.execute("INSERT INTO api_tokens (name, digest, role, created_at) VALUES (?,?,?,?)",
                                            (name, digest, role, utc_text(created))))
        except sqlite3.IntegrityError:
            raise name_taken(name) from None
        return TokenRecord(name=name, role=role, created_at=created)

    def find(self, digest: str) -> TokenRecord | None:
        row = self._run(lambda db: db.execute(f"SELECT {_COLUMNS} FROM api_tokens WHERE digest=?",
                                              (digest,)).fetchone())
        return None if row is None else _record(row)

    def list(self) -> list[TokenRecord]:
        rows = self._run(lambda db: db.execute(f"SELECT {_COLUMNS} FROM api_tokens ORDER BY id").fetchall())
        return [_record(row) for row in rows]

    def revoke(self, name: str) -> TokenRecord:
        name = check_name(name)

        def work(db):
            return db.execute(f"UPDATE api_tokens SET revoked_at=? WHERE name=? AND revoked_at IS NULL "
                              f"RETURNING {_COLUMNS}", (utc_text(utc_now()), name)).fetchone()

        row = self._run(work)
        if row is None:
            raise TokenNotFound(f"no token in force named {name!r}", parameter="name")
        return _record(row)

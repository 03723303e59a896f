"""Opening a SQLite file the way every embedded store here wants it: WAL, durable, shared by threads."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from layers.errors import StoreUnavailable


def open_sqlite(path: Path, schema: str, what: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL with synchronous=FULL (a
    committed write survives a crash), 5 s busy timeout (other processes write the same file),
    usable from several threads (the caller serialises with its own lock), `schema` applied.
    StoreUnavailable names `what` when the file cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(schema)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"cannot open the {what} at {path}: {exc}") from exc
    return db

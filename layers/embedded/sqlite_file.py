"""Opening a SQLite file the way every embedded store here wants it: WAL, durable, shared by threads."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from layers.errors import StoreUnavailable

LOGGER = logging.getLogger(__name__)
OPEN_PATIENCE_S = 15.0  # how long an open waits for other processes that hold the file's lock


def open_sqlite(path: Path, schema: str, what: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL with synchronous=FULL (a
    committed write survives a crash), 5 s busy timeout (other processes write the same file),
    usable from several threads (the caller serialises with its own lock), `schema` applied.
    StoreUnavailable names `what` when the file cannot be opened.

    Several gunicorn workers open a new file at once, and one of them seeds it in a long write:
    switching a file to WAL takes an exclusive lock for which SQLite does not always wait (the
    busy handler is skipped where waiting could deadlock), so a "locked" open is tried again
    for up to OPEN_PATIENCE_S before it counts as a failure.
    """
    deadline = time.monotonic() + OPEN_PATIENCE_S
    pause = 0.02
    while True:
        try:
            return _open_once(path, schema)
        except sqlite3.OperationalError as exc:
            if not _is_lock_error(exc) or time.monotonic() + pause > deadline:
                raise StoreUnavailable(f"cannot open the {what} at {path}: {exc}") from exc
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the {what} at {path}: {exc}") from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _open_once(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
    try:
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def checkpoint_in_thread(path: Path) -> threading.Thread:
    """A started thread copying the WAL of `path` into the database file from a connection of its
    own (SQLite's advice for large commits): PASSIVE, so readers and writers go on meanwhile. A
    failure is only logged: the next commit's automatic checkpoint does the work then."""
    def run() -> None:
        try:
            db = sqlite3.connect(path, timeout=5.0)
            try:
                db.execute("PRAGMA synchronous=FULL")
                _, frames, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                LOGGER.info("checkpoint of %s: %d of %d WAL frames", path, done, frames)
            finally:
                db.close()
        except sqlite3.Error as exc:
            LOGGER.warning("background checkpoint of %s failed: %s", path, exc)

    thread = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
    thread.start()
    return thread

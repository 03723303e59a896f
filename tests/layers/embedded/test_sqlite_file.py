"""Opening the embedded SQLite files while another process holds them (gunicorn workers start together)."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from layers.embedded import sqlite_file
from layers.embedded.sqlite_file import open_sqlite
from layers.errors import StoreUnavailable

SCHEMA = "CREATE TABLE IF NOT EXISTS t (x INTEGER);"


def _hold_exclusive(path, seconds: float, ready: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    other.execute("CREATE TABLE IF NOT EXISTS held (x)")
    ready.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def test_open_waits_for_a_writer_that_holds_a_new_file(tmp_path):
    path = tmp_path / "new.sqlite3"
    ready = threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(path, 0.8, ready))
    holder.start()
    ready.wait(5)
    started = time.monotonic()
    db = open_sqlite(path, SCHEMA, "test store")
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 0.5  # it did wait for the lock rather than opening past it
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")} == {"t", "held"}
    db.close()


def test_open_gives_up_with_store_unavailable_after_its_patience(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_file, "OPEN_PATIENCE_S", 0.3)
    path = tmp_path / "held.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA busy_timeout=0")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("CREATE TABLE held (x)")
    try:
        with pytest.raises(StoreUnavailable, match="cannot open the test store"):
            open_sqlite(path, SCHEMA, "test store")
    finally:
        other.execute("COMMIT")
        other.close()


def test_a_file_that_is_not_sqlite_is_unavailable_at_once(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        open_sqlite(path, SCHEMA, "test store")
    assert time.monotonic() - started < 5  # no retrying of errors that are not locks

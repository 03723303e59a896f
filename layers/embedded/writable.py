"""Whether the embedded store can write, and plain words for why a write failed.

A full disk shows in two ways: the file system has (almost) no room left, which `statvfs` sees
before any write is tried; or a write failed with SQLITE_FULL / an I/O or read-only error, which
is remembered until a write succeeds again. /healthz reports either as `writable: false` with
a `state` (`disk_full`, `read_only`, `io_error`); clients get a 503 whose message says what is
wrong in plain words, never SQLite's own text (logged instead).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from layers.errors import StoreUnavailable

LOGGER = logging.getLogger(__name__)
MIN_FREE_BYTES = 1 << 20  # less free room than this (1 MiB) on the data directory's file system: full
_STATES = {13: "disk_full", 8: "read_only", 10: "io_error", 14: "io_error"}  # SQLITE_FULL, READONLY, IOERR, CANTOPEN
_MESSAGES = {
    "disk_full": "the store cannot write: the disk is full",
    "read_only": "the store cannot write: its files are read-only",
    "io_error": "the store cannot write: the disk reports an error",
    "busy": "the store is busy with another write; try again",
}


def _state_of(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        if code & 0xFF == 5 or code & 0xFF == 6:  # SQLITE_BUSY, SQLITE_LOCKED
            return "busy"
        return _STATES.get(code & 0xFF)
    text = str(exc).lower()
    return "disk_full" if "disk is full" in text else "read_only" if "readonly" in text else None


class WriteHealth:
    """What the last write said about the disk, and the file system's free room (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._failed: str | None = None  # state of the last failed write, until one succeeds

    def succeeded(self) -> None:
        self._failed = None

    def failure(self, exc: sqlite3.Error) -> StoreUnavailable:
        """The client's error for a failed write (plain words); disk states are remembered."""
        state = _state_of(exc)
        LOGGER.warning("embedded store write failed (%s): %s", state or "error", exc)
        if state in ("disk_full", "read_only", "io_error"):
            with self._lock:
                self._failed = state
        return StoreUnavailable(_MESSAGES.get(state, "the store cannot write right now"))

    def state(self) -> dict:
        """{"writable": bool} and, when not writable, {"state": ..., "error": plain words}."""
        failed = self._failed
        if failed is None:
            try:
                room = os.statvfs(self.directory)
                if room.f_bavail * room.f_frsize < MIN_FREE_BYTES:
                    failed = "disk_full"
            except OSError:
                pass  # nothing known: the next write will tell
            if failed is None and not os.access(self.directory, os.W_OK):
                failed = "read_only"
        if failed is None:
            return {"writable": True}
        return {"writable": False, "state": failed, "error": _MESSAGES[failed]}


@contextmanager
def immediate(db: sqlite3.Connection, health: WriteHealth) -> Iterator[sqlite3.Connection]:
    """One BEGIN IMMEDIATE transaction on `db`, committed when the block ends; on any error rolled back
    (unless SQLite already did: SQLITE_FULL and I/O errors roll back by themselves), and an SQLite
    error becomes `health`'s plain 503. The station and park stores write through it."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise health.failure(exc) from exc
    health.succeeded()

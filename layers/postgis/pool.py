"""Connections to PostgreSQL: short timeouts, a small pool that throws lost connections away.

Every connection has connect_timeout=2 s and statement_timeout=1.5 s, and every call made
through `run` a client-side deadline of 2 s (layers.postgis.watchdog: a server that stops answering
altogether, which no server- or kernel-side timeout notices, is cut off). A lost connection is
discarded with its idle siblings and a read is retried once on a fresh one (not after a
deadline: the server is hung, not gone), so a store built on this recovers by itself when the
database comes back. Errors reaching callers are `StoreUnavailable` (HTTP 503).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from layers.errors import StoreUnavailable
from layers.postgis.watchdog import WATCHDOG

LOGGER = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 2  # libpq's least (it reads 1 as 2)
STATEMENT_TIMEOUT_MS = 1500
DEADLINE_S = 2.0  # client-side, per call of `run`: past it the connection is cut (layers.postgis.watchdog)
CONN_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)


def describe(url: str) -> str:
    """host:port/dbname of a libpq URL, without user or password (for messages and logs)."""
    try:
        parts = psycopg2.extensions.parse_dsn(url)
    except psycopg2.ProgrammingError:
        return "<unparsable database URL>"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def connect(url: str) -> psycopg2.extensions.connection:
    try:
        return psycopg2.connect(
            url, connect_timeout=CONNECT_TIMEOUT_S, application_name="yizhan",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            keepalives=1, keepalives_idle=10, keepalives_interval=2, keepalives_count=3,
        )
    except CONN_ERRORS as exc:
        raise StoreUnavailable(f"cannot connect to PostgreSQL at {describe(url)}: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class Pool:
    """A small LIFO pool of connections to one server; lost connections are discarded, never reused."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self.closed = False

    def acquire(self) -> tuple[psycopg2.extensions.connection, bool]:
        """A connection and whether it was reused (True) or just opened (False)."""
        if self.closed:
            raise StoreUnavailable("the PostGIS store is closed")
        if not self._slots.acquire(timeout=STATEMENT_TIMEOUT_MS / 1000):
            raise StoreUnavailable(f"no free database connection to {describe(self.url)}")
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn, True
        try:
            return connect(self.url), False
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn, broken: bool = False) -> None:
        """Give a connection back; a broken one is closed along with every idle one."""
        try:
            if broken or conn.closed:
                self.discard_idle()
                conn.close()
                return
            if conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                conn.rollback()
            with self._lock:
                if not self.closed:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()
        except CONN_ERRORS:
            conn.close()
        finally:
            self._slots.release()

    def discard_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def close(self) -> None:
        self.closed = True
        self.discard_idle()


def run(pool: Pool, work: Callable, write: bool = False, deadline_s: float | None = DEADLINE_S) -> Any:
    """`work(cursor)` in one transaction (reads: autocommit), cut off after `deadline_s` (None: never);
    retried once when a reused connection was lost."""
    for attempt in (1, 2):
        conn, reused = pool.acquire()
        committing = False
        try:
            with WATCHDOG.guard(conn, deadline_s) as call:
                conn.autocommit = not write
                with conn.cursor() as cur:
                    result = work(cur)
                if write:
                    committing = True
                    conn.commit()
        except CONN_ERRORS as exc:
            lost = bool(conn.closed) or call.fired
            pool.release(conn, broken=lost)
            if call.fired:
                raise StoreUnavailable(f"PostgreSQL at {describe(pool.url)} did not answer within {deadline_s:g} s") from exc
            if lost and reused and not committing and attempt == 1:
                LOGGER.info("connection to %s was lost; retrying on a new one", describe(pool.url))
                continue
            if isinstance(exc, psycopg2.errors.QueryCanceled):
                raise StoreUnavailable(f"the database at {describe(pool.url)} took too long") from exc
            raise StoreUnavailable(f"PostgreSQL at {describe(pool.url)} failed: {first_line(exc)}") from exc
        except BaseException:
            pool.release(conn, broken=bool(conn.closed))
            raise
        pool.release(conn, broken=call.fired)  # cut just as the answer came: not to be reused
        return result
    raise AssertionError("unreachable")

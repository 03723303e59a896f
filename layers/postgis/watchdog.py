"""A client-side deadline for PostgreSQL calls: a server that stops answering cannot hang a request.

statement_timeout is enforced by the server, keepalives and tcp_user_timeout by the kernels: a
server whose processes are stopped (SIGSTOP, a frozen VM, a stalled disk under the postmaster)
still has a kernel that acknowledges every packet, so none of them fires, and libpq waits in
poll() without a timeout of its own. The watchdog is one daemon thread per process that looks
every TICK_S at the calls under way; when one has run past its deadline it shuts the
connection's socket down (shutdown(2) on a duplicate of libpq's descriptor). libpq's poll()
wakes, its read sees end-of-file, and psycopg2 raises OperationalError with the connection
closed: the pool throws it away and the caller answers 503. The deadline sits above the
server's statement_timeout, so a slow query is still cancelled cleanly by the server first.
"""
from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER = logging.getLogger(__name__)
TICK_S = 0.1


class Guard:
    """One guarded call; `fired` tells whether the watchdog cut its connection."""

    __slots__ = ("conn", "deadline", "fired")

    def __init__(self, conn, deadline: float) -> None:
        self.conn, self.deadline, self.fired = conn, deadline, False


class Watchdog:
    """Cuts the connections of calls that overran their deadlines (monotonic seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, Guard] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = 0
        # a fork (gunicorn's workers) copies the lock as it was, perhaps held by the parent's thread
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self._lock = threading.Lock()
        self._calls = {}
        self._thread = None

    @contextmanager
    def guard(self, conn, seconds: float | None) -> Iterator[Guard]:
        """Run the body with `conn` cut after `seconds` (None: no deadline)."""
        call = Guard(conn, time.monotonic() + seconds if seconds is not None else float("inf"))
        if seconds is None:
            yield call
            return
        key = next(self._keys)
        with self._lock:
            self._calls[key] = call
        self._ensure_thread()
        try:
            yield call
        finally:
            with self._lock:  # after this the watchdog never touches the connection (it may be reused)
                del self._calls[key]

    def _ensure_thread(self) -> None:
        # started on first use and again after a fork (gunicorn forks workers after the app is made)
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._watch, name="yizhan-pg-watchdog", daemon=True)
                self._thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(TICK_S)
            now = time.monotonic()
            with self._lock:
                for call in self._calls.values():
                    if not call.fired and now >= call.deadline:
                        call.fired = True
                        _cut(call.conn)


def _cut(conn) -> None:
    """Shut the connection's socket down in both directions (its descriptor stays libpq's to close)."""
    try:
        fd = conn.fileno()
    except Exception:  # noqa: BLE001 - closed meanwhile: nothing to cut
        return
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
        LOGGER.warning("PostgreSQL did not answer in time; connection cut")
    except OSError:
        pass
    finally:
        sock.close()


WATCHDOG = Watchdog()

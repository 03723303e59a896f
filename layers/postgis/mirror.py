"""An in-process mirror of the PostGIS stations for nearest and radius answers.

PostgreSQL stays the system of record: every write goes there, in one transaction, audited.
Each process (gunicorn worker) keeps what the embedded store keeps: the SphereIndex and the
stored rows (`layers.memory.stored_rows`), so a nearest answer costs no database round trip and no
KNN scan on the server — on two cores that was more work than the whole HTTP stack.

Freshness comes from LISTEN/NOTIFY on channel `yizhan_stations`, on a connection of its own:
- the store's writes send `{"w": token, "ids": [...]}` (or `"ids": null` for a large import)
  inside their transaction, so it is delivered exactly when (and only if) they commit, in
  commit order;
- any other write (psql, another tool) fires the statement trigger of migration 0004, which
  sends `*`: reload everything;
- every read first drains what has arrived (a non-blocking read of the socket). Changed ids
  are read again from the database (deleted ones are gone from it); `*` or `ids: null` reloads.
- a write of this process registers its token and what it wrote before it commits; whoever
  drains that notification applies the registered rows instead of reading them back, and the
  writer waits until its own notification has been drained, so a process always reads its own
  writes, in the order the database committed them.

If the listening connection is lost (the server restarted), nothing proves the mirror current:
it raises StoreUnavailable, and the store answers from the database instead (a replica when the
primary is down, else HTTP 503 as every PostGIS read while the server is down) until a new
connection is listening and a full reload has finished. That resync runs in a thread of its own
(at most once a second), never in a request. A server that stops answering without closing
the connection (SIGSTOP, a frozen host) keeps the mirror answering what it holds. Memory: what the embedded store holds (index and rows, ~0.7 kB a station).
"""
from __future__ import annotations

import logging
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import orjson
import psycopg2
import psycopg2.extensions

from layers.errors import StoreUnavailable
from layers.ingest.read import gc_paused
from layers.layerdefs import Layer
from layers.memory.index import SphereIndex
from layers.memory.search import Filter
from layers.memory.stored_rows import StoredRows, row_of
from layers.model import Station
from layers.postgis.pool import CONN_ERRORS, connect, describe, first_line
from layers.store import Hit, NearestQuery

LOGGER = logging.getLogger(__name__)
CHANNEL = "yizhan_stations"
MAX_NOTIFIED_IDS = 200  # more ids than this in one write: the notification says "reload all"
RECONNECT_EVERY_S = 1.0
OWN_WAIT_S = 2.0  # how long a writer waits for its own notification before the mirror counts as unsynced

ReadAll = Callable[[], Iterable[Station]]
ReadIds = Callable[[list[str]], Iterable[Station]]


def notify(cur, token: str, ids: list[str] | None) -> None:
    """Announce a write (in its transaction, which has set yizhan.notified = 'on' before writing, so
    that the migration-0004 trigger stays quiet): its ids, or None when there are too many to list."""
    if ids is not None and len(ids) > MAX_NOTIFIED_IDS:
        ids = None
    cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, orjson.dumps({"w": token, "ids": ids}).decode()))


class PgMirror:
    """SphereIndex + stored rows of every station, kept current from NOTIFY; thread-safe."""

    def __init__(self, url: str, layers: dict[str, Layer], read_all: ReadAll, read_ids: ReadIds) -> None:
        self.url = url
        self.layers = layers
        self._read_all, self._read_ids = read_all, read_ids
        self._lock = threading.RLock()
        self._index = SphereIndex(layers)
        self._rows = StoredRows()
        self._listen: psycopg2.extensions.connection | None = None
        self._synced = False
        self._reload_due = False
        self._last_try = float("-inf")
        self._resyncing = False
        self._closed = False
        self._pending: dict[str, tuple[list[Station], list[str]]] = {}  # own writes not yet drained
        self._done: set[str] = set()  # own tokens drained before their writer came to wait

    # ---- reading ------------------------------------------------------------------------
    def nearest(self, query: NearestQuery) -> list[Hit]:
        flt = Filter(query.layers, query.services, query.origin, query.open_now, query.moment())
        with self._lock:
            self._fresh()
            return self._hits(self._index.nearest(query.lon, query.lat, query.k, flt, query.radius_m))

    def within(self, lon: float, lat: float, radius_m: float, layers: tuple[str, ...] = ()) -> list[Hit]:
        with self._lock:
            self._fresh()
            return self._hits(self._index.within(lon, lat, radius_m, Filter(layers)))

    def _hits(self, pairs: list[tuple[float, str]]) -> list[Hit]:
        found = self._rows.stations_with_nav([sid for _, sid in pairs])
        return [Hit(found[sid][0], d, found[sid][1]) for d, sid in pairs if sid in found]

    def open(self) -> None:
        """Listen and load everything; StoreUnavailable when the database cannot be reached."""
        self._resync()

    def health(self) -> dict:
        """Whether the mirror is provably current (after taking in what has arrived), and its size."""
        with self._lock:
            try:
                self._fresh()
            except StoreUnavailable:
                pass  # reported as not synced
            return {"synced": self._synced, "stations": len(self._rows)}

    # ---- writes of this process -----------------------------------------------------------
    def new_token(self, written: list[Station], gone: list[str]) -> str:
        """Register a write about to commit; its notification will apply `written` and `gone`."""
        token = uuid.uuid4().hex
        with self._lock:
            self._pending[token] = (written, gone)
        return token

    def committed(self, token: str) -> None:
        """The write of `token` committed: wait until its notification is drained (so this process
        reads its own write); if it never comes, the mirror reloads before the next read."""
        deadline = time.monotonic() + OWN_WAIT_S
        with self._lock:
            try:
                while token not in self._done and self._synced:
                    self._drain(wait=max(0.0, deadline - time.monotonic()))
                    if time.monotonic() >= deadline and token not in self._done:
                        LOGGER.warning("own write notification did not arrive; the mirror will reload")
                        self._synced = False
            except StoreUnavailable:
                pass  # already marked unsynced: the next read reloads or answers 503
            finally:
                self._done.discard(token)
                self._pending.pop(token, None)

    def abandoned(self, token: str) -> None:
        """The write of `token` rolled back: nothing will be announced."""
        with self._lock:
            self._pending.pop(token, None)

    # ---- keeping current ----------------------------------------------------------------
    def _fresh(self) -> None:
        """Bring the mirror up to date, or raise StoreUnavailable (call with the lock held). Out of
        sync, it starts a resync in a thread of its own and raises at once: a request never waits
        for a connection or a full load (the store answers from the database meanwhile)."""
        if not self._synced:
            self._resync_behind()
            raise StoreUnavailable(f"PostgreSQL at {describe(self.url)} is not reachable (mirror not in sync)")
        self._drain(wait=0.0)
        if self._reload_due:
            self._reload()

    def _resync_behind(self) -> None:
        """Start a resync thread, at most one at a time and one a RECONNECT_EVERY_S (lock held)."""
        if self._resyncing or time.monotonic() - self._last_try < RECONNECT_EVERY_S:
            return
        self._resyncing, self._last_try = True, time.monotonic()
        self._close_listen()  # nothing drains a connection that may have missed notifications

        def resync() -> None:
            try:
                self._resync()
            except StoreUnavailable as exc:
                LOGGER.info("mirror resync failed: %s", exc.message)
            finally:
                self._resyncing = False

        threading.Thread(target=resync, name="yizhan-mirror-resync", daemon=True).start()

    def _resync(self) -> None:
        """A new listening connection and a full load, made without the lock; then swapped in."""
        conn = connect(self.url)  # StoreUnavailable when down
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {CHANNEL}")  # first: no change between the load and the listen is missed
            index, rows = self._load()
        except (StoreUnavailable, *CONN_ERRORS) as exc:
            conn.close()
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(f"PostgreSQL at {describe(self.url)} failed: {first_line(exc)}") from exc
        with self._lock:
            if self._closed:
                conn.close()
                return
            self._close_listen()
            self._listen, self._index, self._rows = conn, index, rows
            self._synced, self._reload_due = True, False

    def _reload(self) -> None:
        """Everything again from the database (lock held)."""
        self._index, self._rows = self._load()
        self._reload_due = False

    def _load(self) -> tuple[SphereIndex, StoredRows]:
        """Everything from the database, streamed: no list of every Station is ever held."""
        index, rows = SphereIndex(self.layers), StoredRows()

        def stations() -> Iterable[Station]:
            for station in self._read_all():
                rows.put_many((row_of(station),))
                yield station

        with gc_paused():  # a million records, none cyclic: no collector rescans while they are made
            index.load(stations())
            rows.prepare_nav()
        LOGGER.info("mirror of %s loaded: %d stations", describe(self.url), len(rows))
        return index, rows

    def _drain(self, wait: float) -> None:
        """Apply every notification that has arrived (waiting up to `wait` s for the first one)."""
        conn = self._listen
        if conn is None:
            raise StoreUnavailable(f"PostgreSQL at {describe(self.url)} is not reachable (mirror not in sync)")
        try:
            if not conn.notifies and not select.select([conn], [], [], wait)[0]:
                return  # nothing arrived (the usual case: one select, no read)
            for _ in range(100):
                conn.poll()
                # still readable after a poll: more came, or the server said goodbye (a warning) and
                # closed the socket; the next poll reads the end and raises
                if not select.select([conn], [], [], 0)[0]:
                    break
            notes, conn.notifies[:] = list(conn.notifies), []
        except CONN_ERRORS as exc:
            self._synced = False
            self._close_listen()
            raise StoreUnavailable(f"PostgreSQL at {describe(self.url)} failed: {first_line(exc)}") from exc
        if notes:
            try:
                self._apply([n.payload for n in notes])
            except StoreUnavailable:
                self._synced = False  # these changes were taken off the connection: only a resync has them
                raise

    def _apply(self, payloads: list[str]) -> None:
        """Notifications in commit order: own writes from what they registered, others read again."""
        reload_all, read_again, tokens = False, [], []
        for payload in payloads:
            message = None if payload == "*" else orjson.loads(payload)
            if message is not None and message["w"] in self._pending:
                tokens.append(message["w"])
            if message is None or message["ids"] is None:
                reload_all = True  # too many to list (an own bulk load too): read everything again
            elif message["w"] not in self._pending:
                read_again.extend(message["ids"])
        if reload_all:  # read everything again before the next answer (not in a writer's time)
            self._reload_due = True
        else:
            for token in tokens:
                self._follow(*self._pending[token])
            if read_again:
                ids = list(dict.fromkeys(read_again))
                found = {s.id: s for s in self._read_ids(ids)}
                self._follow(list(found.values()), [sid for sid in ids if sid not in found])
        self._done.update(tokens)

    def _follow(self, written: list[Station], gone: list[str]) -> None:
        """Changes known to be committed (at most MAX_NOTIFIED_IDS stations), applied in place."""
        for sid in gone:
            self._index.remove(sid)
            self._rows.remove(sid)
        for station in written:
            self._index.upsert(station)
        self._rows.put_many(row_of(s) for s in written)

    def _close_listen(self) -> None:
        conn, self._listen = self._listen, None
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._synced = False
            self._close_listen()

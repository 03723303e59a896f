"""The PostGIS store: stations in PostgreSQL (geography points, GiST), same answers as the embedded store.

Nearest: PostGIS orders candidates with the KNN operator `<->`, which on geography measures
the great circle of a sphere of radius `KNN_SPHERE_RADIUS_M` (the WGS-84 mean radius; checked
in tests). The final order is by `geo.distance.geodesic_many_m` (WGS-84 ellipsoid, rounded to
the millimetre, ties by id), the function the embedded store uses. A station not yet fetched
is at least `<->` of the last fetched times L/R away on the ellipsoid (L =
`GEODESIC_M_PER_RADIAN_LOWER`), so the store fetches more until that floor passes the k-th
exact distance: the answer is exact, not approximately right.

Faults: every connection has connect_timeout=2 s and statement_timeout=1.5 s, every call a
client-side deadline of 2 s (layers.postgis.watchdog; imports 30 min); a lost
connection is thrown away (with its idle siblings) and a read is retried once on a fresh one,
so the store recovers by itself when the database comes back. Errors reaching the caller
are `StoreUnavailable` (HTTP 503). The constructor raises StoreUnavailable when the primary
cannot be reached (the app wraps it in `layers.deferred.DeferredStore`, which retries).

Replicas: reads go round-robin to `read_urls` (falling back to the primary when a replica is
down); writes, schema upgrades and seeding go to the primary. Replica reads may lag writes.
"""
from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.sql

from layers.audit import AuditEntry, check_limit, check_seq
from layers.errors import (
    Conflict,
    InvalidStation,
    StationNotFound,
    StoreUnavailable,
)
from layers.ingest.bulk import BulkLoad
from layers.layerdefs import Layer
from layers.model import Station
from layers.postgis import audit as audit_pg
from layers.postgis.bulk import drop_indexes as _drop_indexes
from layers.postgis.bulk import open_bulk
from layers.postgis.mirror import PgMirror, notify
from layers.postgis.pool import DEADLINE_S, Pool, describe, first_line, run
from layers.postgis.reads import PostgisReads
from layers.postgis.rows import (
    _SELECT,
    _TEMP_COLUMNS,
    _UPSERT_SET,
    COLUMNS,
    _copy,
    _row_to_station,
    _values,
)
from layers.postgis.schema import _LOCK_KEY, migrations, upgrade  # noqa: F401  (re-exported)
from layers.revision import check_match
from layers.store import (
    ImportResult,
    StationStore,
)

LOGGER = logging.getLogger(__name__)
IMPORT_TIMEOUT_MS = 30 * 60 * 1000
ANALYZE_AFTER_ROWS = 10_000
BULK_ROWS = 20_000


# ---- the store ----------------------------------------------------------------------------
class PostgisStore(PostgisReads, StationStore):
    """Stations in PostgreSQL/PostGIS at `url`; reads round-robin over `read_urls` when given."""

    kind = "postgis"

    def __init__(
        self, url: str, layers: Mapping[str, Layer], seed: Iterable[Station] | None = None,
        read_urls: tuple[str, ...] = (), pool_size: int = 8, mirror: bool = True,
    ) -> None:
        super().__init__(layers)
        self.url = url
        self._primary = Pool(url, pool_size)
        self._replicas = [Pool(u, pool_size) for u in read_urls]
        self._next_replica = itertools.cycle(range(len(self._replicas))) if self._replicas else None
        self._rr_lock = threading.Lock()
        self._mirror: PgMirror | None = None
        self._announcing = threading.local()  # tokens of the write under way in this thread
        try:
            upgrade(url)
            if seed is not None:
                self._import(seed, only_if_empty=True, actor="seed")
            if mirror:
                self._mirror = PgMirror(url, dict(layers), self._all_stations, self._stations_by_id)
                self._mirror.open()
        except BaseException:
            self.close()
            raise

    # ---- plumbing -----------------------------------------------------------------------
    def _read_pool(self) -> Pool:
        """The next replica (round-robin), or the primary when there is none."""
        if self._next_replica is None:
            return self._primary
        with self._rr_lock:
            return self._replicas[next(self._next_replica)]

    def _read(self, work: Callable) -> Any:
        pool = self._read_pool()
        try:
            return run(pool, work)
        except StoreUnavailable as exc:
            if pool is self._primary:
                raise
            LOGGER.warning("read replica failed (%s); reading from the primary", exc.message)
            return run(self._primary, work)

    def _write(self, work: Callable, deadline_s: float | None = DEADLINE_S) -> Any:
        """`work(cursor)` in one write transaction (cut off after `deadline_s`, layers.postgis.watchdog);
        what it `_announce`s reaches the mirrors on commit."""
        tokens: list[str] = []

        def announced(cur):
            cur.execute("SET LOCAL yizhan.notified = 'on'")  # this write announces itself (migration 0004)
            return work(cur)

        self._announcing.tokens = tokens
        try:
            result = run(self._primary, announced, write=True, deadline_s=deadline_s)
        except BaseException:
            for token in tokens:
                self._mirror.abandoned(token)
            raise
        finally:
            self._announcing.tokens = None
        for token in tokens[:-1]:  # attempts that were retried on a new connection never committed
            self._mirror.abandoned(token)
        if tokens:
            self._mirror.committed(tokens[-1])
        return result

    def _announce(self, cur, written: list[Station], gone: list[str]) -> None:
        """In a write transaction: tell every process's mirror what it writes (delivered on commit)."""
        if self._mirror is None:
            token = uuid.uuid4().hex  # other processes may mirror even when this one does not
        else:
            token = self._mirror.new_token(written, gone)
            self._announcing.tokens.append(token)
        notify(cur, token, [s.id for s in written] + gone)

    def health(self) -> dict:
        info: dict[str, Any] = {"ok": False, "kind": self.kind, "database": describe(self.url)}

        def probe(cur):
            cur.execute("SELECT count(*), postgis_lib_version(), (SELECT max(version) FROM schema_migrations) "
                        "FROM stations")
            return cur.fetchone()

        try:
            n, version, schema = run(self._primary, probe)
            info.update(ok=True, stations=int(n), postgis=version, schema=schema)
        except (StoreUnavailable, psycopg2.Error) as exc:  # health reports, it never raises
            info["error"] = exc.message if isinstance(exc, StoreUnavailable) else first_line(exc)
        if self._replicas:
            info["replicas"] = [self._replica_health(pool) for pool in self._replicas]
        if self._mirror is not None:
            info["mirror"] = self._mirror.health()
        return info

    @staticmethod
    def _replica_health(pool: Pool) -> dict:
        def probe(cur):
            cur.execute("SELECT pg_is_in_recovery(), "
                        "extract(epoch FROM now() - pg_last_xact_replay_timestamp())")
            return cur.fetchone()

        try:
            standby, lag = run(pool, probe)
            return {"database": describe(pool.url), "ok": True, "standby": standby,
                    "replay_lag_s": None if lag is None else float(lag)}
        except (StoreUnavailable, psycopg2.Error) as exc:
            return {"database": describe(pool.url), "ok": False, "error": first_line(exc)}

    # ---- writes -----------------------------------------------------------------------------
    # Every write takes the advisory write lock first: writes are serialised (as in the embedded
    # store), so each audit row's `before` is exactly the state the write replaced.
    @staticmethod
    def _current(cur, station_id: str) -> Station | None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cur.execute(f"SELECT {_SELECT} FROM stations WHERE id = %s FOR UPDATE", (station_id,))
        row = cur.fetchone()
        return None if row is None else _row_to_station(row)

    def _change(self, cur, station_id: str, actor: str | None, action: str,
                old: Station | None, new: Station | None) -> None:
        """Write `new` (None: delete the station) and the audit row, in the caller's transaction."""
        if new is None:
            cur.execute("DELETE FROM stations WHERE id = %s", (station_id,))
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            cur.execute(f"INSERT INTO stations ({_SELECT}) VALUES ({marks}) ON CONFLICT (id) DO UPDATE SET {_UPSERT_SET}",
                        _values(new))
        audit_pg.audit_one(cur, station_id, actor, action, old, new)
        self._announce(cur, [] if new is None else [new], [station_id] if new is None else [])

    def put(self, station: Station, create_only: bool = False, *, actor: str | None = None,
            expect: Collection[str] | None = None) -> bool:
        def work(cur):
            old = self._current(cur, station.id)
            check_match(old, expect)
            if old is not None and create_only:
                raise Conflict(f"a station with id {station.id!r} exists already", parameter="id")
            if old != station:
                self._change(cur, station.id, actor, "update" if old else "create", old, station)
            return old is None

        return bool(self._guard(lambda: self._write(work)))

    def delete(self, station_id: str, *, actor: str | None = None, expect: Collection[str] | None = None) -> None:
        def work(cur):
            old = self._current(cur, station_id)
            if old is None:
                raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
            check_match(old, expect)
            self._change(cur, station_id, actor, "delete", old, None)

        self._write(work)

    def patch(self, station_id: str, change: Callable[[Station], Station], *, actor: str | None = None,
              expect: Collection[str] | None = None) -> Station:
        def work(cur):  # _current holds the advisory write lock and reads the row FOR UPDATE
            old = self._current(cur, station_id)
            if old is None:
                raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
            check_match(old, expect)
            new = change(old)
            if new != old:
                self._change(cur, station_id, actor, "update", old, new)
            return new

        return self._guard(lambda: self._write(work))

    def revert(self, station_id: str, seq: int, *, actor: str | None) -> Station | None:
        check_seq(seq)

        def work(cur):
            old = self._current(cur, station_id)
            target = audit_pg.revert_source(cur, station_id, seq)
            if old != target:
                self._change(cur, station_id, actor, "revert", old, target)
            return target

        return self._guard(lambda: self._write(work))

    def history(self, station_id: str, limit: int = 100) -> list[AuditEntry]:
        check_limit(limit)
        entries = run(self._primary, lambda cur: audit_pg.history(cur, station_id, limit))
        if not entries:
            self.get(station_id)  # StationNotFound for an id never seen
        return entries

    def import_rows(self, stations: Iterable[Station], *, actor: str | None = None) -> ImportResult:
        return self._import(stations, actor=actor)

    def _import(self, stations: Iterable[Station], only_if_empty: bool = False,
                actor: str | None = None) -> ImportResult:
        """Upsert by id in one transaction, the last row of an id winning: COPY straight into an
        empty table, else into a temporary one, drop the rows equal to the stored ones, and a
        single INSERT ... ON CONFLICT. Audit rows are built in SQL from the same rows. A large
        load into a small table drops the secondary indexes and builds them again at the end."""
        batch = list(stations)  # a failing source fails here, before anything is written
        latest = list({s.id: s for s in batch}.values())

        def work(cur):
            cur.execute("SET LOCAL statement_timeout = %s", (IMPORT_TIMEOUT_MS,))
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("SELECT count(*) FROM (SELECT 1 FROM stations LIMIT %s) t", (len(latest),))
            present = cur.fetchone()[0]
            if only_if_empty and present:
                return None
            rebuild = _drop_indexes(cur) if len(latest) >= BULK_ROWS and present < len(latest) else []
            existing = unchanged = 0
            if present == 0:
                _copy(cur, "stations", latest)
                audit_pg.audit_fresh_table(cur, actor)
            else:
                cur.execute(f"CREATE TEMP TABLE station_import ({_TEMP_COLUMNS}) ON COMMIT DROP")
                _copy(cur, "station_import", latest)
                cur.execute("ANALYZE station_import")
                unchanged = audit_pg.drop_unchanged(cur, COLUMNS, "station_import")
                existing = audit_pg.audit_staged(cur, "station_import", actor) + unchanged
                cur.execute(f"INSERT INTO stations ({_SELECT}) SELECT {_SELECT} FROM station_import "
                            f"ON CONFLICT (id) DO UPDATE SET {_UPSERT_SET}")
            for statement in rebuild:
                cur.execute(statement)
            if len(latest) - unchanged >= ANALYZE_AFTER_ROWS:  # fresh statistics, or the planner guesses
                cur.execute("SET LOCAL default_statistics_target = 20")
                cur.execute("ANALYZE stations")
            self._announce(cur, latest, [])
            return existing, unchanged

        counts = self._guard(lambda: self._write(work, deadline_s=IMPORT_TIMEOUT_MS / 1000 + DEADLINE_S))
        if counts is None:
            return ImportResult(0, 0)
        existing, unchanged = counts
        inserted = len(latest) - existing
        if only_if_empty:
            LOGGER.info("seeded %s with %d stations", describe(self.url), inserted)
        return ImportResult(inserted=inserted, updated=len(batch) - inserted - unchanged,
                            ids=tuple(s.id for s in batch), unchanged=unchanged)

    def bulk_loader(self, rows: int, *, actor: str | None = None) -> BulkLoad | None:
        """A bulk load (layers.postgis.bulk) when `stations` is empty, else None; it holds a
        connection, its transaction and the advisory write lock until it finishes or aborts."""
        return open_bulk(self._primary, rows, actor, COLUMNS, IMPORT_TIMEOUT_MS, BULK_ROWS, ANALYZE_AFTER_ROWS,
                         self._mirror)

    @staticmethod
    def _guard(action: Callable) -> Any:
        """Data the database refuses (a bad value that slipped past validation) is the client's error."""
        try:
            return action()
        except (psycopg2.DataError, psycopg2.IntegrityError) as exc:
            raise InvalidStation(f"the database refused a station: {first_line(exc)}") from exc

    def revision(self) -> str | None:
        """The audit sequence (every write of the store), the row count and the newest updated_at
        (writes made around the store, as by psql)."""
        def probe(cur):
            cur.execute("SELECT (SELECT last_value FROM pg_sequences WHERE sequencename = 'station_audit_seq_seq'), "
                        "count(*), max(updated_at) FROM stations")
            return cur.fetchone()

        seq, n, newest = run(self._primary, probe)
        return f"p{seq}-{n}-{newest.timestamp() if newest else 0}"

    def close(self) -> None:
        self.run_close_hooks()
        if getattr(self, "_mirror", None) is not None:
            self._mirror.close()
        for pool in (self._primary, *self._replicas):
            pool.close()



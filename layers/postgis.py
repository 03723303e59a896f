"""The PostGIS store: stations in PostgreSQL (geography points, GiST), same answers as the embedded store.

Nearest: PostGIS orders candidates with the KNN operator `<->`, which on geography measures
the great circle of a sphere of radius `KNN_SPHERE_RADIUS_M` (the WGS-84 mean radius; checked
in tests). The final order is by `geo.distance.geodesic_many_m` (WGS-84 ellipsoid, rounded to
the millimetre, ties by id), the function the embedded store uses. A station not yet fetched
is at least `<->` of the last fetched times L/R away on the ellipsoid (L =
`GEODESIC_M_PER_RADIAN_LOWER`), so the store fetches more until that floor passes the k-th
exact distance: the answer is exact, not approximately right.

Faults: every connection has connect_timeout=2 s and statement_timeout=1.5 s, every call a
client-side deadline of 2 s (layers.pg_watchdog; imports 30 min); a lost
connection is thrown away (with its idle siblings) and a read is retried once on a fresh one,
so the store recovers by itself when the database comes back. Errors reaching the caller
are `StoreUnavailable` (HTTP 503). The constructor raises StoreUnavailable when the primary
cannot be reached (the app wraps it in `layers.deferred.DeferredStore`, which retries).

Replicas: reads go round-robin to `read_urls` (falling back to the primary when a replica is
down); writes, schema upgrades and seeding go to the primary. Replica reads may lag writes.
"""
from __future__ import annotations

import io
import itertools
import logging
import math
import operator
import re
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import numpy as np
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.sql

from geo.distance import GEODESIC_M_PER_RADIAN_LOWER, geodesic_many_m
from layers import audit_postgis as audit_pg
from layers.audit import AuditEntry, check_limit, check_seq
from layers.bulk import BulkLoad
from layers.errors import (
    Conflict,
    InvalidQuery,
    InvalidStation,
    StationNotFound,
    StoreUnavailable,
)
from layers.layerdefs import Layer
from layers.model import Station
from layers.pg_mirror import PgMirror, notify
from layers.pg_pool import (
    CONN_ERRORS,
    DEADLINE_S,
    Pool,
    describe,
    first_line,
    run,
)
from layers.pg_schema import _LOCK_KEY, migrations, upgrade  # noqa: F401  (re-exported)
from layers.pg_watchdog import WATCHDOG
from layers.postgis_bulk import drop_indexes as _drop_indexes
from layers.postgis_bulk import open_bulk
from layers.revision import check_match
from layers.store import (
    Hit,
    ImportResult,
    NearestQuery,
    Page,
    StationStore,
    is_open_at,
)

LOGGER = logging.getLogger(__name__)
KNN_SPHERE_RADIUS_M = 6371008.7714150598  # PostGIS geography `<->`: WGS-84 mean radius (2a+b)/3
# floor(ellipsoid) / `<->` for the same pair, shaved for floating-point error in either.
FLOOR_PER_KNN_M = GEODESIC_M_PER_RADIAN_LOWER / KNN_SPHERE_RADIUS_M * (1 - 1e-9)
MARGIN_M = 0.002
MIN_FETCH = 16
EXTRA_FETCH = 2  # candidates beyond k in the first round (k=5: 7 rows; a second round is rare)
IMPORT_TIMEOUT_MS = 30 * 60 * 1000
ANALYZE_AFTER_ROWS = 10_000
BULK_ROWS = 20_000
COLUMNS = ("id", "layer", "lon", "lat", "name", "name_en", "address", "adcode", "phone", "hours",
           "services", "access", "status", "origins", "items", "operator", "source", "verified_at",
           "verified_by", "location_precision", "hours_text")
_ARRAYS = frozenset({"services", "origins", "items"})
_SELECT = ", ".join(COLUMNS)
_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
_TEMP_COLUMNS = ", ".join(
    f"{c} {'double precision' if c in ('lon', 'lat') else 'date' if c == 'verified_at' else 'text[]' if c in _ARRAYS else 'text'}"
    for c in COLUMNS
)
_UPSERT_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "id") + ", updated_at = now()"


# ---- rows and values ------------------------------------------------------------------
def knn_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """What PostGIS `<->` measures between two WGS-84 points: metres of great circle on its sphere."""
    p1, p2, dlon = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dlon)
    y = math.cos(p2) * math.sin(dlon)
    cross = math.hypot(x, y)
    dot = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dlon)
    return KNN_SPHERE_RADIUS_M * math.atan2(cross, dot)


def _row_to_station(row: tuple) -> Station:
    """A Station from a row of COLUMNS (arrays to tuples, the date to ISO text)."""
    (sid, layer, lon, lat, name, name_en, address, adcode, phone, hours, services, access, status,
     origins, items, operator, source, verified_at, verified_by, precision, hours_text) = row[:21]
    return Station(
        id=sid, lon=lon, lat=lat, name=name, layer=layer, name_en=name_en, address=address, adcode=adcode,
        phone=phone, hours=hours, services=tuple(services or ()), access=access, status=status,
        origins=tuple(origins or ()), items=tuple(items or ()), operator=operator, source=source,
        verified_at=verified_at.isoformat() if isinstance(verified_at, date) else verified_at,
        verified_by=verified_by, location_precision=precision or "exact", hours_text=hours_text,
    )


def _values(station: Station) -> list[Any]:
    return [list(v) if isinstance(v, tuple) else v for v in (getattr(station, c) for c in COLUMNS)]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_NEEDS_QUOTING = re.compile(r'[\\"]')
_COPY_CHUNK = 5000


def _text_column(values: list) -> list[str]:
    """Text values (or NULL) in COPY text format; escaping only when some value needs it."""
    texts = [None if v is None else str(v) for v in values]
    if _NEEDS_ESCAPE.search("".join([t for t in texts if t is not None])):
        texts = [None if t is None else t.translate(_COPY_ESCAPES) for t in texts]
    return ["\\N" if t is None else t for t in texts]


def _array_column(values: list) -> list[str]:
    """text[] values as quoted array literals in COPY text format."""
    if _NEEDS_QUOTING.search("".join(["".join(words) for words in values])):
        values = [[w.replace("\\", "\\\\").replace('"', '\\"') for w in words] for words in values]
    return _text_column(['{"' + '","'.join(words) + '"}' if words else "{}" for words in values])


def _copy_text(stations: list[Station]) -> str:
    """Stations as lines of COPY text, columns in COLUMNS order (built column by column: fast)."""
    columns = []
    for name in COLUMNS:
        values = list(map(operator.attrgetter(name), stations))
        if name in ("lon", "lat"):
            columns.append([repr(float(v)) for v in values])  # repr: the exact double
        elif name in _ARRAYS:
            columns.append(_array_column(values))
        else:
            columns.append(_text_column(values))
    return "".join(["\t".join(row) + "\n" for row in zip(*columns)])


class _CopySource(io.TextIOBase):
    """A file-like view of stations as COPY text, made a chunk at a time (errors are kept for the caller)."""

    def __init__(self, stations: list[Station]) -> None:
        self._stations = stations
        self._next = 0
        self._buffer = ""
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        try:
            while self._next < len(self._stations) and (size < 0 or len(self._buffer) < size):
                chunk = self._stations[self._next: self._next + _COPY_CHUNK]
                self._next += len(chunk)
                self._buffer += _copy_text(chunk)
        except BaseException as exc:  # psycopg2 would report it as QueryCanceled: keep it
            self.error = exc
            raise
        cut = len(self._buffer) if size < 0 else size
        text, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return text

    readline = read


# ---- the store ----------------------------------------------------------------------------
class PostgisStore(StationStore):
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
        """`work(cursor)` in one write transaction (cut off after `deadline_s`, layers.pg_watchdog);
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

    def _all_stations(self) -> Iterator[Station]:
        """Every station, streamed from the primary (the mirror's full load: notifications come
        from the primary, so a replica could be behind them)."""
        return self._stream_all(self._primary, ordered=False)

    def _stations_by_id(self, ids: list[str]) -> list[Station]:
        """The stored stations among `ids`, from the primary (what a notification names)."""
        rows = run(self._primary, lambda cur: (cur.execute(f"SELECT {_SELECT} FROM stations WHERE id = ANY(%s)",
                                                           (ids,)), cur.fetchall())[1])
        return [_row_to_station(r) for r in rows]

    def _check_layers(self, layers: tuple[str, ...]) -> None:
        unknown = [lid for lid in layers if lid not in self.layers]
        if unknown:
            raise InvalidQuery(f"unknown layer {unknown[0]!r}", parameter="layer")

    @staticmethod
    def _check_point(lon: float, lat: float) -> None:
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise InvalidQuery("lon must be between -180 and 180", parameter="lon")
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise InvalidQuery("lat must be between -90 and 90", parameter="lat")

    @staticmethod
    def _ranked(lon: float, lat: float, rows: list[tuple], radius_m: float | None) -> list[tuple]:
        """(distance_m, id, row) of the rows, exact WGS-84 metres (mm), within radius, by (distance, id)."""
        if not rows:
            return []
        lons = np.fromiter((r[2] for r in rows), float, len(rows))
        lats = np.fromiter((r[3] for r in rows), float, len(rows))
        dist = np.round(geodesic_many_m(lon, lat, lons, lats), 3).tolist()
        ranked = [(d, r[0], r) for d, r in zip(dist, rows) if radius_m is None or d <= radius_m]
        ranked.sort(key=lambda item: (item[0], item[1]))
        return ranked

    # ---- reads --------------------------------------------------------------------------
    def _nearest_sql(self, query: NearestQuery) -> tuple[str, dict]:
        """The candidate query (KNN order, attribute filters, radius prefilter) and its parameters."""
        where, params = ["status <> 'removed'"], {"lon": query.lon, "lat": query.lat}
        layers = self._possible_layers(query)
        if layers != tuple(self.layers):
            where.append("layer = ANY(%(layers)s)")
            params["layers"] = list(layers)
        if query.services:
            where.append("services @> %(services)s::text[]")
            params["services"] = list(query.services)
        if query.origin:
            where.append("origins @> ARRAY[%(origin)s]::text[]")
            params["origin"] = query.origin
        if query.open_now:  # only necessary conditions here; the hours are judged in Python
            where.append("status = 'open' AND hours IS NOT NULL AND hours <> ''")
        if query.radius_m is not None:
            where.append(f"ST_DWithin(geog, {_POINT}, %(sphere_radius)s, false)")
            params["sphere_radius"] = (query.radius_m + 0.001) / FLOOR_PER_KNN_M
        sql = f"SELECT {_SELECT} FROM stations WHERE {' AND '.join(where)} ORDER BY geog <-> {_POINT} LIMIT %(limit)s"
        return sql, params

    def _possible_layers(self, query: NearestQuery) -> tuple[str, ...]:
        """The query's layers that can hold a match: their vocabulary has every service asked for
        (as in the embedded index) and, with an origin, they serve home counties (as validation
        demands). Without this, a KNN scan for an impossible match walks the whole index."""
        if not (query.services or query.origin):
            return query.layers or tuple(self.layers)
        return tuple(
            lid for lid in (query.layers or self.layers)
            if set(query.services) <= set(self.layers[lid].services)
            and (not query.origin or self.layers[lid].has_origins)
        )

    def nearest(self, query: NearestQuery) -> list[Hit]:
        self._check_layers(query.layers)
        self._check_point(query.lon, query.lat)
        if query.k <= 0 or not self._possible_layers(query):
            return []
        if self._mirror is not None:
            try:
                return self._mirror.nearest(query)
            except StoreUnavailable:  # not provably current (primary lost): the database answers, or a replica
                pass
        sql, params = self._nearest_sql(query)
        at = query.moment() if query.open_now else None
        fetch = query.k + EXTRA_FETCH if at is None else 2 * query.k + MIN_FETCH
        while True:
            rows = self._read(lambda cur, n=fetch: (cur.execute(sql, {**params, "limit": n}), cur.fetchall())[1])
            hits = []
            for distance_m, _, row in self._ranked(query.lon, query.lat, rows, query.radius_m):
                station = _row_to_station(row)
                if at is None or is_open_at(station, at) is True:
                    hits.append(Hit(station, distance_m))
                    if len(hits) == query.k:
                        break
            if len(rows) < fetch:
                return hits
            # Every station not fetched is at least this far on the ellipsoid.
            floor_m = knn_distance_m(query.lon, query.lat, rows[-1][2], rows[-1][3]) * FLOOR_PER_KNN_M
            if len(hits) == query.k and floor_m > hits[-1].distance_m + MARGIN_M:
                return hits
            if query.radius_m is not None and floor_m > query.radius_m + MARGIN_M:
                return hits
            fetch *= 4

    def within(self, lon: float, lat: float, radius_m: float, layers: tuple[str, ...] = ()) -> list[Hit]:
        self._check_layers(layers)
        self._check_point(lon, lat)
        if self._mirror is not None:
            try:
                return self._mirror.within(lon, lat, radius_m, layers)
            except StoreUnavailable:
                pass
        where = ["status <> 'removed'", f"ST_DWithin(geog, {_POINT}, %(sphere_radius)s, false)"]
        params = {"lon": lon, "lat": lat, "sphere_radius": (radius_m + 0.001) / FLOOR_PER_KNN_M}
        if layers:
            where.append("layer = ANY(%(layers)s)")
            params["layers"] = list(layers)
        sql = f"SELECT {_SELECT} FROM stations WHERE {' AND '.join(where)}"
        rows = self._read(lambda cur: (cur.execute(sql, params), cur.fetchall())[1])
        return [Hit(_row_to_station(row), d) for d, _, row in self._ranked(lon, lat, rows, radius_m)]

    def in_bbox(self, bbox, layers=(), limit=100, offset=0) -> Page:
        self._check_layers(layers)
        if limit < 0 or offset < 0:
            raise InvalidQuery("limit and offset must not be negative", parameter="limit" if limit < 0 else "offset")
        where, params = ["status <> 'removed'"], {"limit": limit, "offset": offset}
        if bbox is not None:
            minlon, minlat, maxlon, maxlat = (float(v) for v in bbox)
            if not (minlon <= maxlon and minlat <= maxlat):
                raise InvalidQuery("bbox must satisfy minlon<=maxlon and minlat<=maxlat", parameter="bbox")
            # && on the float4 index box finds a superset; the double comparisons decide.
            where.append("geog::geometry && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) "
                         "AND lon BETWEEN %(x0)s AND %(x1)s AND lat BETWEEN %(y0)s AND %(y1)s")
            params.update(x0=minlon, y0=minlat, x1=maxlon, y1=maxlat)
        if layers:
            where.append("layer = ANY(%(layers)s)")
            params["layers"] = list(layers)
        cond = " AND ".join(where)
        page_sql = (f"SELECT {_SELECT}, count(*) OVER () FROM stations WHERE {cond} "
                    "ORDER BY id LIMIT %(limit)s OFFSET %(offset)s")

        def work(cur):
            cur.execute(page_sql, params)
            rows = cur.fetchall()
            if rows:
                return rows, rows[0][-1]
            cur.execute(f"SELECT count(*) FROM stations WHERE {cond}", params)
            return rows, cur.fetchone()[0]

        rows, matched = self._read(work)
        return Page(tuple(_row_to_station(r[:-1]) for r in rows), int(matched))

    def get(self, station_id: str) -> Station:
        def work(cur):
            cur.execute(f"SELECT {_SELECT} FROM stations WHERE id = %s", (station_id,))
            return cur.fetchone()

        row = self._read(work)
        if row is None:
            raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
        return _row_to_station(row)

    def iter_all(self) -> Iterator[Station]:
        pool, conn = self._read_pool(), None
        if pool is not self._primary:
            try:
                conn, _ = pool.acquire()
            except StoreUnavailable:
                pool = self._primary
        yield from self._stream_all(pool, conn)

    @staticmethod
    def _stream_all(pool: Pool, conn=None, ordered: bool = True) -> Iterator[Station]:
        """Every station through a server-side cursor (2,000 rows at a time), by id when `ordered`."""
        if conn is None:
            conn, _ = pool.acquire()
        broken = False
        try:
            conn.autocommit = False
            with conn.cursor(name="yizhan_iter_all") as cur:
                with WATCHDOG.guard(conn, DEADLINE_S):  # each round trip has the deadline, not the whole stream
                    cur.execute(f"SELECT {_SELECT} FROM stations" + (" ORDER BY id" if ordered else ""))
                while True:
                    with WATCHDOG.guard(conn, DEADLINE_S):
                        rows = cur.fetchmany(2000)
                    if not rows:
                        break
                    yield from (_row_to_station(row) for row in rows)
                with WATCHDOG.guard(conn, DEADLINE_S):
                    cur.close()
                    conn.rollback()
        except CONN_ERRORS as exc:
            broken = True
            raise StoreUnavailable(f"PostgreSQL at {describe(pool.url)} failed: {first_line(exc)}") from exc
        finally:
            pool.release(conn, broken=broken)

    def count(self) -> int:
        return int(self._read(lambda cur: (cur.execute("SELECT count(*) FROM stations"), cur.fetchone())[1][0]))

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
        """A bulk load (layers.postgis_bulk) when `stations` is empty, else None; it holds a
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


def _copy(cur, table: str, stations: list[Station]) -> None:
    source = _CopySource(stations)
    try:
        cur.copy_expert(f"COPY {table} ({_SELECT}) FROM STDIN", source, size=1 << 16)
    except psycopg2.Error:
        if source.error is not None:  # psycopg2 reports it as QueryCanceled: raise the real one
            raise source.error from None
        raise

"""The PostGIS store's reads: nearest (exact geodesic over KNN candidates), radius, box listings, one
station, streams of every station."""
from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from geo.distance import GEODESIC_M_PER_RADIAN_LOWER, geodesic_many_m
from layers.errors import (
    InvalidQuery,
    StationNotFound,
    StoreUnavailable,
)
from layers.model import Station
from layers.postgis.pool import CONN_ERRORS, DEADLINE_S, Pool, describe, first_line, run
from layers.postgis.rows import (
    _POINT,
    _SELECT,
    _row_to_station,
)
from layers.postgis.watchdog import WATCHDOG
from layers.store import (
    Hit,
    NearestQuery,
    Page,
    is_open_at,
)

KNN_SPHERE_RADIUS_M = 6371008.7714150598  # PostGIS geography `<->`: WGS-84 mean radius (2a+b)/3
# floor(ellipsoid) / `<->` for the same pair, shaved for floating-point error in either.
FLOOR_PER_KNN_M = GEODESIC_M_PER_RADIAN_LOWER / KNN_SPHERE_RADIUS_M * (1 - 1e-9)
MARGIN_M = 0.002
MIN_FETCH = 16
EXTRA_FETCH = 2  # candidates beyond k in the first round (k=5: 7 rows; a second round is rare)




def knn_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """What PostGIS `<->` measures between two WGS-84 points: metres of great circle on its sphere."""
    p1, p2, dlon = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dlon)
    y = math.cos(p2) * math.sin(dlon)
    cross = math.hypot(x, y)
    dot = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dlon)
    return KNN_SPHERE_RADIUS_M * math.atan2(cross, dot)


class PostgisReads:
    """The reads of `layers.postgis.store.PostgisStore` (a base of it, using its pools and mirror)."""

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

"""The embedded store's reads, answered from the serving copy (index and stored rows) after folding in
other processes' commits."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from layers.errors import InvalidQuery, StationNotFound, StoreUnavailable
from layers.ingest.read import gc_paused
from layers.memory.search import Filter
from layers.memory.stored_rows import station_from_row
from layers.model import Station
from layers.store import Hit, NearestQuery, Page


def _row_to_station(row: tuple) -> Station:
    return station_from_row(*row)


class EmbeddedReads:
    """The reads of `layers.embedded.store.EmbeddedStore` (a base of it, using its connection and serving copy)."""

    # ---- index upkeep -------------------------------------------------------------
    def _reload(self) -> None:
        with self._lock:
            self._rev = self._current_rev()
            self._version = self._data_version()
            with gc_paused():  # every row and Station record: no collector rescans while they are made
                rows = self._db.execute("SELECT id, layer, lon, lat, props FROM stations ORDER BY id").fetchall()
                self._index.load(_row_to_station(row) for row in rows)
                self._rows.replace_all(rows)
                self._rows.prepare_nav()

    def _data_version(self) -> int:
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def _current_rev(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key='rev'").fetchone()[0])

    def _refresh(self) -> None:
        """Fold in what other processes committed since this one last looked."""
        try:
            version = self._data_version()
            if version == self._version:
                return
            self._version = version
            rows = self._db.execute(
                "SELECT id, layer, lon, lat, props FROM stations WHERE rev > ?", (self._rev,)
            ).fetchall()
            gone = self._db.execute("SELECT id FROM tombstones WHERE rev > ?", (self._rev,)).fetchall()
            self._rev = self._current_rev()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"embedded store unreadable: {exc}") from exc
        for (sid,) in gone:
            self._rows.remove(sid)
        # One bulk step for the index, however many rows: a row at a time, a 60,000-row import
        # rebuilt the trees again and again (a 2-4 s stall) and left a delta every query scanned.
        self._index.apply([_row_to_station(row) for row in rows], [sid for (sid,) in gone])
        self._rows.put_many(rows)

    # ---- reads --------------------------------------------------------------------
    def _check_layers(self, layers: tuple[str, ...]) -> None:
        unknown = [lid for lid in layers if lid not in self.layers]
        if unknown:
            raise InvalidQuery(f"unknown layer {unknown[0]!r}", parameter="layer")

    def _hits(self, pairs: list[tuple[float, str]]) -> list[Hit]:
        found = self._rows.stations_with_nav([sid for _, sid in pairs])
        return [Hit(found[sid][0], d, found[sid][1]) for d, sid in pairs if sid in found]

    def _fetch(self, ids: list[str]) -> dict[str, Station]:
        """Stations by id (absent ids left out); call with self._lock held, after _refresh()."""
        return self._rows.stations(ids)

    def nearest(self, query: NearestQuery) -> list[Hit]:
        self._check_layers(query.layers)
        flt = Filter(query.layers, query.services, query.origin, query.open_now, query.moment())
        with self._lock:
            self._refresh()
            pairs = self._index.nearest(query.lon, query.lat, query.k, flt, query.radius_m)
            return self._hits(pairs)

    def within(self, lon: float, lat: float, radius_m: float, layers: tuple[str, ...] = ()) -> list[Hit]:
        self._check_layers(layers)
        with self._lock:
            self._refresh()
            return self._hits(self._index.within(lon, lat, radius_m, Filter(layers)))

    def in_bbox(self, bbox, layers=(), limit=100, offset=0) -> Page:
        self._check_layers(layers)
        with self._lock:
            self._refresh()
            ids = self._index.in_bbox(bbox, Filter(layers))
            chosen = ids[offset: offset + limit]
            stations = self._fetch(chosen)
            return Page(tuple(stations[sid] for sid in chosen), len(ids))

    def get(self, station_id: str) -> Station:
        with self._lock:
            self._refresh()
            found = self._fetch([station_id])
        if station_id not in found:
            raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
        return found[station_id]

    def iter_all(self) -> Iterator[Station]:
        last = ""
        while True:  # keyset pages, each read under the lock: the connection is shared by threads
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, layer, lon, lat, props FROM stations WHERE id > ? ORDER BY id LIMIT 5000", (last,)
                ).fetchall()
            if not rows:
                return
            yield from (_row_to_station(row) for row in rows)
            last = rows[-1][0]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM stations").fetchone()[0])

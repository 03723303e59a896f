"""The embedded store: SQLite on disk (WAL, fsync on commit) plus the in-memory SphereIndex.

SQLite makes every write atomic and crash-safe (a kill -9 mid-write leaves the last
committed state). Each write bumps a revision number; other processes serving the same
file (several gunicorn workers) notice the change through `PRAGMA data_version` on their
next read and fold the changed rows into their own index.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from layers.errors import Conflict, InvalidQuery, StationNotFound, StoreUnavailable
from layers.index import Filter, SphereIndex
from layers.layerdefs import Layer
from layers.model import Station
from layers.store import Hit, ImportResult, NearestQuery, Page, StationStore

LOGGER = logging.getLogger(__name__)
DB_NAME = "yizhan.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stations (
    id TEXT PRIMARY KEY,
    layer TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    props TEXT NOT NULL,
    rev INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS stations_rev ON stations (rev);
CREATE TABLE IF NOT EXISTS tombstones (id TEXT PRIMARY KEY, rev INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tombstones_rev ON tombstones (rev);
INSERT OR IGNORE INTO meta (key, value) VALUES ('rev', '0'), ('schema', '1');
"""
_PROPS_SKIP = ("layer",)


def _props_json(station: Station) -> str:
    props = {k: v for k, v in station.properties().items() if v not in (None, []) and k not in _PROPS_SKIP}
    return json.dumps(props, ensure_ascii=False, separators=(",", ":"))


def _row_to_station(row: tuple) -> Station:
    sid, layer, lon, lat, props = row
    data = json.loads(props)
    for key in ("services", "origins", "items"):
        if key in data:
            data[key] = tuple(data[key])
    return Station(id=sid, lon=lon, lat=lat, layer=layer, **data)


class EmbeddedStore(StationStore):
    """Stations in `<data_dir>/yizhan.sqlite3`, indexed in memory."""

    kind = "embedded"

    def __init__(
        self, data_dir: str | Path, layers: Mapping[str, Layer], seed: Iterable[Station] | None = None
    ) -> None:
        super().__init__(layers)
        self.path = Path(data_dir) / DB_NAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._index = SphereIndex(layers)
        self._reload()
        if seed is not None and self.count() == 0:
            result = self.import_rows(seed)
            LOGGER.info("seeded %s with %d stations", self.path, result.inserted)

    # ---- index upkeep -------------------------------------------------------------
    def _reload(self) -> None:
        with self._lock:
            self._rev = self._current_rev()
            self._version = self._data_version()
            rows = self._db.execute("SELECT id, layer, lon, lat, props FROM stations ORDER BY id")
            self._index.load(_row_to_station(row) for row in rows)

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
            self._index.remove(sid)
        for row in rows:
            self._index.upsert(_row_to_station(row))

    # ---- reads --------------------------------------------------------------------
    def _check_layers(self, layers: tuple[str, ...]) -> None:
        unknown = [lid for lid in layers if lid not in self.layers]
        if unknown:
            raise InvalidQuery(f"unknown layer {unknown[0]!r}", parameter="layer")

    def _hits(self, pairs: list[tuple[float, str]]) -> list[Hit]:
        stations = self._fetch([sid for _, sid in pairs])
        return [Hit(stations[sid], d) for d, sid in pairs if sid in stations]

    def _fetch(self, ids: list[str]) -> dict[str, Station]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT id, layer, lon, lat, props FROM stations WHERE id IN ({marks})", ids
        ).fetchall()
        return {row[0]: _row_to_station(row) for row in rows}

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

    def health(self) -> dict:
        """Cheap enough for a liveness probe: one read of the revision, no table scan."""
        try:
            with self._lock:
                self._refresh()
                rev = self._current_rev()
        except (sqlite3.Error, StoreUnavailable) as exc:
            return {"ok": False, "kind": self.kind, "error": str(exc)}
        return {"ok": True, "kind": self.kind, "stations": len(self._index), "revision": rev}

    # ---- writes -------------------------------------------------------------------
    def _write(self, work) -> object:
        """Run `work(cursor, rev)` in one IMMEDIATE transaction; the index follows on commit."""
        with self._lock:
            self._refresh()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    rev = self._current_rev() + 1
                    self._db.execute("UPDATE meta SET value=? WHERE key='rev'", (str(rev),))
                    result = work(self._db, rev)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"embedded store write failed: {exc}") from exc
            self._rev = rev
            return result

    @staticmethod
    def _upsert_row(db: sqlite3.Connection, station: Station, rev: int) -> bool:
        existed = db.execute("SELECT 1 FROM stations WHERE id=?", (station.id,)).fetchone() is not None
        db.execute(
            "INSERT INTO stations (id, layer, lon, lat, props, rev) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET layer=excluded.layer, lon=excluded.lon, "
            "lat=excluded.lat, props=excluded.props, rev=excluded.rev",
            (station.id, station.layer, station.lon, station.lat, _props_json(station), rev),
        )
        db.execute("DELETE FROM tombstones WHERE id=?", (station.id,))
        return not existed

    def put(self, station: Station, create_only: bool = False) -> bool:
        def work(db, rev):
            if create_only and db.execute("SELECT 1 FROM stations WHERE id=?", (station.id,)).fetchone():
                raise Conflict(f"a station with id {station.id!r} exists already", parameter="id")
            return self._upsert_row(db, station, rev)

        created = self._write(work)
        self._index.upsert(station)
        return bool(created)

    def delete(self, station_id: str) -> None:
        def work(db, rev):
            if db.execute("DELETE FROM stations WHERE id=?", (station_id,)).rowcount == 0:
                raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
            db.execute("INSERT OR REPLACE INTO tombstones (id, rev) VALUES (?, ?)", (station_id, rev))

        self._write(work)
        self._index.remove(station_id)

    def import_rows(self, stations: Iterable[Station]) -> ImportResult:
        batch = list(stations)

        def work(db, rev):
            ids = [s.id for s in batch]
            existing = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start: start + 500]
                marks = ",".join("?" * len(chunk))
                existing.update(r[0] for r in db.execute(f"SELECT id FROM stations WHERE id IN ({marks})", chunk))
            db.executemany(
                "INSERT OR REPLACE INTO stations (id, layer, lon, lat, props, rev) VALUES (?,?,?,?,?,?)",
                ((s.id, s.layer, s.lon, s.lat, _props_json(s), rev) for s in batch),
            )
            db.executemany("DELETE FROM tombstones WHERE id=?", ((i,) for i in existing))
            return existing

        existing = self._write(work)
        if len(batch) > 2000:
            self._reload()
        else:
            for station in batch:
                self._index.upsert(station)
        inserted = len({s.id for s in batch} - existing)
        return ImportResult(inserted=inserted, updated=len(batch) - inserted, ids=tuple(s.id for s in batch))

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""The embedded store: SQLite on disk (WAL, fsync on commit) plus the in-memory SphereIndex.

SQLite makes every write atomic and crash-safe (a kill -9 mid-write leaves the last
committed state). Each write bumps a revision number; other processes serving the same
file (several gunicorn workers) notice the change through `PRAGMA data_version` on their
next read and fold the changed rows into their own index, in one bulk step (`SphereIndex.apply`).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path

import orjson

from layers.audit import (
    AuditEntry,
    check_limit,
    check_seq,
    entry_not_found,
    revert_target,
    station_from_snapshot,
    utc_now,
    utc_text,
)
from layers.embedded.bulk import open_bulk
from layers.embedded.reads import EmbeddedReads, _row_to_station
from layers.embedded.sqlite_file import checkpoint_in_thread, open_sqlite
from layers.embedded.writable import WriteHealth, immediate
from layers.errors import Conflict, StationNotFound, StoreUnavailable
from layers.ingest.bulk import BulkLoad
from layers.layerdefs import Layer
from layers.memory.index import SphereIndex
from layers.memory.stored_rows import (
    PROPS_FIELDS,
    StoredRows,
    props_json,
)
from layers.model import Station
from layers.revision import check_match
from layers.store import ImportResult, StationStore

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
CREATE TABLE IF NOT EXISTS station_audit (
    seq INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'import', 'revert')),
    before TEXT,
    after TEXT
);
CREATE INDEX IF NOT EXISTS station_audit_station ON station_audit (station_id, seq);
INSERT OR IGNORE INTO meta (key, value) VALUES ('rev', '0'), ('schema', '2');
UPDATE meta SET value = '2' WHERE key = 'schema' AND value = '1';
"""
_UPSERT = ("INSERT INTO stations (id, layer, lon, lat, props, rev) VALUES (?,?,?,?,?,?) "
           "ON CONFLICT(id) DO UPDATE SET layer=excluded.layer, lon=excluded.lon, "
           "lat=excluded.lat, props=excluded.props, rev=excluded.rev")
_AUDIT = "INSERT INTO station_audit (station_id, at, actor, action, before, after) VALUES (?,?,?,?,?,?)"


def audit_after_sql(row: str) -> str:
    """SQL making the audit snapshot JSON (`_snapshot`) of stored row `row` (a table or its alias);
    lon/lat as %!.17g, which reads back as the same double (tests/layers/embedded/test_rows.py)."""
    return (f"'{{\"id\":' || json_quote({row}.id) || ',\"layer\":' || json_quote({row}.layer) || "
            f"',\"lon\":' || printf('%!.17g', {row}.lon) || ',\"lat\":' || printf('%!.17g', {row}.lat) || "
            f"CASE WHEN {row}.props = '{{}}' THEN '}}' ELSE ',' || substr({row}.props, 2) END")


# The audit row of every station written at revision ?3 (an import).
_AUDIT_WRITTEN = ("INSERT INTO station_audit (station_id, at, actor, action, before, after) "
                  f"SELECT id, ?1, ?2, 'import', NULL, {audit_after_sql('stations')} FROM stations WHERE rev = ?3 "
                  "ORDER BY rowid")
_PROPS_FIELDS = PROPS_FIELDS


def _props_json(station: Station) -> str:
    """The stored props text of a station (layers.memory.stored_rows.props_json, the one definition)."""
    return props_json(station).decode()


def _row(station: Station) -> tuple:
    """The stored row of a station: (id, layer, lon, lat, props JSON)."""
    return (station.id, station.layer, station.lon, station.lat, _props_json(station))


def _stored_row(db: sqlite3.Connection, station_id: str) -> tuple | None:
    return db.execute("SELECT id, layer, lon, lat, props FROM stations WHERE id=?", (station_id,)).fetchone()


def _snapshot(row: tuple | None) -> str | None:
    """Audit snapshot JSON (see layers.audit) of a stored row, built without parsing its props."""
    if row is None:
        return None
    sid, layer, lon, lat, props = row
    head = f'{{"id":{orjson.dumps(sid).decode()},"layer":{orjson.dumps(layer).decode()},"lon":{lon!r},"lat":{lat!r}'
    return head + "}" if props == "{}" else head + "," + props[1:]


class _IndexBuild:
    """A SphereIndex of `stations` built in a background thread; `result()` waits for it."""

    def __init__(self, layers: Mapping[str, Layer], stations: list[Station]) -> None:
        self._index: SphereIndex | None = SphereIndex(layers)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, args=(stations,), name="index-build", daemon=True)
        self._thread.start()

    def _build(self, stations: list[Station]) -> None:
        try:
            self._index.load(stations)
        except BaseException as exc:  # noqa: BLE001 - reported by result(); the caller loads in line
            self._error = exc

    def result(self) -> SphereIndex | None:
        self._thread.join()
        if self._error is not None:
            LOGGER.warning("background index build failed (%s); loading in line", self._error)
            return None
        return self._index


class EmbeddedStore(EmbeddedReads, StationStore):
    """Stations in `<data_dir>/yizhan.sqlite3`, indexed in memory."""

    kind = "embedded"

    def __init__(
        self, data_dir: str | Path, layers: Mapping[str, Layer], seed: Iterable[Station] | None = None
    ) -> None:
        super().__init__(layers)
        self.path = Path(data_dir) / DB_NAME
        self._db = open_sqlite(self.path, SCHEMA, "embedded store")
        self._writable = WriteHealth(self.path.parent)
        self._lock = threading.RLock()
        self._index = SphereIndex(layers)
        # Every committed row, in memory: answers are built without a SQLite read. Changed only
        # under self._lock, after a commit of this process or when another's is seen (data_version).
        self._rows = StoredRows()
        self._checkpoint: threading.Thread | None = None
        self._reload()
        if seed is not None and self.count() == 0:
            result = self.import_rows(seed, actor="seed")
            LOGGER.info("seeded %s with %d stations", self.path, result.inserted)

    def health(self) -> dict:
        """Cheap enough for a liveness probe: one read of the revision, no table scan."""
        try:
            with self._lock:
                self._refresh()
                rev = self._current_rev()
        except (sqlite3.Error, StoreUnavailable) as exc:
            return {"ok": False, "kind": self.kind, "error": str(exc)}
        writable = self._writable.state()  # a full disk: reads still work, writes do not (not ok)
        return {"ok": writable["writable"], "kind": self.kind, "stations": len(self._index), "revision": rev,
                **writable}

    # ---- writes -------------------------------------------------------------------
    def _write(self, work) -> object:
        """Run `work(db, rev, at)` in one IMMEDIATE transaction; the index follows on commit."""
        with self._lock:
            with immediate(self._db, self._writable):
                # fold in other processes' commits *after* taking the write lock: a commit that
                # slipped in between a refresh and BEGIN would otherwise be skipped for good
                # (self._rev jumps past it below). Two workers seeding one new file hit exactly that.
                self._refresh()
                rev = self._current_rev() + 1
                self._db.execute("UPDATE meta SET value=? WHERE key='rev'", (str(rev),))
                result = work(self._db, rev, utc_text(utc_now()))
            self._rev = rev
            return result

    @staticmethod
    def _change(db: sqlite3.Connection, rev: int, audit: tuple, old: tuple | None, new: tuple | None) -> None:
        """Write one station's new row (None: delete it) and its audit row `audit` = (at, actor, action)."""
        sid = (new or old)[0]
        if new is None:
            db.execute("DELETE FROM stations WHERE id=?", (sid,))
            db.execute("INSERT OR REPLACE INTO tombstones (id, rev) VALUES (?, ?)", (sid, rev))
        else:
            db.execute(_UPSERT, (*new, rev))
            db.execute("DELETE FROM tombstones WHERE id=?", (sid,))
        db.execute(_AUDIT, (sid, *audit, _snapshot(old), _snapshot(new)))

    def put(self, station: Station, create_only: bool = False, *, actor: str | None = None,
            expect: Collection[str] | None = None) -> bool:
        new = _row(station)

        def work(db, rev, at):
            old = _stored_row(db, station.id)
            check_match(old and _row_to_station(old), expect)
            if old is not None and create_only:
                raise Conflict(f"a station with id {station.id!r} exists already", parameter="id")
            if old != new:
                self._change(db, rev, (at, actor, "update" if old else "create"), old, new)
            return old is None

        created = self._write(work)
        self._follow([station], [new])
        return bool(created)

    def delete(self, station_id: str, *, actor: str | None = None, expect: Collection[str] | None = None) -> None:
        def work(db, rev, at):
            old = _stored_row(db, station_id)
            if old is None:
                raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
            check_match(_row_to_station(old), expect)
            self._change(db, rev, (at, actor, "delete"), old, None)

        self._write(work)
        self._follow([], [], gone=[station_id])

    def patch(self, station_id: str, change: Callable[[Station], Station], *, actor: str | None = None,
              expect: Collection[str] | None = None) -> Station:
        def work(db, rev, at):  # read under BEGIN IMMEDIATE: no other write can come in between
            old = _stored_row(db, station_id)
            if old is None:
                raise StationNotFound(f"no station with id {station_id!r}", parameter="id")
            current = _row_to_station(old)
            check_match(current, expect)
            station = change(current)
            if _row(station) != old:
                self._change(db, rev, (at, actor, "update"), old, _row(station))
            return station

        station = self._write(work)
        self._follow([station], [_row(station)])
        return station

    def import_rows(self, stations: Iterable[Station], *, actor: str | None = None) -> ImportResult:
        batch = list(stations)
        latest = list({s.id: s for s in batch}.values())
        # Into an empty store (the usual big import) the new index is just these rows: build it in a
        # thread while SQLite writes (its B-tree work runs without the GIL), adopt it after the commit.
        fresh = _IndexBuild(self.layers, latest) if len(latest) >= 50_000 and not len(self._index) else None
        rows = [_row(s) for s in latest]

        def work(db, rev, at):
            empty = db.execute("SELECT NOT EXISTS (SELECT 1 FROM stations)").fetchone()[0]
            existing = {}
            for start in range(0, 0 if empty else len(rows), 500):  # ids present: an index probe; rows read only for them
                chunk = [r[0] for r in rows[start: start + 500]]
                marks = ",".join("?" * len(chunk))
                found = db.execute(f"SELECT id FROM stations WHERE id IN ({marks})", chunk).fetchall()
                if found:
                    marks = ",".join("?" * len(found))
                    existing.update((r[0], r) for r in db.execute(
                        f"SELECT id, layer, lon, lat, props FROM stations WHERE id IN ({marks})", [f[0] for f in found]))
            changed = [(i, r) for i, r in enumerate(rows) if existing.get(r[0]) != r]
            (last_seq,) = db.execute("SELECT coalesce(max(seq), 0) FROM station_audit").fetchone()
            db.executemany(_UPSERT, ((*r, rev) for _, r in changed))
            # The audit rows of the rows just written (this revision), built by SQLite itself; then
            # the `before` of those that replaced a stored row.
            db.execute(_AUDIT_WRITTEN, (at, actor, rev))
            db.executemany("UPDATE station_audit SET before=? WHERE station_id=? AND seq>?",
                           ((_snapshot(existing[r[0]]), r[0], last_seq) for _, r in changed if r[0] in existing))
            db.execute("DELETE FROM tombstones WHERE id IN (SELECT id FROM stations WHERE rev=?)", (rev,))
            return existing, [latest[i] for i, _ in changed], [r for _, r in changed], bool(empty)

        try:
            existing, changed, changed_rows, was_empty = self._write(work)
        finally:
            built = fresh.result() if fresh is not None else None
        if built is not None and was_empty:
            with self._lock:
                self._index = built
                self._rows.put_many(changed_rows)
        else:
            self._follow_import(changed, changed_rows, was_empty)
        inserted = len(latest) - len(existing)
        unchanged = len(latest) - len(changed)
        return ImportResult(inserted=inserted, updated=len(batch) - inserted - unchanged,
                            ids=tuple(s.id for s in batch), unchanged=unchanged)

    def bulk_loader(self, rows: int, *, actor: str | None = None) -> BulkLoad | None:
        """A bulk load (layers.embedded.bulk) when the store is empty, else None. The write
        transaction and the store's lock are held until the load finishes or aborts."""
        return open_bulk(self, actor, audit_after_sql("stations"), _PROPS_FIELDS)

    def _follow_import(self, changed: list[Station], rows: list[tuple], into_empty: bool) -> None:
        """Bring the index and rows up to date after an import: into an empty table, the rows
        written are all there is (a bulk load, no read back); otherwise one bulk step (`apply`)."""
        with self._lock:
            if into_empty:
                self._index.load(changed)
                self._rows.replace_all(rows)
            else:
                self._index.apply(changed)
                self._rows.put_many(rows)

    def _follow(self, stations: list[Station], rows: list[tuple], gone: Iterable[str] = ()) -> None:
        """This process's committed change, into the index and the rows: `stations` (with their
        stored `rows`) written, `gone` deleted."""
        with self._lock:
            for sid in gone:
                self._index.remove(sid)
                self._rows.remove(sid)
            for station in stations:
                self._index.upsert(station)
            self._rows.put_many(rows)

    def revert(self, station_id: str, seq: int, *, actor: str | None) -> Station | None:
        check_seq(seq)

        def work(db, rev, at):
            entry = db.execute("SELECT station_id, before FROM station_audit WHERE seq=?", (seq,)).fetchone()
            if entry is None:
                raise entry_not_found(seq)
            revert_target(entry[0], station_id, seq)
            target = station_from_snapshot(entry[1])
            old, new = _stored_row(db, station_id), (None if target is None else _row(target))
            if old != new:
                self._change(db, rev, (at, actor, "revert"), old, new)
            return target

        target = self._write(work)
        if target is None:
            self._follow([], [], gone=[station_id])
        else:
            self._follow([target], [_row(target)])
        return target

    def history(self, station_id: str, limit: int = 100) -> list[AuditEntry]:
        check_limit(limit)
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, station_id, at, actor, action, before, after FROM station_audit "
                    "WHERE station_id=? ORDER BY seq DESC LIMIT ?", (station_id, limit)).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"embedded store unreadable: {exc}") from exc
        if not rows:
            self.get(station_id)  # StationNotFound for an id never seen
        return [AuditEntry(seq=seq, station_id=sid, at=datetime.fromisoformat(at), actor=actor, action=action,
                           before=station_from_snapshot(before), after=station_from_snapshot(after))
                for seq, sid, at, actor, action, before, after in rows]

    def checkpoint_beside(self) -> None:
        """Copy the WAL into the database file from a connection of its own, in a thread (after a
        bulk load's commit; layers.embedded.sqlite_file.checkpoint_in_thread)."""
        self.join_checkpoint()
        self._checkpoint = checkpoint_in_thread(self.path)

    def join_checkpoint(self) -> None:
        """Wait for a background checkpoint (checkpoint_beside) to end."""
        if self._checkpoint is not None:
            self._checkpoint.join()
            self._checkpoint = None

    def revision(self) -> str | None:
        with self._lock:
            try:
                return f"e{self._current_rev()}"
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"embedded store unreadable: {exc}") from exc

    def close(self) -> None:
        self.run_close_hooks()
        self.join_checkpoint()
        with self._lock:
            self._db.close()

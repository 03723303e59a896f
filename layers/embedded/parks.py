"""Parks, scans and reports in `<data_dir>/parks.sqlite3`, beside the embedded station store.

Same durability as the station file: WAL, synchronous=FULL (fsync on commit), every write in
one BEGIN IMMEDIATE transaction, so several gunicorn workers can share the file.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from layers.embedded.counters import SqliteCounters
from layers.embedded.sqlite_file import open_sqlite
from layers.embedded.writable import WriteHealth, immediate
from layers.errors import StoreUnavailable
from layers.parks import (
    Park,
    ParkNotFound,
    ParkStore,
    Report,
    ReportNotFound,
    shanghai_date,
)

LOGGER = logging.getLogger(__name__)
DB_NAME = "parks.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS parks (
    slug TEXT PRIMARY KEY, name TEXT NOT NULL, name_en TEXT, kind TEXT NOT NULL,
    lon REAL NOT NULL, lat REAL NOT NULL, address TEXT, adcode TEXT
);
CREATE TABLE IF NOT EXISTS park_scans (
    slug TEXT NOT NULL, day TEXT NOT NULL, scans INTEGER NOT NULL, PRIMARY KEY (slug, day)
);
CREATE TABLE IF NOT EXISTS park_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, station_id TEXT NOT NULL, kind TEXT NOT NULL, note TEXT NOT NULL,
    created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS park_reports_open ON park_reports (status, kind, created_at);
CREATE TABLE IF NOT EXISTS park_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO park_meta (key, value) VALUES ('schema', '1');
"""
# schema 2: who sent a report (a day-keyed HMAC, never an address) and its Asia/Shanghai day, so a
# kind counts once per client per station per day (the unique index decides, across processes)
UPGRADES = {2: ("ALTER TABLE park_reports ADD COLUMN client TEXT",
                "ALTER TABLE park_reports ADD COLUMN day TEXT",
                ("CREATE UNIQUE INDEX IF NOT EXISTS park_reports_once ON park_reports (station_id, kind, client, day) "
                 "WHERE client IS NOT NULL"))}
_PARK_COLUMNS = "slug, name, kind, lon, lat, name_en, address, adcode"
_REPORT_COLUMNS = "id, station_id, kind, note, created_at, status, resolved_at, client"


def _ts(at: datetime) -> str:
    """An aware datetime as sortable UTC text (microseconds kept)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _report(row: tuple, repeat: bool = False) -> Report:
    rid, sid, kind, note, created, status, resolved, client = row
    return Report(id=rid, station_id=sid, kind=kind, note=note, created_at=datetime.fromisoformat(created),
                  status=status, resolved_at=datetime.fromisoformat(resolved) if resolved else None,
                  client=client, repeat=repeat)


class SqliteParkStore(ParkStore):
    """The embedded park store: one SQLite file, shared safely by threads and processes."""

    kind = "embedded"

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / DB_NAME
        self._db = open_sqlite(self.path, SCHEMA, "park store")
        self._writable = WriteHealth(self.path.parent)
        self._lock = threading.RLock()
        self.counters = SqliteCounters(self.path)
        self._upgrade()

    def _upgrade(self) -> None:
        def work(db):
            version = int(db.execute("SELECT value FROM park_meta WHERE key='schema'").fetchone()[0])
            for target in sorted(v for v in UPGRADES if v > version):
                for statement in UPGRADES[target]:
                    db.execute(statement)
                db.execute("UPDATE park_meta SET value=? WHERE key='schema'", (str(target),))

        self._write(work)

    # ---- plumbing ---------------------------------------------------------------------
    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"park store unreadable: {exc}") from exc

    def _write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            with immediate(self._db, self._writable):
                result = work(self._db)
            return result

    # ---- parks ------------------------------------------------------------------------
    def list_parks(self) -> list[Park]:
        return [Park(*row) for row in self._read(f"SELECT {_PARK_COLUMNS} FROM parks ORDER BY slug")]

    def get_park(self, slug: str) -> Park:
        rows = self._read(f"SELECT {_PARK_COLUMNS} FROM parks WHERE slug=?", (slug,))
        if not rows:
            raise ParkNotFound(f"no park with slug {slug[:64]!r}", "slug")
        return Park(*rows[0])

    @staticmethod
    def _upsert(db: sqlite3.Connection, park: Park) -> None:
        db.execute(f"INSERT OR REPLACE INTO parks ({_PARK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                   (park.slug, park.name, park.kind, park.lon, park.lat, park.name_en, park.address, park.adcode))

    def put_park(self, park: Park) -> bool:
        def work(db):
            existed = db.execute("SELECT 1 FROM parks WHERE slug=?", (park.slug,)).fetchone() is not None
            self._upsert(db, park)
            return not existed

        return bool(self._write(work))

    def delete_park(self, slug: str) -> None:
        def work(db):
            if db.execute("DELETE FROM parks WHERE slug=?", (slug,)).rowcount == 0:
                raise ParkNotFound(f"no park with slug {slug[:64]!r}", "slug")

        self._write(work)

    def seed(self, parks: Iterable[Park]) -> int:
        batch = list(parks)

        def work(db):
            if db.execute("SELECT count(*) FROM parks").fetchone()[0]:
                return 0
            for park in batch:
                self._upsert(db, park)
            return len(batch)

        return int(self._write(work))

    # ---- scans ------------------------------------------------------------------------
    def add_scans(self, counts: Mapping[tuple[str, date], int]) -> None:
        rows = [(slug, day.isoformat(), int(n)) for (slug, day), n in counts.items() if n > 0]
        if rows:
            self._write(lambda db: db.executemany(
                "INSERT INTO park_scans (slug, day, scans) VALUES (?, ?, ?) "
                "ON CONFLICT(slug, day) DO UPDATE SET scans = scans + excluded.scans", rows))

    def scan_days(self, slug: str, since: date | None = None) -> list[tuple[date, int]]:
        rows = self._read("SELECT day, scans FROM park_scans WHERE slug=? AND day>=? ORDER BY day",
                          (slug, (since or date.min).isoformat()))
        return [(date.fromisoformat(day), n) for day, n in rows]

    def scan_totals(self, since: date | None = None) -> dict[str, int]:
        rows = self._read("SELECT slug, sum(scans) FROM park_scans WHERE day>=? GROUP BY slug ORDER BY slug",
                          ((since or date.min).isoformat(),))
        return {slug: int(n) for slug, n in rows}

    # ---- reports ----------------------------------------------------------------------
    def add_report(self, station_id: str, kind: str, note: str, at: datetime, client: str | None = None) -> Report:
        day = shanghai_date(at).isoformat()

        def work(db):
            if client is not None:
                row = db.execute(f"SELECT {_REPORT_COLUMNS} FROM park_reports WHERE station_id=? AND kind=? "
                                 "AND client=? AND day=?", (station_id, kind, client, day)).fetchone()
                if row is not None:
                    return _report(row, repeat=True)
            cur = db.execute("INSERT INTO park_reports (station_id, kind, note, created_at, client, day) "
                             "VALUES (?,?,?,?,?,?)", (station_id, kind, note, _ts(at), client, day))
            return cur.lastrowid

        found = self._write(work)
        return found if isinstance(found, Report) else self.get_report(found)

    def _delete_report(self, report_id: int) -> None:
        self._write(lambda db: db.execute("DELETE FROM park_reports WHERE id=?", (report_id,)))

    def list_reports(self, status: str | None = "open", station_id: str | None = None,
                     limit: int = 200) -> list[Report]:
        where, args = ["1=1"], []
        if status:
            where.append("status=?")
            args.append(status)
        if station_id:
            where.append("station_id=?")
            args.append(station_id)
        rows = self._read(f"SELECT {_REPORT_COLUMNS} FROM park_reports WHERE {' AND '.join(where)} "
                          "ORDER BY created_at DESC, id DESC LIMIT ?", (*args, limit))
        return [_report(row) for row in rows]

    def get_report(self, report_id: int) -> Report:
        rows = self._read(f"SELECT {_REPORT_COLUMNS} FROM park_reports WHERE id=?", (report_id,))
        if not rows:
            raise ReportNotFound(f"no report with id {report_id}", "id")
        return _report(rows[0])

    def resolve_report(self, report_id: int, at: datetime) -> Report:
        def work(db):
            if db.execute("SELECT 1 FROM park_reports WHERE id=?", (report_id,)).fetchone() is None:
                raise ReportNotFound(f"no report with id {report_id}", "id")
            db.execute("UPDATE park_reports SET status='resolved', resolved_at=? WHERE id=? AND status='open'",
                       (_ts(at), report_id))

        self._write(work)
        return self.get_report(report_id)

    def locked_counts(self, since: datetime) -> dict[str, int]:
        rows = self._read("SELECT station_id, count(DISTINCT coalesce(client, 'report ' || id)) FROM park_reports "
                          "WHERE status='open' AND kind='locked' "
                          "AND created_at>=? GROUP BY station_id", (_ts(since),))
        return {sid: int(n) for sid, n in rows}

    # ---- state ------------------------------------------------------------------------
    def health(self) -> dict:
        try:
            parks = self._read("SELECT count(*) FROM parks")[0][0]
        except StoreUnavailable as exc:
            return {"ok": False, "kind": self.kind, "error": exc.message}
        return {"ok": True, "kind": self.kind, "parks": parks}

    def close(self) -> None:
        self.run_close_hooks()
        self.counters.close()
        with self._lock:
            self._db.close()

"""Parks, scans and reports in PostgreSQL tables beside the stations (same database, same pool rules).

The schema is versioned in `layers/postgis/migrations_parks/NNNN_name.sql`, recorded in a table of its
own (`park_schema_migrations`) and applied idempotently under an advisory lock on first use, so
the app starts even while the database is down (requests then answer 503 until it is back).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from layers.errors import StoreUnavailable
from layers.parks import (
    Park,
    ParkNotFound,
    ParkStore,
    Report,
    ReportNotFound,
    shanghai_date,
)
from layers.postgis.counters import PostgisCounters
from layers.postgis.pool import Pool, describe, run

LOGGER = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations_parks"
_LOCK_KEY = 7020160005  # advisory lock serialising park schema upgrades and seeding
_PARK_COLUMNS = "slug, name, kind, lon, lat, name_en, address, adcode"
_REPORT_COLUMNS = "id, station_id, kind, note, created_at, status, resolved_at, client"


def park_migrations() -> list[tuple[str, Path]]:
    """(version, file) of every park migration, oldest first."""
    return [(p.name.split("_", 1)[0], p) for p in sorted(MIGRATIONS_DIR.glob("[0-9]*_*.sql"))]


def _apply(cur) -> list[str]:
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    cur.execute("CREATE TABLE IF NOT EXISTS park_schema_migrations (version text PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())")
    cur.execute("SELECT version FROM park_schema_migrations")
    done = {row[0] for row in cur.fetchall()}
    applied = []
    for version, path in park_migrations():
        if version not in done:
            cur.execute(path.read_text(encoding="utf-8"))
            cur.execute("INSERT INTO park_schema_migrations (version, name) VALUES (%s, %s)", (version, path.name))
            applied.append(version)
    return applied


def _report(row: tuple, repeat: bool = False) -> Report:
    rid, sid, kind, note, created, status, resolved, client = row
    return Report(id=int(rid), station_id=sid, kind=kind, note=note, created_at=created, status=status,
                  resolved_at=resolved, client=client, repeat=repeat)


class PostgisParkStore(ParkStore):
    """The park store on PostgreSQL; opened (migrated) on first use, retried after a failure."""

    kind = "postgis"

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self._pool = Pool(url, pool_size)
        self._ready = False
        self._ready_lock = threading.Lock()
        self.counters = PostgisCounters(self._write)

    def _ensure(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                applied = run(self._pool, _apply, write=True)
                if applied:
                    LOGGER.info("park schema at %s: applied %s", describe(self.url), ", ".join(applied))
                self._ready = True

    def _read(self, sql: str, args: dict | tuple = ()) -> list[tuple]:
        self._ensure()
        return run(self._pool, lambda cur: (cur.execute(sql, args), cur.fetchall())[1])

    def _write(self, work: Callable[[Any], Any]) -> Any:
        self._ensure()
        return run(self._pool, work, write=True)

    # ---- parks ------------------------------------------------------------------------
    def list_parks(self) -> list[Park]:
        return [Park(*row) for row in self._read(f"SELECT {_PARK_COLUMNS} FROM parks ORDER BY slug")]

    def get_park(self, slug: str) -> Park:
        rows = self._read(f"SELECT {_PARK_COLUMNS} FROM parks WHERE slug = %s", (slug,))
        if not rows:
            raise ParkNotFound(f"no park with slug {slug[:64]!r}", "slug")
        return Park(*rows[0])

    @staticmethod
    def _upsert(cur, park: Park) -> bool:
        cur.execute(
            f"INSERT INTO parks ({_PARK_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (slug) DO UPDATE SET "
            "name=EXCLUDED.name, kind=EXCLUDED.kind, lon=EXCLUDED.lon, lat=EXCLUDED.lat, name_en=EXCLUDED.name_en, "
            "address=EXCLUDED.address, adcode=EXCLUDED.adcode, updated_at=now() RETURNING (xmax = 0)",
            (park.slug, park.name, park.kind, park.lon, park.lat, park.name_en, park.address, park.adcode))
        return bool(cur.fetchone()[0])

    def put_park(self, park: Park) -> bool:
        return self._write(lambda cur: self._upsert(cur, park))

    def delete_park(self, slug: str) -> None:
        def work(cur):
            cur.execute("DELETE FROM parks WHERE slug = %s", (slug,))
            if cur.rowcount == 0:
                raise ParkNotFound(f"no park with slug {slug[:64]!r}", "slug")

        self._write(work)

    def seed(self, parks: Iterable[Park]) -> int:
        batch = list(parks)

        def work(cur):
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("SELECT EXISTS (SELECT 1 FROM parks)")
            if cur.fetchone()[0]:
                return 0
            for park in batch:
                self._upsert(cur, park)
            return len(batch)

        return int(self._write(work))

    # ---- scans ------------------------------------------------------------------------
    def add_scans(self, counts: Mapping[tuple[str, date], int]) -> None:
        rows = sorted((slug, day, int(n)) for (slug, day), n in counts.items() if n > 0)  # sorted: no deadlocks
        if rows:
            self._write(lambda cur: cur.executemany(
                "INSERT INTO park_scans (slug, day, scans) VALUES (%s, %s, %s) "
                "ON CONFLICT (slug, day) DO UPDATE SET scans = park_scans.scans + EXCLUDED.scans", rows))

    def scan_days(self, slug: str, since: date | None = None) -> list[tuple[date, int]]:
        rows = self._read("SELECT day, scans FROM park_scans WHERE slug = %s AND day >= %s ORDER BY day",
                          (slug, since or date.min))
        return [(day, int(n)) for day, n in rows]

    def scan_totals(self, since: date | None = None) -> dict[str, int]:
        rows = self._read("SELECT slug, sum(scans) FROM park_scans WHERE day >= %s GROUP BY slug ORDER BY slug",
                          (since or date.min,))
        return {slug: int(n) for slug, n in rows}

    # ---- reports ----------------------------------------------------------------------
    def add_report(self, station_id: str, kind: str, note: str, at: datetime, client: str | None = None) -> Report:
        day = shanghai_date(at)

        def work(cur):
            # the unique index park_reports_once decides between concurrent taps of one client
            cur.execute("INSERT INTO park_reports (station_id, kind, note, created_at, client, day) "
                        "VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (station_id, kind, client, day) "
                        f"WHERE client IS NOT NULL DO NOTHING RETURNING {_REPORT_COLUMNS}",
                        (station_id, kind, note, at, client, day))
            row = cur.fetchone()
            if row is not None:
                return _report(row)
            cur.execute(f"SELECT {_REPORT_COLUMNS} FROM park_reports WHERE station_id = %s AND kind = %s "
                        "AND client = %s AND day = %s", (station_id, kind, client, day))
            return _report(cur.fetchone(), repeat=True)

        return self._write(work)

    def _delete_report(self, report_id: int) -> None:
        self._write(lambda cur: cur.execute("DELETE FROM park_reports WHERE id = %s", (report_id,)))

    def list_reports(self, status: str | None = "open", station_id: str | None = None,
                     limit: int = 200) -> list[Report]:
        rows = self._read(
            f"SELECT {_REPORT_COLUMNS} FROM park_reports WHERE (%(status)s::text IS NULL OR status = %(status)s) "
            "AND (%(sid)s::text IS NULL OR station_id = %(sid)s) ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
            {"status": status, "sid": station_id, "limit": limit})
        return [_report(row) for row in rows]

    def get_report(self, report_id: int) -> Report:
        rows = self._read(f"SELECT {_REPORT_COLUMNS} FROM park_reports WHERE id = %s", (report_id,))
        if not rows:
            raise ReportNotFound(f"no report with id {report_id}", "id")
        return _report(rows[0])

    def resolve_report(self, report_id: int, at: datetime) -> Report:
        def work(cur):
            cur.execute("UPDATE park_reports SET status = 'resolved', resolved_at = COALESCE(resolved_at, %s) "
                        f"WHERE id = %s RETURNING {_REPORT_COLUMNS}", (at, report_id))
            row = cur.fetchone()
            if row is None:
                raise ReportNotFound(f"no report with id {report_id}", "id")
            return _report(row)

        return self._write(work)

    def locked_counts(self, since: datetime) -> dict[str, int]:
        rows = self._read("SELECT station_id, count(DISTINCT coalesce(client, 'report ' || id::text)) "
                          "FROM park_reports WHERE status = 'open' AND kind = 'locked' "
                          "AND created_at >= %s GROUP BY station_id", (since,))
        return {sid: int(n) for sid, n in rows}

    # ---- state ------------------------------------------------------------------------
    def health(self) -> dict:
        try:
            parks = self._read("SELECT count(*) FROM parks")[0][0]
        except StoreUnavailable as exc:
            return {"ok": False, "kind": self.kind, "error": exc.message}
        return {"ok": True, "kind": self.kind, "parks": int(parks)}

    def close(self) -> None:
        self.run_close_hooks()
        self._pool.close()

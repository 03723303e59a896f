"""PostGIS schema: versioned SQL migrations in `layers/postgis/migrations/`, applied idempotently."""
from __future__ import annotations

import logging
from pathlib import Path

import psycopg2

from layers.errors import StoreUnavailable
from layers.postgis.pool import CONN_ERRORS, Pool, describe, first_line, run

LOGGER = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 7020160001  # advisory lock serialising schema upgrades and seeding


def migrations() -> list[tuple[str, Path]]:
    """(version, file) of every migration in `layers/postgis/migrations/`, oldest first (`NNNN_name.sql`)."""
    return [(p.name.split("_", 1)[0], p) for p in sorted(MIGRATIONS_DIR.glob("[0-9]*_*.sql"))]


def _ensure_postgis(cur) -> None:
    cur.execute("SAVEPOINT postgis")
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg2.Error as exc:
        if isinstance(exc, CONN_ERRORS):
            raise
        cur.execute("ROLLBACK TO SAVEPOINT postgis")
        raise StoreUnavailable(
            "the PostGIS extension cannot be created in this database "
            f"({first_line(exc)}); install postgresql-<major>-postgis-3 on the server and have a "
            "superuser run CREATE EXTENSION postgis"
        ) from exc


def _apply_migrations(cur) -> list[str]:
    cur.execute("SET LOCAL statement_timeout = 0")
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    _ensure_postgis(cur)
    cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())")
    cur.execute("SELECT version FROM schema_migrations")
    done = {row[0] for row in cur.fetchall()}
    applied = []
    for version, path in migrations():
        if version in done:
            continue
        cur.execute(path.read_text(encoding="utf-8"))
        cur.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, path.name))
        applied.append(version)
    unknown = sorted(done - {v for v, _ in migrations()})
    if unknown:
        LOGGER.warning("database has schema versions this code does not know: %s", ", ".join(unknown))
    return applied


def upgrade(url: str) -> list[str]:
    """Create PostGIS and apply pending migrations in one transaction; the versions applied now."""
    pool = Pool(url, 1)
    try:
        applied = run(pool, _apply_migrations, write=True, deadline_s=None)  # no statement_timeout either
    finally:
        pool.close()
    if applied:
        LOGGER.info("applied schema migrations %s to %s", ", ".join(applied), describe(url))
    return applied

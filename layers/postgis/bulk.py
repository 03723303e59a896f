"""The PostGIS store's bulk load: a large import into an empty table, COPYed while it is checked.

One transaction holds the store's advisory write lock from the first chunk to the commit. A
writer thread COPYs each chunk into `stations` and its audit rows into `station_audit`
(snapshot arrays made here, the jsonb PostgreSQL would build from the same row: tested), so
the server works on one core while Python checks the next chunk on the other. A large load
truncates the (empty) table first — with `wal_level=minimal` its new file then skips the WAL —
and drops the secondary indexes but the geography GiST (filled as the rows come, at the cost
of a build) to build them again at the end.

COPY text is made column by column, each distinct value escaped once: the bytes are those of
`layers.postgis.rows._copy_text` for the same stations (tested).
"""
from __future__ import annotations

import io
import logging
import re
import uuid

import numpy as np
import psycopg2
import psycopg2.sql

from layers.errors import InvalidStation, StoreUnavailable
from layers.import_result import ImportResult
from layers.ingest.bulk import (
    BulkLoad,
    Chunk,
    Progress,
    Writer,
    float_texts,
    joined,
    json_column,
    mapped,
)
from layers.model import STATION_FIELDS
from layers.postgis.mirror import PgMirror, notify
from layers.postgis.pool import CONN_ERRORS, Pool, describe, first_line
from layers.postgis.schema import _LOCK_KEY

LOGGER = logging.getLogger(__name__)
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ARRAYS = frozenset({"services", "origins", "items"})


def _copy_escaped(texts: list[str]) -> list[str]:
    """Texts with COPY's backslash escapes, when any of them needs one."""
    if _NEEDS_ESCAPE.search("".join(texts)):
        return [text.translate(_COPY_ESCAPES) for text in texts]
    return texts


def _array_literal(words: tuple[str, ...]) -> str:
    """A text[] literal, every element quoted (backslash and double quote escaped inside)."""
    if not words:
        return "{}"
    return '{"' + '","'.join(w.replace("\\", "\\\\").replace('"', '\\"') for w in words) + '"}'


def copy_column(values: np.ndarray, array: bool = False) -> list[str]:
    """COPY text of each value (NULL as \\N; a tuple as a text[] literal)."""
    items = values.tolist()
    if array:
        return mapped(items, lambda u: "\\N" if u is None else _escaped(_array_literal(u)))
    if set(map(type, items)) <= {str, type(None)} and not _NEEDS_ESCAPE.search("".join(filter(None, items))):
        return mapped(items, lambda v: "\\N" if v is None else v)
    return mapped(items, lambda v: "\\N" if v is None else _escaped(str(v)))


def _escaped(text: str) -> str:
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def copy_text(chunk: Chunk, columns: tuple[str, ...], floats: dict[str, list[str]] | None = None) -> str:
    """The rows of `chunk` as COPY text lines, `columns` in order (`floats`: lon/lat texts made already)."""
    floats = floats or {name: float_texts(chunk[name]) for name in ("lon", "lat")}
    parts = [floats[name] if name in floats else copy_column(chunk[name], name in _ARRAYS) for name in columns]
    return "\n".join(joined(parts, "\t")) + "\n" if parts and parts[0] else ""


def _number_json(texts: list[str]) -> list[str]:
    """Float texts as jsonb_build_array writes a float8: the shortest text, no trailing '.0'."""
    return [t.removesuffix(".0") for t in texts]


def audit_copy_text(chunk: Chunk, actor: str | None, floats: dict[str, list[str]] | None = None) -> str:
    """COPY lines (station_id, actor, action, before, after) auditing every row of `chunk` as
    imported; `after` is the snapshot array (layers.audit) of the row, in STATION_FIELDS order."""
    floats = floats or {name: float_texts(chunk[name]) for name in ("lon", "lat")}
    parts = [_number_json(floats[name]) if name in floats else
             json_column(chunk[name], empty="[]" if name in _ARRAYS else "null") for name in STATION_FIELDS]
    afters = _copy_escaped(joined(parts, ","))
    who = "\\N" if actor is None else _copy_escaped([actor])[0]
    head = f"\t{who}\timport\t\\N\t["
    return "".join([sid + head + after + "]\n" for sid, after in zip(chunk["id"].tolist(), afters)])


class PostgisBulkLoad(BulkLoad):
    """Chunks COPYed inside the open transaction of `conn` (from `pool`); `rebuild` at the end."""

    def __init__(self, pool: Pool, conn, actor: str | None, columns: tuple[str, ...], rebuild: list[str],
                 analyze_after: int, mirror: PgMirror | None = None) -> None:
        self._pool, self._conn, self._cur = pool, conn, conn.cursor()
        self._mirror = mirror  # this process's; every process's mirror hears of the load on commit
        self._actor, self._columns, self._rebuild, self._analyze_after = actor, columns, rebuild, analyze_after
        self._ids: list[str] = []
        self._open = True
        self._closed = False  # the closing statements ran
        self._writer = Writer("postgis-bulk-load")

    def add(self, chunk: Chunk) -> None:
        self._ids += chunk["id"].tolist()
        floats = {name: float_texts(chunk[name]) for name in ("lon", "lat")}
        rows = copy_text(chunk, self._columns, floats).encode()
        audit = audit_copy_text(chunk, self._actor, floats).encode()
        self._writer.submit(lambda: self._write(rows, audit))

    def _write(self, rows: bytes, audit: bytes) -> None:
        """In the writer thread: psycopg2 lets go of the GIL while the server takes the data."""
        self._cur.copy_expert(f"COPY stations ({', '.join(self._columns)}) FROM STDIN", io.BytesIO(rows),
                              size=1 << 20)
        self._cur.copy_expert("COPY station_audit (station_id, actor, action, before, after) FROM STDIN",
                              io.BytesIO(audit), size=1 << 20)

    def done_adding(self) -> None:
        """The indexes dropped for the load are built again (and statistics taken) while the
        whole-file checks run; a rejection rolls them back with the rows."""
        self._writer.submit(self._closing)

    def _closing(self) -> None:
        if self._closed:
            return
        self._closed = True
        for statement in self._rebuild:
            self._cur.execute(statement)
        if len(self._ids) >= self._analyze_after:  # fresh statistics, or the planner guesses
            self._cur.execute("SET LOCAL default_statistics_target = 20")
            self._cur.execute("ANALYZE stations")

    def finish(self, progress: Progress | None = None) -> ImportResult:
        if progress:
            progress("writing", 0, len(self._ids))
        token = self._mirror.new_token([], []) if self._mirror is not None else uuid.uuid4().hex
        try:
            self._writer.submit(self._closing)  # a no-op when done_adding() queued it already
            self._writer.join()
            notify(self._cur, token, None)  # too many ids to list: mirrors read everything again
            self._conn.commit()
        except BaseException as exc:
            if self._mirror is not None:
                self._mirror.abandoned(token)
            self.abort()
            error = _domain_error(exc, self._pool)
            if error is exc:
                raise
            raise error from exc
        self._open = False
        self._pool.release(self._conn)
        if self._mirror is not None:
            self._mirror.committed(token)
        if progress:
            progress("writing", len(self._ids), len(self._ids))
        return ImportResult(inserted=len(self._ids), updated=0, ids=tuple(self._ids), unchanged=0)

    def abort(self) -> None:
        if not self._open:
            return
        self._open = False
        self._writer.join(raise_error=False)
        try:
            self._conn.rollback()
        except psycopg2.Error as exc:
            LOGGER.warning("rollback of a bulk load failed: %s", first_line(exc))
        self._pool.release(self._conn, broken=bool(self._conn.closed))


def _domain_error(exc: BaseException, pool: Pool) -> BaseException:
    """What the caller sees: refused data is the client's error, a lost or failing server a 503."""
    if isinstance(exc, (psycopg2.DataError, psycopg2.IntegrityError)):
        return InvalidStation(f"the database refused a station: {first_line(exc)}")
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return StoreUnavailable(f"the database at {describe(pool.url)} took too long")
    if isinstance(exc, (*CONN_ERRORS, psycopg2.Error)):
        return StoreUnavailable(f"PostgreSQL at {describe(pool.url)} failed: {first_line(exc)}")
    return exc


def open_bulk(pool: Pool, rows: int, actor: str | None, columns: tuple[str, ...], timeout_ms: int, bulk_rows: int,
              analyze_after: int, mirror: PgMirror | None = None) -> PostgisBulkLoad | None:
    """A bulk load of about `rows` rows when `stations` is empty (under the advisory write lock),
    else None. A reused connection found lost is replaced once, as `layers.postgis.pool.run` does."""
    for attempt in (1, 2):
        conn, reused = pool.acquire()
        try:
            return _open(pool, conn, rows, actor, columns, timeout_ms, bulk_rows, analyze_after, mirror)
        except CONN_ERRORS as exc:
            lost = bool(conn.closed)
            pool.release(conn, broken=lost)
            if lost and reused and attempt == 1:
                continue
            raise StoreUnavailable(f"PostgreSQL at {describe(pool.url)} failed: {first_line(exc)}") from exc
        except BaseException:
            pool.release(conn, broken=bool(conn.closed))
            raise
    raise AssertionError("unreachable")


def _open(pool: Pool, conn, rows: int, actor: str | None, columns: tuple[str, ...], timeout_ms: int,
          bulk_rows: int, analyze_after: int, mirror: PgMirror | None) -> PostgisBulkLoad | None:
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SET LOCAL yizhan.notified = 'on'")  # the load announces itself (layers.postgis.mirror)
    cur.execute("SET LOCAL statement_timeout = %s", (timeout_ms,))
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    cur.execute("SELECT EXISTS (SELECT 1 FROM stations)")
    if cur.fetchone()[0]:
        conn.rollback()
        pool.release(conn)
        return None
    rebuild = []
    if rows >= bulk_rows:  # empty: truncating loses nothing and gives COPY a new file (no WAL when minimal)
        cur.execute("TRUNCATE stations")
        rebuild = drop_indexes(cur, keep=("stations_geog_gist",))
    return PostgisBulkLoad(pool, conn, actor, columns, rebuild, analyze_after, mirror)


def drop_indexes(cur, keep: tuple[str, ...] = ()) -> list[str]:
    """Drop the secondary indexes of `stations` (but those named in `keep`); the statements that
    create them again."""
    cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = 'stations' AND indexname <> 'stations_pkey'")
    found = [(name, definition) for name, definition in cur.fetchall() if name not in keep]
    for name, _ in found:
        cur.execute(psycopg2.sql.SQL("DROP INDEX {}").format(psycopg2.sql.Identifier(name)))
    return [definition for _, definition in found]

"""The embedded store's bulk load: a large import into an empty store, written while it is checked.

One IMMEDIATE transaction holds the file's write lock from the first chunk to the commit (and
the store's lock: nobody reads the connection meanwhile). A writer thread inserts each chunk
(rows sorted into the id B-tree as they come) and has SQLite build that chunk's audit rows
from the rows just stored (one INSERT ... SELECT of the rows past the last rowid, the snapshot
JSON made in SQL by `layers.embedded.store.audit_after_sql`; a TEMP trigger doing the same per row
measured 2.5x slower); the main thread meanwhile checks the next chunk. The commit (WAL, synchronous=FULL) runs in the writer thread as well,
while the main thread builds the in-memory index from the columns, with no Station records.
"""
from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from typing import Any, Protocol

import numpy as np

from layers.audit import utc_now, utc_text
from layers.import_result import ImportResult
from layers.ingest.bulk import BulkLoad, Chunk, Progress, Writer, props_texts
from layers.memory.index import SphereIndex
from layers.memory.stored_rows import StoredRows


class EmbeddedStore(Protocol):
    """What the bulk load uses of `layers.embedded.store.EmbeddedStore` (which imports this module, so
    the load names the store's shape here instead of importing it back)."""

    layers: Any
    _db: sqlite3.Connection
    _lock: threading.RLock
    _rev: int
    _index: Any
    _rows: Any
    _writable: Any

    def _current_rev(self) -> int: ...
    def _refresh(self) -> None: ...
    def _reload(self) -> None: ...
    def checkpoint_beside(self) -> None: ...

LOGGER = logging.getLogger(__name__)
CACHE_KIB = 65_536  # SQLite page cache during the load (KiB): fewer index pages spilled to the WAL
INDEX_COLUMNS = ("layer", "services", "hours", "status", "origins")
ROWS_PER_INSERT = 5000  # rows per INSERT statement (30,000 parameters; SQLite allows 32,766)
_INSERT = "INSERT INTO stations (id, layer, lon, lat, props, rev) VALUES "


def insert_statements(rows: list[tuple]) -> list[tuple[str, list]]:
    """(INSERT of up to ROWS_PER_INSERT rows, its parameters) for the station rows, in order. Made
    in the main thread: the writer then holds the GIL only to hand each statement to SQLite. One
    statement per row (executemany) takes the GIL back after every row, and while the main thread
    is busy each take can wait a switch interval: 3x slower, measured."""
    out = []
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start: start + ROWS_PER_INSERT]
        out.append((_INSERT + ",".join(["(?,?,?,?,?,?)"] * len(part)), list(itertools.chain.from_iterable(part))))
    return out


class EmbeddedBulkLoad(BulkLoad):
    """Chunks into the open transaction of `store` (revision `rev`, audit time `at`)."""

    def __init__(self, store: EmbeddedStore, rev: int, at: str, actor: str | None, after_sql: str,
                 props_fields: tuple[str, ...]) -> None:
        self._store, self._db, self._rev, self._at, self._actor = store, store._db, rev, at, actor
        self._props_fields = props_fields
        self._audit = ("INSERT INTO station_audit (station_id, at, actor, action, before, after) "
                       f"SELECT id, ?, ?, 'import', NULL, {after_sql} FROM stations WHERE rowid > ? ORDER BY rowid")
        self._last_rowid = 0
        self._ids: list[str] = []
        self._columns: dict[str, list[np.ndarray]] = {name: [] for name in ("lon", "lat", *INDEX_COLUMNS)}
        self._stored = StoredRows()  # the store's in-memory rows once this commits
        self._open = True
        self._index_thread: threading.Thread | None = None
        self._built: SphereIndex | None = None
        (self._cache_kib,) = self._db.execute("PRAGMA cache_size").fetchone()
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self._writer = Writer("embedded-bulk-load")

    def add(self, chunk: Chunk) -> None:
        ids = chunk["id"].tolist()
        self._ids += ids
        for name, parts in self._columns.items():
            parts.append(chunk[name])
        rows = list(zip(ids, chunk["layer"].tolist(), chunk["lon"].tolist(), chunk["lat"].tolist(),
                        props_texts(chunk, self._props_fields), [self._rev] * len(ids)))
        rows.sort()  # into the id B-tree in key order: appends at the right edge, no page splits
        self._stored.put_many(row[:5] for row in rows)
        statements = insert_statements(rows)
        self._writer.submit(lambda: self._write(statements))

    def _write(self, statements: list[tuple[str, list]]) -> None:
        """In the writer thread (sqlite3_step runs without the GIL): the rows, then their audit rows."""
        for sql, parameters in statements:
            self._db.execute(sql, parameters)
        self._db.execute(self._audit, (self._at, self._actor, self._last_rowid))
        (self._last_rowid,) = self._db.execute("SELECT max(rowid) FROM stations").fetchone()

    def _commit(self) -> None:
        """In the writer thread: the commit (the WAL fsynced: durable), without the checkpoint that
        would copy the whole WAL into the database file inside it; the store runs that beside."""
        db = self._db
        if db.execute("SELECT EXISTS (SELECT 1 FROM tombstones)").fetchone()[0]:
            db.execute("DELETE FROM tombstones WHERE id IN (SELECT id FROM stations WHERE rev=?)", (self._rev,))
        (self._autocheckpoint,) = db.execute("PRAGMA wal_autocheckpoint").fetchone()
        db.execute("PRAGMA wal_autocheckpoint=0")
        try:
            db.execute("COMMIT")
        finally:
            db.execute(f"PRAGMA wal_autocheckpoint={self._autocheckpoint}")

    def done_adding(self) -> None:
        """Build the new index in a thread beside the whole-file checks (cKDTree builds let go of the GIL)."""
        self._index_thread = threading.Thread(target=self._build_index, name="bulk-index", daemon=True)
        self._index_thread.start()

    def _build_index(self) -> None:
        self._built = self._index()

    def _new_index(self) -> SphereIndex | None:
        if self._index_thread is None:
            return self._index()
        self._index_thread.join()
        self._index_thread = None
        return self._built

    def finish(self, progress: Progress | None = None) -> ImportResult:
        if progress:
            progress("writing", 0, len(self._ids))
        self._writer.submit(self._commit)
        index = self._new_index()  # beside the writer's last chunks and the commit
        try:
            self._writer.join()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, sqlite3.Error):
                raise self._store._writable.failure(exc) from exc
            raise
        self._store._writable.succeeded()
        self._open = False
        store = self._store
        try:
            self._db.execute(f"PRAGMA cache_size={self._cache_kib}")
            store._rev = self._rev
            if index is None:
                store._reload()
            else:
                store._index, store._rows = index, self._stored
            store.checkpoint_beside()
        finally:
            store._lock.release()
        if progress:
            progress("writing", len(self._ids), len(self._ids))
        return ImportResult(inserted=len(self._ids), updated=0, ids=tuple(self._ids), unchanged=0)

    def _index(self) -> SphereIndex | None:
        """The store's new index, from the columns written (None if that fails: reload then)."""
        try:
            cols = {name: np.concatenate(parts) if parts else np.empty(0) for name, parts in self._columns.items()}
            index = SphereIndex(self._store.layers)
            index.load_columns(self._ids, cols["lon"].astype(float), cols["lat"].astype(float), cols["layer"],
                               cols["services"], cols["hours"], cols["status"], cols["origins"])
            return index
        except Exception as exc:  # noqa: BLE001 - the rows are what matters; the index is read back
            LOGGER.warning("index from the imported columns failed (%s); reloading from the file", exc)
            return None

    def abort(self) -> None:
        if not self._open:
            return
        self._open = False
        self._writer.join(raise_error=False)
        if self._index_thread is not None:
            self._index_thread.join()
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.execute(f"PRAGMA cache_size={self._cache_kib}")
        except sqlite3.Error as exc:
            LOGGER.warning("rollback of a bulk load failed: %s", exc)
        finally:
            self._store._lock.release()


def open_bulk(store: EmbeddedStore, actor: str | None, after_sql: str,
              props_fields: tuple[str, ...]) -> EmbeddedBulkLoad | None:
    """A bulk load into `store` when it is empty (checked inside BEGIN IMMEDIATE, the file's write
    lock held), else None. The store's lock stays taken until the load finishes or aborts."""
    db = store._db
    store._lock.acquire()
    try:
        db.execute("BEGIN IMMEDIATE")
        store._refresh()
        if db.execute("SELECT EXISTS (SELECT 1 FROM stations)").fetchone()[0]:
            db.execute("ROLLBACK")
            store._lock.release()
            return None
        rev = store._current_rev() + 1
        db.execute("UPDATE meta SET value=? WHERE key='rev'", (str(rev),))
        return EmbeddedBulkLoad(store, rev, utc_text(utc_now()), actor, after_sql, props_fields)
    except BaseException as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        store._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise store._writable.failure(exc) from exc
        raise

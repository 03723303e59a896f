"""A store that opens its database on first use and again after a failure, never at import time.

With PostGIS down when the app starts (a deploy during a database restart), every request
answers 503 `store_unavailable` and /healthz says why; the first request after the database
is back opens the store, with no restart of the app.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from layers.audit import AuditEntry
from layers.errors import StoreUnavailable
from layers.ingest.bulk import BulkLoad
from layers.layerdefs import Layer
from layers.model import Station
from layers.store import Hit, ImportResult, NearestQuery, Page, StationStore

LOGGER = logging.getLogger(__name__)


class DeferredStore(StationStore):
    """Delegates to the store `opener()` returns, retrying the open at most every `retry_s` seconds."""

    def __init__(self, opener: Callable[[], StationStore], layers: Mapping[str, Layer], kind: str,
                 retry_s: float = 1.0) -> None:
        super().__init__(layers)
        self.kind = kind
        self._opener, self._retry_s = opener, retry_s
        self._store: StationStore | None = None
        self._error = "not opened yet"
        self._last_try = float("-inf")
        self._lock = threading.Lock()
        try:
            self._open()
        except StoreUnavailable:
            LOGGER.warning("store unavailable at start (%s); serving 503 until it is back", self._error)

    def _open(self) -> StationStore:
        with self._lock:
            if self._store is None and time.monotonic() - self._last_try >= self._retry_s:
                self._last_try = time.monotonic()
                try:
                    self._store = self._opener()
                except StoreUnavailable as exc:
                    self._error = exc.message
            if self._store is None:
                raise StoreUnavailable(f"the {self.kind} store is unavailable: {self._error}")
            return self._store

    def _inner(self) -> StationStore:
        return self._store if self._store is not None else self._open()

    def nearest(self, query: NearestQuery) -> list[Hit]:
        return self._inner().nearest(query)

    def within(self, lon: float, lat: float, radius_m: float, layers: tuple[str, ...] = ()) -> list[Hit]:
        return self._inner().within(lon, lat, radius_m, layers)

    def in_bbox(self, bbox, layers=(), limit=100, offset=0) -> Page:
        return self._inner().in_bbox(bbox, layers, limit, offset)

    def get(self, station_id: str) -> Station:
        return self._inner().get(station_id)

    def put(self, station: Station, create_only: bool = False, *, actor: str | None = None,
            expect: Collection[str] | None = None) -> bool:
        return self._inner().put(station, create_only, actor=actor, expect=expect)

    def delete(self, station_id: str, *, actor: str | None = None, expect: Collection[str] | None = None) -> None:
        self._inner().delete(station_id, actor=actor, expect=expect)

    def patch(self, station_id: str, change: Callable[[Station], Station], *, actor: str | None = None,
              expect: Collection[str] | None = None) -> Station:
        return self._inner().patch(station_id, change, actor=actor, expect=expect)

    def import_rows(self, stations: Iterable[Station], *, actor: str | None = None) -> ImportResult:
        return self._inner().import_rows(stations, actor=actor)

    def bulk_loader(self, rows: int, *, actor: str | None = None) -> BulkLoad | None:
        return self._inner().bulk_loader(rows, actor=actor)

    def history(self, station_id: str, limit: int = 100) -> list[AuditEntry]:
        return self._inner().history(station_id, limit)

    def revert(self, station_id: str, seq: int, *, actor: str | None) -> Station | None:
        return self._inner().revert(station_id, seq, actor=actor)

    def iter_all(self) -> Iterator[Station]:
        return self._inner().iter_all()

    def count(self) -> int:
        return self._inner().count()

    def health(self) -> dict:
        try:
            return self._inner().health()
        except StoreUnavailable as exc:
            return {"ok": False, "kind": self.kind, "error": exc.message}

    def revision(self) -> str | None:
        return self._inner().revision()

    def close(self) -> None:
        self.run_close_hooks()
        if self._store is not None:
            self._store.close()

"""The store contract: one interface, several implementations (embedded SQLite, PostGIS).

Every store returns frozen dataclasses, never rows or frames, and raises the domain errors
of `layers.errors`. Nearest order is by geodesic distance on the WGS-84 ellipsoid, rounded
to the millimetre, ties broken by id; both stores compute the final distance with the same
function (`geo.distance.geodesic_many_m`), so their answers agree id for id and metre for metre.
"""
from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from geo.hours import SHANGHAI, parse_hours
from layers.audit import AuditEntry
from layers.close_hooks import CloseHooks
from layers.import_result import ImportResult
from layers.layerdefs import Layer
from layers.model import Station

if TYPE_CHECKING:
    from layers.ingest.bulk import BulkLoad

LOGGER = logging.getLogger(__name__)
MAX_K = 100
MAX_LIMIT = 1000
DISTANCE_RESOLUTION_M = 0.001


@dataclass(frozen=True)
class NearestQuery:
    """The k nearest stations to (lon, lat) in WGS-84 degrees matching every given filter."""

    lon: float
    lat: float
    k: int = 5
    layers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    open_now: bool = False
    at: datetime | None = None
    radius_m: float | None = None
    origin: str | None = None

    def moment(self) -> datetime:
        """The time open_now is judged at (Asia/Shanghai); now when not given."""
        return self.at.astimezone(SHANGHAI) if self.at and self.at.tzinfo else (
            self.at.replace(tzinfo=SHANGHAI) if self.at else datetime.now(SHANGHAI)
        )


@dataclass(frozen=True)
class Hit:
    """A station and its geodesic distance in metres from the query point."""

    station: Station
    distance_m: float
    nav: Mapping[str, str] | None = None  # the station's navigation links, when the store keeps them ready


@dataclass(frozen=True)
class Page:
    """One page of a listing: the stations and how many matched in all."""

    stations: tuple[Station, ...]
    number_matched: int


def is_open_at(station: Station, at: datetime) -> bool | None:
    """Whether the station is open at `at` (Asia/Shanghai); None when its hours are unknown."""
    if station.status != "open":
        return False
    if not station.hours:
        return None
    return parse_hours(station.hours).is_open(at)


def attribute_match(station: Station, query: NearestQuery) -> bool:
    """Layer, service, origin and status filters (everything but distance and hours)."""
    if station.status == "removed":
        return False
    if query.layers and station.layer not in query.layers:
        return False
    if query.origin and query.origin not in station.origins:
        return False
    return not query.services or set(query.services).issubset(station.services)


def full_match(station: Station, query: NearestQuery, at: datetime) -> bool:
    """Every non-distance filter of the query, open_now judged at `at`."""
    if not attribute_match(station, query):
        return False
    return not query.open_now or is_open_at(station, at) is True


def sort_key(hit: Hit) -> tuple[float, str]:
    """Nearest order: distance (mm resolution), then id."""
    return (hit.distance_m, hit.station.id)


def round_distance(distance_m: float) -> float:
    """Distances are reported and compared at millimetre resolution."""
    return round(distance_m, 3)


class StationStore(CloseHooks, abc.ABC):
    """The contract every station store implements; coordinates are WGS-84 degrees."""

    kind = "abstract"

    def __init__(self, layers: Mapping[str, Layer]) -> None:
        self.layers = dict(layers)

    @abc.abstractmethod
    def nearest(self, query: NearestQuery) -> list[Hit]:
        """The k nearest matching stations, nearest first (ties by id), exact geodesic order."""

    @abc.abstractmethod
    def within(self, lon: float, lat: float, radius_m: float, layers: tuple[str, ...] = ()) -> list[Hit]:
        """Every station within `radius_m` geodesic metres of (lon, lat), nearest first."""

    @abc.abstractmethod
    def in_bbox(
        self, bbox: tuple[float, float, float, float] | None, layers: tuple[str, ...] = (),
        limit: int = 100, offset: int = 0,
    ) -> Page:
        """Stations (not removed) whose point is in (minlon, minlat, maxlon, maxlat), by id."""

    @abc.abstractmethod
    def get(self, station_id: str) -> Station:
        """One station by id, or StationNotFound."""

    @abc.abstractmethod
    def put(self, station: Station, create_only: bool = False, *, actor: str | None = None,
            expect: Collection[str] | None = None) -> bool:
        """Insert or replace one station atomically, audited as `actor`; True when it was created.
        `expect`: ETags (layers.revision) one of which the stored station must have, checked in the
        write's transaction (PreconditionFailed otherwise)."""

    @abc.abstractmethod
    def delete(self, station_id: str, *, actor: str | None = None, expect: Collection[str] | None = None) -> None:
        """Remove one station atomically, audited as `actor`, or StationNotFound; `expect` as for put."""

    @abc.abstractmethod
    def patch(self, station_id: str, change: Callable[[Station], Station], *, actor: str | None = None,
              expect: Collection[str] | None = None) -> Station:
        """Read-modify-write in one transaction, under the store's write lock: `change(stored)` makes
        the new station from the one stored at that moment; it is written (audited as `actor`) and
        returned. StationNotFound when there is none; `expect` as for put."""

    @abc.abstractmethod
    def import_rows(self, stations: Iterable[Station], *, actor: str | None = None) -> ImportResult:
        """Upsert many stations by id in one transaction: all land or none does. Rows equal to
        the stored ones are neither written nor audited (counted as `unchanged`)."""

    def bulk_loader(self, rows: int, *, actor: str | None = None) -> BulkLoad | None:
        """An open all-or-nothing load of about `rows` new stations (layers.ingest.bulk) when the store is
        empty and can write while the import is still checked; None: use `import_rows`."""
        return None

    @abc.abstractmethod
    def history(self, station_id: str, limit: int = 100) -> list[AuditEntry]:
        """The station's audit entries, newest first; StationNotFound for an id never seen."""

    @abc.abstractmethod
    def revert(self, station_id: str, seq: int, *, actor: str | None) -> Station | None:
        """Restore the `before` state of audit entry `seq` (None: the station is deleted), audited
        as `revert`; AuditEntryNotFound for an unknown seq, Conflict when it is another station's."""

    @abc.abstractmethod
    def iter_all(self) -> Iterator[Station]:
        """Every station, removed ones too, ordered by id."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many stations are stored (removed ones too)."""

    @abc.abstractmethod
    def health(self) -> dict:
        """The store's state for /healthz: {"ok": bool, "kind": ..., "stations": n, ...}."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release files, connections and threads (first running what `on_close` registered)."""

    def revision(self) -> str | None:
        """A text that changes with every committed change of the stations; None: unknown (do not cache)."""
        return None


"""Parks (where a QR poster hangs), their daily scan counts and the public's one-tap reports.

A park is a WGS-84 point with a stable slug. Scan counts are per park per Asia/Shanghai day and
hold nothing about who scanned (no IP, no cookie, no user agent). Reports name a station, a
kind and an optional note (plain text, at most 500 characters; escaping is the page's job).
`ParkStore` is the contract; `layers.embedded.parks` and `layers.postgis.parks` implement it.
"""
from __future__ import annotations

import abc
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from geo.hours import SHANGHAI, rfc3339
from layers.close_hooks import CloseHooks
from layers.counters import HitCounters
from layers.errors import InvalidStation, YizhanError
from layers.model import LONE_SURROGATE, NOT_UNICODE, point_problem

LOGGER = logging.getLogger(__name__)
SAMPLE_PARKS = Path(__file__).resolve().parent.parent / "data" / "sample_parks.geojson"
PARK_KINDS = ("logistics_park", "construction_site", "service_area", "industrial_park")
REPORT_KINDS = ("locked", "wrong_info", "missing_facility", "other")
REPORT_STATUSES = ("open", "resolved")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
ADCODE_RE = re.compile(r"^[1-8][0-9]{5}$")
STATION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]{0,63}$")
NOTE_MAX = 500
TEXT_LIMITS = {"name": 120, "name_en": 200, "address": 300}
LOCKED_WINDOW = timedelta(hours=12)  # "多人反映": distinct clients within this window ...
LOCKED_THRESHOLD = 2                 # ... at least this many
UNDO_WINDOW = timedelta(seconds=30)  # a report can be taken back by its sender this long
WALK_KMH = 4.5   # walking speed behind "步行约 N 分钟"
DRIVE_KMH = 30.0  # town driving speed behind "驾车约 N 分钟"


class InvalidPark(InvalidStation):
    """A park record fails validation; `parameter` names the field."""

    code = "invalid_park"


class InvalidReport(InvalidStation):
    """A report fails validation; `parameter` names the field."""

    code = "invalid_report"


class UndoRefused(YizhanError):
    """A report cannot be taken back: another client's (403), or its UNDO_WINDOW is over (409)."""

    status = 409
    code = "undo_refused"

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message, "id")
        self.status = status


class ParkNotFound(YizhanError):
    """No park with that slug."""

    status = 404
    code = "unknown_park"


class ReportNotFound(YizhanError):
    """No report with that id."""

    status = 404
    code = "not_found"


@dataclass(frozen=True)
class Park:
    """A place where a QR code is posted; `lon`/`lat` in WGS-84 degrees."""

    slug: str
    name: str
    kind: str
    lon: float
    lat: float
    name_en: str | None = None
    address: str | None = None
    adcode: str | None = None

    def to_feature(self) -> dict[str, Any]:
        """The park as a GeoJSON Feature (RFC 7946, WGS-84); id = slug."""
        props = {"slug": self.slug, "name": self.name, "name_en": self.name_en, "kind": self.kind,
                 "address": self.address, "adcode": self.adcode}
        return {"type": "Feature", "id": self.slug, "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
                "properties": props}


@dataclass(frozen=True)
class Report:
    """One report from the public about one station; times are aware UTC datetimes."""

    id: int
    station_id: str
    kind: str
    note: str
    created_at: datetime
    status: str = "open"
    resolved_at: datetime | None = None
    client: str | None = None  # an HMAC of the sender under the day's secret (never shown); None: unknown
    repeat: bool = False       # add_report found this sender's report of this kind and station today

    def to_json(self) -> dict[str, Any]:
        """The report as the API answers it (ISO 8601 times)."""
        return {"id": self.id, "station_id": self.station_id, "kind": self.kind, "note": self.note,
                "created_at": rfc3339(self.created_at), "status": self.status,
                "resolved_at": rfc3339(self.resolved_at) if self.resolved_at else None}


# ---- validation ----------------------------------------------------------------------------
def check_slug(slug: Any) -> str:
    """The slug when it is 1-64 lowercase letters, digits and inner hyphens; InvalidPark otherwise."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise InvalidPark("slug must be 1-64 lowercase letters, digits or inner hyphens", "slug")
    return slug


def _text(props: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = props.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidPark(f"{key} is required", key)
        return None
    if not isinstance(value, str):
        raise InvalidPark(f"{key} must be text", key)
    value = value.strip()
    if len(value) > TEXT_LIMITS[key]:
        raise InvalidPark(f"{key} must be at most {TEXT_LIMITS[key]} characters", key)
    if LONE_SURROGATE.search(value):
        raise InvalidPark(f"{key} {NOT_UNICODE}", key)
    return value


def _coordinate(value: Any, key: str, limit: float) -> float:
    # the range test alone also refuses NaN and infinities, and compares a huge integer exactly
    # (math.isfinite would convert 10**400 to a float first and overflow)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -limit <= value <= limit:
        raise InvalidPark(f"{key} must be a number between {-limit:g} and {limit:g}", key)
    return float(value)


def park_from_feature(feature: Any, slug: str | None = None) -> Park:
    """A validated Park from a GeoJSON Feature (WGS-84 Point); `slug` (from the URL) wins over the body's."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InvalidPark("the body must be a GeoJSON Feature", "type")
    geometry = feature.get("geometry")
    coords = geometry.get("coordinates") if isinstance(geometry, Mapping) and geometry.get("type") == "Point" else None
    why = point_problem(coords) if isinstance(coords, list) else "coordinates must be [lon, lat]"
    if why:
        raise InvalidPark(f"geometry must be a Point [lon, lat]: {why}", "geometry")
    props = feature.get("properties") or {}
    if not isinstance(props, Mapping):
        raise InvalidPark("properties must be an object", "properties")
    body_slug = props.get("slug") or feature.get("id")
    if slug is not None and body_slug not in (None, slug):
        raise InvalidPark("the slug in the body differs from the one in the URL", "slug")
    kind = props.get("kind")
    if kind not in PARK_KINDS:
        raise InvalidPark(f"kind must be one of {', '.join(PARK_KINDS)}", "kind")
    adcode = props.get("adcode")
    if adcode not in (None, "") and (not isinstance(adcode, str) or not ADCODE_RE.match(adcode)):
        raise InvalidPark("adcode must be a 6-digit county code", "adcode")
    return Park(slug=check_slug(slug if slug is not None else body_slug), name=_text(props, "name", True),
                kind=kind, lon=_coordinate(coords[0], "lon", 180), lat=_coordinate(coords[1], "lat", 90),
                name_en=_text(props, "name_en"), address=_text(props, "address"), adcode=adcode or None)


def check_report(station_id: Any, kind: Any, note: Any) -> tuple[str, str, str]:
    """(station_id, kind, note) checked: a station id, one of REPORT_KINDS, a note of at most NOTE_MAX characters."""
    if not isinstance(station_id, str) or not STATION_ID_RE.match(station_id):
        raise InvalidReport("station_id must be a station id", "station_id")
    if kind not in REPORT_KINDS:
        raise InvalidReport(f"kind must be one of {', '.join(REPORT_KINDS)}", "kind")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise InvalidReport("note must be text", "note")
    note = note.replace("\x00", "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidReport(f"note must be at most {NOTE_MAX} characters", "note")
    if LONE_SURROGATE.search(note):
        raise InvalidReport(f"note {NOT_UNICODE}", "note")
    return station_id, kind, note


def read_geojson_parks(path: str | Path = SAMPLE_PARKS) -> Iterator[Park]:
    """Parks of a GeoJSON FeatureCollection file (WGS-84), validated."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for feature in data.get("features", []):
        yield park_from_feature(feature)


# ---- small pure helpers --------------------------------------------------------------------
def shanghai_date(at: datetime | None = None) -> date:
    """The calendar date in Asia/Shanghai of `at` (aware; default now)."""
    return (at or datetime.now(UTC)).astimezone(SHANGHAI).date()


def utc_now() -> datetime:
    """Now, as an aware UTC datetime (what reports store)."""
    return datetime.now(UTC)


def travel_minutes(distance_m: float) -> tuple[int, int]:
    """(walking, driving) minutes for a straight-line distance in metres at WALK_KMH and DRIVE_KMH, at least 1."""
    walk = distance_m / (WALK_KMH * 1000 / 60)
    drive = distance_m / (DRIVE_KMH * 1000 / 60)
    return max(1, round(walk)), max(1, round(drive))


# ---- the contract --------------------------------------------------------------------------
class ParkStore(CloseHooks, abc.ABC):
    """Parks, daily scan counts and reports, kept in the same backend as the stations."""

    kind = "abstract"
    counters: HitCounters | None = None  # the shared hit counters in the same database


    @abc.abstractmethod
    def list_parks(self) -> list[Park]:
        """Every park, by slug."""

    @abc.abstractmethod
    def get_park(self, slug: str) -> Park:
        """One park, or ParkNotFound."""

    @abc.abstractmethod
    def put_park(self, park: Park) -> bool:
        """Insert or replace one park; True when it was created."""

    @abc.abstractmethod
    def delete_park(self, slug: str) -> None:
        """Remove one park (its scan counts stay for the record), or ParkNotFound."""

    @abc.abstractmethod
    def seed(self, parks: Iterable[Park]) -> int:
        """Insert `parks` when there are none yet (atomically, once); how many were inserted."""

    def count_scan(self, slug: str, day: date) -> None:
        """Add one scan to `slug` on `day` (an Asia/Shanghai date)."""
        self.add_scans({(slug, day): 1})

    @abc.abstractmethod
    def add_scans(self, counts: Mapping[tuple[str, date], int]) -> None:
        """Add `counts` ({(slug, day): n}) in one transaction: all land or none does."""

    @abc.abstractmethod
    def scan_days(self, slug: str, since: date | None = None) -> list[tuple[date, int]]:
        """(day, scans) of one park from `since` on, oldest first; days without scans are absent."""

    @abc.abstractmethod
    def scan_totals(self, since: date | None = None) -> dict[str, int]:
        """Scans per park slug from `since` (an Asia/Shanghai date) on; parks never scanned are absent."""

    @abc.abstractmethod
    def add_report(self, station_id: str, kind: str, note: str, at: datetime, client: str | None = None) -> Report:
        """Store one report (already checked with `check_report`). With `client` (a day-keyed HMAC of the
        sender), a kind counts once per client per station per Asia/Shanghai day: when that client already
        reported it today, that report comes back with `repeat=True` and nothing is written."""

    @abc.abstractmethod
    def _delete_report(self, report_id: int) -> None:
        """Remove one report (its sender took it back)."""

    def withdraw_report(self, report_id: int, client: str | None, now: datetime | None = None) -> Report:
        """Take back a report: only by the client that sent it, within UNDO_WINDOW of sending it.
        ReportNotFound, or UndoRefused (403: another client's; 409: too late)."""
        report = self.get_report(report_id)
        if client is None or report.client is None or report.client != client:
            raise UndoRefused("only the phone that sent a report can take it back", 403)
        if (now or utc_now()) - report.created_at > UNDO_WINDOW:
            raise UndoRefused(f"a report can be taken back within {UNDO_WINDOW.seconds} s only")
        self._delete_report(report_id)
        return report

    @abc.abstractmethod
    def list_reports(self, status: str | None = "open", station_id: str | None = None,
                     limit: int = 200) -> list[Report]:
        """Reports, newest first, filtered by status and station."""

    @abc.abstractmethod
    def get_report(self, report_id: int) -> Report:
        """One report, or ReportNotFound."""

    @abc.abstractmethod
    def resolve_report(self, report_id: int, at: datetime) -> Report:
        """Mark a report resolved at `at` (idempotent), or ReportNotFound."""

    @abc.abstractmethod
    def locked_counts(self, since: datetime) -> dict[str, int]:
        """Distinct clients with an open `locked` report per station id created at or after `since` (a report
        without a client counts as one client of its own)."""

    @abc.abstractmethod
    def health(self) -> dict:
        """{"ok": bool, "kind": ..., "parks": n}."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release files and connections."""

    def flagged(self, now: datetime | None = None) -> set[str]:
        """Station ids with open `locked` reports from at least LOCKED_THRESHOLD distinct clients in the last
        LOCKED_WINDOW (one phone tapping twice is one client)."""
        since = (now or utc_now()) - LOCKED_WINDOW
        return {sid for sid, n in self.locked_counts(since).items() if n >= LOCKED_THRESHOLD}

"""The audit trail of station writes: its entries and the JSON snapshots of a station they keep.

Every store writes one audit row per changed station in the same transaction as the change:
(seq, station_id, at UTC, actor, action, before, after). A snapshot is JSON, either an object
keyed by Station field name (id, lon, lat in WGS-84 degrees, properties; the embedded store)
or, more compact, an array of the fields in `STATION_FIELDS` order (PostGIS: a bulk import
writes one per row). Keys left out, nulls and a shorter array take the Station defaults, so
Station fields may only ever be appended.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from layers.errors import Conflict, InvalidQuery, YizhanError
from layers.model import STATION_FIELDS, Station

ACTIONS = ("create", "update", "delete", "import", "revert")
MAX_SEQ = 2**63 - 1
MAX_HISTORY = 1000
_TUPLES = frozenset({"services", "origins", "items"})


@dataclass(frozen=True)
class AuditEntry:
    """One audited write: the station's state before and after (None: absent), `at` in UTC."""

    seq: int
    station_id: str
    at: datetime
    actor: str | None
    action: str
    before: Station | None
    after: Station | None


class AuditEntryNotFound(YizhanError):
    """No audit entry with that sequence number."""

    status = 404
    code = "not_found"


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def utc_text(at: datetime) -> str:
    """An aware datetime as sortable UTC ISO text with microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def snapshot_json(station: Station) -> str:
    """The station as compact snapshot JSON (empty values left out)."""
    data: dict[str, Any] = {"id": station.id, "lon": station.lon, "lat": station.lat}
    for key, value in station.properties().items():
        if value not in (None, []):
            data[key] = value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def snapshot_array_json(station: Station) -> str:
    """The station as a snapshot array: its fields in STATION_FIELDS order."""
    return json.dumps([list(v) if isinstance(v, tuple) else v for v in (getattr(station, f) for f in STATION_FIELDS)],
                      ensure_ascii=False, separators=(",", ":"))


def station_from_snapshot(data: Mapping[str, Any] | list | str | None) -> Station | None:
    """The Station a snapshot (an object, an array, or its JSON text) describes; None for None."""
    if data is None:
        return None
    if isinstance(data, str):
        data = json.loads(data)
    if isinstance(data, list):
        data = dict(zip(STATION_FIELDS, data))
    kept: dict[str, Any] = {}
    for key in STATION_FIELDS:
        value = data.get(key)
        if key in _TUPLES:
            kept[key] = tuple(value or ())
        elif value is not None:
            kept[key] = value
    return Station(**kept)


def check_seq(seq: Any) -> int:
    """A valid audit sequence number (a positive 64-bit integer), or InvalidQuery."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise InvalidQuery(f"seq must be an integer between 1 and {MAX_SEQ}", parameter="seq")
    return seq


def check_limit(limit: Any) -> int:
    """A valid history length (1..MAX_HISTORY), or InvalidQuery."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY:
        raise InvalidQuery(f"limit must be an integer between 1 and {MAX_HISTORY}", parameter="limit")
    return limit


def revert_target(entry_station_id: str, station_id: str, seq: int) -> None:
    """Conflict unless the audit entry `seq` belongs to `station_id`."""
    if entry_station_id != station_id:
        raise Conflict(f"audit entry {seq} belongs to another station", parameter="seq")


def entry_not_found(seq: int) -> AuditEntryNotFound:
    return AuditEntryNotFound(f"no audit entry with seq {seq}", parameter="seq")

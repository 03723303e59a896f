"""Every station's stored row, kept in memory in a compact form: answers need no database read.

A nearest answer names a handful of stations out of all of them, scattered at random over the
country, so a bounded cache of Station records misses almost every time and each answer paid a
SQLite query plus JSON parsing for its rows. This table holds each station as it is stored —
(layer, lon, lat, UTF-8 props JSON) — about 450 bytes a station in CPython (45 MB per 100,000
stations per process; a Station object would take ~1.2 kB), and builds Station records on
demand. The store that owns it keeps it in step with what is committed, like its index.
"""
from __future__ import annotations

import dataclasses
import operator
import sys
from collections.abc import Iterable

import orjson

from geo.nav import nav_from_parts, nav_parts
from layers.model import STATION_FIELDS, Station

Row = tuple  # (id, layer, lon, lat, props JSON text or UTF-8 bytes): the embedded store's row
_LISTS = ("services", "origins", "items")


def station_from_row(sid: str, layer: str, lon: float, lat: float, props: str | bytes) -> Station:
    """The Station of a stored row; props is the JSON object of its other fields (lists for tuples).

    Stored rows were validated when written, so the record is filled in directly rather than
    through the dataclass's keyword constructor: 1.4 us instead of 5.7 us, five times an answer
    (tests/layers/memory/test_stored_rows.py checks it equals the constructed one field for field).
    """
    data = orjson.loads(props)
    for key in _LISTS:
        value = data.get(key)
        if value is not None:
            data[key] = tuple(value)
    station = _new(Station)
    fields = station.__dict__
    fields.update(_DEFAULTS)
    fields.update(data)
    fields["id"], fields["layer"], fields["lon"], fields["lat"] = sid, layer, lon, lat
    return station


_new = object.__new__
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Station) if f.default is not dataclasses.MISSING}
if set(_DEFAULTS) | {"id", "layer", "lon", "lat", "name"} != set(STATION_FIELDS):
    raise RuntimeError("layers.memory.stored_rows: every Station field but id, layer, lon, lat and name needs a default")


class StoredRows:
    """id -> (layer, lon, lat, props bytes, nav parts or None) for every stored station; not
    thread-safe (the owner locks). The nav parts (`geo.nav.nav_parts`, ~150-300 bytes) are made
    the first time a station is answered and kept with its row until the row changes."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, float, float, bytes, str | None]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def replace_all(self, rows: Iterable[Row]) -> None:
        """Forget everything and hold exactly `rows`."""
        self._rows = {}
        self.put_many(rows)

    def put_many(self, rows: Iterable[Row]) -> None:
        table, intern = self._rows, sys.intern
        for sid, layer, lon, lat, props in rows:
            table[sid] = (intern(layer), lon, lat, props.encode() if isinstance(props, str) else props, None)

    def remove(self, station_id: str) -> None:
        self._rows.pop(station_id, None)

    def stations(self, ids: Iterable[str]) -> dict[str, Station]:
        """Stations by id; ids not held are left out."""
        table = self._rows
        found: dict[str, Station] = {}
        for sid in ids:
            row = table.get(sid)
            if row is not None:
                found[sid] = station_from_row(sid, *row[:4])
        return found

    def prepare_nav(self) -> None:
        """Make the nav parts of every row that has none (~4 us a station: 0.4 s per 100,000), so
        that answers only assemble links; a worker does this once, after loading everything."""
        table = self._rows
        for sid, row in table.items():
            if row[4] is None:
                data = orjson.loads(row[3])
                table[sid] = (*row[:4], nav_parts(row[1], row[2], data["name"], data.get("address")))

    def stations_with_nav(self, ids: Iterable[str]) -> dict[str, tuple[Station, dict[str, str]]]:
        """(Station, its navigation links) by id; ids not held are left out."""
        table = self._rows
        found: dict[str, tuple[Station, dict[str, str]]] = {}
        for sid in ids:
            row = table.get(sid)
            if row is None:
                continue
            station = station_from_row(sid, *row[:4])
            parts = row[4]
            if parts is None:
                parts = nav_parts(station.lon, station.lat, station.name, station.address)
                table[sid] = (*row[:4], parts)
            found[sid] = (station, nav_from_parts(parts))
        return found


PROPS_FIELDS = tuple(f for f in STATION_FIELDS if f not in ("id", "lon", "lat", "layer"))
_PROPS_OF = operator.attrgetter(*PROPS_FIELDS)


def props_json(station: Station) -> bytes:
    """The stored props of a station: its fields but id, layer, lon and lat, in field order, empty
    ones left out, tuples as lists (the same text json.dumps(ensure_ascii=False, compact) writes: tested)."""
    return orjson.dumps({key: value for key, value in zip(PROPS_FIELDS, _PROPS_OF(station))
                         if value is not None and value != ()})


def row_of(station: Station) -> Row:
    """The stored row of a station: (id, layer, lon, lat, props JSON)."""
    return station.id, station.layer, station.lon, station.lat, props_json(station)

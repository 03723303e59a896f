"""Stations as PostGIS rows: the columns, row to Station, and the COPY text a bulk write sends."""
from __future__ import annotations

import io
import operator
import re
from datetime import date
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.sql

from layers.model import Station
from layers.postgis.schema import _LOCK_KEY, migrations, upgrade  # noqa: F401  (re-exported)

COLUMNS = ("id", "layer", "lon", "lat", "name", "name_en", "address", "adcode", "phone", "hours",
           "services", "access", "status", "origins", "items", "operator", "source", "verified_at",
           "verified_by", "location_precision", "hours_text")


_ARRAYS = frozenset({"services", "origins", "items"})


_SELECT = ", ".join(COLUMNS)


_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"


_TEMP_COLUMNS = ", ".join(
    f"{c} {'double precision' if c in ('lon', 'lat') else 'date' if c == 'verified_at' else 'text[]' if c in _ARRAYS else 'text'}"
    for c in COLUMNS
)


_UPSERT_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "id") + ", updated_at = now()"


def _row_to_station(row: tuple) -> Station:
    """A Station from a row of COLUMNS (arrays to tuples, the date to ISO text)."""
    (sid, layer, lon, lat, name, name_en, address, adcode, phone, hours, services, access, status,
     origins, items, operator, source, verified_at, verified_by, precision, hours_text) = row[:21]
    return Station(
        id=sid, lon=lon, lat=lat, name=name, layer=layer, name_en=name_en, address=address, adcode=adcode,
        phone=phone, hours=hours, services=tuple(services or ()), access=access, status=status,
        origins=tuple(origins or ()), items=tuple(items or ()), operator=operator, source=source,
        verified_at=verified_at.isoformat() if isinstance(verified_at, date) else verified_at,
        verified_by=verified_by, location_precision=precision or "exact", hours_text=hours_text,
    )


def _values(station: Station) -> list[Any]:
    return [list(v) if isinstance(v, tuple) else v for v in (getattr(station, c) for c in COLUMNS)]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


_NEEDS_QUOTING = re.compile(r'[\\"]')


_COPY_CHUNK = 5000


def _text_column(values: list) -> list[str]:
    """Text values (or NULL) in COPY text format; escaping only when some value needs it."""
    texts = [None if v is None else str(v) for v in values]
    if _NEEDS_ESCAPE.search("".join([t for t in texts if t is not None])):
        texts = [None if t is None else t.translate(_COPY_ESCAPES) for t in texts]
    return ["\\N" if t is None else t for t in texts]


def _array_column(values: list) -> list[str]:
    """text[] values as quoted array literals in COPY text format."""
    if _NEEDS_QUOTING.search("".join(["".join(words) for words in values])):
        values = [[w.replace("\\", "\\\\").replace('"', '\\"') for w in words] for words in values]
    return _text_column(['{"' + '","'.join(words) + '"}' if words else "{}" for words in values])


def _copy_text(stations: list[Station]) -> str:
    """Stations as lines of COPY text, columns in COLUMNS order (built column by column: fast)."""
    columns = []
    for name in COLUMNS:
        values = list(map(operator.attrgetter(name), stations))
        if name in ("lon", "lat"):
            columns.append([repr(float(v)) for v in values])  # repr: the exact double
        elif name in _ARRAYS:
            columns.append(_array_column(values))
        else:
            columns.append(_text_column(values))
    return "".join(["\t".join(row) + "\n" for row in zip(*columns)])


class _CopySource(io.TextIOBase):
    """A file-like view of stations as COPY text, made a chunk at a time (errors are kept for the caller)."""

    def __init__(self, stations: list[Station]) -> None:
        self._stations = stations
        self._next = 0
        self._buffer = ""
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        try:
            while self._next < len(self._stations) and (size < 0 or len(self._buffer) < size):
                chunk = self._stations[self._next: self._next + _COPY_CHUNK]
                self._next += len(chunk)
                self._buffer += _copy_text(chunk)
        except BaseException as exc:  # psycopg2 would report it as QueryCanceled: keep it
            self.error = exc
            raise
        cut = len(self._buffer) if size < 0 else size
        text, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return text

    readline = read


def _copy(cur, table: str, stations: list[Station]) -> None:
    source = _CopySource(stations)
    try:
        cur.copy_expert(f"COPY {table} ({_SELECT}) FROM STDIN", source, size=1 << 16)
    except psycopg2.Error:
        if source.error is not None:  # psycopg2 reports it as QueryCanceled: raise the real one
            raise source.error from None
        raise

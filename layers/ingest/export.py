"""Exporting stations (WGS-84) as GeoJSON, CSV (UTF-8 with BOM, for Excel) or GeoPackage (EPSG:4326).

GeoJSON and CSV are produced as a stream of byte chunks (a few thousand stations at a time), so
a large export never sits in memory as one string. Lists are joined by `;` in CSV and
GeoPackage (the importer splits them again). CSV cells that Excel would run as a formula
(starting with `=`, `+`, `-` or `@`) get a leading `'`, which the importer removes again, so an
export imports back unchanged. Removed stations are left out unless asked for.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import orjson

from layers.model import Station
from layers.store import StationStore

LOGGER = logging.getLogger(__name__)
EXPORT_FORMATS = ("geojson", "csv", "gpkg")
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
               "gpkg": "application/geopackage+sqlite3"}
SUFFIXES = {"geojson": "geojson", "csv": "csv", "gpkg": "gpkg"}
CSV_COLUMNS = ("id", "layer", "name", "name_en", "lon", "lat", "address", "adcode", "phone", "hours", "services",
               "access", "status", "origins", "items", "operator", "source", "verified_at", "verified_by",
               "location_precision", "hours_text")
LIST_SEPARATOR = ";"
_FORMULA_START = "=+-@"
_CHUNK = 5000


def exported(store: StationStore, layers: tuple[str, ...] = (), include_removed: bool = False) -> Iterator[Station]:
    """The stations to export, by id: every layer or those in `layers`, removed ones only when asked."""
    for station in store.iter_all():
        if (include_removed or station.status != "removed") and (not layers or station.layer in layers):
            yield station


def _batches(stations: Iterable[Station], size: int = _CHUNK) -> Iterator[list[Station]]:
    it = iter(stations)
    while batch := list(islice(it, size)):
        yield batch


def geojson_chunks(stations: Iterable[Station]) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (RFC 7946, WGS-84) as byte chunks."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in _batches(stations):
        body = b",".join(orjson.dumps(station.to_feature()) for station in batch)
        yield body if first else b"," + body
        first = False
    yield b"]}\n"


def excel_safe(text: str) -> str:
    """A cell Excel will not run as a formula; `unescape_cell` turns it back exactly."""
    if text and (text[0] in _FORMULA_START or (text[0] == "'" and len(text) > 1 and text[1] in _FORMULA_START + "'")):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """Undo `excel_safe`: a leading `'` before `=`, `+`, `-`, `@` or `'` is dropped."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START + "'":
        return text[1:]
    return text


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if name in ("lon", "lat"):
        return repr(float(value))  # the exact double: an export imports back bit for bit
    if isinstance(value, tuple):
        value = LIST_SEPARATOR.join(value)
    return excel_safe(str(value))


def csv_chunks(stations: Iterable[Station]) -> Iterator[bytes]:
    """CSV for Excel: UTF-8 with BOM, CRLF, header CSV_COLUMNS, lists joined by `;`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    for batch in _batches(stations):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(name, getattr(s, name)) for name in CSV_COLUMNS] for s in batch)
        yield buffer.getvalue().encode("utf-8")


def write_gpkg(stations: Iterable[Station], path: Path, layer: str = "stations") -> int:
    """Write a GeoPackage (EPSG:4326, layer `stations`) in batches; how many stations it holds."""
    import pyogrio
    import shapely

    fields = [name for name in CSV_COLUMNS if name not in ("lon", "lat")]
    written = 0
    for batch in _batches(stations, 50_000):
        points = shapely.points(np.array([s.lon for s in batch]), np.array([s.lat for s in batch]))
        data = [np.array([None if getattr(s, f) is None else (LIST_SEPARATOR.join(getattr(s, f))
                          if isinstance(getattr(s, f), tuple) else getattr(s, f)) for s in batch], dtype=object)
                for f in fields]
        pyogrio.raw.write(str(path), shapely.to_wkb(points), data, fields, layer=layer, driver="GPKG",
                          geometry_type="Point", crs="EPSG:4326", encoding="UTF-8", append=written > 0)
        written += len(batch)
    if written == 0:  # an empty layer still opens in QGIS
        pyogrio.raw.write(str(path), np.array([], dtype=object), [np.array([], dtype=object) for _ in fields],
                          fields, layer=layer, driver="GPKG", geometry_type="Point", crs="EPSG:4326",
                          encoding="UTF-8")
    return written

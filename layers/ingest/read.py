"""Reading station files into one raw table: CSV, GeoJSON, GeoPackage, Shapefile (zipped or not).

Every reader returns a `RawTable`: one column of raw values per station field (strings, numbers,
lists or None, as the file holds them), the raw x/y (lon/lat in the file's CRS), and where each
row sits in the file (CSV: line number, the header being line 1; other formats: feature index
from 0). Nothing is validated here; `layers.ingest.check` does that, column by column.
"""
from __future__ import annotations

import gc
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from layers.ingest.csv_file import CsvStream, detect_encoding, read_csv, stream_csv
from layers.ingest.table import (
    InvalidImportFile,
    RawTable,
)
from layers.model import STATION_FIELDS, point_problem

LOGGER = logging.getLogger(__name__)
FORMATS = ("csv", "geojson", "gpkg", "shp", "xlsx", "xls")


def _zip_of_office(head: bytes) -> bool:
    """Whether a zip's first member (named at byte 30 of its local header) is an Office package's."""
    size = int.from_bytes(head[26:28], "little")
    first = head[30:30 + size]
    return first.startswith((b"[Content_Types].xml", b"xl/", b"docProps/", b"_rels/"))


def detect_format(name: str | None, head: bytes, content_type: str | None = None) -> str:
    """csv | geojson | gpkg | shp from magic bytes, then the media type, then the file name."""
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Excel 97-2003
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if _zip_of_office(head) or Path(name or "").suffix.lower() == ".xlsx" else "shp"
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("application/json", "application/geo+json"):
        return "geojson"
    if media in ("text/csv", "application/csv", "text/plain"):
        return "csv"
    suffix = Path(name or "").suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".shp":
        return "shp"
    if suffix == ".gpkg":
        return "gpkg"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "geojson" if stripped[:1] in (b"{", b"[") else "csv"


def read_geojson(source: Path | bytes) -> RawTable:
    """A GeoJSON FeatureCollection (or one Feature) of Points as a RawTable; list properties stay lists."""
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        doc = orjson.loads(data.decode(detect_encoding(data)))  # strict: no RecursionError, lone surrogates or 10**400
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidImportFile(f"the body is not JSON: {str(exc)[:200]}", "body") from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InvalidImportFile("GeoJSON must be a FeatureCollection (or a Feature)", "body")
    features = doc["features"]
    n = len(features)
    columns = {name: np.full(n, None, dtype=object) for name in STATION_FIELDS if name not in ("lon", "lat")}
    x, y = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    ignored: set[str] = set()
    problems: dict[int, str] = {}
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems[i] = "not a GeoJSON Feature"
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems[i] = "properties must be an object"
            props = {}
        for key, value in props.items():
            if key in columns:
                columns[key][i] = value
            elif key not in _READ_ONLY:
                ignored.add(key)
        if feature.get("id") is not None:
            columns["id"][i] = feature["id"]
        x[i], y[i], why = _point_of(feature.get("geometry"))
        if why:
            problems[i] = why
    used = {k: v for k, v in columns.items() if k in ("id", "name", "layer") or any(val is not None for val in v)}
    return RawTable("geojson", used, x, y, np.arange(n), "feature", _legacy_crs(doc), "utf-8",
                    sorted(ignored), problems)


_READ_ONLY = frozenset({"distance_m", "open_now", "hours_today", "next_open", "nav", "layer_name", "flags"})


def _point_of(geometry: Any) -> tuple[Any, Any, str | None]:
    if geometry is None:
        return None, None, None  # reported as missing coordinates
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        return None, None, f"geometry must be a Point, not {kind}"
    coords = geometry.get("coordinates")
    why = point_problem(coords)  # 3-D points are refused, with the reason
    if why:
        return (coords[0], coords[1], f"geometry {why}") if isinstance(coords, list) and len(coords) > 2 \
            else (None, None, f"geometry {why}")
    if any(isinstance(v, str) for v in coords):  # as for one station: JSON numbers, never text
        return coords[0], coords[1], "geometry coordinates must be numbers, not text like \"106.7\""
    return coords[0], coords[1], None


def _legacy_crs(doc: dict) -> str | None:
    """The pre-RFC 7946 `crs` member's name (e.g. EPSG:4490), if the file has one."""
    crs = doc.get("crs")
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    return name if isinstance(name, str) else None


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a million acyclic records are made (it would rescan
    them again and again); reference counting still frees everything."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def read_file(path: Path, fmt: str | None = None, stream_rows: int | None = None) -> RawTable | CsvStream:
    """Read a station file, its format from `fmt` or detected (magic bytes, then the name); a CSV
    as a CsvStream of `stream_rows` rows a chunk when that is given (checked as it is read)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidImportFile(f"no such file: {path}", "file")
    with open(path, "rb") as handle:
        head = handle.read(64)
    fmt = fmt or detect_format(path.name, head)
    if fmt == "csv" and stream_rows:
        return stream_csv(path, stream_rows)
    readers = {"csv": read_csv, "geojson": read_geojson}
    with gc_paused():
        if fmt in readers:
            return readers[fmt](path)
        from layers.ingest.gis import read_ogr  # GDAL only when a GIS file comes

        return read_ogr(path, fmt)


def read_body(body: bytes, content_type: str | None) -> RawTable:
    """Read a request body: CSV or GeoJSON from memory, GeoPackage / zipped Shapefile through a temp file."""
    fmt = detect_format(None, body[:64], content_type)
    if fmt in ("csv", "geojson"):
        with gc_paused():
            return read_csv(body) if fmt == "csv" else read_geojson(body)
    from layers.ingest.gis import read_ogr

    with tempfile.TemporaryDirectory(prefix="yizhan-import-") as tmp:
        target = Path(tmp) / ("upload.gpkg" if fmt == "gpkg" else "upload.zip")
        target.write_bytes(body)
        return read_ogr(target, fmt, shown="the uploaded file")  # errors never name the temp path

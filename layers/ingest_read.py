"""Reading station files into one raw table: CSV, GeoJSON, GeoPackage, Shapefile (zipped or not).

Every reader returns a `RawTable`: one column of raw values per station field (strings, numbers,
lists or None, as the file holds them), the raw x/y (lon/lat in the file's CRS), and where each
row sits in the file (CSV: line number, the header being line 1; other formats: feature index
from 0). Nothing is validated here; `layers.ingest_check` does that, column by column.
"""
from __future__ import annotations

import codecs
import gc
import io
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from layers.errors import YizhanError
from layers.model import STATION_FIELDS, point_problem

LOGGER = logging.getLogger(__name__)
FORMATS = ("csv", "geojson", "gpkg", "shp", "xlsx", "xls")
_CHUNK = 1 << 20

# Header variants per field (layers/ingest_data/headers.json: data, not code), compared after
# lower-casing and dropping spaces and anything in brackets.
HEADERS_FILE = Path(__file__).resolve().parent / "ingest_data" / "headers.json"
ALIASES: dict[str, tuple[str, ...]] = {field: tuple(names) for field, names in
                                       orjson.loads(HEADERS_FILE.read_bytes())["aliases"].items()}
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")


class InvalidImportFile(YizhanError):
    """The file as a whole cannot be read (format, encoding, columns, CRS): nothing is imported."""

    status = 400
    code = "invalid_import_file"


@dataclass
class RawTable:
    """Rows of a station file before validation; x/y are in the file's (or declared) CRS."""

    format: str
    columns: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    positions: np.ndarray
    position_kind: str = "feature"  # "line" for CSV
    file_crs: str | None = None
    encoding: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    geometry_errors: dict[int, str] = field(default_factory=dict)  # row -> why its geometry is unusable
    column_map: dict[str, str] = field(default_factory=dict)  # header as written -> station field
    header_row: int | None = None  # a sheet's row (from 1) that held the headers

    def __len__(self) -> int:
        return len(self.positions)


def canonical_column(header: str) -> str | None:
    """The station field a header names (`经度` -> lon, `lng` -> lon, ...), or None."""
    key = _BRACKETS.sub("", str(header).replace("\ufeff", "")).strip().lower().replace(" ", "")
    return _LOOKUP.get(key)


def map_columns(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """{field: header} for known headers, and the ignored headers; two headers for one field fail."""
    chosen: dict[str, str] = {}
    ignored = []
    for header in headers:
        name = canonical_column(header)
        if name is None:
            ignored.append(str(header))
        elif name in chosen:
            raise InvalidImportFile(f"columns {chosen[name]!r} and {header!r} both give {name}", "body")
        else:
            chosen[name] = header
    return chosen, ignored


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


def _zip_of_office(head: bytes) -> bool:
    """Whether a zip's first member (named at byte 30 of its local header) is an Office package's."""
    size = int.from_bytes(head[26:28], "little")
    first = head[30:30 + size]
    return first.startswith((b"[Content_Types].xml", b"xl/", b"docProps/", b"_rels/"))


def detect_encoding(source: Path | bytes) -> str:
    """`utf-8-sig` when the bytes are valid UTF-8 (BOM or not), else `gb18030` (GBK's superset)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        if isinstance(source, bytes):
            decoder.decode(source, final=True)
        else:
            with open(source, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def read_csv(source: Path | bytes, nrows: int | None = None) -> RawTable:
    """A CSV (comma or tab separated; UTF-8 with or without BOM, or GBK/GB18030) as a RawTable
    (its first `nrows` rows when given)."""
    import pandas as pd

    encoding, sep, raw = _open_csv(source)
    with raw, _csv_errors():
        frame = pd.read_csv(raw, **_csv_options(encoding, sep), nrows=nrows)
    return _OfFrames(source, encoding, frame.columns).table(frame, 0)


class CsvStream:
    """A CSV read a chunk of rows at a time (pandas' chunked reader), for an import that checks
    and writes chunk by chunk while the rest is still being read. `parts()` yields RawTables of
    consecutive rows, each exactly the rows `read_csv` gives (positions counted from the file's
    start; tested); `finished()` is then the table of every row, without its cells."""

    format = "csv"
    position_kind = "line"
    file_crs = None

    def __init__(self, path: Path, rows: int) -> None:
        import pandas as pd

        encoding, sep, self._raw = _open_csv(path)
        self.encoding = encoding.replace("-sig", "")
        self._rows = rows
        self._reader = pd.read_csv(self._raw, **_csv_options(encoding, sep), iterator=True)
        self._first = self._next(max(rows // 4, 1))  # a quarter first: the writer starts sooner
        if self._first is None:
            self._raw.close()
            raise _EmptyStream
        self._frames = _OfFrames(path, encoding, self._first.columns)
        self.ignored_columns = self._frames.ignored
        self.column_map = {header: name for name, header in self._frames.chosen.items()}
        self.geometry_errors: dict[int, str] = {}
        # rows in the file, guessed from the bytes pandas took for the first chunk (progress, load size)
        per_row = max(self._raw.tell(), 1) / max(len(self._first), 1)
        self.estimated_rows = max(len(self._first), int(path.stat().st_size / per_row))
        self._positions: list[np.ndarray] = []

    def parts(self) -> Iterator[RawTable]:
        """The rows, chunk after chunk; the file is closed at the end."""
        seen = 0
        try:
            frame = self._first
            while frame is not None:
                part = self._frames.table(frame, seen)
                seen += len(frame)
                self._positions.append(part.positions)
                yield part
                frame = self._next(self._rows)
        finally:
            self._first = None
            self._raw.close()

    def _next(self, rows: int):
        with _csv_errors():
            try:
                return self._reader.get_chunk(rows)
            except StopIteration:
                return None

    def finished(self) -> RawTable:
        """Every row read (positions only: the cells went with their chunks)."""
        positions = np.concatenate(self._positions) if self._positions else np.empty(0, np.int64)
        none = np.empty(0, dtype=object)
        return RawTable("csv", {}, none, none, positions, "line", None, self.encoding, self.ignored_columns)


class _EmptyStream(Exception):
    """No data row: read the file whole instead."""


def stream_csv(path: Path, rows: int) -> CsvStream | RawTable:
    """A CsvStream of the file, or the RawTable itself when it holds no data row."""
    try:
        return CsvStream(path, rows)
    except _EmptyStream:
        return read_csv(path)


def _open_csv(source: Path | bytes):
    """(encoding, separator, the file open at its start)."""
    encoding = detect_encoding(source)
    raw = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115 - the caller closes it
    head = raw.read(64 * 1024).decode(encoding, errors="replace").lstrip("\ufeff")
    raw.seek(0)
    first = head.splitlines()[0] if head.strip() else ""
    return encoding, "\t" if first.count("\t") > first.count(",") else ",", raw


def _csv_options(encoding: str, sep: str) -> dict:
    return {"sep": sep, "dtype": str, "encoding": encoding.replace("-sig", ""),  # pandas drops a UTF-8 BOM
            "keep_default_na": False,  # itself, faster than Python's utf-8-sig
            "na_filter": False, "skip_blank_lines": True, "encoding_errors": "strict"}


@contextmanager
def _csv_errors() -> Iterator[None]:
    import pandas as pd

    try:
        yield
    except UnicodeDecodeError as exc:
        raise InvalidImportFile(f"the CSV is neither UTF-8 nor GB18030 text: {exc.reason}", "body") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InvalidImportFile(f"the CSV cannot be read: {str(exc).splitlines()[0][:200]}", "body") from None


class _OfFrames:
    """RawTables of pandas frames of one CSV (its header mapped once)."""

    def __init__(self, source: Path | bytes, encoding: str, columns) -> None:
        self.chosen, self.ignored = map_columns([str(c) for c in columns])
        self.escaped = _contains(source, b"'")
        self.encoding = encoding.replace("-sig", "")

    def table(self, frame, first_row: int) -> RawTable:
        """Rows first_row.. of the file (counted from 0, the header apart) as a RawTable."""
        cells = {name: frame[header].to_numpy(dtype=object) for name, header in self.chosen.items()}
        cells = {name: _unescaped(column) if self.escaped else column for name, column in cells.items()}
        lines = np.arange(first_row + 2, first_row + len(frame) + 2)  # header: line 1 (a cell holding a
        keep = ~_blank_rows(frame)  # line break shifts this)
        if not keep.all():
            cells = {k: v[keep] for k, v in cells.items()}
        x, y = xy_from_columns(cells, int(keep.sum()))
        mapping = {header: name for name, header in self.chosen.items()}
        return RawTable("csv", cells, x, y, lines[keep], "line", None, self.encoding, self.ignored,
                        column_map=mapping)


def _blank_rows(frame) -> np.ndarray:
    """Rows with every cell empty (Excel leaves rows of bare commas after the data): the first
    column finds the candidates, the others are looked at only there."""
    blank = np.zeros(len(frame), dtype=bool)
    if len(frame.columns) == 0:
        return blank
    rows = np.flatnonzero(frame.iloc[:, 0].to_numpy(dtype=object) == "")
    for i in range(1, len(frame.columns)):
        rows = rows[frame.iloc[:, i].to_numpy(dtype=object)[rows] == ""]
    blank[rows] = True
    return blank


def _contains(source: Path | bytes, needle: bytes) -> bool:
    """Whether the file's bytes hold `needle` (a one-byte needle: no chunk boundary to straddle)."""
    if isinstance(source, bytes):
        return needle in source
    with open(source, "rb") as handle:
        return any(needle in chunk for chunk in iter(lambda: handle.read(_CHUNK), b""))


def _unescaped(column: np.ndarray) -> np.ndarray:
    """Cells with the leading `'` our CSV export puts before `=`, `+`, `-`, `@` (for Excel) removed."""
    if "\n'" not in "\n" + "\n".join(column):
        return column
    from layers.ingest_export import unescape_cell

    return np.fromiter((unescape_cell(v) for v in column), object, len(column))


def xy_from_columns(cells: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """x/y from lon/lat columns, or from one `location` column holding "lon,lat"."""
    location = cells.pop("location", None)
    if "lon" in cells and "lat" in cells:
        return cells.pop("lon"), cells.pop("lat")
    if location is None and "address" in cells:  # no coordinates at all: every row placed from its address
        cells.pop("lon", None)
        cells.pop("lat", None)
        return np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    if location is None:
        raise InvalidImportFile("the file needs lon and lat columns (lon/lng/经度 and lat/纬度), "
                                "one location column holding 'lon,lat', or an address column (地址)", "body")
    cells.pop("lon", None)
    cells.pop("lat", None)
    x = np.full(n, None, dtype=object)
    y = np.full(n, None, dtype=object)
    for i, value in enumerate(location):
        parts = [p for p in re.split(r"[,，\s]+", str(value or "").strip()) if p]
        if len(parts) == 2:
            x[i], y[i] = parts
        elif parts:
            x[i] = value  # not a pair: reported as invalid coordinates
    return x, y


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
        from layers.ingest_gis import read_ogr  # GDAL only when a GIS file comes

        return read_ogr(path, fmt)


def read_body(body: bytes, content_type: str | None) -> RawTable:
    """Read a request body: CSV or GeoJSON from memory, GeoPackage / zipped Shapefile through a temp file."""
    fmt = detect_format(None, body[:64], content_type)
    if fmt in ("csv", "geojson"):
        with gc_paused():
            return read_csv(body) if fmt == "csv" else read_geojson(body)
    from layers.ingest_gis import read_ogr

    with tempfile.TemporaryDirectory(prefix="yizhan-import-") as tmp:
        target = Path(tmp) / ("upload.gpkg" if fmt == "gpkg" else "upload.zip")
        target.write_bytes(body)
        return read_ogr(target, fmt, shown="the uploaded file")  # errors never name the temp path

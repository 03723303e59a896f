"""Bounds on one import, checked before the rows are read where the file allows it: rows, and bytes
a zip unpacks to. Past a bound the import is refused whole (413 `too_large`, naming the setting).

Every stage after reading (checks, duplicates, writing) is linear in the rows, so bounding the
rows bounds memory and time: the HTTP API defaults to 200,000 rows (a 16 MiB body holds about
that many), the CLI to 5,000,000 (the 1M-row import benchmark fits).
"""
from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from layers.errors import YizhanError
from layers.ingest.csv_file import CsvStream, read_csv
from layers.ingest.read import detect_format, gc_paused, read_file, read_geojson
from layers.ingest.table import RawTable
from layers.ingest.xlsx import read_xlsx

LOGGER = logging.getLogger(__name__)


class ImportTooLarge(YizhanError):
    """The file is past one of the import's bounds; nothing is read further, nothing written."""

    status = 413
    code = "too_large"


@dataclass(frozen=True)
class ImportLimits:
    """At most `max_rows` rows, and a zip unpacking to at most `max_unzipped_bytes`; the names of the
    settings that raise them go into the refusal."""

    max_rows: int = 200_000
    max_unzipped_bytes: int = 256 * 1024 * 1024
    rows_setting: str = "YIZHAN_IMPORT_MAX_ROWS"
    unzipped_setting: str = "YIZHAN_IMPORT_MAX_UNZIPPED_BYTES"

    def check_rows(self, rows: int) -> None:
        """Refuse (413) more than max_rows rows."""
        if rows > self.max_rows:
            raise ImportTooLarge(f"the file holds more than {self.max_rows:,} rows, the most one import "
                                 f"takes (set by {self.rows_setting}); split it", "body")

    def check_unzipped(self, path: Path | bytes) -> None:
        """Refuse (413) a zip whose members add up to more than max_unzipped_bytes (from its directory)."""
        source = io.BytesIO(path) if isinstance(path, bytes) else path
        if not zipfile.is_zipfile(source):
            return
        with zipfile.ZipFile(source) as archive:
            total = sum(info.file_size for info in archive.infolist())
        if total > self.max_unzipped_bytes:
            raise ImportTooLarge(f"the zip unpacks to {total:,} bytes, more than {self.max_unzipped_bytes:,} "
                                 f"(set by {self.unzipped_setting})", "body")


def read_body_limited(body: bytes, content_type: str | None, limits: ImportLimits,
                      sheet: str | None = None) -> RawTable:
    """A request body read as `layers.ingest.read.read_body` does (a spreadsheet too: its first sheet
    unless `sheet` names one), refused (413) past `limits`."""
    fmt = detect_format(None, body[:64], content_type)
    if fmt in ("xlsx", "xls"):
        return _read_sheet(body, fmt, limits, sheet)
    if fmt == "csv":
        with gc_paused():
            table = read_csv(body, nrows=limits.max_rows + 1)  # one more row than allowed says "too many"
    elif fmt == "geojson":
        limits.check_rows(body.count(b'"Feature"'))  # every feature says so: an upper bound, before parsing
        with gc_paused():
            table = read_geojson(body)
    else:
        with tempfile.TemporaryDirectory(prefix="yizhan-import-") as tmp:
            target = Path(tmp) / ("upload.gpkg" if fmt == "gpkg" else "upload.zip")
            target.write_bytes(body)
            return _read_gis(target, fmt, limits, shown="the uploaded file")  # never the temp path
    limits.check_rows(len(table))
    return table


def read_file_limited(path: Path, fmt: str | None, limits: ImportLimits,
                      stream_rows: int | None = None, sheet: str | None = None) -> RawTable | CsvStream:
    """A file read as `layers.ingest.read.read_file` does, refused (413) past `limits`; a CSV stream
    is counted as it is read and refused at the first chunk past the bound."""
    path = Path(path)
    if path.is_file():
        with open(path, "rb") as handle:
            fmt = fmt or detect_format(path.name, handle.read(64))
        if fmt in ("shp", "gpkg"):
            return _read_gis(path, fmt, limits)
        if fmt in ("xlsx", "xls"):
            return _read_sheet(path, fmt, limits, sheet)
        if fmt == "csv" and not stream_rows:
            with gc_paused():
                table = read_csv(path, nrows=limits.max_rows + 1)
            limits.check_rows(len(table))
            return table
    table = read_file(path, fmt, stream_rows)
    if isinstance(table, CsvStream):
        table.parts = _counted_parts(table.parts, limits)  # the stream itself stays what ingest expects
        return table
    limits.check_rows(len(table))
    return table


def _read_sheet(source: Path | bytes, fmt: str, limits: ImportLimits, sheet: str | None) -> RawTable:
    """A workbook: unpacked size checked before reading (an .xlsx is a zip), rows after."""
    limits.check_unzipped(source)
    with gc_paused():
        table = read_xlsx(source, sheet, fmt)
    limits.check_rows(len(table))
    return table


def _read_gis(path: Path, fmt: str, limits: ImportLimits, shown: str | None = None) -> RawTable:
    """A GeoPackage or (zipped) Shapefile: unpacked size and feature count checked before reading;
    errors name the file as `shown` (default: its name)."""
    from layers.ingest.gis import feature_count, read_ogr

    limits.check_unzipped(path)
    limits.check_rows(feature_count(path, fmt, shown))
    table = read_ogr(path, fmt, shown)
    limits.check_rows(len(table))  # a driver that could not count beforehand
    return table


def _counted_parts(parts, limits: ImportLimits):
    def counted() -> Iterator[RawTable]:
        seen = 0
        for part in parts():
            seen += len(part)
            limits.check_rows(seen)
            yield part
    return counted

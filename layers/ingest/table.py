"""What a station file becomes before it is checked: the raw table of text columns, header aliases, the file-level error."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from layers.errors import YizhanError

# Header variants per field (layers/ingest/data/headers.json: data, not code), compared after
# lower-casing and dropping spaces and anything in brackets.
HEADERS_FILE = Path(__file__).resolve().parent / "data" / "headers.json"
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

"""GeoPackage and Shapefile (a .shp, or a .zip holding one) read through pyogrio/GDAL into a RawTable."""
from __future__ import annotations

import logging
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from layers.ingest.table import (
    InvalidImportFile,
    RawTable,
    map_columns,
    xy_from_columns,
)
from layers.model import Z_REFUSED

LOGGER = logging.getLogger(__name__)
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024  # a zipped Shapefile may not unpack to more than this


def read_ogr(path: Path, fmt: str, shown: str | None = None) -> RawTable:
    """A GeoPackage or Shapefile (a .shp, or a .zip holding one) through pyogrio/GDAL; errors name
    the file as `shown` (default: its name), never by the path it has on the server."""
    import pyogrio
    import shapely

    target = str(path)
    if fmt == "shp" and zipfile.is_zipfile(path):
        target = _shapefile_in_zip(path)
    try:
        layer = _station_layer(target) if fmt == "gpkg" else None
        meta, _, geometry, values = pyogrio.raw.read(target, layer=layer, datetime_as_string=True)
    except Exception as exc:  # noqa: BLE001 - GDAL's errors have many classes; each means "cannot read"
        why = without_paths(str(exc), path, shown or path.name)
        raise InvalidImportFile(f"the {fmt} file cannot be read: {why[:200]}", "body") from None
    chosen, ignored = map_columns(list(meta["fields"]))
    index = {name: i for i, name in enumerate(meta["fields"])}
    cells = {name: _plain(values[index[header]]) for name, header in chosen.items()}
    if geometry is None:  # an attribute table: the position may be in lon/lat columns
        x, y = xy_from_columns(cells, len(values[0]) if len(values) else 0)
        return RawTable(fmt, cells, x, y, np.arange(len(x)), "feature", None, meta.get("encoding"), ignored)
    n = len(geometry)
    points = shapely.from_wkb(geometry) if n else np.array([], dtype=object)
    kinds = shapely.get_type_id(points) if n else np.array([], dtype=int)
    problems = {int(i): f"geometry must be a Point, not {shapely.get_type_id(points[i])}"
                for i in np.flatnonzero((kinds != 0) & (kinds != -1))}
    with_z = (kinds == 0) & shapely.has_z(points) if n else np.zeros(0, dtype=bool)
    problems.update({int(i): f"geometry: {Z_REFUSED}" for i in np.flatnonzero(with_z)})
    ok = (kinds == 0) & ~with_z
    empty = ok & shapely.is_empty(points) if n else ok
    x = np.full(n, None, dtype=object)
    y = np.full(n, None, dtype=object)
    good = ok & ~empty
    x[good], y[good] = shapely.get_x(points[good]), shapely.get_y(points[good])
    for name in ("lon", "lat", "location"):
        cells.pop(name, None)  # the geometry is the position
    return RawTable(fmt, cells, x, y, np.arange(n), "feature", meta.get("crs"), meta.get("encoding"),
                    ignored, problems)


def without_paths(message: str, path: Path, shown: str) -> str:
    """`message` with every path into the file's folder (/vsizip/ ones too) replaced by `shown`."""
    folder = re.escape(str(path.parent))
    return re.sub(rf"(?:/vsi[a-z0-9]+/)*{folder}/[^\s'\":,]*", shown, message)


def feature_count(path: Path, fmt: str, shown: str | None = None) -> int:
    """Features in a GeoPackage's station layer or a Shapefile (zipped or not), read from its header
    before any feature is (-1: the driver cannot tell cheaply)."""
    import pyogrio

    target = _shapefile_in_zip(path) if fmt == "shp" and zipfile.is_zipfile(path) else str(path)
    try:
        layer = _station_layer(target) if fmt == "gpkg" else None
        return int(pyogrio.read_info(target, layer=layer)["features"])
    except Exception as exc:  # noqa: BLE001 - GDAL's errors have many classes; each means "cannot read"
        why = without_paths(str(exc), path, shown or path.name)
        raise InvalidImportFile(f"the {fmt} file cannot be read: {why[:200]}", "body") from None


def _station_layer(target: str) -> str | None:
    """The layer to read from a GeoPackage: `stations` when present, else the first one."""
    import pyogrio

    names = [str(row[0]) for row in pyogrio.list_layers(target)]
    return "stations" if "stations" in names else (names[0] if names else None)


def _shapefile_in_zip(path: Path) -> str:
    """The /vsizip/ path of the one .shp in a zip (checked: one .shp, sane unpacked size)."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
        raise InvalidImportFile("the zip unpacks to more than 512 MiB", "body")
    shps = [info.filename for info in infos if info.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        raise InvalidImportFile(f"the zip must hold exactly one .shp file, not {len(shps)}", "body")
    return f"/vsizip/{path}/{shps[0]}"


def _plain(values: np.ndarray) -> np.ndarray:
    """A column from GDAL as Python values: integral numbers as digit strings, NaN/masked as None."""
    out = np.empty(len(values), dtype=object)
    if values.dtype.kind in "iu":
        out[:] = [str(int(v)) for v in values]
    elif values.dtype.kind == "f":
        out[:] = [None if math.isnan(v) else (str(int(v)) if float(v).is_integer() else repr(float(v)))
                  for v in values]
    else:
        out[:] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values]
    return out

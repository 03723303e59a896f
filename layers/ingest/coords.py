"""Coordinates of an import: the source CRS, and each row's point checked and converted to WGS-84.

Source CRS: `wgs84`, `gcj02`, `bd09` (shifted only inside China, as everywhere in Yizhan) or an
EPSG code through pyproj (`EPSG:4490` CGCS2000, `EPSG:4547` a CGCS2000 Gauss-Krüger zone, ...).
A GeoPackage or Shapefile brings its own CRS; a declared one must agree with it unless forced
(GCJ-02 data is often saved in files labelled EPSG:4326, since GCJ-02 has no EPSG code).
All arrays here are numpy, one element per row: no per-row Python work for a clean file.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from geo.crs import (
    CHINA_LAT_MAX,
    CHINA_LAT_MIN,
    CHINA_LON_MAX,
    CHINA_LON_MIN,
    convert_many,
    in_mainland_china_many,
)
from layers.errors import InvalidQuery, YizhanError

LOGGER = logging.getLogger(__name__)
SHIFTED = ("wgs84", "gcj02", "bd09")
CHINA_BOX = f"{CHINA_LON_MIN}–{CHINA_LON_MAX} E, {CHINA_LAT_MIN}–{CHINA_LAT_MAX} N"


class CrsConflict(YizhanError):
    """The declared CRS differs from the one the file says it is in."""

    status = 400
    code = "crs_conflict"


@dataclass(frozen=True)
class SourceCrs:
    """How to bring the file's x/y to WGS-84: an optional pyproj step, then a GCJ-02/BD-09 unshift."""

    name: str
    shift: str = "wgs84"  # wgs84 (none), gcj02 or bd09
    epsg_wkt: str | None = None  # a pyproj-readable CRS when not WGS-84 degrees
    geographic: bool = True

    def to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of x/y in this CRS -> WGS-84 lon/lat degrees (non-finite where it cannot be done)."""
        lon, lat = x, y
        if self.epsg_wkt is not None:
            from pyproj import CRS, Transformer

            step = Transformer.from_crs(CRS.from_user_input(self.epsg_wkt), CRS.from_epsg(4326), always_xy=True)
            with np.errstate(all="ignore"):
                lon, lat = step.transform(np.asarray(x, float), np.asarray(y, float), errcheck=False)
            lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if self.shift != "wgs84":
            lon, lat = convert_many(lon, lat, self.shift, "wgs84")
        return lon, lat


def _pyproj_crs(text: str, parameter: str):
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise InvalidQuery(f"unknown CRS {text!r}: use wgs84, gcj02, bd09 or EPSG:<code>", parameter) from None


def _from_pyproj(crs, name: str) -> SourceCrs:
    if crs.equals("EPSG:4326", ignore_axis_order=True) or crs.equals("OGC:CRS84"):
        return SourceCrs("wgs84")
    return SourceCrs(name, epsg_wkt=crs.to_wkt(), geographic=crs.is_geographic)


def parse_declared(text: str | None) -> str | None:
    """A declared CRS normalised (`wgs84|gcj02|bd09`, or `EPSG:n`); InvalidQuery when unknown."""
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    lowered = value.lower().replace("-", "").replace("_", "")
    if lowered in SHIFTED:
        return lowered
    if not lowered.startswith("epsg:") or not lowered[5:].isdigit():
        raise InvalidQuery(f"unknown CRS {value!r}: use wgs84, gcj02, bd09 or EPSG:<code>", "crs")
    _pyproj_crs(value, "crs")
    return "EPSG:" + lowered[5:]


def resolve_crs(declared: str | None, file_crs: str | None, force: bool = False) -> SourceCrs:
    """The CRS to read the file in: declared, the file's own, or WGS-84; CrsConflict when they differ."""
    declared = parse_declared(declared)
    own = _from_pyproj(_pyproj_crs(file_crs, "body"), _short_name(file_crs)) if file_crs else None
    if declared is None:
        return own or SourceCrs("wgs84")
    chosen = SourceCrs(declared, shift=declared) if declared in SHIFTED else \
        _from_pyproj(_pyproj_crs(declared, "crs"), declared)
    if own is None or force or _same(own, chosen):
        return chosen
    hint = (" GCJ-02/BD-09 data is often saved in files labelled WGS-84; if that is so, force the declared "
            "CRS (--force-crs, force_crs=1)." if declared in ("gcj02", "bd09") else " Force it with --force-crs "
            "(force_crs=1) only if the file's label is wrong.")
    raise CrsConflict(f"the file says its CRS is {own.name} but {declared} was declared.{hint}", "crs")


def _same(a: SourceCrs, b: SourceCrs) -> bool:
    if a.shift != b.shift:
        return False
    if a.epsg_wkt is None or b.epsg_wkt is None:
        return a.epsg_wkt is None and b.epsg_wkt is None
    from pyproj import CRS

    return CRS.from_wkt(a.epsg_wkt).equals(CRS.from_wkt(b.epsg_wkt), ignore_axis_order=True)


def _short_name(file_crs: str) -> str:
    from pyproj import CRS

    crs = CRS.from_user_input(file_crs)
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code}" if code else crs.name


def numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats of raw cells, and masks (missing: None or blank; invalid: not a finite number, or a bool)."""
    kinds = set(map(type, values))
    out = None
    if kinds <= {str}:  # CSV: one C-level conversion unless some cell is odd
        missing = values == ""
        filled = values.copy()
        filled[missing] = "nan"
        try:
            out = filled.astype(float)
        except (TypeError, ValueError):
            out = None
    elif kinds <= {float, int, np.float64}:  # GeoJSON, GeoPackage: numbers already
        missing = np.zeros(len(values), dtype=bool)
        try:
            out = values.astype(float)
        except OverflowError:  # an integer beyond any double: that cell is invalid, found below
            out = None
    if out is None:
        missing = np.fromiter((v is None or (isinstance(v, str) and not v.strip()) for v in values), bool,
                              len(values))
        out = _slow_numbers(values)
    out[missing] = np.nan
    with np.errstate(invalid="ignore"):
        invalid = ~missing & ~np.isfinite(out)
    return out, missing, invalid


def _slow_numbers(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if isinstance(v, bool):
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError, OverflowError):
            pass
    return out


def check_points(x_raw: np.ndarray, y_raw: np.ndarray, crs: SourceCrs) -> tuple[np.ndarray, np.ndarray, list]:
    """WGS-84 lon/lat arrays and the issues [(row, field, code, message)] of every row's point."""
    x, x_missing, x_bad = numbers(x_raw)
    y, y_missing, y_bad = numbers(y_raw)
    issues: list[tuple[int, str, str, str]] = []
    for mask, field, message in ((x_missing, "lon", "lon is missing"), (y_missing, "lat", "lat is missing")):
        issues += [(int(i), field, "missing_coordinates", message) for i in np.flatnonzero(mask)]
    for mask, raw, field in ((x_bad, x_raw, "lon"), (y_bad, y_raw, "lat")):
        issues += [(int(i), field, "invalid_coordinates", f"{field} is not a number: {str(raw[i])[:40]!r}")
                   for i in np.flatnonzero(mask)]
    usable = ~(x_missing | y_missing | x_bad | y_bad)
    if crs.geographic:
        swapped = usable & ~in_mainland_china_many(x, y) & in_mainland_china_many(y, x)
        issues += [(int(i), "lat", "swapped_coordinates",
                    (f"lat/lon probably swapped: ({x[i]:g}, {y[i]:g}) as lon, lat lies outside China, "
                    f"as lat, lon inside")) for i in np.flatnonzero(swapped)]
        usable &= ~swapped
        with np.errstate(invalid="ignore"):
            lon_range, lat_range = usable & (np.abs(x) > 180), usable & (np.abs(y) > 90)
        issues += [(int(i), "lon", "invalid_coordinates", "lon must be between -180 and 180")
                   for i in np.flatnonzero(lon_range)]
        issues += [(int(i), "lat", "invalid_coordinates", "lat must be between -90 and 90")
                   for i in np.flatnonzero(lat_range)]
        usable &= ~(lon_range | lat_range)
    lon, lat = crs.to_wgs84(np.where(usable, x, 0.0), np.where(usable, y, 0.0))
    with np.errstate(invalid="ignore"):
        outside = usable & ~(np.isfinite(lon) & np.isfinite(lat) & in_mainland_china_many(lon, lat))
    issues += [(int(i), "lon", "outside_china",
                (f"({x[i]:g}, {y[i]:g}) in {crs.name} is WGS-84 ({lon[i]:.6f}, {lat[i]:.6f}), outside China "
                f"({CHINA_BOX})")) for i in np.flatnonzero(outside)]
    lon, lat = np.where(usable & ~outside, lon, np.nan), np.where(usable & ~outside, lat, np.nan)
    return lon, lat, issues

"""Reading the planner's point sets (demand with weights, candidate sites) from GeoJSON, CSV or the
bundled sample parks, converted to WGS-84 from a declared CRS. Bad input raises InvalidQuery naming
the parameter (and the feature or line); too many points raises TooLarge (HTTP 413).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from geo.crs import CRS_NAMES, convert_many
from layers.errors import InvalidQuery, YizhanError

LOGGER = logging.getLogger(__name__)
MAX_DEMAND = 20_000
MAX_CANDIDATES = 5_000
MAX_WEIGHT = 1e9  # keeps every sum of weight x metres finite and exact enough
SAMPLE_PARKS = Path(__file__).resolve().parent.parent.parent / "data" / "sample_parks.geojson"
BUILT_IN = ("parks",)
_COLUMNS = {
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "weight": ("weight", "workers", "权重", "人数"),
    "id": ("id", "编号"),
    "name": ("name", "名称"),
}


class TooLarge(YizhanError):
    """The request holds more points than the planner accepts."""

    status = 413
    code = "too_large"


@dataclass(frozen=True)
class PointSet:
    """Points in WGS-84 degrees with ids, optional names and weights (>= 0; 1 when not given)."""

    ids: tuple[str, ...]
    names: tuple[str | None, ...]
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def _number(raw: Any, what: str, param: str) -> float:
    if isinstance(raw, bool):
        raise InvalidQuery(f"{what} must be a number", param)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidQuery(f"{what} must be a number, got {str(raw)[:40]!r}", param) from None
    if not math.isfinite(value):
        raise InvalidQuery(f"{what} must be a finite number", param)
    return value


def _build(rows: list[tuple[str, str | None, float, float, float]], crs: str, param: str) -> PointSet:
    if not rows:
        raise InvalidQuery(f"{param} holds no points", param)
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        duplicate = next(i for i in ids if i in seen or seen.add(i))
        raise InvalidQuery(f"{param}: the id {duplicate[:40]!r} appears twice", param)
    lon = np.array([r[2] for r in rows])
    lat = np.array([r[3] for r in rows])
    if crs not in CRS_NAMES:
        raise InvalidQuery(f"crs must be one of {', '.join(CRS_NAMES)}", "crs")
    if crs != "wgs84":
        lon, lat = convert_many(lon, lat, crs, "wgs84")
    return PointSet(tuple(ids), tuple(r[1] for r in rows), lon, lat, np.array([r[4] for r in rows]))


def _point(lon: float, lat: float, weight: float, where: str, param: str) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidQuery(f"{where}: lon must be in [-180, 180] and lat in [-90, 90]", param)
    if not 0 <= weight <= MAX_WEIGHT:
        raise InvalidQuery(f"{where}: weight must be between 0 and {MAX_WEIGHT:g}", param)


def _feature_row(k: int, feature: Any, param: str, weighted: bool) -> tuple[str, str | None, float, float, float]:
    where = f"{param}.features[{k}]"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidQuery(f"{where} must be a GeoJSON Feature", param)
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):  # e.g. a bare [lon, lat] list: 400, not a 500
        geometry = {}
    coords = geometry.get("coordinates")
    if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
        raise InvalidQuery(f"{where}: geometry must be a Point [lon, lat]", param)
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise InvalidQuery(f"{where}: properties must be an object", param)
    lon, lat = _number(coords[0], f"{where} lon", param), _number(coords[1], f"{where} lat", param)
    raw_weight = props.get("weight") if weighted else None
    weight = 1.0 if raw_weight is None else _number(raw_weight, f"{where}.properties.weight", param)
    _point(lon, lat, weight, where, param)
    ident = feature.get("id", props.get("id", k + 1))
    name = props.get("name")
    return str(ident)[:80], (str(name)[:120] if name is not None else None), lon, lat, weight


def from_geojson(body: Any, crs: str = "wgs84", param: str = "demand", limit: int = MAX_DEMAND,
                 weighted: bool = True) -> PointSet:
    """A FeatureCollection of Points (`properties.weight`, default 1) in `crs`, as WGS-84 points."""
    if not isinstance(body, dict) or body.get("type") != "FeatureCollection" or not isinstance(body.get("features"), list):
        raise InvalidQuery(f"{param} must be a GeoJSON FeatureCollection of Points", param)
    features = body["features"]
    if len(features) > limit:
        raise TooLarge(f"{param} has {len(features)} points; at most {limit} are accepted", param)
    return _build([_feature_row(k, f, param, weighted) for k, f in enumerate(features)], crs, param)


def _column(header: list[str], role: str) -> int | None:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    return next((names.index(c) for c in _COLUMNS[role] if c in names), None)


def from_csv(text: str, crs: str = "wgs84", param: str = "demand", limit: int = MAX_DEMAND,
             weighted: bool = True) -> PointSet:
    """CSV with a header naming lon/lat (lng, longitude, x, 经度 / latitude, y, 纬度) and optional
    weight, id and name columns, in `crs`, as WGS-84 points."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InvalidQuery(f"{param}: the CSV is empty", param)
    at = {role: _column(header, role) for role in _COLUMNS}
    if at["lon"] is None or at["lat"] is None:
        raise InvalidQuery(f"{param}: the CSV header must name lon and lat columns", param)
    rows = []
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= limit:
            raise TooLarge(f"{param} has more than {limit} points", param)
        cell = {role: (record[i].strip() if i is not None and i < len(record) else "") for role, i in at.items()}
        where = f"{param} line {line}"
        lon, lat = _number(cell["lon"], f"{where} lon", param), _number(cell["lat"], f"{where} lat", param)
        weight = _number(cell["weight"], f"{where} weight", param) if weighted and cell["weight"] else 1.0
        _point(lon, lat, weight, where, param)
        rows.append((cell["id"][:80] or str(line - 1), cell["name"][:120] or None, lon, lat, weight))
    return _build(rows, crs, param)


def from_bytes(data: bytes, filename: str = "", crs: str = "wgs84", param: str = "demand",
               limit: int = MAX_DEMAND, weighted: bool = True) -> PointSet:
    """An uploaded file: GeoJSON when it parses as JSON (or is named .geojson/.json), CSV otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidQuery(f"{param}: the file must be UTF-8 (or GB18030) text", param) from None
    stripped = text.lstrip()
    if filename.lower().endswith((".geojson", ".json")) or stripped.startswith("{"):
        try:
            body = orjson.loads(stripped)  # strict: no RecursionError, surrogates or 10**400
        except ValueError:
            raise InvalidQuery(f"{param}: the file is not valid JSON", param) from None
        return from_geojson(body, crs, param, limit, weighted)
    return from_csv(text, crs, param, limit, weighted)


def built_in(name: str, param: str = "demand") -> PointSet:
    """A bundled demand set by name: `parks` (the sample parks, weight 1 each)."""
    if name not in BUILT_IN:
        raise InvalidQuery(f"{param} must be a FeatureCollection or one of: {', '.join(BUILT_IN)}", param)
    body = json.loads(SAMPLE_PARKS.read_text(encoding="utf-8"))
    return from_geojson(body, "wgs84", param)


def from_request_value(value: Any, crs: str = "wgs84", param: str = "demand", limit: int = MAX_DEMAND,
                       weighted: bool = True) -> PointSet:
    """A JSON request's point set: a FeatureCollection, or the name of a built-in set."""
    if isinstance(value, str):
        return built_in(value, param)
    return from_geojson(value, crs, param, limit, weighted)

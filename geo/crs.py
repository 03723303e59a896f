"""Coordinate systems used in China: WGS-84, GCJ-02 (国测局, "Mars") and BD-09 (Baidu), lon/lat degrees.

GCJ-02 is WGS-84 plus a published, deterministic offset (the well-known public formula on the
Krasovsky ellipsoid); BD-09 is GCJ-02 plus Baidu's published offset. Both inverses are solved by
fixed-point iteration (the offsets vary slowly, so each step gains ~3 digits), to ~1e-11 degrees.

Which points are shifted (`shifts_here`): first the rectangle every common implementation
(coordtransform, gcoord, eviltransform...) uses: 72.004 <= lon <= 137.8347, 0.8293 <= lat <= 55.8271,
boundaries included. The shared test vectors assume it (their 664 city centres all lie inside, their
"outside China" cases — Denver, lon 183 — outside). It is rough on purpose: it matches what the
providers' own SDKs do, which is what keeps our links and theirs on the same spot. Points outside
are returned unchanged by every function here, and the decision is taken on the *input* point
(so within ~0.01 degrees of the rectangle's edge a round trip can jump by the shift; real Chinese
places are nowhere near it); `in_mainland_china` is that rectangle alone (the imports' plausibility
test). Inside the rectangle, a polygon test handed in by `use_outline`
(layers.places.outline: mainland China's outline) decides, so Seoul or Bangkok sent as GCJ-02 are
not moved; without one (geo stays pure: it reads no file) the rectangle alone decides.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

LOGGER = logging.getLogger(__name__)

CRS_NAMES = ("wgs84", "gcj02", "bd09")

CHINA_LON_MIN, CHINA_LON_MAX = 72.004, 137.8347
CHINA_LAT_MIN, CHINA_LAT_MAX = 0.8293, 55.8271

_KRASOVSKY_A = 6378245.0  # semi-major axis used by GCJ-02, metres
_KRASOVSKY_EE = 0.00669342162296594323  # its first eccentricity squared
_PI = 3.1415926535897932384626
_X_PI = _PI * 3000.0 / 180.0  # Baidu's constant
# Both offsets are contractions (Lipschitz constant < 0.03 deg per deg in the China box, measured), so after
# a correction of at most _STEP_TOL_DEG the remaining error is below 3e-10 degrees (~0.03 mm).
_STEP_TOL_DEG = 1e-8
_MAX_ITER = 30

_KRASOVSKY_A_1_EE = _KRASOVSKY_A * (1 - _KRASOVSKY_EE)  # the same product _gcj_forward computes inline
_sin, _cos, _sqrt, _atan2 = math.sin, math.cos, math.sqrt, math.atan2

_SCALAR = SimpleNamespace(sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=math.atan2, abs=abs)
_VECTOR = SimpleNamespace(sin=np.sin, cos=np.cos, sqrt=np.sqrt, atan2=np.arctan2, abs=np.abs)


# ---- the published formulas, written once for floats (math) and arrays (numpy) ---------------
def _offset_lat(x: Any, y: Any, shared: Any, m: SimpleNamespace) -> Any:
    """GCJ-02 latitude offset (Krasovsky metre-like units) at x = lon - 105, y = lat - 35."""
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(m.abs(x))
    r += shared
    r += (20.0 * m.sin(y * _PI) + 40.0 * m.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    r += (160.0 * m.sin(y / 12.0 * _PI) + 320.0 * m.sin(y * _PI / 30.0)) * 2.0 / 3.0
    return r


def _offset_lon(x: Any, y: Any, shared: Any, m: SimpleNamespace) -> Any:
    """GCJ-02 longitude offset at x = lon - 105, y = lat - 35."""
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(m.abs(x))
    r += shared
    r += (20.0 * m.sin(x * _PI) + 40.0 * m.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    r += (150.0 * m.sin(x / 12.0 * _PI) + 300.0 * m.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    return r


def _gcj_forward(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """WGS-84 -> GCJ-02 without the China test (degrees)."""
    x, y = lon - 105.0, lat - 35.0
    shared = (20.0 * m.sin(6.0 * x * _PI) + 20.0 * m.sin(2.0 * x * _PI)) * 2.0 / 3.0  # in both offsets
    dlat = _offset_lat(x, y, shared, m)
    dlon = _offset_lon(x, y, shared, m)
    radlat = lat / 180.0 * _PI
    magic = m.sin(radlat)
    magic = 1 - _KRASOVSKY_EE * magic * magic
    sqrtmagic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * _PI)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * m.cos(radlat) * _PI)
    return lon + dlon, lat + dlat


def _bd_forward(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """GCJ-02 -> BD-09, Baidu's published formula, without the China test (degrees)."""
    z = m.sqrt(lon * lon + lat * lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _bd_inverse_one_step(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """BD-09 -> GCJ-02, Baidu's published one-step approximation (error ~1e-7 degrees)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = m.sqrt(x * x + y * y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta), z * m.sin(theta)


def _solve(forward: Callable[..., tuple[Any, Any]], lon: Any, lat: Any, guess: tuple[Any, Any],
           m: SimpleNamespace) -> tuple[Any, Any]:
    """Fixed-point inverse of `forward`: p <- p - (forward(p) - target) until the step is <= _STEP_TOL_DEG."""
    x, y = guess
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y, m)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if m is _SCALAR:
            if abs(ex) <= _STEP_TOL_DEG and abs(ey) <= _STEP_TOL_DEG:
                break
        elif np.all(np.abs(ex) <= _STEP_TOL_DEG) and np.all(np.abs(ey) <= _STEP_TOL_DEG):
            break
    return x, y


def _gcj_inverse_one_step(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """GCJ-02 -> WGS-84, the common one-step approximation p - offset(p) (error up to ~1e-6 degrees)."""
    fx, fy = _gcj_forward(lon, lat, m)
    return 2 * lon - fx, 2 * lat - fy


def _gcj_inverse(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """GCJ-02 -> WGS-84 without the China test, exact to ~1e-11 degrees."""
    return _solve(_gcj_forward, lon, lat, _gcj_inverse_one_step(lon, lat, m), m)


def _bd_inverse(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """BD-09 -> GCJ-02 without the China test, exact to ~1e-11 degrees."""
    return _solve(_bd_forward, lon, lat, _bd_inverse_one_step(lon, lat, m), m)


# ---- which points shift -------------------------------------------------------------------------
# (scalar test, vector test) on (lon, lat) degrees, consulted inside the rectangle; None: rectangle only
_OUTLINE: list[tuple[Callable[[float, float], bool], Callable[[np.ndarray, np.ndarray], np.ndarray]] | None] = [None]


def use_outline(contains: Callable[[float, float], bool] | None,
                contains_many: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
    """Shift only where these polygon tests (lon, lat degrees) say mainland China, within the rectangle; None: rectangle."""
    _OUTLINE[0] = (contains, contains_many) if contains and contains_many else None


def in_mainland_china(lon: float, lat: float) -> bool:
    """True when (lon, lat) in degrees lies in the rough China rectangle (any CRS): the plausibility test."""
    return CHINA_LON_MIN <= lon <= CHINA_LON_MAX and CHINA_LAT_MIN <= lat <= CHINA_LAT_MAX


def shifts_here(lon: float, lat: float) -> bool:
    """True when GCJ-02/BD-09 apply at (lon, lat) degrees: inside the rectangle, then inside the installed
    outline of mainland China (when one is installed)."""
    if not (CHINA_LON_MIN <= lon <= CHINA_LON_MAX and CHINA_LAT_MIN <= lat <= CHINA_LAT_MAX):
        return False
    outline = _OUTLINE[0]
    return outline is None or outline[0](lon, lat)


# ---- public scalar API -------------------------------------------------------------------------


def _guarded(step: Callable[..., tuple[Any, Any]]) -> Callable[[float, float], tuple[float, float]]:
    def convert_one(lon: float, lat: float) -> tuple[float, float]:
        lon, lat = float(lon), float(lat)
        if not shifts_here(lon, lat):
            return lon, lat
        return step(lon, lat, _SCALAR)
    return convert_one


_wgs_to_gcj = _guarded(_gcj_forward)
_gcj_to_wgs = _guarded(_gcj_inverse)
_gcj_to_bd = _guarded(_bd_forward)
_bd_to_gcj = _guarded(_bd_inverse)


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 (lon, lat) degrees -> GCJ-02 (lon, lat) degrees; unchanged outside mainland China."""
    return _wgs_to_gcj(lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 (lon, lat) degrees -> WGS-84 (lon, lat) degrees, iterative to ~1e-11 deg; unchanged outside China."""
    return _gcj_to_wgs(lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 (lon, lat) degrees -> BD-09 (lon, lat) degrees (Baidu's formula); unchanged outside China."""
    return _gcj_to_bd(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 (lon, lat) degrees -> GCJ-02 (lon, lat) degrees, exact inverse by iteration; unchanged outside China."""
    return _bd_to_gcj(lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 (lon, lat) degrees -> BD-09 (lon, lat) degrees; unchanged outside mainland China."""
    if not shifts_here(lon, lat):
        return float(lon), float(lat)
    return _bd_forward(*_gcj_forward(float(lon), float(lat), _SCALAR), _SCALAR)


def wgs84_to_gcj02_and_bd09(lon: float, lat: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both display systems of one WGS-84 point at once (the GCJ-02 step is shared); unchanged outside China.

    This runs for every station of every answer, so it is `_gcj_forward` and `_bd_forward` written
    out for floats: the same operations in the same order (bit for bit the same results, which
    tests/geo/test_nav_fast.py checks), without the function-table indirection and the calls.
    It tests the rectangle only, not an installed outline: it makes the navigation links of stored
    stations (every station at load), which the import already keeps inside China, and the
    outline's test would add ~5 us a point near coasts and borders.
    """
    lon, lat = float(lon), float(lat)
    if not (CHINA_LON_MIN <= lon <= CHINA_LON_MAX and CHINA_LAT_MIN <= lat <= CHINA_LAT_MAX):
        return (lon, lat), (lon, lat)
    x, y = lon - 105.0, lat - 35.0
    shared = (20.0 * _sin(6.0 * x * _PI) + 20.0 * _sin(2.0 * x * _PI)) * 2.0 / 3.0
    root = _sqrt(abs(x))
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + shared
            + (20.0 * _sin(y * _PI) + 40.0 * _sin(y / 3.0 * _PI)) * 2.0 / 3.0
            + (160.0 * _sin(y / 12.0 * _PI) + 320.0 * _sin(y * _PI / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + shared
            + (20.0 * _sin(x * _PI) + 40.0 * _sin(x / 3.0 * _PI)) * 2.0 / 3.0
            + (150.0 * _sin(x / 12.0 * _PI) + 300.0 * _sin(x / 30.0 * _PI)) * 2.0 / 3.0)
    radlat = lat / 180.0 * _PI
    magic = _sin(radlat)
    magic = 1 - _KRASOVSKY_EE * magic * magic
    sqrtmagic = _sqrt(magic)
    glat = lat + (dlat * 180.0) / (_KRASOVSKY_A_1_EE / (magic * sqrtmagic) * _PI)
    glon = lon + (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * _cos(radlat) * _PI)
    z = _sqrt(glon * glon + glat * glat) + 0.00002 * _sin(glat * _X_PI)
    theta = _atan2(glat, glon) + 0.000003 * _cos(glon * _X_PI)
    return (glon, glat), (z * _cos(theta) + 0.0065, z * _sin(theta) + 0.006)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 (lon, lat) degrees -> WGS-84 (lon, lat) degrees; unchanged outside mainland China."""
    if not shifts_here(lon, lat):
        return float(lon), float(lat)
    return _gcj_inverse(*_bd_inverse(float(lon), float(lat), _SCALAR), _SCALAR)


# Each CRS as (to WGS-84, from WGS-84) steps on the unguarded formulas.
_TO_WGS: dict[str, tuple[Callable[..., tuple[Any, Any]], ...]] = {
    "wgs84": (), "gcj02": (_gcj_inverse,), "bd09": (_bd_inverse, _gcj_inverse)}
_FROM_WGS: dict[str, tuple[Callable[..., tuple[Any, Any]], ...]] = {
    "wgs84": (), "gcj02": (_gcj_forward,), "bd09": (_gcj_forward, _bd_forward)}


def _chain(src: str, dst: str) -> tuple[Callable[..., tuple[Any, Any]], ...]:
    for name in (src, dst):
        if name not in _TO_WGS:
            raise ValueError(f"unknown CRS {name!r}; expected one of {', '.join(CRS_NAMES)}")
    if src == dst:
        return ()
    if {src, dst} == {"gcj02", "bd09"}:  # skip the detour through WGS-84
        return (_bd_forward,) if dst == "bd09" else (_bd_inverse,)
    return _TO_WGS[src] + _FROM_WGS[dst]


def convert(lon: float, lat: float, src: str, dst: str) -> tuple[float, float]:
    """(lon, lat) degrees from CRS `src` to `dst` (names in CRS_NAMES); ValueError for an unknown name."""
    steps = _chain(src, dst)
    lon, lat = float(lon), float(lat)
    if not steps or not shifts_here(lon, lat):
        return lon, lat
    for step in steps:
        lon, lat = step(lon, lat, _SCALAR)
    return lon, lat


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """(lon, lat) degrees in `crs` -> WGS-84 (lon, lat) degrees."""
    return convert(lon, lat, crs, "wgs84")


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """WGS-84 (lon, lat) degrees -> (lon, lat) degrees in `crs`."""
    return convert(lon, lat, "wgs84", crs)


# ---- vectorised --------------------------------------------------------------------------------
def in_mainland_china_many(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Boolean array: which (lon, lat) degree pairs lie in the China rectangle (see in_mainland_china)."""
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    return (lons >= CHINA_LON_MIN) & (lons <= CHINA_LON_MAX) & (lats >= CHINA_LAT_MIN) & (lats <= CHINA_LAT_MAX)


def shifts_here_many(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Boolean array: where GCJ-02/BD-09 apply (see shifts_here)."""
    inside = in_mainland_china_many(lons, lats)
    outline = _OUTLINE[0]
    if outline is not None and inside.any():
        inside[inside] = outline[1](np.asarray(lons, dtype=float)[inside], np.asarray(lats, dtype=float)[inside])
    return inside


def convert_many(lons: np.ndarray, lats: np.ndarray, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of (lon, lat) degrees from CRS `src` to `dst`, numpy-vectorised; new float arrays."""
    steps = _chain(src, dst)
    out_lon = np.array(lons, dtype=float, copy=True)
    out_lat = np.array(lats, dtype=float, copy=True)
    if out_lon.shape != out_lat.shape:
        raise ValueError(f"lons and lats differ in shape: {out_lon.shape} vs {out_lat.shape}")
    if not steps:
        return out_lon, out_lat
    inside = shifts_here_many(out_lon, out_lat)
    if not inside.any():
        return out_lon, out_lat
    lon, lat = out_lon[inside], out_lat[inside]
    for step in steps:
        lon, lat = step(lon, lat, _VECTOR)
    out_lon[inside], out_lat[inside] = lon, lat
    return out_lon, out_lat

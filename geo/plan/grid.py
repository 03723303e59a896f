"""Candidate sites generated over the demand area: a square or hexagonal grid with spacing in metres.

The grid is laid out in a local azimuthal equidistant projection centred on the demand (metres are
true along every line through the centre and within a fraction of a percent over a county), then
taken back to WGS-84. Only lattice cells near demand points are generated. Only grid points within `reach_m` geodesic metres of some demand point are kept.
"""
from __future__ import annotations

import logging
import math

import numpy as np
from pyproj import CRS, Transformer

from geo.plan.index import nearest_m

LOGGER = logging.getLogger(__name__)
GRID_KINDS = ("hex", "square")


class GridTooLarge(ValueError):
    """The grid would hold more points than allowed; `count` is how many."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"the grid would have about {count} points (at most {limit})")
        self.count, self.limit = count, limit


def _projection(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0:.9f} +lon_0={lon0:.9f} +datum=WGS84 +units=m")
    forward = Transformer.from_crs("EPSG:4326", local, always_xy=True)
    backward = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    return forward, backward


def _lattice_near(x: np.ndarray, y: np.ndarray, spacing_m: float, reach_m: float, kind: str,
                  cap: int) -> np.ndarray:
    """(n, 2) lattice points in metres within about reach_m of some (x, y); hex rows sqrt(3)/2 apart, odd
    rows offset by half a spacing. Only cells near a point are enumerated, so scattered demand is cheap."""
    row_step = spacing_m * math.sqrt(3) / 2 if kind == "hex" else spacing_m
    rows_out, cols_out = math.ceil(reach_m / row_step) + 1, math.ceil(reach_m / spacing_m) + 1
    base_r, base_c = np.round(y / row_step).astype(np.int64), np.round(x / spacing_m).astype(np.int64)
    dr, dc = np.meshgrid(np.arange(-rows_out, rows_out + 1), np.arange(-cols_out, cols_out + 1), indexing="ij")
    if base_r.size * dr.size > 40 * cap:
        raise GridTooLarge(int(base_r.size * dr.size), cap)
    cells = np.unique(np.column_stack([(base_r[:, None] + dr.ravel()).ravel(),
                                       (base_c[:, None] + dc.ravel()).ravel()]), axis=0)
    ys = cells[:, 0] * row_step
    xs = cells[:, 1] * spacing_m + ((cells[:, 0] % 2) * spacing_m / 2 if kind == "hex" else 0.0)
    return np.column_stack([xs, ys])


def grid_candidates(demand_lon: np.ndarray, demand_lat: np.ndarray, spacing_m: float, kind: str = "hex",
                    reach_m: float | None = None, limit: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 (lons, lats) of grid points spaced `spacing_m` metres apart (in a projection centred on the
    demand: exact near the centre, a few per cent off 1,000 km away), kept when within `reach_m`
    (default: the spacing) geodesic metres of a demand point. GridTooLarge past `limit` points.
    """
    if kind not in GRID_KINDS:
        raise ValueError(f"grid kind must be one of {GRID_KINDS}")
    forward, backward = _projection(float(np.mean(demand_lon)), float(np.mean(demand_lat)))
    x, y = forward.transform(np.asarray(demand_lon, float), np.asarray(demand_lat, float))
    reach = reach_m if reach_m is not None else spacing_m
    points = _lattice_near(np.asarray(x), np.asarray(y), spacing_m, reach, kind, limit)
    if points.shape[0] > 20 * limit:
        raise GridTooLarge(points.shape[0], limit)
    lons, lats = backward.transform(points[:, 0], points[:, 1])
    lons, lats = np.asarray(lons, float), np.asarray(lats, float)
    _, dist_m = nearest_m(lons, lats, np.asarray(demand_lon, float), np.asarray(demand_lat, float))
    keep = dist_m <= reach
    if int(keep.sum()) > limit:
        raise GridTooLarge(int(keep.sum()), limit)
    return lons[keep], lats[keep]

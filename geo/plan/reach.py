"""The lon/lat box within which every station near some demand must lie (pure arithmetic).

A point q within r geodesic metres of p has central angle theta <= r / GEODESIC_M_PER_RADIAN_LOWER
to p (the proven bound of `geo.distance`, geodetic latitude taken as spherical), so its latitude
differs by at most theta and, while the cap around p stays off the pole, its longitude by at most
asin(sin theta / cos lat_p). Growing the demand's box by those margins (at the demand's largest
|latitude|) gives a box holding every such q.
"""
from __future__ import annotations

import logging
import math

import numpy as np

from geo.distance import GEODESIC_M_PER_RADIAN_LOWER

LOGGER = logging.getLogger(__name__)
_SLACK = 1e-9  # relative and absolute degrees of margin for floating-point error


def reach_box(lon: np.ndarray, lat: np.ndarray, radius_m: float) -> tuple[float, float, float, float] | None:
    """(minlon, minlat, maxlon, maxlat) in WGS-84 degrees holding every point within radius_m geodesic
    metres of any of the WGS-84 points (lon, lat); None when no such box exists short of the whole
    globe (the reach touches a pole or crosses the antimeridian) or there is no point."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if lon.size == 0:
        return None
    theta = radius_m / GEODESIC_M_PER_RADIAN_LOWER * (1 + _SLACK)
    if theta >= math.pi / 2:
        return None
    dlat = math.degrees(theta) * (1 + _SLACK) + _SLACK
    minlat, maxlat = float(lat.min()) - dlat, float(lat.max()) + dlat
    if minlat <= -90.0 or maxlat >= 90.0:
        return None
    worst = math.radians(max(abs(float(lat.min())), abs(float(lat.max()))))
    dlon = math.degrees(math.asin(min(1.0, math.sin(theta) / math.cos(worst)))) * (1 + _SLACK) + _SLACK
    minlon, maxlon = float(lon.min()) - dlon, float(lon.max()) + dlon
    if minlon < -180.0 or maxlon > 180.0:
        return None
    return minlon, minlat, maxlon, maxlat

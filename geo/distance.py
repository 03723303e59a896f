"""Distances on the WGS-84 ellipsoid (metres), unit-sphere vectors for indexing, and the bounds between them.

Bounds between the geodesic distance d(p, q) and the central angle theta(p, q) between
`unit_xyz(p)` and `unit_xyz(q)` (geodetic latitude used as a spherical latitude):

The ellipsoid's metric in geodetic (lat phi, lon lam) is ds^2 = M(phi)^2 dphi^2 + N(phi)^2 cos^2(phi) dlam^2,
the unit sphere's is dsigma^2 = dphi^2 + cos^2(phi) dlam^2, with M = a(1-e^2)/(1-e^2 sin^2 phi)^(3/2)
(meridian radius) and N = a/(1-e^2 sin^2 phi)^(1/2) (prime-vertical radius). Both radii lie in
[a(1-e^2), a/sqrt(1-e^2)] = [M(0), N(90)], so along any curve M(0) dsigma <= ds <= N(90) dsigma.
Hence, taking the infimum over curves for the lower side and the image of the great circle for the
upper side:  a(1-e^2) * theta <= d <= a/sqrt(1-e^2) * theta  for ANY two points, short or long.
Both are tight only in the limit of short distances (meridional at the equator; any direction at
a pole). The constants below sit a small margin outside, to absorb floating-point error in the
chord/angle computed from float64 vectors (tests/geo/test_distance.py samples 10^6 pairs).
"""
from __future__ import annotations

import logging
import math

import numpy as np
from pyproj import Geod

LOGGER = logging.getLogger(__name__)

WGS84_A_M = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
MERIDIAN_RADIUS_EQUATOR_M = WGS84_A_M * (1 - WGS84_E2)  # 6,335,439.327 m: the infimum of d / theta
POLAR_RADIUS_OF_CURVATURE_M = WGS84_A_M / math.sqrt(1 - WGS84_E2)  # 6,399,593.626 m: the supremum

GEODESIC_M_PER_RADIAN_LOWER: float = 6_335_000.0  # <= geodesic_m / central angle, always (439 m/rad margin)
GEODESIC_M_PER_RADIAN_UPPER: float = 6_400_000.0  # >= geodesic_m / central angle, always (406 m/rad margin)

_GEOD = Geod(ellps="WGS84")


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres between two WGS-84 (lon, lat) degree points on the WGS-84 ellipsoid."""
    return float(_GEOD.inv(float(lon1), float(lat1), float(lon2), float(lat2))[2])


def geodesic_many_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Geodesic distances in metres from one WGS-84 (lon, lat) to arrays of WGS-84 points (WGS-84 ellipsoid)."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if lons.size == 0:
        return np.zeros(lons.shape, dtype=float)
    _, _, dist = _GEOD.inv(np.full(lons.shape, float(lon)), np.full(lats.shape, float(lat)), lons, lats)
    return np.asarray(dist, dtype=float)


def destination(lon: float, lat: float, azimuth_deg: float, distance_m: float) -> tuple[float, float]:
    """WGS-84 (lon, lat) degrees reached from WGS-84 (lon, lat) along the geodesic at azimuth (deg from north)."""
    lon2, lat2, _ = _GEOD.fwd(float(lon), float(lat), float(azimuth_deg), float(distance_m))
    return float(lon2), float(lat2)


def unit_xyz(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """(n, 3) points on the unit sphere for WGS-84 (lon, lat) degrees, geodetic latitude taken as spherical."""
    lam = np.radians(np.atleast_1d(np.asarray(lons, dtype=float)))
    phi = np.radians(np.atleast_1d(np.asarray(lats, dtype=float)))
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


def chord_from_angle(theta_rad: float | np.ndarray) -> float | np.ndarray:
    """Chord length on the unit sphere (radius 1, no unit) for a central angle in radians (clipped to [0, pi])."""
    return 2.0 * np.sin(np.clip(theta_rad, 0.0, np.pi) / 2.0)


def angle_from_chord(chord: float | np.ndarray) -> float | np.ndarray:
    """Central angle in radians for a chord on the unit sphere (radius 1; clipped to [0, 2])."""
    return 2.0 * np.arcsin(np.clip(chord, 0.0, 2.0) / 2.0)

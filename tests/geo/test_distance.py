"""geo.distance: published distances, metric properties, and the proven bounds sampled 10^6 times."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.distance import (
    GEODESIC_M_PER_RADIAN_LOWER,
    GEODESIC_M_PER_RADIAN_UPPER,
    MERIDIAN_RADIUS_EQUATOR_M,
    POLAR_RADIUS_OF_CURVATURE_M,
    angle_from_chord,
    chord_from_angle,
    destination,
    geodesic_m,
    geodesic_many_m,
    unit_xyz,
)

GEOD = Geod(ellps="WGS84")
lons = st.floats(-180, 180, allow_nan=False)
lats = st.floats(-90, 90, allow_nan=False)


# ---- published values ------------------------------------------------------------------------
def test_quarter_meridian_is_the_published_value():
    # Equator to pole on WGS-84: 10,001,965.729 m (e.g. Karney 2013; NGA TR8350.2 meridian arc).
    assert geodesic_m(0, 0, 0, 90) == pytest.approx(10_001_965.729, abs=0.001)


def test_one_degree_of_equator_is_a_times_pi_over_180():
    assert geodesic_m(0, 0, 1, 0) == pytest.approx(6378137.0 * math.pi / 180, abs=1e-6)


def test_karney_2013_worked_example():
    # Karney, "Algorithms for geodesics" (J. Geodesy 2013), direct problem, WGS-84:
    # from (lat 40, lon 0) at azimuth 30 deg, s = 10,000 km -> (lat 41.79331020506, lon 137.84490004377).
    lon2, lat2 = destination(0.0, 40.0, 30.0, 10_000_000.0)
    assert lat2 == pytest.approx(41.79331020506, abs=1e-10)
    assert lon2 == pytest.approx(137.84490004377, abs=1e-10)
    assert geodesic_m(0.0, 40.0, lon2, lat2) == pytest.approx(10_000_000.0, abs=1e-6)


def test_beijing_to_shanghai_is_about_1067_km():
    # Tiananmen (116.3975, 39.9087) to People's Square (121.4737, 31.2304): ~1,067 km great-circle.
    assert geodesic_m(116.3975, 39.9087, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.005)


# ---- properties ------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(lons, lats, lons, lats)
def test_symmetric_non_negative_and_zero_on_self(lon1, lat1, lon2, lat2):
    d = geodesic_m(lon1, lat1, lon2, lat2)
    assert d >= 0
    assert d == pytest.approx(geodesic_m(lon2, lat2, lon1, lat1), abs=1e-6)
    assert geodesic_m(lon1, lat1, lon1, lat1) == 0
    assert d <= 20_003_931.46  # half the meridian: no two points are farther apart


@settings(max_examples=300, deadline=None)
@given(lons, lats, lons, lats, lons, lats)
def test_triangle_inequality(lon1, lat1, lon2, lat2, lon3, lat3):
    a = geodesic_m(lon1, lat1, lon2, lat2)
    b = geodesic_m(lon2, lat2, lon3, lat3)
    c = geodesic_m(lon1, lat1, lon3, lat3)
    assert c <= a + b + 1e-6


@settings(max_examples=200, deadline=None)
@given(lons, st.floats(-89.9, 89.9), st.floats(0, 360), st.floats(0, 5_000_000))
def test_destination_lands_at_the_distance(lon, lat, azimuth, distance):
    lon2, lat2 = destination(lon, lat, azimuth, distance)
    assert -180 <= lon2 <= 180 and -90 <= lat2 <= 90
    assert geodesic_m(lon, lat, lon2, lat2) == pytest.approx(distance, abs=1e-4)


def test_geodesic_many_matches_one_by_one():
    rng = np.random.default_rng(7)
    lo, la = rng.uniform(-180, 180, 50), rng.uniform(-90, 90, 50)
    many = geodesic_many_m(116.4, 39.9, lo, la)
    assert many.shape == (50,)
    assert np.array_equal(many, [geodesic_m(116.4, 39.9, a, b) for a, b in zip(lo, la)])
    assert geodesic_many_m(0, 0, np.array([]), np.array([])).shape == (0,)


def test_unit_xyz_chord_and_angle():
    xyz = unit_xyz(np.array([0.0, 90.0, 0.0]), np.array([0.0, 0.0, 90.0]))
    assert xyz.shape == (3, 3)
    assert np.allclose(xyz, np.eye(3), atol=1e-15)
    assert np.allclose(np.linalg.norm(unit_xyz(np.arange(-180, 180, 7.0), np.arange(-90, 90, 3.5)[:52]), axis=1), 1)
    assert angle_from_chord(chord_from_angle(1.234)) == pytest.approx(1.234, abs=1e-14)
    assert chord_from_angle(math.pi) == 2.0 and angle_from_chord(2.0) == pytest.approx(math.pi)
    assert angle_from_chord(2.0 + 1e-15) == pytest.approx(math.pi)  # rounding above 2 is clipped
    assert chord_from_angle(math.pi / 3) == pytest.approx(1.0)


# ---- the bounds ------------------------------------------------------------------------------
def _uniform_globe(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def _sample_pairs(seed: int = 20260101) -> tuple[np.ndarray, ...]:
    """10^6 pairs: uniform on the globe, short (1 m-100 km), near-antipodal, and the two tight spots."""
    rng = np.random.default_rng(seed)
    parts = []
    lon1, lat1 = _uniform_globe(rng, 300_000)  # long: uniform on the globe
    parts.append((lon1, lat1, *_uniform_globe(rng, 300_000)))
    lon1, lat1 = _uniform_globe(rng, 350_000)  # short, every latitude and azimuth
    dist = 10 ** rng.uniform(0, 5, 350_000)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(0, 360, 350_000), dist)
    parts.append((lon1, lat1, lon2, lat2))
    lon1, lat1 = _uniform_globe(rng, 200_000)  # near-antipodal, within 2 degrees of the antipode
    parts.append((lon1, lat1, np.mod(lon1 + 360, 360) - 180 + rng.uniform(-2, 2, 200_000),
                  np.clip(-lat1 + rng.uniform(-2, 2, 200_000), -90, 90)))
    n = 75_000  # the tight spots: meridional at the equator (lower), near the poles (upper)
    lat1 = rng.uniform(-0.5, 0.5, n)
    lon1 = rng.uniform(-180, 180, n)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.choice([0.0, 180.0], n), 10 ** rng.uniform(0, 4, n))
    parts.append((lon1, lat1, lon2, lat2))
    lat1 = rng.choice([-1, 1], n) * rng.uniform(89.9, 90, n)
    lon1 = rng.uniform(-180, 180, n)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(0, 360, n), 10 ** rng.uniform(0, 4, n))
    parts.append((lon1, lat1, lon2, lat2))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))


def _ratios() -> np.ndarray:
    lon1, lat1, lon2, lat2 = _sample_pairs()
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    chord = np.linalg.norm(unit_xyz(lon1, lat1) - unit_xyz(lon2, lat2), axis=1)
    theta = angle_from_chord(chord)  # exactly what the nearest-neighbour index computes
    keep = theta > 0
    assert keep.sum() > 999_000
    return np.asarray(dist)[keep] / theta[keep]


@pytest.fixture(scope="module")
def ratios() -> np.ndarray:
    return _ratios()


def test_bound_constants_bracket_the_analytic_radii():
    assert MERIDIAN_RADIUS_EQUATOR_M == pytest.approx(6_335_439.327, abs=0.001)
    assert POLAR_RADIUS_OF_CURVATURE_M == pytest.approx(6_399_593.626, abs=0.001)
    assert 0 < MERIDIAN_RADIUS_EQUATOR_M - GEODESIC_M_PER_RADIAN_LOWER < 1000
    assert 0 < GEODESIC_M_PER_RADIAN_UPPER - POLAR_RADIUS_OF_CURVATURE_M < 1000


def test_lower_bound_holds_for_a_million_pairs(ratios):
    worst = float(ratios.min())
    assert worst >= GEODESIC_M_PER_RADIAN_LOWER, worst
    # ...and the sampling reached the tight spot, so the test can see a bad constant.
    assert worst < MERIDIAN_RADIUS_EQUATOR_M + 1.0, worst


def test_upper_bound_holds_for_a_million_pairs(ratios):
    worst = float(ratios.max())
    assert worst <= GEODESIC_M_PER_RADIAN_UPPER, worst
    assert worst > POLAR_RADIUS_OF_CURVATURE_M - 1.0, worst

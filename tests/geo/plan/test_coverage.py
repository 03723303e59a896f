"""Coverage maths against hand-checked cases and brute force with geodesic_m."""
from __future__ import annotations

import math

import numpy as np
import pytest

from geo.distance import WGS84_A_M, geodesic_m
from geo.plan.coverage import assess_coverage, weighted_percentile_m
from geo.plan.index import k_nearest_lists_m, nearest_m, pairs_within_m

EQUATOR_M_PER_DEG = WGS84_A_M * math.pi / 180  # along the equator the geodesic is the equator itself


def _random(seed: int, n: int, box=(113.0, 22.0, 113.3, 22.3)):
    rng = np.random.default_rng(seed)
    return rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)


def test_three_points_on_the_equator_by_hand():
    lon = np.array([0.005, 0.01, 0.02])
    lat = np.zeros(3)
    w = np.array([1.0, 2.0, 3.0])
    expected = np.array([0.005, 0.01, 0.02]) * EQUATOR_M_PER_DEG  # 556.6, 1113.2, 2226.4 m
    cov = assess_coverage(lon, lat, w, np.array([0.0]), np.array([0.0]), 1000.0)
    assert cov.nearest_m == pytest.approx(expected, abs=1e-6)
    assert cov.covered.tolist() == [True, False, False]
    assert cov.covered_share == pytest.approx(1 / 6)
    assert assess_coverage(lon, lat, w, np.array([0.0]), np.array([0.0]), 1200.0).covered_share == pytest.approx(0.5)
    assert cov.percentiles_m[50] == pytest.approx(expected[1], abs=1e-6)  # cumulative weight 1, 3, 6
    assert cov.percentiles_m[100] == pytest.approx(expected[2], abs=1e-6)
    assert [b.count for b in cov.bins] == [0, 0, 1, 1, 1, 0, 0]  # [0,250) [250,500) [500,1000) [1000,2000) ...
    assert sum(b.weight for b in cov.bins) == pytest.approx(6.0)


@pytest.mark.parametrize("seed", range(5))
def test_coverage_equals_brute_force(seed):
    lon, lat = _random(seed, 150)
    slon, slat = _random(100 + seed, 25)
    w = np.random.default_rng(seed).integers(0, 10, lon.size).astype(float)
    radius_m = 1500.0
    cov = assess_coverage(lon, lat, w, slon, slat, radius_m)
    brute = np.array([[geodesic_m(lon[i], lat[i], slon[j], slat[j]) for j in range(slon.size)] for i in range(lon.size)])
    assert cov.nearest_m == pytest.approx(brute.min(axis=1), abs=1e-6)
    assert (cov.nearest_index == brute.argmin(axis=1)).all()
    covered = brute.min(axis=1) <= radius_m
    assert cov.covered_share == pytest.approx(w[covered].sum() / w.sum())
    assert sum(b.weight for b in cov.bins) == pytest.approx(w.sum())


def test_no_station_and_no_weight():
    cov = assess_coverage(np.array([113.0]), np.array([22.0]), np.array([0.0]), np.zeros(0), np.zeros(0), 1000.0)
    assert cov.nearest_index.tolist() == [-1] and math.isinf(cov.nearest_m[0])
    assert cov.covered_share is None and cov.percentiles_m[50] is None


def test_nearest_ties_go_to_the_lower_index():
    index, dist = nearest_m(np.array([0.0]), np.array([0.0]), np.array([0.01, -0.01, 0.01]), np.array([0.0, 0.0, 0.0]))
    assert index.tolist() == [0]
    assert dist[0] == pytest.approx(0.01 * EQUATOR_M_PER_DEG, abs=1e-6)


def test_weighted_percentile_definition():
    d, w = np.array([10.0, 20.0, 30.0, 40.0]), np.array([1.0, 1.0, 1.0, 1.0])
    assert weighted_percentile_m(d, w, 50) == 20.0
    assert weighted_percentile_m(d, w, 51) == 30.0
    assert weighted_percentile_m(d, np.array([0.0, 0.0, 5.0, 0.0]), 10) == 30.0


@pytest.mark.parametrize("seed", range(3))
def test_pairs_within_and_k_lists_are_exact(seed):
    lon, lat = _random(seed, 80)
    clon, clat = _random(50 + seed, 60)
    brute = np.array([[geodesic_m(lon[i], lat[i], clon[j], clat[j]) for j in range(clon.size)] for i in range(lon.size)])
    i, j, d = pairs_within_m(lon, lat, clon, clat, 3000.0)
    assert set(zip(i.tolist(), j.tolist())) == set(zip(*np.nonzero(brute <= 3000.0)))
    assert d == pytest.approx(brute[i, j], abs=1e-6)
    idx, dist, outside = k_nearest_lists_m(lon, lat, clon, clat, 7)
    assert dist == pytest.approx(np.take_along_axis(brute, idx, 1), abs=1e-6)
    for row in range(lon.size):
        others = np.setdiff1d(np.arange(clon.size), idx[row])
        assert (brute[row, others] >= outside[row]).all()  # the bound the p-median relaxation rests on

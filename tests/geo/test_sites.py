"""Site choice against exact enumeration (itertools.combinations), hand-checked cases, and the
honesty of the heuristic's reported gap (never below the true gap)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from geo import plan_highs, sites
from geo.distance import WGS84_A_M, geodesic_m
from geo.plan_grid import GridTooLarge, grid_candidates
from geo.plan_index import nearest_m
from geo.sites import choose_sites

EQUATOR_M_PER_DEG = WGS84_A_M * math.pi / 180
needs_highs = pytest.mark.skipif(not plan_highs.available(), reason="highspy is not installed")


def _instance(seed: int, n: int = 30, m: int = 8, e: int = 2):
    rng = np.random.default_rng(seed)
    box = lambda k: (rng.uniform(113.0, 113.1, k), rng.uniform(22.0, 22.1, k))
    (lon, lat), (clon, clat), (elon, elat) = box(n), box(m), box(e)
    w = rng.integers(0, 6, n).astype(float)
    return lon, lat, w, elon, elat, clon, clat


def _optimum(inst, p: int, objective: str, radius_m: float) -> float:
    lon, lat, w, elon, elat, clon, clat = inst
    to_cand = np.array([[geodesic_m(lon[i], lat[i], clon[j], clat[j]) for j in range(clon.size)] for i in range(lon.size)])
    to_existing = np.array([min([geodesic_m(lon[i], lat[i], x, y) for x, y in zip(elon, elat)] or [math.inf])
                            for i in range(lon.size)])
    values = []
    for subset in itertools.combinations(range(clon.size), p):
        best = np.minimum(to_existing, to_cand[:, list(subset)].min(axis=1))
        if objective == "coverage":
            values.append(float(w[(best <= radius_m) & (to_existing > radius_m)].sum()))
        else:
            values.append(float((w * best).sum()))
    return max(values) if objective == "coverage" else min(values)


def _true_gap(value: float, optimum: float, objective: str) -> float:
    if objective == "coverage":
        return (optimum - value) / optimum if optimum > 0 else 0.0
    return (value - optimum) / value if value > 0 else 0.0


CASES = [(seed, p, objective) for seed in range(4) for p in (1, 2, 3) for objective in ("coverage", "distance")]


@needs_highs
@pytest.mark.parametrize("seed,p,objective", CASES)
def test_exact_equals_enumeration(seed, p, objective):
    inst = _instance(seed)
    plan = choose_sites(*inst, p=p, objective=objective, radius_m=2500.0, method="exact")
    optimum = _optimum(inst, p, objective, 2500.0)
    assert plan.value == pytest.approx(optimum, rel=1e-6, abs=1e-6)
    assert plan.proven_optimal
    assert len(plan.picks) == p and len({k.candidate for k in plan.picks}) == p


@pytest.mark.parametrize("seed,p,objective", CASES)
@pytest.mark.parametrize("with_highs", [True, False])
def test_heuristic_gap_is_never_smaller_than_the_true_gap(seed, p, objective, with_highs, monkeypatch):
    if with_highs and not plan_highs.available():
        pytest.skip("highspy is not installed")
    if not with_highs:
        monkeypatch.setattr(plan_highs, "available", lambda: False)
    inst = _instance(seed, n=40, m=9)
    plan = choose_sites(*inst, p=p, objective=objective, radius_m=2500.0, method="heuristic")
    optimum = _optimum(inst, p, objective, 2500.0)
    assert plan.gap >= _true_gap(plan.value, optimum, objective) - 1e-12
    if objective == "coverage":
        assert plan.bound >= optimum - 1e-9 and plan.value <= optimum + 1e-9
    else:
        assert plan.bound <= optimum + 1e-6 and plan.value >= optimum - 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_truncated_candidate_lists_keep_the_bound_sound(seed, monkeypatch):
    monkeypatch.setattr(sites, "LIST_BUDGET", 3 * 40)  # three candidates per demand row
    inst = _instance(seed, n=40, m=9, e=0)
    plan = choose_sites(*inst, p=2, objective="distance", radius_m=2500.0, method="auto")
    optimum = _optimum(inst, 2, "distance", 2500.0)
    assert plan.bound <= optimum + 1e-6
    assert plan.gap >= _true_gap(plan.value, optimum, "distance") - 1e-12


def test_three_points_on_a_line_by_hand():
    lon, lat, w = np.array([0.0, 0.01, 0.03]), np.zeros(3), np.array([1.0, 1.0, 1.0])
    none = np.zeros(0)
    plan = choose_sites(lon, lat, w, none, none, lon, lat, p=1, objective="distance", radius_m=1000.0)
    assert plan.picks[0].candidate == 1  # the median: 1113.2 + 0 + 2226.4 m
    assert plan.value == pytest.approx(0.03 * EQUATOR_M_PER_DEG, abs=1e-3)
    assert plan.picks[0].gain is None  # nothing served the demand before
    cover = choose_sites(lon, lat, w, none, none, lon, lat, p=1, objective="coverage", radius_m=1200.0)
    assert cover.picks[0].candidate in (0, 1) and cover.value == 2.0  # 0 and 0.01 are 1113 m apart
    existing = choose_sites(lon, lat, w, np.array([0.0]), np.array([0.0]), lon, lat, p=1, objective="coverage",
                            radius_m=1200.0)
    assert existing.before.covered_weight == 2.0 and existing.picks[0].candidate == 2 and existing.value == 1.0


@pytest.mark.parametrize("objective", ["coverage", "distance"])
def test_marginal_gains_add_up_and_do_not_grow(objective):
    inst = _instance(7, n=60, m=12)
    plan = choose_sites(*inst, p=4, objective=objective, radius_m=2500.0)
    gains = [k.gain for k in plan.picks]
    assert all(a >= b - 1e-6 for a, b in itertools.pairwise(gains))
    if objective == "coverage":
        assert sum(gains) == pytest.approx(plan.value)
        assert plan.after.covered_weight - plan.before.covered_weight == pytest.approx(plan.value)
    else:
        assert plan.before.weighted_distance - sum(gains) == pytest.approx(plan.value)


def test_bad_arguments_raise():
    inst = _instance(1)
    with pytest.raises(ValueError):
        choose_sites(*inst, p=0)
    with pytest.raises(ValueError):
        choose_sites(*inst, p=2, objective="nope")


@pytest.mark.parametrize("kind", ["hex", "square"])
def test_grid_spacing_in_metres(kind):
    lon, lat = np.array([113.0, 113.05, 113.1]), np.array([22.0, 22.04, 22.08])
    glon, glat = grid_candidates(lon, lat, 500.0, kind, reach_m=1000.0)
    _, d = nearest_m(glon[:1], glat[:1], glon[1:], glat[1:])
    assert d[0] == pytest.approx(500.0, rel=0.01)
    _, reach = nearest_m(glon, glat, lon, lat)
    assert (reach <= 1000.0).all()
    with pytest.raises(GridTooLarge):
        grid_candidates(lon, lat, 10.0, kind, reach_m=5000.0, limit=100)

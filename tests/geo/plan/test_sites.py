"""Site choice against exact enumeration (itertools.combinations), hand-checked cases, and the
honesty of the heuristic's reported gap (never below the true gap)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from geo.distance import WGS84_A_M, geodesic_m
from geo.plan import highs as plan_highs
from geo.plan import sites
from geo.plan.grid import GridTooLarge, grid_candidates
from geo.plan.index import nearest_m
from geo.plan.sites import choose_sites

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


# ---- issue 23: an honest p-median bound, the time limit, the same answer twice ---------------
def _exact_median(lon, lat, w, clon, clat, p: int, relaxed: bool = False) -> float:
    """The p-median optimum (or its LP relaxation's) by an independent model (x_ij assignments, y_j
    sites) solved by HiGHS."""
    import highspy
    from pyproj import Geod
    from scipy import sparse

    n, m = lon.size, clon.size
    _, _, dist = Geod(ellps="WGS84").inv(np.repeat(lon, m), np.repeat(lat, m), np.tile(clon, n), np.tile(clat, n))
    x = m + np.arange(n * m)  # column of x_ij = m + i * m + j; columns 0..m-1 are y_j
    rows = [sparse.csr_matrix((np.ones(n * m), (np.repeat(np.arange(n), m), x)), shape=(n, m + n * m)),  # sum_j x = 1
            sparse.csr_matrix((np.concatenate([np.ones(n * m), -np.ones(n * m)]),  # x_ij - y_j <= 0
                               (np.tile(np.arange(n * m), 2), np.concatenate([x, np.tile(np.arange(m), n)]))),
                              shape=(n * m, m + n * m)),
            sparse.csr_matrix((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, m + n * m))]  # sum y = p
    matrix = sparse.vstack(rows).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + n * m, matrix.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(m), np.repeat(w, m) * dist])
    lp.col_lower_, lp.col_upper_ = np.zeros(m + n * m), np.ones(m + n * m)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(n * m, -highspy.kHighsInf), [float(p)]])
    lp.row_upper_ = np.concatenate([np.ones(n), np.zeros(n * m), [float(p)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    if not relaxed:
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger] * m + [kinds.kContinuous] * (n * m)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)  # HiGHS's scheduler is global: the planner's own models use one thread
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def _median_case(seed: int, n: int, m: int):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(113.0, 113.5, n), rng.uniform(22.5, 23.0, n)
    w = rng.integers(1, 50, n).astype(float)
    return lon, lat, w, rng.uniform(113.0, 113.5, m), rng.uniform(22.5, 23.0, m)


@needs_highs
@pytest.mark.parametrize("method", ["heuristic", "auto"])
def test_median_bound_is_tight_on_a_known_optimum(method):
    lon, lat, w, clon, clat = _median_case(23, 150, 40)
    optimum = _exact_median(lon, lat, w, clon, clat, 6)
    none = np.zeros(0)
    plan = choose_sites(lon, lat, w, none, none, clon, clat, p=6, objective="distance", method=method,
                        time_limit_s=60.0, target_gap=0.0)
    assert plan.bound <= optimum * (1 + 1e-9)  # a proven bound ...
    assert plan.gap < 0.01 and plan.gap == pytest.approx((plan.value - plan.bound) / plan.value)  # ... and tight
    assert plan.proven_optimal is (plan.gap <= sites.OPTIMAL_GAP)
    assert not plan.time_limited
    if method == "auto":  # the MIP closes what the Lagrangian bound (here the LP's, 0.4 % below) leaves open
        assert plan.value == pytest.approx(optimum, rel=1e-9) and plan.proven_optimal


@needs_highs
@pytest.mark.parametrize("before", [None, 0.97])
def test_lagrangian_bound_reaches_the_lp_bound_whatever_bound_came_before(before):
    import time

    from geo.plan import median as plan_median

    lon, lat, w, clon, clat = _median_case(4, 600, 100)
    lp = _exact_median(lon, lat, w, clon, clat, 8, relaxed=True)  # the Lagrangian dual's best possible value
    inst = sites._median_instance(w, np.full(lon.size, np.inf), lon, lat, (clon, clat))
    chosen = plan_median.greedy(inst, 8)
    start = plan_median.Incumbent(chosen, plan_median.total(inst, chosen), -math.inf if before is None else before * lp)
    best = plan_median.lagrangian_search(inst, 8, start, time.monotonic() + 600, 0.0)
    assert lp * (1 - 1e-4) <= best.lower <= lp * (1 + 1e-9)  # a bound from HiGHS (say) must not stall the ascent
    assert not best.cut


def test_the_limit_counts_from_the_start_and_the_answer_says_it_stopped():
    inst = _instance(5, n=300, m=60)
    import time

    for objective in ("coverage", "distance"):
        plan = choose_sites(*inst, p=4, objective=objective, radius_m=2500.0, method="exact", time_limit_s=5.0,
                            started=time.monotonic() - 5.0)  # the request spent its whole limit before this
        assert plan.time_limited and plan.solver_time_s is None  # HiGHS was not started with no time left
        assert len(plan.picks) == 4


@needs_highs
def test_the_solver_gets_what_is_left_of_the_limit():
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(113.0, 113.6, 3000), rng.uniform(22.5, 23.1, 3000)
    clon, clat = rng.uniform(113.0, 113.6, 400), rng.uniform(22.5, 23.1, 400)
    none = np.zeros(0)
    plan = choose_sites(lon, lat, rng.integers(1, 9, 3000).astype(float), none, none, clon, clat, p=12,
                        objective="coverage", radius_m=1500.0, method="exact", time_limit_s=3.0)
    assert plan.solver_time_s is not None  # the MIP ran ...
    assert 0 < plan.solver_time_s <= 3.0 * (1 - sites.REPORT_SHARE)  # ... with what was left, less the report
    assert plan.time_limited == (plan.status == "Time limit reached")


def test_same_request_twice_same_answer():
    lon, lat, w, clon, clat = _median_case(4, 1200, 150)
    none = np.zeros(0)
    runs = [choose_sites(lon, lat, w, none, none, clon, clat, p=8, objective="distance", method="heuristic",
                         time_limit_s=60.0, target_gap=0.0) for _ in range(2)]
    assert not runs[0].time_limited and not runs[1].time_limited  # budgets, not the clock, ended the search
    assert [k.candidate for k in runs[0].picks] == [k.candidate for k in runs[1].picks]
    assert (runs[0].value, runs[0].bound, runs[0].gap) == (runs[1].value, runs[1].bound, runs[1].gap)


@needs_highs
def test_a_failed_highs_run_claims_no_bound():
    """HiGHS refuses to run when `threads` differs from the global scheduler another Highs started;
    its info then still shows a dual bound (of 0 here, above the true minimum -1): not a proof."""
    import highspy
    from scipy import sparse

    def one_of_two():
        return plan_highs.solve_min(np.array([-1.0, -1.0]), sparse.csr_matrix(np.ones((1, 2))), np.array([-np.inf]),
                                    np.array([1.0]), np.array([True, True]), 5.0)

    highspy.Highs.resetGlobalScheduler(True)
    try:
        other = highspy.Highs()
        other.setOptionValue("output_flag", False)
        other.setOptionValue("threads", 2)
        other.addVar(0.0, 1.0)
        other.changeColIntegrality(0, highspy.HighsVarType.kInteger)
        other.run()
        clashed = one_of_two()
        assert clashed.lower_bound is None and clashed.values is None and not clashed.optimal
    finally:
        highspy.Highs.resetGlobalScheduler(True)
    assert one_of_two().lower_bound == pytest.approx(-1.0, abs=1e-5)

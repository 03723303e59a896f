"""Suggested sites: choose p new stations among candidates, given the existing ones.

Objectives: `coverage` (maximal covering, MCLP: most demand weight newly within radius_m) and
`distance` (p-median: least sum of weight x geodesic metres to the nearest station, existing ones
included). Methods: `exact` (HiGHS MIP, time-limited), `heuristic` (greedy + swap, with a bound it
has proven: the submodular greedy bound for MCLP, a Lagrangian bound for p-median) and `auto`
(exact where the instance is small enough, else heuristic). Whatever the method, the reported value
is recomputed with exact geodesic distances and the gap is measured against a proven bound.
The time limit counts from `started` (the request's start; model building included): each phase
gets a deadline, HiGHS gets what is left when it starts, and the searches also have work budgets
(swap moves, subgradient steps) so that an answer they finish is the same on a busy machine as on
an idle one. When the clock stopped any phase first, `time_limited` says the answer is the best
found in the time given.
All positions WGS-84 (lon, lat) degrees; distances geodesic metres on the WGS-84 ellipsoid.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geo.plan import highs as plan_highs
from geo.plan import mclp as plan_mclp
from geo.plan import median as plan_median
from geo.plan.index import k_nearest_lists_m, nearest_m, pair_geodesic_m, pairs_within_m

LOGGER = logging.getLogger(__name__)
OBJECTIVES = ("coverage", "distance")
METHODS = ("auto", "exact", "heuristic")
MAX_P = 100
EXACT_COVER_NNZ = 3_000_000  # auto: MCLP MIP when the merged matrix has at most this many entries
EXACT_MEDIAN_PAIRS = 250_000  # auto: p-median MIP when at most this many useful (demand, site) pairs
LIST_BUDGET = 6_000_000  # p-median: at most this many (demand, candidate) distances are kept
OPTIMAL_GAP = 1e-5  # a relative gap this small is reported as a proven optimum
_BOUND_SLACK = 1e-9  # relative widening of our own float-computed bounds
SWAP_SHARE, BOUND_SHARE, REPORT_SHARE = 0.4, 0.6, 0.1  # phase deadlines, as shares of the time limit

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Pick:
    """One chosen site in rank order: its candidate index and what it adds given the earlier ones.

    gain: coverage: demand weight newly covered; distance: weight x metres saved (None when nothing
    served the demand before it, so the saving is unbounded).
    """

    rank: int
    candidate: int
    gain: float | None
    covered_weight_after: float
    weighted_distance_after: float | None


@dataclass(frozen=True)
class Situation:
    """Demand weight covered within the radius, and the weight x metres to the nearest station."""

    covered_weight: float
    covered_share: float | None
    weighted_distance: float | None  # sum of weight x metres; None when some demand has no station
    mean_distance_m: float | None


@dataclass(frozen=True)
class SitePlan:
    """The chosen sites, the objective's value, a proven bound on the optimum, and the gap between them."""

    objective: str
    p: int
    radius_m: float
    picks: tuple[Pick, ...]
    value: float  # coverage: newly covered weight (maximised); distance: weighted distance (minimised)
    bound: float  # coverage: proven upper bound; distance: proven lower bound
    gap: float  # relative, >= the true gap to the optimum
    proven_optimal: bool
    method: str
    status: str
    before: Situation
    after: Situation
    seconds: float
    time_limited: bool = False  # the clock stopped a phase: the best found in the time given
    solver_time_s: float | None = None  # the time limit HiGHS was given (None: HiGHS did not run)


@dataclass
class _Run:
    """The time limit of one call: its deadline (time.monotonic()), and what the clock did."""

    started: float
    limit_s: float
    cut: bool = False
    solver_time_s: float | None = None

    def by(self, share: float) -> float:
        """The moment `share` of the time limit has passed."""
        return self.started + share * self.limit_s

    def left(self, share: float = 1.0) -> float:
        """Seconds left until `by(share)` (negative once past it)."""
        return self.by(share) - time.monotonic()

    def solver(self, given_s: float, limited: bool) -> None:
        self.solver_time_s = given_s if self.solver_time_s is None else self.solver_time_s + given_s
        self.cut |= limited


def _situation(weight: np.ndarray, dist_m: np.ndarray, radius_m: float) -> Situation:
    total = float(weight.sum())
    covered = float(weight[dist_m <= radius_m].sum())
    finite = bool(np.all(np.isfinite(dist_m[weight > 0])))
    weighted = float((weight[weight > 0] * dist_m[weight > 0]).sum()) if finite else None
    return Situation(covered, covered / total if total > 0 else None, weighted,
                     weighted / total if weighted is not None and total > 0 else None)


def _cover_plan(w: np.ndarray, d0: np.ndarray, lon: np.ndarray, lat: np.ndarray, cand: tuple[np.ndarray, np.ndarray],
                p: int, radius_m: float, method: str, say: Progress, run: _Run) -> tuple[list[int], float, str, str]:
    """MCLP on the demand not yet covered: (sites, upper bound, method, status)."""
    open_rows = np.flatnonzero(d0 > radius_m)
    say("pairs")
    i, j, _ = pairs_within_m(lon[open_rows], lat[open_rows], cand[0], cand[1], radius_m)
    inst = plan_mclp.build_instance(i, j, w[open_rows], cand[0].size)
    say("greedy")
    chosen, value, upper = plan_mclp.greedy(inst, p)
    say("swap")
    chosen, value, cut = plan_mclp.swap(inst, chosen, run.by(SWAP_SHARE if method != "heuristic" else 1 - REPORT_SHARE))
    run.cut |= cut
    upper = min(upper, plan_mclp.submodular_bound(inst, chosen, p), float(inst.weight.sum()))
    used, status = "greedy_swap", "heuristic"
    small = inst.matrix.nnz <= EXACT_COVER_NNZ
    wants_exact = method == "exact" or (method == "auto" and small)
    if plan_highs.available() and (wants_exact or small) and value < upper * (1 - OPTIMAL_GAP):
        if run.left(1 - REPORT_SHARE) < plan_highs.MIN_TIME_S:
            run.cut = True  # no time left for the solver
        elif wants_exact:
            say("mip")
            answer = plan_mclp.solve_mip(inst, p, run.by(1 - REPORT_SHARE), chosen)
            if answer is not None:
                run.solver(answer.time_given_s, answer.time_limited)
                upper, status = min(upper, answer.upper_bound), answer.status
                if answer.value >= value:
                    chosen, value, used = list(answer.chosen), answer.value, answer.method
        else:
            say("bound")
            lp_upper, answer = plan_mclp.lp_bound(inst, p, run.by(1 - REPORT_SHARE))
            run.solver(answer.time_given_s, answer.time_limited)
            upper = min(upper, lp_upper) if lp_upper is not None else upper
    return chosen, upper * (1 + _BOUND_SLACK), used, status


def _median_instance(w: np.ndarray, d0: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                     cand: tuple[np.ndarray, np.ndarray]) -> plan_median.MedianInstance:
    n_cand = cand[0].size
    k = max(1, min(n_cand, LIST_BUDGET // max(1, lon.size)))
    idx, dist_m, outside_m = k_nearest_lists_m(lon, lat, cand[0], cand[1], k)
    floor_m = np.minimum(d0, outside_m)
    floor_m = np.where(np.isfinite(floor_m), floor_m, dist_m[:, -1])  # all candidates listed, none existing
    return plan_median.MedianInstance(idx, w[:, None] * dist_m, w * floor_m, n_cand)


def _median_plan(w: np.ndarray, d0: np.ndarray, lon: np.ndarray, lat: np.ndarray, cand: tuple[np.ndarray, np.ndarray],
                 p: int, method: str, target_gap: float, say: Progress, run: _Run) -> tuple[list[int], float, str, str]:
    """p-median: (sites, proven lower bound, method, status). The Lagrangian bound comes first (cheap,
    and often enough to prove the answer); the MIP, when wanted, then gets the time that is left."""
    say("pairs")
    inst = _median_instance(w, d0, lon, lat, cand)
    say("greedy")
    chosen = plan_median.greedy(inst, p)
    say("swap")
    chosen, cut = plan_median.swap(inst, chosen, run.by(SWAP_SHARE))
    run.cut |= cut
    upper = plan_median.total(inst, chosen)
    used, status = "greedy_swap", "heuristic"
    full = inst.cand.shape[1] == inst.n_candidates
    useful = int((inst.cost < inst.fallback[:, None]).sum())
    wants_exact = (full and plan_highs.available()
                   and (method == "exact" or (method == "auto" and useful <= EXACT_MEDIAN_PAIRS)))
    say("bound")
    best = plan_median.lagrangian_search(inst, p, plan_median.Incumbent(list(chosen), upper),
                                         run.by(BOUND_SHARE if wants_exact else 1 - REPORT_SHARE),
                                         OPTIMAL_GAP if wants_exact else target_gap)
    run.cut |= best.cut
    if best.upper < upper:
        chosen, upper, used = best.chosen, best.upper, "greedy_swap_lagrangian"
    lower = best.lower
    if wants_exact and upper - lower > OPTIMAL_GAP * abs(upper):
        if run.left(1 - REPORT_SHARE) < plan_highs.MIN_TIME_S:
            run.cut = True  # no time left for the solver
        else:
            say("mip")
            sites, mip_lower, answer = plan_median.solve_mip(inst, p, run.by(1 - REPORT_SHARE), chosen)
            run.solver(answer.time_given_s, answer.time_limited)
            status = answer.status
            lower = max(lower, mip_lower if mip_lower is not None else -math.inf)
            if sites is not None and plan_median.total(inst, sites) <= upper:
                chosen, upper, used = sites, plan_median.total(inst, sites), "highs_mip"
    return chosen, lower * (1 - _BOUND_SLACK) if lower > 0 else lower, used, status


def _order(w: np.ndarray, d0: np.ndarray, to_site_m: np.ndarray, radius_m: float, objective: str) -> list[int]:
    """Chosen sites re-ranked greedily by what each adds to the objective given the ones before it."""
    current, left, order = d0.copy(), list(range(to_site_m.shape[1])), []
    while left:
        if objective == "coverage":
            already = current <= radius_m
            scores = [-float(w[~already & (to_site_m[:, s] <= radius_m)].sum()) for s in left]
        else:
            scores = [float((w * np.minimum(current, to_site_m[:, s])).sum()) for s in left]
        best = left[int(np.argmin(scores))]
        order.append(best)
        left.remove(best)
        current = np.minimum(current, to_site_m[:, best])
    return order


def _picks(w: np.ndarray, d0: np.ndarray, to_site_m: np.ndarray, chosen: list[int], radius_m: float,
           objective: str) -> tuple[Pick, ...]:
    current, out = d0.copy(), []
    for rank, col in enumerate(_order(w, d0, to_site_m, radius_m, objective), start=1):
        before = _situation(w, current, radius_m)
        current = np.minimum(current, to_site_m[:, col])
        after = _situation(w, current, radius_m)
        if objective == "coverage":
            gain = after.covered_weight - before.covered_weight
        else:
            gain = None if before.weighted_distance is None else before.weighted_distance - after.weighted_distance
        out.append(Pick(rank, chosen[col], gain, after.covered_weight, after.weighted_distance))
    return tuple(out)


def choose_sites(demand_lon: np.ndarray, demand_lat: np.ndarray, weight: np.ndarray,
                 existing_lon: np.ndarray, existing_lat: np.ndarray, cand_lon: np.ndarray, cand_lat: np.ndarray,
                 p: int, objective: str = "coverage", radius_m: float = 1000.0, method: str = "auto",
                 time_limit_s: float = 20.0, target_gap: float = 1e-3,
                 progress: Progress | None = None, started: float | None = None) -> SitePlan:
    """Choose p of the WGS-84 candidates for `objective` given WGS-84 existing stations; radius in metres.

    The heuristic stops improving once its proven relative gap is at most `target_gap` or time is up;
    the time limit counts from `started` (time.monotonic(); default: now).
    """
    if objective not in OBJECTIVES or method not in METHODS:
        raise ValueError(f"objective must be one of {OBJECTIVES} and method one of {METHODS}")
    if not 1 <= p <= min(MAX_P, len(cand_lon)):
        raise ValueError(f"p must be between 1 and min({MAX_P}, number of candidates)")
    say = progress or (lambda _stage: None)
    run = _Run(time.monotonic() if started is None else started, float(time_limit_s))
    w_all = np.asarray(weight, dtype=float)
    rows = np.flatnonzero(w_all > 0)
    lon, lat, w = np.asarray(demand_lon, float)[rows], np.asarray(demand_lat, float)[rows], w_all[rows]
    cand = (np.asarray(cand_lon, float), np.asarray(cand_lat, float))
    say("existing")
    _, d0 = nearest_m(lon, lat, np.asarray(existing_lon, float), np.asarray(existing_lat, float))
    if objective == "coverage":
        chosen, bound, used, status = _cover_plan(w, d0, lon, lat, cand, p, radius_m, method, say, run)
    else:
        chosen, bound, used, status = _median_plan(w, d0, lon, lat, cand, p, method, target_gap, say, run)
    chosen = chosen + [j for j in range(cand[0].size) if j not in set(chosen)][: p - len(chosen)]
    say("report")
    to_site_m = pair_geodesic_m(np.repeat(lon, p), np.repeat(lat, p), np.tile(cand[0][chosen], lon.size),
                                np.tile(cand[1][chosen], lon.size)).reshape(lon.size, p)
    picks = _picks(w, d0, to_site_m, chosen, radius_m, objective)
    before = _situation(w, d0, radius_m)
    after = _situation(w, np.minimum(d0, to_site_m.min(axis=1)) if lon.size else d0, radius_m)
    if objective == "coverage":
        value = after.covered_weight - before.covered_weight
        bound = max(bound, value)
        gap = (bound - value) / bound if bound > 0 else 0.0
    else:
        value = after.weighted_distance if after.weighted_distance is not None else math.inf
        bound = min(bound, value)
        gap = (value - bound) / value if value > 0 else 0.0
    return SitePlan(objective, p, float(radius_m), picks, float(value), float(bound), float(max(gap, 0.0)),
                    bool(gap <= OPTIMAL_GAP), used, status, before, after, time.monotonic() - run.started,
                    run.cut, run.solver_time_s)

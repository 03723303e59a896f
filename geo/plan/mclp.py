"""Maximal covering (MCLP): choose p candidate sites that newly cover the most demand weight.

The instance is a 0/1 matrix `groups x candidates` (a group is demand points with the same set of
covering candidates, merged, weights summed; demand already covered by existing stations is left
out beforehand). Methods: greedy + swap (interchange) with a proven upper bound, the LP relaxation
bound, and the exact MIP through HiGHS. No geometry here: the matrix is built in `geo.plan.sites`.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from geo.plan import highs as plan_highs

LOGGER = logging.getLogger(__name__)
_EPS = 1e-9


@dataclass(frozen=True)
class CoverInstance:
    """Group weights (> 0) and which candidates cover each group (CSR, groups x candidates)."""

    weight: np.ndarray
    matrix: sparse.csr_matrix

    @property
    def n_candidates(self) -> int:
        return int(self.matrix.shape[1])


@dataclass(frozen=True)
class CoverAnswer:
    """Chosen candidates, the newly covered weight, a proven upper bound on it, and how it was found."""

    chosen: tuple[int, ...]
    value: float
    upper_bound: float
    method: str
    proven_optimal: bool
    status: str
    time_given_s: float = 0.0  # the time limit HiGHS was given
    time_limited: bool = False  # HiGHS stopped at it


def build_instance(demand: np.ndarray, candidate: np.ndarray, weight: np.ndarray, n_candidates: int) -> CoverInstance:
    """Merge demand rows covered by identical candidate sets; (demand, candidate) pairs sorted by demand."""
    if demand.size == 0:
        return CoverInstance(np.zeros(0), sparse.csr_matrix((0, n_candidates)))
    cuts = np.flatnonzero(np.diff(demand)) + 1
    groups: dict[bytes, float] = {}
    keys: dict[bytes, np.ndarray] = {}
    for rows in np.split(np.arange(demand.size), cuts):
        cands = candidate[rows]
        key = cands.astype(np.int64).tobytes()
        groups[key] = groups.get(key, 0.0) + float(weight[demand[rows[0]]])
        keys[key] = cands
    cols = list(keys.values())
    indptr = np.concatenate([[0], np.cumsum([c.size for c in cols])])
    matrix = sparse.csr_matrix((np.ones(indptr[-1]), np.concatenate(cols), indptr),
                               shape=(len(cols), n_candidates))
    return CoverInstance(np.fromiter(groups.values(), float, len(groups)), matrix)


def top_sum(values: np.ndarray, p: int) -> float:
    """Sum of the p largest entries (all of them when fewer)."""
    if values.size <= p:
        return float(values.sum())
    return float(np.partition(values, values.size - p)[values.size - p:].sum())


def greedy(inst: CoverInstance, p: int) -> tuple[list[int], float, float]:
    """Greedy picks, the weight they cover, and the best submodular bound f(S_k) + top-p gains seen."""
    csc = inst.matrix.tocsc()
    gains = np.asarray(inst.matrix.T @ inst.weight).ravel()
    uncovered = np.ones(inst.weight.size, dtype=bool)
    chosen: list[int] = []
    value, bound = 0.0, float(inst.weight.sum())
    for _ in range(min(p, inst.n_candidates)):
        bound = min(bound, value + top_sum(gains, p))
        masked = gains.copy()
        masked[chosen] = -1.0
        j = int(np.argmax(masked))
        chosen.append(j)
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        new = rows[uncovered[rows]]
        uncovered[new] = False
        value += float(inst.weight[new].sum())
        gains -= np.asarray(inst.matrix[new].T @ inst.weight[new]).ravel()
        gains[gains < 0] = 0.0  # float noise only
    return chosen, value, min(bound, value + top_sum(gains, p))


def swap(inst: CoverInstance, chosen: list[int], deadline: float, max_moves: int = 10_000
         ) -> tuple[list[int], float, bool]:
    """Interchange: replace a chosen site by an outside one while that strictly adds weight.

    Stops at a local optimum, after `max_moves` swaps or at `deadline` (time.monotonic()); the
    flag says whether the clock stopped it.
    """
    csc = inst.matrix.tocsc()
    w = inst.weight
    counts = np.asarray(inst.matrix[:, chosen].sum(axis=1)).ravel() if chosen else np.zeros(w.size)
    improved, moves, cut = True, 0, False
    while improved and moves < max_moves and not cut:
        if time.monotonic() >= deadline:
            cut = True
            break
        improved = False
        for slot in range(len(chosen)):
            s = chosen[slot]
            base = np.asarray(inst.matrix.T @ (w * (counts == 0))).ravel()
            rows = csc.indices[csc.indptr[s]:csc.indptr[s + 1]]
            alone = rows[counts[rows] == 1]
            loss = float(w[alone].sum())
            gains = base + np.asarray(inst.matrix[alone].T @ w[alone]).ravel()
            gains[chosen] = -1.0
            j = int(np.argmax(gains))
            if gains[j] - loss > _EPS * max(1.0, float(w.sum())) and moves < max_moves:
                counts[rows] -= 1
                counts[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]] += 1
                chosen[slot] = j
                improved, moves = True, moves + 1
            if time.monotonic() >= deadline:
                cut = True
                break
    return chosen, float(w[counts > 0].sum()), cut


def covered_value(inst: CoverInstance, chosen: list[int]) -> float:
    """Weight of the groups covered by at least one chosen candidate."""
    if not chosen:
        return 0.0
    return float(inst.weight[np.asarray(inst.matrix[:, chosen].sum(axis=1)).ravel() > 0].sum())


def submodular_bound(inst: CoverInstance, chosen: list[int], p: int) -> float:
    """f(S) + the p largest marginal gains w.r.t. S: an upper bound on the optimum for any S (submodularity)."""
    counts = np.asarray(inst.matrix[:, chosen].sum(axis=1)).ravel() if chosen else np.zeros(inst.weight.size)
    gains = np.asarray(inst.matrix.T @ (inst.weight * (counts == 0))).ravel()
    return covered_value(inst, chosen) + top_sum(gains, p)


def _mip_parts(inst: CoverInstance, p: int) -> tuple[np.ndarray, sparse.csc_matrix, np.ndarray, np.ndarray]:
    """min -w.z with z_g <= sum of covering y_j, sum y <= p; columns y (candidates) then z (groups)."""
    m, n = inst.matrix.shape
    cover_rows = sparse.hstack([-inst.matrix, sparse.identity(m, format="csr")])
    card_row = sparse.hstack([sparse.csr_matrix(np.ones((1, n))), sparse.csr_matrix((1, m))])
    matrix = sparse.vstack([cover_rows, card_row]).tocsc()
    cost = np.concatenate([np.zeros(n), -inst.weight])
    lower = np.full(m + 1, -np.inf)
    upper = np.concatenate([np.zeros(m), [float(p)]])
    return cost, matrix, lower, upper


def lp_bound(inst: CoverInstance, p: int, deadline: float) -> tuple[float | None, plan_highs.Answer]:
    """The LP relaxation's optimum, widened by the solver's safety margin (an upper bound, or None),
    solved until `deadline` (time.monotonic(), model building included); and HiGHS's answer."""
    cost, matrix, lower, upper = _mip_parts(inst, p)
    answer = plan_highs.solve_min(cost, matrix, lower, upper, None, math.inf, scale=inst.weight.sum(),
                                  deadline=deadline)
    return (None if answer.lower_bound is None else -answer.lower_bound), answer


def solve_mip(inst: CoverInstance, p: int, deadline: float, start: list[int]) -> CoverAnswer | None:
    """The exact MCLP by HiGHS until `deadline` (time.monotonic(), model building included),
    warm-started from `start`; None when HiGHS found nothing."""
    cost, matrix, lower, upper = _mip_parts(inst, p)
    n = inst.n_candidates
    guess = np.zeros(cost.size)
    guess[start] = 1.0
    counts = np.asarray(inst.matrix[:, start].sum(axis=1)).ravel() if start else np.zeros(inst.weight.size)
    guess[n:] = counts > 0
    integer = np.concatenate([np.ones(n, bool), np.zeros(inst.weight.size, bool)])
    answer = plan_highs.solve_min(cost, matrix, lower, upper, integer, math.inf, guess, inst.weight.sum(), deadline)
    if answer.values is None:
        return None
    picked = [int(j) for j in np.flatnonzero(answer.values[:n] > 0.5)]
    bound = -answer.lower_bound if answer.lower_bound is not None else float(inst.weight.sum())
    return CoverAnswer(tuple(picked), covered_value(inst, picked), bound, "highs_mip", answer.optimal,
                       answer.status, answer.time_given_s, answer.time_limited)

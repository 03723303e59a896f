"""p-median with existing facilities: open p candidates to minimise the sum of weight x distance to the
nearest open facility (existing ones included).

The instance is list-based: for each demand row, K candidates with their costs (weight x metres,
ascending) and a `fallback` cost that needs no new site: weight x min(distance to the nearest existing
station, a proven lower bound on the distance to any candidate outside the row's list). Any
assignment therefore costs at least what the instance says, so the Lagrangian bound below is a
proven lower bound on the true optimum; heuristic objectives are recomputed exactly by the caller.
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


@dataclass(frozen=True)
class MedianInstance:
    """cost[i, k] = weight_i x metres to candidate cand[i, k] (rows ascending); fallback[i] as above."""

    cand: np.ndarray
    cost: np.ndarray
    fallback: np.ndarray
    n_candidates: int


@dataclass(frozen=True)
class Assignment:
    """Per row: cost to the nearest and second-nearest open option, and which site is nearest (-1: fallback)."""

    first: np.ndarray
    second: np.ndarray
    site: np.ndarray


def assign(inst: MedianInstance, is_open: np.ndarray) -> Assignment:
    """Nearest and second-nearest open options of each row (rows are sorted, so first open = nearest)."""
    rows = np.arange(inst.cost.shape[0])
    opened = is_open[inst.cand]
    pos1 = np.argmax(opened, axis=1)
    a1 = np.where(opened[rows, pos1], inst.cost[rows, pos1], np.inf)
    opened[rows, pos1] = False
    pos2 = np.argmax(opened, axis=1)
    a2 = np.where(opened[rows, pos2], inst.cost[rows, pos2], np.inf)
    first = np.minimum(inst.fallback, a1)
    second = np.minimum(np.maximum(inst.fallback, a1), a2)
    site = np.where(a1 < inst.fallback, inst.cand[rows, pos1], -1)
    return Assignment(first, second, site)


def _gains(inst: MedianInstance, current: np.ndarray) -> np.ndarray:
    """Per candidate: how much opening it alone would lower the total, given per-row costs `current`."""
    saving = np.maximum(0.0, current[:, None] - inst.cost)
    return np.bincount(inst.cand.ravel(), saving.ravel(), minlength=inst.n_candidates)


def greedy(inst: MedianInstance, p: int) -> list[int]:
    """Open, p times, the candidate that lowers the instance's total cost the most."""
    current = inst.fallback.copy()
    chosen: list[int] = []
    for _ in range(min(p, inst.n_candidates)):
        gains = _gains(inst, current)
        gains[chosen] = -1.0
        j = int(np.argmax(gains))
        chosen.append(j)
        hit = inst.cand == j
        rows = np.flatnonzero(hit.any(axis=1))
        current[rows] = np.minimum(current[rows], inst.cost[hit])
    return chosen


def total(inst: MedianInstance, chosen: list[int]) -> float:
    """The instance's total cost with these sites open."""
    is_open = np.zeros(inst.n_candidates, dtype=bool)
    is_open[chosen] = True
    return float(assign(inst, is_open).first.sum())


def swap(inst: MedianInstance, chosen: list[int], deadline: float, max_moves: int = 10_000) -> tuple[list[int], bool]:
    """Interchange (a Whitaker-style fast swap): for each open site, the best replacement, if it helps.

    Stops at a local optimum or after `max_moves` swaps (both decided by the data alone) or at
    `deadline` (time.monotonic()); the flag says whether the clock stopped it.
    """
    is_open = np.zeros(inst.n_candidates, dtype=bool)
    is_open[chosen] = True
    improved, moves = True, 0
    tolerance = 1e-9 * max(1.0, float(inst.fallback.sum()))
    while improved and moves < max_moves:
        if time.monotonic() >= deadline:
            return chosen, True
        improved = False
        state = assign(inst, is_open)
        base = _gains(inst, state.first)
        for slot in range(len(chosen)):
            s = chosen[slot]
            rows = np.flatnonzero(state.site == s)
            loss = float((state.second[rows] - state.first[rows]).sum())
            cand, cost = inst.cand[rows], inst.cost[rows]
            extra = (np.maximum(0.0, state.second[rows, None] - cost)
                     - np.maximum(0.0, state.first[rows, None] - cost))
            gains = base + np.bincount(cand.ravel(), extra.ravel(), minlength=inst.n_candidates)
            gains[is_open] = -np.inf
            j = int(np.argmax(gains))
            if gains[j] - loss > tolerance and moves < max_moves:
                is_open[s], is_open[j] = False, True
                chosen[slot] = j
                improved, moves = True, moves + 1
                state = assign(inst, is_open)
                base = _gains(inst, state.first)
            if time.monotonic() >= deadline:
                return chosen, True
    return chosen, False


@dataclass
class Incumbent:
    """The best solution and bound seen so far; `cut` once the clock (not a budget) stopped a search."""

    chosen: list[int]
    upper: float
    lower: float = -np.inf
    cut: bool = False


def _dual_step(inst: MedianInstance, p: int, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """L(lam) = sum lam + sum min(0, fallback - lam) + (sum of the p smallest rho_j), with
    rho_j = sum_i min(0, cost_ij - lam_i): a lower bound on the optimum for ANY lam. Also the
    relaxation's open set and the subgradient of L at lam."""
    below = inst.cost < lam[:, None]
    width = max(1, int(below.sum(axis=1).max()))  # rows are sorted: only a prefix can be below lam
    cand, cost, below = inst.cand[:, :width], inst.cost[:, :width], below[:, :width]
    rho = np.bincount(cand.ravel(), np.minimum(0.0, cost - lam[:, None]).ravel(), minlength=inst.n_candidates)
    open_set = np.argpartition(rho, p - 1)[:p] if p < rho.size else np.arange(rho.size)
    bound = float(lam.sum() + np.minimum(0.0, inst.fallback - lam).sum() + rho[open_set].sum())
    is_open = np.zeros(inst.n_candidates, dtype=bool)
    is_open[open_set] = True
    grad = 1.0 - (inst.fallback < lam) - (below & is_open[cand]).sum(axis=1)
    return bound, open_set, grad


LAGRANGE_ITERATIONS = 4000  # subgradient steps at most (a budget: the same instance takes the same steps)
LAGRANGE_RESTARTS = 8  # swap searches seeded from the relaxation's open set, at most


def lagrangian_search(inst: MedianInstance, p: int, best: Incumbent, deadline: float, target_gap: float,
                      iterations: int = LAGRANGE_ITERATIONS, restarts: int = LAGRANGE_RESTARTS) -> Incumbent:
    """Subgradient ascent on the Lagrangian dual (assignment rows relaxed) for a proven lower bound.

    Polyak steps towards the incumbent's value, the step factor halved whenever the dual has not
    improved for a while (measured against this search's own best, not bounds found elsewhere);
    now and then the relaxation's open set seeds a swap search for a better solution. Stops when
    the gap is at most `target_gap`, the steps have shrunk to nothing, the iteration budget is spent,
    or at `deadline` (then `best.cut` is set).
    """
    is_open = np.zeros(inst.n_candidates, dtype=bool)
    is_open[best.chosen] = True
    lam = np.minimum(assign(inst, is_open).first, inst.fallback)
    factor, stall, own_best, seen, tried_restarts = 2.0, 0, -np.inf, set(), 0
    restart_every = max(1, iterations // (4 * max(1, restarts)))
    for it in range(iterations):
        if time.monotonic() > deadline:
            best.cut = True
            break
        bound, open_set, grad = _dual_step(inst, p, lam)
        best.lower = max(best.lower, bound)
        if bound > own_best + 1e-12 * abs(bound):
            own_best, stall = bound, 0
        else:
            stall += 1
            if stall >= 30:
                factor, stall = factor / 2.0, 0
        key = frozenset(open_set.tolist())
        if tried_restarts < restarts and it % restart_every == restart_every - 1 and key not in seen:
            seen.add(key)
            tried_restarts += 1
            tried, cut = swap(inst, [int(j) for j in open_set], deadline)
            best.cut |= cut
            value = total(inst, tried)
            if value < best.upper:
                best.chosen, best.upper = tried, value
        norm = float(grad @ grad)
        if norm == 0.0 or best.upper - best.lower <= target_gap * abs(best.upper) or factor < 1e-5:
            break
        lam = np.clip(lam + factor * max(best.upper - bound, 0.0) / norm * grad, 0.0, inst.fallback)
    return best


def solve_mip(inst: MedianInstance, p: int, deadline: float, start: list[int]
              ) -> tuple[list[int] | None, float | None, plan_highs.Answer]:
    """Exact p-median (savings form) by HiGHS until `deadline` (time.monotonic(), model building
    included): (sites or None when it found none, proven lower bound or None, HiGHS's answer)."""
    n_rows, _width = inst.cost.shape
    useful = inst.cost < inst.fallback[:, None]
    row, col = np.nonzero(useful)
    pair_cand, saving = inst.cand[row, col], (inst.fallback[row] - inst.cost[row, col])
    n, m = inst.n_candidates, row.size
    pair_ids = np.arange(m)
    assign_rows = sparse.csr_matrix((np.ones(m), (row, n + pair_ids)), shape=(n_rows, n + m))
    link_rows = sparse.csr_matrix((np.concatenate([np.ones(m), -np.ones(m)]),
                                   (np.concatenate([pair_ids, pair_ids]), np.concatenate([n + pair_ids, pair_cand]))),
                                  shape=(m, n + m))
    card = sparse.csr_matrix((np.ones(n), (np.zeros(n, int), np.arange(n))), shape=(1, n + m))
    matrix = sparse.vstack([assign_rows, link_rows, card]).tocsc()
    lower = np.concatenate([np.full(n_rows + m, -np.inf), [float(p)]])
    upper = np.concatenate([np.ones(n_rows), np.zeros(m), [float(p)]])
    cost = np.concatenate([np.zeros(n), -saving])
    guess = np.zeros(n + m)
    guess[start] = 1.0
    state = assign(inst, guess[:n] > 0.5)
    guess[n:] = (pair_cand == state.site[row]).astype(float)
    integer = np.concatenate([np.ones(n, bool), np.zeros(m, bool)])
    constant = float(inst.fallback.sum())
    answer = plan_highs.solve_min(cost, matrix, lower, upper, integer, math.inf, guess, constant, deadline)
    bound = None if answer.lower_bound is None else constant + answer.lower_bound
    if answer.values is None:
        return None, bound, answer
    return [int(j) for j in np.flatnonzero(answer.values[:n] > 0.5)], bound, answer

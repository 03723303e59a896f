"""A thin, optional bridge to the HiGHS solver (`highspy`) for the planner's exact models.

Models are minimisations `min c.x` with `row_lower <= A x <= row_upper`, `0 <= x <= 1`, some
columns integer. When highspy is not installed `available()` is False and callers fall back to
their heuristics (which carry their own proven bounds).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

LOGGER = logging.getLogger(__name__)

try:  # optional dependency: pip install highspy
    import highspy
except ImportError:  # pragma: no cover - exercised only where highspy is absent
    highspy = None

# HiGHS works to feasibility/optimality tolerances of ~1e-7; a bound we report is widened by this
# much (relative to the objective's scale) so that float error never makes a gap look smaller.
BOUND_SAFETY = 1e-6
MIN_TIME_S = 0.05  # HiGHS is never given less than this (callers skip it when less is left)


@dataclass(frozen=True)
class Answer:
    """What HiGHS found: column values, objective, a proven lower bound (minimisation), status."""

    status: str
    values: np.ndarray | None
    objective: float | None
    lower_bound: float | None
    optimal: bool
    time_given_s: float = 0.0  # the time limit HiGHS was given, measured when it started
    time_limited: bool = False  # HiGHS stopped at that limit


def available() -> bool:
    """Whether highspy can be imported."""
    return highspy is not None


def _model(cost: np.ndarray, matrix: sparse.csc_matrix, row_lower: np.ndarray, row_upper: np.ndarray,
           integer: np.ndarray | None) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(cost.size), int(matrix.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.zeros(cost.size)
    lp.col_upper_ = np.ones(cost.size)
    lp.row_lower_ = np.asarray(row_lower, dtype=float)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    if integer is not None:
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger if flag else kinds.kContinuous for flag in integer]
    return lp


def solve_min(cost: np.ndarray, matrix: sparse.spmatrix, row_lower: np.ndarray, row_upper: np.ndarray,
              integer: np.ndarray | None, time_limit_s: float, start: np.ndarray | None = None,
              scale: float = 1.0, deadline: float | None = None) -> Answer:
    """Minimise cost.x over the 0..1 box and the rows; `integer=None` solves the LP relaxation.

    `scale` is the magnitude used to widen the reported lower bound by BOUND_SAFETY. With a
    `deadline` (time.monotonic()), HiGHS gets what is left of it once the model is passed, so model
    building counts against the limit too; `time_limit_s` then only caps it.
    """
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", 1e-7)
    solver.setOptionValue("threads", 1)
    solver.passModel(_model(cost, sparse.csc_matrix(matrix), row_lower, row_upper, integer))
    if start is not None and integer is not None:
        guess = highspy.HighsSolution()
        guess.col_value = [float(v) for v in start]
        guess.value_valid = True
        solver.setSolution(guess)
    given = time_limit_s if deadline is None else min(time_limit_s, deadline - time.monotonic())
    given = float(max(given, MIN_TIME_S))
    solver.setOptionValue("time_limit", given)
    ran = solver.run()
    status = solver.getModelStatus()
    name = solver.modelStatusToString(status)
    if ran == highspy.HighsStatus.kError or status == highspy.HighsModelStatus.kNotset:
        # e.g. `threads` clashing with a scheduler another Highs object started: its info (a dual
        # bound of 0, say) describes no solve, so nothing of it may count as a bound
        LOGGER.warning("HiGHS did not solve the model: %s, %s", ran, name)
        return Answer(name, None, None, None, False, given, False)
    info = solver.getInfo()
    optimal = status == highspy.HighsModelStatus.kOptimal
    has_value = optimal or (integer is not None and info.primal_solution_status >= 1)
    values = np.asarray(solver.getSolution().col_value, dtype=float) if has_value else None
    objective = float(info.objective_function_value) if has_value else None
    if integer is None:
        bound = objective if optimal else None
    else:
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    if bound is not None:
        bound -= BOUND_SAFETY * max(abs(scale), abs(bound), 1.0)
    LOGGER.info("HiGHS: %s, objective %s, bound %s, %.2f s", name, objective, bound, solver.getRunTime())
    return Answer(name, values, objective, bound, optimal, given, status == highspy.HighsModelStatus.kTimeLimit)

"""k-d tree search by chord on unit-sphere points (x, y, z): the candidate step of nearest.

A nearest answer asks one point at a time. scipy's cKDTree spends ~13 us of Python-level set-up
on every single-point query; pykdtree answers the same query (same neighbours, same float64
distances) in ~2.7 us, a tenth of a nearest answer's time. pykdtree parallelises over query
points with OpenMP: for one point a team of threads would only spin (measured: 180 us of CPU a
query with two threads), so its bundled libgomp is loaded with OMP_NUM_THREADS=1 and checked;
if that cannot be ensured (pykdtree imported elsewhere first, or absent), cKDTree is used.
Radius listings (`ball`) use cKDTree, built on first use.
"""
from __future__ import annotations

import ctypes
import logging
import math
import os
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

LOGGER = logging.getLogger(__name__)


def _single_threaded_pykdtree():
    """pykdtree's KDTree class when its OpenMP runs one thread, else None."""
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # read once, when the bundled libgomp is loaded
    try:
        import pykdtree
        from pykdtree.kdtree import KDTree
    except ImportError:
        return None
    finally:
        if previous is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = previous
    libs = sorted(Path(pykdtree.__file__).resolve().parent.parent.glob("pykdtree.libs/libgomp*.so*"))
    try:
        threads = ctypes.CDLL(str(libs[0])).omp_get_max_threads() if libs else 1
    except (OSError, AttributeError):
        threads = None
    if threads != 1:
        LOGGER.warning("pykdtree's OpenMP would run %s threads a query; using scipy's cKDTree", threads)
        return None
    return KDTree


_KDTree = _single_threaded_pykdtree()
ENGINE = "pykdtree" if _KDTree is not None else "scipy.cKDTree"


class ChordTree:
    """Points on the unit sphere; the k nearest of a point by chord, and all within a chord."""

    def __init__(self, xyz: np.ndarray) -> None:
        self._xyz = np.ascontiguousarray(xyz, dtype=np.float64)
        self.n = len(self._xyz)
        self._knn = _KDTree(self._xyz) if _KDTree is not None else cKDTree(self._xyz)
        self._ball: cKDTree | None = self._knn if _KDTree is None else None

    def nearest(self, q: np.ndarray, k: int, bound: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
        """(chords, indexes) of the k points nearest to q (3,), nearest first; with `bound`, only
        those closer than it (so possibly fewer than k). Requires 1 <= k <= n."""
        if _KDTree is not None:
            if bound == math.inf:
                chords, idx = self._knn.query(q.reshape(1, 3), k=k)
            else:
                chords, idx = self._knn.query(q.reshape(1, 3), k=k, distance_upper_bound=bound)
            chords, idx = chords.reshape(-1), idx.reshape(-1).astype(np.int64)
        elif bound == math.inf:  # an explicit bound costs cKDTree ~5 us per call
            chords, idx = self._knn.query(q, k=[*range(1, k + 1)] if k == 1 else k)
        else:
            chords, idx = self._knn.query(q, k=k, distance_upper_bound=bound)
        if bound != math.inf:
            found = idx < self.n
            chords, idx = chords[found], idx[found]
        return chords, idx

    def ball(self, q: np.ndarray, chord: float) -> np.ndarray:
        """Indexes of every point within `chord` of q (3,)."""
        if self._ball is None:
            self._ball = cKDTree(self._xyz)
        return np.asarray(self._ball.query_ball_point(q, chord), np.int64)

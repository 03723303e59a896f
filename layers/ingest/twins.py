"""The first twin of every row: for each row, the earliest earlier row with the same name within
DUPLICATE_RADIUS_M geodesic metres (WGS-84 ellipsoid), found without listing every close pair.

Rows are grouped first by name and exact position (a thousand rows geocoded to one town centre are
one point here), then those points are searched in one k-d tree whose fourth axis is the name's
number (points of different names are >= 1 apart there, far beyond the 10 m chord, so they never
meet). Each point needs only the earliest close point: the close pairs are listed at once only when
a dual-tree count says they are few, else fetched in batches of at most BATCH_ENTRIES entries
(memory bounded either way), and a chord short enough to prove the geodesic
<= 10 m (GEODESIC_M_PER_RADIAN_UPPER) spares the exact geodesic for all but the thin shell near
10 m. Many rows at one point, or many names at one point, cost O(n log n); only many *distinct*
positions of one name all within 10 m of each other still cost their pairs in time (not memory).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.distance import (
    GEODESIC_M_PER_RADIAN_LOWER,
    GEODESIC_M_PER_RADIAN_UPPER,
    chord_from_angle,
    geodesic_m,
    unit_xyz,
)

LOGGER = logging.getLogger(__name__)
DUPLICATE_RADIUS_M = 10.0
CHORD_OUT = float(chord_from_angle(DUPLICATE_RADIUS_M / GEODESIC_M_PER_RADIAN_LOWER)) * (1 + 1e-9)
CHORD_IN = float(chord_from_angle(DUPLICATE_RADIUS_M / GEODESIC_M_PER_RADIAN_UPPER)) * (1 - 1e-9)
BATCH_ENTRIES = 1 << 20  # close-point entries fetched from the tree at a time
_TREE = {"balanced_tree": False, "compact_nodes": False}


def name_codes(*name_arrays: np.ndarray) -> list[np.ndarray]:
    """One integer per distinct name, shared across the arrays given (exact text equality)."""
    sizes = [len(a) for a in name_arrays]
    codes = pd.factorize(np.concatenate(name_arrays) if name_arrays else np.empty(0, object))[0]
    return np.split(codes.astype(float), np.cumsum(sizes)[:-1])


def keyed_points(lon: np.ndarray, lat: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(n, 4): unit-sphere xyz of WGS-84 lon/lat and the name's number (different names never within a chord)."""
    return np.column_stack([unit_xyz(lon, lat), codes]) if len(lon) else np.empty((0, 4))


def distinct_points(lon: np.ndarray, lat: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group of each row, first row of each group): rows of one name at one exact position form a
    group; groups are numbered in the order of their first row (hashing, no sort)."""
    if len(lon) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lon_code, lons = pd.factorize(lon)
    lat_code, lats = pd.factorize(lat)
    named = pd.factorize(codes.astype(np.int64) * len(lons) + lon_code)[0]  # both < n: no overflow
    group = pd.factorize(named.astype(np.int64) * len(lats) + lat_code)[0]
    return group, np.unique(group, return_index=True)[1]


def first_twins(lon: np.ndarray, lat: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(twin, metres) per row (WGS-84 lon/lat degrees): the earliest earlier row with the same name
    within 10 m geodesic, -1 (and NaN) for a row with none."""
    n = len(lon)
    twin, metres = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    if n < 2:
        return twin, metres
    (codes,) = name_codes(names)
    group, first = distinct_points(lon, lat, codes)
    earliest = _earliest_close(lon[first], lat[first], keyed_points(lon[first], lat[first], codes[first]))
    row_of = first[earliest[group]]  # the earliest row close to each row's point (maybe the row itself)
    later = row_of < np.arange(n)
    twin[later] = row_of[later]
    apart = np.zeros(len(first))  # metres from each point to its earliest close point
    for g in np.flatnonzero(earliest != np.arange(len(first))).tolist():
        h = int(earliest[g])
        apart[g] = geodesic_m(lon[first[g]], lat[first[g]], lon[first[h]], lat[first[h]])
    metres[later] = apart[group[later]]
    return twin, metres


def _earliest_close(lon: np.ndarray, lat: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each distinct point i (in first-row order), the smallest j <= i whose point has the same
    name and lies within 10 m geodesic; i itself when there is none. The close pairs are listed at
    once when they are few (counted first by a dual-tree walk, which never lists them), else
    fetched point by point in batches of at most BATCH_ENTRIES."""
    n = len(points)
    best = np.arange(n)
    tree = cKDTree(points, **_TREE)
    if (tree.count_neighbors(tree, CHORD_OUT) - n) // 2 <= BATCH_ENTRIES:
        pairs = tree.query_pairs(CHORD_OUT, output_type="ndarray")
        _settle(best, pairs.max(axis=1), pairs.min(axis=1), points, lon, lat)
        return best
    counts = np.asarray(tree.query_ball_point(points, CHORD_OUT, return_length=True))
    crowded = np.flatnonzero(counts > 1)
    start = 0
    while start < len(crowded):
        stop = start + max(1, int(np.searchsorted(np.cumsum(counts[crowded[start:]]), BATCH_ENTRIES)))
        _improve(best, crowded[start:stop], tree, points, lon, lat)
        start = stop
    return best


def _improve(best: np.ndarray, owners: np.ndarray, tree: cKDTree, points: np.ndarray, lon: np.ndarray,
             lat: np.ndarray) -> None:
    """best[i] for the points `owners`: the earliest close point, sure ones by chord, the shell by geodesic."""
    found = cKDTree(points[owners], **_TREE).sparse_distance_matrix(tree, CHORD_OUT, output_type="ndarray")
    owner, other = owners[found["i"]], found["j"].astype(np.int64)  # listed in C: no Python list per point
    keep = other < owner
    _settle(best, owner[keep], other[keep], points, lon, lat)


def _settle(best: np.ndarray, owner: np.ndarray, other: np.ndarray, points: np.ndarray, lon: np.ndarray,
            lat: np.ndarray) -> None:
    """Lower best[i] to j for close candidates (i = owner, j = other < i): sure ones by chord, the
    shell near 10 m by the exact geodesic."""
    chord = np.linalg.norm(points[owner, :3] - points[other, :3], axis=1)
    sure = chord <= CHORD_IN
    np.minimum.at(best, owner[sure], other[sure])
    shell = ~sure & (other < best[owner])
    for i, j in zip(owner[shell].tolist(), other[shell].tolist()):
        if j < best[i] and geodesic_m(lon[i], lat[i], lon[j], lat[j]) <= DUPLICATE_RADIUS_M:
            best[i] = j

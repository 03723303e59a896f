"""Exact geodesic neighbour searches for the planner: a k-d tree on unit-sphere vectors prefilters,
the WGS-84 geodesic decides.

Soundness rests on `geo.distance`'s proven bounds: for any two points with central angle theta,
GEODESIC_M_PER_RADIAN_LOWER * theta <= geodesic_m <= GEODESIC_M_PER_RADIAN_UPPER * theta.
So a ball of angle radius_m / LOWER around a point holds every point within radius_m geodesic
metres, and a point at angle theta is at least LOWER * theta metres away. All inputs and outputs
are WGS-84 (lon, lat) degrees and metres.
"""
from __future__ import annotations

import logging
import math

import numpy as np
from pyproj import Geod
from scipy.spatial import cKDTree

from geo.distance import (
    GEODESIC_M_PER_RADIAN_LOWER,
    angle_from_chord,
    chord_from_angle,
    unit_xyz,
)

LOGGER = logging.getLogger(__name__)
_GEOD = Geod(ellps="WGS84")  # the same ellipsoid and algorithm as geo.distance.geodesic_m
_CHORD_SLACK = 1e-12  # absorbs float error in chord lengths computed from float64 vectors
_TIE_M = 0.001  # distances are compared at millimetre resolution


def pair_geodesic_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Element-wise geodesic metres between WGS-84 (lon1, lat1)[k] and (lon2, lat2)[k] (WGS-84 ellipsoid)."""
    lon1 = np.asarray(lon1, dtype=float)
    if lon1.size == 0:
        return np.zeros(lon1.shape, dtype=float)
    _, _, dist = _GEOD.inv(lon1, np.asarray(lat1, dtype=float), np.asarray(lon2, dtype=float),
                           np.asarray(lat2, dtype=float))
    return np.asarray(dist, dtype=float)


def chord_for_radius_m(radius_m: float) -> float:
    """A unit-sphere chord length enclosing every point within `radius_m` geodesic metres."""
    angle = radius_m / GEODESIC_M_PER_RADIAN_LOWER
    return 2.0 + _CHORD_SLACK if angle >= math.pi else float(chord_from_angle(angle)) + _CHORD_SLACK


def lower_bound_m_from_chord(chord: np.ndarray) -> np.ndarray:
    """A proven lower bound in geodesic metres for points at this unit-sphere chord (slack removed)."""
    return GEODESIC_M_PER_RADIAN_LOWER * angle_from_chord(np.maximum(np.asarray(chord) - _CHORD_SLACK, 0.0))


def nearest_m(src_lon: np.ndarray, src_lat: np.ndarray, dst_lon: np.ndarray, dst_lat: np.ndarray,
              first_k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """For each WGS-84 source point: index of the geodesically nearest destination and its distance in metres.

    Ties (at millimetre resolution) go to the lower destination index. With no destination the index
    is -1 and the distance +inf.
    """
    n_src, n_dst = len(src_lon), len(dst_lon)
    index = np.full(n_src, -1, dtype=np.int64)
    dist = np.full(n_src, np.inf)
    if n_src == 0 or n_dst == 0:
        return index, dist
    tree = cKDTree(unit_xyz(dst_lon, dst_lat))
    xyz = unit_xyz(src_lon, src_lat)
    k = min(first_k, n_dst)
    chords, idx = tree.query(xyz, k=k)
    chords, idx = chords.reshape(n_src, k), idx.reshape(n_src, k)
    exact = pair_geodesic_m(np.repeat(src_lon, k), np.repeat(src_lat, k), dst_lon[idx.ravel()],
                            dst_lat[idx.ravel()]).reshape(n_src, k)
    index[:], dist[:] = _pick(idx, exact)
    settled = (k == n_dst) | (lower_bound_m_from_chord(chords[:, -1]) > dist + _TIE_M)
    for i in np.flatnonzero(~settled):
        ball = np.asarray(tree.query_ball_point(xyz[i], chord_for_radius_m(dist[i] + _TIE_M)), dtype=np.int64)
        d = pair_geodesic_m(np.full(ball.size, src_lon[i]), np.full(ball.size, src_lat[i]),
                            dst_lon[ball], dst_lat[ball])
        best_index, best_m = _pick(ball[None, :], d[None, :])
        index[i], dist[i] = best_index[0], best_m[0]
    return index, dist


def _pick(idx: np.ndarray, exact_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise nearest by (distance rounded to mm, index)."""
    rounded = np.round(exact_m, 3)
    best = rounded.min(axis=1, keepdims=True)
    masked = np.where(rounded == best, idx, np.iinfo(np.int64).max)
    col = np.argmin(masked, axis=1)
    rows = np.arange(idx.shape[0])
    return idx[rows, col], exact_m[rows, col]


def pairs_within_m(src_lon: np.ndarray, src_lat: np.ndarray, dst_lon: np.ndarray, dst_lat: np.ndarray,
                   radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source i, destination j, geodesic metres) with distance <= radius_m, sorted by (i, j)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(src_lon) == 0 or len(dst_lon) == 0:
        return empty
    src_tree, dst_tree = cKDTree(unit_xyz(src_lon, src_lat)), cKDTree(unit_xyz(dst_lon, dst_lat))
    found = src_tree.sparse_distance_matrix(dst_tree, chord_for_radius_m(radius_m), output_type="ndarray")
    if found.size == 0:
        return empty
    i, j = found["i"].astype(np.int64), found["j"].astype(np.int64)
    d = pair_geodesic_m(src_lon[i], src_lat[i], dst_lon[j], dst_lat[j])
    keep = d <= radius_m
    i, j, d = i[keep], j[keep], d[keep]
    order = np.lexsort((j, i))
    return i[order], j[order], d[order]


def k_nearest_lists_m(src_lon: np.ndarray, src_lat: np.ndarray, dst_lon: np.ndarray, dst_lat: np.ndarray,
                      k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each source: k destinations (indices, exact metres, row sorted by distance) and a proven
    lower bound in metres on the distance to every destination NOT in its list (+inf when k covers all).

    The list holds the k nearest by chord, which are close to, not always exactly, the k nearest by
    geodesic; the lower bound is what keeps anything built on the lists sound.
    """
    n_src, n_dst = len(src_lon), len(dst_lon)
    k = max(1, min(k, n_dst))
    tree = cKDTree(unit_xyz(dst_lon, dst_lat))
    ask = k + 1 if k < n_dst else k
    chords, idx = tree.query(unit_xyz(src_lon, src_lat), k=ask)
    chords, idx = chords.reshape(n_src, ask), idx.reshape(n_src, ask).astype(np.int64)
    outside_m = lower_bound_m_from_chord(chords[:, k]) if k < n_dst else np.full(n_src, np.inf)
    idx = idx[:, :k]
    exact = pair_geodesic_m(np.repeat(src_lon, k), np.repeat(src_lat, k), dst_lon[idx.ravel()],
                            dst_lat[idx.ravel()]).reshape(n_src, k)
    order = np.argsort(exact, axis=1, kind="stable")
    return np.take_along_axis(idx, order, 1), np.take_along_axis(exact, order, 1), outside_m

"""Duplicates in an import: the same id twice in the file, and likely duplicates — the same name
within DUPLICATE_RADIUS_M geodesic metres, in the file or against the store.

No pairwise loop: candidate pairs come from a k-d tree on unit-sphere points (`geo.distance.unit_xyz`)
searched with the chord that the proven bound geodesic >= GEODESIC_M_PER_RADIAN_LOWER x angle
allows, so no pair within the radius is missed; only candidates with the same name get the exact
geodesic distance on the WGS-84 ellipsoid (`geo.distance.geodesic_m`). O(n log n) for n rows.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.distance import (
    GEODESIC_M_PER_RADIAN_LOWER,
    chord_from_angle,
    geodesic_m,
    unit_xyz,
)
from layers.model import Station
from layers.store import StationStore

LOGGER = logging.getLogger(__name__)
DUPLICATE_RADIUS_M = 10.0
_CHORD = float(chord_from_angle(DUPLICATE_RADIUS_M / GEODESIC_M_PER_RADIAN_LOWER)) * (1 + 1e-9)
# Built for one search: sliding-midpoint splits build in half the time and find the same pairs.
_TREE = {"balanced_tree": False, "compact_nodes": False}
STORE_QUERY_RATIO = 100  # ask the store per row when it holds this many times more stations than the file


def duplicate_ids(ids: np.ndarray, usable: np.ndarray) -> list[tuple[int, int]]:
    """(row, first row with that id) for every later row repeating an id."""
    rows = np.flatnonzero(usable)
    series = pd.Series(rows, index=pd.Index(ids[rows], dtype=object))
    later = series.index.duplicated(keep="first")
    if not later.any():
        return []
    first = series[~later]
    first = first[~first.index.duplicated()]
    return [(int(row), int(first[sid])) for sid, row in series[later].items()]


def _close_pairs(lon_a, lat_a, lon_b, lat_b, names_a, names_b, tree_a: cKDTree, tree_b: cKDTree | None):
    """(i, j, metres) with names_a[i] == names_b[j] and geodesic distance <= DUPLICATE_RADIUS_M."""
    if tree_b is None:
        pairs = tree_a.query_pairs(_CHORD, output_type="ndarray")
    else:
        pairs = np.array(list(tree_a.sparse_distance_matrix(tree_b, _CHORD, output_type="dok_matrix").keys()),
                         dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return []
    same = names_a[pairs[:, 0]] == names_b[pairs[:, 1]]
    found = []
    for i, j in pairs[same]:
        metres = geodesic_m(lon_a[i], lat_a[i], lon_b[j], lat_b[j])
        if metres <= DUPLICATE_RADIUS_M:
            found.append((int(i), int(j), metres))
    return found


def near_duplicates_in_file(lon: np.ndarray, lat: np.ndarray, names: np.ndarray,
                            usable: np.ndarray) -> list[tuple[int, int, float]]:
    """(later row, earlier row, metres) for rows with the same name within 10 m (WGS-84 lon/lat)."""
    rows = np.flatnonzero(usable)
    if len(rows) < 2:
        return []
    tree = cKDTree(unit_xyz(lon[rows], lat[rows]), **_TREE)
    sub_names = names[rows]
    out = []
    for i, j, metres in _close_pairs(lon[rows], lat[rows], lon[rows], lat[rows], sub_names, sub_names, tree, None):
        a, b = sorted((int(rows[i]), int(rows[j])))
        out.append((b, a, metres))
    return sorted(out)


def near_duplicates_in_store(store: StationStore, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                             names: np.ndarray, usable: np.ndarray) -> list[tuple[int, Station, float]]:
    """(row, stored station, metres): stored stations (not removed, not in the file) with the row's
    name within 10 m, nearest first per row. Per-row store queries for a small file, one pass over
    the store otherwise."""
    rows = np.flatnonzero(usable)
    total = store.count() if len(rows) else 0
    if total == 0:
        return []
    in_file = set(ids[rows].tolist())
    if len(rows) * STORE_QUERY_RATIO < total:
        return _ask_store(store, rows, ids, lon, lat, names, in_file)
    stored = [s for s in store.iter_all() if s.status != "removed" and s.id not in in_file]
    return _against(stored, rows, lon, lat, names)


def _ask_store(store, rows, ids, lon, lat, names, in_file) -> list[tuple[int, Station, float]]:
    out = []
    for row in rows:
        for hit in store.within(float(lon[row]), float(lat[row]), DUPLICATE_RADIUS_M):
            station = hit.station
            if station.name == names[row] and station.id not in in_file and station.status != "removed":
                out.append((int(row), station, hit.distance_m))
    return out


def _against(stored: Iterable[Station], rows, lon, lat, names) -> list[tuple[int, Station, float]]:
    stored = list(stored)
    if not stored:
        return []
    s_lon = np.array([s.lon for s in stored])
    s_lat = np.array([s.lat for s in stored])
    s_names = np.fromiter((s.name for s in stored), object, len(stored))
    tree_rows = cKDTree(unit_xyz(lon[rows], lat[rows]), **_TREE)
    tree_store = cKDTree(unit_xyz(s_lon, s_lat), **_TREE)
    found = _close_pairs(lon[rows], lat[rows], s_lon, s_lat, names[rows], s_names, tree_rows, tree_store)
    return sorted(((int(rows[i]), stored[j], metres) for i, j, metres in found), key=lambda t: (t[0], t[2], t[1].id))

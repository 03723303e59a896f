"""Duplicates in an import: the same id twice in the file, and likely duplicates — the same name
within DUPLICATE_RADIUS_M geodesic metres, in the file or against the store.

No pairwise loop: close points come from k-d trees on unit-sphere points keyed by name
(`layers.ingest.twins`), searched with the chord that the proven bound geodesic >=
GEODESIC_M_PER_RADIAN_LOWER x angle allows, so no pair within the radius is missed; candidates get
the exact geodesic distance on the WGS-84 ellipsoid (`geo.distance.geodesic_m`). Within the file
each row is reported once, against its first twin, and no list of all close pairs is ever made.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.distance import geodesic_m
from layers.ingest.twins import (
    CHORD_OUT,
    DUPLICATE_RADIUS_M,
    distinct_points,
    first_twins,
    keyed_points,
    name_codes,
)
from layers.model import Station
from layers.store import StationStore

LOGGER = logging.getLogger(__name__)
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


def near_duplicates_in_file(lon: np.ndarray, lat: np.ndarray, names: np.ndarray,
                            usable: np.ndarray) -> list[tuple[int, int, float]]:
    """(later row, its first twin, metres) for every row with an earlier row of the same name within
    10 m (WGS-84 lon/lat), once, against the earliest such row (`layers.ingest.twins`)."""
    rows = np.flatnonzero(usable)
    twin, metres = first_twins(lon[rows], lat[rows], names[rows])
    later = np.flatnonzero(twin >= 0)
    return [(int(rows[i]), int(rows[twin[i]]), float(metres[i])) for i in later.tolist()]


def near_duplicates_in_store(store: StationStore, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                             names: np.ndarray, usable: np.ndarray) -> list[tuple[int, Station, float]]:
    """(row, stored station, metres): stored stations (not removed, not in the file) with the row's
    name within 10 m, nearest first per row. Rows of one name at one position are looked up once;
    per-point store queries for a small file, one pass over the store otherwise."""
    rows = np.flatnonzero(usable)
    total = store.count() if len(rows) else 0
    if total == 0:
        return []
    in_file = set(ids[rows].tolist())
    (codes,) = name_codes(names[rows])
    group, first = distinct_points(lon[rows], lat[rows], codes)
    points = rows[first]
    if len(points) * STORE_QUERY_RATIO < total:
        found = _ask_store(store, points, lon, lat, names, in_file)
    else:
        stored = [s for s in store.iter_all() if s.status != "removed" and s.id not in in_file]
        found = _against(stored, points, lon, lat, names)
    by_point: dict[int, list[tuple[Station, float]]] = {}
    for g, station, metres in found:
        by_point.setdefault(g, []).append((station, metres))
    return [(int(row), station, metres) for row, g in zip(rows.tolist(), group.tolist())
            for station, metres in by_point.get(g, ())]


def _ask_store(store, points, lon, lat, names, in_file) -> list[tuple[int, Station, float]]:
    """(index into points, stored twin, metres), nearest first per point."""
    out = []
    for g, row in enumerate(points.tolist()):
        for hit in store.within(float(lon[row]), float(lat[row]), DUPLICATE_RADIUS_M):
            station = hit.station
            if station.name == names[row] and station.id not in in_file and station.status != "removed":
                out.append((g, station, hit.distance_m))
    return out


def _against(stored: Iterable[Station], points, lon, lat, names) -> list[tuple[int, Station, float]]:
    """(index into points, stored twin, metres), nearest first per point: one k-d tree per side, keyed
    by name too (`ingest_twins.keyed_points`), so only same-name pairs within the chord come out."""
    stored = list(stored)
    if not stored:
        return []
    s_lon = np.array([s.lon for s in stored])
    s_lat = np.array([s.lat for s in stored])
    s_names = np.fromiter((s.name for s in stored), object, len(stored))
    codes, s_codes = name_codes(names[points], s_names)
    tree_rows = cKDTree(keyed_points(lon[points], lat[points], codes), **_TREE)
    tree_store = cKDTree(keyed_points(s_lon, s_lat, s_codes), **_TREE)
    pairs = tree_rows.sparse_distance_matrix(tree_store, CHORD_OUT, output_type="ndarray")
    found = []
    for g, j in zip(pairs["i"].tolist(), pairs["j"].tolist()):
        row = points[g]
        metres = geodesic_m(lon[row], lat[row], s_lon[j], s_lat[j])
        if metres <= DUPLICATE_RADIUS_M:
            found.append((g, stored[j], metres))
    return sorted(found, key=lambda t: (t[0], t[2], t[1].id))

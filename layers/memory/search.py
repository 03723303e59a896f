"""Searching the sphere index: k nearest by exact geodesic over chord-ordered k-d tree candidates,
radius and box listings, filters."""
from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from pyproj import Geod

from geo.distance import GEODESIC_M_PER_RADIAN_LOWER, geodesic_many_m
from geo.hours import parse_hours
from layers.memory.chord_tree import ChordTree
from layers.memory.columns import STATUS_CODES

ALL = "*"
_EXTRA_FETCH = 2  # k+2 candidates: a second round is needed for 0.2% of queries (measured)
_LOWER = GEODESIC_M_PER_RADIAN_LOWER
_GEOD = Geod(ellps="WGS84")
_MARGIN_M = 0.002


@dataclass(frozen=True)
class Filter:
    """Attribute filters of a query, resolved against the index's codes."""

    layers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    origin: str | None = None
    open_now: bool = False
    at: datetime | None = None


class _Tree:
    """A static k-d tree over some positions plus the positions written since it was built."""

    def __init__(self, positions: np.ndarray, xyz: np.ndarray) -> None:
        self.positions = positions
        self.tree = ChordTree(xyz[positions]) if len(positions) else None
        self.delta: list[int] = []


def _chord_limit(kth_m: float) -> float:
    """The chord beyond which a point's proven floor (L x angle) exceeds the k-th distance + margin."""
    half_angle = (kth_m + _MARGIN_M) / (2.0 * _LOWER)
    return 2.0 * math.sin(half_angle) if half_angle < math.pi / 2 else math.inf


def _order(item: tuple[float, str, int]) -> tuple[float, str]:
    return item[0], item[1]


def _xyz(lon: float, lat: float) -> np.ndarray:
    """unit_xyz for one point, without numpy's per-call overhead (cKDTree wants an array)."""
    lam, phi = math.radians(lon), math.radians(lat)
    return np.array((math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)))



class IndexSearch:
    """The searches of `layers.memory.index.SphereIndex` (a base of it, using its columns and trees)."""

    # ---- reading ---------------------------------------------------------------------
    def nearest(
        self, lon: float, lat: float, k: int, flt: Filter = Filter(), radius_m: float | None = None
    ) -> list[tuple[float, str]]:
        """The k nearest matching (distance_m, id), exact WGS-84 geodesic order, ties by id."""
        with self._lock:
            tree = self._tree_for(flt)
            if tree is None:
                return []
            matcher = self._matcher(flt)
            if flt.origin:
                # Few stations serve one home county: scan them all, exactly.
                members = np.fromiter(self._origins.get(flt.origin, ()), np.int64)
                best = self._scan(lon, lat, members, matcher, radius_m)
            else:
                if len(flt.layers) == 1:  # that layer's own tree: no layer test needed per point
                    matcher = self._matcher(replace(flt, layers=()))
                q = _xyz(lon, lat)
                best = self._scan(lon, lat, np.asarray(tree.delta, np.int64), matcher, radius_m) if tree.delta else []
                best = self._search_tree(lon, lat, q, tree, k, matcher, radius_m, best)
            return [(d, self._ids[p]) for d, _, p in best[:k]]

    def within(self, lon: float, lat: float, radius_m: float, flt: Filter = Filter()) -> list[tuple[float, str]]:
        """Every matching (distance_m, id) within `radius_m` geodesic metres, nearest first."""
        with self._lock:
            tree = self._tree_for(flt)
            if tree is None:
                return []
            matcher = self._matcher(flt)
            q = _xyz(lon, lat)
            found = np.asarray(tree.delta, np.int64)
            if tree.tree is not None:
                theta = radius_m / GEODESIC_M_PER_RADIAN_LOWER
                chord = 2.0 if theta >= np.pi else 2 * np.sin(theta / 2) * (1 + 1e-12)
                found = np.concatenate([found, tree.positions[tree.tree.ball(q, chord)]])
            return [(d, self._ids[p]) for d, _, p in self._scan(lon, lat, found, matcher, radius_m)]

    def in_bbox(self, bbox: Sequence[float] | None, flt: Filter = Filter()) -> list[str]:
        """Ids of matching stations whose point lies in (minlon, minlat, maxlon, maxlat), sorted."""
        with self._lock:
            if bbox is None:
                positions = np.flatnonzero(self._cols.alive[: self._cols.n])
            else:
                positions = np.fromiter(self._bbox_tree().intersection(tuple(bbox)), np.int64)
            positions = positions[self._matcher(flt)(positions)]
            return sorted(self._ids[p] for p in positions)

    def _tree_for(self, flt: Filter) -> _Tree | None:
        if flt.layers and any(lid not in self._layer_code for lid in flt.layers):
            raise KeyError(next(lid for lid in flt.layers if lid not in self._layer_code))
        if len(flt.layers) == 1:
            return self._trees.get(flt.layers[0])
        return self._trees.get(ALL)

    def _matcher(self, flt: Filter):
        """A vectorised predicate over positions for every attribute filter."""
        cols = self._cols
        if not (flt.services or flt.origin or flt.open_now or flt.layers):
            return lambda positions: cols.visible[positions]
        layer_codes = np.array([self._layer_code[lid] for lid in flt.layers], np.int16)
        need_bits: dict[int, np.uint64] = {}  # layer code -> bits every match must have
        if flt.services:
            for lid, code in self._layer_code.items():
                bits = [self._service_bit[lid].get(w) for w in flt.services]
                if all(b is not None for b in bits):
                    need_bits[code] = np.uint64(sum(set(bits)))
        origin_set = self._origins.get(flt.origin, set()) if flt.origin else None
        open_codes = self._open_codes(flt.at) if flt.open_now else None

        def match(positions: np.ndarray) -> np.ndarray:
            ok = cols.alive[positions] & (cols.status[positions] != STATUS_CODES["removed"])
            if len(layer_codes):
                ok &= np.isin(cols.layer[positions], layer_codes)
            if flt.services:
                svc_ok = np.zeros(len(positions), bool)
                for code, bits in need_bits.items():
                    svc_ok |= (cols.layer[positions] == code) & ((cols.services[positions] & bits) == bits)
                ok &= svc_ok
            if origin_set is not None:
                ok &= np.fromiter((int(p) in origin_set for p in positions), bool, len(positions))
            if open_codes is not None:
                ok &= open_codes[cols.hours[positions]] & (cols.status[positions] == STATUS_CODES["open"])
            return ok

        return match

    def _open_codes(self, at: datetime | None) -> np.ndarray:
        return np.array(
            [bool(spec) and parse_hours(spec).is_open(at) for spec in self._hours_table], bool
        )

    def _scan(self, lon, lat, positions: np.ndarray, matcher, radius_m) -> list[tuple[float, str, int]]:
        """Exact distances of the matching `positions`, sorted by (distance_m, id)."""
        if not len(positions):
            return []
        positions = positions[matcher(positions)]
        cols = self._cols
        dist = np.round(geodesic_many_m(lon, lat, cols.lon[positions], cols.lat[positions]), 3)
        out = [(float(d), self._ids[p], int(p)) for d, p in zip(dist, positions)]
        if radius_m is not None:
            out = [item for item in out if item[0] <= radius_m]
        out.sort(key=_order)
        return out

    def _search_tree(self, lon, lat, q, tree: _Tree, k, matcher, radius_m, best):
        """Walk the tree in chord order, computing exact distances only while they can still matter."""
        if tree.tree is None:
            return best
        n = len(tree.positions)
        bound = np.inf
        if radius_m is not None:
            theta = radius_m / GEODESIC_M_PER_RADIAN_LOWER
            bound = np.inf if theta >= np.pi else 2 * np.sin(theta / 2) * (1 + 1e-12)
        lons, lats, ids, inv = self._cols.lon, self._cols.lat, self._ids, _GEOD.inv
        limit = _chord_limit(best[k - 1][0]) if len(best) >= k else math.inf
        fetch, seen = min(n, k + _EXTRA_FETCH), None
        while True:
            if fetch > n // 4 and fetch > 4096:
                # A very selective filter: scanning every point once beats more tree rounds.
                found = self._scan(lon, lat, tree.positions, matcher, radius_m)
                return sorted({i[2]: i for i in best + found}.values(), key=_order)
            chords, idx = tree.tree.nearest(q, fetch, bound)
            positions = tree.positions[idx]
            for chord, pos, good in zip(chords.tolist(), positions.tolist(), matcher(positions).tolist()):
                if chord > limit:
                    return best  # every point not yet seen is farther than the k-th
                if seen is not None:  # a later round: equal chords may come back in another order
                    if pos in seen:
                        continue
                    seen.add(pos)
                if not good:
                    continue
                d = round(inv(lon, lat, lons.item(pos), lats.item(pos))[2], 3)
                if radius_m is not None and d > radius_m:
                    continue
                item = (d, ids[pos], pos)
                at = bisect.bisect(best, item)
                best.insert(at, item)
                if at < k <= len(best):
                    limit = _chord_limit(best[k - 1][0])
            if fetch >= n or len(positions) < fetch:
                return best
            seen = set(positions.tolist())
            fetch = min(n, fetch * 4)

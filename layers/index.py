"""In-memory spatial index for exact geodesic nearest-neighbour search.

Points live on the unit sphere (3-D): chord order there equals great-circle order, so a
k-d tree over those coordinates ranks candidates the way the globe does, not the way
lon/lat degrees do. The final order is by ellipsoidal (WGS-84) distance; the search
over-fetches until a proven lower bound on the distance of every point not yet fetched
(`GEODESIC_M_PER_RADIAN_LOWER` times its central angle) exceeds the k-th distance, so the
answer is exact. A k-d tree does the chord search (`layers.chord_tree`: pykdtree, or scipy's
cKDTree, both far faster per query than rtree's nearest in 3-D, measured in bench/); rtree answers bounding-box listings, where
lon/lat boxes are the question itself. Writes go to a small unindexed delta that every
query scans; a layer's tree is rebuilt when its delta grows. Many writes at once (another
process's import, seen on the next read) go through `apply`: appended as columns, dead rows
dropped and every tree rebuilt once, so no delta is left for the queries after it to scan.
"""
from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import pandas as pd
from pyproj import Geod
from rtree import index as rtree_index

from geo.distance import GEODESIC_M_PER_RADIAN_LOWER, geodesic_many_m
from geo.hours import parse_hours
from layers.chord_tree import ChordTree
from layers.index_columns import STATUS_CODES, Columns, members_of
from layers.layerdefs import Layer
from layers.model import Station

ALL = "*"
_EXTRA_FETCH = 2  # k+2 candidates: a second round is needed for 0.2% of queries (measured)
_LOWER = GEODESIC_M_PER_RADIAN_LOWER
_GEOD = Geod(ellps="WGS84")
_DELTA_MIN = 256
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


class SphereIndex:
    """Columnar station attributes plus per-layer and global k-d trees; thread-safe."""

    def __init__(self, layers: Mapping[str, Layer]) -> None:
        self._layer_code = {lid: i for i, lid in enumerate(layers)}
        self._service_bit = {
            lid: {w: 1 << b for b, w in enumerate(layer.services)}
            for lid, layer in layers.items()
        }
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._hours_code: dict[str | None, int] = {None: 0}
        self._hours_table: list[str | None] = [None]
        self._origins: dict[str, set[int]] = {}
        self._cols = Columns(0)
        self._trees: dict[str, _Tree] = {}
        self._rtree: rtree_index.Index | None = None

    # ---- building and writing -------------------------------------------------------
    def load(self, stations: Iterable[Station]) -> None:
        """Replace the whole content with `stations` (bulk build; ids must be unique)."""
        with self._lock:
            self._ids, self._pos, self._origins = [], {}, {}
            lon, lat, layer, services, hours, status = [], [], [], [], [], []
            for station in stations:
                pos = len(self._ids)
                self._ids.append(station.id)
                self._pos[station.id] = pos
                lon.append(station.lon)
                lat.append(station.lat)
                layer.append(self._layer_code[station.layer])
                services.append(self._bits(station))
                hours.append(self._hours_index(station.hours))
                status.append(STATUS_CODES[station.status])
                for origin in station.origins:
                    self._origins.setdefault(origin, set()).add(pos)
            self._cols = Columns.from_lists(lon, lat, layer, services, hours, status)
            self._rebuild_all()

    def load_columns(self, ids: list[str], lon: np.ndarray, lat: np.ndarray, layer: np.ndarray,
                     services: np.ndarray, hours: np.ndarray, status: np.ndarray, origins: np.ndarray) -> None:
        """Replace the whole content with stations given as columns (WGS-84 lon/lat; ids unique;
        services and origins tuples): the index `load` builds from Station records (tested), each
        code worked out once per distinct value."""
        with self._lock:
            self._ids = list(ids)
            self._pos = dict(zip(self._ids, range(len(self._ids))))
            lcodes, luniques = pd.factorize(layer)
            scodes, suniques = pd.factorize(services)
            pairs, pair_of_row = np.unique(lcodes.astype(np.int64) * len(suniques) + scodes, return_inverse=True)
            bits = [sum({self._service_bit[luniques[p // len(suniques)]].get(w, 0) for w in suniques[p % len(suniques)]})
                    for p in pairs.tolist()]  # sum of distinct powers of two = OR
            hcodes, huniques = pd.factorize(hours)  # None: -1, the last entry
            hours_code = np.array([*map(self._hours_index, huniques), self._hours_index(None)], np.int32)
            stcodes, stuniques = pd.factorize(status)
            self._cols = Columns.from_lists(
                lon, lat, np.array([self._layer_code[lid] for lid in luniques], np.int16)[lcodes],
                np.array(bits, np.uint64)[pair_of_row], hours_code[hcodes],
                np.array([STATUS_CODES[s] for s in stuniques], np.int8)[stcodes])
            self._origins = members_of(origins)
            self._rebuild_all()

    def upsert(self, station: Station) -> None:
        """Add or replace one station; the trees see it at once through their delta."""
        with self._lock:
            self._kill(station.id)
            pos = self._append(station)
            if self._rtree is not None:
                self._rtree.insert(pos, (station.lon, station.lat, station.lon, station.lat))
            for key in (ALL, station.layer):
                tree = self._trees.setdefault(key, _Tree(np.empty(0, np.int64), self._cols.xyz))
                tree.delta.append(pos)
                if len(tree.delta) > max(_DELTA_MIN, 0.02 * len(tree.positions)):
                    self._rebuild(key)

    def apply(self, stations: Sequence[Station], gone: Iterable[str] = ()) -> None:
        """Many writes at once: `stations` added or replaced, `gone` dropped; then the index is
        compacted and every tree rebuilt once (no delta left). A few go through upsert and remove."""
        gone = list(gone)
        latest = list({s.id: s for s in stations}.values())
        with self._lock:
            if len(latest) + len(gone) <= _DELTA_MIN:
                for sid in gone:
                    self._kill(sid)
                for station in latest:
                    self.upsert(station)
                return
            dead = [self._pos.pop(sid) for sid in {*gone, *(s.id for s in latest)} if sid in self._pos]
            self._cols.alive[dead] = False
            start = len(self._ids)
            for offset, station in enumerate(latest):
                self._ids.append(station.id)
                self._pos[station.id] = start + offset
                for origin in station.origins:
                    self._origins.setdefault(origin, set()).add(start + offset)
            self._cols.extend(
                np.array([s.lon for s in latest], float), np.array([s.lat for s in latest], float),
                np.array([self._layer_code[s.layer] for s in latest], np.int16),
                np.array([self._bits(s) for s in latest], np.uint64),
                np.array([self._hours_index(s.hours) for s in latest], np.int32),
                np.array([STATUS_CODES[s.status] for s in latest], np.int8))
            self._compact()

    def _compact(self) -> None:
        """Keep only the live rows (positions renumbered) and rebuild every tree."""
        cols = self._cols
        alive = np.flatnonzero(cols.alive[: cols.n])
        renumber = np.full(cols.n, -1, np.int64)
        renumber[alive] = np.arange(len(alive))
        self._ids = [self._ids[p] for p in alive.tolist()]
        self._pos = dict(zip(self._ids, range(len(self._ids))))
        renumbered = renumber.tolist()
        self._origins = {origin: {renumbered[p] for p in members if renumbered[p] >= 0}
                         for origin, members in self._origins.items()}
        self._cols = cols.taken(alive)
        self._rebuild_all()

    def dead_rows(self) -> int:
        """Positions held for stations replaced or removed since the last load or compaction."""
        with self._lock:
            return self._cols.n - len(self._pos)

    def deltas(self) -> dict[str, int]:
        """Positions each tree scans beside its k-d tree (written since that tree was built)."""
        with self._lock:
            return {key: len(tree.delta) for key, tree in self._trees.items()}

    def remove(self, station_id: str) -> bool:
        """Drop one station; False when it was not there."""
        with self._lock:
            return self._kill(station_id)

    def __len__(self) -> int:
        return len(self._pos)

    def _bits(self, station: Station) -> int:
        bits = 0
        for word in station.services:
            bits |= self._service_bit[station.layer].get(word, 0)
        return bits

    def _hours_index(self, spec: str | None) -> int:
        code = self._hours_code.get(spec)
        if code is None:
            code = self._hours_code[spec] = len(self._hours_table)
            self._hours_table.append(spec)
        return code

    def _append(self, station: Station) -> int:
        pos = len(self._ids)
        self._ids.append(station.id)
        self._pos[station.id] = pos
        self._cols.append(station, self._layer_code[station.layer], self._bits(station),
                          self._hours_index(station.hours))
        for origin in station.origins:
            self._origins.setdefault(origin, set()).add(pos)
        return pos

    def _kill(self, station_id: str) -> bool:
        pos = self._pos.pop(station_id, None)
        if pos is None:
            return False
        cols = self._cols
        cols.alive[pos] = False
        cols.visible[pos] = False
        lon, lat = float(cols.lon[pos]), float(cols.lat[pos])
        if self._rtree is not None:
            self._rtree.delete(pos, (lon, lat, lon, lat))
        for members in self._origins.values():
            members.discard(pos)
        return True

    def _rebuild_all(self) -> None:
        cols = self._cols
        alive = np.flatnonzero(cols.alive[: cols.n])
        self._trees = {ALL: _Tree(alive, cols.xyz)}
        for lid, code in self._layer_code.items():
            self._trees[lid] = _Tree(alive[cols.layer[alive] == code], cols.xyz)
        self._rtree = None  # built on the first bbox listing: nearest does not need it

    def _bbox_tree(self) -> rtree_index.Index:
        if self._rtree is None:
            cols = self._cols
            alive = np.flatnonzero(cols.alive[: cols.n])
            points = np.column_stack([cols.lon[alive], cols.lat[alive]])  # bulk-loaded from arrays: no
            self._rtree = rtree_index.Index(  # Python tuple per station (1M: 1.5 s instead of 3.2 s)
                (alive.astype(np.int64), points, points)) if len(alive) else rtree_index.Index()
        return self._rtree

    def _rebuild(self, key: str) -> None:
        cols = self._cols
        alive = np.flatnonzero(cols.alive[: cols.n])
        if key != ALL:
            alive = alive[cols.layer[alive] == self._layer_code[key]]
        self._trees[key] = _Tree(alive, cols.xyz)

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

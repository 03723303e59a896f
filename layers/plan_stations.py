"""The existing stations a planner question needs, taken from the store's spatial index.

Coverage and site choice use, for each demand point, only its nearest serving station (`geo.plan.coverage`,
`geo.plan.sites`). So instead of every stored station, the planner gets the serving stations in the boxes
within radius_m of the demand (`geo.plan.reach.reach_box`; one `in_bbox` query per group of nearby
demand points, at most MAX_BOXES), and, for each demand point with none of them within radius_m,
its nearest serving station from boxes grown four times at a time (the whole store only once a box
would wrap the globe). Each point's nearest is the one a scan of every station finds; the cost
follows the stations near the demand, not the store.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np

from geo.plan.index import nearest_m
from geo.plan.reach import reach_box
from layers.model import Station
from layers.store import NearestQuery, StationStore, attribute_match, is_open_at

LOGGER = logging.getLogger(__name__)
GROWTH = 4.0  # each further box reaches this many times farther
_EVERY_ROW = 1 << 62  # an in_bbox limit no store reaches
MAX_BOXES = 64  # in_bbox queries per round at most
CELL_REACHES = 4.0  # demand points closer than this many reaches share a box
CELL_MIN_DEG = 0.05
METRES_PER_DEGREE = 111_000.0  # only sizes the grouping cells; correctness never depends on it


def serving(layers: tuple[str, ...], services: tuple[str, ...], open_at: datetime | None) -> Callable[[Station], bool]:
    """Whether a station counts as serving: chosen layers and services, status open, open at `open_at` if given."""
    query = NearestQuery(lon=0.0, lat=0.0, layers=layers, services=services)
    return lambda s: (s.status == "open" and attribute_match(s, query)
                      and (open_at is None or is_open_at(s, open_at) is True))


def stations_near_demand(store: StationStore, lon: np.ndarray, lat: np.ndarray, radius_m: float,
                         layers: tuple[str, ...], services: tuple[str, ...] = (),
                         open_at: datetime | None = None) -> list[Station]:
    """Serving stations (sorted by id) within radius_m geodesic metres of the WGS-84 demand's box,
    plus the nearest serving station of every demand point that has none within radius_m."""
    keep = serving(layers, services, open_at)
    near, whole = _in_reach(store, lon, lat, radius_m, layers, keep)
    chosen = dict(near)
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    reach = radius_m
    while len(lon):
        found = sorted(near.values(), key=lambda s: s.id)
        index, dist = nearest_m(lon, lat, np.array([s.lon for s in found], float),
                                np.array([s.lat for s in found], float))
        # the box held everything within `reach` of each point: a nearest that close is the nearest
        settled = np.ones(len(lon), bool) if whole else dist <= reach
        chosen.update((found[j].id, found[j]) for j in index[settled].tolist() if j >= 0)
        lon, lat = lon[~settled], lat[~settled]
        reach *= GROWTH
        if len(lon):
            near, whole = _in_reach(store, lon, lat, reach, layers, keep)
    return sorted(chosen.values(), key=lambda s: s.id)


def _in_reach(store: StationStore, lon: np.ndarray, lat: np.ndarray, reach_m: float, layers: tuple[str, ...],
              keep: Callable[[Station], bool]) -> tuple[dict[str, Station], bool]:
    """Serving stations within reach_m of the points' boxes (one box per group of nearby points:
    parks spread over a country need a dozen small boxes, not one as large as the country), and
    whether that was every stored station (some box would wrap the globe)."""
    boxes = [reach_box(lon[members], lat[members], reach_m) for members in _groups(lon, lat, reach_m)]
    if any(box is None for box in boxes):
        return {s.id: s for s in store.iter_all() if keep(s)}, True
    found: dict[str, Station] = {}
    for box in boxes:
        found.update((s.id, s) for s in store.in_bbox(box, layers, limit=_EVERY_ROW).stations if keep(s))
    return found, False


def _groups(lon: np.ndarray, lat: np.ndarray, reach_m: float) -> list[np.ndarray]:
    """The points (indices) grouped by grid cells of at least CELL_REACHES x reach_m (and
    CELL_MIN_DEG), cells doubled until there are at most MAX_BOXES groups."""
    cell = max(CELL_MIN_DEG, CELL_REACHES * reach_m / METRES_PER_DEGREE)
    while True:
        keys = np.floor(lon / cell).astype(np.int64) * 1_000_003 + np.floor(lat / cell).astype(np.int64)
        _, group = np.unique(keys, return_inverse=True)
        count = int(group.max()) + 1 if len(group) else 0
        if count <= MAX_BOXES:
            return [members for members in np.split(np.argsort(group, kind="stable"),
                                                    np.cumsum(np.bincount(group, minlength=count))[:-1])]
        cell *= 2

"""Each OGC collection's spatial extent, computed from the data through the store contract only.

The store contract has no extent query, so the box is gathered from `in_bbox` pages (every
station of the layer that is not removed) and kept per app and layer. A kept box is used while
it is younger than `MAX_AGE_S` *and* still holds every station of the layer (two counting
queries: in the box and overall); a station written outside it, or age, makes it be gathered
again. So the extent always contains every feature and is tight again within `MAX_AGE_S` after
a removal. An empty layer gets China's extent. WGS-84 lon/lat (CRS84), rounded outward to 1e-6°.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app

from layers.store import MAX_LIMIT, StationStore

LOGGER = logging.getLogger(__name__)
EXTENSION = "yizhan.ogc_extent"
CHINA_BBOX = (73.5, 18.0, 135.1, 53.6)  # mainland, islands and Hainan (WGS-84 lon/lat)
MAX_AGE_S = 300.0
_PAD_DEG = 1e-6

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class _Kept:
    bbox: Box
    at: float


def _gather(store: StationStore, layer_id: str) -> Box | None:
    """The smallest box (rounded outward) holding every station of the layer, None when it has none."""
    lons: list[float] = []
    lats: list[float] = []
    offset = 0
    while True:
        page = store.in_bbox(None, layers=(layer_id,), limit=MAX_LIMIT, offset=offset)
        lons += [s.lon for s in page.stations]
        lats += [s.lat for s in page.stations]
        offset += MAX_LIMIT
        if not page.stations or offset >= page.number_matched:
            break
    if not lons:
        return None
    return (max(-180.0, round(min(lons) - _PAD_DEG, 6)), max(-90.0, round(min(lats) - _PAD_DEG, 6)),
            min(180.0, round(max(lons) + _PAD_DEG, 6)), min(90.0, round(max(lats) + _PAD_DEG, 6)))


def _still_holds(store: StationStore, layer_id: str, bbox: Box) -> bool:
    """Whether every station of the layer lies in `bbox` (counts only: one station read per query)."""
    inside = store.in_bbox(bbox, layers=(layer_id,), limit=1).number_matched
    return inside == store.in_bbox(None, layers=(layer_id,), limit=1).number_matched


def layer_extent(store: StationStore, layer_id: str) -> list[float]:
    """[minlon, minlat, maxlon, maxlat] in WGS-84 degrees of the layer's stations (China's when empty)."""
    kept: dict[str, _Kept] = current_app.extensions.setdefault(EXTENSION, {})
    entry = kept.get(layer_id)
    now = time.monotonic()
    if entry is not None and now - entry.at < MAX_AGE_S and _still_holds(store, layer_id, entry.bbox):
        return list(entry.bbox)
    box = _gather(store, layer_id)
    if box is None:
        kept.pop(layer_id, None)
        return list(CHINA_BBOX)
    kept[layer_id] = _Kept(box, now)
    LOGGER.debug("extent of %s: %s", layer_id, box)
    return list(box)

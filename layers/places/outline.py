"""Is a point in mainland China? The shipped outline, with a grid of cells decided once each.

The outline (data/gazetteer/outline.npz, WGS-84) is the union of the finest boundaries of
Vonng/adcode without Taiwan, Hong Kong and Macao, widened ~3 km over sea and land borders.
Most points fall in a 0.25-degree cell wholly inside or outside it, known after one test per
cell; only points in the cells the border crosses run the polygon test. `install()` hands it
to geo.crs, which keeps its rectangle as the first, fastest test.
"""
from __future__ import annotations

import logging
import threading
from functools import lru_cache

import numpy as np
import shapely

from geo import crs
from layers.places.shipped import read_polygons

LOGGER = logging.getLogger(__name__)
CELL_DEG = 0.25
_OUTSIDE, _INSIDE, _BORDER = 0, 1, 2


class ChinaOutline:
    """Point-in-mainland-China on WGS-84 lon/lat degrees (also used, as the providers do, for GCJ-02/BD-09)."""

    def __init__(self, outline: shapely.Geometry) -> None:
        self.geometry = outline
        shapely.prepare(outline)
        self._cells: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()

    def _cell(self, key: tuple[int, int]) -> int:
        state = self._cells.get(key)
        if state is None:
            x, y = key[0] * CELL_DEG, key[1] * CELL_DEG
            box = shapely.box(x, y, x + CELL_DEG, y + CELL_DEG)
            state = (_INSIDE if shapely.contains(self.geometry, box)
                     else _OUTSIDE if not shapely.intersects(self.geometry, box) else _BORDER)
            with self._lock:
                self._cells[key] = state
        return state

    def contains(self, lon: float, lat: float) -> bool:
        """True when (lon, lat) degrees lies in the outline."""
        state = self._cell((int(lon // CELL_DEG), int(lat // CELL_DEG)))
        if state == _BORDER:
            return bool(shapely.contains_xy(self.geometry, lon, lat))
        return state == _INSIDE

    def contains_many(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Boolean array: which (lon, lat) degree pairs lie in the outline."""
        lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        out = np.zeros(lons.shape, dtype=bool)
        finite = np.isfinite(lons) & np.isfinite(lats)
        keys = np.floor(np.column_stack([lons[finite], lats[finite]]) / CELL_DEG).astype(np.int64)
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        states = np.array([self._cell((int(a), int(b))) for a, b in unique], dtype=np.int8)[inverse.reshape(-1)]
        inside = states == _INSIDE
        border = states == _BORDER
        if border.any():
            inside[border] = shapely.contains_xy(self.geometry, lons[finite][border], lats[finite][border])
        out[finite] = inside
        return out


@lru_cache(maxsize=1)
def china_outline() -> ChinaOutline:
    """The shipped outline, loaded once per process."""
    polygons, _ = read_polygons("outline.npz")
    return ChinaOutline(polygons[0])


def install() -> None:
    """Make geo.crs decide "inside mainland China" by the outline (after its rectangle test)."""
    outline = china_outline()
    crs.use_outline(outline.contains, outline.contains_many)

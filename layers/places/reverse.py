"""Where am I: the county (or city without counties) whose boundary holds a WGS-84 point, and the
nearest town centre inside it, in words: '贵州省 贵阳市 南明区 · 沙南街道'.

Boundaries: data/gazetteer/fences.npz (2,867 finest areas of Vonng/adcode, ~200 m simplified);
shapely's STRtree answers which holds the point. Neighbours may gap by up to ~200 m, so a point
in no boundary takes the nearest one within ~1 km.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely

from layers.places.shipped import read_polygons
from layers.places.towns import NO_CENTRE, Areas, default_areas

GAP_DEG = 0.01  # ~1 km: how far a point may lie outside every boundary and still be placed


@dataclass(frozen=True)
class Whereabouts:
    """A point's county (6-digit adcode, names of province, city, county) and nearest town name."""

    adcode: str
    province: str
    city: str
    county: str
    town: str

    @property
    def area(self) -> str:
        """'贵州省贵阳市南明区' (repeats and empty parts left out)."""
        parts: list[str] = []
        for part in (self.province, self.city, self.county):
            if part and part not in parts:
                parts.append(part)
        return "".join(parts)


class Boundaries:
    """The finest areas of China and the towns inside them, for point-in-area answers."""

    def __init__(self, polygons: np.ndarray, adcodes: np.ndarray, areas: Areas) -> None:
        self.tree = shapely.STRtree(polygons)
        self.polygons = polygons
        self.adcodes = [str(code) for code in adcodes.tolist()]
        self.areas = areas
        county_of_town = areas.codes // 1_000_000
        order = np.argsort(county_of_town, kind="stable")
        self._town_order = order
        self._town_counties = county_of_town[order]

    def county_at(self, lon: float, lat: float) -> str | None:
        """The 6-digit adcode of the area holding (lon, lat) WGS-84 degrees, or None outside every one."""
        point = shapely.Point(lon, lat)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits):
            return self.adcodes[int(min(hits))]
        nearest = self.tree.query_nearest(point, max_distance=GAP_DEG)
        return self.adcodes[int(nearest[0])] if len(nearest) else None

    def nearest_town(self, adcode: str, lon: float, lat: float) -> int | None:
        """The number of the town with a centre nearest (lon, lat) inside county `adcode`, or None."""
        key = int(adcode)
        lo, hi = np.searchsorted(self._town_counties, key, "left"), np.searchsorted(self._town_counties, key, "right")
        towns = self._town_order[lo:hi]
        xy = self.areas.xy[towns]
        towns, xy = towns[xy[:, 0] != NO_CENTRE], xy[xy[:, 0] != NO_CENTRE] / 1e5
        if not len(towns):
            return None
        dx = (xy[:, 0] - lon) * np.cos(np.radians(lat))
        return int(towns[int(np.argmin(dx * dx + (xy[:, 1] - lat) ** 2))])

    def where(self, lon: float, lat: float) -> Whereabouts | None:
        """Names of the county and nearest town around (lon, lat) WGS-84 degrees, or None outside China."""
        adcode = self.county_at(lon, lat)
        if adcode is None:
            return None
        province, city, county = self.areas.parents(adcode + "000000")
        town = self.nearest_town(adcode, lon, lat)
        return Whereabouts(adcode, province, city, county, self.areas.town(town).name if town is not None else "")


@lru_cache(maxsize=1)
def default_boundaries() -> Boundaries:
    """The shipped boundaries, loaded on first use (once per process)."""
    polygons, rest = read_polygons("fences.npz")
    return Boundaries(polygons, rest["adcode"], default_areas())

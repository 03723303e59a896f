"""Rows without coordinates placed from their address with the shipped gazetteer (offline).

The address is read left to right: the longest leading words naming a province, prefecture or
county inside the area found so far (贵州省 贵阳市 南明区), then the longest words after them
naming a town (乡/镇/街道) inside that area (沙南街道). The point is the town's centre
(`location_precision` town), else the county's (county); an address naming no county or town,
or a town name with no area before it, is not placed (the row is
rejected with the reason). Lookups are memoised per import: the leading words repeat across rows.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from layers.places.found import Found
from layers.places.names import compact
from layers.places.search import PlaceSearch, default_search

LOGGER = logging.getLogger(__name__)
AREA_KINDS = frozenset({"province", "prefecture", "county"})
MAX_NAME_CHARS = 12  # the longest area or town name looked for at one place in an address
MAX_ADDRESS_CHARS = 80
_FINER = {"exact": 0, "town": 1, "county": 2}


@dataclass(frozen=True)
class Placed:
    """Where an address puts a station: WGS-84 lon/lat, how precise, the county and the place named."""

    lon: float
    lat: float
    precision: str  # town | county
    adcode: str
    place: str  # the town's or county's name (沙南街道, 南明区)


class AddressPlacer:
    """Places addresses with one PlaceSearch; one instance per import (its memo grows with the rows)."""

    def __init__(self, search: PlaceSearch | None = None, online: Callable[[str], Placed | None] | None = None) -> None:
        self._search = search  # the shipped search loads (~0.3 s, tens of MB) only when an address is placed
        self.online = online  # e.g. layers.ingest.geocode_online.AmapGeocoder.geocode: asked when offline is not exact
        self._memo: dict[str, list[Found]] = {}

    @property
    def search(self) -> PlaceSearch:
        if self._search is None:
            self._search = default_search()
        return self._search

    def _named(self, text: str) -> list[Found]:
        hits = self._memo.get(text)
        if hits is None:
            hits = self._memo[text] = self.search.index.exact(text)
        return hits

    def _longest(self, text: str, at: int, inside: Found | None, kinds) -> tuple[int, list[Found]]:
        for end in range(min(len(text), at + MAX_NAME_CHARS), at + 1, -1):
            hits = [f for f in self._named(text[at:end]) if f.kind in kinds and (inside is None or inside.contains(f))]
            if hits:
                return end, hits
        return at, []

    def locate(self, address: str) -> tuple[Found | None, Found | None]:
        """(the finest area the address starts with, the town after it) — either may be None."""
        text = compact(address)[:MAX_ADDRESS_CHARS]
        at, area = 0, None
        while True:
            end, hits = self._longest(text, at, area, AREA_KINDS)
            if not hits:
                break
            at, area = end, hits[0]
        _, towns = self._longest(text, at, area, ("town",))
        town = towns[0] if towns and area is not None else None  # a town name alone is too often shared
        return area, town

    def place(self, address: str) -> Placed | str:
        """Where `address` is, or why it cannot be placed (a message for the report); the online
        geocoder's answer, when one is configured and it is finer than the offline one."""
        offline = self.place_offline(address)
        if self.online is None:
            return offline
        refined = self.online(address)
        if refined is None:
            return offline
        if isinstance(offline, str) or _FINER[refined.precision] < _FINER[offline.precision]:
            return refined
        return offline

    def place_offline(self, address: str) -> Placed | str:
        """`place` with the shipped gazetteer alone."""
        area, town = self.locate(address)
        if town is not None and town.lon is not None and town.lat is not None:
            return Placed(town.lon, town.lat, "town", town.adcode, town.name)
        county = area if area is not None and area.kind == "county" else None
        if county is None and town is not None and town.adcode:
            county = self.search.by_code(town.adcode)
        if county is not None and county.lon is not None and county.lat is not None:
            return Placed(county.lon, county.lat, "county", county.adcode, county.name)
        if area is not None:
            return f"the address names {area.name} but no county or town in it: add the district (区/县)"
        return "no county or town found in the address: write it from the province or city down (贵阳市南明区…)"

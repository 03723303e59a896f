"""Our own places as search targets: parks (by name or any part of it: 双龙 -> 双龙航空港物流园区),
stations by name, and the streets of station addresses (兴业西路), each with the areas it lies in."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from layers.model import Station
from layers.parks import Park
from layers.places.found import Found
from layers.places.index import NameIndex

MIN_PART_CHARS = 2
# a street: up to 8 characters ending in 路/街/大道/巷/道, after the last 市/区/县/镇/乡/旗 of the address
_STREET_RE = re.compile(r"([^\s\d市区县镇乡旗号]{1,8}?(?:大道|大街|路|街|巷|道))(?:\d|$|[东西南北中]?段)")

Areas = Callable[[str], tuple[str, str, str]]  # 6-digit adcode -> (province, city, county) names


def street_of(address: str | None) -> str | None:
    """The street of an address ('贵阳市南明区兴业西路142号' -> '兴业西路'), or None."""
    match = _STREET_RE.search(address or "")
    return match.group(1) if match else None


class OwnPlaces:
    """Parks, stations and streets by name; `parts` finds parks by a part of their name."""

    def __init__(self, parks: Iterable[Park], stations: Iterable[Station], areas: Areas) -> None:
        self.found: list[Found] = []
        self.index = NameIndex(self.found.__getitem__)
        self._parks: list[Found] = []
        for park in parks:
            found = Found("park", park.name, park.slug, park.adcode or "", park.lon, park.lat,
                          *areas(park.adcode or ""))
            self._parks.append(found)
            self._add(park.name, found)
        streets: set[tuple[str, str]] = set()
        for station in stations:
            if station.status == "removed":
                continue
            where = areas(station.adcode or "")
            self._add(station.name, Found("station", station.name, station.id, station.adcode or "",
                                          station.lon, station.lat, *where), fuzzy=False)
            street = street_of(station.address)
            if street and (street, station.adcode or "") not in streets:
                streets.add((street, station.adcode or ""))
                self._add(street, Found("street", street, station.id, station.adcode or "", station.lon,
                                        station.lat, *where), fuzzy=False)
        self.index.freeze()

    def _add(self, name: str, found: Found, fuzzy: bool = True) -> None:
        self.found.append(found)
        self.index.add(name, len(self.found) - 1, fuzzy=fuzzy)

    def find(self, text: str) -> list[Found]:
        """Parks, stations and streets called `text`, then parks with `text` in their name."""
        hits = self.index.exact(text)
        if len(text) >= MIN_PART_CHARS:
            hits += [p for p in self._parks if text in p.name and p not in hits]
        return hits

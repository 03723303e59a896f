"""What a place search finds: one place with a centre in WGS-84 and the words that locate it."""
from __future__ import annotations

from typing import NamedTuple

# How a kind of place ranks when several answer the same words (smaller first).
KIND_ORDER = {"province": 0, "prefecture": 1, "county": 2, "park": 3, "station": 4, "town": 5, "street": 6}


class Found(NamedTuple):
    """A province, prefecture, county, town (乡/镇/街道), park, station or street; centre in WGS-84 degrees.

    Immutable; a named tuple rather than a frozen dataclass because a search may make a hundred
    of them (城关镇) and a tuple is made ten times faster.

    `code` is what names it: the 6-digit adcode (12-digit code for a town, slug for a park, id for a
    station or street); `adcode` the 6-digit code of the area it is or lies in ('' when unknown), and
    `former` that area's former codes; `province`, `city`, `county` the names of the areas it lies in.
    """

    kind: str
    name: str
    code: str
    adcode: str
    lon: float | None
    lat: float | None
    province: str = ""
    city: str = ""
    county: str = ""
    former: tuple[str, ...] = ()

    @property
    def level(self) -> str:
        """The kind, under the name the county gazetteer uses (province, prefecture, county, town ...)."""
        return self.kind

    def contains(self, other: Found) -> bool:
        """True when `other` lies inside this province, prefecture or county (by adcode, former codes too)."""
        size = {"province": 2, "prefecture": 4, "county": 6}.get(self.kind)
        if size is None or not other.adcode or other.code == self.code:
            return False
        return any(other.adcode[:size] == code[:size] or any(o[:size] == code[:size] for o in other.former)
                   for code in (self.adcode, *self.former))

    @property
    def within(self) -> str:
        """The areas it lies in, largest first, without repeats: '贵州省 贵阳市 南明区'."""
        parts: list[str] = []
        for part in (self.province, self.city, self.county):
            if part and part != self.name and part not in parts:
                parts.append(part)
        return " ".join(parts)

    @property
    def label(self) -> str:
        """Name with the areas it lies in: '沙南社区服务中心（贵州省 贵阳市 南明区）'."""
        return f"{self.name}（{self.within}）" if self.within else self.name

    def to_json(self) -> dict:
        """The place as the geocode API answers it (WGS-84 lon/lat, or null when unknown)."""
        return {"name": self.name, "kind": self.kind, "level": self.kind, "code": self.code, "adcode": self.adcode,
                "province": self.province, "city": self.city, "county": self.county, "label": self.label,
                "lon": self.lon, "lat": self.lat, "former_adcodes": list(self.former)}

"""The county gazetteer behind the sample data: cpca's adcodes.csv, centres converted to WGS-84."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from geo.crs import convert_many

# Mainland China without the South China Sea islands; centres outside are not used.
BOX = (73.5, 18.0, 135.1, 53.6)
# Renamed since cpca's table was made (玉环县 became 玉环市 in 2017; the code stayed 331021).
RENAMED = {"331021": "玉环市"}
MUNICIPALITIES = ("11", "12", "31", "50")
OUTSIDE_MAINLAND = ("71", "81", "82")
NOT_A_PLACE = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
PROVINCE_SHORT = {
    "15": "内蒙古", "45": "广西", "54": "西藏", "64": "宁夏", "65": "新疆",
}


@dataclass(frozen=True)
class Place:
    """One area of the gazetteer: 6-digit adcode, Chinese name, centre in WGS-84 degrees."""

    adcode: str
    name: str
    lon: float
    lat: float

    @property
    def province_code(self) -> str:
        """The first two digits of the adcode."""
        return self.adcode[:2]

    @property
    def is_district(self) -> bool:
        """True for an urban district (区), not a forest district (林区)."""
        return self.name.endswith("区") and not self.name.endswith("林区")


class Gazetteer:
    """Provinces, prefectures and county-level areas keyed by 6-digit adcode (WGS-84 centres)."""

    def __init__(self, places: dict[str, Place], nations: tuple[str, ...]) -> None:
        """Index `places` by level; `nations` are ethnic-group names for shortening names."""
        self.all = places
        self.nations = nations
        self.provinces = {c: p for c, p in places.items() if c[2:] == "0000"}
        prefectures = {c: p for c, p in places.items() if c[4:] == "00" and c[2:] != "0000"}
        counties = {c: p for c, p in places.items() if c[4:] != "00"}
        # A prefecture-level city without counties (东莞, 中山) stands for itself.
        with_children = {c[:4] for c in counties}
        for code, place in prefectures.items():
            if code[:4] not in with_children and code[:2] not in MUNICIPALITIES:
                counties[code] = place
        self.prefectures = prefectures
        self.counties = dict(sorted(counties.items()))

    def in_province(self, *prefixes: str) -> list[Place]:
        """County-level areas whose adcode starts with one of `prefixes`, sorted by adcode."""
        return [p for c, p in self.counties.items() if c.startswith(prefixes)]

    def county(self, adcode: str) -> Place:
        """The county-level area with this adcode (KeyError if unknown or without a centre)."""
        return self.counties[adcode]

    def city_name(self, adcode: str) -> str:
        """The prefecture-level city (or municipality) containing a county, '' if none applies."""
        if adcode[:2] in MUNICIPALITIES:
            return self.provinces[adcode[:2] + "0000"].name
        pref = self.prefectures.get(adcode[:4] + "00")
        if pref is None or pref.name in NOT_A_PLACE or pref.adcode == adcode:
            return ""
        return pref.name

    def province_short(self, adcode: str) -> str:
        """The province's usual short name: 贵州, 浙江, 广西, 上海."""
        code = adcode[:2]
        if code in PROVINCE_SHORT:
            return PROVINCE_SHORT[code]
        return self.provinces[code + "0000"].name.rstrip("省市")

    def short(self, name: str) -> str:
        """A place name without its level word: 玉环市 -> 玉环, 威宁彝族回族苗族自治县 -> 威宁."""
        if "自治" in name:
            cut = min((name.find(n) for n in self.nations if n in name), default=len(name))
            return name[:cut] if cut >= 2 else name[:2]
        for suffix in ("新区", "区", "县", "市"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                return name[: -len(suffix)]
        return name


def _read_rows() -> tuple[list[tuple[str, str, float, float]], tuple[str, ...]]:
    """cpca's rows with a centre (adcode6, name, lon, lat in GCJ-02) and its ethnic-group names."""
    base = resources.files("cpca") / "resources"
    text = (base / "adcodes.csv").read_text(encoding="utf-8")
    rows = []
    for rec in csv.DictReader(io.StringIO(text)):
        code = rec["adcode"][:6]
        if not rec["longitude"] or code[:2] in OUTSIDE_MAINLAND or rec["name"] in NOT_A_PLACE[:1]:
            continue
        rows.append((code, RENAMED.get(code, rec["name"]), float(rec["longitude"]), float(rec["latitude"])))
    rows.sort()
    nations = (base / "56_nations.csv").read_text(encoding="utf-8").split()
    return rows, tuple(sorted({n for n in nations if n}, key=lambda n: (-len(n), n)))


def load_gazetteer() -> Gazetteer:
    """The gazetteer with every centre converted GCJ-02 -> WGS-84 and rounded to 6 decimals."""
    rows, nations = _read_rows()
    lons = np.array([r[2] for r in rows], dtype=float)
    lats = np.array([r[3] for r in rows], dtype=float)
    wlons, wlats = convert_many(lons, lats, "gcj02", "wgs84")
    places = {}
    for (code, name, _, _), lon, lat in zip(rows, wlons, wlats):
        lon, lat = round(float(lon), 6), round(float(lat), 6)
        if BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3]:
            places[code] = Place(code, name, lon, lat)
    return Gazetteer(places, nations)

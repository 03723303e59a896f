"""Place search without GPS: Chinese provinces, prefectures and counties by name or adcode.

The gazetteer is the `adcodes.csv` that the `cpca` package ships (12-digit adcode, name,
centre longitude/latitude in GCJ-02). Centres are converted to WGS-84 once at load time with
`geo.crs.convert_many`. A place is found by its full name (玉环市), its short name without the
administrative suffix (玉环), a former name (玉环县, renamed 2017; see RENAMED) or its adcode.
"""
from __future__ import annotations

import csv
import importlib.util
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.crs import convert_many

LOGGER = logging.getLogger(__name__)
LEVELS = ("province", "prefecture", "county")
# Longest first, so 自治县 is stripped before 县.
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
             "自治旗", "地区", "林区", "新区", "矿区", "盟", "省", "市", "县", "区", "旗")
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_ADCODE_RE = re.compile(r"^[1-8]\d{5}(\d{6})?$")
_SPACE_RE = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Renamed:
    """A renamed county or city: its old name and code, its current name and code, the year."""

    old_name: str
    old_adcode: str
    name: str
    adcode: str
    year: int


# A few well-known renamings. cpca's table predates the first one, so 玉环县 is re-labelled;
# for the others cpca already has the current name and the old one becomes an alias.
RENAMED = (
    Renamed("玉环县", "331021", "玉环市", "331083", 2017),
    Renamed("遵义县", "520321", "播州区", "520304", 2016),
    Renamed("崇明县", "310230", "崇明区", "310151", 2016),
    Renamed("冀州市", "131181", "冀州区", "131103", 2016),
    Renamed("密云县", "110228", "密云区", "110118", 2015),
    Renamed("富阳市", "330183", "富阳区", "330111", 2014),
    Renamed("襄樊市", "420600", "襄阳市", "420600", 2010),
    Renamed("思茅市", "530800", "普洱市", "530800", 2007),
    Renamed("通什市", "469001", "五指山市", "469001", 2001),
    Renamed("大庸市", "430800", "张家界市", "430800", 1994),
)


@dataclass(frozen=True)
class Place:
    """A province, prefecture or county: current name, 6-digit adcode, centre in WGS-84 degrees."""

    adcode: str
    name: str
    level: str
    province: str
    lon: float | None
    lat: float | None
    aliases: tuple[str, ...] = ()
    former_adcodes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The place as the geocode API answers it (WGS-84 lon/lat, or null when unknown)."""
        return {"name": self.name, "adcode": self.adcode, "level": self.level, "province": self.province,
                "lon": self.lon, "lat": self.lat, "aliases": list(self.aliases),
                "former_adcodes": list(self.former_adcodes)}


def level_of(adcode: str) -> str:
    """province (xx0000), prefecture (xxxx00) or county, from a 6-digit adcode."""
    if adcode.endswith("0000"):
        return "province"
    return "prefecture" if adcode.endswith("00") else "county"


def short_name(name: str, nations: Iterable[str] = ()) -> str | None:
    """The name without its administrative suffix and ethnic qualifiers (松桃苗族自治县 -> 松桃)."""
    stem = name
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    ordered = sorted(nations, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for nation in ordered:
            if stem.endswith(nation) and len(stem) - len(nation) >= 2:
                stem, changed = stem[: -len(nation)], True
                break
    return stem if len(stem) >= 2 and stem != name else None


def normalise(query: str) -> str:
    """The query without spaces (full-width too) and surrounding punctuation."""
    return _SPACE_RE.sub("", query or "").strip("，,。.;；")


class Gazetteer:
    """An in-memory index of places by name, short name, former name and adcode."""

    def __init__(self, places: Iterable[Place], nations: Iterable[str] = ()) -> None:
        self.places = tuple(places)
        self._nations = tuple(nations)
        self._by_code: dict[str, Place] = {}
        self._by_name: dict[str, list[tuple[int, Place]]] = {}
        for place in self.places:
            self._by_code[place.adcode] = place
            for code in place.former_adcodes:
                self._by_code.setdefault(code, place)
            self._index(place.name, 0, place)
            for alias in place.aliases:
                self._index(alias, 1, place)
            for name in (place.name, *place.aliases):
                short = short_name(name, self._nations)
                if short:
                    self._index(short, 2, place)

    def _index(self, key: str, rank: int, place: Place) -> None:
        entries = self._by_name.setdefault(key, [])
        if all(p.adcode != place.adcode for _, p in entries):
            entries.append((rank, place))

    def by_adcode(self, code: str) -> Place | None:
        """The place with this 6- or 12-digit adcode (current or former), or None."""
        return self._by_code.get(code[:6]) if _ADCODE_RE.match(code or "") else None

    def _ranked(self, name: str) -> list[Place]:
        entries = self._by_name.get(name, [])
        entries = sorted(entries, key=lambda e: (e[0], LEVELS.index(e[1].level), e[1].adcode))
        return [place for _, place in entries]

    def lookup(self, query: str, limit: int = 10) -> list[Place]:
        """Places matching `query` (name, short, former name, or adcode), best first."""
        text = normalise(query)
        if not text:
            return []
        if text.isdigit():
            found = self.by_adcode(text)
            return [found] if found else []
        hits = self._ranked(text)
        if not hits:
            hits = self._qualified(text)
        return hits[:limit]

    def _qualified(self, text: str) -> list[Place]:
        """'浙江玉环', '台州市玉环': a leading province or prefecture name narrows the rest."""
        out: list[Place] = []
        for size in range(len(text) - 1, 1, -1):
            head, rest = text[:size], text[size:]
            parents = self._ranked(head)
            if not parents or len(rest) < 2:
                continue
            for place in self._ranked(rest):
                if any(_within(place, parent) for parent in parents) and place not in out:
                    out.append(place)
            if out:
                break
        return out

    def children(self, adcode: str, level: str = "county") -> list[Place]:
        """Places of `level` inside the province or prefecture `adcode`, by adcode."""
        parent = self.by_adcode(adcode)
        if parent is None:
            return []
        return sorted((p for p in self.places if p.level == level and _within(p, parent)), key=lambda p: p.adcode)


def _within(place: Place, parent: Place) -> bool:
    if parent.level == "province":
        return place.adcode[:2] == parent.adcode[:2] and place.adcode != parent.adcode
    if parent.level == "prefecture":
        return place.adcode[:4] == parent.adcode[:4] and place.adcode != parent.adcode
    return False


def _cpca_resources() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package (its adcodes.csv is the gazetteer) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


def _read_rows(path: Path) -> Iterator[tuple[str, str, float | None, float | None]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("name") or "").strip()
            code = (row.get("adcode") or "").strip()[:6]
            if name in _PLACEHOLDERS or not _ADCODE_RE.match(code):
                continue
            try:
                lon, lat = float(row["longitude"]), float(row["latitude"])
            except (TypeError, ValueError):
                lon = lat = None
            yield code, name, lon, lat


def load_cpca(resources: Path | None = None) -> Gazetteer:
    """The gazetteer from cpca's adcodes.csv, centres converted from GCJ-02 to WGS-84."""
    resources = resources or _cpca_resources()
    rows = list(_read_rows(resources / "adcodes.csv"))
    nations = [line.strip() for line in (resources / "56_nations.csv").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    located = [i for i, r in enumerate(rows) if r[2] is not None]
    lons, lats = convert_many([rows[i][2] for i in located], [rows[i][3] for i in located], "gcj02", "wgs84")
    wgs = {i: (round(float(lo), 6), round(float(la), 6)) for i, lo, la in zip(located, lons, lats)}
    provinces = {code[:2]: name for code, name, _, _ in rows if level_of(code) == "province"}
    renamed = {**{(r.adcode, r.name): r for r in RENAMED}, **{(r.old_adcode, r.old_name): r for r in RENAMED}}
    places = []
    for i, (code, name, _, _) in enumerate(rows):
        rename = renamed.get((code, name))
        aliases, former = (), ()
        if rename:
            code, name = rename.adcode, rename.name
            aliases = (rename.old_name,)
            former = (rename.old_adcode,) if rename.old_adcode != rename.adcode else ()
        lon, lat = wgs.get(i, (None, None))
        places.append(Place(code, name, level_of(code), provinces.get(code[:2], ""), lon, lat, aliases, former))
    LOGGER.debug("gazetteer: %d places from %s", len(places), resources)
    return Gazetteer(places, nations)


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The cpca gazetteer, loaded once per process."""
    return load_cpca()

"""One search box for everything a worker types: a need, a place, both, pinyin, an address, a near-miss.

`PlaceSearch.search(text, own)` answers an `Answer`: the need found in the words (讨薪 -> rights
posts with wage claims), where to centre (a province, prefecture, county, town, park, station or
street, centre in WGS-84), other readings, a list to choose from when a name is shared (城关镇),
and near-miss suggestions that are never taken silently (南名区 -> 南明区?). A leading area narrows
what follows ('南明 沙南', '贵阳市南明区兴业西路'); when only the leading part is understood, the
search centres there and says so (`understood`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from layers.places.found import KIND_ORDER, Found
from layers.places.gazetteer import Gazetteer, Place, default_gazetteer
from layers.places.gazetteer import short_name as county_short
from layers.places.index import ALIAS, FULL, SHORT, NameIndex
from layers.places.names import compact, is_pinyin, short_name, tokens
from layers.places.needs import Need, NeedVocabulary, default_vocabulary
from layers.places.ours import OwnPlaces
from layers.places.towns import Areas, default_areas, load_char_sounds

AREA_KINDS = ("province", "prefecture", "county")
MAX_CHOICES = 12
MAX_OTHERS = 5
MAX_SUGGESTIONS = 5
MAX_QUERY_CHARS = 50


@dataclass
class Answer:
    """What a search understood; `place` is None when it needs the reader to choose or retype."""

    query: str
    need: Need | None = None
    place: Found | None = None
    others: list[Found] = field(default_factory=list)
    choices: list[Found] = field(default_factory=list)
    choices_total: int = 0
    suggestions: list[Found] = field(default_factory=list)
    understood: str = ""  # the leading words the centre stands for, when the rest was not understood
    place_text: str = ""  # the words read as a place (the query without the need)


class PlaceSearch:
    """The nationwide index (cpca counties and above, Vonng/adcode towns) and the need vocabulary."""

    def __init__(self, gazetteer: Gazetteer, areas: Areas, needs: NeedVocabulary,
                 sounds: dict[str, str] | None = None) -> None:
        self.gazetteer = gazetteer
        self.areas = areas
        self.needs = needs
        self.sounds = sounds or {}
        self.places: list[Found] = []
        self._by_code: dict[str, int] = {}
        self.index = NameIndex(self._resolve_number)
        for place in gazetteer.places:
            self._add_place(place)
        self._attach_towns()

    def _resolve_number(self, number: int) -> Found:
        offset = len(self.places)
        return self.places[number] if number < offset else self.areas.town(number - offset)

    def _add_place(self, place: Place) -> None:
        prefecture = self.gazetteer.by_adcode(place.adcode[:4] + "00") if place.level == "county" else None
        city = prefecture.name if prefecture and prefecture.level == "prefecture" else ""
        found = Found(place.level, place.name, place.adcode, place.adcode, place.lon, place.lat,
                      place.province if place.level != "province" else "", city, "", place.former_adcodes)
        number = len(self.places)
        self.places.append(found)
        self._by_code[place.adcode] = number
        self.index.add(place.name, number, FULL)
        for alias in place.aliases:
            self.index.add(alias, number, ALIAS)
        for name in (place.name, *place.aliases):
            for form in {short_name(name), county_short(name, self.gazetteer._nations)} - {None}:
                self.index.add(form, number, SHORT, fuzzy=False)
        for code in (place.adcode, *place.former_adcodes):
            full, initials = self.areas.pinyin.get(code, ("", ""))
            self.index.add_pinyin(full, number)
            self.index.add_initials(initials if len(initials) >= 2 else "", number)

    def _attach_towns(self) -> None:
        """The towns' shipped tables, their numbers moved past the counties' (4 * offset for exact values)."""
        offset = len(self.places)
        for kind, (hashes, values) in self.areas.keys.items():
            shifted = values + (offset * 4 if kind == "exact" else offset)
            if kind == "fuzzy":
                self.index.freeze(hashes, shifted)
            else:
                self.index.attach(kind, hashes, shifted)

    # ---- reading a query ------------------------------------------------------------------
    def search(self, query: str, own: OwnPlaces | None = None) -> Answer:
        """Everything `query` could mean; see Answer."""
        text = " ".join(tokens(query))[:MAX_QUERY_CHARS]
        need = self.needs.get(compact(text))
        rest = "" if need else text
        if need is None and not self._resolve(compact(text), own):  # a name with a need word in it (…驿站) stays whole
            need, rest = self.needs.split(text)
        answer = Answer(query=text, need=need, place_text=compact(rest))
        if answer.place_text:
            self._locate(answer, answer.place_text, own)
        return answer

    def _locate(self, answer: Answer, text: str, own: OwnPlaces | None) -> None:
        if is_pinyin(text):
            full = self.index.pinyin(text)
            if full:
                self._choose(answer, full)
            else:  # initials (gy) name many places: always a list
                hits = self.index.initials(text)
                answer.choices, answer.choices_total = hits[:MAX_CHOICES], len(hits)
            return
        hits = self._resolve(text, own)
        if not hits:
            area, targets, head = self._qualified(text, own, {})
            if targets:
                hits = targets
            elif area is not None:
                answer.place, answer.understood = area, head
                return
        if hits:
            self._choose(answer, hits)
            return
        misses = self.index.near_misses(text) + (own.index.near_misses(text) if own else [])
        sound = self.sound(text)
        misses.sort(key=lambda f: (self.sound(f.name) != sound, KIND_ORDER.get(f.kind, 9), f.code))
        alike = [f for f in misses if self.sound(f.name) == sound]  # homophones (南名区 -> 南明区) say it best
        answer.suggestions = (alike or misses)[:MAX_SUGGESTIONS]

    def sound(self, text: str) -> str:
        """The pinyin of `text` without tones, character by character (unknown characters kept)."""
        return " ".join(self.sounds.get(char, char) for char in text)

    def _choose(self, answer: Answer, hits: list[Found]) -> None:
        """Centre on an area, our one park or station, or the one hit; else a list to choose from."""
        ours = [f for f in hits if f.kind in ("park", "station")]
        best = hits[0] if hits[0].kind in AREA_KINDS or len(hits) == 1 else (ours[0] if len(ours) == 1 else None)
        if best is not None:
            answer.place, answer.others = best, [f for f in hits if f is not best][:MAX_OTHERS]
            return
        answer.choices, answer.choices_total = hits[:MAX_CHOICES], len(hits)

    def centre(self, found: Found) -> tuple[float, float] | None:
        """(lon, lat) WGS-84 of a place, or of the county it lies in when its own centre is unknown."""
        if found.lon is not None and found.lat is not None:
            return found.lon, found.lat
        county = self.by_code(found.adcode) if found.adcode else None
        return (county.lon, county.lat) if county and county.lon is not None else None

    def _resolve(self, text: str, own: OwnPlaces | None) -> list[Found]:
        """Places called exactly `text` (a code or a name), best first."""
        if text.isdigit():
            found = self.by_code(text)
            return [found] if found else []
        hits = self.index.exact(text)
        if own is not None:
            mine = own.find(text)
            hits = sorted(hits + [f for f in mine if f not in hits], key=lambda f: KIND_ORDER.get(f.kind, 9)) \
                if mine else hits
        return hits

    def _area(self, text: str, memo: dict) -> list[Found]:
        """Provinces, prefectures and counties `text` names, alone or qualified ('台州市玉环')."""
        if text not in memo:
            memo[text] = []
            areas = [f for f in self._resolve(text, None) if f.kind in AREA_KINDS]
            if not areas:
                _, targets, _ = self._qualified(text, None, memo)
                areas = [f for f in targets if f.kind in AREA_KINDS]
            memo[text] = areas
        return memo[text]

    def _qualified(self, text: str, own: OwnPlaces | None, memo: dict) -> tuple[Found | None, list[Found], str]:
        """(the area the longest leading part names, the places the rest names inside it, that part).

        With nothing found inside, the area is still given when its words end in 省/市/区/县... (an
        address whose street we do not know: '贵阳市南明区兴业西路' centres on 南明区)."""
        fallback: tuple[Found | None, str] = (None, "")
        for size in range(len(text) - 1, 1, -1):
            head, tail = text[:size], text[size:]
            areas = self._area(head, memo)
            if not areas:
                continue
            inside = [f for f in self._resolve(tail, own) if any(a.contains(f) for a in areas)]
            if inside:
                return areas[0], inside, head
            if fallback[0] is None and short_name(head) is not None:
                fallback = (areas[0], head)
        return fallback[0], [], fallback[1]

    def by_code(self, code: str) -> Found | None:
        """The area with this 6-digit adcode (current or former) or 12-digit town code."""
        town = self.areas.number_of(code) if not code.endswith("000000") else None
        if town is not None:
            return self.areas.town(town)
        place = self.gazetteer.by_adcode(code)
        return self.places[self._by_code[place.adcode]] if place else None


@lru_cache(maxsize=1)
def default_search() -> PlaceSearch:
    """The shipped nationwide search, built once per process."""
    return PlaceSearch(default_gazetteer(), default_areas(), default_vocabulary(), load_char_sounds())

"""The search box's engine for the pages and the API: the nationwide search plus this app's own
parks and stations (rebuilt when their number changes), the need vocabulary, and "where am I"."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import current_app

from layers.places.found import Found
from layers.places.gazetteer import default_gazetteer
from layers.places.needs import Need
from layers.places.ours import OwnPlaces
from layers.places.reverse import default_boundaries
from layers.places.search import Answer, default_search
from web import i18n

LOGGER = logging.getLogger(__name__)
_LOCK = threading.Lock()
AREA_KINDS = ("province", "prefecture", "county", "town")
OWN_REFRESH_S = 60.0


def _areas_of(adcode: str) -> tuple[str, str, str]:
    gaz = default_gazetteer()
    county = gaz.by_adcode(adcode) if adcode else None
    if county is None:
        return "", "", ""
    city = gaz.by_adcode(adcode[:4] + "00") if county.level == "county" else None
    return county.province, city.name if city and city is not county else "", county.name


def own_places() -> OwnPlaces:
    """This app's parks and stations as search targets. Rebuilt when their numbers change, looked at
    no more than every OWN_REFRESH_S seconds (counting a million stations costs tens of ms)."""
    cached = current_app.extensions.get("yizhan.own_places")
    now = time.monotonic()
    if cached and now - cached[0] < OWN_REFRESH_S:
        return cached[2]
    store = current_app.extensions["yizhan.store"]
    parks = current_app.extensions.get("yizhan.parks")
    park_list = parks.list_parks() if parks else []
    key = (store.count(), tuple(p.slug for p in park_list))
    with _LOCK:
        if cached and cached[1] == key:
            own = cached[2]
        else:
            own = OwnPlaces(park_list, store.iter_all(), _areas_of)
            LOGGER.info("place search: %d own names indexed", len(own.found))
        current_app.extensions["yizhan.own_places"] = (now, key, own)
    return own


def search(query: str, need_word: str = "") -> Answer:
    """What the search box's text (and a need button's word) mean; see layers.places.search.Answer."""
    engine = default_search()
    answer = engine.search(query or "", own_places())
    if answer.need is None and need_word:
        answer.need = engine.needs.get(need_word.strip())
    return answer


def need_of(word: str) -> Need | None:
    """The need for a need button's word, or None."""
    return default_search().needs.get((word or "").strip())


def centre(found: Found) -> tuple[float, float] | None:
    """(lon, lat) WGS-84 to search from for a found place (its county's centre when its own is unknown)."""
    return default_search().centre(found)


def query_for(found: Found) -> str:
    """What to put in ?q= so that the search finds exactly this place again."""
    return found.code if found.kind in AREA_KINDS else found.name


def where_am_i(lon: float, lat: float) -> tuple[str, str] | None:
    """(area, town) in words around a WGS-84 point ('贵州省贵阳市南明区', '沙南街道'), or None outside China."""
    here = default_boundaries().where(lon, lat)
    if here is None:
        return None
    current = default_gazetteer().by_adcode(here.adcode)
    area = here.area
    if current is not None and here.county and current.name != here.county:  # renamed since 2016: 玉环县 -> 玉环市
        area = area[: -len(here.county)] + current.name
    return area, here.town


def apply_need(filters: dict[str, Any], need: Need | None) -> dict[str, Any]:
    """A need (讨薪) narrows /near to its layer and service unless the reader chose kinds themselves."""
    if need is None or filters["layers"]:
        return filters
    services = filters["services"] or ((need.service,) if need.service else ())
    return {**filters, "layers": (need.layer,), "services": services}


def need_buttons() -> list[dict[str, str]]:
    """The home page's need buttons in the reader's language."""
    lang = i18n.current_language()
    return [{"need": b.need, "icon": b.icon, "label": b.label.get(lang) or b.label["zh"]}
            for b in default_search().needs.buttons]


def help_kind(answer: Answer) -> tuple[str, str, dict[str, str]]:
    """(kind, heading message key, its values) of the page for a search without a centre."""
    if answer.choices:
        return "choose", "search.help.choose", {"q": answer.place_text}
    if answer.suggestions:
        return "suggest", "search.help.suggest_title", {"q": answer.place_text}
    if answer.place_text:
        return "none", "search.help.none", {"q": answer.place_text}
    if answer.need:
        return "need", "search.help.need", {"need": answer.need.word}
    return "empty", "search.help.empty", {}

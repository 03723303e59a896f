"""Result cards and map pins: what one station shows in a list, every text in the reader's language.

A card carries its honest state (web.pages.results.STATES): open, open but reported locked (who and
when, and "call first" only when there is a number to call — else the hotline), hours unknown,
closed (with when it opens), temporarily closed (greyed, no call-to-go buttons).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app, render_template

from geo.hours import SHANGHAI
from geo.nav import tel_link
from layers.places.gazetteer import default_gazetteer
from web import i18n
from web.pages import card_notes, maps
from web.pages.results import Flag, state_of

# card state -> pin / rank shape (shape and colour, never colour alone)
SHAPES = {"open": "open", "reported": "reported", "unknown": "unknown", "closed": "closed",
          "temporarily_closed": "paused"}


def _store():
    return current_app.extensions["yizhan.store"]


def _flag_text(flag: Flag | None, phone: str | None, hotline: str, lang: str) -> str:
    if flag is None:
        return ""
    when = flag.last_at.astimezone(SHANGHAI).strftime("%H:%M") if flag.last_at else ""
    key = "card.reported_call" if phone else "card.reported_hotline"
    return i18n.translate(lang, key, n=max(flag.count, 2), time=when, hotline=hotline)


def _state_text(props: Mapping[str, Any], state: str, at: datetime, hotline: str, lang: str) -> str:
    if state == "unknown":
        return i18n.translate(lang, "state.unknown" if props.get("phone") else "card.unknown_hotline",
                              hotline=hotline)
    if state == "temporarily_closed":
        return i18n.translate(lang, "card.paused")
    return i18n.open_state(props, at, lang)[1]


def station_card(feature: Mapping[str, Any], rank: int | str, at: datetime,
                 flags: Mapping[str, Flag] | set[str] = frozenset(), hotline: str = "12345") -> dict[str, Any]:
    """What a list item shows (escaping is the template's); `hotline`, the number that answers now."""
    lang = i18n.current_language()
    props = feature["properties"]
    layer = _store().layers[props["layer"]]
    title = (props.get("name_en") or props["name"]) if lang == "en" else props["name"]
    state = state_of(props, flags, feature["id"]) or "closed"
    phone = props.get("phone")
    gaz = default_gazetteer()
    origins = [(gaz.by_adcode(code).name if gaz.by_adcode(code) else code) for code in props.get("origins") or ()]
    access = props.get("access")
    flag = flags.get(feature["id"]) if isinstance(flags, Mapping) else (Flag(2) if feature["id"] in flags else None)
    return {
        "id": feature["id"], "rank": rank, "title": title, "subtitle": props["name"] if title != props["name"] else "",
        "layer_label": layer.label(lang), "colour": maps.safe_colour(layer.colour),
        "distance": i18n.format_distance(props.get("distance_m"), lang), "state": state,
        "state_class": i18n.open_state(props, at, lang)[0], "shape": SHAPES[state],
        "state_text": _state_text(props, state, at, hotline, lang), "address": props.get("address"), "phone": phone,
        "tel": tel_link(phone) if phone else None, "nav": props["nav"], "go": state != "temporarily_closed",
        "flagged": state == "reported", "flag_text": _flag_text(flag, phone, hotline, lang) if state == "reported"
        else "", "hotline": hotline,
        "services": [layer.service_label(word, lang) for word in props.get("services") or ()],
        "handles": list(props.get("items") or ()), "origins": origins,
        "access": access, "access_text": i18n.translate(lang, f"access.short.{access}") if access else "",
        "access_note": i18n.translate(lang, f"access.{access}") if access and access != "open" else "",
        "hours": props.get("hours"), "operator": props.get("operator"), "source": props.get("source"),
        "verified_at": props.get("verified_at"), "verified_by": props.get("verified_by"), "removed": props.get("status") == "removed",
        "status": props.get("status"),
        "lon": feature["geometry"]["coordinates"][0], "lat": feature["geometry"]["coordinates"][1],
        "layer": layer, **card_notes.notes(props, at, lang),
    }


def pins(cards: list[dict[str, Any]], helpers: Mapping[str, Any]) -> list[maps.Pin]:
    """Map pins for cards: numbered, shaped and coloured by open state, with the popup HTML."""
    return [maps.Pin(c["id"], c["lon"], c["lat"], c["layer"], c["title"],
                     render_template("_popup.html", c=c, **helpers), str(c["rank"]), c.get("shape", "unknown"),
                     c.get("approx_radius_m", 0.0))
            for c in cards]

"""Pages for people: `/`, `/near`, `/station/<id>`, `/windows`; Chinese first, English by ?lang=en.

Route bodies parse, call the store and render; lists are server-rendered HTML that work without
JavaScript, and the folium map is embedded into the Jinja layout. Errors become a friendly page
in the reader's language with the same status.
"""
from __future__ import annotations

import gzip
import logging
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from layers.errors import InvalidQuery, YizhanError
from layers.parks import REPORT_KINDS
from layers.places.gazetteer import Place, default_gazetteer
from layers.present import station_answer
from layers.store import NearestQuery
from web import i18n, params, place_search
from web.assets import COMPRESSIBLE, TEMPLATES_DIR
from web.errors import error_response
from web.pages import cards, hotlines, hours_words, maps, results, station_facts
from web.pages.render import (
    BIG_TEXT_COOKIE,
    _args,
    _template_globals,
    error_page,
    link,
    placed,
    render,
    store,
    tiles,
)
from web.pages.tiles import choose_provider

LOGGER = logging.getLogger(__name__)
bp = Blueprint("pages", __name__, template_folder=str(TEMPLATES_DIR))
MAX_K_PAGE = 50
DEFAULT_K = 10
MAX_WINDOWS = 100


class UnknownPlace(InvalidQuery):
    """A place name the gazetteer does not know (or a county was needed and not given)."""

    code = "unknown_place"


@bp.record_once
def _check_tiles(state) -> None:
    choose_provider(state.app.config)  # fail at start-up on a bad YIZHAN_TILES


@bp.after_request
def _compress(response: Response) -> Response:
    """gzip text answers when the browser takes it (Leaflet: 147 kB -> 43 kB)."""
    if (response.direct_passthrough or response.status_code not in (200, 400, 404)
            or response.mimetype not in COMPRESSIBLE or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")):
        return response
    data = response.get_data()
    if len(data) < 1024:
        return response
    response.set_data(gzip.compress(data, 6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


# ---- station cards (web.pages.cards; the name stays importable from here) ------------------------
station_card = cards.station_card


def _pins(items: list[dict[str, Any]]) -> list[maps.Pin]:
    return cards.pins(items, _template_globals())


# ---- places -------------------------------------------------------------------------------
def _place_label(place: Place) -> str:
    if place.level == "province" or not place.province:
        return place.name
    return i18n.gettext("place.in_province", name=place.name, province=place.province)


def find_place(query: str, parameter: str = "q", county: bool = False) -> tuple[Place, list[Place]]:
    """The best place for a typed name (and the other candidates), or UnknownPlace."""
    text = query.strip()
    if len(text) > 50:
        raise InvalidQuery(f"{parameter} must be at most 50 characters", parameter)
    hits = [p for p in default_gazetteer().lookup(text, limit=8) if p.lon is not None or county]
    if county:
        hits = [p for p in hits if p.level == "county"]
    if not hits:
        raise UnknownPlace(f"no place called {text[:50]!r}", parameter)
    return hits[0], hits[1:]


# ---- routes -------------------------------------------------------------------------------
@bp.get("/")
def home():
    parts = maps.home_map(tiles(), store().layers, i18n.current_language(), url_for("pages.points"))
    parts.config.update(station_api=url_for("api.station", station_id="__ID__"),
                        station_page=link("pages.station", station_id="__ID__"),
                        layer_names={lid: layer.label(i18n.current_language()) for lid, layer in store().layers.items()})
    return render("home.html", parts=parts, buttons=place_search.need_buttons())


@bp.get("/map/points")
def points():
    """Station dots for the big map in the tiles' CRS: [[id, lon, lat, layer index], ...] (compact)."""
    args = _args()
    bbox = params.bbox(args)
    layers = params.word_list(args, "layer", store().layers, "layer")
    body = maps.feed(store(), tiles(), bbox, layers)
    response = current_app.json.response(body)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _near_filters(args: Mapping[str, str]) -> dict[str, Any]:
    layers = params.word_list(args, "layer", store().layers, "layer")
    vocab = {w for lid in (layers or tuple(store().layers)) for w in store().layers[lid].services}
    return {"layers": layers, "services": params.word_list(args, "service", vocab, "service"),
            "k": params.integer(args, "k", 1, MAX_K_PAGE, DEFAULT_K), "open_now": params.flag(args, "open_now"),
            "at": params.moment(args)}


@bp.get("/near")
def near():
    args = _args()
    lang = i18n.current_language()
    filters = _near_filters(args)
    place, others, answer, here = None, [], None, None
    if args.get("lat") or args.get("lon"):
        lon, lat = params.point(args)
        need = place_search.need_of(args.get("need", "").split(",")[-1])
        here = place_search.where_am_i(lon, lat)
    else:
        answer = place_search.search(args.get("q", ""), args.get("need", "").split(",")[-1])
        need = answer.need
        centre = place_search.centre(answer.place) if answer.place else None
        if centre is None:
            return _search_help(answer, args)
        place, others = answer.place, answer.others
        lon, lat = centre
    filters = place_search.apply_need(filters, need)
    query = NearestQuery(lon=lon, lat=lat, k=filters["k"], layers=filters["layers"], services=filters["services"],
                         open_now=filters["open_now"], at=filters["at"])
    at = query.moment()
    flags = results.flag_details(current_app.extensions.get("yizhan.parks"))
    found = results.answer(store(), query, flags)
    panel = hotlines.panel(at, lang, filters["layers"])
    number = (panel["first_now"] or panel["items"][0])["number"]
    cards_ = [station_card(f, i + 1, at, flags, number) for i, f in enumerate(found.features)]
    beyond = station_card(found.open_beyond, "", at, flags, number) if found.open_beyond else None
    here_label = place.label if place else i18n.gettext("map.you_are_here")
    parts = maps.results_map(tiles(), lang, _pins(cards_), here=(lon, lat), here_label=here_label)
    heading = i18n.gettext("near.title_place", place=place.name) if place else i18n.gettext("near.title")
    chosen = {"q": args.get("q", ""), "layers": filters["layers"], "service": ",".join(filters["services"]),
              "open_now": filters["open_now"]}
    return render("near.html", parts=parts, cards=cards_, heading=heading, place=place, at=at, hotlines=panel,
                  needs=filters["layers"], nothing_open=found.nothing_open, beyond=beyond,
                  cap=i18n.translate(lang, "unit.km", n=f"{found.cap_m / 1000:g}"),
                  place_label=place.label if place else "", chosen=chosen,
                  alternatives=_found_links(others, args), filters_text=_filters_text(filters),
                  understood=answer.understood if answer else "", here=here, need=need)


def _found_links(found: list, args: Mapping[str, str]) -> list[dict]:
    keep = {k: v for k, v in args.items() if k not in ("q", "lat", "lon", "crs")}
    return [{"label": f.label, "url": link("pages.near", **keep, q=place_search.query_for(f))} for f in found]


def _search_help(answer, args: Mapping[str, str]):
    """The search form again (HTTP 200) when a search gives no centre: empty, a list to choose from,
    near-miss suggestions, or nothing found; with a one-line hint (the hotlines are in the layout)."""
    kind, key, values = place_search.help_kind(answer)
    return render("search_help.html", heading=i18n.gettext(key, **values), kind=kind, chosen={"q": args.get("q", "")[:50]},
                  need=answer.need, choices=_found_links(answer.choices, args), choices_total=answer.choices_total,
                  suggestions=_found_links(answer.suggestions, args), buttons=place_search.need_buttons())


def _filters_text(filters: Mapping[str, Any]) -> str:
    lang = i18n.current_language()
    words = [store().layers[lid].label(lang) for lid in filters["layers"]]
    for word in filters["services"]:
        words.append(next(l.service_label(word, lang) for l in store().layers.values() if word in l.services))
    if filters["open_now"]:
        words.append(i18n.gettext("search.open_now"))
    return i18n.gettext("list.sep").join(words)


@bp.get("/station/<station_id>")
def station(station_id: str):
    args = _args()
    at = params.moment(args)
    lang = i18n.current_language()
    feature = station_answer(store().get(station_id), at)
    parks = current_app.extensions.get("yizhan.parks")
    flags = results.flag_details(parks)
    panel = hotlines.panel(at, lang, (feature["properties"]["layer"],))
    card = station_card(feature, "", at, flags, (panel["first_now"] or panel["items"][0])["number"])
    parts = maps.results_map(tiles(), lang, _pins([card]))
    near_url = link("pages.near", lat=f"{card['lat']:.6f}", lon=f"{card['lon']:.6f}")
    kinds = [(kind, i18n.gettext(f"report.kind.{kind}")) for kind in REPORT_KINDS] if parks else []
    return render("station.html", parts=parts, card=card, near_url=near_url, at=at, hotlines=panel,
                  week=hours_words.week_groups(card["hours"], at, lang), facts=station_facts.facts(card, lang),
                  flagged=station_id in flags, reported="reported" in args, report_kinds=kinds)


def _origin(raw: str, args: Mapping[str, str]) -> tuple[str, str, list[dict]]:
    """(adcode, label, county suggestions) for a home county typed as adcode or name."""
    text = raw.strip()
    if text.isdigit():
        code = params.adcode({"origin": text}, "origin") or ""
        place = default_gazetteer().by_adcode(code)
        return code, (_place_label(place) if place else code), []
    try:
        place, _ = find_place(text, "origin", county=True)
    except UnknownPlace:
        broader, _ = find_place(text, "origin")
        counties = default_gazetteer().children(broader.adcode)
        keep = {k: v for k, v in args.items() if k != "origin"}
        suggestions = [{"label": p.name, "url": link("pages.windows", **keep, origin=p.adcode)} for p in counties[:40]]
        return "", _place_label(broader), suggestions
    return place.adcode, _place_label(place), []


def _windows_from(args: Mapping[str, str], home: Place | None, code: str) -> tuple[float, float, str, str | None]:
    """Where distances to the windows are measured from: lat/lon, a typed place, else the home county."""
    if args.get("lat") or args.get("lon"):
        lon, lat = params.point(args)
        return lon, lat, i18n.gettext("windows.order_here"), i18n.gettext("map.you_are_here")
    if args.get("q"):
        place, _ = find_place(args["q"])
        return place.lon, place.lat, i18n.gettext("windows.order_place", place=place.name), _place_label(place)
    if home is not None and home.lon is not None:
        return home.lon, home.lat, i18n.gettext("windows.order_home"), None
    raise UnknownPlace(f"no centre known for county {code}", "origin")


@bp.get("/windows")
def windows():
    args = _args()
    lang = i18n.current_language()
    chosen = {k: args.get(k, "") for k in ("origin", "q", "lat", "lon")}
    heading = i18n.gettext("windows.title")
    if not args.get("origin"):
        return render("windows.html", heading=heading, chosen=chosen, searched=False)
    code, origin_label, suggestions = _origin(args["origin"], args)
    if not code:
        return render("windows.html", heading=heading, chosen=chosen, searched=False, suggestions=suggestions)
    home = default_gazetteer().by_adcode(code)
    lon, lat, order, here_label = _windows_from(args, home, code)
    at = params.moment(args)
    layers = tuple(lid for lid, layer in store().layers.items() if layer.has_origins)
    codes = (code, *(home.former_adcodes if home else ()))
    hits = [h for c in codes for h in store().nearest(NearestQuery(lon=lon, lat=lat, k=MAX_WINDOWS, layers=layers,
                                                                    origin=c, at=at))]
    hits = sorted({h.station.id: h for h in hits}.values(), key=lambda h: (h.distance_m, h.station.id))[:MAX_WINDOWS]
    listed = [station_card(station_answer(h.station, at, h.distance_m, h.nav), i + 1, at) for i, h in enumerate(hits)]
    parts = maps.results_map(tiles(), lang, _pins(listed), here=(lon, lat) if here_label else None,
                             here_label=here_label or "")
    return render("windows.html", heading=placed("windows.title_for", origin=origin_label), chosen=chosen,
                  searched=True, parts=parts, cards=listed, at=at, origin_label=origin_label, order_note=order)


@bp.get("/text-size")
def text_size():
    """The 大字 switch without JavaScript: remember the choice in a cookie, go back to the page."""
    back = request.args.get("next") or "/"
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    response = redirect(back, 303)
    response.set_cookie(BIG_TEXT_COOKIE, "1" if request.args.get("big") == "1" else "0", max_age=365 * 86400,
                        samesite="Lax", httponly=False)
    return response


def _wants_json() -> bool:
    return request.endpoint == "pages.points"


@bp.errorhandler(YizhanError)
def _domain_error(exc: YizhanError):
    if _wants_json():
        return error_response(exc.status, exc.code, exc.message, exc.parameter)
    return error_page(exc.status, exc.code, exc.parameter, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    if _wants_json():
        return error_response(status, "error", exc.description or exc.name)
    return error_page(status, "http", None, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    LOGGER.exception("unhandled error on %s %s", request.method, request.path)
    if _wants_json():
        return error_response(500, "internal_error", "an internal error occurred; it has been logged")
    return error_page(500, "internal_error", None, "")

"""JSON API `/api/v1`: parse, call the store, render. No SQL, index or distance arithmetic here."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, jsonify, request, url_for

from geo.crs import to_wgs84
from geo.hours import SHANGHAI
from layers.errors import InvalidQuery, InvalidStation, StationNotFound
from layers.model import Station, station_from_feature
from layers.present import station_answer
from layers.store import MAX_K, MAX_LIMIT, NearestQuery, StationStore
from web import params
from web.api.conditional import if_match, with_etag
from web.auth import current_actor, require_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_RADIUS_M = 20_040_000.0


def store() -> StationStore:
    """The configured store."""
    return current_app.extensions["yizhan.store"]


def _services_for(layers: tuple[str, ...]) -> set[str]:
    chosen = layers or tuple(store().layers)
    return {word for lid in chosen for word in store().layers[lid].services}


_last_stamp: tuple[tuple[int, ...], str] = ((), "")


def _time_stamp() -> str:
    """Now in Asia/Shanghai as ISO text to the second; the text is made once a second (isoformat is slow)."""
    global _last_stamp
    now = datetime.now(SHANGHAI)
    second = (now.second, now.minute, now.hour, now.day, now.month, now.year)
    stamp = _last_stamp  # one read: another thread may swap the pair meanwhile, never half of it
    if stamp[0] != second:
        stamp = _last_stamp = (second, now.isoformat(timespec="seconds"))
    return stamp[1]


def _feature_collection(features: list[dict], **extra) -> dict:
    return {"type": "FeatureCollection", "features": features, "numberReturned": len(features),
            "timeStamp": _time_stamp(), **extra}


_NEAREST_PARAMS = params.allowed_names("lat", "lon", "k", "layer", "service", "open_now", "radius_m", "origin", "crs",
                                       "at")


@bp.get("/nearest")
def nearest():
    # A plain dict of each parameter's first value, as MultiDict.get gives: every get of an absent
    # parameter from the MultiDict raises (and catches) a werkzeug exception, ~7 a request here.
    args = request.args.to_dict()
    params.reject_unknown(args, _NEAREST_PARAMS)
    the_store = store()
    lon, lat = params.point(args)
    layers = params.word_list(args, "layer", the_store.layers, "layer")
    query = NearestQuery(
        lon=lon, lat=lat, k=params.integer(args, "k", 1, MAX_K, 5), layers=layers,
        services=params.word_list(args, "service", _services_for(layers), "service") if args.get("service") else (),
        open_now=params.flag(args, "open_now"), at=params.moment(args),
        radius_m=params.number(args, "radius_m", 0, MAX_RADIUS_M), origin=params.adcode(args, "origin"),
    )
    at = query.moment()
    if at.second or at.microsecond:  # hours are judged per minute (station_answer would do this per station)
        at = at.replace(second=0, microsecond=0)
    hits = the_store.nearest(query)
    features = [station_answer(hit.station, at, hit.distance_m, hit.nav) for hit in hits]
    return jsonify(_feature_collection(features, query={"lon": lon, "lat": lat, "crs": "wgs84"}))


@bp.get("/stations")
def stations():
    args = request.args
    params.reject_unknown(args, ("bbox", "layer", "limit", "offset"))
    bbox = params.bbox(args)
    layers = params.word_list(args, "layer", store().layers, "layer")
    limit = params.integer(args, "limit", 1, MAX_LIMIT, 100)
    offset = params.integer(args, "offset", 0, 10**9, 0)
    page = store().in_bbox(bbox, layers, limit, offset)
    features = [s.to_feature() for s in page.stations]
    kept = {k: v for k, v in args.items() if k not in ("offset",)}
    links = [{"rel": "self", "type": "application/geo+json",  # url_for percent-encodes: request.url may not
              "href": url_for("api.stations", _external=True, **kept, **({"offset": offset} if offset else {}))}]
    if offset + len(features) < page.number_matched:
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": url_for("api.stations", _external=True, **kept, offset=offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "type": "application/geo+json",
                      "href": url_for("api.stations", _external=True, **kept, offset=max(0, offset - limit))})
    body = _feature_collection(features, numberMatched=page.number_matched, links=links)
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    return response


@bp.get("/stations/<station_id>")
def station(station_id: str):
    params.reject_unknown(request.args, ("at",))
    found = store().get(station_id)
    response = jsonify(station_answer(found, params.moment(request.args)))
    response.mimetype = "application/geo+json"
    return with_etag(response, found)


@bp.get("/layers")
def layers():
    return jsonify({"layers": [layer.to_json() for layer in store().layers.values()]})


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidQuery("the body must be a JSON object (a GeoJSON Feature)", "body")
    return body


def _feature_in_crs(feature: dict) -> dict:
    """The feature with its point converted from the `crs` parameter to WGS-84."""
    source = params.crs(request.args)
    geometry = feature.get("geometry")
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None  # not a dict: 400 later
    # converted only when they are one pair of plain numbers; anything else (text, 3-D, 10**400) is
    # left as sent, for station_from_feature to refuse with the reason
    if source != "wgs84" and isinstance(coords, list) and len(coords) == 2 and \
            all(isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool) and abs(v) <= 360)
                for v in coords):
        lon, lat = to_wgs84(float(coords[0]), float(coords[1]), source)
        feature = {**feature, "geometry": {"type": "Point", "coordinates": [lon, lat]}}
    return feature


VERIFICATION = ("verified_at", "verified_by")  # set only by POST .../verify (web.api.verify)


def kept_verification(new: Station) -> Station:
    """`new` with the stored station's verified_at/verified_by (none for a new station): an edit is no check."""
    try:
        stored = store().get(new.id)
    except StationNotFound:
        return new.with_changes(verified_at=None, verified_by=None)
    return new.with_changes(verified_at=stored.verified_at, verified_by=stored.verified_by)


@bp.post("/stations")
@require_token("editor")
def create_station():
    feature = _feature_in_crs(_json_body())
    new = station_from_feature(feature, store().layers).with_changes(verified_at=None, verified_by=None)
    store().put(new, create_only=True, actor=current_actor())
    response = jsonify(new.to_feature())
    response.status_code = 201
    response.headers["Location"] = url_for("api.station", station_id=new.id, _external=True)
    return with_etag(response, new)


@bp.put("/stations/<station_id>")
@require_token("editor")
def replace_station(station_id: str):
    feature = _feature_in_crs(_json_body())
    if feature.get("id") not in (None, station_id):
        raise InvalidStation("the body's id differs from the URL's", "id")
    new = kept_verification(station_from_feature(feature, store().layers, station_id=station_id))
    created = store().put(new, actor=current_actor(), expect=if_match())
    response = jsonify(new.to_feature())
    response.status_code = 201 if created else 200
    return with_etag(response, new)


@bp.patch("/stations/<station_id>")
@require_token("editor")
def patch_station(station_id: str):
    patch = _feature_in_crs(_json_body())
    if patch.get("type") not in (None, "Feature"):  # e.g. a FeatureCollection: not a change to one station
        raise InvalidStation("body must be a GeoJSON Feature (or an object with its properties)", "type")
    if patch.get("id") not in (None, station_id):  # as PUT: an id elsewhere (or {"a": 1}) is a mistake
        raise InvalidStation("the body's id differs from the URL's", "id")
    changes = patch.get("properties") or {}
    if not isinstance(changes, dict):  # e.g. a list: 400 naming it, not a 500 from the merge
        raise InvalidStation("properties: must be an object", "properties")
    layers = store().layers

    def merge(stored):  # run by the store inside its write transaction, on the station stored then
        current = stored.to_feature()
        merged = {"type": "Feature", "geometry": patch.get("geometry") or current["geometry"],
                  "properties": {**current["properties"], **changes, **{k: current["properties"][k] for k in VERIFICATION}}}
        return station_from_feature(merged, layers, station_id=station_id)

    new = store().patch(station_id, merge, actor=current_actor(), expect=if_match())
    return with_etag(jsonify(new.to_feature()), new)


@bp.delete("/stations/<station_id>")
@require_token("editor")
def delete_station(station_id: str):
    store().delete(station_id, actor=current_actor(), expect=if_match())
    return "", 204

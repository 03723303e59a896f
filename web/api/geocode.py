"""GET /api/v1/geocode?q=: places by Chinese name, town, park, street, pinyin or adcode; WGS-84 centres.

The same search as the pages' box (web.place_search): `places` are the readings best first (a
place and its other readings, or the list to choose from when a name is shared), `suggestions`
the near-misses (never taken as the answer), `need` the need word found in the text, if any.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from layers.errors import InvalidQuery
from web import params, place_search

bp = Blueprint("geocode_api", __name__, url_prefix="/api/v1")
MAX_QUERY_CHARS = 50


def _place(found) -> dict:
    body = found.to_json()
    centre = place_search.centre(found)
    body["lon"], body["lat"] = centre if centre else (None, None)
    body["centre_of"] = "place" if found.lon is not None else ("county" if centre else None)
    return body


@bp.get("/geocode")
def geocode():
    """`{"query", "places": [{name, kind, code, adcode, province, city, county, label, lon, lat}], ...}`."""
    args = request.args
    params.reject_unknown(args, ("q", "limit"))
    q = (args.get("q") or "").strip()
    if not q:
        raise InvalidQuery("q (a place name or adcode) is required", "q")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"q must be at most {MAX_QUERY_CHARS} characters", "q")
    limit = params.integer(args, "limit", 1, 50, 10)
    answer = place_search.search(q)
    found = [answer.place, *answer.others] if answer.place else answer.choices
    places = [_place(f) for f in found[:limit]]
    need = answer.need
    return jsonify({"query": q, "crs": "wgs84", "places": places, "numberReturned": len(places),
                    "ambiguous": bool(answer.choices), "understood": answer.understood,
                    "suggestions": [_place(f) for f in answer.suggestions],
                    "need": {"word": need.word, "layer": need.layer, "service": need.service or None} if need else None})

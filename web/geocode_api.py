"""GET /api/v1/geocode?q=: places by Chinese name (old names too) or adcode, centres in WGS-84."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from layers.errors import InvalidQuery
from layers.gazetteer import default_gazetteer
from web import params

bp = Blueprint("geocode_api", __name__, url_prefix="/api/v1")
MAX_QUERY_CHARS = 50


@bp.get("/geocode")
def geocode():
    """`{"query", "places": [{name, adcode, level, province, lon, lat, ...}], "numberReturned"}`."""
    args = request.args
    params.reject_unknown(args, ("q", "limit"))
    q = (args.get("q") or "").strip()
    if not q:
        raise InvalidQuery("q (a place name or adcode) is required", "q")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"q must be at most {MAX_QUERY_CHARS} characters", "q")
    limit = params.integer(args, "limit", 1, 50, 10)
    places = [place.to_json() for place in default_gazetteer().lookup(q, limit=limit)]
    return jsonify({"query": q, "crs": "wgs84", "places": places, "numberReturned": len(places)})

"""OGC API – Features (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0) under `/ogc`, one collection per layer.

Built for the clients that must read it — GDAL's OAPIF driver, OWSLib, QGIS — on the store
contract only (`in_bbox`, `get`), so the embedded store and PostGIS answer alike:
- the landing page links `service-desc` (`/ogc/api`, OpenAPI 3.0), `conformance` and `data`;
- a collection per layer file (a new layer appears with no code), with its spatial extent;
- items page by `limit` (default 100, clamped to 1000) and `offset`, with `numberMatched`,
  `numberReturned`, `timeStamp` and an absolute `next` link carrying every other parameter
  whenever more items exist (clients that get no `next` stop after the first page);
- `limit<1`, a negative or non-integer `offset`/`limit`, a bbox of other than 4 numbers and
  unknown parameters answer 400 in the contract's error form; unknown collection or item 404.
`f=json|html` picks the form; without `f`, a browser (Accept: text/html first) gets HTML.
Removed stations never appear. Absolute URLs use YIZHAN_PUBLIC_URL when set, else the request's
host (behind a proxy, YIZHAN_PROXIES makes that the public one).
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request

from layers.errors import InvalidQuery, StationNotFound
from layers.layerdefs import Layer
from layers.store import MAX_LIMIT, StationStore
from web import i18n, params

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

DEFAULT_LIMIT = 100
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CHINA_BBOX = [73.5, 18.0, 135.1, 53.6]  # mainland, islands and Hainan (WGS-84 lon/lat)
GEOJSON = "application/geo+json"
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
ITEM_PARAMS = ("bbox", "limit", "offset", "f")


def store() -> StationStore:
    return current_app.extensions["yizhan.store"]


def _base() -> str:
    public = (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    return public or request.host_url.rstrip("/")


def _url(path: str, **query: Any) -> str:
    query = {k: v for k, v in query.items() if v is not None}
    return f"{_base()}/ogc{path}" + (f"?{urlencode(query)}" if query else "")


def _format() -> str:
    """json or html: `f` when given, else what the client prefers (JSON unless HTML comes first)."""
    f = request.args.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidQuery("f must be json or html", "f")
        return f
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON, "text/html"])
    return "html" if best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes[
        "application/json"] else "json"


def _check_only(allowed: tuple[str, ...]) -> None:
    for name in request.args:
        if name not in allowed:
            raise InvalidQuery(f"unknown parameter {name!r}; allowed: {', '.join(allowed)}", name)


def _layer(collection_id: str) -> Layer:
    layer = store().layers.get(collection_id)
    if layer is None:
        raise StationNotFound(f"no collection {collection_id[:64]!r}", "collectionId")
    return layer


def _answer(doc: dict, media_type: str, html_title: str, kind: str):
    if _format() == "html":
        from web.pages import render

        body, status, headers = render("ogc.html", title=html_title, doc=doc, kind=kind,
                                       json_link=_self_link("json"))
        return Response(body, status=status, headers=headers, mimetype="text/html")
    response = jsonify(doc)
    response.mimetype = media_type
    return response


def _self_link(f: str) -> str:
    query = {k: v for k, v in request.args.items() if k != "f"}
    query["f"] = f
    return f"{_base()}{request.path}?{urlencode(query)}"


def _links(json_type: str = "application/json") -> list[dict]:
    here = _format()
    return [
        {"href": _self_link(here), "rel": "self", "type": json_type if here == "json" else "text/html",
         "title": "this document"},
        {"href": _self_link("html" if here == "json" else "json"), "rel": "alternate",
         "type": "text/html" if here == "json" else json_type,
         "title": "this document as HTML" if here == "json" else "this document as JSON"},
    ]


# ---- landing, conformance, API -------------------------------------------------------------
@bp.get("")
@bp.get("/")
def landing():
    _check_only(("f", "lang"))
    doc = {
        "title": i18n.gettext("ogc.title"),
        "description": i18n.gettext("ogc.description"),
        "links": _links() + [
            {"href": _url("/api"), "rel": "service-desc", "type": OPENAPI_TYPE, "title": "OpenAPI 3.0"},
            {"href": _url("/api", f="html"), "rel": "service-doc", "type": "text/html", "title": "API (HTML)"},
            {"href": _url("/conformance"), "rel": "conformance", "type": "application/json",
             "title": "conformance classes"},
            {"href": _url("/collections"), "rel": "data", "type": "application/json", "title": "collections"},
        ],
    }
    return _answer(doc, "application/json", doc["title"], "landing")


@bp.get("/conformance")
def conformance():
    _check_only(("f", "lang"))
    doc = {"conformsTo": CONFORMANCE, "links": _links()}
    return _answer(doc, "application/json", "conformance", "conformance")


@bp.get("/api")
def api_document():
    _check_only(("f", "lang"))
    from web.ogc_openapi import ogc_openapi

    doc = ogc_openapi(list(store().layers), f"{_base()}/ogc")
    if request.args.get("f") == "html":
        return _answer(doc, OPENAPI_TYPE, "OpenAPI", "api")
    response = jsonify(doc)
    response.headers["Content-Type"] = OPENAPI_TYPE
    return response


# ---- collections ---------------------------------------------------------------------------
def _collection(layer: Layer) -> dict:
    lang = i18n.current_language()
    return {
        "id": layer.id,
        "title": layer.label(lang),
        "description": layer.description.get(lang) or layer.description.get("zh") or layer.label(lang),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [CHINA_BBOX], "crs": CRS84}},
        "links": [
            {"href": _url(f"/collections/{layer.id}"), "rel": "self", "type": "application/json",
             "title": layer.label(lang)},
            {"href": _url(f"/collections/{layer.id}/items"), "rel": "items", "type": GEOJSON,
             "title": layer.label(lang)},
            {"href": _url(f"/collections/{layer.id}/items", f="html"), "rel": "items", "type": "text/html",
             "title": layer.label(lang)},
        ],
    }


@bp.get("/collections")
def collections():
    _check_only(("f", "lang"))
    doc = {"links": _links(), "collections": [_collection(layer) for layer in store().layers.values()]}
    return _answer(doc, "application/json", i18n.gettext("ogc.collections"), "collections")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    _check_only(("f", "lang"))
    doc = _collection(_layer(collection_id))
    return _answer(doc, "application/json", doc["title"], "collection")


# ---- items ---------------------------------------------------------------------------------
def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    value = params.integer({"limit": raw}, "limit", -10**12, 10**12, DEFAULT_LIMIT)
    if value < 1:
        raise InvalidQuery("limit must be at least 1", "limit")
    return min(value, MAX_LIMIT)  # above the maximum: clamp (OGC API – Features, /req/core/fc-limit-response-1)


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    layer = _layer(collection_id)
    _check_only(ITEM_PARAMS + ("lang",))
    limit = _limit()
    offset = params.integer(request.args, "offset", 0, 10**12, 0)
    bbox = params.bbox(request.args)
    page = store().in_bbox(bbox, layers=(layer.id,), limit=limit, offset=offset)
    features = [s.to_feature() for s in page.stations]
    kept = {k: v for k, v in request.args.items() if k not in ("offset", "limit")}
    link_type = GEOJSON if _format() == "json" else "text/html"
    links = _links(GEOJSON)
    if offset + len(features) < page.number_matched:
        links.append({"href": _url(f"/collections/{layer.id}/items", **kept, limit=limit, offset=offset + limit),
                      "rel": "next", "type": link_type, "title": "next page"})
    if offset > 0:
        links.append({"href": _url(f"/collections/{layer.id}/items", **kept, limit=limit,
                                   offset=max(0, offset - limit)),
                      "rel": "prev", "type": link_type, "title": "previous page"})
    links.append({"href": _url(f"/collections/{layer.id}"), "rel": "collection", "type": "application/json",
                  "title": layer.label(i18n.current_language())})
    doc = {"type": "FeatureCollection", "features": features, "numberMatched": page.number_matched,
           "numberReturned": len(features), "timeStamp": datetime.now(UTC).isoformat(timespec="seconds")
           .replace("+00:00", "Z"), "links": links}
    return _answer(doc, GEOJSON, layer.label(i18n.current_language()), "items")


@bp.get("/collections/<collection_id>/items/<item_id>")
def item(collection_id: str, item_id: str):
    layer = _layer(collection_id)
    _check_only(("f", "lang"))
    station = store().get(item_id)
    if station.layer != layer.id or station.status == "removed":
        raise StationNotFound(f"no item {item_id[:64]!r} in collection {layer.id!r}", "featureId")
    doc = station.to_feature()
    doc["links"] = _links(GEOJSON) + [
        {"href": _url(f"/collections/{layer.id}"), "rel": "collection", "type": "application/json",
         "title": layer.label(i18n.current_language())}]
    return _answer(doc, GEOJSON, station.name, "item")

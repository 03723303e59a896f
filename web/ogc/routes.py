"""OGC API – Features (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0) under `/ogc`, one collection per layer.

Built for the clients that must read it — GDAL's OAPIF driver, OWSLib, QGIS — on the store
contract only (`in_bbox`, `get`), so the embedded store and PostGIS answer alike:
- the landing page links `service-desc` (`/ogc/api`, OpenAPI 3.0), `service-doc`, `conformance`
  and `data`;
- a collection per layer file (a new layer appears with no code), with the extent of its data;
- items page by `limit` (default 100, values above 1000 clamped) and `offset`, with
  `numberMatched`, `numberReturned`, `timeStamp` and an absolute `next` link carrying every other
  parameter whenever more items exist (clients that get no `next` stop after the first page);
- `limit<1`, a negative or non-integer `offset`/`limit`, a bbox of other than 4 numbers (or min >
  max) and unknown parameters answer 400 in the contract's error form; unknown collection or item 404.
`f=json|html` picks the form; without `f`, whoever prefers text/html to JSON (a browser) gets HTML,
everyone else (GDAL, OWSLib, QGIS, curl) JSON. Removed stations never appear. Absolute URLs use
YIZHAN_PUBLIC_URL when set, else the request's own root (with YIZHAN_PROXIES, the public one).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, jsonify, request

from geo.hours import rfc3339
from layers.errors import InvalidQuery, StationNotFound
from layers.layerdefs import Layer
from layers.model import Station
from layers.store import MAX_LIMIT, StationStore
from web import i18n, params
from web.ogc.extent import layer_extent

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

DEFAULT_LIMIT = 100
MAX_OFFSET = 10**12
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
PLAIN_PARAMS = ("f", "lang")
ITEM_PARAMS = ("bbox", "limit", "offset", "f", "lang")
_WHOLE = re.compile(r"[+-]?[0-9]{1,40}")


def store() -> StationStore:
    """The configured store."""
    return current_app.extensions["yizhan.store"]


@bp.after_request
def _vary(response: Response) -> Response:
    """Answers differ by Accept (JSON or HTML) and Accept-Language (titles): tell caches."""
    response.vary.update(("Accept", "Accept-Language"))
    return response


# ---- URLs ----------------------------------------------------------------------------------
def _base() -> str:
    """The service root without a trailing slash: YIZHAN_PUBLIC_URL, else this request's root."""
    public = (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    return public or request.url_root.rstrip("/")


def _url(path: str, **query: Any) -> str:
    """An absolute URL under /ogc with `query` (None values left out)."""
    query = {k: v for k, v in query.items() if v is not None}
    return f"{_base()}/ogc{path}" + (f"?{urlencode(query)}" if query else "")


def _html_url(path: str) -> str:
    """An absolute URL of the HTML form of `path`, keeping an explicit ?lang=."""
    return _url(path, f="html", lang=i18n.explicit_language())


def _self_link(f: str) -> str:
    query = {k: v for k, v in request.args.items() if k != "f"}
    query["f"] = f
    return f"{_base()}{request.path}?{urlencode(query)}"


def _links(json_type: str = JSON) -> list[dict]:
    """self and alternate: this document in the form answered and in the other one."""
    here = _format()
    other = "html" if here == "json" else "json"
    return [
        {"href": _self_link(here), "rel": "self", "type": json_type if here == "json" else HTML,
         "title": "this document"},
        {"href": _self_link(other), "rel": "alternate", "type": HTML if other == "html" else json_type,
         "title": f"this document as {other.upper()}"},
    ]


# ---- parameters ----------------------------------------------------------------------------
def _format() -> str:
    """json or html: `f` when given, else what the client prefers (JSON unless HTML ranks higher)."""
    f = request.args.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidQuery("f must be json or html", "f")
        return f
    accept = request.accept_mimetypes
    best = accept.best_match([JSON, GEOJSON, HTML])
    return "html" if best == HTML and accept[HTML] > max(accept[JSON], accept[GEOJSON]) else "json"


def _check_only(allowed: tuple[str, ...]) -> None:
    for name in request.args:
        if name not in allowed:
            raise InvalidQuery(f"unknown parameter {name[:40]!r}; allowed: {', '.join(allowed)}", name[:40])
    _format()  # a bad f is a 400 even where the answer has one form only


def _whole(name: str, default: int) -> int:
    """A whole-number parameter (any size; ranges are the caller's)."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = params.ascii_number(raw).strip()  # full-width digits too, as everywhere (web/params.py)
    if not _WHOLE.fullmatch(text):
        raise InvalidQuery(f"{name} must be a whole number, got {raw[:40]!r}", name)
    return int(text)


def _limit() -> int:
    value = _whole("limit", DEFAULT_LIMIT)
    if value < 1:
        raise InvalidQuery("limit must be at least 1", "limit")
    return min(value, MAX_LIMIT)  # above the maximum: clamp (OGC API – Features /req/core/fc-limit-response-1)


def _offset() -> int:
    value = _whole("offset", 0)
    if not 0 <= value <= MAX_OFFSET:
        raise InvalidQuery(f"offset must be between 0 and {MAX_OFFSET}", "offset")
    return value


def _layer(collection_id: str) -> Layer:
    layer = store().layers.get(collection_id)
    if layer is None:
        raise StationNotFound(f"no collection {collection_id[:64]!r}", "collectionId")
    return layer


# ---- answers -------------------------------------------------------------------------------
def _answer(doc: dict, media_type: str, html_title: str, kind: str, **html: Any):
    """`doc` as JSON (with `media_type`) or as the HTML page of `kind`, as the client asked."""
    if _format() == "html":
        from web.pages.render import render

        body, status, headers = render("ogc.html", title=html_title, doc=doc, kind=kind,
                                       json_link=_self_link("json"), **html)
        return Response(body, status=status, headers=headers, mimetype=HTML)
    response = jsonify(doc)
    response.headers["Content-Type"] = media_type
    return response


@bp.get("")
@bp.get("/")
def landing():
    _check_only(PLAIN_PARAMS)
    doc = {
        "title": i18n.gettext("ogc.title"),
        "description": i18n.gettext("ogc.description"),
        "links": _links() + [
            {"href": _url("/api"), "rel": "service-desc", "type": OPENAPI_TYPE, "title": "OpenAPI 3.0"},
            {"href": _html_url("/api"), "rel": "service-doc", "type": HTML, "title": i18n.gettext("ogc.api")},
            {"href": _url("/conformance"), "rel": "conformance", "type": JSON,
             "title": i18n.gettext("ogc.conformance")},
            {"href": _url("/collections"), "rel": "data", "type": JSON, "title": i18n.gettext("ogc.collections")},
        ],
    }
    return _answer(doc, JSON, doc["title"], "landing")


@bp.get("/conformance")
def conformance():
    _check_only(PLAIN_PARAMS)
    doc = {"conformsTo": CONFORMANCE, "links": _links()}
    return _answer(doc, JSON, i18n.gettext("ogc.conformance"), "conformance")


@bp.get("/api")
def api_document():
    _check_only(PLAIN_PARAMS)
    from web.ogc.openapi import ogc_openapi

    doc = ogc_openapi(list(store().layers), f"{_base()}/ogc", DEFAULT_LIMIT, MAX_OFFSET)
    return _answer(doc, OPENAPI_TYPE, i18n.gettext("ogc.api"), "api")


# ---- collections ---------------------------------------------------------------------------
def _collection(layer: Layer) -> dict:
    lang = i18n.current_language()
    title = layer.label(lang)
    return {
        "id": layer.id,
        "title": title,
        "description": layer.description.get(lang) or layer.description.get("zh") or title,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [layer_extent(store(), layer.id)], "crs": CRS84}},
        "links": [
            {"href": _url(f"/collections/{layer.id}"), "rel": "self", "type": JSON, "title": title},
            {"href": _url(f"/collections/{layer.id}/items"), "rel": "items", "type": GEOJSON, "title": title},
            {"href": _html_url(f"/collections/{layer.id}/items"), "rel": "items", "type": HTML, "title": title},
        ],
    }


@bp.get("/collections")
def collections():
    _check_only(PLAIN_PARAMS)
    doc = {"links": _links(), "collections": [_collection(layer) for layer in store().layers.values()]}
    return _answer(doc, JSON, i18n.gettext("ogc.collections"), "collections")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    layer = _layer(collection_id)
    _check_only(PLAIN_PARAMS)
    doc = _collection(layer)
    return _answer(doc, JSON, doc["title"], "collection")


# ---- items ---------------------------------------------------------------------------------
def _page_links(layer: Layer, offset: int, limit: int, returned: int, matched: int) -> list[dict]:
    """self, alternate, next (whenever more items exist), prev and collection; every other parameter kept."""
    kept = {k: v for k, v in request.args.items() if k not in ("offset", "limit")}
    path = f"/collections/{layer.id}/items"
    page_type = GEOJSON if _format() == "json" else HTML
    links = _links(GEOJSON)
    if offset + returned < matched:
        links.append({"href": _url(path, **kept, limit=limit, offset=offset + limit), "rel": "next",
                      "type": page_type, "title": i18n.gettext("ogc.next")})
    if offset > 0:
        links.append({"href": _url(path, **kept, limit=limit, offset=max(0, offset - limit)), "rel": "prev",
                      "type": page_type, "title": i18n.gettext("ogc.prev")})
    links.append({"href": _url(f"/collections/{layer.id}"), "rel": "collection", "type": JSON,
                  "title": layer.label(i18n.current_language())})
    return links


def _item_path(layer: Layer, item_id: str) -> str:
    return f"/collections/{layer.id}/items/{quote(item_id, safe='')}"


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    layer = _layer(collection_id)
    _check_only(ITEM_PARAMS)
    limit, offset, bbox = _limit(), _offset(), params.bbox(request.args)
    page = store().in_bbox(bbox, layers=(layer.id,), limit=limit, offset=offset)
    features = [s.to_feature() for s in page.stations]
    doc = {"type": "FeatureCollection", "features": features, "numberMatched": page.number_matched,
           "numberReturned": len(features),
           "timeStamp": rfc3339(datetime.now(UTC)),
           "links": _page_links(layer, offset, limit, len(features), page.number_matched)}
    item_links = {s.id: _html_url(_item_path(layer, s.id)) for s in page.stations}
    return _answer(doc, GEOJSON, layer.label(i18n.current_language()), "items", item_links=item_links)


def _rows(station: Station, feature: dict) -> list[tuple[str, str]]:
    """(label, text) lines of the HTML item page, labels in the reader's language."""
    lon, lat = feature["geometry"]["coordinates"]
    rows = [(i18n.gettext("ogc.prop.id"), station.id), (i18n.gettext("ogc.prop.lonlat"), f"{lon:.6f}, {lat:.6f}")]
    for key, value in feature["properties"].items():
        if value in (None, "", [], ()):
            continue
        text = "、".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
        rows.append((i18n.gettext(f"ogc.prop.{key}") if f"ogc.prop.{key}" in i18n.catalog("zh") else key, text))
    return rows


@bp.get("/collections/<collection_id>/items/<item_id>")
def item(collection_id: str, item_id: str):
    layer = _layer(collection_id)
    _check_only(PLAIN_PARAMS)
    station = store().get(item_id)
    if station.layer != layer.id or station.status == "removed":
        raise StationNotFound(f"no item {item_id[:64]!r} in collection {layer.id!r}", "featureId")
    doc = station.to_feature()
    doc["links"] = _links(GEOJSON) + [
        {"href": _url(f"/collections/{layer.id}"), "rel": "collection", "type": JSON,
         "title": layer.label(i18n.current_language())}]
    return _answer(doc, GEOJSON, station.name, "item", rows=_rows(station, doc),
                   collection_link=_html_url(f"/collections/{layer.id}/items"))

"""The OpenAPI 3.0 document of `/ogc` (OGC API – Features), served at `/ogc/api`."""
from __future__ import annotations

from layers.store import MAX_LIMIT

_ERROR = {"description": "error in the contract's form",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _common_params() -> list[dict]:
    return [{"name": "f", "in": "query", "required": False,
             "description": "json or html; when absent, by the Accept header (JSON unless text/html ranks higher)",
             "schema": {"type": "string", "enum": ["json", "html"]}},
            {"name": "lang", "in": "query", "required": False,
             "description": "language of titles and pages: zh (default) or en; else by Accept-Language",
             "schema": {"type": "string"}}]


def _doc(summary: str, schema_ref: str, media: str = "application/json", params: list | None = None,
         errors: tuple[str, ...] = ("400",)) -> dict:
    responses = {"200": {"description": summary, "content": {
        media: {"schema": {"$ref": schema_ref}}, "text/html": {"schema": {"type": "string"}}}}}
    for code in errors:
        responses[code] = _ERROR
    return {"get": {"summary": summary, "parameters": [*(params or []), *_common_params()], "responses": responses}}


def ogc_openapi(collection_ids: list[str], server_url: str, default_limit: int, max_offset: int) -> dict:
    """OpenAPI 3.0.3 for the landing page, conformance, collections and their items."""
    collection_param = {"name": "collectionId", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": collection_ids}}
    item_params = [
        collection_param,
        {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
         "description": "minlon,minlat,maxlon,maxlat (WGS-84, CRS84)",
         "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}},
        {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
         "description": f"items per page; values above {MAX_LIMIT} are clamped",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": default_limit}},
        {"name": "offset", "in": "query", "required": False, "description": "items to skip (next links carry it)",
         "schema": {"type": "integer", "minimum": 0, "maximum": max_offset, "default": 0}},
    ]
    link = {"type": "object", "required": ["href", "rel"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}}
    feature = {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": {"type": "object", "properties": {"type": {"type": "string", "enum": ["Point"]},
                                                      "coordinates": {"type": "array", "items": {"type": "number"},
                                                                      "minItems": 2, "maxItems": 2}}},
        "properties": {"type": "object"}, "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Yizhan 驿站 — OGC API – Features", "version": "1.0.0",
                 "description": "Stations of each layer as a feature collection (WGS-84, CRS84)."},
        "servers": [{"url": server_url}],
        "paths": {
            "/": _doc("landing page", "#/components/schemas/Landing", errors=("400",)),
            "/conformance": _doc("conformance classes", "#/components/schemas/Conformance"),
            "/api": _doc("this document", "#/components/schemas/Any", "application/vnd.oai.openapi+json;version=3.0"),
            "/collections": _doc("collections, one per layer", "#/components/schemas/Collections"),
            "/collections/{collectionId}": _doc("one collection", "#/components/schemas/Collection",
                                                params=[collection_param], errors=("400", "404")),
            "/collections/{collectionId}/items": _doc(
                "the collection's features, paged", "#/components/schemas/FeatureCollection", "application/geo+json",
                params=item_params, errors=("400", "404", "503")),
            "/collections/{collectionId}/items/{featureId}": _doc(
                "one feature", "#/components/schemas/Feature", "application/geo+json",
                params=[collection_param, {"name": "featureId", "in": "path", "required": True,
                                           "schema": {"type": "string"}}], errors=("400", "404", "503")),
        },
        "components": {"schemas": {
            "Any": {"type": "object"},
            "Link": link,
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "parameter": {"type": "string"}}}}},
            "Landing": {"type": "object", "required": ["links"], "properties": {
                "title": {"type": "string"}, "description": {"type": "string"},
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
            "Conformance": {"type": "object", "required": ["conformsTo"], "properties": {
                "conformsTo": {"type": "array", "items": {"type": "string"}}}},
            "Collection": {"type": "object", "required": ["id", "links"], "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                "extent": {"type": "object"}, "crs": {"type": "array", "items": {"type": "string"}},
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
            "Collections": {"type": "object", "required": ["collections", "links"], "properties": {
                "collections": {"type": "array", "items": {"$ref": "#/components/schemas/Collection"}},
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
            "Feature": feature,
            "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
                "timeStamp": {"type": "string", "format": "date-time"},
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
        }},
    }

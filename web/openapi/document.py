"""The OpenAPI 3.0 document of what this service implements of the contract (`/openapi.json`).

Every path, parameter, request body, answer and error is described as the server really
behaves; tests/web/openapi/test_schemathesis.py runs schemathesis against the live server to keep it so.
Parks, reports and the planner are in `web.openapi.more`, history/revert in `web.openapi.history`.
"""
from __future__ import annotations

from collections.abc import Mapping

from layers.layerdefs import Layer
from layers.store import MAX_K, MAX_LIMIT
from web.api.geocode import MAX_QUERY_CHARS
from web.api.stations import MAX_RADIUS_M
from web.openapi.data import data_paths
from web.openapi.history import history_paths
from web.openapi.more import more_paths
from web.openapi.schemas import (
    CRS,
    DATE_TIME,
    STATION_ID,
    common_schemas,
    errors,
    park_schemas,
    ref,
    responses,
    station_schemas,
)

_NUMBER = r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*"
EDITOR = [{"bearer": []}]


def param(name: str, schema: dict, description: str, required: bool = False, where: str = "query") -> dict:
    """One parameter object."""
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def body(schema: dict, description: str = "", media: str = "application/json") -> dict:
    """A required request body of one media type."""
    return {"required": True, "description": description, "content": {media: {"schema": schema}}}


def answer(schema: dict, description: str, media: str = "application/json", headers: dict | None = None) -> dict:
    """A response with one media type."""
    out = {"description": description, "content": {media: {"schema": schema}}}
    return {**out, "headers": headers} if headers else out


def word_list(words: list[str]) -> dict:
    """A comma-separated list of these words (blank entries ignored), as the server reads it."""
    alternatives = "|".join(sorted(words, key=len, reverse=True))
    item = rf"\s*({alternatives})?\s*"
    return {"type": "string", "pattern": f"^{item}(,{item})*$"}


def _point_params() -> list[dict]:
    return [
        param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude in `crs`", True),
        param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude in `crs`", True),
        param("crs", CRS, "coordinate system of lat/lon; converted to WGS-84 before use (shifts apply inside China)"),
    ]


_CRS_PARAM = param("crs", CRS, "coordinate system of the body's point; converted to WGS-84")
_AT = param("at", DATE_TIME, "judge open_now/hours_today/next_open at this time (naive: Asia/Shanghai; 2000-01-01 to 2100-12-31, else 400); default now")
_STATION_ID = {**param("station_id", STATION_ID, "station id", True, "path"), "example": "rp-520102-0008"}
_IF_MATCH = param("If-Match", {"type": "string"},
                  "optional: write only if the stored station still has one of these ETags (strong comparison; "
                  "`*`: any stored station), else 412; without it the write is unconditional", where="header")
_ETAG = {"ETag": {"required": True, "schema": {"type": "string", "pattern": '^"[0-9a-f]+"$'},
                  "description": "the station's revision (strong ETag, quoted): send it back in If-Match"}}


def _station_paths(layer_ids: list[str], services: list[str]) -> dict:
    layer = param("layer", word_list(layer_ids), "comma-separated layers (default: all)")
    station = answer(ref("Station"), "the station as stored", headers=_ETAG)
    return {
        "/api/v1/nearest": {"get": {
            "summary": "the k nearest matching stations, nearest first (geodesic on WGS-84, ties by id)",
            "parameters": _point_params() + [
                param("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5}, "how many"),
                layer, param("service", word_list(services),
                             "comma-separated service words, all offered (words of the chosen layers)"),
                param("open_now", {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]},
                      "only stations open now (or at `at`)"),
                param("radius_m", {"type": "number", "minimum": 0, "maximum": MAX_RADIUS_M},
                      "only within this many geodesic metres"),
                param("origin", {"type": "string", "pattern": r"^\s*([1-8][0-9]{5})?\s*$"},
                      "only stations serving this home county (6-digit adcode)"),
                _AT,
            ],
            "responses": {"200": answer(ref("NearestCollection"), "stations, nearest first"), **errors(503)}}},
        "/api/v1/stations": {
            "get": {"summary": "stations in a bounding box (default: everywhere), ordered by id, paged",
                    "parameters": [
                        param("bbox", {"type": "string", "pattern": f"^{_NUMBER}(,{_NUMBER}){{3}}$"},
                              "minlon,minlat,maxlon,maxlat in WGS-84 degrees, min <= max"),
                        layer,
                        param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
                              "page size"),
                        param("offset", {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}, "start")],
                    "responses": {"200": answer(ref("StationPage"), "a page of stations", "application/geo+json"),
                                  **errors(503)}},
            "post": {"summary": "create a station (editor token)", "security": EDITOR, "parameters": [_CRS_PARAM],
                     "requestBody": body(ref("StationInput")),
                     "responses": {"201": answer(ref("Station"), "created", headers={"Location": {
                         "required": True, "schema": {"type": "string", "format": "uri"},
                         "description": "the new station's URL"}, **_ETAG}),
                         **errors(401, 403, 409, 413, 503)}}},
        "/api/v1/stations/{station_id}": {
            "get": {"summary": "one station, with open_now, today's hours and navigation links",
                    "parameters": [_STATION_ID, _AT],
                    "responses": {"200": answer(ref("StationAnswer"), "the station", "application/geo+json",
                                                _ETAG),
                                  **errors(404, 503)}},
            "put": {"summary": "replace (or create) a station (editor token)", "security": EDITOR,
                    "parameters": [_STATION_ID, _CRS_PARAM, _IF_MATCH],
                    "requestBody": body(ref("StationReplace"), "the body's id, when given, must equal the URL's"),
                    "responses": {"200": station, "201": answer(ref("Station"), "created", headers=_ETAG),
                                  **errors(401, 403, 412, 413, 503)}},
            "patch": {"summary": "change some properties and/or the point (editor token); read, merged and "
                                 "written in one transaction of the store", "security": EDITOR,
                      "parameters": [_STATION_ID, _CRS_PARAM, _IF_MATCH], "requestBody": body(ref("StationPatch")),
                      "responses": {"200": station, **errors(401, 403, 404, 412, 413, 503)}},
            "delete": {"summary": "delete a station (editor token)", "security": EDITOR,
                       "parameters": [_STATION_ID, _IF_MATCH],
                       "responses": {"204": {"description": "deleted"}, **errors(401, 403, 404, 412, 503)}}},
    }


def _meta_paths() -> dict:
    layer = {"type": "object", "required": ["id", "name", "colour", "icon", "services"], "properties": {
        "id": {"type": "string"}, "name": {"$ref": "#/components/schemas/Names"},
        "short_name": {"$ref": "#/components/schemas/Names"}, "description": {"$ref": "#/components/schemas/Names"},
        "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}, "icon": {"type": "string"},
        "default_radius_m": {"type": "number"}, "coverage_radius_m": {"type": "number"},
        "cap_m": {"type": "number", "description": "how far result lists look for an open place of this layer (m)"},
        "has_origins": {"type": "boolean"}, "services": {"type": "array", "items": {
            "type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "string"}, "name": {"$ref": "#/components/schemas/Names"}}}}}}
    kinds = ["province", "prefecture", "county", "town", "park", "station", "street"]
    place = {"type": "object", "required": ["name", "adcode", "level", "lon", "lat"], "properties": {
        "name": {"type": "string"}, "adcode": {"type": "string"}, "code": {"type": "string"},
        "level": {"type": "string", "enum": kinds}, "kind": {"type": "string", "enum": kinds},
        "province": {"type": "string", "nullable": True}, "city": {"type": "string"}, "county": {"type": "string"},
        "label": {"type": "string"}, "lon": {"type": "number", "nullable": True},
        "lat": {"type": "number", "nullable": True}, "centre_of": {"type": "string", "nullable": True,
                                                                   "enum": ["place", "county", None]},
        "former_adcodes": {"type": "array", "items": {"type": "string"}}}}
    health = {"type": "object", "required": ["status", "store"], "properties": {
        "status": {"type": "string", "enum": ["ok", "read_only", "unavailable"],
                   "description": "read_only (with 503): reads work, writes cannot (e.g. the disk is full)"},
        "store": {"type": "object", "required": ["ok", "kind"], "properties": {
            "ok": {"type": "boolean"}, "kind": {"type": "string"}, "stations": {"type": "integer"},
            "writable": {"type": "boolean", "description": "embedded store: whether writes can land"},
            "state": {"type": "string", "enum": ["disk_full", "read_only", "io_error"],
                      "description": "why the store cannot write (when writable is false)"}}}}}
    no_store = {"Cache-Control": {"required": True, "schema": {"type": "string", "enum": ["no-store"]},
                                  "description": "never cached"}}
    return {
        "/api/v1/layers": {"get": {"summary": "layers with names (zh, en), colour, icon and service vocabulary",
                                   "responses": {"200": answer({"type": "object", "required": ["layers"], "properties": {
                                       "layers": {"type": "array", "items": layer}}}, "layers"), **errors()}}},
        "/api/v1/geocode": {"get": {
            "summary": ("places by Chinese name (province, prefecture, county, town; short and old names), park, "
                        "station, street, pinyin or adcode; near-misses as suggestions; a need word found in q"),
            "parameters": [param("q", {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS,
                                       "pattern": r"\S"}, "a place name or 6-digit adcode", True),
                           param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}, "how many")],
            "responses": {"200": answer({"type": "object", "required": ["query", "crs", "places", "numberReturned"],
                                         "properties": {"query": {"type": "string"},
                                                        "crs": {"type": "string", "enum": ["wgs84"]},
                                                        "numberReturned": {"type": "integer", "minimum": 0},
                                                        "places": {"type": "array", "items": place},
                                                        "suggestions": {"type": "array", "items": place},
                                                        "ambiguous": {"type": "boolean"},
                                                        "understood": {"type": "string"},
                                                        "need": {"type": "object", "nullable": True}}},
                                        "places, centres in WGS-84"), **errors()}}},
        "/healthz": {"get": {"summary": "liveness, with the store's state",
                             "responses": {"200": answer(health, "up", headers=no_store),
                                           "503": answer(health, "the store is unavailable, or cannot write",
                                                         headers=no_store),
                                           **errors()}}},
        "/openapi.json": {"get": {"summary": "this document (OpenAPI 3.0)",
                                  "responses": {"200": answer({"type": "object", "required": ["openapi", "paths"]},
                                                              "OpenAPI 3.0"), **errors()}}},
    }


def openapi_document(layers: Mapping[str, Layer]) -> dict:
    """The OpenAPI 3.0.3 document for the implemented endpoints."""
    layer_ids = list(layers)
    services = sorted({word for layer in layers.values() for word in layer.services})
    names = {"type": "object", "required": ["zh", "en"], "properties": {"zh": {"type": "string"},
                                                                         "en": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Yizhan 驿站 API", "version": "1.0.0",
                 "description": "Nearest help for migrant workers. Coordinates WGS-84 [lon, lat]; distances in "
                                "geodesic metres. Every error is JSON: {\"error\": {code, message, parameter}}; "
                                "a request holding a NUL character answers 400."},
        "paths": {**_station_paths(layer_ids, services), **_meta_paths(), **more_paths(), **history_paths(), **data_paths(layer_ids)},
        "components": {
            "schemas": {**common_schemas(), **station_schemas(layer_ids, services), **park_schemas(), "Names": names},
            "responses": responses(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a token with a role: reader, editor or admin"}},
        },
    }

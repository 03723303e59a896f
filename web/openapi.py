"""The OpenAPI 3.0 document of what this service implements of the contract."""
from __future__ import annotations

from collections.abc import Mapping

from layers.layerdefs import Layer
from layers.store import MAX_K, MAX_LIMIT
from web.openapi_history import history_paths
from web.openapi_more import more_paths

_ERROR = {"$ref": "#/components/responses/Error"}


def _param(name: str, schema: dict, description: str, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def _point_params() -> list[dict]:
    return [
        _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude in `crs`", True),
        _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude in `crs`", True),
        _param("crs", {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
               "coordinate system of lat/lon; converted to WGS-84 before use"),
    ]


def _components(layer_ids: list[str]) -> dict:
    error = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "parameter": {"type": "string"}}}}}
    station_props = {
        "type": "object", "required": ["name", "layer"],
        "properties": {
            "name": {"type": "string"}, "name_en": {"type": "string", "nullable": True},
            "layer": {"type": "string", "enum": layer_ids},
            "address": {"type": "string", "nullable": True},
            "adcode": {"type": "string", "pattern": "^[1-8][0-9]{5}$", "nullable": True},
            "phone": {"type": "string", "nullable": True},
            "hours": {"type": "string", "nullable": True, "description": "OpenStreetMap opening_hours"},
            "services": {"type": "array", "items": {"type": "string"}},
            "access": {"type": "string", "enum": ["open", "staff", "scan_qr", "app_login"]},
            "status": {"type": "string", "enum": ["open", "temporarily_closed", "removed"]},
            "origins": {"type": "array", "items": {"type": "string", "pattern": "^[1-8][0-9]{5}$"}},
            "items": {"type": "array", "items": {"type": "string"}},
            "operator": {"type": "string", "nullable": True}, "source": {"type": "string", "nullable": True},
            "verified_at": {"type": "string", "format": "date", "nullable": True},
            "distance_m": {"type": "number", "description": "geodesic metres on WGS-84 (query answers)"},
            "open_now": {"type": "boolean", "nullable": True, "description": "Asia/Shanghai time"},
            "hours_today": {"type": "array", "nullable": True, "items": {"type": "string"}},
            "next_open": {"type": "string", "nullable": True, "format": "date-time"},
            "nav": {"type": "object", "properties": {k: {"type": "string"} for k in ("amap", "baidu", "tencent")}},
        },
    }
    feature = {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
            "type": {"type": "string", "enum": ["Point"]},
            "coordinates": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"},
                            "description": "[lon, lat] WGS-84"}}},
        "properties": {"$ref": "#/components/schemas/StationProperties"}}}
    collection = {"type": "object", "required": ["type", "features", "numberReturned"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Station"}},
        "numberReturned": {"type": "integer"}, "numberMatched": {"type": "integer"},
        "timeStamp": {"type": "string", "format": "date-time"},
        "links": {"type": "array", "items": {"type": "object"}}}}
    return {
        "schemas": {"Error": error, "StationProperties": station_props, "Station": feature,
                    "StationCollection": collection},
        "responses": {"Error": {"description": "error in the contract's form",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }


def _json(schema_ref: str, description: str, media: str = "application/json") -> dict:
    return {"description": description,
            "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _paths(layer_ids: list[str]) -> dict:
    layer = _param("layer", {"type": "string"}, f"comma-separated layers: {', '.join(layer_ids)}")
    errors = {"400": _ERROR, "503": _ERROR}
    write_errors = {"400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR, "503": _ERROR}
    body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Station"}}}}
    station_id = _param("station_id", {"type": "string"}, "station id", True, "path")
    return {
        "/api/v1/nearest": {"get": {
            "summary": "the k nearest matching stations, nearest first (geodesic, WGS-84)",
            "parameters": _point_params() + [
                _param("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5}, "how many"),
                layer, _param("service", {"type": "string"}, "comma-separated service words; all must be offered"),
                _param("open_now", {"type": "string", "enum": ["0", "1", "true", "false"]}, "only stations open now"),
                _param("radius_m", {"type": "number", "minimum": 0}, "only within this many metres"),
                _param("origin", {"type": "string", "pattern": "^[1-8][0-9]{5}$"}, "serving this home county"),
                _param("at", {"type": "string", "format": "date-time"}, "judge open_now at this time (default now)"),
            ],
            "responses": {"200": _json("StationCollection", "stations"), **errors}}},
        "/api/v1/stations": {
            "get": {"summary": "stations in a bounding box, by id, paged",
                    "parameters": [_param("bbox", {"type": "string"}, "minlon,minlat,maxlon,maxlat (WGS-84)"), layer,
                                   _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}, "page size"),
                                   _param("offset", {"type": "integer", "minimum": 0, "default": 0}, "start")],
                    "responses": {"200": _json("StationCollection", "stations", "application/geo+json"), **errors}},
            "post": {"summary": "create a station", "security": [{"bearer": []}],
                     "parameters": [_point_params()[2]], "requestBody": body,
                     "responses": {"201": _json("Station", "created"), **write_errors}}},
        "/api/v1/stations/{station_id}": {
            "get": {"summary": "one station", "parameters": [station_id],
                    "responses": {"200": _json("Station", "the station", "application/geo+json"), "404": _ERROR}},
            "put": {"summary": "replace (or create) a station", "security": [{"bearer": []}],
                    "parameters": [station_id, _point_params()[2]], "requestBody": body,
                    "responses": {"200": _json("Station", "replaced"), "201": _json("Station", "created"), **write_errors}},
            "patch": {"summary": "change some properties", "security": [{"bearer": []}],
                      "parameters": [station_id, _point_params()[2]], "requestBody": body,
                      "responses": {"200": _json("Station", "changed"), **write_errors}},
            "delete": {"summary": "delete a station", "security": [{"bearer": []}], "parameters": [station_id],
                       "responses": {"204": {"description": "deleted"}, **write_errors}}},
        "/api/v1/geocode": {"get": {
            "summary": "places by Chinese name (county, prefecture, province; short and old names) or adcode",
            "parameters": [_param("q", {"type": "string", "maxLength": 50}, "a place name or 6-digit adcode", True),
                           _param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}, "how many")],
            "responses": {"200": {"description": "places, centres in WGS-84", "content": {"application/json": {
                "schema": {"type": "object", "required": ["query", "places", "numberReturned"], "properties": {
                    "query": {"type": "string"}, "crs": {"type": "string"}, "numberReturned": {"type": "integer"},
                    "places": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "adcode": {"type": "string"}, "level": {"type": "string"},
                        "lon": {"type": "number"}, "lat": {"type": "number"}}}}}}}}},
                "400": _ERROR}}},
        "/api/v1/layers": {"get": {"summary": "layers with names, colour, icon and vocabulary",
                                   "responses": {"200": {"description": "layers"}}}},
        "/healthz": {"get": {"summary": "liveness with the store's state",
                             "responses": {"200": {"description": "up"}, "503": {"description": "store unavailable"}}}},
        "/openapi.json": {"get": {"summary": "this document", "responses": {"200": {"description": "OpenAPI 3.0"}}}},
    }


def openapi_document(layers: Mapping[str, Layer]) -> dict:
    """The OpenAPI 3.0.3 document for the implemented endpoints."""
    layer_ids = list(layers)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Yizhan 驿站 API", "version": "1.0.0",
                 "description": "Nearest help for migrant workers. Coordinates WGS-84 [lon, lat]; distances in geodesic metres."},
        "paths": {**_paths(layer_ids), **more_paths(), **history_paths()},
        "components": _components(layer_ids),
    }

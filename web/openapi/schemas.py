"""Reusable parts of /openapi.json: the error form, stations, parks, reports and common responses.

Answers are described as they are sent (every key the server always writes is `required`;
values that may be null are `nullable`). Request bodies name what the server accepts and
refuses: a station's properties are closed (`additionalProperties: false`); the fields a query
answer adds are `readOnly`, accepted back and ignored.
"""
from __future__ import annotations

from layers.model import (
    ACCESS_VALUES,
    PHONE_RE,
    PRECISION_VALUES,
    STATUS_VALUES,
    TEXT_LIMITS,
)
from layers.parks import NOTE_MAX, PARK_KINDS, REPORT_KINDS, SLUG_RE, STATION_ID_RE

ADCODE = {"type": "string", "pattern": "^[1-8][0-9]{5}$", "description": "6-digit county code"}
STATION_ID = {"type": "string", "pattern": STATION_ID_RE.pattern, "description": "URL-safe station id"}
SLUG = {"type": "string", "pattern": SLUG_RE.pattern, "description": "park slug"}
CRS = {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"}
DATE_TIME = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict:
    """A reference to components/schemas/<name>."""
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _text(limit: int) -> dict:
    return {"type": "string", "maxLength": limit}


def _point(required_len: bool = True) -> dict:
    coords = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2 if required_len else 3,
              "description": "[lon, lat] WGS-84 degrees"}
    return {"type": "object", "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": ["Point"]}, "coordinates": coords}}


def _feature(properties: dict, id_schema: dict | None = None, extra: dict | None = None) -> dict:
    return {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": id_schema or {"type": "string"},
        "geometry": _point(), "properties": properties, **(extra or {})}}


def _station_fields(layer_ids: list[str], services: list[str]) -> dict:
    words = {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 60}}
    return {
        "name": {"type": "string", "minLength": 1, "maxLength": TEXT_LIMITS["name"]},
        "name_en": _nullable(_text(TEXT_LIMITS["name_en"])),
        "layer": {"type": "string", "enum": layer_ids},
        "address": _nullable(_text(300)), "adcode": _nullable(ADCODE),
        "phone": _nullable({"type": "string", "pattern": PHONE_RE.pattern}),
        "hours": _nullable({"type": "string", "maxLength": 300,
                            "description": "OpenStreetMap opening_hours (e.g. `Mo-Fr 08:00-18:00; PH off`)"}),
        "services": {**words, "items": {"type": "string", "enum": services},
                     "description": "words of the station's layer vocabulary (GET /api/v1/layers)"},
        "access": {"type": "string", "enum": list(ACCESS_VALUES)},
        "status": {"type": "string", "enum": list(STATUS_VALUES)},
        "origins": {**words, "items": ADCODE, "description": "home counties served (service_window, worker_center)"},
        "items": {**words, "items": {"type": "string", "maxLength": 100}},
        "operator": _nullable(_text(TEXT_LIMITS["operator"])), "source": _nullable(_text(TEXT_LIMITS["source"])),
        "verified_at": _nullable({"type": "string", "format": "date", "description": "the day an editor last "
                                  "confirmed the entry (not set by imports or edits)"}),
        "verified_by": _nullable({**_text(TEXT_LIMITS["verified_by"]), "description": "who confirmed it"}),
        "location_precision": {"type": "string", "enum": list(PRECISION_VALUES), "default": "exact",
                               "description": "exact, or the centre of the town or county the address names"},
        "hours_text": _nullable({**_text(TEXT_LIMITS["hours_text"]), "description": "the hours as the source "
                                 "wrote them when they are not opening_hours syntax (then `hours` is null)"}),
    }


def _answer_fields() -> dict:
    link = {"type": "string", "format": "uri"}
    return {
        "distance_m": {"type": "number", "minimum": 0, "description": "geodesic metres on WGS-84 (nearest only)"},
        "open_now": {"type": "boolean", "nullable": True, "description": "Asia/Shanghai time; null: hours unknown"},
        "hours_today": {"type": "array", "nullable": True, "items": {"type": "string"},
                        "description": "today's spans HH:MM-HH:MM; null: hours unknown"},
        "next_open": _nullable({**DATE_TIME, "description": "when it opens next (Asia/Shanghai), when closed"}),
        "nav": {"type": "object", "required": ["amap", "baidu", "tencent"],
                "properties": {"amap": link, "baidu": link, "tencent": link},
                "description": "navigation links, each in the coordinate system its app needs"},
    }


def station_schemas(layer_ids: list[str], services: list[str]) -> dict:
    """Station (stored), StationAnswer / NearestStation (query answers) and StationInput (writes)."""
    fields = _station_fields(layer_ids, services)
    stored = {"type": "object", "required": list(fields), "properties": fields}
    answer_fields = _answer_fields()
    answer = {"allOf": [ref("StationProperties"), {
        "type": "object", "required": ["open_now", "hours_today", "next_open", "nav"], "properties": answer_fields}]}
    nearest = {"allOf": [ref("StationAnswerProperties"), {"type": "object", "required": ["distance_m"]}]}
    read_only = {name: {**schema, "readOnly": True} for name, schema in answer_fields.items()}
    writable = {"type": "object", "required": ["name", "layer"], "additionalProperties": False,
                "properties": {**fields, **read_only, "id": {"type": "string", "readOnly": True}}}
    input_point = _point(required_len=False)
    feature_in = {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": STATION_ID, "geometry": input_point,
        "properties": ref("StationInputProperties")},
        "description": "a GeoJSON Feature; lon in [-180, 180], lat in [-90, 90] (in `crs`)"}
    partial = {key: value for key, value in writable.items() if key != "required"}
    patch = {"type": "object", "properties": {"geometry": input_point, "properties": partial},
             "description": "the properties to change, and/or a new geometry"}
    collection = {"type": "object", "required": ["type", "features", "numberReturned", "timeStamp"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]}, "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": DATE_TIME}}
    return {
        "StationProperties": stored, "Station": _feature(ref("StationProperties"), STATION_ID),
        "StationAnswerProperties": answer, "StationAnswer": _feature(ref("StationAnswerProperties"), STATION_ID),
        "StationInputProperties": writable, "StationInput": feature_in, "StationPatch": patch,
        "StationReplace": {**feature_in, "required": ["type", "geometry", "properties"]},
        "NearestCollection": {**collection, "required": [*collection["required"], "query"], "properties": {
            **collection["properties"], "features": {"type": "array", "items": _feature(
                {"$ref": "#/components/schemas/NearestStationProperties"}, STATION_ID)},
            "query": {"type": "object", "required": ["lon", "lat", "crs"], "properties": {
                "lon": {"type": "number"}, "lat": {"type": "number"}, "crs": {"type": "string", "enum": ["wgs84"]}},
                "description": "the query point converted to WGS-84"}}},
        "NearestStationProperties": nearest,
        "StationPage": {**collection, "required": [*collection["required"], "numberMatched", "links"], "properties": {
            **collection["properties"], "features": {"type": "array", "items": ref("Station")},
            "numberMatched": {"type": "integer", "minimum": 0},
            "links": {"type": "array", "items": ref("Link"), "description": "self; next and prev when they exist"}}},
    }


def park_schemas() -> dict:
    """Park, ParkCollection, ParkInput, Report."""
    props = {"slug": SLUG, "name": {"type": "string"}, "name_en": _nullable({"type": "string"}),
             "kind": {"type": "string", "enum": list(PARK_KINDS)}, "address": _nullable({"type": "string"}),
             "adcode": _nullable(ADCODE)}
    park_props = {"type": "object", "required": list(props), "properties": props}
    links = {"links": {"type": "array", "items": ref("Link"), "description": "the QR landing page and its QR code"}}
    park = _feature(park_props, SLUG)
    in_props = {"slug": SLUG, "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "name_en": _nullable({"type": "string", "maxLength": 200}),
                "kind": {"type": "string", "enum": list(PARK_KINDS)},
                "address": _nullable({"type": "string", "maxLength": 300}), "adcode": _nullable(ADCODE)}
    park_in = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": SLUG, "geometry": _point(required_len=False),
        "properties": {"type": "object", "required": ["name", "kind"], "properties": in_props}},
        "description": "a GeoJSON Feature (WGS-84); the slug of the URL wins, a different one in the body is refused"}
    report = {"type": "object", "required": ["id", "station_id", "kind", "note", "created_at", "status", "resolved_at"],
              "properties": {"id": {"type": "integer"}, "station_id": STATION_ID,
                             "kind": {"type": "string", "enum": list(REPORT_KINDS)},
                             "note": {"type": "string", "maxLength": NOTE_MAX}, "created_at": DATE_TIME,
                             "status": {"type": "string", "enum": ["open", "resolved"]},
                             "resolved_at": _nullable(DATE_TIME)}}
    return {
        "Park": park, "ParkWithLinks": {**park, "required": [*park["required"], "links"],
                                        "properties": {**park["properties"], **links}},
        "ParkCollection": {"type": "object", "required": ["type", "features", "numberReturned"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]}, "numberReturned": {"type": "integer"},
            "features": {"type": "array", "items": ref("ParkWithLinks")}}},
        "ParkInput": park_in, "Report": report,
    }


def common_schemas() -> dict:
    """Error and Link."""
    error = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "description": "e.g. invalid_parameter, not_found, unauthorized"},
            "message": {"type": "string"}, "parameter": {"type": "string", "description": "the input at fault"}}}}}
    link = {"type": "object", "required": ["rel", "href"], "properties": {
        "rel": {"type": "string"}, "type": {"type": "string"}, "href": {"type": "string", "format": "uri"}}}
    return {"Error": error, "Link": link}


def responses() -> dict:
    """Error answers in the contract's form (401 with WWW-Authenticate, 429 with Retry-After)."""
    def error(description: str, headers: dict | None = None) -> dict:
        out = {"description": description, "content": {"application/json": {"schema": ref("Error")}}}
        return {**out, "headers": headers} if headers else out

    return {
        "Error": error("an error in the contract's form"),
        "BadRequest": error("invalid input; `parameter` names it"),
        "Unauthorized": error("no valid bearer token", {"WWW-Authenticate": {
            "required": True, "schema": {"type": "string"}, "description": "Bearer realm=\"yizhan\""}}),
        "Forbidden": error("the token's role lacks the right"),
        "NotFound": error("no such resource"),
        "Conflict": error("conflicts with what is stored"),
        "PreconditionFailed": error("If-Match names no ETag of the stored station (it changed, or is absent); "
                                    "`parameter` is If-Match"),
        "TooLarge": error("the body (or the point set in it) is too large"),
        "RateLimited": error("too many requests from this client", {"Retry-After": {
            "required": True, "schema": {"type": "integer", "minimum": 1}, "description": "seconds"}}),
        "Unavailable": error("the store is unavailable"),
    }


def errors(*codes: int) -> dict:
    """Responses for these status codes (400 is always possible: NUL characters are refused everywhere)."""
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
             412: "PreconditionFailed", 413: "TooLarge", 429: "RateLimited", 503: "Unavailable"}
    return {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in sorted({400, *codes})}

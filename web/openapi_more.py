"""OpenAPI paths of the parks, reports and planner endpoints (merged into /openapi.json)."""
from __future__ import annotations

_ERROR = {"$ref": "#/components/responses/Error"}
_OBJ = {"type": "object"}
_GEOJSON = {"application/geo+json": {"schema": _OBJ}}


def _param(name: str, schema: dict, description: str, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def _body(properties: dict, required: list[str]) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_SLUG = _param("slug", {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"}, "park slug",
               True, "path")
_PLAN_COMMON = {
    "demand": {"description": "a GeoJSON FeatureCollection of Points with a `weight` property, or \"parks\""},
    "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
    "radius_m": {"type": "number", "minimum": 0, "description": "coverage radius, geodesic metres "
                 "(default: the layer's coverage radius)"},
    "layer": {"type": "array", "items": {"type": "string"}},
    "service": {"type": "array", "items": {"type": "string"}},
    "open_at": {"type": "string", "format": "date-time", "description": "count only stations open then"},
}
_PLAN_SITES = {
    "p": {"type": "integer", "minimum": 1, "description": "how many new sites"},
    "objective": {"type": "string", "enum": ["coverage", "distance"], "description": "coverage: maximal covering; distance: p-median"},
    "candidates": {"description": "a FeatureCollection of Points, \"demand\", or {\"grid\": \"hex\"|\"square\", "
                   "\"spacing_m\": n}"},
    "method": {"type": "string", "enum": ["auto", "exact", "heuristic"]},
    "time_limit_s": {"type": "number", "minimum": 0, "maximum": 60},
    "gap": {"type": "number", "minimum": 0},
}
_FORMAT = _param("format", {"type": "string", "enum": ["geojson", "csv"], "default": "geojson"}, "answer format")
_PLAN_ERRORS = {"400": _ERROR, "413": _ERROR, "429": _ERROR, "503": _ERROR}


def more_paths() -> dict:
    """Parks, scan counts, reports and the planner."""
    editor = [{"bearer": []}]
    return {
        "/api/v1/parks": {"get": {"summary": "parks where QR codes are posted (GeoJSON)",
                                  "responses": {"200": {"description": "parks", "content": _GEOJSON}}}},
        "/api/v1/parks/{slug}": {
            "get": {"summary": "one park", "parameters": [_SLUG],
                    "responses": {"200": {"description": "the park", "content": _GEOJSON}, "404": _ERROR}},
            "put": {"summary": "create or replace a park", "security": editor, "parameters": [_SLUG],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _OBJ}}},
                    "responses": {"200": {"description": "replaced"}, "201": {"description": "created"},
                                  "400": _ERROR, "401": _ERROR, "403": _ERROR}},
            "delete": {"summary": "delete a park", "security": editor, "parameters": [_SLUG],
                       "responses": {"204": {"description": "deleted"}, "401": _ERROR, "403": _ERROR,
                                     "404": _ERROR}}},
        "/api/v1/parks/{slug}/stats": {"get": {
            "summary": "QR landings per day (Asia/Shanghai); nothing personal is stored",
            "parameters": [_SLUG, _param("since", {"type": "string", "format": "date"}, "first day")],
            "responses": {"200": {"description": "{slug, days: [{date, scans}], total}"}, "400": _ERROR,
                          "404": _ERROR}}},
        "/api/v1/reports": {
            "post": {"summary": "one-tap report from the public; rate-limited per client",
                     "requestBody": _body({"station_id": {"type": "string"},
                                           "kind": {"type": "string",
                                                    "enum": ["locked", "wrong_info", "missing_facility", "other"]},
                                           "note": {"type": "string", "maxLength": 500}}, ["station_id", "kind"]),
                     "responses": {"201": {"description": "recorded"}, "400": _ERROR, "404": _ERROR,
                                   "429": _ERROR}},
            "get": {"summary": "reports for editors", "security": editor,
                    "parameters": [_param("status", {"type": "string", "enum": ["open", "resolved", "all"]}, "which"),
                                   _param("station_id", {"type": "string"}, "one station's"),
                                   _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "how many")],
                    "responses": {"200": {"description": "{reports, numberReturned}"}, "400": _ERROR,
                                  "401": _ERROR, "403": _ERROR}}},
        "/api/v1/reports/{report_id}/resolve": {"post": {
            "summary": "resolve a report; the station's verified_at becomes today", "security": editor,
            "parameters": [_param("report_id", {"type": "integer"}, "report id", True, "path")],
            "responses": {"200": {"description": "resolved"}, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
        "/api/v1/plan/coverage": {"post": {
            "summary": "share of demand weight within radius_m of a matching station, nearest station per point",
            "parameters": [_FORMAT], "requestBody": _body(_PLAN_COMMON, ["demand"]),
            "responses": {"200": {"description": "coverage (GeoJSON, or CSV)", "content": _GEOJSON},
                          **_PLAN_ERRORS}}},
        "/api/v1/plan/sites": {"post": {
            "summary": "p suggested new sites (maximal covering or p-median), each with its marginal gain",
            "parameters": [_FORMAT], "requestBody": _body({**_PLAN_COMMON, **_PLAN_SITES}, ["demand", "p"]),
            "responses": {"200": {"description": "the plan (GeoJSON, or CSV)", "content": _GEOJSON},
                          **_PLAN_ERRORS}}},
    }

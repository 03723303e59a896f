"""OpenAPI paths of the parks, reports and planner endpoints (merged into /openapi.json)."""
from __future__ import annotations

from geo.plan.grid import GRID_KINDS
from geo.plan.sites import MAX_P, METHODS, OBJECTIVES
from layers.ingest.demand import BUILT_IN, MAX_CANDIDATES, MAX_DEMAND, MAX_WEIGHT
from layers.parks import REPORT_KINDS, REPORT_STATUSES
from web.openapi.schemas import CRS, DATE_TIME, SLUG, STATION_ID, errors, ref
from web.parks.api import MAX_REPORT_ID
from web.planner.plans import MAX_RADIUS_M, MAX_TIME_LIMIT_S

_EDITOR = [{"bearer": []}]
_GEOJSON = "application/geo+json"


def _param(name: str, schema: dict, description: str, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def _json(schema: dict, description: str, media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    needed = list(properties) if required is None else required
    return {"type": "object", **({"required": needed} if needed else {}), "properties": properties, **extra}


_SLUG = {**_param("slug", SLUG, "park slug", True, "path"), "example": "guiyang-shawen"}
_NULL_NUMBER = {"type": "number", "nullable": True}
_NULL_STRING = {"type": "string", "nullable": True}


def _points(limit: int, weighted: bool) -> dict:
    """A GeoJSON FeatureCollection of Points (lon in [-180, 180], lat in [-90, 90])."""
    props = {"weight": {"type": "number", "minimum": 0, "maximum": MAX_WEIGHT, "description": "default 1"}} \
        if weighted else {}
    feature = {"type": "object", "required": ["type", "geometry"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": _obj({"type": {"type": "string", "enum": ["Point"]}, "coordinates": {
            "type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}}),
        "properties": {"type": "object", "nullable": True, "properties": {**props, "name": {"type": "string"}}}}}
    return _obj({"type": {"type": "string", "enum": ["FeatureCollection"]},
                 "features": {"type": "array", "minItems": 1, "maxItems": limit, "items": feature}},
                description=f"at most {limit} points; more answers 413")


def _words(kind: str) -> dict:
    return {"nullable": True, "description": f"{kind}: a list of words or one comma-separated string",
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}


def _plan_common() -> dict:
    return {
        "demand": {"description": "where the workers are (weights), or the name of a built-in set",
                   "oneOf": [_points(MAX_DEMAND, True), {"type": "string", "enum": list(BUILT_IN)}]},
        "crs": {**CRS, "nullable": True},
        "radius_m": {"type": "number", "minimum": 1, "maximum": MAX_RADIUS_M, "nullable": True,
                     "description": "coverage radius, geodesic metres (default: the layers' coverage radius)"},
        "layer": _words("layers (default rest_station)"), "service": _words("services every station must offer"),
        "open_at": {**DATE_TIME, "nullable": True, "description": "count only stations open then (2000-01-01 to 2100-12-31, else 400)"},
    }


def _plan_sites() -> dict:
    grid = _obj({"grid": {"type": "string", "enum": list(GRID_KINDS)},
                 "spacing_m": {"type": "number", "minimum": 10, "maximum": 50_000, "nullable": True}}, [],
                additionalProperties=False)
    return {
        "p": {"type": "integer", "minimum": 1, "maximum": MAX_P, "nullable": True,
              "description": "how many new sites (default 10), at most the number of candidates"},
        "objective": {"type": "string", "enum": list(OBJECTIVES), "nullable": True,
                      "description": "coverage: maximal covering (default); distance: p-median"},
        "candidates": {"nullable": True, "description": "where a site may go (default a hex grid over the demand)",
                       "oneOf": [_points(MAX_CANDIDATES, False), {"type": "string", "enum": ["demand"]}, grid]},
        "method": {"type": "string", "enum": list(METHODS), "nullable": True},
        "time_limit_s": {"type": "number", "minimum": 0.5, "maximum": MAX_TIME_LIMIT_S, "nullable": True},
        "gap": {"type": "number", "minimum": 0, "maximum": 0.5, "nullable": True},
    }


def _plan_answers() -> tuple[dict, dict]:
    nearest = {"type": "object", "nullable": True, "required": ["id", "name", "layer"], "properties": {
        "id": STATION_ID, "name": {"type": "string"}, "layer": {"type": "string"}}}
    point = _obj({"type": {"type": "string", "enum": ["Point"]},
                  "coordinates": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}})

    def collection(props: dict, summary: dict) -> dict:
        feature = _obj({"type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"}, "geometry": point,
                        "properties": _obj(props)})
        return _obj({"type": {"type": "string", "enum": ["FeatureCollection"]},
                     "features": {"type": "array", "items": feature}, "summary": summary})

    coverage = collection({"name": _NULL_STRING, "weight": {"type": "number"}, "covered": {"type": "boolean"},
                           "distance_m": _NULL_NUMBER, "nearest": nearest},
                          _obj({"radius_m": {"type": "number"}, "covered_share": _NULL_NUMBER,
                                "stations_considered": {"type": "integer"}, "demand_points": {"type": "integer"},
                                "total_weight": {"type": "number"}, "covered_weight": {"type": "number"},
                                "uncovered_ids": {"type": "array", "items": {"type": "string"}},
                                "histogram": {"type": "array", "items": {"type": "object"}},
                                "percentiles_m": {"type": "object", "additionalProperties": _NULL_NUMBER}}))
    sites = collection({"rank": {"type": "integer", "minimum": 1}, "candidate_id": {"type": "string"},
                        "name": _NULL_STRING, "gain": _NULL_NUMBER,
                        "gain_unit": {"type": "string", "enum": ["weight", "weight_m"]},
                        "covered_weight_after": {"type": "number"}, "covered_share_after": _NULL_NUMBER,
                        "weighted_distance_m_after": _NULL_NUMBER},
                       _obj({"objective": {"type": "string", "enum": list(OBJECTIVES)}, "p": {"type": "integer"},
                             "value": _NULL_NUMBER, "bound": _NULL_NUMBER, "proven_optimal": {"type": "boolean"},
                             "method": {"type": "string"}, "candidates": {"type": "integer"},
                             "seconds": {"type": "number"}, "time_limit_s": {"type": "number"},
                             "time_limited": {"type": "boolean", "description": "the time limit stopped the search: "
                                              "the best found in the time given (may differ run to run)"},
                             "solver_time_s": _NULL_NUMBER}))
    return coverage, sites


def _plan_path(summary: str, properties: dict, required: list[str], answer: dict) -> dict:
    csv = {"schema": {"type": "string"}}
    return {"post": {
        "summary": summary,
        "parameters": [_param("format", {"type": "string", "enum": ["geojson", "json", "csv"], "default": "geojson"},
                              "answer format (csv: one row per feature)")],
        "requestBody": _body(_obj(properties, required, additionalProperties=False)),
        "responses": {"200": {"description": "GeoJSON (or CSV with format=csv)",
                              "content": {_GEOJSON: {"schema": answer}, "text/csv": csv}},
                      **errors(413, 429, 503)}}}


def _park_paths() -> dict:
    stats = _obj({"slug": SLUG, "total": {"type": "integer", "minimum": 0}, "days": {"type": "array", "items": _obj({
        "date": {"type": "string", "format": "date"}, "scans": {"type": "integer", "minimum": 0}})}})
    return {
        "/api/v1/parks": {"get": {"summary": "parks where QR codes are posted (GeoJSON)",
                                  "responses": {"200": _json(ref("ParkCollection"), "parks", _GEOJSON), **errors(503)}}},
        "/api/v1/parks/{slug}": {
            "get": {"summary": "one park", "parameters": [_SLUG],
                    "responses": {"200": _json(ref("ParkWithLinks"), "the park", _GEOJSON), **errors(404, 503)}},
            "put": {"summary": "create or replace a park (editor token)", "security": _EDITOR, "parameters": [_SLUG],
                    "requestBody": _body(ref("ParkInput")),
                    "responses": {"200": _json(ref("Park"), "replaced"), "201": _json(ref("Park"), "created"),
                                  **errors(401, 403, 413, 503)}},
            "delete": {"summary": "delete a park (editor token)", "security": _EDITOR, "parameters": [_SLUG],
                       "responses": {"204": {"description": "deleted"}, **errors(401, 403, 404, 503)}}},
        "/api/v1/parks/{slug}/stats": {"get": {
            "summary": "QR landings per day (Asia/Shanghai); nothing personal is stored",
            "parameters": [_SLUG, _param("since", {"type": "string", "format": "date"}, "first day (YYYY-MM-DD, 2000-01-01 to 2100-12-31)")],
            "responses": {"200": _json(stats, "scans per day"), **errors(404, 503)}}},
    }


def _report_paths() -> dict:
    listed = {"allOf": [ref("Report"), _obj({"station_name": _NULL_STRING})]}
    resolved = {"allOf": [ref("Report"), _obj({"station_verified_at": {**_NULL_STRING, "format": "date"}})]}
    new = _obj({"station_id": STATION_ID, "kind": {"type": "string", "enum": list(REPORT_KINDS)},
                "note": {"type": "string", "nullable": True, "maxLength": 500}}, ["station_id", "kind"])
    recorded = {"allOf": [ref("Report"), _obj({"repeat": {"type": "boolean"}, "undo": {"type": "string"},
                                               "undo_until": {"type": "string", "format": "date-time"}})]}
    repeat = {"allOf": [ref("Report"), _obj({"repeat": {"type": "boolean"}})]}
    report_id = {**_param("report_id", {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_REPORT_ID},
                          "report id", True, "path"), "example": 1}
    return {
        "/api/v1/reports/{report_id}/undo": {"post": {
            "summary": "take a report back: only the client that sent it, within 30 s",
            "parameters": [report_id],
            "responses": {"204": {"description": "taken back"}, **errors(403, 404, 409, 413, 503)}}},
        "/api/v1/reports": {
            "post": {"summary": "one-tap report from the public; rate-limited per client",
                     "requestBody": _body(new),
                     "responses": {"201": _json(recorded, "recorded; `undo` takes it back within 30 s (same client)"),
                                   "200": _json(repeat, "this client already reported this kind for this station today:"
                                                " counted once, nothing written"),
                                   **errors(403, 404, 413, 429, 503)}},
            "get": {"summary": "reports, newest first (editor token)", "security": _EDITOR,
                    "parameters": [
                        _param("status", {"type": "string", "enum": [*REPORT_STATUSES, "all"], "default": "open"},
                               "which"),
                        _param("station_id", {"type": "string"}, "one station's"),
                        _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}, "how many")],
                    "responses": {"200": _json(_obj({"reports": {"type": "array", "items": listed},
                                                     "numberReturned": {"type": "integer", "minimum": 0}}), "reports"),
                                  **errors(401, 403, 503)}}},
        "/api/v1/reports/{report_id}/resolve": {"post": {
            "summary": "resolve a report; the station's verified_at becomes today (editor token)",
            "security": _EDITOR,
            "parameters": [{**_param("report_id", {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_REPORT_ID},
                                  "report id", True, "path"), "example": 1}],
            "responses": {"200": _json(resolved, "resolved"), **errors(401, 403, 404, 413, 503)}}},
    }


def more_paths() -> dict:
    """Parks, scan counts, reports and the planner."""
    coverage, sites = _plan_answers()
    common = _plan_common()
    return {
        **_park_paths(), **_report_paths(),
        "/api/v1/plan/coverage": _plan_path(
            "share of demand weight within radius_m of a matching open station; nearest station per point",
            common, ["demand"], coverage),
        "/api/v1/plan/sites": _plan_path(
            "p suggested new sites (maximal covering or p-median), each with its marginal gain",
            {**common, **_plan_sites()}, ["demand"], sites),
    }

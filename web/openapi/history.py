"""OpenAPI paths of a station's audit trail: history (reader token) and revert (editor token)."""
from __future__ import annotations

from layers.audit import ACTIONS, MAX_HISTORY, MAX_SEQ

_ERROR = {"$ref": "#/components/responses/Error"}
_STATION_ID = {"name": "station_id", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "station id"}
_SEQ = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_SEQ}


def _state(description: str) -> dict:
    """A station's state in an audit entry: a GeoJSON Feature (WGS-84), or null when absent."""
    return {"type": "object", "nullable": True, "description": description,
            "required": ["type", "id", "geometry", "properties"], "properties": {
                "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
                "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"type": "string", "enum": ["Point"]},
                    "coordinates": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"},
                                    "description": "[lon, lat] WGS-84"}}},
                "properties": {"$ref": "#/components/schemas/StationProperties"}}}


def _history_schema() -> dict:
    entry = {"type": "object", "required": ["seq", "at", "actor", "action", "before", "after"], "properties": {
        "seq": {**_SEQ, "description": "order of every write of the service"},
        "at": {"type": "string", "format": "date-time", "description": "when (RFC 3339, Asia/Shanghai +08:00)"},
        "actor": {"type": "string", "nullable": True,
                  "description": "the token's name, `config:<digest prefix>`, `seed`, or null"},
        "action": {"type": "string", "enum": list(ACTIONS)},
        "before": _state("the station before the write; null when it did not exist"),
        "after": _state("the station after the write; null when it was deleted")}}
    return {"type": "object", "required": ["id", "entries", "numberReturned"], "properties": {
        "id": {"type": "string"}, "numberReturned": {"type": "integer", "minimum": 0},
        "entries": {"type": "array", "items": entry, "description": "newest first"}}}


def history_paths() -> dict:
    """GET /api/v1/stations/{id}/history and POST /api/v1/stations/{id}/revert."""
    deleted = {"type": "object", "required": ["id", "deleted"], "properties": {
        "id": {"type": "string"}, "deleted": {"type": "boolean", "enum": [True]}}}
    body = {"type": "object", "required": ["seq"], "properties": {"seq": _SEQ}}
    return {
        "/api/v1/stations/{station_id}/verify": {"post": {
            "summary": "confirm the entry is right (信息无误): verified_at becomes today (Asia/Shanghai), "
                       "verified_by the token's name; the only way either is set (editor token)",
            "security": [{"bearer": []}], "parameters": [_STATION_ID],
            "responses": {"200": {"description": "the confirmed station",
                                  "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/Station"}}}},
                          "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "412": _ERROR, "503": _ERROR}}},
        "/api/v1/stations/{station_id}/history": {"get": {
            "summary": "who changed the station, when, and how (audit trail, newest first)",
            "security": [{"bearer": []}],
            "parameters": [_STATION_ID, {"name": "limit", "in": "query", "required": False,
                                         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY,
                                                    "default": 100}, "description": "how many entries"}],
            "responses": {"200": {"description": "the audit entries (reader role or higher)",
                                  "content": {"application/json": {"schema": _history_schema()}}},
                          "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "503": _ERROR}}},
        "/api/v1/stations/{station_id}/revert": {"post": {
            "summary": "restore the station as it was before audit entry `seq` (itself audited as `revert`)",
            "security": [{"bearer": []}], "parameters": [_STATION_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {"200": {"description": "the restored station, or {id, deleted: true} when the "
                                                 "entry created it (editor role or higher)",
                                  "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/Station"}},
                                              "application/json": {"schema": deleted}}},
                          "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR,
                          "413": _ERROR, "503": _ERROR}}},
    }

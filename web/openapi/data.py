"""OpenAPI paths of data in and out: POST /api/v1/import and GET /api/v1/export (merged into /openapi.json)."""
from __future__ import annotations

from layers.ingest.export import EXPORT_FORMATS
from layers.ingest.read import FORMATS
from layers.layerdefs import load_layers

_ERROR = {"$ref": "#/components/responses/Error"}
_ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
_NULL_INT = {"type": "integer", "minimum": 0, "nullable": True}
_GEOJSON_IN = {"type": "object", "required": ["type"], "description": "a FeatureCollection of Point features "
               "(or one Feature); properties as a station's, lists as arrays", "properties": {
                   "type": {"type": "string", "enum": ["FeatureCollection", "Feature"]},
                   "features": {"type": "array", "items": {"type": "object"}}}}
_FLAG = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}


def _param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _entry(required: list[str], description: str) -> dict:
    return {"type": "object", "required": required, "description": description, "properties": {
        "line": {"type": "integer", "minimum": 1, "description": "CSV line (the header is line 1)"},
        "feature": {"type": "integer", "minimum": 0, "description": "feature index from 0 (other formats)"},
        "row": {"type": "integer", "minimum": 1, "description": "spreadsheet row, as Excel numbers it"},
        "id": {"type": "string", "nullable": True, "description": "the row's id, when it has a usable one"},
        "field": {"type": "string", "description": "the field at fault (lon, lat, layer, services, hours, …)"},
        "code": {"type": "string", "description": "missing_coordinates, invalid_coordinates, swapped_coordinates, "
                 "outside_china, invalid_geometry, missing_value, invalid_value, unknown_layer, layer_conflict, "
                 "unknown_service, invalid_hours, duplicate_id, likely_duplicate, unplaced_address; warnings: "
                 "ignored_column, hours_as_written, placed_from_address"},
        "message": {"type": "string"}}}


def report_schema() -> dict:
    """The import report (as answered with 200, and inside a 400 import_rejected)."""
    return {"type": "object", "required": [
        "format", "encoding", "crs", "dry_run", "rows_read", "rows_rejected", "rows_valid", "written", "inserted",
        "updated", "unchanged", "ids_made", "ids_matched", "rejected_by_code", "rejected", "rejected_truncated", "warnings"], "properties": {
        "format": {"type": "string", "enum": list(FORMATS)},
        "encoding": {"type": "string", "nullable": True, "description": "utf-8 or gb18030 for CSV"},
        "crs": {"type": "string", "description": "the source CRS the rows were read in (wgs84, gcj02, bd09, EPSG:n)"},
        "dry_run": {"type": "boolean"},
        "rows_read": {"type": "integer", "minimum": 0},
        "rows_rejected": {"type": "integer", "minimum": 0}, "rows_valid": {"type": "integer", "minimum": 0},
        "written": {"type": "boolean", "description": "true when the rows went to the store (one transaction)"},
        "inserted": _NULL_INT, "updated": _NULL_INT,
        "unchanged": {**_NULL_INT, "description": "rows equal to the stored ones (not written, not audited)"},
        "ids_made": {"type": "integer", "minimum": 0, "description": "rows without an id given one made from "
                     "layer, name and position (the same row always gets the same id)"},
        "ids_matched": {"type": "integer", "minimum": 0, "description": "rows without an id that took the id of "
                        "the stored station of their layer with the same name within 10 m (an update)"},
        "rejected_by_code": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}},
        "rejected": {"type": "array", "maxItems": 10_000, "items": _entry(["id", "field", "code", "message"],
                                                                          "one problem of one row")},
        "rejected_truncated": {"type": "boolean", "description": "more than 10,000 problems: the first are listed"},
        "warnings": {"type": "array", "items": _entry(["field", "code", "message"],
                                                      "ignored columns; likely duplicates with allow_duplicates=1")},
        "columns": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "each header as written -> the station field it fills (名称 -> name)"},
        "header_row": {"type": "integer", "minimum": 1, "nullable": True,
                       "description": "the spreadsheet row that held the headers (a title row may sit above)"},
        "placed": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                   "description": "rows without coordinates placed from their address, by location_precision"},
    }}


def _layer_list(layer_ids: list[str]) -> dict:
    """Comma-separated layer ids (blank entries ignored), as web.params.word_list reads them."""
    item = rf"\s*({'|'.join(sorted(layer_ids, key=len, reverse=True))})?\s*"
    return {"type": "string", "pattern": f"^{item}(,{item})*$"}


def _import_path(layer_ids: list[str]) -> dict:
    binary = {"type": "string", "format": "binary"}
    rejected = {"type": "object", "required": ["error", "report"], "additionalProperties": False, "properties": {
        "error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "enum": ["import_rejected"]}, "message": {"type": "string"}}},
        "report": report_schema()}}
    return {"post": {
        "summary": "import stations from CSV, an Excel sheet, GeoJSON, GeoPackage or a zipped Shapefile; all "
                   "rows or none (editor)",
        "description": "Up to 16 MiB. GeoPackage and zip bodies are recognised by their first bytes, CSV and "
                       "GeoJSON by Content-Type (or a leading `{`). Any rejected row: 400 `import_rejected` with "
                       "the full report, nothing written. Rows equal to the stored ones are counted `unchanged`.",
        "security": [{"bearer": []}],
        "parameters": [
            _param("crs", {"type": "string", "pattern": "^(wgs84|gcj02|bd09|[Ee][Pp][Ss][Gg]:[0-9]{1,6})$"},
                   "source CRS (default: the file's own, else wgs84); GCJ-02/BD-09 are unshifted inside China"),
            _param("dry_run", _FLAG, "check and report only; nothing is written"),
            _param("layer", {"type": "string", "enum": layer_ids}, "one layer id: the layer of rows without one; rows naming another are "
                   "rejected"),
            _param("force_crs", _FLAG, "use `crs` even where the file says another CRS"),
            _param("allow_duplicates", _FLAG, "likely duplicates (same name within 10 m) as warnings"),
            _param("sheet", {"type": "string", "maxLength": 100}, "the sheet of a workbook (default: the first)"),
        ],
        "requestBody": {"required": True, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": _GEOJSON_IN},
            "application/json": {"schema": _GEOJSON_IN},
            "application/geopackage+sqlite3": {"schema": binary},
            "application/zip": {"schema": binary},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": binary},
            "application/vnd.ms-excel": {"schema": binary}}},
        "responses": {
            "200": {"description": "the report; `written` true unless a dry run",
                    "content": {"application/json": {"schema": report_schema()}}},
            "400": {"description": "rows rejected (`import_rejected`, with the report) or an unreadable file, "
                                   "bad parameter or CRS conflict (the error form)",
                    "content": {"application/json": {"schema": {"anyOf": [rejected, _ERROR_SCHEMA]}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}, "403": _ERROR, "413": _ERROR, "503": _ERROR}}}


def _export_path(layer_ids: list[str]) -> dict:
    return {"get": {
        "summary": "every station (not removed, unless asked) in WGS-84, as a file a GIS or Excel opens; "
                   "built once per store revision, rate-limited per client",
        "parameters": [
            _param("format", {"type": "string", "enum": list(EXPORT_FORMATS), "default": "geojson"},
                   "geojson (RFC 7946), csv (UTF-8 with BOM, lists joined by ';'), gpkg (EPSG:4326, layer "
                   "`stations`)"),
            _param("layer", _layer_list(layer_ids), "comma-separated layers (default: all)"),
            _param("include_removed", _FLAG, "also stations whose status is removed"),
        ],
        "responses": {
            "200": {"description": "the file (Content-Disposition: attachment)", "content": {
                "application/geo+json": {"schema": {"type": "object", "required": ["type", "features"],
                                                    "properties": {"type": {"type": "string",
                                                                            "enum": ["FeatureCollection"]},
                                                                   "features": {"type": "array", "items": {
                                                                       "$ref": "#/components/schemas/Station"}}}}},
                "text/csv": {"schema": {"type": "string"}},
                "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}}}},
            "304": {"description": "unchanged since the ETag sent in If-None-Match (one ETag per store revision)"},
            "400": _ERROR, "429": _ERROR, "503": _ERROR}}}


def data_paths(layer_ids: list[str] | None = None) -> dict:
    """OpenAPI path items of the import and export endpoints (layers: the app's, default the bundled defs)."""
    ids = list(layer_ids) if layer_ids is not None else list(load_layers())
    return {"/api/v1/import": _import_path(ids), "/api/v1/export": _export_path(ids)}

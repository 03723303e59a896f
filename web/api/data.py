"""Data in and out: `POST /api/v1/import` (editor token) and `GET /api/v1/export` (public).

The import body is CSV, GeoJSON, a GeoPackage or a zipped Shapefile, up to MAX_CONTENT_LENGTH
(16 MiB): binary formats are recognised by their first bytes (`SQLite format 3`, `PK`), text by
the Content-Type (`text/csv`, `application/json`, `application/geo+json`) or, without one, by a
leading `{`. All or nothing: any rejected row answers 400 `import_rejected` with the full report
and nothing is written. Past YIZHAN_IMPORT_MAX_ROWS rows (or a zip unpacking past
YIZHAN_IMPORT_MAX_UNZIPPED_BYTES) it answers 413 `too_large` before the rows are checked.

Exports are public: built once per store revision and sent from a file (`web.api.export_cache`), and
rate-limited per client (EXPORT_LIMIT per EXPORT_WINDOW_S, `web.security`).
"""
from __future__ import annotations

import shutil
import tempfile
from itertools import chain
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    request,
    send_file,
    stream_with_context,
)

from layers.errors import InvalidQuery
from layers.ingest.export import (
    EXPORT_FORMATS,
    MEDIA_TYPES,
    csv_chunks,
    exported,
    geojson_chunks,
    write_gpkg,
)
from layers.ingest.importer import ImportRejected, import_table
from layers.ingest.limits import read_body_limited
from layers.store import StationStore
from web import params
from web.api.export_cache import ExportCache
from web.api.import_placer import import_placer
from web.auth import current_actor, require_token
from web.config import import_limits

bp = Blueprint("data_api", __name__, url_prefix="/api/v1")
IMPORT_PARAMS = ("crs", "dry_run", "layer", "force_crs", "allow_duplicates", "sheet")


def store() -> StationStore:
    """The configured store."""
    return current_app.extensions["yizhan.store"]


@bp.post("/import")
@require_token("editor")
def import_stations():
    args = request.args
    params.reject_unknown(args, IMPORT_PARAMS)
    layer = params.word_list(args, "layer", store().layers, "layer")
    if len(layer) > 1:
        raise InvalidQuery("layer names one layer", "layer")
    options = {name: params.flag(args, name) for name in ("dry_run", "force_crs", "allow_duplicates")}
    body = request.get_data(cache=False)  # beyond MAX_CONTENT_LENGTH: 413
    if not body.strip():
        raise InvalidQuery("the body is empty: send CSV, an Excel sheet, GeoJSON, a GeoPackage or a zipped Shapefile", "body")
    table = read_body_limited(body, request.content_type, import_limits(current_app.config, cli=False),
                              sheet=args.get("sheet"))
    report = import_table(table, store(), crs=args.get("crs"), layer=layer[0] if layer else None,
                          actor=current_actor(), placer=import_placer(current_app), **options)
    if not report.ok:
        response = jsonify(ImportRejected(report).to_dict())
        response.status_code = 400
        return response
    return jsonify(report.to_json())


@bp.get("/export")
def export_stations():
    args = request.args
    params.reject_unknown(args, ("format", "layer", "include_removed"))
    fmt = (args.get("format") or "geojson").strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise InvalidQuery(f"format must be one of {', '.join(EXPORT_FORMATS)}", "format")
    layers = params.word_list(args, "layer", store().layers, "layer")
    removed = params.flag(args, "include_removed")
    name = f"yizhan-stations{'-' + '-'.join(layers) if layers else ''}.{fmt}"
    revision = store().revision()
    if revision is not None:
        return _cached_export(revision, fmt, tuple(layers), removed, name)
    stations = exported(store(), layers, removed)
    if fmt == "gpkg":
        return _gpkg_response(stations, name)
    first = next(stations, None)  # a store that is down answers 503 here, before the headers go out
    rows = chain([first], stations) if first is not None else iter(())
    chunks = geojson_chunks(rows) if fmt == "geojson" else csv_chunks(rows)
    response = Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[fmt].split(";")[0])
    response.implicit_sequence_conversion = False  # stays a stream: nothing may buffer it (e.g. to count bytes)
    if fmt == "csv":
        response.headers["Content-Type"] = MEDIA_TYPES["csv"]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _gpkg_response(stations, name: str) -> Response:
    """A GeoPackage is a file, not a stream: written to a temporary directory, sent, then removed."""
    folder = Path(tempfile.mkdtemp(prefix="yizhan-export-"))
    try:
        path = folder / name
        write_gpkg(stations, path)
        response = send_file(path, mimetype=MEDIA_TYPES["gpkg"], as_attachment=True, download_name=name,
                             max_age=0)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    response.call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
    return response


def export_cache() -> ExportCache:
    """The export files of this app's data directory (made on first use)."""
    cache = current_app.extensions.get("yizhan.exports")
    if cache is None:
        cache = current_app.extensions["yizhan.exports"] = ExportCache(current_app.config["DATA_DIR"])
    return cache


def _cached_export(revision: str, fmt: str, layers: tuple[str, ...], removed: bool, name: str) -> Response:
    """The export at the store's revision, built once and then sent from its file (see web.api.export_cache)."""
    cache = export_cache()
    for attempt in (1, 2):
        path = cache.get(revision, fmt, layers, removed, lambda: exported(store(), layers, removed))
        try:
            response = send_file(path, mimetype=MEDIA_TYPES[fmt], as_attachment=True, download_name=name,
                                 max_age=0, etag=path.stem, conditional=True)
        except FileNotFoundError:  # pruned by another worker between the two steps: build again
            if attempt == 2:
                raise
            continue
        response.headers["Content-Type"] = MEDIA_TYPES[fmt]
        response.headers["Cache-Control"] = "no-cache"
        return response
    raise AssertionError("unreachable")

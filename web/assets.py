"""Static files: the app's own and the vendored Leaflet packages, gzipped for small phones.

Every script, style and icon comes from here (never a CDN: foreign CDNs are blocked or slow in
China). URLs carry a content hash, so files can be cached for a long time.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, Response, abort, request, url_for
from werkzeug.security import safe_join

bp = Blueprint("assets", __name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
VENDOR_DIRS = {"leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
               "leaflet_markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR)}
COMPRESSIBLE = ("text/html", "text/css", "application/javascript", "text/javascript", "application/json",
                 "image/svg+xml")


@lru_cache(maxsize=64)
def _asset(path: Path) -> tuple[bytes, bytes, str]:
    data = path.read_bytes()
    return data, gzip.compress(data, 9, mtime=0), hashlib.sha256(data).hexdigest()[:16]


def _send(directory: Path, filename: str):
    found = safe_join(str(directory), filename)
    if found is None or not Path(found).is_file():
        abort(404)
    data, packed, etag = _asset(Path(found))
    mimetype = mimetypes.guess_type(found)[0] or "application/octet-stream"
    zipped = mimetype in COMPRESSIBLE and "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(packed if zipped else data, mimetype=mimetype)
    response.vary.add("Accept-Encoding")
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag + ("-gz" if zipped else ""))
    # a URL carrying the file's own hash never changes meaning: cache it for a year; others a day
    versioned = request.args.get("v") == etag
    response.headers["Cache-Control"] = ("public, max-age=31536000, immutable" if versioned
                                         else "public, max-age=86400")
    return response.make_conditional(request)


def static_url(filename: str) -> str:
    """The URL of a file in web/static, with a content hash so caches never serve a stale one."""
    path = STATIC_DIR / filename
    return url_for("assets.static_file", filename=filename, v=_asset(path)[2] if path.is_file() else None)


def vendor_url(package: str, filename: str) -> str:
    """The URL of a file of a vendored xstatic package (leaflet, leaflet_markercluster), with its hash."""
    path = VENDOR_DIRS[package] / filename
    return url_for("assets.vendor", package=package, filename=filename, v=_asset(path)[2] if path.is_file() else None)


@bp.get("/static/<path:filename>")
def static_file(filename: str):
    return _send(STATIC_DIR, filename)


@bp.get("/static/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    if package not in VENDOR_DIRS:
        abort(404)
    return _send(VENDOR_DIRS[package], filename)

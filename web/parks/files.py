"""Answers of fixed bytes for the park faces: QR codes, gzipped and cached with ETags."""
from __future__ import annotations

import gzip
import hashlib

import segno
from flask import (
    Response,
    request,
)

from web.parks.public_url import qr_url


# ---- responses -----------------------------------------------------------------------------
def cached_answer(data: bytes, mimetype: str, max_age: int, headers: dict | None = None) -> Response:
    """`data` gzipped when the client takes it, with Cache-Control and a strong ETag (304 on a match)."""
    zipped = "gzip" in request.headers.get("Accept-Encoding", "") and mimetype != "image/png" and len(data) > 512
    digest = hashlib.sha256(data).hexdigest()
    body = gzipped(digest, data) if zipped else data
    response = Response(body, mimetype=mimetype, headers=headers or {})
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(digest[:20] + ("-gz" if zipped else ""))
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response.make_conditional(request)


def gzipped(digest: str, data: bytes) -> bytes:
    """gzip of `data`, remembered by content digest (the same page is asked for again and again)."""
    found = _GZ_MEMO.get(digest)
    if found is None:
        found = gzip.compress(data, 6, mtime=0)
        if len(_GZ_MEMO) >= 256:
            _GZ_MEMO.clear()
        _GZ_MEMO[digest] = found
    return found


def qr_code(slug: str) -> segno.QRCode:
    """The park's QR code: its public landing URL with the scan marker, error correction M (or better if it fits)."""
    return segno.make(qr_url(slug), error="m", boost_error=True, micro=False)


_GZ_MEMO: dict[str, bytes] = {}

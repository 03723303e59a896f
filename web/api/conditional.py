"""Conditional station writes over HTTP: the ETag header of an answer and the If-Match of a request."""
from __future__ import annotations

from flask import Response, request

from layers.model import Station
from layers.revision import ANY, etag


def if_match() -> frozenset[str] | None:
    """The request's If-Match as quoted strong ETags (`*` kept as is); None when it has none.
    Weak tags are left out: they never match under the strong comparison If-Match uses (RFC 9110)."""
    if "If-Match" not in request.headers:
        return None
    tags = request.if_match
    if tags.star_tag:
        return frozenset({ANY})
    return frozenset(f'"{tag}"' for tag in tags.as_set())


def with_etag(response: Response, station: Station) -> Response:
    """The answer with the station's ETag (its revision tag, layers.revision)."""
    response.headers["ETag"] = etag(station)
    return response

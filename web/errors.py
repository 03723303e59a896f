"""One place that turns every error into the contract's JSON form (API) or a friendly page."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, request
from werkzeug.exceptions import HTTPException

from layers.errors import YizhanError

LOGGER = logging.getLogger(__name__)
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 503: "store_unavailable",
}


def error_response(status: int, code: str, message: str, parameter: str | None = None) -> Response:
    """The contract's error body with its status."""
    body = {"code": code, "message": message}
    if parameter:
        body["parameter"] = parameter
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="yizhan"'
    return response


def _with_exception_headers(response, exc: HTTPException):
    """Keep the headers the HTTP error carries (405's Allow, RFC 9110), not its Content-Type."""
    response = make_response(response)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _wants_json() -> bool:
    path = request.path
    return path.startswith(("/api/", "/ogc", "/healthz", "/openapi")) or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Install handlers for domain errors, HTTP errors and anything unexpected."""

    @app.errorhandler(YizhanError)
    def domain_error(exc: YizhanError):
        if exc.status >= 500:
            LOGGER.warning("%s %s: %s", request.method, request.path, exc.message)
        response = error_response(exc.status, exc.code, exc.message, exc.parameter)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description or exc.name
        if not _wants_json():
            from web.pages.render import error_page

            return _with_exception_headers(error_page(status, "http", None, message), exc)
        if status == 404:
            message = f"no such resource: {request.path[:200]}"
        return _with_exception_headers(error_response(status, _HTTP_CODES.get(status, "error"), message), exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        LOGGER.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "an internal error occurred; it has been logged")

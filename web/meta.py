"""Liveness and the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from web.openapi.document import openapi_document

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz():
    state = current_app.extensions["yizhan.store"].health()
    status = "ok" if state.get("ok") else "read_only" if state.get("writable") is False else "unavailable"
    body = {"status": status, "store": state}
    response = jsonify(body)
    response.status_code = 200 if state.get("ok") else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.extensions["yizhan.store"].layers))

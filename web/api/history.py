"""A station's audit trail over HTTP: `GET .../history` (reader) and `POST .../revert` (editor)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from geo.hours import rfc3339
from layers.audit import MAX_HISTORY, AuditEntry, check_seq
from layers.errors import InvalidQuery
from layers.store import StationStore
from web import params
from web.auth import current_actor, require_token

bp = Blueprint("history_api", __name__, url_prefix="/api/v1")


def store() -> StationStore:
    return current_app.extensions["yizhan.store"]


def entry_json(entry: AuditEntry) -> dict:
    """One audit entry; before/after as GeoJSON Features (WGS-84) or null, `at` RFC 3339 in +08:00."""
    return {"seq": entry.seq, "at": rfc3339(entry.at, "microseconds"),
            "actor": entry.actor, "action": entry.action,
            "before": entry.before.to_feature() if entry.before else None,
            "after": entry.after.to_feature() if entry.after else None}


@bp.get("/stations/<station_id>/history")
@require_token("reader")
def station_history(station_id: str):
    params.reject_unknown(request.args, ("limit",))
    limit = params.integer(request.args, "limit", 1, MAX_HISTORY, 100)
    entries = store().history(station_id, limit)
    return jsonify({"id": station_id, "entries": [entry_json(e) for e in entries],
                    "numberReturned": len(entries)})


@bp.post("/stations/<station_id>/revert")
@require_token("editor")
def revert_station(station_id: str):
    params.reject_unknown(request.args, ())
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "seq" not in body:
        raise InvalidQuery('the body must be a JSON object {"seq": n}', parameter="seq")
    restored = store().revert(station_id, check_seq(body["seq"]), actor=current_actor())
    if restored is None:
        return jsonify({"id": station_id, "deleted": True})
    response = jsonify(restored.to_feature())
    response.mimetype = "application/geo+json"
    return response

"""`POST /api/v1/stations/<id>/verify` (editor): the one way a station's verified_at/verified_by are
set — an editor's explicit confirmation that the entry is right ("信息无误"), as of today in
Asia/Shanghai. Edits through PUT/PATCH keep them as they were (web.api.stations.kept_verification)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, jsonify, request

from geo.hours import SHANGHAI
from layers.errors import InvalidQuery
from layers.store import StationStore
from web import params
from web.api.conditional import if_match, with_etag
from web.auth import current_actor, require_token

bp = Blueprint("verify_api", __name__, url_prefix="/api/v1")
MAX_ACTOR_CHARS = 100


def store() -> StationStore:
    return current_app.extensions["yizhan.store"]


@bp.post("/stations/<station_id>/verify")
@require_token("editor")
def verify_station(station_id: str):
    params.reject_unknown(request.args, ())
    sent = request.get_data(cache=False).strip()
    if sent not in (b"", b"{}"):  # a body meant for another endpoint must not confirm anything
        raise InvalidQuery("the body must be empty (or {}): confirming takes no data", "body")
    today = datetime.now(SHANGHAI).date().isoformat()
    actor = (current_actor() or "editor")[:MAX_ACTOR_CHARS]
    new = store().patch(station_id, lambda stored: stored.with_changes(verified_at=today, verified_by=actor),
                        actor=current_actor(), expect=if_match())
    response = with_etag(jsonify(new.to_feature()), new)
    response.mimetype = "application/geo+json"
    return response

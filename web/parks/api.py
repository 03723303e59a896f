"""JSON API of parks, scan counts and reports (`/api/v1/parks…`, `/api/v1/reports…`)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from geo.hours import rfc3339
from layers.errors import InvalidQuery, YizhanError
from layers.parks import (
    REPORT_STATUSES,
    UNDO_WINDOW,
    ReportNotFound,
    check_report,
    check_slug,
    park_from_feature,
    shanghai_date,
    utc_now,
)
from web import params
from web.auth import current_actor, require_token
from web.parks.common import check_rate, park_links, park_store, scan_buffer, store
from web.parks.report_undo import report_client

bp = Blueprint("parks_api", __name__)
MAX_REPORT_ID = 2**63 - 1


@bp.get("/api/v1/parks")
def api_parks():
    features = []
    for park in park_store().list_parks():
        feature = park.to_feature()
        feature["links"] = park_links(park.slug)
        features.append(feature)
    body = {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
    response = current_app.json.response(body)
    response.mimetype = "application/geo+json"
    return response


@bp.get("/api/v1/parks/<slug>")
def api_park(slug: str):
    feature = park_store().get_park(slug).to_feature()
    feature["links"] = park_links(slug)
    response = current_app.json.response(feature)
    response.mimetype = "application/geo+json"
    return response


@bp.put("/api/v1/parks/<slug>")
@require_token("editor")
def api_put_park(slug: str):
    check_slug(slug)
    park = park_from_feature(request.get_json(silent=True), slug)
    created = park_store().put_park(park)
    return jsonify(park.to_feature()), 201 if created else 200


@bp.delete("/api/v1/parks/<slug>")
@require_token("editor")
def api_delete_park(slug: str):
    park_store().delete_park(slug)
    return "", 204


@bp.get("/api/v1/parks/<slug>/stats")
def api_park_stats(slug: str):
    park_store().get_park(slug)
    args = dict(request.args.items())
    params.reject_unknown(args, ("since",))
    since = params.day(args, "since")
    scan_buffer().flush()
    days = park_store().scan_days(slug, since)
    return jsonify({"slug": slug, "days": [{"date": d.isoformat(), "scans": n} for d, n in days],
                    "total": sum(n for _, n in days)})


@bp.post("/api/v1/reports")
def api_report():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidQuery("the body must be a JSON object {station_id, kind, note}", "body")
    check_rate()
    sid, kind, note = check_report(body.get("station_id"), body.get("kind"), body.get("note"))
    store().get(sid)
    report = park_store().add_report(sid, kind, note, utc_now(), report_client())
    if report.repeat:  # this client's report of this kind and station today: counted once, already
        return jsonify({**report.to_json(), "repeat": True}), 200
    undo = url_for("report_undo.api_undo", report_id=report.id)
    return jsonify({**report.to_json(), "repeat": False, "undo": undo,
                    "undo_until": rfc3339(report.created_at + UNDO_WINDOW)}), 201


@bp.get("/api/v1/reports")
@require_token("editor")
def api_reports():
    args = dict(request.args.items())
    params.reject_unknown(args, ("status", "station_id", "limit"))
    status = (args.get("status") or "open").strip()
    if status not in (*REPORT_STATUSES, "all"):
        raise InvalidQuery("status must be open, resolved or all", "status")
    reports = park_store().list_reports(None if status == "all" else status, args.get("station_id") or None,
                                        params.integer(args, "limit", 1, 1000, 200))
    names = {}
    for report in reports:
        if report.station_id not in names:
            try:
                names[report.station_id] = store().get(report.station_id).name
            except YizhanError:
                names[report.station_id] = None
    items = [{**r.to_json(), "station_name": names[r.station_id]} for r in reports]
    return jsonify({"reports": items, "numberReturned": len(items)})


@bp.post("/api/v1/reports/<int:report_id>/resolve")
@require_token("editor")
def api_resolve(report_id: int):
    if report_id > MAX_REPORT_ID:  # beyond a database integer: no such report (not an overflow and a 500)
        raise ReportNotFound(f"no report with id {report_id}", "id")
    report = park_store().get_report(report_id)
    today = shanghai_date().isoformat()
    verified = None
    try:
        store().patch(report.station_id, lambda stored: stored.with_changes(verified_at=today), actor=current_actor())
        verified = today
    except YizhanError as exc:
        if exc.status != 404:
            raise
    resolved = park_store().resolve_report(report_id, utc_now())
    return jsonify({**resolved.to_json(), "station_verified_at": verified})

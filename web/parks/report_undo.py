"""Who sent a report (without saying who) and taking a report back within 30 seconds.

A report's sender is `report_client()`: an HMAC of the client address under the day's secret that
every process shares (`layers.counters.ClientKeys`), so a kind counts once per client per station
per Asia/Shanghai day and "多人反映" counts distinct clients; the secret is deleted the next day, so
no stored value leads back to anyone. With YIZHAN_PROXIES set, the address is the proxies'
X-Forwarded-For (ProxyFix in app.py). The same key, recomputed, lets only the sender undo:
`POST /p/<slug>/report/<id>/undo` (a form: works without JavaScript, then back to the page) and
`POST /api/v1/reports/<id>/undo` (204).
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, redirect, request

from layers.counters import ClientKeys
from layers.errors import InvalidQuery, YizhanError
from layers.parks import UNDO_WINDOW, ParkStore, ReportNotFound
from web.errors import error_response
from web.pages.routes import error_page, link

bp = Blueprint("report_undo", __name__)
EXTENSION = "yizhan.report_clients"
MAX_REPORT_ID = 2**63 - 1


def init_report_clients(app: Flask, parks: ParkStore) -> None:
    """Register the undo routes and the day-keyed client keys of `parks`' shared counters."""
    app.extensions[EXTENSION] = ClientKeys(lambda: parks.counters)
    app.register_blueprint(bp)


@bp.errorhandler(YizhanError)
def _refused(exc: YizhanError):
    if request.path.startswith("/api/"):
        return error_response(exc.status, exc.code, exc.message, exc.parameter)
    # a person pressed the button: a page in their language
    body, status, headers = error_page(exc.status, exc.code, exc.parameter, exc.message)
    return Response(body, status, headers)


def report_client() -> str:
    """This request's sender as the day's HMAC (no address is kept)."""
    return current_app.extensions[EXTENSION](f"report {request.remote_addr or '-'}")


def thanks_context(args: dict[str, str]) -> dict:
    """What the park page says after a report (`?reported=<id>`, `&again=1` for a repeat) or an undo
    (`?undone=1`); the undo button names the report, the route checks who presses it."""
    reported = args.get("reported", "")
    return {"reported": bool(reported), "undone": "undone" in args, "again": "again" in args,
            "undo_id": int(reported) if reported.isdigit() and len(reported) < 19 else None,
            "undo_s": UNDO_WINDOW.seconds}


def _withdraw(report_id: int) -> None:
    if request.content_length or request.stream.read(1):  # an undo says everything in its URL
        raise InvalidQuery("taking a report back takes no body", "body")
    if report_id > MAX_REPORT_ID:
        raise ReportNotFound(f"no report with id {report_id}", "id")
    current_app.extensions["yizhan.parks"].withdraw_report(report_id, report_client())


@bp.post("/api/v1/reports/<int:report_id>/undo")
def api_undo(report_id: int):
    _withdraw(report_id)
    return "", 204


@bp.post("/p/<slug>/report/<int:report_id>/undo")
def undo_from_park(slug: str, report_id: int):
    current_app.extensions["yizhan.parks"].get_park(slug)
    _withdraw(report_id)
    return redirect(link("parks.landing", slug=slug, undone=1), 303)

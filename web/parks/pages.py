"""Parks: the QR landing page `/p/<slug>`, its QR codes and A4 poster, scan counts and one-tap reports.

`/p/<slug>` is one self-contained HTML page (inline CSS, no script, no map, no GPS): ~5-7 kB
gzipped. It answers `Cache-Control: public, max-age=60` with an ETag, so a repeat scan within a
minute costs nothing and after that a 304; because it needs no other file, the copy the browser
keeps (HTTP and back/forward cache, or "save page") stays fully readable when the network drops.

A scan is a landing through the QR code's own URL (`?s=qr`) by a browser (`looks_like_browser`),
counted once per client (address and user agent) per park per hour, across every worker (see
`layers.scans`); nothing about the reader is stored. Reports are rate-limited per client in the
store's database (see `layers.counters.RateLimiter`). QR codes and posters print only
YIZHAN_PUBLIC_URL (`web.parks.public_url`).
"""
from __future__ import annotations

import io
import logging
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    request,
)
from markupsafe import Markup

from layers.counters import RateLimiter
from layers.errors import YizhanError
from layers.parks import (
    REPORT_KINDS,
    SAMPLE_PARKS,
    Park,
    ParkStore,
    check_report,
    read_geojson_parks,
    shanghai_date,
    travel_minutes,
    utc_now,
)
from layers.places.gazetteer import default_gazetteer
from layers.present import station_answer
from layers.scans import ScanBuffer
from layers.store import NearestQuery
from web import i18n, params
from web.assets import TEMPLATES_DIR
from web.config import check_config
from web.pages import results
from web.pages.render import error_page, link, render
from web.pages.routes import station_card
from web.parks.common import (
    EXTENSION,
    check_rate,
    park_store,
    scan_buffer,
    scan_totals,
    store,
)
from web.parks.files import cached_answer, qr_code
from web.parks.public_url import HOW_TO, printable_url
from web.parks.report_undo import thanks_context

LOGGER = logging.getLogger(__name__)
bp = Blueprint("parks", __name__, template_folder=str(TEMPLATES_DIR))
PER_LAYER = 3         # stations shown per layer on the landing page
FETCH_PER_LAYER = 8   # nearest fetched per layer before open-now/flag ordering picks PER_LAYER
POSTER_STATIONS = 3
PAGE_MAX_AGE_S = 60
QR_MAX_AGE_S = 86400
DEFAULT_REPORT_LIMIT = 5       # reports per client ...
DEFAULT_REPORT_WINDOW_S = 600  # ... per 10 minutes, shared by every worker
DEFAULT_SCAN_FLUSH_S = 5.0     # scan counts are written at most this late (see ScanBuffer)


# ---- wiring --------------------------------------------------------------------------------
def open_park_store(app: Flask) -> ParkStore:
    """The park store beside the station store: PostgreSQL tables when DATABASE_URL is set, else parks.sqlite3."""
    settings = check_config(app.config)
    if settings["database_url"]:
        from layers.postgis.parks import PostgisParkStore

        return PostgisParkStore(settings["database_url"])
    from layers.embedded.parks import SqliteParkStore

    return SqliteParkStore(settings["data_dir"])


def _seed(app: Flask, parks: ParkStore) -> None:
    if not app.config.get("SEED", True):
        return
    try:
        added = parks.seed(read_geojson_parks(app.config.get("PARKS_SEED") or SAMPLE_PARKS))
        if added:
            LOGGER.info("seeded %d parks", added)
    except YizhanError as exc:  # database down at start: the app still starts; seed on a later start
        LOGGER.warning("parks not seeded: %s", exc.message)


def init_parks(app: Flask) -> ParkStore:
    """Open (and seed) the park store, register the `parks` blueprint and the `flask parks` CLI (once)."""
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION]
    parks = open_park_store(app)
    _seed(app, parks)
    app.extensions[EXTENSION] = parks
    buffer = ScanBuffer(parks, float(app.config.get("SCAN_FLUSH_S", DEFAULT_SCAN_FLUSH_S)))
    app.extensions["yizhan.scans"] = buffer
    parks.on_close(buffer.close)  # closing either store (an app's end, a test's) writes what is pending
    app.extensions["yizhan.store"].on_close(buffer.close)
    app.extensions["yizhan.pages"] = PageCache()
    app.after_request(_note_writes)
    app.extensions["yizhan.report_limiter"] = RateLimiter(
        int(app.config.get("REPORT_LIMIT", DEFAULT_REPORT_LIMIT)),
        float(app.config.get("REPORT_WINDOW_S", DEFAULT_REPORT_WINDOW_S)), parks.counters, "report")
    from web.parks import api as parks_api  # its routes use this module's helpers
    from web.parks.report_undo import init_report_clients

    app.register_blueprint(bp)
    app.register_blueprint(parks_api.bp)
    init_report_clients(app, parks)
    register_park_cli(app)
    return parks


class PageCache:
    """Rendered `/p/<slug>` pages of this process, reused within one minute.

    A poster at a gate is scanned by many people in a few minutes, all asking the same page.
    An entry is reused only for the same slug, language and arguments, within the same
    Asia/Shanghai minute (open-now and "made at" have minute resolution), at most `ttl_s`
    seconds old, and only while no write went through this process since it was made (any
    successful POST/PUT/PATCH/DELETE bumps the generation). Writes made by other worker
    processes show after at most `ttl_s` seconds — inside the page's own 60-s HTTP cache time.
    """

    def __init__(self, ttl_s: float = 15.0, max_entries: int = 512) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.generation = 0
        self._entries: dict[tuple, tuple[float, int, datetime, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, minute: datetime) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        made, generation, at_minute, value = entry
        if generation != self.generation or at_minute != minute or time.monotonic() - made > self.ttl_s:
            return None
        return value

    def put(self, key: tuple, minute: datetime, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # arbitrary arguments must not grow memory
            self._entries[key] = (time.monotonic(), self.generation, minute, value)

    def bump(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


def _note_writes(response: Response) -> Response:
    if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
        current_app.extensions["yizhan.pages"].bump()
    return response


def flagged_station_ids() -> set[str]:
    """Stations that at least two distinct clients reported locked in the last 12 h (for station pages and lists)."""
    return park_store().flagged()


# ---- errors: JSON under /api, a friendly page elsewhere ------------------------------------
@bp.errorhandler(YizhanError)
def _domain_error(exc: YizhanError):
    body, status, headers = error_page(exc.status, exc.code, exc.parameter, exc.message)
    response = Response(body, status, headers)
    response.headers.update(exc.headers)
    return response


_NOT_BROWSER = re.compile(r"bot|spider|crawl|slurp|curl|wget|python|httpx|aiohttp|go-http|java/|okhttp|libwww|"
                          r"scrapy|headless|phantom|wrk|apachebench|httpie|postman|insomnia|monitor|preview|fetch",
                          re.IGNORECASE)


def looks_like_browser(user_agent: str | None) -> bool:
    """A person's browser (WeChat's and Alipay's in-app ones too: all say Mozilla/), not a tool or a bot."""
    ua = (user_agent or "").strip()
    return ua.startswith("Mozilla/") and not _NOT_BROWSER.search(ua)


# ---- what the landing page shows -----------------------------------------------------------
def park_picks(park: Park, at: datetime, flags) -> list[tuple[str, list[dict]]]:
    """(layer id, answers) per layer: of the FETCH_PER_LAYER nearest within the layer's cap (`cap_m`) plus the
    nearest open one within it, the PER_LAYER first in the shared order (web.pages.results: open, reported, unknown, closed, temporarily
    closed) that nobody reported locked, and the reported ones among the PER_LAYER nearest, in that order."""
    out = []
    for lid, layer in store().layers.items():
        query = NearestQuery(lon=park.lon, lat=park.lat, k=FETCH_PER_LAYER, layers=(lid,), at=at,
                             radius_m=results.cap_m(layer))  # nothing from another province
        ordered = results.answer(store(), query, flags).features
        nearest = sorted(ordered, key=lambda f: (f["properties"]["distance_m"], f["id"]))[:PER_LAYER]
        # a station reported locked stays on the page (marked, after the open ones) when it is among the nearest
        reported = [f for f in nearest if f["id"] in flags]
        kept = [f for f in ordered if f["id"] not in flags][:PER_LAYER]
        out.append((lid, results.order(kept + reported, flags)))
    return out


def _card(feature: dict, rank: int, at: datetime, flags) -> dict[str, Any]:
    card = station_card(feature, rank, at, flags)
    card["walk_min"], card["drive_min"] = travel_minutes(feature["properties"]["distance_m"])
    return card


def _county(park: Park) -> str:
    place = default_gazetteer().by_adcode(park.adcode) if park.adcode else None
    if place is None:
        return ""
    return place.name if not place.province or place.province == place.name else f"{place.province} {place.name}"


def _report_kinds() -> list[tuple[str, str]]:
    return [(kind, i18n.gettext(f"report.kind.{kind}")) for kind in REPORT_KINDS]


def _park_title(park: Park) -> str:
    return (park.name_en or park.name) if i18n.current_language() == "en" else park.name


@bp.get("/p/<slug>")
def landing(slug: str):
    args = dict(request.args.items())
    at = params.moment(args)
    minute = at.replace(second=0, microsecond=0)
    cache: PageCache = current_app.extensions["yizhan.pages"]
    key = (slug, i18n.current_language(), tuple(sorted(args.items())))
    page = cache.get(key, minute)
    if page is None:
        page = _render_landing(park_store().get_park(slug), args, at)
        cache.put(key, minute, page)
    park_slug, data, headers = page
    if request.method == "GET" and args.get("s") == "qr" and "reported" not in args \
            and looks_like_browser(request.user_agent.string):
        client = f"{request.remote_addr or '-'} {request.user_agent.string[:300]}"
        scan_buffer().add(park_slug, shanghai_date(), client)
    return cached_answer(data, "text/html", PAGE_MAX_AGE_S, dict(headers))


def _render_landing(park: Park, args: dict[str, str], at: datetime) -> tuple[str, bytes, tuple]:
    """(slug, page bytes, headers) of one park's landing page at `at`."""
    flagged = results.flag_details(park_store())
    sections = []
    for lid, answers in park_picks(park, at, flagged):
        layer = store().layers[lid]
        sections.append({"id": lid, "label": layer.label(i18n.current_language()), "layer": layer,
                         "cap_km": f"{results.cap_m(layer) / 1000:g}",
                         "cards": [_card(f, i + 1, at, flagged) for i, f in enumerate(answers)]})
    body, _status, headers = render("park.html", park=park, title=_park_title(park), county=_county(park),
                                   sections=sections, report_kinds=_report_kinds(), **thanks_context(args),
                                   kind_label=i18n.gettext(f"park.kind.{park.kind}"),
                                   made_at=at.strftime("%Y-%m-%d %H:%M"), at=at)
    return park.slug, body.encode("utf-8"), tuple(dict(headers).items())


@bp.get("/p/<slug>/qr.svg")
def qr_svg(slug: str):
    park_store().get_park(slug)
    out = io.BytesIO()
    qr_code(slug).save(out, kind="svg", scale=8, border=4, xmldecl=False, title=printable_url(slug))
    return cached_answer(out.getvalue(), "image/svg+xml", QR_MAX_AGE_S)


@bp.get("/p/<slug>/qr.png")
def qr_png(slug: str):
    park_store().get_park(slug)
    out = io.BytesIO()
    qr_code(slug).save(out, kind="png", scale=10, border=4)
    return cached_answer(out.getvalue(), "image/png", QR_MAX_AGE_S)


@bp.get("/p/<slug>/poster")
def poster(slug: str):
    park = park_store().get_park(slug)
    at = params.moment(dict(request.args.items()))
    hits = store().nearest(NearestQuery(lon=park.lon, lat=park.lat, k=POSTER_STATIONS, at=at))
    cards = [station_card(station_answer(h.station, at, h.distance_m, h.nav), i + 1, at) for i, h in enumerate(hits)]
    svg = Markup(qr_code(slug).svg_inline(scale=1, border=4, omitsize=True))
    body, _status, headers = render("poster.html", park=park, title=_park_title(park), county=_county(park),
                                   cards=cards, qr_svg=svg, url=printable_url(slug))
    return cached_answer(body.encode("utf-8"), "text/html", PAGE_MAX_AGE_S, headers)


# ---- reports from pages (no JavaScript: a form POST, then back with a thank-you) ----------
def _report_from_form(station_id: str):
    from web.parks.report_undo import report_client

    check_rate()
    sid, kind, note = check_report(station_id, request.form.get("kind"), request.form.get("note"))
    store().get(sid)
    return park_store().add_report(sid, kind, note, utc_now(), report_client())


@bp.post("/p/<slug>/report")
def report_from_park(slug: str):
    park_store().get_park(slug)
    station_id = request.form.get("station_id") or ""
    report = _report_from_form(station_id)
    extra = {"again": 1} if report.repeat else {}
    return redirect(link("parks.landing", slug=slug, reported=report.id, **extra, _anchor="thanks"), 303)


@bp.post("/station/<station_id>/report")
def report_from_station(station_id: str):
    _report_from_form(station_id)
    return redirect(link("pages.station", station_id=station_id, reported=1), 303)


@bp.get("/reports/editor")
def reports_editor():
    """A small page for editors: the token is typed in and kept in sessionStorage; the API does the rest."""
    return render("reports.html", report_kinds=_report_kinds())


# ---- CLI -----------------------------------------------------------------------------------
def register_park_cli(app: Flask) -> None:
    """`flask parks posters --out DIR`: print-ready poster HTML and QR PNG of every park."""

    @app.cli.group("parks")
    def parks_group() -> None:
        """QR parks: posters and scan counts."""

    @parks_group.command("posters")
    @click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
    @click.option("--public-url", envvar="YIZHAN_PUBLIC_URL", default=None,
                  help="https://… the QR codes point to (default: YIZHAN_PUBLIC_URL)")
    @click.option("--lang", type=click.Choice(i18n.LANGUAGES), default="zh", show_default=True)
    def posters(out: Path, public_url: str | None, lang: str) -> None:
        """Write <slug>-poster.html (A4, self-contained) and <slug>-qr.png for every park into OUT."""
        base = (public_url or current_app.config.get("PUBLIC_URL") or "").rstrip("/")
        if not base:
            raise click.UsageError(f"the QR codes must point somewhere public: {HOW_TO}, or pass --public-url "
                                   "https://…  (二维码必须指向公开网址：请设置环境变量 YIZHAN_PUBLIC_URL，"
                                   "例如 YIZHAN_PUBLIC_URL=https://yizhan.example.cn，或加 --public-url)")
        current_app.config["PUBLIC_URL"] = base
        out.mkdir(parents=True, exist_ok=True)
        client = current_app.test_client()
        parks = park_store().list_parks()
        with click.progressbar(parks, label=f"{len(parks)} posters") as bar:
            for park in bar:
                for suffix, path in (("poster.html", f"/p/{park.slug}/poster?lang={lang}"),
                                     ("qr.png", f"/p/{park.slug}/qr.png")):
                    response = client.get(path, base_url=base)
                    if response.status_code != 200:
                        raise click.ClickException(f"{path}: HTTP {response.status_code}")
                    (out / f"{park.slug}-{suffix}").write_bytes(response.get_data())
        click.echo(f"written to {out}")

    @parks_group.command("scans")
    @click.option("--days", type=int, default=30, show_default=True)
    def scans(days: int) -> None:
        """Scans per park over the last DAYS days (Asia/Shanghai dates)."""
        totals = scan_totals(shanghai_date() - timedelta(days=days - 1))
        for park in park_store().list_parks():
            click.echo(f"{totals.get(park.slug, 0):8d}  {park.slug}")

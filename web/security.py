"""Serving in public: security headers, body-size and rate limits, one log line per request.

`init_security(app)` installs it all (once; a second call does nothing).

Content-Security-Policy: scripts, styles, fonts and fetches from the app itself only; images
also from the configured tile server's host(s) (`web.pages.tiles`). The pages embed inline blocks:
folium's map script (end of <body>), folium's map CSS (<head>) and the self-contained park
page's and poster's <style>. They are allowed by their SHA-256 hashes, never by 'unsafe-inline'
for scripts. Hashes are taken from *trusted sources only*, not from the finished page: the map
parts a view passes to `render_template` (signal `before_render_template`) and the literal
<style> blocks of the template files, so a script that somehow got into the page from data is
still blocked. Style *attributes* (`style="background:#c00"`, layer colours, and Leaflet's
markup) need `style-src-attr 'unsafe-inline'`: CSS in an attribute cannot run script.

Limits: small JSON/form writes (reports, stations, parks) take at most `SMALL_BODY_MAX` bytes
(config SMALL_BODY_MAX, default 64 KiB) before anything is read; everything else keeps
MAX_CONTENT_LENGTH (16 MiB). A body is read whole or refused whole, chunked ones too
(`web.bodies`). The planner's POST endpoints and its page (which runs coverage and a site plan on
GET too) are expensive: PLAN_LIMIT requests per PLAN_WINDOW_S seconds per client and endpoint
(default 10 per 60 s); public exports EXPORT_LIMIT per EXPORT_WINDOW_S (default 10 per 10 min).
The counts are shared by every worker and machine (`layers.counters.RateLimiter` on the store's
database, keyed by an HMAC of the address). Too large answers 413, too many 429 with
Retry-After, in the contract's JSON form on the API and as a page elsewhere. Writes a browser
makes for another site answer 403 (`web.origin_check`).

Logging: logger `yizhan.access`, one INFO line per request: method, path (no query string: it
holds people's positions), status, milliseconds, bytes, and an 8-hex HMAC of the client address
under a per-process secret renewed every day (never the address).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.signals import before_render_template

from layers.counters import RateLimiter
from layers.parks import shanghai_date
from web.bodies import settle, take_whole
from web.errors import error_response
from web.origin_check import cross_site_write
from web.pages.tiles import choose_provider

LOGGER = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("yizhan.access")
EXTENSION = "yizhan.security"
SMALL_BODY_MAX = 64 * 1024
SMALL_WRITES = frozenset({
    "parks_api.api_report", "parks_api.api_put_park", "parks_api.api_resolve",
    "api.create_station", "api.replace_station", "api.patch_station", "history_api.revert_station",
    "parks.report_from_park", "parks.report_from_station",
})
RATE_LIMITED = frozenset({"planner.plan_coverage", "planner.plan_sites", "planner.planner_page"})
DEFAULT_PLAN_LIMIT = 10
DEFAULT_PLAN_WINDOW_S = 60.0
EXPORT = "data_api.export_stations"
DEFAULT_EXPORT_LIMIT = 10     # public exports per client ...
DEFAULT_EXPORT_WINDOW_S = 600  # ... per 10 minutes (a cached export is cheap; a rebuild is not)
PERMISSIONS_POLICY = ("geolocation=(self), camera=(), microphone=(), payment=(), usb=(), "
                      "interest-cohort=()")
_INLINE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_SRC_ATTR = re.compile(r"\bsrc\s*=", re.IGNORECASE)
_DATA_BLOCK = re.compile(r"\btype\s*=\s*[\"']?application/(ld\+)?json", re.IGNORECASE)
_UNSAFE_LOG = re.compile(r"[^\x21-\x7e\u00a0-\uffff]")


# ---- Content-Security-Policy -----------------------------------------------------------------
def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline block's text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def inline_hashes(html: str) -> tuple[set[str], set[str]]:
    """Hashes of the inline (executable) <script> and the <style> blocks in trusted `html`."""
    scripts, styles = set(), set()
    for match in _INLINE.finditer(html):
        tag, attrs, body = match.group(1).lower(), match.group(2), match.group(3)
        if tag == "script" and not _SRC_ATTR.search(attrs) and not _DATA_BLOCK.search(attrs):
            scripts.add(csp_hash(body))
        elif tag == "style":
            styles.add(csp_hash(body))
    return scripts, styles


def _template_style_hashes(app: Flask) -> set[str]:
    """Hashes of the literal <style> blocks written in the template files (no Jinja inside)."""
    loader = app.jinja_env.loader
    found: set[str] = set()
    if loader is None:
        return found
    for name in loader.list_templates():
        if not name.endswith(".html"):
            continue
        source = loader.get_source(app.jinja_env, name)[0]
        for match in _INLINE.finditer(source):
            if match.group(1).lower() == "style" and "{{" not in match.group(3) and "{%" not in match.group(3):
                found.add(csp_hash(match.group(3)))
    return found


def _policy(img_hosts: Iterable[str], scripts: Iterable[str], styles: Iterable[str]) -> str:
    img = " ".join(["'self'", "data:", *(f"https://{h}" for h in sorted(img_hosts))])
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *sorted(scripts)]),
        "style-src " + " ".join(["'self'", *sorted(styles)]),
        "style-src-attr 'unsafe-inline'",  # layer colours in style="" (CSS in an attribute runs no script)
        f"img-src {img}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _collect_map_hashes(sender: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
    """Before a page renders: remember the hashes of the map parts the view handed in (trusted)."""
    state = sender.extensions.get(EXTENSION)
    parts = context.get("parts")
    if state is None or parts is None:
        return
    scripts, styles = inline_hashes(f"{getattr(parts, 'head', '')}\n{getattr(parts, 'scripts', '')}")
    g.setdefault("yizhan_csp_scripts", set()).update(scripts)
    g.setdefault("yizhan_csp_styles", set()).update(styles)


def _add_headers(response: Response, state: dict[str, Any]) -> None:
    headers = response.headers
    if response.mimetype == "text/html":
        scripts = g.get("yizhan_csp_scripts", set())
        styles = state["template_styles"] | g.get("yizhan_csp_styles", set())
        headers["Content-Security-Policy"] = _policy(state["img_hosts"], scripts, styles)
    else:
        headers.setdefault("Content-Security-Policy", state["base_policy"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


# ---- limits ----------------------------------------------------------------------------------
def _refuse(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The contract's JSON error on the API, a friendly page elsewhere; with `headers`."""
    if request.path.startswith(("/api/", "/ogc", "/healthz", "/openapi")) or \
            request.accept_mimetypes.best == "application/json":
        response = error_response(status, code, message)
    else:
        from web.pages.render import error_page

        response = current_app.make_response(error_page(status, code, None, message))
    response.headers.update(headers or {})
    return response


def _has_nul() -> bool:
    """A NUL character in the path, the query, a form field or a small JSON body (PostgreSQL refuses
    NUL in text, so it would otherwise surface as a 500 from deep inside a store)."""
    # a NUL reaches the parsed query only as %00 (or raw): the raw bytes tell without parsing them
    query = request.query_string
    if "\x00" in request.path or b"%00" in query or b"\x00" in query:
        return True
    if request.endpoint in SMALL_WRITES and request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype == "application/x-www-form-urlencoded":
            return any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True))
        data = request.get_data(cache=True)
        return b"\x00" in data or b"\\u0000" in data
    return False


def _check_limits(state: dict[str, Any]) -> Response | None:
    endpoint = request.endpoint or ""
    small = endpoint in SMALL_WRITES
    limit = state["small_max"] if small else current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None:
        if small:
            request.max_content_length = limit
        if not take_whole(request.environ, int(limit)):  # chunked bodies too: whole, or refused whole
            return _refuse(413, "too_large", f"the body must be at most {limit} bytes")
    if _has_nul():
        return _refuse(400, "invalid_parameter", "NUL characters are not allowed in a request")
    if cross_site_write():
        return _refuse(403, "cross_origin", "writes from pages of other sites are not accepted")
    limited = (endpoint in RATE_LIMITED and (request.method == "POST" or endpoint == "planner.planner_page")) \
        or (endpoint == EXPORT and request.method == "GET")
    if limited:
        wait = state["limiters"][endpoint].hit(request.remote_addr or "unknown")
        if wait:
            seconds = int(wait) + 1
            what = "exports" if endpoint == EXPORT else "planning requests"
            return _refuse(429, "rate_limited", f"too many {what}; try again in {seconds} s",
                           {"Retry-After": str(seconds)})
    return None


# ---- one log line per request ----------------------------------------------------------------
class _ClientTag:
    """An 8-hex HMAC of a client address under a random per-process secret renewed daily."""

    def __init__(self) -> None:
        self._day: date | None = None
        self._secret = b""

    def __call__(self, address: str | None) -> str:
        today = shanghai_date()
        if today != self._day:
            self._day, self._secret = today, secrets.token_bytes(32)
        return hmac.new(self._secret, (address or "-").encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:8]


def _log_line(response: Response, state: dict[str, Any]) -> None:
    started = g.get("yizhan_t0")
    ms = (time.perf_counter() - started) * 1000 if started is not None else -1.0
    # a streamed answer (exports) is never read here: that would buffer it whole in memory
    length = None if response.is_streamed else response.calculate_content_length()
    path = _UNSAFE_LOG.sub("?", request.path[:200])  # no newlines or controls from the client in the log
    ACCESS_LOG.info("%s %s %d %.1fms %s client=%s", request.method[:10], path, response.status_code, ms,
                    "-" if length is None else length, state["client_tag"](request.remote_addr))


# ---- wiring ----------------------------------------------------------------------------------
def init_security(app: Flask) -> None:
    """Install headers, limits and request logging on `app` (idempotent)."""
    if EXTENSION in app.extensions:
        return
    img_hosts = choose_provider(app.config).hosts()
    limit = int(app.config.get("PLAN_LIMIT", DEFAULT_PLAN_LIMIT))
    window = float(app.config.get("PLAN_WINDOW_S", DEFAULT_PLAN_WINDOW_S))

    def shared():  # the counters in the store's database (the park store), when it is there
        parks = app.extensions.get("yizhan.parks")
        return getattr(parks, "counters", None)

    state: dict[str, Any] = {
        "img_hosts": img_hosts,
        "base_policy": _policy(img_hosts, (), ()),
        "template_styles": _template_style_hashes(app),
        "small_max": int(app.config.get("SMALL_BODY_MAX", SMALL_BODY_MAX)),
        "limiters": {**{endpoint: RateLimiter(limit, window, shared, endpoint) for endpoint in RATE_LIMITED},
                     EXPORT: RateLimiter(int(app.config.get("EXPORT_LIMIT", DEFAULT_EXPORT_LIMIT)),
                                         float(app.config.get("EXPORT_WINDOW_S", DEFAULT_EXPORT_WINDOW_S)),
                                         shared, EXPORT)},
        "client_tag": _ClientTag(),
    }
    app.extensions[EXTENSION] = state

    def start_clock() -> Response | None:
        g.yizhan_t0 = time.perf_counter()
        return _check_limits(state)

    def finish(response: Response) -> Response:
        settle(request.environ)  # a refused body: drained, or the connection closed (and said so)
        _add_headers(response, state)
        try:
            _log_line(response, state)
        except Exception:  # logging must never turn an answer into a 500
            LOGGER.exception("request log line failed")
        return response

    # first before-request hook (the clock starts before anything else runs) and last
    # after-request hook (after the blueprints' gzip, so bytes are what goes on the wire)
    app.before_request_funcs.setdefault(None, []).insert(0, start_clock)
    app.after_request_funcs.setdefault(None, []).insert(0, finish)
    before_render_template.connect(_collect_map_hashes, app, weak=False)

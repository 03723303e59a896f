"""Security headers, body-size and rate limits, and the per-request log line (web/security.py)."""
from __future__ import annotations

import json
import logging
import re

import pytest

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS
from web.pages.tiles import choose_provider
from web.security import EXTENSION, csp_hash, init_security

INLINE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1>", re.DOTALL)


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("sec")), "TESTING": True, "TOKENS": TOKENS,
                      "PLAN_LIMIT": 2, "PLAN_WINDOW_S": 600, "MAX_CONTENT_LENGTH": 1024 * 1024})
    init_security(app)
    yield app
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="module")
def web(secured):
    return secured.test_client()


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def _first_park(web) -> str:
    return web.get("/api/v1/parks").get_json()["features"][0]["id"]


PAGES = ["/", "/near?lat=39.9&lon=116.4", "/windows", "/planner", "/no-such-page", "/station/none"]


@pytest.mark.parametrize("url", PAGES + ["/api/v1/nearest?lat=39.9&lon=116.4", "/api/v1/nearest?lat=99&lon=0",
                                         "/healthz", "/openapi.json", "/api/v1/nope"])
def test_every_response_has_the_headers(web, url):
    response = web.get(url)
    assert response.status_code < 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]
    csp = _csp(response)
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src", "font-src", "connect-src", "default-src"):
        assert csp[directive][0] == "'self'"
        assert all(src.startswith("'sha256-") for src in csp[directive][1:]), (directive, csp[directive])


@pytest.mark.parametrize("url", PAGES + ["/p/{park}", "/p/{park}/poster"])
def test_inline_blocks_are_allowed_by_hash_and_nothing_else(web, url):
    response = web.get(url.format(park=_first_park(web)))
    csp = _csp(response)
    html = response.get_data(as_text=True)
    for match in INLINE.finditer(html):
        tag, attrs, body = match.groups()
        if "src=" in attrs or "application/json" in attrs:
            continue
        assert csp_hash(body) in csp[f"{tag}-src"], (url, tag, body[:80])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]


def test_img_src_is_self_and_the_tile_hosts_only(web, secured, tmp_path):
    hosts = choose_provider(secured.config).hosts()
    assert hosts  # the default (Amap) has four
    assert set(_csp(web.get("/"))["img-src"]) == {"'self'", "data:", *(f"https://{h}" for h in hosts)}
    osm = create_app({"DATA_DIR": str(tmp_path), "SEED": False, "TILES": "osm", "TESTING": True})
    init_security(osm)
    assert _csp(osm.test_client().get("/"))["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    osm.extensions["yizhan.store"].close()


def test_init_security_is_idempotent(secured):
    before = (len(secured.before_request_funcs[None]), len(secured.after_request_funcs[None]))
    state = secured.extensions[EXTENSION]
    init_security(secured)
    assert (len(secured.before_request_funcs[None]), len(secured.after_request_funcs[None])) == before
    assert secured.extensions[EXTENSION] is state
    response = secured.test_client().get("/healthz")
    assert len(response.headers.getlist("Content-Security-Policy")) == 1


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


def test_small_writes_answer_413_over_64_kib(web):
    big = json.dumps({"station_id": "x", "kind": "other", "note": "x" * 70_000})
    _assert_error(web.post("/api/v1/reports", data=big, content_type="application/json"), 413, "too_large")
    auth = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
    _assert_error(web.post("/api/v1/stations", data=big, content_type="application/json", headers=auth),
                  413, "too_large")
    small = web.post("/api/v1/reports", json={"station_id": "none", "kind": "other", "note": "x" * 100})
    assert small.status_code in (400, 404)


def test_other_bodies_keep_max_content_length(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "SEED": False, "TESTING": True, "MAX_CONTENT_LENGTH": 1024 * 1024})
    init_security(app)
    web = app.test_client()
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}, "properties": {}}
    big = json.dumps({"demand": {"type": "FeatureCollection", "features": [point] * 15_000}})  # ~1.3 MB
    _assert_error(web.post("/api/v1/plan/coverage", data=big, content_type="application/json"), 413, "too_large")
    medium = json.dumps({"demand": {"type": "FeatureCollection", "features": [point] * 1_000}})  # ~90 kB
    assert web.post("/api/v1/plan/coverage", data=medium, content_type="application/json").status_code != 413
    app.extensions["yizhan.store"].close()


def test_planner_endpoints_answer_429_with_retry_after(web):
    body = {"demand": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}, "properties": {}}]}}
    for path in ("/api/v1/plan/coverage", "/api/v1/plan/sites"):
        statuses = [web.post(path, json=body).status_code for _ in range(2)]
        assert 429 not in statuses and all(s < 500 for s in statuses)
        refused = web.post(path, json=body)
        _assert_error(refused, 429, "rate_limited")
        assert int(refused.headers["Retry-After"]) > 0


def test_one_log_line_per_request_without_the_address(web, caplog):
    with caplog.at_level(logging.INFO, logger="yizhan.access"):
        web.get("/api/v1/nearest?lat=39.9&lon=116.4&k=3", environ_base={"REMOTE_ADDR": "203.0.113.77"})
        web.get("/api/v1/nearest%0aFAKE 200?lat=1", environ_base={"REMOTE_ADDR": "203.0.113.77"})
    lines = [r.getMessage() for r in caplog.records if r.name == "yizhan.access"]
    assert len(lines) == 2
    assert re.fullmatch(r"GET /api/v1/nearest 200 \d+\.\dms \d+ client=[0-9a-f]{8}", lines[0]), lines[0]
    assert "\n" not in lines[1] and " 404 " in lines[1]
    assert all("203.0.113" not in line and "lat" not in line for line in lines)


@pytest.mark.parametrize("url", ["/api/v1/parks/a%00b", "/api/v1/nearest?lat=1&lon=1&layer=a%00"])
def test_nul_characters_answer_400_not_500(web, url):
    _assert_error(web.get(url), 400, "invalid_parameter")


def test_nul_in_a_small_json_write_answers_400(web):
    _assert_error(web.post("/api/v1/reports", data='{"station_id": "a\\u0000", "kind": "other"}',
                           content_type="application/json"), 400, "invalid_parameter")
